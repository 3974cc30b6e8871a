/* SPDX-License-Identifier: Apache-2.0 */
/*
 * att_quote_verify() and the TPM public-key helpers against real swtpm
 * evidence in tests/data/quote-{ecc,rsa}/ (made by make-quote-data.sh):
 * the genuine quote, every negative the verifier must catch (nonce, AK,
 * PCR values, selection), and mutation of every bit and every length
 * (shared/STYLE.md §8). Each test runs once per AK algorithm.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/buf.h"
#include "attest/pcrs.h"
#include "attest/quote.h"
#include "attest/util.h"

#define FILE_MAX  (64u * 1024u)
#define NONCE_LEN 32
#define WHY_LEN   256

/* Everything one data directory holds, loaded once per group. */
struct fx {
    const char *alg;
    struct att_buf ak;
    struct att_buf other_ak;
    struct att_buf ek;
    struct att_buf pem;
    struct att_buf name_hex;
    struct att_buf msg;
    struct att_buf sig;
    struct att_buf partial_msg;
    struct att_buf partial_sig;
    uint8_t nonce[NONCE_LEN];
    struct att_pcrs pcrs;
    struct att_quote_info expect;
};

#define PARTIAL_MASK 0x0084ffu /* PCRs 0-7, 10, 15: make-quote-data.sh PARTIAL */

static struct fx fx_ecc = {.alg = "ecc"};
static struct fx fx_rsa = {.alg = "rsa"};

/*
 * Split the NUL-terminated text at *cursor into lines in place: returns the
 * next line (without its '\n') and advances *cursor, NULL at the end.
 */
static char *next_line(char **cursor)
{
    char *line = *cursor;
    char *nl;

    if (line == NULL || *line == '\0') {
        return NULL;
    }
    nl = strchr(line, '\n');
    if (nl != NULL) {
        *nl = '\0';
        *cursor = nl + 1;
    } else {
        *cursor = line + strlen(line);
    }
    return line;
}

static int load(const char *alg, const char *file, struct att_buf *b)
{
    char path[1024];

    att_buf_init(b, FILE_MAX);
    if (snprintf(path, sizeof(path), "%s/quote-%s/%s", ATT_TEST_DATA_DIR, alg, file) >=
        (int)sizeof(path)) {
        return -1;
    }
    if (att_file_read(path, b) != ATT_OK || b->len == 0) {
        fprintf(stderr, "cannot read %s\n", path);
        return -1;
    }
    return 0;
}

/* pcrs.txt: 24 lines "NN <64 hex>". */
static int load_pcrs(const char *alg, struct att_pcrs *p)
{
    struct att_buf b;
    char *line;
    char *cursor;
    int rc = -1;

    memset(p, 0, sizeof(*p));
    if (load(alg, "pcrs.txt", &b) != 0) {
        goto out;
    }
    cursor = (char *)b.data;
    while ((line = next_line(&cursor)) != NULL) {
        char idx[3] = {0};
        uint32_t i;

        if (strlen(line) != 3 + 2 * ATT_SHA256_LEN || line[2] != ' ') {
            goto out;
        }
        memcpy(idx, line, 2);
        if (att_parse_u32(idx[0] == '0' ? idx + 1 : idx, ATT_PCR_COUNT - 1, &i) != ATT_OK ||
            att_hex_decode(line + 3, p->value[i], ATT_SHA256_LEN) != ATT_OK) {
            goto out;
        }
        p->mask |= 1u << i;
    }
    rc = p->mask == ATT_PCR_ALL_MASK ? 0 : -1;
out:
    att_buf_cleanup(&b);
    return rc;
}

/* info.txt: "key value" lines from tpm2_print of quote.msg (make-quote-data.sh). */
static int load_info(const char *alg, struct att_quote_info *info)
{
    struct att_buf b;
    char *line;
    char *cursor;
    int rc = -1;
    unsigned seen = 0;

    memset(info, 0, sizeof(*info));
    if (load(alg, "info.txt", &b) != 0) {
        goto out;
    }
    cursor = (char *)b.data;
    while ((line = next_line(&cursor)) != NULL) {
        char *sp = strchr(line, ' ');
        uint64_t v;

        if (sp == NULL) {
            goto out;
        }
        *sp = '\0';
        if (strcmp(line, "firmware_version_hex") == 0) {
            uint8_t be[8];
            size_t k;

            if (att_hex_decode(sp + 1, be, sizeof(be)) != ATT_OK) {
                goto out;
            }
            for (k = 0; k < sizeof(be); k++) {
                info->firmware_version = info->firmware_version << 8 | be[k];
            }
            seen++;
            continue;
        }
        if (att_parse_u64(sp + 1, UINT64_MAX, &v) != ATT_OK) {
            goto out;
        }
        if (strcmp(line, "clock") == 0) {
            info->clock = v;
        } else if (strcmp(line, "reset_count") == 0) {
            info->reset_count = (uint32_t)v;
        } else if (strcmp(line, "restart_count") == 0) {
            info->restart_count = (uint32_t)v;
        } else if (strcmp(line, "safe") == 0) {
            info->is_safe = v != 0;
        } else {
            goto out;
        }
        seen++;
    }
    info->pcr_mask = ATT_PCR_ALL_MASK;
    rc = seen == 5 ? 0 : -1;
out:
    att_buf_cleanup(&b);
    return rc;
}

