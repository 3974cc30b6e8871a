/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* fork, truncate */
/*
 * common/src/crypto/digest.c: known answers (FIPS 180-4 "abc"), the two-part
 * and extend forms, and att_sha256_fd on both of its paths (read() below
 * 256 KiB or from a non-zero offset, a guarded mapping above) against EVP
 * computed here. A file truncated while it is hashed from the mapping fails
 * the call with ATT_ERR_IO instead of killing the process with SIGBUS, and
 * a SIGBUS that is not the hash's still kills (the previous action is kept).
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "attest/digest.h"
#include "attest/util.h"

static void evp(const uint8_t *p, size_t len, uint8_t out[ATT_SHA256_LEN])
{
    unsigned int n = 0;

    assert_int_equal(EVP_Digest(p, len, out, &n, EVP_sha256(), NULL), 1);
    assert_int_equal(n, ATT_SHA256_LEN);
}

static void test_known_answers(void **state)
{
    uint8_t want256[ATT_SHA256_LEN];
    uint8_t want1[ATT_SHA1_LEN];
    uint8_t got[ATT_SHA256_LEN];
    uint8_t pcr[ATT_SHA256_LEN] = {0};
    uint8_t cat[2 * ATT_SHA256_LEN] = {0};

    (void)state;
    assert_int_equal(
        att_hex_decode("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", want256,
                       sizeof(want256)),
        ATT_OK);
    assert_int_equal(
        att_hex_decode("a9993e364706816aba3e25717850c26c9cd0d89d", want1, sizeof(want1)), ATT_OK);
    assert_int_equal(att_sha256("abc", 3, got), ATT_OK);
    assert_memory_equal(got, want256, ATT_SHA256_LEN);
    assert_int_equal(att_sha1("abc", 3, got), ATT_OK);
    assert_memory_equal(got, want1, ATT_SHA1_LEN);
    assert_int_equal(att_sha256_2("a", 1, "bc", 2, got), ATT_OK);
    assert_memory_equal(got, want256, ATT_SHA256_LEN);
    /* extend: sha256(old || digest) */
    memcpy(cat + ATT_SHA256_LEN, want256, ATT_SHA256_LEN);
    evp(cat, sizeof(cat), want256);
    assert_int_equal(att_pcr_extend_sha256(pcr, cat + ATT_SHA256_LEN), ATT_OK);
    assert_memory_equal(pcr, want256, ATT_SHA256_LEN);
}

/* A temp file of @p len patterned bytes; *data gets a copy when @p data is not NULL. */
static char *make_file(size_t len, uint8_t **data)
{
    static uint8_t chunk[1u << 16];
    char *path = strdup("/tmp/att-digest-XXXXXX");
    uint8_t *p = data != NULL ? malloc(len > 0 ? len : 1) : NULL;
    int fd;
    size_t off = 0;

    assert_non_null(path);
    assert_true(data == NULL || p != NULL);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    while (off < len) {
        size_t n = len - off < sizeof(chunk) ? len - off : sizeof(chunk);
        ssize_t w;

        for (size_t i = 0; i < n; i++) {
            chunk[i] = (uint8_t)(((off + i) * 2654435761u) >> 13);
        }
        if (p != NULL) {
            memcpy(p + off, chunk, n);
        }
        w = write(fd, chunk, n);
        assert_true(w == (ssize_t)n);
        off += n;
    }
    assert_int_equal(close(fd), 0);
    if (data != NULL) {
        *data = p;
    }
    return path;
}

static void test_fd_paths(void **state)
{
    static const size_t sizes[] = {0, 1, 4096, 256 * 1024 - 1, 256 * 1024, 3 * 1024 * 1024 + 7};
    uint8_t want[ATT_SHA256_LEN];
    uint8_t got[ATT_SHA256_LEN];

    (void)state;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint8_t *data;
        char *path = make_file(sizes[i], &data);
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        assert_true(fd >= 0);
        evp(data, sizes[i], want);
        assert_int_equal(att_sha256_fd(fd, got), ATT_OK);
        assert_memory_equal(got, want, ATT_SHA256_LEN);
        /* the fd is left at EOF, as a read to the end leaves it */
        assert_int_equal(lseek(fd, 0, SEEK_CUR), (off_t)sizes[i]);
        if (sizes[i] > 5) {
            /* from the fd's offset to EOF, whatever the size */
            assert_int_equal(lseek(fd, 5, SEEK_SET), 5);
            evp(data + 5, sizes[i] - 5, want);
            assert_int_equal(att_sha256_fd(fd, got), ATT_OK);
            assert_memory_equal(got, want, ATT_SHA256_LEN);
        }
        assert_int_equal(att_sha256_file(path, got), ATT_OK);
        evp(data, sizes[i], want);
        assert_memory_equal(got, want, ATT_SHA256_LEN);
        (void)close(fd);
        /* a write-only fd cannot be mapped nor read: the read fallback fails */
        fd = open(path, O_WRONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(att_sha256_fd(fd, got), ATT_ERR_IO);
        (void)unlink(path);
        free(path);
        free(data);
    }
}

