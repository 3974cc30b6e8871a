/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Issue 6, figure 3: measurement-log appraisal throughput on one core and
 * incremental cost. A 100,000-path policy (att_policy_add) and one ima-ng
 * record per path (att_ima_entry_build_ng + att_ima_entry_encode) are built;
 * then parse (att_ima_log_parse) + template-hash check and PCR replay
 * (att_ima_replay) + policy lookup (att_appraise_entries) are timed together
 * and per stage. Incremental: the verifier keeps the PCR value and entry
 * offset, so appraising 100 new records after a 1,000,000-record log must cost
 * the same as after a 1,000-record log.
 *
 * Usage: bench_log [--quick] [--json FILE]
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attest/appraise.h"
#include "attest/buf.h"
#include "attest/digest.h"
#include "attest/imalog.h"
#include "attest/policy.h"
#include "report.h"

#define MEAS_PCR 10u
#define NEW_ENTRIES 100u

struct cfg {
    bool is_quick;
    const char *json;
    size_t n_policy;  /* paths in the policy = records in the throughput log */
    size_t long_log;  /* "after a 1,000,000-entry log" */
    size_t short_log; /* "after a 1,000-entry log" */
    int rounds;
    int inc_reps;
};


static void report(const struct cfg *c, const char *figure, const char *unit, double ours,
                   double limit, double ratio, const char *op, double target)
{
    (void)bench_report("log", c->is_quick, c->json, figure, unit, ours, limit, ratio, op,
                        target);
}

static void die(const char *what)
{
    fprintf(stderr, "bench_log: %s failed\n", what);
    exit(2);
}

/* Zero-padded so that generation order is strcmp order: policy appends never move refs. */
static void path_of(size_t i, char *out, size_t len)
{
    (void)snprintf(out, len, "/usr/lib/bench/d%03zu/lib%07zu.so.1", i / 1000, i);
}

static void digest_of(size_t i, uint8_t out[ATT_SHA256_LEN])
{
    uint64_t x = (uint64_t)i * 0x9e3779b97f4a7c15u + 1;

    for (size_t k = 0; k < ATT_SHA256_LEN; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out[k] = (uint8_t)x;
    }
}

struct stage_t {
    double parse, replay, appraise;
};

/*
 * Full pipeline over @p buf (all records, starting at entry @p offset with PCR
 * value @p pcr_start). Adds per-stage seconds to @p st and leaves the replayed
 * value in @p pcr_end. Aborts on any error or finding: the bench data is
 * all-allowed, so a finding means the bench measured the wrong thing.
 */
static void pipeline(const uint8_t *buf, size_t len, size_t max, uint64_t offset,
                     const uint8_t pcr_start[ATT_SHA256_LEN], const struct att_policy *pol,
                     struct stage_t *st, uint8_t pcr_end[ATT_SHA256_LEN], size_t *n_out)
{
    struct att_ima_log log;
    struct att_appraisal a;
    size_t bad = 0;
    double t0;
    double t1;
    double t2;
    double t3;
    char why[256];

