/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Issue 6, figure 1: the agent's measurement path against the machine's own
 * SHA-256 limit. Ours is att_sha256_fd() on a page-cached file and
 * att_sha256() on buffers; the limit is OpenSSL EVP_Digest* called here
 * directly on the same bytes. Both run interleaved in one process, best of
 * several rounds each, so clock drift hits both sides alike. Second figure:
 * many small files hashed on 2 threads vs 1. Beside the file figure, an
 * anchor: EVP over the file's page-cache pages mapped in (mmap), the best a
 * file can be hashed here without a copy, against the same in-memory limit.
 *
 * Usage: bench_hash [--quick] [--json FILE]
 * The OpenSSL calls here are the yardstick, not product code (STYLE §5 keeps
 * product OpenSSL calls in common/src/crypto/).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "attest/digest.h"
#include "report.h"

#define MIB ((size_t)1024 * 1024)

struct cfg {
    bool is_quick;
    const char *json;
    size_t big_len; /* large-data figure */
    size_t n_files; /* many-files figure */
    size_t file_len;
    int rounds;       /* interleaved rounds per figure */
    double min_round; /* seconds each side spends per round */
};

/* One result row on stdout and, with --json, one JSON line appended. */
static bool report(const struct cfg *c, const char *figure, const char *unit, double ours,
                   double limit, double ratio, const char *op, double target)
{
    return bench_report("hash", c->is_quick, c->json, figure, unit, ours, limit, ratio, op, target);
}

static void fill(uint8_t *p, size_t len, uint64_t seed)
{
    uint64_t x = seed | 1u;

    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)x;
    }
}

static bool write_file(const char *path, const uint8_t *p, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t off = 0;

    if (fd < 0) {
        return false;
    }
    while (off < len) {
        ssize_t n = write(fd, p + off, len - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            (void)close(fd);
            return false;
        }
        off += (size_t)n;
    }
    return close(fd) == 0;
}

/* The limit: what OpenSSL alone does with the same bytes. */
static bool evp_sha256(const uint8_t *p, size_t len, uint8_t out[ATT_SHA256_LEN])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool is_ok = false;

    if (ctx == NULL) {
        return false;
    }
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(ctx, p, len) == 1 &&
        EVP_DigestFinal_ex(ctx, out, NULL) == 1) {
        is_ok = true;
    }
    EVP_MD_CTX_free(ctx);
    return is_ok;
}

/* ---- large data, single thread ---------------------------------------- */

enum big_kind { BIG_OURS_FD, BIG_OURS_BUF, BIG_EVP, BIG_MMAP };

struct big {
    int fd;
    const uint8_t *buf;
    size_t len; /* bytes per call */
    size_t n;   /* calls = total / len; buffer chunks walk through buf */
};

/* Hash big->n pieces of big->len bytes each; returns bytes hashed or 0 on error. */
static size_t big_once(const struct big *b, enum big_kind k, uint8_t out[ATT_SHA256_LEN])
{
    size_t done = 0;

    for (size_t i = 0; i < b->n; i++) {
        const uint8_t *p = b->buf + i * b->len;
        bool is_ok = false;

        if (k == BIG_OURS_FD) {
            is_ok = lseek(b->fd, 0, SEEK_SET) == 0 && att_sha256_fd(b->fd, out) == ATT_OK;
        } else if (k == BIG_MMAP) {
            void *m = mmap(NULL, b->len, PROT_READ, MAP_PRIVATE, b->fd, 0);

            is_ok = m != MAP_FAILED && evp_sha256(m, b->len, out);
            if (m != MAP_FAILED) {
                (void)munmap(m, b->len);
            }
        } else if (k == BIG_OURS_BUF) {
            is_ok = att_sha256(p, b->len, out) == ATT_OK;
        } else {
            is_ok = evp_sha256(p, b->len, out);
        }
        if (!is_ok) {
            return 0;
        }
        done += b->len;
    }
    return done;
}

