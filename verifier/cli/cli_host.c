/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attest-verify host, direct mode: fetch the agent's identity, send a fresh
 * 32-byte nonce, verify the quote and the whole measurement log, appraise
 * each entry against the policy, print findings and a verdict.
 *
 * Until enrollment exists (verifier daemon), the AK is trusted on first use
 * and pinned per agent URL in a known-AKs file, like ssh's known_hosts: a
 * later change of AK (another TPM, an impostor) is a failure, never silent.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attest/appraise.h"
#include "attest/digest.h"
#include "attest/httpc.h"
#include "attest/imalog.h"
#include "attest/pcrs.h"
#include "attest/policy_json.h"
#include "attest/proto.h"
#include "attest/quote.h"
#include "attest/util.h"
#include "attest/verdict_json.h"
#include "cli.h"

#define KNOWN_AKS_MAX (4u * 1024u * 1024u)

struct host_opts {
    const char *agent;
    const char *policy;
    const char *save_dir;
    const char *known_aks;
    long timeout_s;
    int json;
    struct att_tls_client_config tls; /* CA of the agent's certificate, our client cert */
};

static void host_usage(FILE *f)
{
    fprintf(f,
            "usage: attest-verify host --agent URL --policy FILE [OPTIONS]\n"
            "\n"
            "Direct mode: attest one agent now. Exit 0 trusted, 1 untrusted, 2 error.\n"
            "  --agent URL          the agent, e.g. http://127.0.0.1:8930\n"
            "  --policy FILE        policy JSON (attest-verify policy generate)\n"
            "  --json               print the verdict as JSON\n"
            "  --save-evidence DIR  write quote, signature, PCRs, nonce, AK, log for tpm2_checkquote\n"
            "                       and evmctl (see DIR/CHECK.txt)\n"
            "  --known-aks FILE     AKs pinned on first use (default ~/.config/attest/known_aks)\n"
            "  --timeout SECONDS    per request (default 30)\n");
}

static int load_policy(const char *path, struct att_policy **out)
{
    struct att_buf b;
    char why[512] = "";
    att_rc rc;

    att_buf_init(&b, ATT_POLICY_MAX_JSON);
    rc = att_file_read(path, &b);
    if (rc != ATT_OK) {
        fprintf(stderr, "attest-verify: cannot read policy %s: %s\n", path,
                rc == ATT_ERR_PARSE ? "file too large" : att_rc_str(rc));
        att_buf_cleanup(&b);
        return -1;
    }
    rc = att_policy_parse_json(b.data != NULL ? (const char *)b.data : "", b.len, out, why,
                               sizeof(why));
    att_buf_cleanup(&b);
    if (rc != ATT_OK) {
        fprintf(stderr, "attest-verify: policy %s: %s\n", path, why[0] ? why : att_rc_str(rc));
        return -1;
    }
    return 0;
}

/* GET or POST to the agent; a non-200 answer is decoded as the agent's error. */
static int agent_call(const struct host_opts *o, const char *path, const struct att_buf *body,
                      struct att_buf *resp)
{
    char url[2048];
    char err[512] = "";
    long status = 0;
    att_rc rc;

    if (snprintf(url, sizeof(url), "%s%s", o->agent, path) >= (int)sizeof(url)) {
        fprintf(stderr, "attest-verify: agent URL too long\n");
        return -1;
    }
    rc = att_httpc_request(&o->tls, body != NULL ? "POST" : "GET", url, "application/cbor", NULL,
                           body != NULL ? body->data : NULL, body != NULL ? body->len : 0,
                           o->timeout_s, resp, &status, err, sizeof(err));
    if (rc != ATT_OK) {
        fprintf(stderr, "attest-verify: agent unreachable: %s\n", err);
        return -1;
    }
    if (status != 200) {
        char *msg = NULL;

        if (att_error_decode(resp->data, resp->len, &msg) == ATT_OK) {
            fprintf(stderr, "attest-verify: agent refused %s (HTTP %ld): %s\n", path, status,
                    msg);
        } else {
            fprintf(stderr, "attest-verify: agent answered %s with HTTP %ld\n", path, status);
        }
        free(msg);
        return -1;
    }
    return 0;
}

