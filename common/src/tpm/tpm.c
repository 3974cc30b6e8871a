/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ESAPI wrappers for the agent (see attest/tpm.h). Each wrapper calls ESAPI,
 * logs a failure once with the ESAPI function name and Tss2_RC_Decode(), keeps
 * the raw code in t->last_rc, and maps it to att_rc. ESAPI outputs are freed
 * with Esys_Free; objects this context creates are flushed in att_tpm_free().
 * Not done here: anything the verifier needs (it never links ESAPI).
 */
#include "attest/tpm.h"
#include "attest/tpm_template.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_sys.h>
#include <tss2/tss2_tctildr.h>

#include "attest/log.h"
#include "attest/util.h"

/* Handle ranges (Part 2 §7.2). tpm2-tss builds TPM2_TRANSIENT_FIRST by
 * shifting 0x80 into an int's sign bit, which UBSan rightly rejects. */
#define HANDLE_TRANSIENT_FIRST 0x80000000u
#define HANDLE_HMAC_FIRST      0x02000000u
#define HANDLE_POLICY_FIRST    0x03000000u
#define HANDLE_RANGE_MASK      0xff000000u

#define EK_CERT_NV_RSA 0x01c00002u
#define EK_CERT_NV_ECC 0x01c0000au
#define NV_CHUNK       512u
#define QUOTE_TRIES    3

struct att_tpm {
    TSS2_TCTI_CONTEXT *tcti; /* owned: Tss2_TctiLdr_Finalize */
    ESYS_CONTEXT *esys;      /* owned: Esys_Finalize */
    ESYS_TR ek;              /* transient, flushed on free */
    ESYS_TR ak;              /* transient, flushed on free */
    enum att_key_alg ek_alg;
    bool has_sha1;
    bool has_sha256;
    TSS2_RC last_rc;
};

/* TCG EK Credential Profile: PolicySecret(TPM_RH_ENDORSEMENT) with sha256. */
static const uint8_t ek_policy_a[32] = {
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
    0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa};

#define EK_ATTRS                                                                                  \
    (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |          \
     TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT)
#define AK_ATTRS                                                                                  \
    (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |          \
     TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT)

const char *att_key_alg_str(enum att_key_alg alg)
{
    return alg == ATT_KEY_RSA ? "rsa" : "ecc";
}

att_rc att_key_alg_parse(const char *s, enum att_key_alg *out)
{
    if (s != NULL && strcmp(s, "ecc") == 0) {
        *out = ATT_KEY_ECC;
        return ATT_OK;
    }
    if (s != NULL && strcmp(s, "rsa") == 0) {
        *out = ATT_KEY_RSA;
        return ATT_OK;
    }
    return ATT_ERR_INVALID_ARG;
}