/* Best rate (MiB/s) of kind @p k over rounds; ours and limit are called alternately by caller. */
static double big_round(const struct cfg *c, const struct big *b, enum big_kind k)
{
    double t0 = bench_now();
    double t;
    size_t bytes = 0;
    uint8_t out[ATT_SHA256_LEN];

    do {
        size_t n = big_once(b, k, out);
        if (n == 0) {
            fprintf(stderr, "bench_hash: hashing failed\n");
            exit(2);
        }
        bytes += n;
        t = bench_now() - t0;
    } while (t < c->min_round);
    return (double)bytes / (double)MIB / t;
}

static void pair(const struct cfg *c, const struct big *ours, enum big_kind ok,
                 const struct big *lim, double *best_ours, double *best_lim)
{
    *best_ours = 0;
    *best_lim = 0;
    for (int r = 0; r < c->rounds; r++) {
        double a = big_round(c, ours, ok);
        double b = big_round(c, lim, BIG_EVP);
        *best_ours = a > *best_ours ? a : *best_ours;
        *best_lim = b > *best_lim ? b : *best_lim;
    }
}

/* ---- many files, 1 vs 2 threads ---------------------------------------- */

struct files {
    char dir[64];
    size_t n;
    atomic_size_t next;
    atomic_int failed;
};

static void file_path(const struct files *f, size_t i, char *path, size_t len)
{
    (void)snprintf(path, len, "%s/f%05zu", f->dir, i);
}

static void *files_worker(void *arg)
{
    struct files *f = arg;
    uint8_t out[ATT_SHA256_LEN];
    char path[96];

    for (;;) {
        size_t i = atomic_fetch_add(&f->next, 1);
        if (i >= f->n) {
            break;
        }
        file_path(f, i, path, sizeof(path));
        if (att_sha256_file(path, out) != ATT_OK) {
            atomic_store(&f->failed, 1);
        }
    }
    return NULL;
}

/* Seconds to hash all files once with @p threads threads. */
static double files_pass(struct files *f, int threads)
{
    pthread_t tid[8];
    double t0 = bench_now();

    atomic_store(&f->next, 0);
    for (int i = 1; i < threads; i++) {
        if (pthread_create(&tid[i], NULL, files_worker, f) != 0) {
            fprintf(stderr, "bench_hash: pthread_create failed\n");
            exit(2);
        }
    }
    (void)files_worker(f);
    for (int i = 1; i < threads; i++) {
        (void)pthread_join(tid[i], NULL);
    }
    if (atomic_load(&f->failed) != 0) {
        fprintf(stderr, "bench_hash: file hashing failed\n");
        exit(2);
    }
    return bench_now() - t0;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_hash [--quick] [--json FILE]\n");
}