/* A one-line hex file (trailing newline allowed) into exactly len bytes. */
static int load_hex(const char *alg, const char *file, uint8_t *out, size_t len)
{
    struct att_buf b;
    int rc = -1;

    if (load(alg, file, &b) != 0) {
        goto out;
    }
    if (b.len != 2 * len + 1 || b.data[2 * len] != '\n') {
        goto out;
    }
    b.data[2 * len] = '\0';
    if (att_hex_decode((const char *)b.data, out, len) != ATT_OK) {
        goto out;
    }
    rc = 0;
out:
    att_buf_cleanup(&b);
    return rc;
}

static void fx_cleanup(struct fx *f)
{
    att_buf_cleanup(&f->ak);
    att_buf_cleanup(&f->other_ak);
    att_buf_cleanup(&f->ek);
    att_buf_cleanup(&f->pem);
    att_buf_cleanup(&f->name_hex);
    att_buf_cleanup(&f->msg);
    att_buf_cleanup(&f->sig);
    att_buf_cleanup(&f->partial_msg);
    att_buf_cleanup(&f->partial_sig);
}

static int fx_setup(struct fx *f)
{
    if (load(f->alg, "ak.pub", &f->ak) != 0 || load(f->alg, "other-ak.pub", &f->other_ak) != 0 ||
        load(f->alg, "ek.pub", &f->ek) != 0 || load(f->alg, "ak.pub.pem.expected", &f->pem) != 0 ||
        load(f->alg, "ak.name.hex", &f->name_hex) != 0 || load(f->alg, "quote.msg", &f->msg) != 0 ||
        load(f->alg, "quote.sig", &f->sig) != 0 ||
        load(f->alg, "partial.msg", &f->partial_msg) != 0 ||
        load(f->alg, "partial.sig", &f->partial_sig) != 0 || load_pcrs(f->alg, &f->pcrs) != 0 ||
        load_info(f->alg, &f->expect) != 0 ||
        load_hex(f->alg, "nonce.hex", f->nonce, NONCE_LEN) != 0) {
        fx_cleanup(f);
        return -1;
    }
    return 0;
}

/* Both directories load for either group: some tests cross AK algorithms. */
static int setup_both(void)
{
    if (fx_setup(&fx_ecc) != 0) {
        return -1;
    }
    if (fx_setup(&fx_rsa) != 0) {
        fx_cleanup(&fx_ecc);
        return -1;
    }
    return 0;
}

static int setup_ecc(void **state)
{
    *state = &fx_ecc;
    return setup_both();
}

static int setup_rsa(void **state)
{
    *state = &fx_rsa;
    return setup_both();
}

static int teardown(void **state)
{
    (void)state;
    fx_cleanup(&fx_ecc);
    fx_cleanup(&fx_rsa);
    return 0;
}

/* Verify msg/sig against the fixture's AK, nonce and PCRs. */
static att_rc verify(const struct fx *f, const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                     size_t sig_len)
{
    char why[WHY_LEN];

    return att_quote_verify(f->ak.data, f->ak.len, msg, msg_len, sig, sig_len, f->nonce, NONCE_LEN,
                            &f->pcrs, NULL, why, sizeof(why));
}

static void test_quote_verify_valid(void **state)
{
    const struct fx *f = *state;
    struct att_quote_info info;
    char why[WHY_LEN];

    memset(&info, 0xa5, sizeof(info));
    assert_int_equal(att_quote_verify(f->ak.data, f->ak.len, f->msg.data, f->msg.len, f->sig.data,
                                      f->sig.len, f->nonce, NONCE_LEN, &f->pcrs, &info, why,
                                      sizeof(why)),
                     ATT_OK);
    assert_string_equal(why, "");
    assert_true(info.clock == f->expect.clock);
    assert_int_equal(info.reset_count, f->expect.reset_count);
    assert_int_equal(info.restart_count, f->expect.restart_count);
    assert_int_equal(info.is_safe, f->expect.is_safe);
    assert_true(info.firmware_version == f->expect.firmware_version);
    assert_int_equal(info.pcr_mask, ATT_PCR_ALL_MASK);
    assert_true(info.clock > 0);

    /* info and why are optional. */
    assert_int_equal(att_quote_verify(f->ak.data, f->ak.len, f->msg.data, f->msg.len, f->sig.data,
                                      f->sig.len, f->nonce, NONCE_LEN, &f->pcrs, NULL, NULL, 0),
                     ATT_OK);
}