/* Log a failed TSS call once and map its code. */
static att_rc tss_fail(struct att_tpm *t, const char *fn, TSS2_RC trc)
{
    TSS2_RC fmt1 = trc & (TPM2_RC_FMT1 | 0x3f);

    t->last_rc = trc;
    LOG_ERR("%s(0x%08x): %s", fn, trc, Tss2_RC_Decode(trc));
    if ((trc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER &&
        (fmt1 == TPM2_RC_AUTH_FAIL || fmt1 == TPM2_RC_BAD_AUTH)) {
        return ATT_ERR_AUTH;
    }
    if ((trc & 0xffff) == TSS2_BASE_RC_IO_ERROR || (trc & 0xffff) == TSS2_BASE_RC_NO_CONNECTION) {
        return ATT_ERR_IO;
    }
    return ATT_ERR_TPM;
}

#define TSS_CHECK(t, fn, trc, rc)                                                                 \
    do {                                                                                          \
        if ((trc) != TSS2_RC_SUCCESS) {                                                           \
            (rc) = tss_fail((t), #fn, (trc));                                                     \
            goto out;                                                                             \
        }                                                                                         \
    } while (0)

uint32_t att_tpm_last_rc(const struct att_tpm *t)
{
    return t != NULL ? t->last_rc : 0;
}

/* Learn which PCR banks are allocated (TPM2_GetCapability, TPM2_CAP_PCRS). */
static att_rc learn_banks(struct att_tpm *t)
{
    att_rc rc = ATT_ERR_TPM;
    TPMS_CAPABILITY_DATA *cap = NULL;
    TPMI_YES_NO more = TPM2_NO;
    TSS2_RC trc;
    UINT32 i;

    trc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_PCRS, 0,
                             1, &more, &cap);
    TSS_CHECK(t, Esys_GetCapability, trc, rc);
    for (i = 0; i < cap->data.assignedPCR.count; i++) {
        const TPMS_PCR_SELECTION *s = &cap->data.assignedPCR.pcrSelections[i];
        bool any = false;
        UINT8 j;

        for (j = 0; j < s->sizeofSelect; j++) {
            any = any || s->pcrSelect[j] != 0;
        }
        if (s->hash == TPM2_ALG_SHA256) {
            t->has_sha256 = any;
        } else if (s->hash == TPM2_ALG_SHA1) {
            t->has_sha1 = any;
        }
    }
    if (!t->has_sha256) {
        LOG_ERR("the TPM has no sha256 PCR bank allocated; attest requires it");
        rc = ATT_ERR_TPM;
        goto out;
    }
    rc = ATT_OK;
out:
    Esys_Free(cap);
    return rc;
}

att_rc att_tpm_open(const char *tcti, struct att_tpm **out)
{
    att_rc rc = ATT_ERR_TPM;
    struct att_tpm *t = NULL;
    TSS2_RC trc;

    if (tcti == NULL || out == NULL || tcti[0] == '\0') {
        return ATT_ERR_INVALID_ARG;
    }
    t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return ATT_ERR_NOMEM;
    }
    t->ek = ESYS_TR_NONE;
    t->ak = ESYS_TR_NONE;
    trc = Tss2_TctiLdr_Initialize(tcti, &t->tcti);
    if (trc != TSS2_RC_SUCCESS) {
        rc = tss_fail(t, "Tss2_TctiLdr_Initialize", trc);
        LOG_ERR("cannot open TPM through TCTI \"%s\"", tcti);
        goto out;
    }
    trc = Esys_Initialize(&t->esys, t->tcti, NULL);
    TSS_CHECK(t, Esys_Initialize, trc, rc);
    trc = Esys_Startup(t->esys, TPM2_SU_CLEAR);
    if (trc != TSS2_RC_SUCCESS && (trc & 0xfff) != TPM2_RC_INITIALIZE) {
        rc = tss_fail(t, "Esys_Startup", trc);
        goto out;
    }
    rc = learn_banks(t);
    if (rc != ATT_OK) {
        goto out;
    }
    *out = t;
    t = NULL; /* transferred to caller */
    rc = ATT_OK;
out:
    att_tpm_free(t);
    return rc;
}

static void flush_tr(struct att_tpm *t, ESYS_TR *tr)
{
    if (*tr != ESYS_TR_NONE) {
        TSS2_RC trc = Esys_FlushContext(t->esys, *tr);

        if (trc != TSS2_RC_SUCCESS) {
            LOG_WARN("Esys_FlushContext(0x%08x): %s", trc, Tss2_RC_Decode(trc));
        }
        *tr = ESYS_TR_NONE;
    }
}

void att_tpm_free(struct att_tpm *t)
{
    if (t == NULL) {
        return;
    }
    if (t->esys != NULL) {
        flush_tr(t, &t->ak);
        flush_tr(t, &t->ek);
        Esys_Finalize(&t->esys);
    }
    Tss2_TctiLdr_Finalize(&t->tcti);
    free(t);
}

void att_tpm_free_after_reset(struct att_tpm *t)
{
    if (t == NULL) {
        return;
    }
    t->ak = ESYS_TR_NONE; /* Esys_Finalize releases ESAPI's records of them */
    t->ek = ESYS_TR_NONE;
    att_tpm_free(t);
}

/* Flush every handle of one capability range with the raw SAPI call: ESAPI
 * cannot name sessions that another (dead) process started. */
static att_rc flush_range(struct att_tpm *t, TPM2_HANDLE first, const char *what)
{
    att_rc rc = ATT_ERR_TPM;
    TPMS_CAPABILITY_DATA *cap = NULL;
    TPMI_YES_NO more = TPM2_NO;
    TSS2_SYS_CONTEXT *sys = NULL;
    TSS2_RC trc;
    UINT32 i;

    trc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                             TPM2_CAP_HANDLES, first, TPM2_MAX_CAP_HANDLES, &more, &cap);
    TSS_CHECK(t, Esys_GetCapability, trc, rc);
    trc = Esys_GetSysContext(t->esys, &sys);
    TSS_CHECK(t, Esys_GetSysContext, trc, rc);
    for (i = 0; i < cap->data.handles.count; i++) {
        TPM2_HANDLE h = cap->data.handles.handle[i];

        /* The HMAC-session range reports policy sessions (0x03...) too. */
        if ((h & HANDLE_RANGE_MASK) != (first & HANDLE_RANGE_MASK) &&
            !(first == HANDLE_HMAC_FIRST && (h & HANDLE_RANGE_MASK) == HANDLE_POLICY_FIRST)) {
            continue;
        }
        trc = Tss2_Sys_FlushContext(sys, h);
        if (trc != TSS2_RC_SUCCESS) {
            LOG_WARN("flushing stale %s 0x%08x: %s", what, h, Tss2_RC_Decode(trc));
        } else {
            LOG_INFO("flushed stale %s 0x%08x", what, h);
        }
    }
    rc = ATT_OK;
