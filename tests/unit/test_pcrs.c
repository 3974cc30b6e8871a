/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PCR sets: count, the quote's pcrDigest, and the two file renderings.
 * The tpm2-tools encoding is checked byte for byte against what
 * `tpm2_quote -o` wrote for the swtpm quotes in tests/data/quote-{ecc,rsa}/,
 * and, when tpm2_checkquote is installed, end to end: our file must make
 * tpm2_checkquote accept the real quote, and a tampered one must not.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attest/buf.h"
#include "attest/digest.h"
#include "attest/pcrs.h"
#include "attest/util.h"

extern char **environ;

#define FILE_MAX     (64u * 1024u)
#define PARTIAL_MASK 0x0084ffu /* PCRs 0-7, 10, 15: make-quote-data.sh PARTIAL */

/* Sizes of tpm2-tools' serialized layout (docs/internals/quote.md). */
#define TT_SEL_LEN  132u
#define TT_LIST_LEN 532u

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

/* pcrs.txt: 24 lines "NN <64 hex>", in order. */
static void load_pcrs(const char *alg, struct att_pcrs *p)
{
    struct att_buf b;
    const char *line;
    unsigned i;

    memset(p, 0, sizeof(*p));
    assert_int_equal(load(alg, "pcrs.txt", &b), 0);
    assert_int_equal(b.len, ATT_PCR_COUNT * (3 + 2 * ATT_SHA256_LEN + 1));
    line = (const char *)b.data;
    for (i = 0; i < ATT_PCR_COUNT; i++) {
        char hex[2 * ATT_SHA256_LEN + 1];
        char idx[3];

        assert_int_equal(snprintf(idx, sizeof(idx), "%02u", i), 2);
        assert_memory_equal(line, idx, 2);
        memcpy(hex, line + 3, 2 * ATT_SHA256_LEN);
        hex[2 * ATT_SHA256_LEN] = '\0';
        assert_int_equal(att_hex_decode(hex, p->value[i], ATT_SHA256_LEN), ATT_OK);
        line += 3 + 2 * ATT_SHA256_LEN + 1;
    }
    p->mask = ATT_PCR_ALL_MASK;
    att_buf_cleanup(&b);
}

static void test_pcrs_count(void **state)
{
    (void)state;
    assert_int_equal(att_pcrs_count(0), 0);
    assert_int_equal(att_pcrs_count(1), 1);
    assert_int_equal(att_pcrs_count(ATT_PCR_ALL_MASK), 24);
    assert_int_equal(att_pcrs_count(PARTIAL_MASK), 10);
    assert_int_equal(att_pcrs_count(0xff000000u), 0); /* only 0..23 exist */
    assert_int_equal(att_pcrs_count(0xffffffffu), 24);
}

/*
 * TPMS_QUOTE_INFO.pcrDigest is the last field of a quote's TPMS_ATTEST, so
 * its final 32 bytes are what the TPM computed: an independent reference.
 */
static void check_digest_against_quote(const char *alg, const char *msg_file, uint32_t mask)
{
    struct att_pcrs p;
    struct att_buf msg;
    uint8_t d[ATT_SHA256_LEN];

    load_pcrs(alg, &p);
    p.mask = mask;
    assert_int_equal(load(alg, msg_file, &msg), 0);
    assert_int_equal(att_pcrs_digest(&p, d), ATT_OK);
    assert_memory_equal(d, msg.data + msg.len - ATT_SHA256_LEN, ATT_SHA256_LEN);
    att_buf_cleanup(&msg);
}

static void test_pcrs_digest_matches_tpm(void **state)
{
    (void)state;
    check_digest_against_quote("ecc", "quote.msg", ATT_PCR_ALL_MASK);
    check_digest_against_quote("rsa", "quote.msg", ATT_PCR_ALL_MASK);
    check_digest_against_quote("ecc", "partial.msg", PARTIAL_MASK);
    check_digest_against_quote("rsa", "partial.msg", PARTIAL_MASK);
}