static const char *default_known_aks(char *buf, size_t len)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");

    if (xdg != NULL && xdg[0] == '/') {
        (void)snprintf(buf, len, "%s/attest/known_aks", xdg);
    } else if (home != NULL && home[0] == '/') {
        (void)snprintf(buf, len, "%s/.config/attest/known_aks", home);
    } else {
        return NULL;
    }
    return buf;
}

static int mkdir_parents(const char *file)
{
    char tmp[4096];
    char *p;

    if (snprintf(tmp, sizeof(tmp), "%s", file) >= (int)sizeof(tmp)) {
        return -1;
    }
    for (p = tmp + 1; *p != '\0'; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0700) != 0 && errno != EEXIST) {
                return -1;
            }
            *p = '/';
        }
    }
    return 0;
}

/*
 * Trust-on-first-use check of the AK for this agent URL. Adds an info or a
 * fail finding; writes the pin the first time. Returns the AK trust word.
 */
static const char *check_ak_pin(const struct host_opts *o, const char *ak_name_hex,
                                struct att_appraisal *a)
{
    struct att_buf b;
    struct att_buf nb;
    char *line;
    char *next;
    size_t ulen = strlen(o->agent);
    const char *result = "tofu-failed";
    att_rc rc;

    att_buf_init(&b, KNOWN_AKS_MAX);
    att_buf_init(&nb, KNOWN_AKS_MAX + 4096);
    rc = att_file_read(o->known_aks, &b);
    if (rc != ATT_OK && rc != ATT_ERR_NOT_FOUND) {
        (void)att_appraisal_add(a, ATT_FIND_FAIL, "known-aks", -1, "cannot read %s: %s",
                                o->known_aks, att_rc_str(rc));
        goto out;
    }
    if (b.len > 0 && att_buf_append(&nb, b.data, b.len) != ATT_OK) {
        goto out;
    }
    for (line = (char *)b.data; line != NULL && *line != '\0'; line = next) {
        next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        }
        if (strncmp(line, o->agent, ulen) == 0 && line[ulen] == ' ') {
            if (strcmp(line + ulen + 1, ak_name_hex) == 0) {
                (void)att_appraisal_add(a, ATT_FIND_INFO, "ak-pinned", -1,
                                        "AK %s is the one pinned for this agent on first use "
                                        "(not yet EK-verified: enrollment comes with the "
                                        "verifier daemon)",
                                        ak_name_hex);
                result = "tofu-pinned";
            } else {
                (void)att_appraisal_add(a, ATT_FIND_FAIL, "ak-changed", -1,
                                        "the agent presents AK %s but AK %s was pinned for it on "
                                        "first use: another TPM or an impostor (if the host "
                                        "really has a new TPM, delete its line in %s)",
                                        ak_name_hex, line + ulen + 1, o->known_aks);
                result = "tofu-mismatch";
            }
            goto out;
        }
    }
    if (att_buf_printf(&nb, "%s %s\n", o->agent, ak_name_hex) != ATT_OK ||
        mkdir_parents(o->known_aks) != 0 ||
        att_file_write_atomic(o->known_aks, nb.data, nb.len) != ATT_OK) {
        (void)att_appraisal_add(a, ATT_FIND_FAIL, "known-aks", -1, "cannot record the AK in %s",
                                o->known_aks);
        goto out;
    }
    (void)att_appraisal_add(a, ATT_FIND_INFO, "ak-tofu", -1,
                            "AK %s trusted on first use and pinned in %s (no enrollment yet: "
                            "EK-verified enrollment comes with the verifier daemon)",
                            ak_name_hex, o->known_aks);
    result = "tofu-first-use";
out:
    att_buf_cleanup(&b);
    att_buf_cleanup(&nb);
    return result;
}