out:
    Esys_Free(cap);
    return rc;
}

att_rc att_tpm_flush_stale(struct att_tpm *t)
{
    att_rc rc;

    if (t == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    rc = flush_range(t, HANDLE_TRANSIENT_FIRST, "transient object");
    if (rc != ATT_OK) {
        return rc;
    }
    return flush_range(t, HANDLE_HMAC_FIRST, "session");
}

att_rc att_tpm_read_ek_cert(struct att_tpm *t, enum att_key_alg alg, struct att_buf *der)
{
    att_rc rc = ATT_ERR_TPM;
    TPM2_HANDLE index = alg == ATT_KEY_RSA ? EK_CERT_NV_RSA : EK_CERT_NV_ECC;
    ESYS_TR nv = ESYS_TR_NONE;
    TPM2B_NV_PUBLIC *pub = NULL;
    TPM2B_MAX_NV_BUFFER *data = NULL;
    TSS2_RC trc;
    UINT16 off = 0;
    UINT16 size;

    if (t == NULL || der == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    trc = Esys_TR_FromTPMPublic(t->esys, index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &nv);
    if (trc != TSS2_RC_SUCCESS) {
        /* An absent index is normal (a TPM without that EK certificate). */
        t->last_rc = trc;
        LOG_INFO("no %s EK certificate at NV 0x%08x", att_key_alg_str(alg), index);
        rc = ATT_ERR_NOT_FOUND;
        goto out;
    }
    trc = Esys_NV_ReadPublic(t->esys, nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL);
    TSS_CHECK(t, Esys_NV_ReadPublic, trc, rc);
    size = pub->nvPublic.dataSize;
    while (off < size) {
        UINT16 left = (UINT16)(size - off);
        UINT16 n = (UINT16)(left > NV_CHUNK ? NV_CHUNK : left);

        trc = Esys_NV_Read(t->esys, nv, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, n, off,
                           &data);
        TSS_CHECK(t, Esys_NV_Read, trc, rc);
        rc = att_buf_append(der, data->buffer, data->size);
        if (rc != ATT_OK) {
            goto out;
        }
        off = (UINT16)(off + data->size);
        Esys_Free(data);
        data = NULL;
        if (n == 0) {
            break;
        }
    }
    rc = ATT_OK;
out:
    Esys_Free(data);
    Esys_Free(pub);
    if (nv != ESYS_TR_NONE) {
        (void)Esys_TR_Close(t->esys, &nv);
    }
    return rc;
}

void att_tpm_ek_template(enum att_key_alg alg, TPM2B_PUBLIC *pub)
{
    memset(pub, 0, sizeof(*pub));
    pub->publicArea.nameAlg = TPM2_ALG_SHA256;
    pub->publicArea.objectAttributes = EK_ATTRS;
    pub->publicArea.authPolicy.size = sizeof(ek_policy_a);
    memcpy(pub->publicArea.authPolicy.buffer, ek_policy_a, sizeof(ek_policy_a));
    if (alg == ATT_KEY_RSA) {
        TPMS_RSA_PARMS *p = &pub->publicArea.parameters.rsaDetail;

        pub->publicArea.type = TPM2_ALG_RSA;
        p->symmetric.algorithm = TPM2_ALG_AES;
        p->symmetric.keyBits.aes = 128;
        p->symmetric.mode.aes = TPM2_ALG_CFB;
        p->scheme.scheme = TPM2_ALG_NULL;
        p->keyBits = 2048;
        p->exponent = 0;
        pub->publicArea.unique.rsa.size = 256; /* 256 zero bytes (template L-1) */
    } else {
        TPMS_ECC_PARMS *p = &pub->publicArea.parameters.eccDetail;

        pub->publicArea.type = TPM2_ALG_ECC;
        p->symmetric.algorithm = TPM2_ALG_AES;
        p->symmetric.keyBits.aes = 128;
        p->symmetric.mode.aes = TPM2_ALG_CFB;
        p->scheme.scheme = TPM2_ALG_NULL;
        p->curveID = TPM2_ECC_NIST_P256;
        p->kdf.scheme = TPM2_ALG_NULL;
        pub->publicArea.unique.ecc.x.size = 32; /* zeros (template L-2) */
        pub->publicArea.unique.ecc.y.size = 32;
    }
}

void att_tpm_ak_template(enum att_key_alg alg, TPM2B_PUBLIC *pub)
{
    memset(pub, 0, sizeof(*pub));
    pub->publicArea.nameAlg = TPM2_ALG_SHA256;
    pub->publicArea.objectAttributes = AK_ATTRS;
    if (alg == ATT_KEY_RSA) {
        TPMS_RSA_PARMS *p = &pub->publicArea.parameters.rsaDetail;

        pub->publicArea.type = TPM2_ALG_RSA;
        p->symmetric.algorithm = TPM2_ALG_NULL;
        p->scheme.scheme = TPM2_ALG_RSASSA;
        p->scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
        p->keyBits = 2048;
        p->exponent = 0;
    } else {
        TPMS_ECC_PARMS *p = &pub->publicArea.parameters.eccDetail;

        pub->publicArea.type = TPM2_ALG_ECC;
        p->symmetric.algorithm = TPM2_ALG_NULL;
        p->scheme.scheme = TPM2_ALG_ECDSA;
        p->scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
        p->curveID = TPM2_ECC_NIST_P256;
        p->kdf.scheme = TPM2_ALG_NULL;
    }
}

static att_rc marshal_public(const TPM2B_PUBLIC *pub, struct att_buf *out)
{
    uint8_t tmp[sizeof(TPM2B_PUBLIC)];
    size_t off = 0;

    if (Tss2_MU_TPM2B_PUBLIC_Marshal(pub, tmp, sizeof(tmp), &off) != TSS2_RC_SUCCESS) {
        return ATT_ERR_INTERNAL;
    }
    return att_buf_append(out, tmp, off);
}

att_rc att_tpm_ek_create(struct att_tpm *t, enum att_key_alg alg, struct att_buf *ek_pub)
{
    att_rc rc = ATT_ERR_TPM;
    TPM2B_SENSITIVE_CREATE sens = {0};
    TPM2B_PUBLIC tmpl;
    TPM2B_DATA outside = {0};
    TPML_PCR_SELECTION pcrs = {0};
    TPM2B_PUBLIC *pub = NULL;
    TSS2_RC trc;

    if (t == NULL || ek_pub == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    flush_tr(t, &t->ak); /* an AK hangs under the EK it was loaded with */
    flush_tr(t, &t->ek);
    att_tpm_ek_template(alg, &tmpl);
    trc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                             ESYS_TR_NONE, &sens, &tmpl, &outside, &pcrs, &t->ek, &pub, NULL,
                             NULL, NULL);
    TSS_CHECK(t, Esys_CreatePrimary, trc, rc);
    t->ek_alg = alg;
    rc = marshal_public(pub, ek_pub);
out:
    Esys_Free(pub);
    return rc;
}

/* A policy session satisfying the EK's PolicySecret(TPM_RH_ENDORSEMENT).
 * continueSession is cleared, so the TPM (and ESAPI) drop it after one use. */
static att_rc ek_policy_session(struct att_tpm *t, ESYS_TR *session)
{
    att_rc rc = ATT_ERR_TPM;
    TPMT_SYM_DEF sym = {.algorithm = TPM2_ALG_AES, .keyBits.aes = 128, .mode.aes = TPM2_ALG_CFB};
    ESYS_TR s = ESYS_TR_NONE;
    TSS2_RC trc;

    trc = Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                ESYS_TR_NONE, NULL, TPM2_SE_POLICY, &sym, TPM2_ALG_SHA256, &s);
    TSS_CHECK(t, Esys_StartAuthSession, trc, rc);
    trc = Esys_PolicySecret(t->esys, ESYS_TR_RH_ENDORSEMENT, s, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                            ESYS_TR_NONE, NULL, NULL, NULL, 0, NULL, NULL);
    TSS_CHECK(t, Esys_PolicySecret, trc, rc);
    trc = Esys_TRSess_SetAttributes(t->esys, s, 0, TPMA_SESSION_CONTINUESESSION);
    TSS_CHECK(t, Esys_TRSess_SetAttributes, trc, rc);
    *session = s;
    s = ESYS_TR_NONE;
    rc = ATT_OK;
out:
    flush_tr(t, &s);
    return rc;
}

static att_rc save_blob(const char *dir, const char *name, const uint8_t *data, size_t len)
{
    char path[4096];

    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
        return ATT_ERR_INVALID_ARG;
    }
    return att_file_write_atomic(path, data, len);
}