/* The verifier's path: the AK parsed once, many quotes checked with it. */
static void test_quote_verify_parsed_ak(void **state)
{
    const struct fx *f = *state;
    struct att_ak *ak = NULL;
    struct att_quote_info info;
    uint8_t bad[NONCE_LEN];
    char why[WHY_LEN];
    int i;

    assert_int_equal(att_ak_new(f->ak.data, f->ak.len, &ak, why, sizeof(why)), ATT_OK);
    for (i = 0; i < 3; i++) {
        assert_int_equal(att_quote_verify_ak(ak, f->msg.data, f->msg.len, f->sig.data, f->sig.len,
                                             f->nonce, NONCE_LEN, &f->pcrs, &info, why,
                                             sizeof(why)),
                         ATT_OK);
        assert_int_equal(info.reset_count, f->expect.reset_count);
    }
    memcpy(bad, f->nonce, NONCE_LEN);
    bad[0] ^= 1;
    assert_int_equal(att_quote_verify_ak(ak, f->msg.data, f->msg.len, f->sig.data, f->sig.len, bad,
                                         NONCE_LEN, &f->pcrs, &info, why, sizeof(why)),
                     ATT_ERR_VERIFY);
    assert_string_equal(why, "nonce mismatch");
    assert_int_equal(att_quote_verify_ak(NULL, f->msg.data, f->msg.len, f->sig.data, f->sig.len,
                                         f->nonce, NONCE_LEN, &f->pcrs, &info, why, sizeof(why)),
                     ATT_ERR_INVALID_ARG);
    att_ak_free(ak);
    ak = NULL;
    /* An EK (restricted decryption key) is not an AK. */
    assert_int_equal(att_ak_new(f->ek.data, f->ek.len, &ak, why, sizeof(why)), ATT_ERR_VERIFY);
    assert_null(ak);
    assert_int_equal(att_ak_new(f->ak.data, f->ak.len - 1, &ak, why, sizeof(why)), ATT_ERR_PARSE);
    assert_null(ak);
    att_ak_free(NULL);
}

static void test_quote_verify_partial_selection(void **state)
{
    const struct fx *f = *state;
    struct att_pcrs p = f->pcrs;
    struct att_quote_info info;
    char why[WHY_LEN];

    p.mask = PARTIAL_MASK;
    assert_int_equal(att_quote_verify(f->ak.data, f->ak.len, f->partial_msg.data,
                                      f->partial_msg.len, f->partial_sig.data, f->partial_sig.len,
                                      f->nonce, NONCE_LEN, &p, &info, why, sizeof(why)),
                     ATT_OK);
    assert_int_equal(info.pcr_mask, PARTIAL_MASK);

    /* Values of PCRs outside the selection do not matter. */
    p.value[16][0] ^= 1;
    p.value[23][31] ^= 0x80;
    /* verify() claims all 24 PCRs: the partial quote must not match that. */
    assert_int_not_equal(
        verify(f, f->partial_msg.data, f->partial_msg.len, f->partial_sig.data, f->partial_sig.len),
        ATT_OK);
    assert_int_equal(att_quote_verify(f->ak.data, f->ak.len, f->partial_msg.data,
                                      f->partial_msg.len, f->partial_sig.data, f->partial_sig.len,
                                      f->nonce, NONCE_LEN, &p, NULL, NULL, 0),
                     ATT_OK);
}

static void test_quote_verify_wrong_nonce(void **state)
{
    const struct fx *f = *state;
    uint8_t nonce[NONCE_LEN + 1];
    struct att_quote_info info;
    char why[WHY_LEN];
    size_t i;

    for (i = 0; i < NONCE_LEN; i++) {
        memcpy(nonce, f->nonce, NONCE_LEN);
        nonce[i] ^= 0x01;
        assert_int_equal(att_quote_verify(f->ak.data, f->ak.len, f->msg.data, f->msg.len,
                                          f->sig.data, f->sig.len, nonce, NONCE_LEN, &f->pcrs,
                                          &info, why, sizeof(why)),
                         ATT_ERR_VERIFY);
        assert_string_equal(why, "nonce mismatch");
    }
    /* Parsed fields are reported on a rejection, for the operator's log. */
    assert_true(info.clock == f->expect.clock);

    /* A prefix or an extension of the right nonce is not the nonce. */
    memcpy(nonce, f->nonce, NONCE_LEN);
    nonce[NONCE_LEN] = 0;
    assert_int_equal(att_quote_verify(f->ak.data, f->ak.len, f->msg.data, f->msg.len, f->sig.data,
                                      f->sig.len, nonce, NONCE_LEN - 1, &f->pcrs, NULL, why,
                                      sizeof(why)),
                     ATT_ERR_VERIFY);
    assert_int_equal(att_quote_verify(f->ak.data, f->ak.len, f->msg.data, f->msg.len, f->sig.data,
                                      f->sig.len, nonce, NONCE_LEN + 1, &f->pcrs, NULL, why,
                                      sizeof(why)),
                     ATT_ERR_VERIFY);
    assert_string_equal(why, "nonce mismatch");
}

