/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* MADV_SEQUENTIAL */
/*
 * sha1/sha256 and randomness through OpenSSL (FIPS 180-4). Every OpenSSL
 * failure drains the error queue via att_log_openssl().
 *
 * Whole-buffer digests (att_sha256, att_sha1, att_sha256_2, PCR extends) use
 * OpenSSL's low-level SHA256_Init/SHA1_Init functions where the library still has
 * them: an IMA record is two 64-byte blocks, and EVP's provider dispatch
 * costs 40-90 ns per digest on top of ~110 ns of hashing (bench_log: three
 * digests per entry). They run the same assembly (SHA-NI) as EVP's default
 * provider; they bypass providers, so a FIPS-provider-only build must define
 * OPENSSL_NO_DEPRECATED_3_0, which selects the EVP path below. Streams
 * (att_sha256_fd) always go through EVP.
 *
 * att_sha256_fd hashes a regular file of 256 KiB or more from a read-only
 * mapping of the page cache instead of read()ing it: the read's copy out of
 * the page cache was 15% of the time (bench_hash). A file truncated while
 * mapped turns the next access past its end into SIGBUS; the agent hashes
 * files of running containers, which may do exactly that. So the hash runs
 * under a per-thread guard: a process-wide SIGBUS handler (checked before
 * each such hash, the previous disposition kept) jumps back out when the
 * fault is in the calling thread's armed range, and the call fails with
 * ATT_ERR_IO as a failed read would. Any other SIGBUS goes to the
 * previous handler. The context the jump leaves is freed, never reused.
 * Bytes past the mapped size (a file that grew) are read as before, so the
 * result is the file from the fd's offset to EOF either way.
 */
#include "attest/digest.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/opensslconf.h>
#include <openssl/rand.h>

/* ATT_DIGEST_EVP_ONLY: the EVP path even where the low-level one exists
 * (tests/CMakeLists.txt builds test_digest_evp with it, so both are tested). */
#if !defined(OPENSSL_NO_DEPRECATED_3_0) && !defined(ATT_DIGEST_EVP_ONLY)
#define ATT_SHA_LOWLEVEL 1
#include <openssl/sha.h>
#endif

#include "attest/log.h"
#include "crypto_int.h"

void att_log_openssl(const char *what)
{
    unsigned long e;
    char text[256];
    int logged = 0;

    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, text, sizeof(text));
        LOG_ERR("%s: %s", what, text);
        logged = 1;
    }
    if (!logged) {
        LOG_ERR("%s: OpenSSL reported no detail", what);
    }
}

/*
 * EVP_sha256() and friends are looked up in the default provider on every
 * EVP_DigestInit_ex (an implicit EVP_MD_fetch): a quarter of the cost of
 * hashing a log entry. Fetch each once, for the process lifetime.
 */
static EVP_MD *md_sha256;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

#ifndef ATT_SHA_LOWLEVEL
/* Only whole-buffer digests through EVP need these (see top). */
static EVP_MD *md_sha1;

/* One digest context per thread, reused (EVP_DigestInit_ex resets it):
 * a log replay hashes three times per entry. Freed when the thread exits. */
static pthread_key_t ctx_key;
static bool ctx_key_ok; /* set once by md_fetch: without it, one context per digest */

static void ctx_free(void *ctx)
{
    EVP_MD_CTX_free(ctx);
}
#endif

static void md_fetch(void)
{
    md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
#ifndef ATT_SHA_LOWLEVEL
    md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
    ctx_key_ok = pthread_key_create(&ctx_key, ctx_free) == 0;
    if (!ctx_key_ok) {
        LOG_WARN("no per-thread digest context: allocating one per digest");
    }
#endif
}

#ifndef ATT_SHA_LOWLEVEL
/*
 * This thread's reusable context (*owned false), or, when no thread key could
 * be made, a new one the caller frees (*owned true); NULL when none can be had.
 */
static EVP_MD_CTX *thread_ctx(bool *owned)
{
    EVP_MD_CTX *ctx;

    (void)pthread_once(&md_once, md_fetch);
    *owned = !ctx_key_ok;
    if (!ctx_key_ok) {
        return EVP_MD_CTX_new();
    }
    ctx = pthread_getspecific(ctx_key);
    if (ctx == NULL) {
        ctx = EVP_MD_CTX_new();
        if (ctx != NULL && pthread_setspecific(ctx_key, ctx) != 0) {
            EVP_MD_CTX_free(ctx);
            ctx = NULL;
        }
    }
    return ctx;
}
#endif

static const EVP_MD *sha256_md(void)
{
    (void)pthread_once(&md_once, md_fetch);
    return md_sha256 != NULL ? md_sha256 : EVP_sha256();
}

#ifndef ATT_SHA_LOWLEVEL
static const EVP_MD *sha1_md(void)
{
    (void)pthread_once(&md_once, md_fetch);
    return md_sha1 != NULL ? md_sha1 : EVP_sha1();
}