static att_rc ak_create(struct att_tpm *t, const char *state_dir, enum att_key_alg alg,
                        TPM2B_PUBLIC *pub_out, TPM2B_PRIVATE *priv_out)
{
    att_rc rc = ATT_ERR_TPM;
    TPM2B_SENSITIVE_CREATE sens = {0};
    TPM2B_PUBLIC tmpl;
    TPM2B_DATA outside = {0};
    TPML_PCR_SELECTION pcrs = {0};
    TPM2B_PUBLIC *pub = NULL;
    TPM2B_PRIVATE *priv = NULL;
    ESYS_TR session = ESYS_TR_NONE;
    uint8_t blob[sizeof(TPM2B_PUBLIC) + sizeof(TPM2B_PRIVATE)];
    char name[64];
    size_t off = 0;
    TSS2_RC trc;

    att_tpm_ak_template(alg, &tmpl);
    rc = ek_policy_session(t, &session);
    if (rc != ATT_OK) {
        goto out;
    }
    trc = Esys_Create(t->esys, t->ek, session, ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl, &outside,
                      &pcrs, &priv, &pub, NULL, NULL, NULL);
    if (trc == TSS2_RC_SUCCESS) {
        session = ESYS_TR_NONE; /* continueSession clear: the TPM closed it */
    }
    TSS_CHECK(t, Esys_Create, trc, rc); /* on failure out: flushes the session */
    /* Private first: a crash between the two writes leaves no .pub, so the
     * next start creates a fresh AK instead of loading a half pair. */
    if (Tss2_MU_TPM2B_PRIVATE_Marshal(priv, blob, sizeof(blob), &off) != TSS2_RC_SUCCESS) {
        rc = ATT_ERR_INTERNAL;
        goto out;
    }
    (void)snprintf(name, sizeof(name), "ak-%s.priv", att_key_alg_str(alg));
    rc = save_blob(state_dir, name, blob, off);
    if (rc != ATT_OK) {
        goto out;
    }
    off = 0;
    if (Tss2_MU_TPM2B_PUBLIC_Marshal(pub, blob, sizeof(blob), &off) != TSS2_RC_SUCCESS) {
        rc = ATT_ERR_INTERNAL;
        goto out;
    }
    (void)snprintf(name, sizeof(name), "ak-%s.pub", att_key_alg_str(alg));
    rc = save_blob(state_dir, name, blob, off);
    if (rc != ATT_OK) {
        goto out;
    }
    *pub_out = *pub;
    *priv_out = *priv;
    LOG_INFO("created a new %s AK in %s", att_key_alg_str(alg), state_dir);
    rc = ATT_OK;
out:
    flush_tr(t, &session);
    Esys_Free(pub);
    Esys_Free(priv);
    return rc;
}