static void test_pcrs_digest_known_values(void **state)
{
    static const char empty[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    static const char zero32[] = "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925";
    struct att_pcrs p;
    uint8_t d[ATT_SHA256_LEN];
    uint8_t want[ATT_SHA256_LEN];
    uint8_t one[2 * ATT_SHA256_LEN];

    (void)state;
    memset(&p, 0, sizeof(p));
    assert_int_equal(att_pcrs_digest(&p, d), ATT_OK); /* nothing selected */
    assert_int_equal(att_hex_decode(empty, want, sizeof(want)), ATT_OK);
    assert_memory_equal(d, want, sizeof(want));

    p.mask = 1u << 7;
    assert_int_equal(att_pcrs_digest(&p, d), ATT_OK);
    assert_int_equal(att_hex_decode(zero32, want, sizeof(want)), ATT_OK);
    assert_memory_equal(d, want, sizeof(want));

    /* Ascending index order, whatever the values. */
    memset(p.value[3], 0xaa, ATT_SHA256_LEN);
    memset(p.value[20], 0x55, ATT_SHA256_LEN);
    p.mask = (1u << 20) | (1u << 3);
    memcpy(one, p.value[3], ATT_SHA256_LEN);
    memcpy(one + ATT_SHA256_LEN, p.value[20], ATT_SHA256_LEN);
    assert_int_equal(att_sha256(one, sizeof(one), want), ATT_OK);
    assert_int_equal(att_pcrs_digest(&p, d), ATT_OK);
    assert_memory_equal(d, want, sizeof(want));
}

static void test_pcrs_digest_bad_args(void **state)
{
    struct att_pcrs p;
    uint8_t d[ATT_SHA256_LEN];

    (void)state;
    memset(&p, 0, sizeof(p));
    assert_int_equal(att_pcrs_digest(NULL, d), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_pcrs_digest(&p, NULL), ATT_ERR_INVALID_ARG);
    p.mask = 1u << 24;
    assert_int_equal(att_pcrs_digest(&p, d), ATT_ERR_INVALID_ARG);
}

static void check_tpm2tools_equal(const char *alg, const char *pcrs_file, uint32_t mask)
{
    struct att_pcrs p;
    struct att_buf want;
    struct att_buf got;

    load_pcrs(alg, &p);
    p.mask = mask;
    assert_int_equal(load(alg, pcrs_file, &want), 0);
    att_buf_init(&got, FILE_MAX);
    assert_int_equal(att_pcrs_encode_tpm2tools(&p, &got), ATT_OK);
    assert_int_equal(got.len, want.len);
    assert_memory_equal(got.data, want.data, want.len);
    att_buf_cleanup(&got);
    att_buf_cleanup(&want);
}

static void test_pcrs_tpm2tools_matches_tpm2_quote(void **state)
{
    (void)state;
    check_tpm2tools_equal("ecc", "quote.pcrs", ATT_PCR_ALL_MASK);
    check_tpm2tools_equal("rsa", "quote.pcrs", ATT_PCR_ALL_MASK);
    check_tpm2tools_equal("ecc", "partial.pcrs", PARTIAL_MASK);
    check_tpm2tools_equal("rsa", "partial.pcrs", PARTIAL_MASK);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Lists of 8 digests: 1 PCR -> one list of 1; 9 -> 8 + 1; 16 -> 8 + 8; 17 -> 8 + 8 + 1. */
static void test_pcrs_tpm2tools_list_split(void **state)
{
    static const struct {
        uint32_t mask;
        uint32_t lists;
        uint32_t last;
    } cases[] = {
        {0x000001u, 1, 1}, {0x800000u, 1, 1}, {0x0001ffu, 2, 1}, {0x00ffffu, 2, 8},
        {0x01ffffu, 3, 1}, {0xffffffu, 3, 8}, {0x0000ffu, 1, 8}, {0x808080u, 1, 3},
    };
    struct att_pcrs p;
    struct att_buf b;
    size_t i;

    (void)state;
    memset(&p, 0, sizeof(p));
    for (i = 0; i < ATT_PCR_COUNT; i++) {
        memset(p.value[i], (int)(i + 1), ATT_SHA256_LEN);
    }
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const uint8_t *list;
        const uint8_t *slot;
        unsigned pcr;
        unsigned k = 0;

        p.mask = cases[i].mask;
        att_buf_init(&b, FILE_MAX);
        assert_int_equal(att_pcrs_encode_tpm2tools(&p, &b), ATT_OK);
        assert_int_equal(b.len, TT_SEL_LEN + 4 + cases[i].lists * TT_LIST_LEN);
        assert_int_equal(le32(b.data), 1);                    /* one selection */
        assert_int_equal(b.data[4] | b.data[5] << 8, 0x000b); /* sha256 */
        assert_int_equal(b.data[6], 3);
        assert_int_equal(b.data[7] | b.data[8] << 8 | b.data[9] << 16, (int)cases[i].mask);
        assert_int_equal(le32(b.data + TT_SEL_LEN), cases[i].lists);
        list = b.data + TT_SEL_LEN + 4 + (cases[i].lists - 1) * TT_LIST_LEN;
        assert_int_equal(le32(list), cases[i].last);
        /* Values in ascending PCR order, each size 32. */
        for (pcr = 0; pcr < ATT_PCR_COUNT; pcr++) {
            if ((p.mask & (1u << pcr)) == 0) {
                continue;
            }
            list = b.data + TT_SEL_LEN + 4 + (k / 8) * TT_LIST_LEN;
            slot = list + 4 + (k % 8) * 66u;
            assert_int_equal(slot[0] | slot[1] << 8, ATT_SHA256_LEN);
            assert_memory_equal(slot + 2, p.value[pcr], ATT_SHA256_LEN);
            k++;
        }
        att_buf_cleanup(&b);
    }
}

static void test_pcrs_tpm2tools_bad_args(void **state)
{
    struct att_pcrs p;
    struct att_buf b;

    (void)state;
    memset(&p, 0, sizeof(p));
    att_buf_init(&b, FILE_MAX);
    assert_int_equal(att_pcrs_encode_tpm2tools(&p, &b), ATT_ERR_INVALID_ARG); /* empty */
    p.mask = ATT_PCR_ALL_MASK | (1u << 24);
    assert_int_equal(att_pcrs_encode_tpm2tools(&p, &b), ATT_ERR_INVALID_ARG);
    p.mask = 1;
    assert_int_equal(att_pcrs_encode_tpm2tools(NULL, &b), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_pcrs_encode_tpm2tools(&p, NULL), ATT_ERR_INVALID_ARG);
    assert_int_equal(b.len, 0);
    att_buf_cleanup(&b);

    /* A buffer too small for the file is left untouched (all or nothing). */
    att_buf_init(&b, 100);
    assert_int_equal(att_buf_append_str(&b, "keep"), ATT_OK);
    assert_int_equal(att_pcrs_encode_tpm2tools(&p, &b), ATT_ERR_PARSE);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "keep", 4);
    att_buf_cleanup(&b);
}