struct trunc_arg {
    const char *path;
    long delay_us;
    bool truncated;
};

static void *truncate_later(void *arg)
{
    struct trunc_arg *t = arg;
    struct timespec ts = {0, t->delay_us * 1000};

    (void)nanosleep(&ts, NULL);
    t->truncated = truncate(t->path, 0) == 0; /* if not, the hash succeeds: try again */
    return NULL;
}

/* Truncated while hashed from the mapping: ATT_ERR_IO, and the process lives on. */
static void test_fd_truncated_while_hashed(void **state)
{
    const size_t len = 96u << 20; /* ~65 ms of hashing here */
    int io_errors = 0;

    (void)state;
    for (int attempt = 0; attempt < 20 && io_errors == 0; attempt++) {
        char *path = make_file(len, NULL);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct trunc_arg t = {path, 2000 + 1000 * attempt, false};
        uint8_t got[ATT_SHA256_LEN];
        pthread_t th;
        att_rc rc;

        assert_true(fd >= 0);
        assert_int_equal(pthread_create(&th, NULL, truncate_later, &t), 0);
        rc = att_sha256_fd(fd, got);
        assert_int_equal(pthread_join(th, NULL), 0);
        assert_true(rc == ATT_OK || rc == ATT_ERR_IO);
        if (rc == ATT_ERR_IO) {
            io_errors++;
        }
        (void)close(fd);
        (void)unlink(path);
        free(path);
    }
    assert_true(io_errors > 0);
}

enum foreign { FOREIGN_FAULT, FOREIGN_SENT, FOREIGN_SENT_TO_HANDLER, FOREIGN_SENT_IGNORED };

static void on_bus_info(int sig, siginfo_t *si, void *uctx)
{
    (void)sig;
    (void)si;
    (void)uctx;
    _exit(7);
}

/*
 * In a child: SIGBUS's disposition set first (default, an SA_SIGINFO
 * handler, or SIG_IGN with SA_SIGINFO in sa_flags), the guard installed over
 * it by a hash, then a SIGBUS that is not the hash's: a fault or a sent one.
 * The earlier disposition must decide, as if the guard were not there.
 */
static void foreign_sigbus_child(const char *path, enum foreign how)
{
    uint8_t got[ATT_SHA256_LEN];
    struct sigaction sa;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    volatile uint8_t *m;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    if (how == FOREIGN_SENT_TO_HANDLER) {
        sa.sa_sigaction = on_bus_info;
        sa.sa_flags = SA_SIGINFO;
    } else if (how == FOREIGN_SENT_IGNORED) {
        sa.sa_handler = SIG_IGN;
        sa.sa_flags = SA_SIGINFO;
    }
    if (fd < 0 || sigaction(SIGBUS, &sa, NULL) != 0 || att_sha256_fd(fd, got) != ATT_OK) {
        _exit(3);
    }
    if (how != FOREIGN_FAULT) {
        (void)raise(SIGBUS);
        _exit(0);
    }
    m = mmap(NULL, 1u << 20, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED || truncate(path, 0) != 0) {
        _exit(3);
    }
    (void)m[(1u << 20) - 1]; /* past the new end */
    _exit(0);
}

static void test_foreign_sigbus_still_kills(void **state)
{
    (void)state;
    for (int how = FOREIGN_FAULT; how <= FOREIGN_SENT_IGNORED; how++) {
        char *path = make_file(1u << 20, NULL);
        int status = 0;
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
            foreign_sigbus_child(path, (enum foreign)how);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (how == FOREIGN_SENT_TO_HANDLER) {
            assert_true(WIFEXITED(status)); /* the earlier handler ran */
            assert_int_equal(WEXITSTATUS(status), 7);
        } else if (how == FOREIGN_SENT_IGNORED) {
            assert_true(WIFEXITED(status)); /* still ignored, not a call to SIG_IGN */
            assert_int_equal(WEXITSTATUS(status), 0);
        } else {
            assert_true(WIFSIGNALED(status));
            assert_int_equal(WTERMSIG(status), SIGBUS);
        }
        (void)unlink(path);
        free(path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_fd_paths),
        cmocka_unit_test(test_fd_truncated_while_hashed),
        cmocka_unit_test(test_foreign_sigbus_still_kills),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