/* Read ak-<alg>.pub/.priv. ATT_ERR_NOT_FOUND when there is no AK yet. */
static att_rc ak_read(const char *state_dir, enum att_key_alg alg, TPM2B_PUBLIC *pub,
                      TPM2B_PRIVATE *priv)
{
    att_rc rc = ATT_ERR_PARSE;
    char path[4096];
    struct att_buf b;
    size_t off = 0;

    att_buf_init(&b, sizeof(TPM2B_PRIVATE) + sizeof(TPM2B_PUBLIC));
    (void)snprintf(path, sizeof(path), "%s/ak-%s.pub", state_dir, att_key_alg_str(alg));
    rc = att_file_read(path, &b);
    if (rc != ATT_OK) {
        goto out;
    }
    memset(pub, 0, sizeof(*pub));
    if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(b.data, b.len, &off, pub) != TSS2_RC_SUCCESS ||
        off != b.len) {
        LOG_ERR("%s is not a marshalled TPM2B_PUBLIC", path);
        rc = ATT_ERR_PARSE;
        goto out;
    }
    att_buf_reset(&b);
    off = 0;
    (void)snprintf(path, sizeof(path), "%s/ak-%s.priv", state_dir, att_key_alg_str(alg));
    rc = att_file_read(path, &b);
    if (rc == ATT_ERR_NOT_FOUND) {
        LOG_ERR("%s is missing while the AK public part exists", path);
        rc = ATT_ERR_PARSE;
    }
    if (rc != ATT_OK) {
        goto out;
    }
    memset(priv, 0, sizeof(*priv));
    if (Tss2_MU_TPM2B_PRIVATE_Unmarshal(b.data, b.len, &off, priv) != TSS2_RC_SUCCESS ||
        off != b.len) {
        LOG_ERR("%s is not a marshalled TPM2B_PRIVATE", path);
        rc = ATT_ERR_PARSE;
        goto out;
    }
    rc = ATT_OK;