static void test_quote_verify_other_ak(void **state)
{
    const struct fx *f = *state;
    const struct fx *g = f == &fx_ecc ? &fx_rsa : &fx_ecc;
    char why[WHY_LEN];

    assert_int_equal(att_quote_verify(f->other_ak.data, f->other_ak.len, f->msg.data, f->msg.len,
                                      f->sig.data, f->sig.len, f->nonce, NONCE_LEN, &f->pcrs, NULL,
                                      why, sizeof(why)),
                     ATT_ERR_VERIFY);
    assert_string_equal(why, "signature does not verify under the AK");

    /* An AK of the other algorithm: the signature does not even fit it. */
    assert_int_equal(att_quote_verify(g->ak.data, g->ak.len, f->msg.data, f->msg.len, f->sig.data,
                                      f->sig.len, f->nonce, NONCE_LEN, &f->pcrs, NULL, why,
                                      sizeof(why)),
                     ATT_ERR_VERIFY);
    /* An EK is not a signing key at all. */
    assert_int_equal(att_quote_verify(f->ek.data, f->ek.len, f->msg.data, f->msg.len, f->sig.data,
                                      f->sig.len, f->nonce, NONCE_LEN, &f->pcrs, NULL, why,
                                      sizeof(why)),
                     ATT_ERR_VERIFY);
}

/*
 * TPMT_PUBLIC.objectAttributes sits after size(2), type(2), nameAlg(2) of
 * the TPM2B_PUBLIC, big-endian: clearing "restricted" must lose the AK its
 * standing before any signature is looked at.
 */
static void test_quote_verify_unrestricted_key(void **state)
{
    const struct fx *f = *state;
    uint8_t *ak = malloc(f->ak.len);
    char why[WHY_LEN];

    assert_non_null(ak);
    memcpy(ak, f->ak.data, f->ak.len);
    assert_true((ak[7] & 0x01) != 0); /* TPMA_OBJECT_RESTRICTED 0x00010000 */
    ak[7] &= (uint8_t)~0x01u;
    assert_int_equal(att_quote_verify(ak, f->ak.len, f->msg.data, f->msg.len, f->sig.data,
                                      f->sig.len, f->nonce, NONCE_LEN, &f->pcrs, NULL, why,
                                      sizeof(why)),
                     ATT_ERR_VERIFY);
    assert_string_equal(why, "AK is not a restricted signing key");
    assert_int_equal(att_tpm_public_check_ak(ak, f->ak.len, why, sizeof(why)), ATT_ERR_VERIFY);
    free(ak);
}

static void test_quote_verify_pcr_changed(void **state)
{
    const struct fx *f = *state;
    struct att_pcrs p;
    char why[WHY_LEN];
    unsigned i;

    for (i = 0; i < ATT_PCR_COUNT; i++) {
        p = f->pcrs;
        p.value[i][i % ATT_SHA256_LEN] ^= 0x40;
        assert_int_equal(att_quote_verify(f->ak.data, f->ak.len, f->msg.data, f->msg.len,
                                          f->sig.data, f->sig.len, f->nonce, NONCE_LEN, &p, NULL,
                                          why, sizeof(why)),
                         ATT_ERR_VERIFY);
        assert_string_equal(why, "PCR digest mismatch");
    }
    /* Two PCRs swapped keep the multiset of values but not the digest. */
    p = f->pcrs;
    memcpy(p.value[15], f->pcrs.value[16], ATT_SHA256_LEN);
    memcpy(p.value[16], f->pcrs.value[15], ATT_SHA256_LEN);
    assert_int_equal(att_quote_verify(f->ak.data, f->ak.len, f->msg.data, f->msg.len, f->sig.data,
                                      f->sig.len, f->nonce, NONCE_LEN, &p, NULL, why, sizeof(why)),
                     ATT_ERR_VERIFY);
}

static void test_quote_verify_mask_differs(void **state)
{
    const struct fx *f = *state;
    struct att_pcrs p = f->pcrs;
    struct att_quote_info info;
    char why[WHY_LEN];
    unsigned i;

    for (i = 0; i < ATT_PCR_COUNT; i++) {
        p.mask = ATT_PCR_ALL_MASK & ~(1u << i);
        assert_int_equal(att_quote_verify(f->ak.data, f->ak.len, f->msg.data, f->msg.len,
                                          f->sig.data, f->sig.len, f->nonce, NONCE_LEN, &p, &info,
                                          why, sizeof(why)),
                         ATT_ERR_VERIFY);
        assert_non_null(strstr(why, "PCR selection"));
        assert_int_equal(info.pcr_mask, ATT_PCR_ALL_MASK); /* what the quote says */
    }
    /* The partial quote against the full set, and against a superset mask. */
    p.mask = ATT_PCR_ALL_MASK;
    assert_int_equal(att_quote_verify(f->ak.data, f->ak.len, f->partial_msg.data,
                                      f->partial_msg.len, f->partial_sig.data, f->partial_sig.len,
                                      f->nonce, NONCE_LEN, &p, NULL, why, sizeof(why)),
                     ATT_ERR_VERIFY);
    p.mask = PARTIAL_MASK | (1u << 23);
    assert_int_equal(att_quote_verify(f->ak.data, f->ak.len, f->partial_msg.data,
                                      f->partial_msg.len, f->partial_sig.data, f->partial_sig.len,
                                      f->nonce, NONCE_LEN, &p, NULL, why, sizeof(why)),
                     ATT_ERR_VERIFY);
}