static att_rc digest2(const EVP_MD *md, const void *a, size_t alen, const void *b, size_t blen,
                      uint8_t *out)
{
    att_rc rc = ATT_ERR_CRYPTO;
    bool owned = false;
    EVP_MD_CTX *ctx = thread_ctx(&owned);

    if (ctx == NULL) {
        att_log_openssl("EVP_MD_CTX_new");
        return ATT_ERR_NOMEM;
    }
    if (EVP_DigestInit_ex(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, a, alen) != 1 ||
        (blen > 0 && EVP_DigestUpdate(ctx, b, blen) != 1) ||
        EVP_DigestFinal_ex(ctx, out, NULL) != 1) {
        att_log_openssl("digest");
        (void)EVP_MD_CTX_reset(ctx);
        goto out;
    }
    rc = ATT_OK;
out:
    if (owned) {
        EVP_MD_CTX_free(ctx);
    }
    return rc;
}
#endif

#ifdef ATT_SHA_LOWLEVEL
/* SHA256_Init and friends: deprecated in 3.0, not removed (see top). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static att_rc lowlevel_sha256(const void *a, size_t alen, const void *b, size_t blen, uint8_t *out)
{
    SHA256_CTX c;

    if (SHA256_Init(&c) != 1 || SHA256_Update(&c, a, alen) != 1 ||
        (blen > 0 && SHA256_Update(&c, b, blen) != 1) || SHA256_Final(out, &c) != 1) {
        att_log_openssl("SHA256");
        OPENSSL_cleanse(&c, sizeof(c));
        return ATT_ERR_CRYPTO;
    }
    return ATT_OK;
}
#endif

att_rc att_sha256(const void *data, size_t len, uint8_t out[ATT_SHA256_LEN])
{
#ifdef ATT_SHA_LOWLEVEL
    return lowlevel_sha256(data, len, NULL, 0, out);
#else
    return digest2(sha256_md(), data, len, NULL, 0, out);
#endif
}

att_rc att_sha1(const void *data, size_t len, uint8_t out[ATT_SHA1_LEN])
{
#ifdef ATT_SHA_LOWLEVEL
    SHA_CTX c;

    if (SHA1_Init(&c) != 1 || SHA1_Update(&c, data, len) != 1 || SHA1_Final(out, &c) != 1) {
        att_log_openssl("SHA1");
        OPENSSL_cleanse(&c, sizeof(c));
        return ATT_ERR_CRYPTO;
    }
    return ATT_OK;
#else
    return digest2(sha1_md(), data, len, NULL, 0, out);
#endif
}

att_rc att_sha256_2(const void *a, size_t alen, const void *b, size_t blen,
                    uint8_t out[ATT_SHA256_LEN])
{
#ifdef ATT_SHA_LOWLEVEL
    return lowlevel_sha256(a, alen, b, blen, out);
#else
    return digest2(sha256_md(), a, alen, b, blen, out);
#endif
}
#ifdef ATT_SHA_LOWLEVEL
#pragma GCC diagnostic pop
#endif

att_rc att_pcr_extend_sha256(uint8_t pcr[ATT_SHA256_LEN], const uint8_t digest[ATT_SHA256_LEN])
{
    uint8_t next[ATT_SHA256_LEN];
    att_rc rc = att_sha256_2(pcr, ATT_SHA256_LEN, digest, ATT_SHA256_LEN, next);

    if (rc == ATT_OK) {
        memcpy(pcr, next, ATT_SHA256_LEN);
    }
    return rc;
}

#define MAP_MIN_BYTES (256u * 1024u) /* smaller files: read() */

/* The calling thread's SIGBUS guard over [lo, hi) while armed. */
struct bus_guard {
    sigjmp_buf env;
    const uint8_t *lo;
    const uint8_t *hi;
    volatile sig_atomic_t armed;
};

static __thread struct bus_guard bus_guard;
static struct sigaction bus_prev; /* under bus_install's lock; read by the handler */

static void bus_handler(int sig, siginfo_t *si, void *uctx)
{
    struct bus_guard *g = &bus_guard;
    const uint8_t *a = si != NULL ? (const uint8_t *)si->si_addr : NULL;

    if (g->armed && a >= g->lo && a < g->hi) {
        g->armed = 0;
        siglongjmp(g->env, 1);
    }
    /* Not ours: hand it on as if this handler had never been there. The
     * union's SIG_DFL / SIG_IGN are checked first, whatever sa_flags say. */
    if (bus_prev.sa_handler == SIG_IGN && si != NULL && si->si_code <= 0) {
        return; /* a sent SIGBUS, ignored before us (a fault cannot be ignored) */
    }
    if (bus_prev.sa_handler != SIG_DFL && bus_prev.sa_handler != SIG_IGN) {
        if ((bus_prev.sa_flags & SA_SIGINFO) != 0) {
            bus_prev.sa_sigaction(sig, si, uctx);
        } else {
            bus_prev.sa_handler(sig);
        }
        return;
    }
    /* Default action: restore it. A fault runs its access again and gets it;
     * a sent signal (si_code <= 0) is sent again, pending until we return. */
    (void)sigaction(SIGBUS, &bus_prev, NULL);
    if (si != NULL && si->si_code <= 0) {
        (void)raise(sig);
    }
}