out:
    att_buf_cleanup(&b);
    return rc;
}

att_rc att_tpm_ak_load_or_create(struct att_tpm *t, const char *state_dir, enum att_key_alg alg,
                                 struct att_buf *ak_pub)
{
    att_rc rc = ATT_ERR_TPM;
    TPM2B_PUBLIC pub;
    TPM2B_PRIVATE priv;
    ESYS_TR session = ESYS_TR_NONE;
    TSS2_RC trc;

    if (t == NULL || state_dir == NULL || ak_pub == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    if (t->ek == ESYS_TR_NONE) {
        LOG_ERR("the EK must be created before the AK is loaded");
        return ATT_ERR_INVALID_ARG;
    }
    flush_tr(t, &t->ak);
    rc = ak_read(state_dir, alg, &pub, &priv);
    if (rc == ATT_ERR_NOT_FOUND) {
        rc = ak_create(t, state_dir, alg, &pub, &priv);
    }
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ek_policy_session(t, &session);
    if (rc != ATT_OK) {
        goto out;
    }
    trc = Esys_Load(t->esys, t->ek, session, ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub, &t->ak);
    if (trc == TSS2_RC_SUCCESS) {
        session = ESYS_TR_NONE; /* continueSession clear: the TPM closed it */
    }
    if (trc != TSS2_RC_SUCCESS) {
        rc = tss_fail(t, "Esys_Load", trc);
        LOG_ERR("the AK in %s was not made under this TPM's %s EK (another TPM, or another "
                "--ek-alg?); move ak-%s.* away to create a new AK",
                state_dir, att_key_alg_str(t->ek_alg), att_key_alg_str(alg));
        goto out;
    }
    rc = marshal_public(&pub, ak_pub);
out:
    flush_tr(t, &session);
    return rc;
}

static void selection_from_mask(uint32_t mask, TPML_PCR_SELECTION *sel)
{
    memset(sel, 0, sizeof(*sel));
    sel->count = 1;
    sel->pcrSelections[0].hash = TPM2_ALG_SHA256;
    sel->pcrSelections[0].sizeofSelect = 3;
    sel->pcrSelections[0].pcrSelect[0] = (uint8_t)(mask & 0xff);
    sel->pcrSelections[0].pcrSelect[1] = (uint8_t)((mask >> 8) & 0xff);
    sel->pcrSelections[0].pcrSelect[2] = (uint8_t)((mask >> 16) & 0xff);
}

static uint32_t mask_from_selection(const TPMS_PCR_SELECTION *s)
{
    uint32_t m = 0;
    UINT8 j;

    for (j = 0; j < s->sizeofSelect && j < 3; j++) {
        m |= (uint32_t)s->pcrSelect[j] << (8 * j);
    }
    return m;
}

att_rc att_tpm_pcr_read(struct att_tpm *t, uint32_t mask, struct att_pcrs *out)
{
    att_rc rc = ATT_ERR_TPM;
    TPML_PCR_SELECTION sel;
    TPML_PCR_SELECTION *got_sel = NULL;
    TPML_DIGEST *vals = NULL;
    uint32_t todo = mask;
    TSS2_RC trc;

    if (t == NULL || out == NULL || mask == 0 || (mask & ~ATT_PCR_ALL_MASK) != 0) {
        return ATT_ERR_INVALID_ARG;
    }
    memset(out, 0, sizeof(*out));
    /* PCR_Read returns at most 8 digests; ask again for what is left. */
    while (todo != 0) {
        uint32_t got;
        UINT32 i;
        unsigned k = 0;

        selection_from_mask(todo, &sel);
        trc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel, NULL,
                            &got_sel, &vals);
        TSS_CHECK(t, Esys_PCR_Read, trc, rc);
        got = 0;
        for (i = 0; i < got_sel->count; i++) {
            if (got_sel->pcrSelections[i].hash == TPM2_ALG_SHA256) {
                got |= mask_from_selection(&got_sel->pcrSelections[i]);
            }
        }
        got &= todo;
        if (got == 0) {
            LOG_ERR("TPM2_PCR_Read returned none of the requested PCRs (mask 0x%06x)", todo);
            rc = ATT_ERR_TPM;
            goto out;
        }
        for (i = 0; i < ATT_PCR_COUNT; i++) {
            if ((got & (1u << i)) == 0) {
                continue;
            }
            if (k >= vals->count || vals->digests[k].size != ATT_SHA256_LEN) {
                LOG_ERR("TPM2_PCR_Read returned a malformed digest list");
                rc = ATT_ERR_TPM;
                goto out;
            }
            memcpy(out->value[i], vals->digests[k].buffer, ATT_SHA256_LEN);
            k++;
        }
        out->mask |= got;
        todo &= ~got;
        Esys_Free(got_sel);
        Esys_Free(vals);
        got_sel = NULL;
        vals = NULL;
    }
    rc = ATT_OK;
out:
    Esys_Free(got_sel);
    Esys_Free(vals);
    return rc;
}