/* A mutated quote may fail to parse or fail to verify, nothing else, and never pass. */
static void assert_rejected(att_rc rc)
{
    if (rc != ATT_ERR_PARSE && rc != ATT_ERR_VERIFY) {
        fail_msg("mutated evidence gave %s", att_rc_str(rc));
    }
}

static void flip_every_bit(const struct fx *f, bool in_sig)
{
    const struct att_buf *src = in_sig ? &f->sig : &f->msg;
    uint8_t *m = malloc(src->len);
    size_t bit;

    assert_non_null(m);
    memcpy(m, src->data, src->len);
    for (bit = 0; bit < src->len * 8; bit++) {
        att_rc rc;

        m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (in_sig) {
            rc = verify(f, f->msg.data, f->msg.len, m, src->len);
        } else {
            rc = verify(f, m, src->len, f->sig.data, f->sig.len);
        }
        m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_rejected(rc);
    }
    free(m);
}

static void test_quote_verify_flip_every_bit_msg(void **state)
{
    flip_every_bit(*state, false);
}

static void test_quote_verify_flip_every_bit_sig(void **state)
{
    flip_every_bit(*state, true);
}

/* which: 0 msg, 1 sig, 2 AK public. Every strict prefix, and one byte appended. */
static void truncate_and_extend(const struct fx *f, int which)
{
    const struct att_buf *src = which == 0 ? &f->msg : which == 1 ? &f->sig : &f->ak;
    uint8_t *m = malloc(src->len + 1);
    size_t len;

    assert_non_null(m);
    memcpy(m, src->data, src->len);
    m[src->len] = 0x00;
    for (len = 0; len <= src->len + 1; len++) {
        char why[WHY_LEN];
        att_rc rc;

        if (len == src->len) {
            continue; /* the genuine length */
        }
        if (which == 0) {
            rc = att_quote_verify(f->ak.data, f->ak.len, m, len, f->sig.data, f->sig.len, f->nonce,
                                  NONCE_LEN, &f->pcrs, NULL, why, sizeof(why));
        } else if (which == 1) {
            rc = att_quote_verify(f->ak.data, f->ak.len, f->msg.data, f->msg.len, m, len, f->nonce,
                                  NONCE_LEN, &f->pcrs, NULL, why, sizeof(why));
        } else {
            rc = att_quote_verify(m, len, f->msg.data, f->msg.len, f->sig.data, f->sig.len,
                                  f->nonce, NONCE_LEN, &f->pcrs, NULL, why, sizeof(why));
        }
        assert_rejected(rc);
        if (len > src->len) {
            /* Trailing data is a parse error, whatever else is right. */
            assert_int_equal(rc, ATT_ERR_PARSE);
        }
    }
    free(m);
}

static void test_quote_verify_truncated_msg(void **state)
{
    truncate_and_extend(*state, 0);
}

static void test_quote_verify_truncated_sig(void **state)
{
    truncate_and_extend(*state, 1);
}

static void test_quote_verify_truncated_ak(void **state)
{
    truncate_and_extend(*state, 2);
}

/* Swapping message and signature, or feeding one evidence file as another, never passes. */
static void test_quote_verify_swapped_inputs(void **state)
{
    const struct fx *f = *state;

    assert_rejected(verify(f, f->sig.data, f->sig.len, f->msg.data, f->msg.len));
    assert_rejected(verify(f, f->msg.data, f->msg.len, f->partial_sig.data, f->partial_sig.len));
    assert_rejected(verify(f, f->partial_msg.data, f->partial_msg.len, f->sig.data, f->sig.len));
}

