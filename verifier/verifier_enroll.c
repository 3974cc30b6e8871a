/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Enrollment (DESIGN §3): trust an agent's AK only after (1) its EK
 * certificate chains to a trusted TPM vendor CA and certifies the EK the
 * agent reports, (2) the AK is a restricted, fixedTPM signing key, and (3) the
 * TPM holding that EK proved it holds that AK by ActivateCredential of a
 * secret we sealed with MakeCredential (TPM 2.0 Part 1 §24).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/credential.h"
#include "attest/digest.h"
#include "attest/httpc.h"
#include "attest/log.h"
#include "attest/pcrs.h"
#include "attest/proto.h"
#include "attest/quote.h"
#include "attest/sigkey.h"
#include "attest/util.h"
#include "store.h"
#include "verifier.h"
#include "verifier_int.h"

#define SECRET_LEN 32

bool verifier_name_valid(const char *name)
{
    size_t i;
    size_t n = name != NULL ? strlen(name) : 0;

    if (n == 0 || n > 64) {
        return false;
    }
    for (i = 0; i < n; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.')) {
            return false;
        }
    }
    return true;
}

att_rc verifier_agent_call(struct verifier *v, const char *url, const char *path,
                           const struct att_buf *body, struct att_buf *resp, char *why,
                           size_t why_len)
{
    char full[2048];
    char err[512] = "";
    long status = 0;
    att_rc rc;

    if (snprintf(full, sizeof(full), "%s%s", url, path) >= (int)sizeof(full)) {
        (void)snprintf(why, why_len, "agent URL too long");
        return ATT_ERR_INVALID_ARG;
    }
    rc = att_httpc_request(verifier_agent_tls(v), body != NULL ? "POST" : "GET", full,
                           "application/cbor", NULL, body != NULL ? body->data : NULL,
                           body != NULL ? body->len : 0, (long)verifier_cfg(v)->timeout_s, resp,
                           &status, err, sizeof(err));
    if (rc != ATT_OK) {
        (void)snprintf(why, why_len, "agent unreachable: %s", err);
        return rc == ATT_ERR_PARSE ? ATT_ERR_PARSE : ATT_ERR_IO;
    }
    if (status != 200) {
        char *msg = NULL;

        if (att_error_decode(resp->data, resp->len, &msg) == ATT_OK) {
            (void)snprintf(why, why_len, "agent refused %s (HTTP %ld): %s", path, status, msg);
        } else {
            (void)snprintf(why, why_len, "agent answered %s with HTTP %ld", path, status);
        }
        free(msg);
        return status >= 500 ? ATT_ERR_IO : ATT_ERR_VERIFY;
    }
    return ATT_OK;
}

/* Is this EK already enrolled under another name? One TPM is one host. */
static att_rc ek_taken(struct store *s, const char *name, const uint8_t *ek_pub, size_t len,
                       char *other, size_t other_len)
{
    struct store_host *hosts = NULL;
    size_t n = 0;
    size_t i;
    att_rc rc = store_host_list(s, &hosts, &n);

    if (rc != ATT_OK) {
        return rc;
    }
    rc = ATT_OK;
    for (i = 0; i < n; i++) {
        if (strcmp(hosts[i].name, name) != 0 && hosts[i].ek_pub_len == len &&
            memcmp(hosts[i].ek_pub, ek_pub, len) == 0) {
            (void)snprintf(other, other_len, "%s", hosts[i].name);
            rc = ATT_ERR_EXISTS;
        }
    }
    store_host_list_free(hosts, n);
    return rc;
}