att_rc att_tpm_pcr_extend(struct att_tpm *t, uint32_t pcr, const uint8_t *sha1,
                          const uint8_t *sha256)
{
    att_rc rc = ATT_ERR_TPM;
    TPML_DIGEST_VALUES d = {0};
    TSS2_RC trc;

    if (t == NULL || sha256 == NULL || pcr >= ATT_PCR_COUNT) {
        return ATT_ERR_INVALID_ARG;
    }
    d.digests[d.count].hashAlg = TPM2_ALG_SHA256;
    memcpy(d.digests[d.count].digest.sha256, sha256, ATT_SHA256_LEN);
    d.count++;
    if (t->has_sha1 && sha1 != NULL) {
        d.digests[d.count].hashAlg = TPM2_ALG_SHA1;
        memcpy(d.digests[d.count].digest.sha1, sha1, 20);
        d.count++;
    }
    trc = Esys_PCR_Extend(t->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                          ESYS_TR_NONE, &d);
    TSS_CHECK(t, Esys_PCR_Extend, trc, rc);
    rc = ATT_OK;
out:
    return rc;
}

/* pcrDigest of a marshalled TPMS_ATTEST quote, for the read/quote race check. */
static bool quote_matches(const TPM2B_ATTEST *q, const struct att_pcrs *pcrs)
{
    TPMS_ATTEST a;
    size_t off = 0;
    uint8_t dig[ATT_SHA256_LEN];

    memset(&a, 0, sizeof(a));
    if (Tss2_MU_TPMS_ATTEST_Unmarshal(q->attestationData, q->size, &off, &a) != TSS2_RC_SUCCESS) {
        return false;
    }
    if (att_pcrs_digest(pcrs, dig) != ATT_OK) {
        return false;
    }
    return a.attested.quote.pcrDigest.size == ATT_SHA256_LEN &&
           memcmp(a.attested.quote.pcrDigest.buffer, dig, ATT_SHA256_LEN) == 0;
}

att_rc att_tpm_quote(struct att_tpm *t, const uint8_t *nonce, size_t nonce_len, uint32_t mask,
                     struct att_buf *attest, struct att_buf *sig, struct att_pcrs *pcrs)
{
    att_rc rc = ATT_ERR_TPM;
    TPM2B_DATA qd = {0};
    /* cppcheck-suppress legacyUninitvar ; false positive: cppcheck 2.10 takes the
     * designator .scheme for a read of the variable of the same name */
    TPMT_SIG_SCHEME scheme = {.scheme = TPM2_ALG_NULL};
    TPML_PCR_SELECTION sel;
    TPM2B_ATTEST *quoted = NULL;
    TPMT_SIGNATURE *signature = NULL;
    uint8_t tmp[sizeof(TPMT_SIGNATURE)];
    size_t off = 0;
    TSS2_RC trc;
    int tries;