static void test_pcrs_evmctl_format(void **state)
{
    struct att_pcrs p;
    struct att_buf b;
    char line[128];
    char hex[2 * ATT_SHA256_LEN + 1];
    unsigned i;
    size_t off = 0;

    (void)state;
    load_pcrs("ecc", &p);
    att_buf_init(&b, FILE_MAX);
    assert_int_equal(att_pcrs_encode_evmctl(&p, &b), ATT_OK);
    assert_int_equal(b.len, ATT_PCR_COUNT * (8 + 64 + 1));
    for (i = 0; i < ATT_PCR_COUNT; i++) {
        int n;

        att_hex_encode(p.value[i], ATT_SHA256_LEN, hex);
        n = snprintf(line, sizeof(line), "PCR-%02u: %s\n", i, hex);
        assert_int_equal(n, 73);
        assert_memory_equal(b.data + off, line, (size_t)n);
        off += (size_t)n;
    }
    /* PCR 15 is the extended one; spot-check it literally. */
    assert_non_null(strstr((const char *)b.data, "\nPCR-15: "));
    assert_null(strstr((const char *)b.data, "PCR-24"));
    att_buf_cleanup(&b);
}

static void test_pcrs_evmctl_needs_all(void **state)
{
    struct att_pcrs p;
    struct att_buf b;
    unsigned i;

    (void)state;
    load_pcrs("ecc", &p);
    att_buf_init(&b, FILE_MAX);
    for (i = 0; i < ATT_PCR_COUNT; i++) {
        p.mask = ATT_PCR_ALL_MASK & ~(1u << i);
        assert_int_equal(att_pcrs_encode_evmctl(&p, &b), ATT_ERR_INVALID_ARG);
    }
    p.mask = ATT_PCR_ALL_MASK | (1u << 24);
    assert_int_equal(att_pcrs_encode_evmctl(&p, &b), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_pcrs_encode_evmctl(NULL, &b), ATT_ERR_INVALID_ARG);
    p.mask = ATT_PCR_ALL_MASK;
    assert_int_equal(att_pcrs_encode_evmctl(&p, NULL), ATT_ERR_INVALID_ARG);
    assert_int_equal(b.len, 0);
    att_buf_cleanup(&b);
}

/*
 * Run argv (argv[0] looked up in PATH) with stdout and stderr on /dev/null;
 * returns its exit status, -2 when the program is not installed, -1 on any
 * other failure.
 */