/*
 * Make sure bus_handler is SIGBUS's handler; false when it cannot be. Checked
 * on every guarded hash, not once: whoever set another disposition since
 * (a test harness, a library) becomes the previous handler we hand on to.
 */
static bool bus_install(void)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    struct sigaction cur;
    struct sigaction sa;
    bool is_ok = false;

    (void)pthread_mutex_lock(&mu);
    if (sigaction(SIGBUS, NULL, &cur) == 0) {
        if ((cur.sa_flags & SA_SIGINFO) != 0 && cur.sa_sigaction == bus_handler) {
            is_ok = true;
        } else {
            memset(&sa, 0, sizeof(sa));
            sa.sa_sigaction = bus_handler;
            sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
            (void)sigemptyset(&sa.sa_mask);
            bus_prev = cur;
            is_ok = sigaction(SIGBUS, &sa, NULL) == 0;
        }
    }
    (void)pthread_mutex_unlock(&mu);
    return is_ok;
}

/* Read from the fd's offset to EOF into @p ctx. */
static att_rc update_read(EVP_MD_CTX *ctx, int fd)
{
    static __thread uint8_t chunk[1 << 16];
    ssize_t n;

    for (;;) {
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return ATT_ERR_IO;
        }
        if (n == 0) {
            return ATT_OK;
        }
        if (EVP_DigestUpdate(ctx, chunk, (size_t)n) != 1) {
            att_log_openssl("EVP_DigestUpdate");
            return ATT_ERR_CRYPTO;
        }
    }
}

/*
 * Hash the first @p len bytes of @p fd from a mapping, guarded (see top).
 * *mapped false: it could not be mapped and nothing was hashed (the caller
 * reads instead). ATT_ERR_IO when the file shrank under the hash.
 */
static att_rc update_mapped(EVP_MD_CTX *ctx, int fd, size_t len, bool *mapped)
{
    struct bus_guard *g = &bus_guard;
    uint8_t *volatile map;
    volatile att_rc rc = ATT_ERR_CRYPTO;

    *mapped = false;
    if (!bus_install()) {
        return ATT_OK;
    }
    map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        return ATT_OK;
    }
    *mapped = true;
    (void)madvise(map, len, MADV_SEQUENTIAL);
    if (sigsetjmp(g->env, 1) != 0) {
        rc = ATT_ERR_IO; /* SIGBUS: truncated while hashed */
    } else {
        g->lo = map;
        g->hi = map + len;
        g->armed = 1;
        if (EVP_DigestUpdate(ctx, map, len) == 1) {
            rc = ATT_OK;
        } else {
            att_log_openssl("EVP_DigestUpdate");
        }
        g->armed = 0;
    }
    (void)munmap(map, len);
    return rc;
}

att_rc att_sha256_fd(int fd, uint8_t out[ATT_SHA256_LEN])
{
    att_rc rc = ATT_ERR_CRYPTO;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    struct stat st;
    bool mapped = false;

    if (ctx == NULL) {
        att_log_openssl("EVP_MD_CTX_new");
        return ATT_ERR_NOMEM;
    }
    if (EVP_DigestInit_ex(ctx, sha256_md(), NULL) != 1) {
        att_log_openssl("EVP_DigestInit_ex");
        goto out;
    }
    /* A large regular file read from its start: hashed from the page cache in place. */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= (off_t)MAP_MIN_BYTES &&
        (uintmax_t)st.st_size <= (uintmax_t)SIZE_MAX && lseek(fd, 0, SEEK_CUR) == 0) {
        rc = update_mapped(ctx, fd, (size_t)st.st_size, &mapped);
        if (rc == ATT_OK && mapped && lseek(fd, st.st_size, SEEK_SET) != st.st_size) {
            rc = ATT_ERR_IO;
        }
        if (rc != ATT_OK) {
            goto out;
        }
        /* not mappable: nothing was hashed and the offset is still 0 */
    }
    rc = update_read(ctx, fd); /* all of it, or what grew past the mapping */
    if (rc != ATT_OK) {
        goto out;
    }
    if (EVP_DigestFinal_ex(ctx, out, NULL) != 1) {
        att_log_openssl("EVP_DigestFinal_ex");
        rc = ATT_ERR_CRYPTO;
        goto out;
    }
    rc = ATT_OK;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

att_rc att_sha256_file(const char *path, uint8_t out[ATT_SHA256_LEN])
{
    att_rc rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0) {
        return errno == ENOENT ? ATT_ERR_NOT_FOUND : ATT_ERR_IO;
    }
    rc = att_sha256_fd(fd, out);
    (void)close(fd);
    return rc;
}

att_rc att_random_bytes(uint8_t *out, size_t len)
{
    if (len > INT32_MAX) {
        return ATT_ERR_INVALID_ARG;
    }
    if (RAND_bytes(out, (int)len) != 1) {
        att_log_openssl("RAND_bytes");
        return ATT_ERR_CRYPTO;
    }
    return ATT_OK;
}
