/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tar walker on archives made by GNU tar itself (ustar, pax and gnu
 * formats, long names), and on every truncation and a corrupted checksum.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "attest/buf.h"
#include "attest/tar.h"
#include "attest/util.h"

extern char **environ;

static char dir[] = "/tmp/att-test-tar.XXXXXX";
static char longname[300];

struct seen {
    int files;
    int has_short;
    int has_long;
    size_t short_size;
};

static int on_entry(void *ctx, const struct att_tar_entry *e)
{
    struct seen *s = ctx;

    if (e->type != '0') {
        return 0;
    }
    s->files++;
    if (strcmp(e->path, "tree/short.txt") == 0) {
        s->has_short = 1;
        s->short_size = e->size;
        assert_memory_equal(e->data, "hello tar\n", 10);
    }
    if (strcmp(e->path, longname) == 0) {
        s->has_long = 1;
    }
    return 0;
}

static void make_tar(const char *format, struct att_buf *out)
{
    char tarfile[256];
    char fmt[64];
    char *argv[] = {(char *)(uintptr_t) "tar", fmt, (char *)(uintptr_t) "-cf", tarfile,
                    (char *)(uintptr_t) "-C", dir, (char *)(uintptr_t) "tree", NULL};
    pid_t pid;
    int st = 0;

    (void)snprintf(tarfile, sizeof(tarfile), "%s/%s.tar", dir, format);
    (void)snprintf(fmt, sizeof(fmt), "--format=%s", format);
    assert_int_equal(posix_spawnp(&pid, "tar", NULL, NULL, argv, environ), 0);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    att_buf_init(out, 1u << 24);
    assert_int_equal(att_file_read(tarfile, out), ATT_OK);
}

static void check_format(const char *format, int expect_long)
{
    struct att_buf b;
    struct seen s = {0, 0, 0, 0};
    char why[256] = "";

    make_tar(format, &b);
    assert_int_equal(att_tar_walk(b.data, b.len, on_entry, &s, why, sizeof(why)), ATT_OK);
    assert_true(s.has_short);
    assert_int_equal(s.short_size, 10);
    assert_int_equal(s.has_long, expect_long);
    assert_int_equal(s.files, 2 + expect_long);
    att_buf_cleanup(&b);
}

static void test_tar_ustar(void **state)
{
    (void)state;
    check_format("ustar", 1); /* the long name fits prefix + name */
}

static void test_tar_pax(void **state)
{
    (void)state;
    check_format("pax", 1);
}

static void test_tar_gnu(void **state)
{
    (void)state;
    check_format("gnu", 1);
}

static int count(void *ctx, const struct att_tar_entry *e)
{
    (void)e;
    (*(int *)ctx)++;
    return 0;
}

static void test_tar_truncations_and_corruption(void **state)
{
    struct att_buf b;
    size_t cut;
    size_t last;
    int n = 0;
    char why[256];

    (void)state;
    make_tar("pax", &b);
    /* Where the members end (GNU tar pads with zero blocks after them). */
    for (last = b.len; last > 0 && b.data[last - 1] == 0; last--) {
    }
    /* Any cut inside a header or a member is an error, never a crash. */
    for (cut = 1; cut < last; cut += 37) {
        att_rc rc;

        n = 0;
        rc = att_tar_walk(b.data, cut, count, &n, why, sizeof(why));
        if (cut % 512 != 0) {
            assert_int_equal(rc, ATT_ERR_PARSE);
        }
    }
    b.data[100] ^= 0x01; /* mode field: checksum no longer matches */
    assert_int_equal(att_tar_walk(b.data, b.len, count, &n, why, sizeof(why)), ATT_ERR_PARSE);
    assert_non_null(strstr(why, "checksum"));
    b.data[100] ^= 0x01;
    memset(b.data + 124, '7', 11); /* huge size */
    assert_int_equal(att_tar_walk(b.data, b.len, count, &n, why, sizeof(why)), ATT_ERR_PARSE);
    assert_int_equal(att_tar_walk(NULL, 5, count, &n, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_tar_walk(b.data, 0, count, &n, why, sizeof(why)), ATT_OK);
    att_buf_cleanup(&b);
}

static int setup(void **state)
{
    char path[512];
    size_t i;

    (void)state;
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    (void)snprintf(path, sizeof(path), "%s/tree/sub", dir);
    (void)mkdir(path, 0755);
    *strrchr(path, '/') = '\0';
    (void)mkdir(path, 0755);
    (void)snprintf(path, sizeof(path), "%s/tree/sub", dir);
    (void)mkdir(path, 0755);
    (void)snprintf(path, sizeof(path), "%s/tree/short.txt", dir);
    if (att_file_write_atomic(path, "hello tar\n", 10) != ATT_OK) {
        return -1;
    }
    (void)snprintf(path, sizeof(path), "%s/tree/sub/b.bin", dir);
    if (att_file_write_atomic(path, "\x7f" "ELF", 4) != ATT_OK) {
        return -1;
    }
    /* a 146-character name: more than ustar's 100-byte name field, so ustar
     * splits it into prefix and name, pax and gnu use their long-name records */
    (void)snprintf(longname, sizeof(longname), "tree/");
    for (i = strlen(longname); i < 85; i++) {
        longname[i] = 'd';
    }
    longname[85] = '\0';
    (void)snprintf(path, sizeof(path), "%s/%s", dir, longname);
    (void)mkdir(path, 0755);
    longname[85] = '/';
    longname[86] = '\0';
    for (i = strlen(longname); i < 146; i++) {
        longname[i] = 'n';
    }
    longname[146] = '\0';
    (void)snprintf(path, sizeof(path), "%s/%s", dir, longname);
    return att_file_write_atomic(path, "x", 1) == ATT_OK ? 0 : -1;
}

static int teardown(void **state)
{
    char *argv[] = {(char *)(uintptr_t) "rm", (char *)(uintptr_t) "-rf", dir, NULL};
    pid_t pid;
    int st;

    (void)state;
    if (posix_spawnp(&pid, "rm", NULL, NULL, argv, environ) == 0) {
        (void)waitpid(pid, &st, 0);
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tar_ustar),
        cmocka_unit_test(test_tar_pax),
        cmocka_unit_test(test_tar_gnu),
        cmocka_unit_test(test_tar_truncations_and_corruption),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