att_rc verifier_enroll(struct verifier *v, const char *name, const char *url, char *why,
                       size_t why_len)
{
    att_rc rc = ATT_ERR_VERIFY;
    struct store *s = verifier_store(v);
    struct att_identity id;
    struct att_activate_request areq;
    struct att_activate_response aresp;
    struct store_host h;
    struct store_host old;
    struct att_buf raw;
    struct att_buf body;
    struct att_buf blob;
    struct att_buf enc;
    uint8_t secret[SECRET_LEN];
    uint8_t ak_name[ATT_TPM_NAME_MAX];
    char ak_hex[2 * ATT_TPM_NAME_MAX + 1];
    size_t ak_name_len = sizeof(ak_name);
    const uint8_t *cert;
    size_t cert_len;
    char detail[512] = "";
    char other[128] = "";
    bool had_old = false;

    memset(&id, 0, sizeof(id));
    memset(&areq, 0, sizeof(areq));
    memset(&aresp, 0, sizeof(aresp));
    memset(&h, 0, sizeof(h));
    memset(&old, 0, sizeof(old));
    att_buf_init(&raw, ATT_PROTO_MAX_BODY);
    att_buf_init(&body, 65536);
    att_buf_init(&blob, 4096);
    att_buf_init(&enc, 4096);
    if (!verifier_name_valid(name)) {
        (void)snprintf(why, why_len, "host name must be 1-64 characters of [A-Za-z0-9._-]");
        rc = ATT_ERR_INVALID_ARG;
        goto out;
    }
    if (url == NULL || (strncmp(url, "https://", 8) != 0 &&
                        !(verifier_cfg(v)->insecure_dev && strncmp(url, "http://", 7) == 0))) {
        (void)snprintf(why, why_len, "agent URL must be https://HOST:PORT%s",
                       verifier_cfg(v)->insecure_dev ? " (or http:// with --insecure-dev)" : "");
        rc = ATT_ERR_INVALID_ARG;
        goto out;
    }

    /* 1. Identity. */
    rc = verifier_agent_call(v, url, "/v1/identity", NULL, &raw, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = att_identity_decode(raw.data, raw.len, &id, detail, sizeof(detail));
    if (rc != ATT_OK) {
        (void)snprintf(why, why_len, "malformed identity from the agent: %s", detail);
        goto out;
    }
    if (!att_pcr_meas_allowed(id.meas_pcr, detail, sizeof(detail))) {
        /* a resettable or foreign PCR would let the host rewrite its own history */
        (void)snprintf(why, why_len, "the agent measures into a PCR it must not use: %s", detail);
        rc = ATT_ERR_VERIFY;
        goto out;
    }

    /* 2. EK certificate chain and EK key. */
    if (strcmp(id.ek_alg, "rsa") == 0) {
        cert = id.ek_cert_rsa;
        cert_len = id.ek_cert_rsa_len;
    } else if (strcmp(id.ek_alg, "ecc") == 0) {
        cert = id.ek_cert_ecc;
        cert_len = id.ek_cert_ecc_len;
    } else {
        (void)snprintf(why, why_len, "unknown EK algorithm \"%s\"", id.ek_alg);
        rc = ATT_ERR_PARSE;
        goto out;
    }
    if (cert == NULL) {
        (void)snprintf(why, why_len, "the agent's TPM has no %s EK certificate in NV", id.ek_alg);
        rc = ATT_ERR_VERIFY;
        goto out;
    }
    rc = att_ek_cert_verify(verifier_ek_trust(v), cert, cert_len, id.ek_pub, id.ek_pub_len,
                            detail, sizeof(detail));
    if (rc != ATT_OK) {
        (void)snprintf(why, why_len, "EK certificate refused: %s", detail);
        rc = rc == ATT_ERR_CRYPTO ? ATT_ERR_CRYPTO : ATT_ERR_VERIFY;
        goto out;
    }

    /* 3. The AK must be an attestation key (restricted, fixedTPM signing key). */
    rc = att_tpm_public_check_ak(id.ak_pub, id.ak_pub_len, detail, sizeof(detail));
    if (rc != ATT_OK) {
        (void)snprintf(why, why_len, "AK refused: %s", detail);
        rc = ATT_ERR_VERIFY;
        goto out;
    }
    rc = att_tpm_public_name(id.ak_pub, id.ak_pub_len, ak_name, &ak_name_len);
    if (rc != ATT_OK) {
        (void)snprintf(why, why_len, "AK public area malformed");
        goto out;
    }
    att_hex_encode(ak_name, ak_name_len, ak_hex);

    /* 4. One host per TPM; re-enrolling a name needs the same EK. */
    rc = store_host_get(s, name, &old);
    if (rc == ATT_OK) {
        had_old = true;
        if (old.ek_pub_len != id.ek_pub_len || memcmp(old.ek_pub, id.ek_pub, old.ek_pub_len) != 0) {
            (void)snprintf(why, why_len,
                           "host %s is enrolled with another EK (another TPM); delete it first "
                           "if the host really changed its TPM",
                           name);
            rc = ATT_ERR_EXISTS;
            goto out;
        }
    } else if (rc != ATT_ERR_NOT_FOUND) {
        goto out;
    }
    rc = ek_taken(s, name, id.ek_pub, id.ek_pub_len, other, sizeof(other));
    if (rc != ATT_OK) {
        if (rc == ATT_ERR_EXISTS) {
            (void)snprintf(why, why_len, "this TPM's EK is already enrolled as host %s", other);
        }
        goto out;
    }

    /* 5. Credential activation: only the TPM with this EK and this AK can answer. */
    rc = att_random_bytes(secret, sizeof(secret));
    if (rc != ATT_OK) {
        goto out;
    }
    rc = att_make_credential(id.ek_pub, id.ek_pub_len, ak_name, ak_name_len, secret,
                             sizeof(secret), &blob, &enc);
    if (rc != ATT_OK) {
        (void)snprintf(why, why_len, "cannot make a credential for this EK: %s", att_rc_str(rc));
        goto out;
    }
    areq.cred_blob = blob.data;
    areq.cred_blob_len = blob.len;
    areq.enc_secret = enc.data;
    areq.enc_secret_len = enc.len;
    /* The key the agent will check our quarantine orders with (DESIGN §6). */
    att_buf_reset(&raw);
    rc = att_sigkey_spki(verifier_order_key(v), &raw);
    if (rc != ATT_OK) {
        goto out;
    }
    areq.verifier_key = raw.data;
    areq.verifier_key_len = raw.len;
    att_buf_reset(&body);
    rc = att_activate_request_encode(&areq, &body);
    memset(&areq, 0, sizeof(areq)); /* borrowed pointers, not ours to free */
    if (rc != ATT_OK) {
        goto out;
    }
    att_buf_reset(&raw);
    rc = verifier_agent_call(v, url, "/v1/activate", &body, &raw, detail, sizeof(detail));
    if (rc != ATT_OK) {
        (void)snprintf(why, why_len, "credential activation failed: %s", detail);
        goto out;
    }
    rc = att_activate_response_decode(raw.data, raw.len, &aresp, detail, sizeof(detail));
    if (rc != ATT_OK) {
        (void)snprintf(why, why_len, "malformed activation answer: %s", detail);
        goto out;
    }
    if (aresp.secret_len != sizeof(secret) ||
        !att_mem_equal(aresp.secret, secret, sizeof(secret))) {
        (void)snprintf(why, why_len,
                       "credential activation returned the wrong secret: the AK is not in the "
                       "TPM that holds this EK");
        rc = ATT_ERR_VERIFY;
        goto out;
    }

    /* 6. Store. */
    h.name = (char *)(uintptr_t)name;
    h.agent_url = (char *)(uintptr_t)url;
    h.ek_alg = id.ek_alg;
    h.ek_pub = id.ek_pub;
    h.ek_pub_len = id.ek_pub_len;
    h.ek_cert = (uint8_t *)(uintptr_t)cert;
    h.ek_cert_len = cert_len;
    h.ak_pub = id.ak_pub;
    h.ak_pub_len = id.ak_pub_len;
    h.ak_name = ak_hex;
    h.meas_pcr = id.meas_pcr;
    h.policy = had_old ? old.policy : NULL;
    h.enrolled_at = verifier_now();
    /* Same TPM again (new AK, URL): one UPDATE, so a failure loses nothing. */
    rc = had_old ? store_host_rekey(s, &h) : store_host_add(s, &h);
    if (rc != ATT_OK) {
        (void)snprintf(why, why_len, "cannot store host: %s", att_rc_str(rc));
        goto out;
    }
    (void)snprintf(detail, sizeof(detail), "%s enrolled from %s: %s EK certificate verified, AK %s "
                   "activated%s", name, url, id.ek_alg, ak_hex, had_old ? " (re-enrolled)" : "");
    (void)store_event_add(s, name, "enrolled", detail);
    LOG_INFO("%s", detail);
    rc = ATT_OK;
out:
    if (rc != ATT_OK && why[0] != '\0') {
        LOG_WARN("enrollment of %s refused: %s", name != NULL ? name : "?", why);
    }
    att_cleanse(secret, sizeof(secret));
    att_identity_cleanup(&id);
    att_activate_response_cleanup(&aresp);
    store_host_cleanup(&old);
    att_buf_cleanup(&raw);
    att_buf_cleanup(&body);
    att_buf_cleanup(&blob);
    att_buf_cleanup(&enc);
    return rc;
}