static int save_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[4200];

    (void)snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (att_file_write_atomic(path, data, len) != ATT_OK) {
        fprintf(stderr, "attest-verify: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

/* Everything an independent checker needs (tpm2_checkquote, evmctl). */
static int save_evidence(const char *dir, const struct att_identity *id,
                         const struct att_evidence *ev, const uint8_t *nonce,
                         const struct att_buf *id_raw, const struct att_buf *ev_raw)
{
    struct att_buf b;
    struct att_ima_log log;
    char hex[2 * ATT_PROTO_NONCE_LEN + 2];
    int ret = -1;
    size_t i;

    att_buf_init(&b, ATT_PROTO_MAX_BODY);
    att_ima_log_init(&log);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "attest-verify: cannot create %s: %s\n", dir, strerror(errno));
        goto out;
    }
    att_hex_encode(nonce, ATT_PROTO_NONCE_LEN, hex);
    hex[2 * ATT_PROTO_NONCE_LEN] = '\n';
    hex[2 * ATT_PROTO_NONCE_LEN + 1] = '\0';
    if (save_file(dir, "quote.msg", ev->attest, ev->attest_len) != 0 ||
        save_file(dir, "quote.sig", ev->sig, ev->sig_len) != 0 ||
        save_file(dir, "nonce.hex", hex, strlen(hex)) != 0 ||
        save_file(dir, "ak.pub", id->ak_pub, id->ak_pub_len) != 0 ||
        save_file(dir, "log.bin", ev->log != NULL ? ev->log : (const uint8_t *)"",
                  ev->log_len) != 0 ||
        save_file(dir, "identity.cbor", id_raw->data, id_raw->len) != 0 ||
        save_file(dir, "evidence.cbor", ev_raw->data, ev_raw->len) != 0) {
        goto out;
    }
    if (att_pcrs_encode_tpm2tools(&ev->pcrs, &b) != ATT_OK ||
        save_file(dir, "quote.pcrs", b.data, b.len) != 0) {
        goto out;
    }
    att_buf_reset(&b);
    if (att_tpm_public_to_pem(id->ak_pub, id->ak_pub_len, &b) != ATT_OK ||
        save_file(dir, "ak.pub.pem", b.data, b.len) != 0) {
        goto out;
    }
    att_buf_reset(&b);
    if (ev->pcrs.mask == ATT_PCR_ALL_MASK) {
        if (att_pcrs_encode_evmctl(&ev->pcrs, &b) != ATT_OK ||
            save_file(dir, "pcrs.evmctl", b.data, b.len) != 0) {
            goto out;
        }
    }
    att_buf_reset(&b);
    if (att_ima_log_parse(ev->log, ev->log_len, SIZE_MAX, &log, NULL, 0) == ATT_OK) {
        for (i = 0; i < log.count; i++) {
            if (att_ima_entry_ascii(&log.entries[i], &b) != ATT_OK) {
                goto out;
            }
        }
        if (save_file(dir, "log.ascii", b.data, b.len) != 0) {
            goto out;
        }
    }
    att_buf_reset(&b);
    if (att_buf_printf(&b,
                       "# Check this evidence with standard tools:\n"
                       "tpm2_checkquote -u ak.pub.pem -m quote.msg -s quote.sig -f quote.pcrs "
                       "-q $(cat nonce.hex) -g sha256\n"
                       "evmctl ima_measurement --pcrs sha256,pcrs.evmctl log.bin\n") != ATT_OK ||
        save_file(dir, "CHECK.txt", b.data, b.len) != 0) {
        goto out;
    }
    ret = 0;
out:
    att_ima_log_cleanup(&log);
    att_buf_cleanup(&b);
    return ret;
}

static bool has_fail(const struct att_appraisal *a, const char *code)
{
    size_t i;

    for (i = 0; i < a->n_findings; i++) {
        if (a->findings[i].kind == ATT_FIND_FAIL && strcmp(a->findings[i].code, code) == 0) {
            return true;
        }
    }
    return false;
}

static bool has_any_fail(const struct att_appraisal *a)
{
    size_t i;

    for (i = 0; i < a->n_findings; i++) {
        if (a->findings[i].kind == ATT_FIND_FAIL) {
            return true;
        }
    }
    return false;
}

static void print_text(const struct att_appraisal *a, const struct att_identity *id,
                       const char *agent)
{
    size_t i;
    size_t fails = 0;

    printf("host %s (%s), TPM quote over PCRs, measurement PCR %u\n", id->agent_id, agent,
           id->meas_pcr);
    for (i = 0; i < a->n_findings; i++) {
        const struct att_finding *f = &a->findings[i];

        fails += f->kind == ATT_FIND_FAIL;
        printf("  %s %s: %s\n", f->kind == ATT_FIND_FAIL ? "FAIL" : "info", f->code, f->message);
    }
    if (a->is_trusted) {
        printf("verdict: trusted\n");
    } else {
        printf("verdict: untrusted (%zu failure%s)\n", fails, fails == 1 ? "" : "s");
    }
}