    att_ima_log_init(&log);
    att_appraisal_init(&a);
    memcpy(pcr_end, pcr_start, ATT_SHA256_LEN);
    t0 = bench_now();
    if (att_ima_log_parse(buf, len, max, &log, why, sizeof(why)) != ATT_OK) {
        fprintf(stderr, "bench_log: parse: %s\n", why);
        die("att_ima_log_parse");
    }
    t1 = bench_now();
    if (att_ima_replay(log.entries, log.count, MEAS_PCR, pcr_end, &bad) != ATT_OK) {
        die("att_ima_replay");
    }
    t2 = bench_now();
    if (att_appraise_entries(log.entries, log.count, offset, pol, &a) != ATT_OK) {
        die("att_appraise_entries");
    }
    t3 = bench_now();
    if (a.n_findings != 0 || a.entries_appraised != log.count) {
        fprintf(stderr, "bench_log: unexpected finding: %s\n",
                a.n_findings > 0 ? a.findings[0].code : "count");
        exit(2);
    }
    st->parse += t1 - t0;
    st->replay += t2 - t1;
    st->appraise += t3 - t2;
    *n_out = log.count;
    att_appraisal_cleanup(&a);
    att_ima_log_cleanup(&log);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Median seconds of @p reps incremental steps: 100 records at @p tail after @p offset records. */
static double incremental(const struct cfg *c, const uint8_t *tail, size_t tail_len,
                          uint64_t offset, const uint8_t pcr[ATT_SHA256_LEN],
                          const struct att_policy *pol, double *samples)
{
    uint8_t end[ATT_SHA256_LEN];
    struct stage_t st;
    size_t n = 0;

    for (int r = 0; r < c->inc_reps; r++) {
        double t0 = bench_now();
        memset(&st, 0, sizeof(st));
        pipeline(tail, tail_len, NEW_ENTRIES, offset, pcr, pol, &st, end, &n);
        samples[r] = bench_now() - t0;
        if (n != NEW_ENTRIES) {
            die("incremental record count");
        }
    }
    qsort(samples, (size_t)c->inc_reps, sizeof(double), cmp_double);
    return samples[c->inc_reps / 2];
}

int main(int argc, char **argv)
{
    struct cfg c = {false, NULL, 100000, 1000000, 1000, 3, 500};
    struct att_policy *pol = NULL;
    struct att_buf block; /* one record per policy path, in order */
    struct att_buf big;   /* the long log followed by the 100 new records */
    struct att_buf small; /* the short log followed by the same 100 new records */
    size_t *rec_off = NULL; /* byte offset of record i in block, i <= n_policy */
    uint8_t zero[ATT_SHA256_LEN] = {0};
    uint8_t pcr_long[ATT_SHA256_LEN];
    uint8_t pcr_short[ATT_SHA256_LEN];
    uint8_t end[ATT_SHA256_LEN];
    char path[128];
    char name[160];
    double t0;
    double *samples = NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            c.is_quick = true;
        } else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            c.json = argv[++i];
        } else {
            fprintf(stderr, "usage: bench_log [--quick] [--json FILE]\n");
            return 2;
        }
    }
    if (c.is_quick) {
        c.n_policy = 5000;
        c.long_log = 20000;
        c.rounds = 1;
        c.inc_reps = 21;
    }
    att_buf_init(&block, SIZE_MAX);
    att_buf_init(&big, SIZE_MAX);
    att_buf_init(&small, SIZE_MAX);
    pol = att_policy_new();
    rec_off = calloc(c.n_policy + 1, sizeof(*rec_off));
    samples = calloc((size_t)c.inc_reps, sizeof(*samples));
    if (pol == NULL || rec_off == NULL || samples == NULL) {
        die("allocation");
    }

    /* Policy and records. */
    t0 = bench_now();
    for (size_t i = 0; i < c.n_policy; i++) {
        uint8_t d[ATT_SHA256_LEN];
        path_of(i, path, sizeof(path));
        digest_of(i, d);
        if (att_policy_add(pol, path, d) != ATT_OK) {
            die("att_policy_add");
        }
    }
    printf("setup: policy of %zu paths built in %.3f s\n", c.n_policy, bench_now() - t0);
    t0 = bench_now();
    for (size_t i = 0; i < c.n_policy; i++) {
        struct att_ima_entry e;
        uint8_t d[ATT_SHA256_LEN];
        path_of(i, path, sizeof(path));
        digest_of(i, d);
        rec_off[i] = block.len;
        /* Host records are named "<scope>:<absolute path>" (appraise.c). */
        (void)snprintf(name, sizeof(name), "host:%s", path);
        if (att_ima_entry_build_ng(&e, MEAS_PCR, d, name) != ATT_OK) {
            die("att_ima_entry_build_ng");
        }
        if (att_ima_entry_encode(&e, &block) != ATT_OK) {
            die("att_ima_entry_encode");
        }
        att_ima_entry_cleanup(&e);
    }
    rec_off[c.n_policy] = block.len;
    printf("setup: %zu ima-ng records (%zu bytes) built in %.3f s\n", c.n_policy, block.len,
           bench_now() - t0);

    printf("%-34s | %12s | %12s | %6s | %-7s | %s\n", "figure", "ours", "limit", "ratio", "target",
           "pass/miss");

    /* Throughput: best of rounds, the whole pipeline on one thread. */
    {
        double best = 1e30;
        struct stage_t bst = {1e30, 1e30, 1e30};
        size_t n = 0;

        for (int r = 0; r < c.rounds; r++) {
            struct stage_t st = {0, 0, 0};
            pipeline(block.data, block.len, c.n_policy, 0, zero, pol, &st, end, &n);
            double t = st.parse + st.replay + st.appraise;
            if (t < best) {
                best = t;
                bst = st;
            }
        }
        report(&c, "log parse+replay+policy (1 core)", "entries/s", (double)n / best, 1e6,
               (double)n / best / 1e6, ">=", 1.0);
        report(&c, "  stage: att_ima_log_parse", "entries/s", (double)n / bst.parse, 1e6,
               (double)n / bst.parse / 1e6, "", 0);
        report(&c, "  stage: att_ima_replay", "entries/s", (double)n / bst.replay, 1e6,
               (double)n / bst.replay / 1e6, "", 0);
        report(&c, "  stage: att_appraise_entries", "entries/s", (double)n / bst.appraise, 1e6,
               (double)n / bst.appraise / 1e6, "", 0);
    }

    /*
     * Incremental. Records carry no index, so the long log is the block repeated
     * and its PCR value is the block's replay chained; the 100 new records are
     * records [0, 100) of the block again, appended after the prefix.
     */
    {
        size_t reps = c.long_log / c.n_policy;
        size_t tail_len = rec_off[NEW_ENTRIES];
        struct stage_t st = {0, 0, 0};
        size_t n = 0;
        double t_long;
        double t_short;

        t0 = bench_now();
        memcpy(pcr_long, zero, sizeof(zero));
        for (size_t r = 0; r < reps; r++) {
            if (att_buf_append(&big, block.data, block.len) != ATT_OK) {
                die("att_buf_append");
            }
            pipeline(block.data, block.len, c.n_policy, r * c.n_policy, pcr_long, pol, &st,
                     pcr_long, &n);
        }
        if (att_buf_append(&big, block.data, tail_len) != ATT_OK ||
            att_buf_append(&small, block.data, rec_off[c.short_log]) != ATT_OK ||
            att_buf_append(&small, block.data, tail_len) != ATT_OK) {
            die("att_buf_append");
        }
        memcpy(pcr_short, zero, sizeof(zero));
        pipeline(block.data, rec_off[c.short_log], c.short_log, 0, pcr_short, pol, &st, pcr_short,
                 &n);
        printf("setup: %zu-entry log (%zu bytes) replayed for its stored PCR in %.3f s\n",
               reps * c.n_policy, big.len, bench_now() - t0);

        /* Interleave so both see the same machine state; median of reps each. */
        t_long = 1e30;
        t_short = 1e30;
        for (int r = 0; r < c.rounds; r++) {
            double a = incremental(&c, big.data + reps * block.len, tail_len,
                                   (uint64_t)(reps * c.n_policy), pcr_long, pol, samples);
            double b = incremental(&c, small.data + rec_off[c.short_log], tail_len,
                                   (uint64_t)c.short_log, pcr_short, pol, samples);
            t_long = a < t_long ? a : t_long;
            t_short = b < t_short ? b : t_short;
        }
        {
            char fig[64];
            (void)snprintf(fig, sizeof(fig), "100 new after %zuk vs 1k (us)",
                           reps * c.n_policy / 1000);
            /* ours = after the long log, limit = after the short log; lower ratio is better. */
            report(&c, fig, "us per 100 entries", t_long * 1e6, t_short * 1e6, t_long / t_short,
                   "<=", 1.2);
        }
    }

    att_buf_cleanup(&block);
    att_buf_cleanup(&big);
    att_buf_cleanup(&small);
    att_policy_free(pol);
    free(rec_off);
    free(samples);
    return 0;
}