static int run(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int status = 0;
    int err;

    if (posix_spawn_file_actions_init(&fa) != 0) {
        return -1;
    }
    if (posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0) != 0 ||
        posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return -1;
    }
    err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err == ENOENT) {
        return -2;
    }
    if (err != 0) {
        return -1;
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Write our encoding of alg's PCRs (mask, optionally with PCR 15 altered) to
 * a temp file and let tpm2_checkquote judge it with the stored quote.
 */
static int checkquote(const char *alg, const char *msg, const char *sig, uint32_t mask, bool tamper)
{
    char tmpl[] = "/tmp/att-test-pcrs-XXXXXX";
    char dir[1024];
    char pem[1200];
    char msgp[1200];
    char sigp[1200];
    char nonce[2 * 32 + 2];
    struct att_pcrs p;
    struct att_buf enc;
    struct att_buf nb;
    int fd;
    int rc;

    load_pcrs(alg, &p);
    p.mask = mask;
    if (tamper) {
        p.value[15][0] ^= 1;
    }
    att_buf_init(&enc, FILE_MAX);
    assert_int_equal(att_pcrs_encode_tpm2tools(&p, &enc), ATT_OK);
    fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, enc.data, enc.len), (ssize_t)enc.len);
    assert_int_equal(close(fd), 0);
    att_buf_cleanup(&enc);

    assert_int_equal(load(alg, "nonce.hex", &nb), 0);
    assert_int_equal(nb.len, 65);
    memcpy(nonce, nb.data, 64);
    nonce[64] = '\0';
    att_buf_cleanup(&nb);

    assert_true(snprintf(dir, sizeof(dir), "%s/quote-%s", ATT_TEST_DATA_DIR, alg) <
                (int)sizeof(dir));
    assert_true(snprintf(pem, sizeof(pem), "%s/ak.pub.pem.expected", dir) < (int)sizeof(pem));
    assert_true(snprintf(msgp, sizeof(msgp), "%s/%s", dir, msg) < (int)sizeof(msgp));
    assert_true(snprintf(sigp, sizeof(sigp), "%s/%s", dir, sig) < (int)sizeof(sigp));
    {
        /* Writable copies: argv is char *const[], and literals are const here. */
        char tool[] = "tpm2_checkquote";
        char o_u[] = "-u";
        char o_m[] = "-m";
        char o_s[] = "-s";
        char o_f[] = "-f";
        char o_q[] = "-q";
        char o_g[] = "-g";
        char sha256[] = "sha256";
        char *const argv[] = {tool, o_u,  pem, o_m,   msgp, o_s,    sigp,
                              o_f,  tmpl, o_q, nonce, o_g,  sha256, NULL};

        rc = run(argv);
    }
    (void)unlink(tmpl);
    return rc;
}

static void test_pcrs_tpm2tools_accepted_by_checkquote(void **state)
{
    int rc;

    (void)state;
    rc = checkquote("ecc", "quote.msg", "quote.sig", ATT_PCR_ALL_MASK, false);
    if (rc == -2) {
        skip(); /* tpm2-tools not installed */
    }
    assert_int_equal(rc, 0);
    assert_int_equal(checkquote("rsa", "quote.msg", "quote.sig", ATT_PCR_ALL_MASK, false), 0);
    assert_int_equal(checkquote("ecc", "partial.msg", "partial.sig", PARTIAL_MASK, false), 0);
    assert_int_equal(checkquote("rsa", "partial.msg", "partial.sig", PARTIAL_MASK, false), 0);
    /* The tool really reads our file: one altered value and it says no. */
    rc = checkquote("ecc", "quote.msg", "quote.sig", ATT_PCR_ALL_MASK, true);
    assert_true(rc > 0);
    rc = checkquote("rsa", "partial.msg", "partial.sig", PARTIAL_MASK, true);
    assert_true(rc > 0);
}

/* Which PCRs may hold measurements: the agent's --pcr and the verifier's check are this rule. */
static void test_pcr_meas_allowed(void **state)
{
    char why[256] = "";
    uint32_t pcr;

    (void)state;
    for (pcr = 0; pcr < 30; pcr++) {
        bool want = (pcr >= 8 && pcr <= 15 && pcr != 10);

        why[0] = '\0';
        assert_int_equal(att_pcr_meas_allowed(pcr, why, sizeof(why)), want);
        assert_true(want || why[0] != '\0');
    }
    (void)att_pcr_meas_allowed(16, why, sizeof(why));
    assert_non_null(strstr(why, "PCR 16 is the debug PCR"));
    (void)att_pcr_meas_allowed(23, why, sizeof(why));
    assert_non_null(strstr(why, "application-resettable"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pcrs_count),
        cmocka_unit_test(test_pcr_meas_allowed),
        cmocka_unit_test(test_pcrs_digest_matches_tpm),
        cmocka_unit_test(test_pcrs_digest_known_values),
        cmocka_unit_test(test_pcrs_digest_bad_args),
        cmocka_unit_test(test_pcrs_tpm2tools_matches_tpm2_quote),
        cmocka_unit_test(test_pcrs_tpm2tools_list_split),
        cmocka_unit_test(test_pcrs_tpm2tools_bad_args),
        cmocka_unit_test(test_pcrs_evmctl_format),
        cmocka_unit_test(test_pcrs_evmctl_needs_all),
        cmocka_unit_test(test_pcrs_tpm2tools_accepted_by_checkquote),
    };

    return cmocka_run_group_tests_name("pcrs", tests, NULL, NULL);
}