    if (t == NULL || nonce == NULL || nonce_len > sizeof(qd.buffer) || attest == NULL ||
        sig == NULL || pcrs == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    if (t->ak == ESYS_TR_NONE) {
        LOG_ERR("no AK loaded");
        return ATT_ERR_INVALID_ARG;
    }
    qd.size = (UINT16)nonce_len;
    memcpy(qd.buffer, nonce, nonce_len);
    selection_from_mask(mask, &sel);
    for (tries = 0; tries < QUOTE_TRIES; tries++) {
        rc = att_tpm_pcr_read(t, mask, pcrs);
        if (rc != ATT_OK) {
            goto out;
        }
        Esys_Free(quoted);
        Esys_Free(signature);
        quoted = NULL;
        signature = NULL;
        trc = Esys_Quote(t->esys, t->ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qd,
                         &scheme, &sel, &quoted, &signature);
        TSS_CHECK(t, Esys_Quote, trc, rc);
        if (quote_matches(quoted, pcrs)) {
            break;
        }
        LOG_WARN("a PCR changed between read and quote; quoting again");
    }
    if (tries == QUOTE_TRIES) {
        LOG_ERR("PCRs kept changing under the quote (another writer on the TPM?)");
        rc = ATT_ERR_TPM;
        goto out;
    }
    if (Tss2_MU_TPMT_SIGNATURE_Marshal(signature, tmp, sizeof(tmp), &off) != TSS2_RC_SUCCESS) {
        rc = ATT_ERR_INTERNAL;
        goto out;
    }
    rc = att_buf_append(attest, quoted->attestationData, quoted->size);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = att_buf_append(sig, tmp, off);
out:
    Esys_Free(quoted);
    Esys_Free(signature);
    return rc;
}

att_rc att_tpm_clock(struct att_tpm *t, uint32_t *reset_count, uint32_t *restart_count)
{
    att_rc rc = ATT_ERR_TPM;
    TPMS_TIME_INFO *ti = NULL;
    TSS2_RC trc;

    if (t == NULL || reset_count == NULL || restart_count == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    trc = Esys_ReadClock(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &ti);
    TSS_CHECK(t, Esys_ReadClock, trc, rc);
    *reset_count = ti->clockInfo.resetCount;
    *restart_count = ti->clockInfo.restartCount;
    rc = ATT_OK;
out:
    Esys_Free(ti);
    return rc;
}

att_rc att_tpm_activate_credential(struct att_tpm *t, const uint8_t *cred_blob, size_t cred_len,
                                   const uint8_t *enc_secret, size_t enc_len,
                                   struct att_buf *secret)
{
    att_rc rc = ATT_ERR_TPM;
    TPM2B_ID_OBJECT blob;
    TPM2B_ENCRYPTED_SECRET enc;
    TPM2B_DIGEST *cert_info = NULL;
    ESYS_TR session = ESYS_TR_NONE;
    size_t off = 0;
    TSS2_RC trc;

    if (t == NULL || cred_blob == NULL || enc_secret == NULL || secret == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    if (t->ak == ESYS_TR_NONE || t->ek == ESYS_TR_NONE) {
        LOG_ERR("credential activation needs the EK and the AK loaded");
        return ATT_ERR_INVALID_ARG;
    }
    memset(&blob, 0, sizeof(blob));
    memset(&enc, 0, sizeof(enc));
    if (Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(cred_blob, cred_len, &off, &blob) != TSS2_RC_SUCCESS ||
        off != cred_len) {
        LOG_ERR("credential blob is not exactly one TPM2B_ID_OBJECT");
        return ATT_ERR_PARSE;
    }
    off = 0;
    if (Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(enc_secret, enc_len, &off, &enc) !=
            TSS2_RC_SUCCESS ||
        off != enc_len) {
        LOG_ERR("encrypted secret is not exactly one TPM2B_ENCRYPTED_SECRET");
        return ATT_ERR_PARSE;
    }
    rc = ek_policy_session(t, &session);
    if (rc != ATT_OK) {
        goto out;
    }
    trc = Esys_ActivateCredential(t->esys, t->ak, t->ek, ESYS_TR_PASSWORD, session, ESYS_TR_NONE,
                                  &blob, &enc, &cert_info);
    if (trc == TSS2_RC_SUCCESS) {
        session = ESYS_TR_NONE; /* continueSession clear: the TPM closed it */
    }
    TSS_CHECK(t, Esys_ActivateCredential, trc, rc); /* a failed command leaves it loaded */
    rc = att_buf_append(secret, cert_info->buffer, cert_info->size);
out:
    flush_tr(t, &session);
    if (cert_info != NULL) {
        att_cleanse(cert_info->buffer, sizeof(cert_info->buffer));
    }
    Esys_Free(cert_info);
    return rc;
}