int cli_host(const struct cli_fleet *f, int argc, char **argv)
{
    static const struct option opts[] = {{"agent", required_argument, NULL, 'a'},
                                         {"policy", required_argument, NULL, 'p'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"save-evidence", required_argument, NULL, 's'},
                                         {"known-aks", required_argument, NULL, 'k'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct host_opts o = {.timeout_s = 30};
    struct att_policy *policy = NULL;
    struct att_identity id;
    struct att_evidence ev;
    struct att_evidence_request req;
    struct att_appraisal a;
    struct att_appraise_input in;
    struct att_buf id_raw;
    struct att_buf ev_raw;
    struct att_buf req_raw;
    struct att_buf out;
    char known[4096];
    char agent_url[2048];
    char why[512] = "";
    uint8_t name[ATT_TPM_NAME_MAX];
    char name_hex[2 * ATT_TPM_NAME_MAX + 1];
    size_t name_len = sizeof(name);
    const char *ak_trust = "none";
    uint32_t timeout = 0;
    int ret = CLI_EXIT_ERROR;
    int c;

    memset(&id, 0, sizeof(id));
    memset(&ev, 0, sizeof(ev));
    att_appraisal_init(&a);
    att_buf_init(&id_raw, ATT_PROTO_MAX_BODY);
    att_buf_init(&ev_raw, ATT_PROTO_MAX_BODY);
    att_buf_init(&req_raw, 1024);
    att_buf_init(&out, ATT_PROTO_MAX_BODY);
    o.json = f->json;
    o.tls.ca_file = f->ca;
    o.tls.cert_file = f->cert;
    o.tls.key_file = f->key;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            o.agent = optarg;
            break;
        case 'p':
            o.policy = optarg;
            break;
        case 'j':
            o.json = 1;
            break;
        case 's':
            o.save_dir = optarg;
            break;
        case 'k':
            o.known_aks = optarg;
            break;
        case 't':
            if (att_parse_u32(optarg, 3600, &timeout) != ATT_OK || timeout == 0) {
                fprintf(stderr, "attest-verify: --timeout must be 1..3600 seconds\n");
                goto out;
            }
            o.timeout_s = (long)timeout;
            break;
        case 'h':
            host_usage(stdout);
            ret = CLI_EXIT_OK;
            goto out;
        default:
            host_usage(stderr);
            goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "attest-verify: unexpected argument \"%s\"\n", argv[optind]);
        goto out;
    }
    if (o.agent == NULL || o.policy == NULL) {
        fprintf(stderr, "attest-verify: host needs --agent URL and --policy FILE\n");
        host_usage(stderr);
        goto out;
    }
    if (strncmp(o.agent, "http://", 7) != 0 && strncmp(o.agent, "https://", 8) != 0) {
        fprintf(stderr, "attest-verify: --agent must be an http:// or https:// URL\n");
        goto out;
    }
    if (snprintf(agent_url, sizeof(agent_url), "%s", o.agent) >= (int)sizeof(agent_url)) {
        fprintf(stderr, "attest-verify: --agent URL too long\n");
        goto out;
    }
    while (strlen(agent_url) > 8 && agent_url[strlen(agent_url) - 1] == '/') {
        agent_url[strlen(agent_url) - 1] = '\0'; /* http://h:p/ and http://h:p are one agent */
    }
    o.agent = agent_url;
    if (o.known_aks == NULL) {
        o.known_aks = default_known_aks(known, sizeof(known));
        if (o.known_aks == NULL) {
            fprintf(stderr, "attest-verify: no HOME: give --known-aks FILE\n");
            goto out;
        }
    }
    if (load_policy(o.policy, &policy) != 0) {
        goto out;
    }

    /* Identity: the AK to verify with. */
    if (agent_call(&o, "/v1/identity", NULL, &id_raw) != 0) {
        goto out;
    }
    if (att_identity_decode(id_raw.data, id_raw.len, &id, why, sizeof(why)) != ATT_OK) {
        fprintf(stderr, "attest-verify: malformed identity from the agent: %s\n", why);
        goto out;
    }
    if (att_tpm_public_name(id.ak_pub, id.ak_pub_len, name, &name_len) != ATT_OK) {
        fprintf(stderr, "attest-verify: the agent's AK public key is malformed\n");
        goto out;
    }
    att_hex_encode(name, name_len, name_hex);
    why[0] = '\0';
    if (att_tpm_public_check_ak(id.ak_pub, id.ak_pub_len, why, sizeof(why)) != ATT_OK) {
        (void)att_appraisal_add(&a, ATT_FIND_FAIL, "ak-attributes", -1,
                                "the AK is not a TPM attestation key: %s", why);
    }

    /* Evidence for a fresh nonce, whole log, all 24 PCRs. */
    memset(&req, 0, sizeof(req));
    if (att_random_bytes(req.nonce, sizeof(req.nonce)) != ATT_OK) {
        fprintf(stderr, "attest-verify: no randomness for the nonce\n");
        goto out;
    }
    req.pcr_mask = ATT_PCR_ALL_MASK;
    req.log_offset = 0;
    if (att_evidence_request_encode(&req, &req_raw) != ATT_OK) {
        goto out;
    }
    if (agent_call(&o, "/v1/evidence", &req_raw, &ev_raw) != 0) {
        goto out;
    }
    why[0] = '\0';
    if (att_evidence_decode(ev_raw.data, ev_raw.len, &ev, why, sizeof(why)) != ATT_OK) {
        fprintf(stderr, "attest-verify: malformed evidence from the agent: %s\n", why);
        goto out;
    }
    if (ev.log_offset != 0) {
        (void)att_appraisal_add(&a, ATT_FIND_FAIL, "log-offset", -1,
                                "asked for the log from entry 0, got it from entry %llu",
                                (unsigned long long)ev.log_offset);
    }
    if (ev.meas_pcr != id.meas_pcr) {
        (void)att_appraisal_add(&a, ATT_FIND_FAIL, "meas-pcr", -1,
                                "identity names measurement PCR %u, evidence PCR %u",
                                id.meas_pcr, ev.meas_pcr);
    }
    memset(&in, 0, sizeof(in));
    in.ak_pub = id.ak_pub;
    in.ak_pub_len = id.ak_pub_len;
    in.attest = ev.attest;
    in.attest_len = ev.attest_len;
    in.sig = ev.sig;
    in.sig_len = ev.sig_len;
    in.nonce = req.nonce;
    in.nonce_len = sizeof(req.nonce);
    in.pcrs = &ev.pcrs;
    in.meas_pcr = id.meas_pcr;
    in.log = ev.log;
    in.log_len = ev.log_len;
    in.log_offset = 0;
    in.log_consistent = ev.log_consistent;
    in.log_status = ev.log_status;
    in.policy = policy;
    if (att_appraise(&in, &a, NULL) != ATT_OK) {
        fprintf(stderr, "attest-verify: appraisal could not run\n");
        goto out;
    }
    /* Pin (or check) the AK only once it has signed a valid quote for our nonce:
     * a key that never produced genuine TPM evidence must not become trusted. */
    if (!has_fail(&a, "quote") && !has_fail(&a, "ak-attributes")) {
        ak_trust = check_ak_pin(&o, name_hex, &a);
    } else {
        (void)att_appraisal_add(&a, ATT_FIND_INFO, "ak-not-pinned", -1,
                                "AK %s not pinned: it did not produce a valid quote", name_hex);
    }
    a.is_trusted = a.is_trusted && !has_any_fail(&a);
    if (o.save_dir != NULL &&
        save_evidence(o.save_dir, &id, &ev, req.nonce, &id_raw, &ev_raw) != 0) {
        goto out;
    }
    if (o.json) {
        if (att_verdict_encode_json(&a, id.agent_id, o.agent, ak_trust, &out) != ATT_OK) {
            goto out;
        }
        (void)fputs((const char *)out.data, stdout);
    } else {
        print_text(&a, &id, o.agent);
    }
    ret = a.is_trusted ? CLI_EXIT_OK : CLI_EXIT_UNTRUSTED;
out:
    (void)fflush(stdout);
    att_policy_free(policy);
    att_identity_cleanup(&id);
    att_evidence_cleanup(&ev);
    att_appraisal_cleanup(&a);
    att_buf_cleanup(&id_raw);
    att_buf_cleanup(&ev_raw);
    att_buf_cleanup(&req_raw);
    att_buf_cleanup(&out);
    return ret;
}