int main(int argc, char **argv)
{
    struct cfg c = {false, NULL, 256 * MIB, 2000, 64 * 1024, 3, 0.25};
    char big_path[64];
    uint8_t *data = NULL;
    int fd = -1;
    int fails = 0;
    struct files fl;
    char path[96];
    double ours;
    double lim;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            c.is_quick = true;
        } else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            c.json = argv[++i];
        } else {
            usage();
            return 2;
        }
    }
    if (c.is_quick) {
        c.big_len = 16 * MIB;
        c.n_files = 200;
        c.rounds = 1;
        c.min_round = 0.02;
    }

    data = malloc(c.big_len);
    if (data == NULL) {
        fprintf(stderr, "bench_hash: out of memory\n");
        return 2;
    }
    fill(data, c.big_len, 0x9e3779b97f4a7c15u);
    (void)snprintf(big_path, sizeof(big_path), "/tmp/att-bench-hash.%ld", (long)getpid());
    if (!write_file(big_path, data, c.big_len)) {
        fprintf(stderr, "bench_hash: cannot write %s\n", big_path);
        free(data);
        return 2;
    }
    fd = open(big_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "bench_hash: cannot open %s\n", big_path);
        (void)unlink(big_path);
        free(data);
        return 2;
    }

    printf("%-34s | %12s | %12s | %6s | %-7s | %s\n", "figure", "ours", "limit", "ratio", "target",
           "pass/miss");
    {
        /* File path: one whole-file att_sha256_fd() vs EVP over the same bytes in memory. */
        struct big ofd = {fd, data, c.big_len, 1};
        struct big evp = {-1, data, c.big_len, 1};
        uint8_t a[ATT_SHA256_LEN];
        uint8_t b[ATT_SHA256_LEN];

        if (big_once(&ofd, BIG_OURS_FD, a) == 0 || !evp_sha256(data, c.big_len, b) ||
            memcmp(a, b, sizeof(a)) != 0) {
            fprintf(stderr, "bench_hash: att_sha256_fd disagrees with EVP\n");
            fails++;
        }
        pair(&c, &ofd, BIG_OURS_FD, &evp, &ours, &lim);
        (void)report(&c, c.is_quick ? "sha256 file 16MiB (fd)" : "sha256 file 256MiB (fd)", "MiB/s",
                     ours, lim, ours / lim, ">=", 0.9);
        pair(&c, &ofd, BIG_MMAP, &evp, &ours, &lim);
        (void)report(&c, "  anchor: EVP over the file mmap'ed", "MiB/s", ours, lim, ours / lim, "",
                     0.0);
    }
    {
        static const size_t sizes[] = {0, 65536, 64};
        static const char *const names[] = {"sha256 buffer (whole)", "sha256 buffer 64KiB",
                                            "sha256 buffer 64B"};
        for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
            size_t len = sizes[s] == 0 ? c.big_len : sizes[s];
            /* Small buffers: walk 16 MiB so the data is the same for both sides. */
            size_t n = sizes[s] == 0 ? 1 : (16 * MIB < c.big_len ? 16 * MIB : c.big_len) / len;
            struct big obuf = {-1, data, len, n};
            struct big evp = {-1, data, len, n};

            pair(&c, &obuf, BIG_OURS_BUF, &evp, &ours, &lim);
            (void)report(&c, names[s], "MiB/s", ours, lim, ours / lim, ">=", 0.9);
        }
    }
    (void)close(fd);
    (void)unlink(big_path);

    /* Many files. */
    memset(&fl, 0, sizeof(fl));
    (void)snprintf(fl.dir, sizeof(fl.dir), "/tmp/att-bench-files.%ld", (long)getpid());
    if (mkdir(fl.dir, 0700) != 0) {
        fprintf(stderr, "bench_hash: mkdir %s: %s\n", fl.dir, strerror(errno));
        free(data);
        return 2;
    }
    fl.n = c.n_files;
    for (size_t i = 0; i < fl.n; i++) {
        file_path(&fl, i, path, sizeof(path));
        if (!write_file(path, data + (i * c.file_len) % (c.big_len - c.file_len), c.file_len)) {
            fprintf(stderr, "bench_hash: cannot write %s\n", path);
            fl.n = i;
            fails++;
            break;
        }
    }
    {
        double t1 = 1e30;
        double t2 = 1e30;
        double mib = (double)(fl.n * c.file_len) / (double)MIB;

        (void)files_pass(&fl, 1); /* warm the page cache and dentries */
        for (int r = 0; r < c.rounds * 2; r++) {
            double a = files_pass(&fl, 1);
            double b = files_pass(&fl, 2);
            t1 = a < t1 ? a : t1;
            t2 = b < t2 ? b : t2;
        }
        /* ours = 2-thread rate, limit = 1-thread rate; the ratio is the speedup. */
        (void)report(&c, "files 64KiB x N: 2 thr vs 1 thr", "MiB/s", mib / t2, mib / t1, t1 / t2,
                     ">=", 1.7);
    }
    for (size_t i = 0; i < fl.n; i++) {
        file_path(&fl, i, path, sizeof(path));
        (void)unlink(path);
    }
    (void)rmdir(fl.dir);
    free(data);
    return fails == 0 ? 0 : 1;
}