static void test_quote_verify_null_args(void **state)
{
    const struct fx *f = *state;
    struct att_pcrs p = f->pcrs;
    char why[WHY_LEN];
    const uint8_t *ak = f->ak.data;
    const uint8_t *msg = f->msg.data;
    const uint8_t *sig = f->sig.data;
    size_t akl = f->ak.len;
    size_t ml = f->msg.len;
    size_t sl = f->sig.len;

    assert_int_equal(att_quote_verify(NULL, akl, msg, ml, sig, sl, f->nonce, NONCE_LEN, &p, NULL,
                                      why, sizeof(why)),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(att_quote_verify(ak, akl, NULL, ml, sig, sl, f->nonce, NONCE_LEN, &p, NULL,
                                      why, sizeof(why)),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(att_quote_verify(ak, akl, msg, ml, NULL, sl, f->nonce, NONCE_LEN, &p, NULL,
                                      why, sizeof(why)),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(
        att_quote_verify(ak, akl, msg, ml, sig, sl, NULL, NONCE_LEN, &p, NULL, why, sizeof(why)),
        ATT_ERR_INVALID_ARG);
    assert_int_equal(att_quote_verify(ak, akl, msg, ml, sig, sl, f->nonce, NONCE_LEN, NULL, NULL,
                                      why, sizeof(why)),
                     ATT_ERR_INVALID_ARG);
    /* No nonce means no freshness: refused, not verified. */
    assert_int_equal(
        att_quote_verify(ak, akl, msg, ml, sig, sl, f->nonce, 0, &p, NULL, why, sizeof(why)),
        ATT_ERR_INVALID_ARG);
    p.mask = 0;
    assert_int_equal(att_quote_verify(ak, akl, msg, ml, sig, sl, f->nonce, NONCE_LEN, &p, NULL, why,
                                      sizeof(why)),
                     ATT_ERR_INVALID_ARG);
    p.mask = ATT_PCR_ALL_MASK | (1u << 24);
    assert_int_equal(att_quote_verify(ak, akl, msg, ml, sig, sl, f->nonce, NONCE_LEN, &p, NULL, why,
                                      sizeof(why)),
                     ATT_ERR_INVALID_ARG);
    /* Empty inputs are malformed, not misuse. */
    p.mask = ATT_PCR_ALL_MASK;
    assert_int_equal(
        att_quote_verify(ak, 0, msg, ml, sig, sl, f->nonce, NONCE_LEN, &p, NULL, why, sizeof(why)),
        ATT_ERR_PARSE);
    assert_int_equal(
        att_quote_verify(ak, akl, msg, 0, sig, sl, f->nonce, NONCE_LEN, &p, NULL, why, sizeof(why)),
        ATT_ERR_PARSE);
    assert_int_equal(
        att_quote_verify(ak, akl, msg, ml, sig, 0, f->nonce, NONCE_LEN, &p, NULL, why, sizeof(why)),
        ATT_ERR_PARSE);
}

/* why is always NUL-terminated within why_len, however short. */
static void test_quote_verify_why_truncated(void **state)
{
    const struct fx *f = *state;
    uint8_t nonce[NONCE_LEN] = {0};
    char why[4];

    memset(why, 'x', sizeof(why));
    assert_int_equal(att_quote_verify(f->ak.data, f->ak.len, f->msg.data, f->msg.len, f->sig.data,
                                      f->sig.len, nonce, NONCE_LEN, &f->pcrs, NULL, why,
                                      sizeof(why)),
                     ATT_ERR_VERIFY);
    assert_string_equal(why, "non");
    assert_int_equal(att_quote_verify(f->ak.data, f->ak.len, f->msg.data, f->msg.len, f->sig.data,
                                      f->sig.len, nonce, NONCE_LEN, &f->pcrs, NULL, why, 0),
                     ATT_ERR_VERIFY);
}

static void test_tpm_public_name_matches_tpm(void **state)
{
    const struct fx *f = *state;
    uint8_t name[ATT_TPM_NAME_MAX];
    char hex[2 * ATT_TPM_NAME_MAX + 2];
    size_t len = sizeof(name);

    assert_int_equal(att_tpm_public_name(f->ak.data, f->ak.len, name, &len), ATT_OK);
    assert_int_equal(len, 2 + ATT_SHA256_LEN);
    assert_int_equal(name[0], 0x00);
    assert_int_equal(name[1], 0x0b); /* TPM_ALG_SHA256 */
    att_hex_encode(name, len, hex);
    hex[2 * len] = '\n';
    hex[2 * len + 1] = '\0';
    assert_string_equal(hex, (const char *)f->name_hex.data);

    /* The other AK has another name. */
    len = sizeof(name);
    assert_int_equal(att_tpm_public_name(f->other_ak.data, f->other_ak.len, name, &len), ATT_OK);
    att_hex_encode(name, len, hex);
    assert_int_not_equal(strncmp(hex, (const char *)f->name_hex.data, 2 * len), 0);
}

static void test_tpm_public_name_bad_args(void **state)
{
    const struct fx *f = *state;
    uint8_t name[ATT_TPM_NAME_MAX];
    size_t len = 2 + ATT_SHA256_LEN - 1;
    size_t i;

    memset(name, 0x5a, sizeof(name));
    assert_int_equal(att_tpm_public_name(f->ak.data, f->ak.len, name, &len), ATT_ERR_INVALID_ARG);
    assert_int_equal(len, 2 + ATT_SHA256_LEN - 1); /* untouched on failure */
    assert_int_equal(name[0], 0x5a);
    len = sizeof(name);
    assert_int_equal(att_tpm_public_name(NULL, f->ak.len, name, &len), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_tpm_public_name(f->ak.data, f->ak.len, NULL, &len), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_tpm_public_name(f->ak.data, f->ak.len, name, NULL), ATT_ERR_INVALID_ARG);
    for (i = 0; i < f->ak.len; i++) {
        len = sizeof(name);
        assert_int_equal(att_tpm_public_name(f->ak.data, i, name, &len), ATT_ERR_PARSE);
    }
}

/*
 * Same key as tpm2_readpublic -f pem wrote: both are SubjectPublicKeyInfo
 * in base64 with the same line breaks, so equal text means equal DER.
 */
static void test_tpm_public_to_pem_matches_tools(void **state)
{
    const struct fx *f = *state;
    struct att_buf pem;

    att_buf_init(&pem, FILE_MAX);
    assert_int_equal(att_buf_append_str(&pem, "prefix\n"), ATT_OK);
    assert_int_equal(att_tpm_public_to_pem(f->ak.data, f->ak.len, &pem), ATT_OK);
    assert_int_equal(pem.len, 7 + f->pem.len); /* appended, not replaced */
    assert_memory_equal(pem.data + 7, f->pem.data, f->pem.len);
    assert_non_null(strstr((const char *)pem.data, "-----BEGIN PUBLIC KEY-----\n"));

    /* A key that does not parse leaves the buffer as it was. */
    assert_int_equal(att_tpm_public_to_pem(f->ak.data, f->ak.len - 1, &pem), ATT_ERR_PARSE);
    assert_int_equal(pem.len, 7 + f->pem.len);
    assert_int_equal(att_tpm_public_to_pem(NULL, 1, &pem), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_tpm_public_to_pem(f->ak.data, f->ak.len, NULL), ATT_ERR_INVALID_ARG);
    att_buf_cleanup(&pem);

    /* The EK is a key too (not an AK): PEM works for it. */
    att_buf_init(&pem, FILE_MAX);
    assert_int_equal(att_tpm_public_to_pem(f->ek.data, f->ek.len, &pem), ATT_OK);
    att_buf_cleanup(&pem);
}

static void test_tpm_public_check_ak(void **state)
{
    const struct fx *f = *state;
    char why[WHY_LEN];

    assert_int_equal(att_tpm_public_check_ak(f->ak.data, f->ak.len, why, sizeof(why)), ATT_OK);
    assert_string_equal(why, "");
    assert_int_equal(att_tpm_public_check_ak(f->other_ak.data, f->other_ak.len, NULL, 0), ATT_OK);

    /* The EK: restricted decryption key, no sign attribute. */
    assert_int_equal(att_tpm_public_check_ak(f->ek.data, f->ek.len, why, sizeof(why)),
                     ATT_ERR_VERIFY);
    assert_true(strlen(why) > 0);

    assert_int_equal(att_tpm_public_check_ak(f->ak.data, f->ak.len - 1, why, sizeof(why)),
                     ATT_ERR_PARSE);
    assert_int_equal(att_tpm_public_check_ak(NULL, 0, why, sizeof(why)), ATT_ERR_INVALID_ARG);
}

/* Each attribute an AK needs, cleared one at a time; decrypt set. */
static void test_tpm_public_check_ak_attributes(void **state)
{
    const struct fx *f = *state;
    static const uint32_t need[] = {0x00010000u, 0x00040000u, 0x00000002u, 0x00000010u,
                                    0x00000020u};
    uint8_t *ak = malloc(f->ak.len);
    char why[WHY_LEN];
    size_t i;

    assert_non_null(ak);
    for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
        memcpy(ak, f->ak.data, f->ak.len);
        ak[6] &= (uint8_t) ~(need[i] >> 24);
        ak[7] &= (uint8_t) ~((need[i] >> 16) & 0xffu);
        ak[8] &= (uint8_t) ~((need[i] >> 8) & 0xffu);
        ak[9] &= (uint8_t) ~(need[i] & 0xffu);
        assert_int_equal(att_tpm_public_check_ak(ak, f->ak.len, why, sizeof(why)), ATT_ERR_VERIFY);
    }
    memcpy(ak, f->ak.data, f->ak.len);
    ak[7] |= 0x02; /* TPMA_OBJECT_DECRYPT 0x00020000 */
    assert_int_equal(att_tpm_public_check_ak(ak, f->ak.len, why, sizeof(why)), ATT_ERR_VERIFY);
    assert_string_equal(why, "AK must not be a decryption key");
    free(ak);
}

/*
 * An AK whose scheme is RSAPSS: its quote verifies (salt length as the TPM
 * chose it), enrollment policy still refuses the AK, and the PSS signature
 * does not pass for the RSASSA AK or with any bit flipped.
 */
static void test_quote_verify_rsapss(void **state)
{
    const struct fx *f = &fx_rsa;
    struct att_buf ak;
    struct att_buf msg;
    struct att_buf sig;
    char why[WHY_LEN];
    size_t bit;

    (void)state;
    assert_int_equal(load("rsa", "pss-ak.pub", &ak), 0);
    assert_int_equal(load("rsa", "pss-quote.msg", &msg), 0);
    assert_int_equal(load("rsa", "pss-quote.sig", &sig), 0);
    assert_int_equal(sig.data[0] << 8 | sig.data[1], 0x0016); /* TPM_ALG_RSAPSS */
    assert_int_equal(att_quote_verify(ak.data, ak.len, msg.data, msg.len, sig.data, sig.len,
                                      f->nonce, NONCE_LEN, &f->pcrs, NULL, why, sizeof(why)),
                     ATT_OK);
    assert_int_equal(att_tpm_public_check_ak(ak.data, ak.len, why, sizeof(why)), ATT_ERR_VERIFY);
    assert_int_equal(att_quote_verify(f->ak.data, f->ak.len, msg.data, msg.len, sig.data, sig.len,
                                      f->nonce, NONCE_LEN, &f->pcrs, NULL, why, sizeof(why)),
                     ATT_ERR_VERIFY);
    for (bit = 0; bit < sig.len * 8; bit++) {
        sig.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_rejected(att_quote_verify(ak.data, ak.len, msg.data, msg.len, sig.data, sig.len,
                                         f->nonce, NONCE_LEN, &f->pcrs, NULL, why, sizeof(why)));
        sig.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    att_buf_cleanup(&ak);
    att_buf_cleanup(&msg);
    att_buf_cleanup(&sig);
}

/*
 * make-quote-data.sh writes the fuzz seeds from the same evidence: the
 * "valid" seed must be this quote, or the fuzzer starts from stale data.
 */
static void test_quote_fuzz_seed_is_current(void **state)
{
    const struct fx *f = &fx_ecc;
    struct att_buf seed;
    char path[1024];

    (void)state;
    att_buf_init(&seed, FILE_MAX);
    assert_true(snprintf(path, sizeof(path), "%s/../fuzz/corpus/quote/valid-ecc",
                         ATT_TEST_DATA_DIR) < (int)sizeof(path));
    assert_int_equal(att_file_read(path, &seed), ATT_OK);
    assert_int_equal(seed.len, 1 + f->msg.len + f->sig.len);
    assert_int_equal(seed.data[0], f->msg.len);
    assert_memory_equal(seed.data + 1, f->msg.data, f->msg.len);
    assert_memory_equal(seed.data + 1 + f->msg.len, f->sig.data, f->sig.len);
    att_buf_cleanup(&seed);
}

#define QUOTE_TESTS                                                                                \
    cmocka_unit_test(test_quote_verify_valid),                                                     \
        cmocka_unit_test(test_quote_verify_parsed_ak),                                             \
        cmocka_unit_test(test_quote_verify_partial_selection),                                     \
        cmocka_unit_test(test_quote_verify_wrong_nonce),                                           \
        cmocka_unit_test(test_quote_verify_other_ak),                                              \
        cmocka_unit_test(test_quote_verify_unrestricted_key),                                      \
        cmocka_unit_test(test_quote_verify_pcr_changed),                                           \
        cmocka_unit_test(test_quote_verify_mask_differs),                                          \
        cmocka_unit_test(test_quote_verify_flip_every_bit_msg),                                    \
        cmocka_unit_test(test_quote_verify_flip_every_bit_sig),                                    \
        cmocka_unit_test(test_quote_verify_truncated_msg),                                         \
        cmocka_unit_test(test_quote_verify_truncated_sig),                                         \
        cmocka_unit_test(test_quote_verify_truncated_ak),                                          \
        cmocka_unit_test(test_quote_verify_swapped_inputs),                                        \
        cmocka_unit_test(test_quote_verify_null_args),                                             \
        cmocka_unit_test(test_quote_verify_why_truncated),                                         \
        cmocka_unit_test(test_tpm_public_name_matches_tpm),                                        \
        cmocka_unit_test(test_tpm_public_name_bad_args),                                           \
        cmocka_unit_test(test_tpm_public_to_pem_matches_tools),                                    \
        cmocka_unit_test(test_tpm_public_check_ak),                                                \
        cmocka_unit_test(test_tpm_public_check_ak_attributes)

int main(void)
{
    const struct CMUnitTest tests[] = {QUOTE_TESTS};
    const struct CMUnitTest once[] = {cmocka_unit_test(test_quote_verify_rsapss),
                                      cmocka_unit_test(test_quote_fuzz_seed_is_current)};
    int failed = 0;

    /* tss2-mu logs every malformed input; thousands of mutations would flood the output. */
    (void)setenv("TSS2_LOG", "all+none", 0);
    failed += cmocka_run_group_tests_name("quote-ecc", tests, setup_ecc, teardown);
    failed += cmocka_run_group_tests_name("quote-rsa", tests, setup_rsa, teardown);
    failed += cmocka_run_group_tests_name("quote-data", once, setup_ecc, teardown);
    return failed;
}
