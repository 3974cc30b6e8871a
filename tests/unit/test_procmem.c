/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for agent/procmem.h: runtime integrity of one live process
 * (shared/notes/measurement-facts.md §4). Negative cases come first: the maps
 * parser against NULL, truncation at every byte of every fixed field, bad hex,
 * bad permissions, overlong paths and garbage; the ELF parser against
 * truncation at every length and malformed headers. Then real processes, no
 * mocks: /proc/self/maps, /bin/sleep (clean, patched code, int3, patched
 * .rodata, RELRO written), forked children with anonymous r-x and rwx pages,
 * a memfd fexecve, a deleted executable, a DT_TEXTREL library built with cc,
 * an in-place rewrite of a mapped file, processes that exit mid-inspection,
 * and each limit. Needs root with CAP_SYS_PTRACE and CAP_SYS_ADMIN (the
 * agent's privileges); writes to a child's code go through /proc/PID/mem.
 */
#define _GNU_SOURCE /* memfd_create */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attest/buf.h"
#include "attest/digest.h"
#include "attest/util.h"
#include "procmem.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux 6.3: executable memfd under vm.memfd_noexec */
#endif

/* NOLINTNEXTLINE(readability-redundant-declaration): POSIX has the program declare it */
extern char **environ;

#define WHY_SIZE 256

/* ---- helpers -------------------------------------------------------- */

static char sleep_path[PATH_MAX];
static uint8_t sleep_digest[ATT_SHA256_LEN];

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void read_file(const char *path, struct att_buf *b)
{
    att_buf_init(b, 512u << 20);
    assert_int_equal(att_file_read(path, b), ATT_OK);
}

static void proc_path(char *out, size_t len, pid_t pid, const char *name)
{
    int n = snprintf(out, len, "/proc/%d/%s", (int)pid, name);

    assert_true(n > 0 && (size_t)n < len);
}

/* Parse a process's maps with the code under test (checked in its own tests). */
static void child_maps(pid_t pid, struct procmem_maps *m)
{
    char path[64];
    char why[WHY_SIZE] = "";
    struct att_buf b;

    proc_path(path, sizeof(path), pid, "maps");
    read_file(path, &b);
    assert_int_equal(procmem_maps_parse((const char *)b.data, b.len, 0, m, why, sizeof(why)),
                     ATT_OK);
    att_buf_cleanup(&b);
}

/* First mapping of @p path with exactly permissions @p perms ("r-xp"); the struct is copied. */
static bool find_mapping(pid_t pid, const char *path, const char *perms,
                         struct procmem_mapping *out)
{
    struct procmem_maps m;
    bool found = false;
    size_t i;

    child_maps(pid, &m);
    for (i = 0; i < m.count && !found; i++) {
        const struct procmem_mapping *x = &m.mappings[i];
        char p[5];

        p[0] = x->is_read ? 'r' : '-';
        p[1] = x->is_write ? 'w' : '-';
        p[2] = x->is_exec ? 'x' : '-';
        p[3] = x->is_shared ? 's' : 'p';
        p[4] = '\0';
        if (strcmp(x->path, path) == 0 && strcmp(p, perms) == 0) {
            *out = *x;
            out->path = NULL; /* the arena goes away below */
            found = true;
        }
    }
    procmem_maps_cleanup(&m);
    return found;
}

static char proc_state(pid_t pid)
{
    char path[64];
    struct att_buf b;
    const char *s;
    char st = '?';

    proc_path(path, sizeof(path), pid, "stat");
    att_buf_init(&b, 4096);
    if (att_file_read(path, &b) == ATT_OK && b.data != NULL) {
        s = strrchr((const char *)b.data, ')');
        if (s != NULL && s[1] == ' ') {
            st = s[2];
        }
    }
    att_buf_cleanup(&b);
    return st;
}

/*
 * Wait until @p pid runs @p exe (readlink of /proc/PID/exe begins with it)
 * and has been asleep for three polls in a row: the loader has finished
 * relocating and mprotecting RELRO, and the program is parked in a syscall.
 */
static void wait_parked(pid_t pid, const char *exe)
{
    char path[64];
    char link[PATH_MAX];
    int stable = 0;
    int i;

    proc_path(path, sizeof(path), pid, "exe");
    for (i = 0; i < 1000 && stable < 3; i++) {
        ssize_t n = readlink(path, link, sizeof(link) - 1);

        if (n > 0) {
            link[n] = '\0';
        } else {
            link[0] = '\0';
        }
        if (strncmp(link, exe, strlen(exe)) == 0 && proc_state(pid) == 'S') {
            stable++;
        } else {
            stable = 0;
        }
        sleep_ms(10);
    }
    assert_int_equal(stable, 3);
}

static char arg_sleep[] = "sleep";
static char arg_1000[] = "1000";

static pid_t spawn_parked(const char *exe)
{
    char *argv[] = {arg_sleep, arg_1000, NULL};
    pid_t pid = 0;

    assert_int_equal(posix_spawn(&pid, exe, NULL, NULL, argv, environ), 0);
    wait_parked(pid, exe);
    return pid;
}

static void kill_child(pid_t pid)
{
    int status;

    (void)kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &status, 0), pid);
}

static uint8_t mem_peek(pid_t pid, uint64_t addr)
{
    char path[64];
    uint8_t b = 0;
    int fd;

    proc_path(path, sizeof(path), pid, "mem");
    fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &b, 1, (off_t)addr), 1);
    close(fd);
    return b;
}

/* Root writes a private read-only mapping through /proc/PID/mem (FOLL_FORCE, COW). */
static void mem_poke(pid_t pid, uint64_t addr, uint8_t value)
{
    char path[64];
    int fd;

    proc_path(path, sizeof(path), pid, "mem");
    fd = open(path, O_RDWR | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, &value, 1, (off_t)addr), 1);
    close(fd);
}

static struct procmem_report *inspect(struct procmem_cache *c, pid_t pid)
{
    struct procmem_report *r = NULL;

    assert_int_equal(procmem_inspect(pid, c, &r), ATT_OK);
    assert_non_null(r);
    return r;
}

static struct procmem_report *inspect_once(pid_t pid)
{
    struct procmem_cache *c = NULL;
    struct procmem_report *r;

    assert_int_equal(procmem_cache_new(NULL, &c), ATT_OK);
    r = inspect(c, pid);
    procmem_cache_free(c);
    return r;
}

static const struct procmem_file *report_file(const struct procmem_report *r, const char *path)
{
    size_t i;

    for (i = 0; i < r->n_files; i++) {
        if (strcmp(r->files[i].path, path) == 0) {
            return &r->files[i];
        }
    }
    return NULL;
}

static size_t count_kind(const struct procmem_report *r, enum procmem_finding_kind kind)
{
    size_t i;
    size_t n = 0;

    for (i = 0; i < r->n_findings; i++) {
        n += r->findings[i].kind == kind;
    }
    return n;
}

static const struct procmem_finding *find_kind(const struct procmem_report *r,
                                               enum procmem_finding_kind kind)
{
    size_t i;

    for (i = 0; i < r->n_findings; i++) {
        if (r->findings[i].kind == kind) {
            return &r->findings[i];
        }
    }
    return NULL;
}

/* The finding of @p kind; fails the test (and never returns NULL) if there is none. */
static const struct procmem_finding *must_kind(const struct procmem_report *r,
                                               enum procmem_finding_kind kind)
{
    const struct procmem_finding *f = find_kind(r, kind);

    assert_non_null(f);
    if (f == NULL) {
        abort(); /* unreachable: cmocka's assert does not return on failure */
    }
    return f;
}

static const struct procmem_file *must_file(const struct procmem_report *r, const char *path)
{
    const struct procmem_file *f = report_file(r, path);

    assert_non_null(f);
    if (f == NULL) {
        abort(); /* unreachable */
    }
    return f;
}

static void dump_findings(const struct procmem_report *r)
{
    size_t i;

    for (i = 0; i < r->n_findings; i++) {
        const struct procmem_finding *f = &r->findings[i];

        print_message("  finding %s [%s] %s 0x%llx: %s\n", procmem_finding_kind_str(f->kind),
                      procmem_hint_str(f->hint), f->path != NULL ? f->path : "(anon)",
                      (unsigned long long)f->address, f->detail);
    }
}

static void assert_no_findings(const struct procmem_report *r)
{
    if (r->n_findings != 0) {
        dump_findings(r);
    }
    assert_int_equal(r->n_findings, 0);
}

/*
 * Fork a child of this test binary that runs @p setup (which returns an
 * address to report, or 0 on failure), writes the address to a pipe, then
 * parks in pause() until killed.
 */
static pid_t fork_parked(uint64_t (*setup)(void *), void *arg, uint64_t *addr)
{
    int fds[2];
    pid_t pid;
    uint64_t a = 0;

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        a = setup(arg);
        if (write(fds[1], &a, sizeof(a)) != (ssize_t)sizeof(a)) {
            _exit(1);
        }
        close(fds[1]);
        for (;;) {
            pause();
        }
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], &a, sizeof(a)), (ssize_t)sizeof(a));
    close(fds[0]);
    assert_true(a != 0);
    *addr = a;
    return pid;
}

static void copy_file(const char *from, const char *to, mode_t mode)
{
    struct att_buf b;
    int fd;

    read_file(from, &b);
    fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
    assert_int_equal(close(fd), 0);
    att_buf_cleanup(&b);
}

static int group_setup(void **state)
{
    (void)state;
    if (realpath("/bin/sleep", sleep_path) == NULL) {
        return -1;
    }
    return att_sha256_file(sleep_path, sleep_digest) == ATT_OK ? 0 : -1;
}

/* ---- maps parser: negative cases ------------------------------------ */

#define LINE_FILE "7f3c1a200000-7f3c1a3b5000 r-xp 00028000 fd:01 1234 /usr/lib/libc.so.6\n"

static void expect_parse_error(const char *text, size_t len, const char *why_part)
{
    struct procmem_maps m;
    char why[WHY_SIZE] = "";

    assert_int_equal(procmem_maps_parse(text, len, 0, &m, why, sizeof(why)), ATT_ERR_PARSE);
    assert_null(m.mappings);
    assert_int_equal(m.count, 0);
    if (why_part != NULL && strstr(why, why_part) == NULL) {
        print_message("why = \"%s\", wanted \"%s\"\n", why, why_part);
        fail();
    }
}

static void test_maps_parse_null_args(void **state)
{
    struct procmem_maps m;

    (void)state;
    assert_int_equal(procmem_maps_parse(LINE_FILE, strlen(LINE_FILE), 0, NULL, NULL, 0),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(procmem_maps_parse(NULL, 5, 0, &m, NULL, 0), ATT_ERR_INVALID_ARG);
    assert_int_equal(procmem_maps_parse(NULL, 0, 0, &m, NULL, 0), ATT_OK);
    assert_int_equal(m.count, 0);
    procmem_maps_cleanup(&m);
    procmem_maps_cleanup(NULL);
}

static void test_maps_parse_empty_is_valid(void **state)
{
    struct procmem_maps m;

    (void)state;
    assert_int_equal(procmem_maps_parse("", 0, 0, &m, NULL, 0), ATT_OK);
    assert_int_equal(m.count, 0);
    procmem_maps_cleanup(&m);
}

static void test_maps_parse_truncated_every_field_byte(void **state)
{
    const char *line = LINE_FILE;
    /* The fixed fields end where the inode starts: every cut before it is an error. */
    size_t inode_at = (size_t)(strstr(line, " 1234 ") - line) + 1;
    char buf[256];
    size_t k;

    (void)state;
    for (k = 0; k < inode_at; k++) {
        memcpy(buf, line, k);
        buf[k] = '\n';
        expect_parse_error(buf, k + 1, "line 1");
    }
    /* Every cut without the final newline is "truncated". */
    for (k = 1; k < strlen(line); k++) {
        expect_parse_error(line, k, "truncated");
    }
    /* A good line then a cut one: the error names line 2. */
    (void)snprintf(buf, sizeof(buf), "%s7f3c1a3b5000-7f3c\n", line);
    expect_parse_error(buf, strlen(buf), "line 2");
}

static void test_maps_parse_bad_hex(void **state)
{
    static const char *const bad[] = {
        "7F3C1A200000-7f3c1a3b5000 r-xp 00028000 fd:01 1234 /x\n",   /* upper case */
        "7f3c1a20000g-7f3c1a3b5000 r-xp 00028000 fd:01 1234 /x\n",   /* not hex */
        "-7f3c1a3b5000 r-xp 00028000 fd:01 1234 /x\n",               /* empty start */
        "7f3c1a200000 7f3c1a3b5000 r-xp 00028000 fd:01 1234 /x\n",   /* no dash */
        "17f3c1a200000000-27f3c1a3b50000000 r-xp 0 fd:01 1 /x\n",    /* 17 digits */
        "7f3c1a200000-7f3c1a3b5000 r-xp 0002800z fd:01 1234 /x\n",   /* offset */
        "7f3c1a200000-7f3c1a3b5000 r-xp 00028000 fdx01 1234 /x\n",   /* device */
        "7f3c1a200000-7f3c1a3b5000 r-xp 00028000 fd01 1234 /x\n",    /* no colon */
        "7f3c1a200000-7f3c1a3b5000 r-xp 00028000 1fff:01 1234 /x\n", /* major > 12 bits */
        "7f3c1a200000-7f3c1a3b5000 r-xp 00028000 fd:1fffff 1 /x\n",  /* minor > 20 bits */
        "7f3c1a200000-7f3c1a3b5000 r-xp 00028000 fd:01 1x4 /x\n",    /* inode */
        "7f3c1a200000-7f3c1a3b5000 r-xp 00028000 fd:01 -1 /x\n",     /* inode sign */
        "7f3c1a200000-7f3c1a3b5000 r-xp 00028000 fd:01 99999999999999999999 /x\n",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_parse_error(bad[i], strlen(bad[i]), "line 1: ");
    }
}

static void test_maps_parse_bad_perms(void **state)
{
    static const char *const bad[] = {
        "1000-2000 rwzp 00000000 00:00 0\n",  "1000-2000 xwrp 00000000 00:00 0\n",
        "1000-2000 r-xq 00000000 00:00 0\n",  "1000-2000 r-x 00000000 00:00 0\n",
        "1000-2000 r-xpp 00000000 00:00 0\n",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_parse_error(bad[i], strlen(bad[i]), "line 1");
    }
}

static void test_maps_parse_bad_ranges(void **state)
{
    (void)state;
    expect_parse_error("2000-1000 r--p 00000000 00:00 0\n", 32, "range");
    expect_parse_error("1000-1000 r--p 00000000 00:00 0\n", 32, "range");
    expect_parse_error("1001-2000 r--p 00000000 00:00 0\n", 32, "range");
    expect_parse_error("1000-2800 r--p 00000000 00:00 0\n", 32, "range");
    expect_parse_error("1000-2000 r--p 00000800 00:00 0\n", 32, "offset");
    expect_parse_error("1000-3000 r--p 00000000 00:00 0\n2000-4000 r--p 00000000 00:00 0\n", 64,
                       "line 2: overlaps");
    expect_parse_error("5000-6000 r--p 00000000 00:00 0\n1000-2000 r--p 00000000 00:00 0\n", 64,
                       "line 2: overlaps");
}

static void test_maps_parse_overlong_path(void **state)
{
    const char *head = "1000-2000 r-xp 00000000 08:01 77 /";
    size_t hl = strlen(head);
    char *text = malloc(hl + PROCMEM_MAX_PATH + 2);
    struct procmem_maps m;

    (void)state;
    assert_non_null(text);
    memcpy(text, head, hl);
    /* Exactly PROCMEM_MAX_PATH bytes: accepted. */
    memset(text + hl, 'a', PROCMEM_MAX_PATH - 1);
    text[hl + PROCMEM_MAX_PATH - 1] = '\n';
    assert_int_equal(procmem_maps_parse(text, hl + PROCMEM_MAX_PATH, 0, &m, NULL, 0), ATT_OK);
    assert_int_equal(strlen(m.mappings[0].path), PROCMEM_MAX_PATH);
    procmem_maps_cleanup(&m);
    /* One more: rejected. */
    memset(text + hl, 'a', PROCMEM_MAX_PATH);
    text[hl + PROCMEM_MAX_PATH] = '\n';
    expect_parse_error(text, hl + PROCMEM_MAX_PATH + 1, "path too long");
    free(text);
}

static void test_maps_parse_garbage(void **state)
{
    static const char nul[] = "1000-2000 r--p 00000000 00:00 0 /a\0b\n";
    uint8_t junk[512];
    size_t i;

    (void)state;
    expect_parse_error("hello\n", 6, "line 1");
    expect_parse_error("\n", 1, "line 1");
    expect_parse_error(" 1000-2000 r--p 00000000 00:00 0\n", 33, "line 1");
    expect_parse_error("1000-2000 r--p 00000000 00:00 0x\n", 33, "garbage after inode");
    expect_parse_error(nul, sizeof(nul) - 1, "NUL");
    /* Deterministic pseudo-random bytes (xorshift), never valid: no newline at the end. */
    {
        uint32_t s = 2463534242u;

        for (i = 0; i < sizeof(junk); i++) {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            junk[i] = (uint8_t)s;
        }
        junk[sizeof(junk) - 1] = 'x';
        expect_parse_error((const char *)junk, sizeof(junk), NULL);
    }
}

static void test_maps_parse_too_many_lines(void **state)
{
    const char *text = "1000-2000 r--p 00000000 00:00 0\n"
                       "2000-3000 r--p 00000000 00:00 0\n"
                       "3000-4000 r--p 00000000 00:00 0\n";
    struct procmem_maps m;
    char why[WHY_SIZE] = "";

    (void)state;
    assert_int_equal(procmem_maps_parse(text, strlen(text), 2, &m, why, sizeof(why)),
                     ATT_ERR_PARSE);
    assert_non_null(strstr(why, "too many mappings"));
    assert_int_equal(procmem_maps_parse(text, strlen(text), 3, &m, why, sizeof(why)), ATT_OK);
    assert_int_equal(m.count, 3);
    procmem_maps_cleanup(&m);
}

/* ---- maps parser: positive cases ------------------------------------ */

static void test_maps_parse_fields_and_kinds(void **state)
{
    const char *text =
        "555555554000-555555556000 r--p 00000000 103:02 4718593      /usr/bin/my app\n"
        "555555556000-55555555a000 r-xp 00002000 103:02 4718593      /usr/bin/my app\n"
        "55555555a000-55555557b000 rw-p 00000000 00:00 0      [heap]\n"
        "7f0000000000-7f0000001000 r-xp 00000000 00:00 0 \n"
        "7f0000001000-7f0000002000 rw-p 00000000 00:00 0      [anon:jit]\n"
        "7f0000002000-7f0000003000 r-xp 00000000 00:01 2049      /memfd:x (deleted)\n"
        "7f0000003000-7f0000004000 r-xp 00001000 fd:00 99      /tmp/a b (deleted)\n"
        "7f0000004000-7f0000005000 rw-s 00000000 00:01 7      /dev/zero (deleted)\n"
        "7f0000005000-7f0000006000 rw-s 00000000 00:0e 8      anon_inode:[perf_event]\n"
        "7f0000006000-7f0000007000 r-xp 00000000 00:00 0      [uprobes]\n"
        "7f0000007000-7f0000008000 r--p 00000000 fd:00 18446744073709551615      /memfd:y\n"
        "7ffff7fc1000-7ffff7fc5000 r--p 00000000 00:00 0      [vvar]\n"
        "7ffff7fc5000-7ffff7fc7000 r-xp 00000000 00:00 0      [vdso]\n"
        "7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0      [stack]\n"
        "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0      [vsyscall]\n";
    struct procmem_maps m;
    const struct procmem_mapping *v;
    char why[WHY_SIZE] = "";

    (void)state;
    assert_int_equal(procmem_maps_parse(text, strlen(text), 0, &m, why, sizeof(why)), ATT_OK);
    assert_int_equal(m.count, 15);
    v = m.mappings;
    assert_true(v[0].start == 0x555555554000ull && v[0].end == 0x555555556000ull);
    assert_true(v[0].is_read && !v[0].is_write && !v[0].is_exec && !v[0].is_shared);
    assert_int_equal(v[0].dev_major, 0x103);
    assert_int_equal(v[0].dev_minor, 2);
    assert_int_equal(v[0].inode, 4718593);
    assert_string_equal(v[0].path, "/usr/bin/my app");
    assert_int_equal(v[0].kind, PROCMEM_MAP_FILE);
    assert_true(v[1].is_exec);
    assert_int_equal(v[1].offset, 0x2000);
    assert_int_equal(v[2].kind, PROCMEM_MAP_PSEUDO);
    assert_int_equal(v[2].pseudo, PROCMEM_PSEUDO_HEAP);
    assert_int_equal(v[3].kind, PROCMEM_MAP_ANON);
    assert_string_equal(v[3].path, "");
    assert_int_equal(v[4].kind, PROCMEM_MAP_ANON);
    assert_string_equal(v[4].path, "[anon:jit]");
    assert_int_equal(v[5].kind, PROCMEM_MAP_MEMFD);
    assert_true(v[5].is_deleted);
    assert_string_equal(v[5].path, "/memfd:x");
    assert_int_equal(v[6].kind, PROCMEM_MAP_FILE);
    assert_true(v[6].is_deleted);
    assert_string_equal(v[6].path, "/tmp/a b");
    assert_int_equal(v[7].kind, PROCMEM_MAP_ANON);
    assert_true(v[7].is_shared);
    assert_int_equal(v[8].kind, PROCMEM_MAP_PSEUDO);
    assert_int_equal(v[8].pseudo, PROCMEM_PSEUDO_OTHER);
    assert_int_equal(v[9].pseudo, PROCMEM_PSEUDO_OTHER);
    assert_int_equal(v[10].kind, PROCMEM_MAP_FILE); /* a real file named /memfd:y */
    assert_true(v[10].inode == UINT64_MAX);
    assert_int_equal(v[11].pseudo, PROCMEM_PSEUDO_VVAR);
    assert_int_equal(v[12].pseudo, PROCMEM_PSEUDO_VDSO);
    assert_int_equal(v[13].pseudo, PROCMEM_PSEUDO_STACK);
    assert_int_equal(v[14].pseudo, PROCMEM_PSEUDO_VSYSCALL);
    assert_true(v[14].start == 0xffffffffff600000ull);
    procmem_maps_cleanup(&m);
}

static void test_maps_parse_self(void **state)
{
    struct procmem_maps m;
    char exe[PATH_MAX];
    uint64_t here = (uint64_t)(uintptr_t)&test_maps_parse_self;
    bool saw_exe_code = false;
    bool saw_stack = false;
    bool saw_vdso = false;
    size_t i;

    (void)state;
    assert_non_null(realpath("/proc/self/exe", exe));
    child_maps(getpid(), &m);
    assert_true(m.count > 5);
    for (i = 0; i < m.count; i++) {
        const struct procmem_mapping *v = &m.mappings[i];

        if (v->start <= here && here < v->end) {
            assert_true(v->is_exec);
            assert_int_equal(v->kind, PROCMEM_MAP_FILE);
            assert_string_equal(v->path, exe);
            saw_exe_code = true;
        }
        saw_stack = saw_stack || v->pseudo == PROCMEM_PSEUDO_STACK;
        saw_vdso = saw_vdso || v->pseudo == PROCMEM_PSEUDO_VDSO;
    }
    assert_true(saw_exe_code && saw_stack && saw_vdso);
    procmem_maps_cleanup(&m);
}

/* ---- ELF parser ------------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v, bool be)
{
    p[be ? 0 : 1] = (uint8_t)(v >> 8);
    p[be ? 1 : 0] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v, bool be)
{
    int i;

    for (i = 0; i < 4; i++) {
        p[be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
    }
}

static void put64(uint8_t *p, uint64_t v, bool be)
{
    int i;

    for (i = 0; i < 8; i++) {
        p[be ? 7 - i : i] = (uint8_t)(v >> (8 * i));
    }
}

/*
 * A minimal ET_DYN image: header, 3 program headers (PT_LOAD r-x, PT_DYNAMIC,
 * PT_GNU_RELRO), a dynamic section with @p dyn_tag/@p dyn_val then DT_NULL.
 * Returns the image length.
 */
static size_t make_elf(uint8_t *img, size_t cap, bool is64, bool be, uint64_t dyn_tag,
                       uint64_t dyn_val)
{
    size_t eh = is64 ? 64 : 52;
    size_t phe = is64 ? 56 : 32;
    size_t dyn_off = eh + 3 * phe;
    size_t dyne = is64 ? 16 : 8;
    size_t len = dyn_off + 2 * dyne;
    uint32_t types[3] = {1 /* PT_LOAD */, 2 /* PT_DYNAMIC */, 0x6474e552 /* PT_GNU_RELRO */};
    size_t i;

    assert_true(len <= cap);
    memset(img, 0, len);
    memcpy(img, "\177ELF", 4);
    img[4] = is64 ? 2 : 1;
    img[5] = be ? 2 : 1;
    img[6] = 1;
    put16(img + 16, 3, be); /* ET_DYN */
    if (is64) {
        put64(img + 32, eh, be);
        put16(img + 54, (uint16_t)phe, be);
        put16(img + 56, 3, be);
    } else {
        put32(img + 28, (uint32_t)eh, be);
        put16(img + 42, (uint16_t)phe, be);
        put16(img + 44, 3, be);
    }
    for (i = 0; i < 3; i++) {
        uint8_t *p = img + eh + i * phe;
        uint64_t off = i == 1 ? dyn_off : 0;
        uint64_t sz = i == 1 ? 2 * dyne : (i == 2 ? 0x100 : len);
        uint64_t vaddr = i == 2 ? 0x2000 : 0;

        put32(p, types[i], be);
        if (is64) {
            put32(p + 4, i == 0 ? 5u : 4u, be);
            put64(p + 8, off, be);
            put64(p + 16, vaddr, be);
            put64(p + 32, sz, be);
            put64(p + 40, sz, be);
        } else {
            put32(p + 4, (uint32_t)off, be);
            put32(p + 8, (uint32_t)vaddr, be);
            put32(p + 16, (uint32_t)sz, be);
            put32(p + 20, (uint32_t)sz, be);
            put32(p + 24, i == 0 ? 5u : 4u, be);
        }
    }
    if (is64) {
        put64(img + dyn_off, dyn_tag, be);
        put64(img + dyn_off + 8, dyn_val, be);
    } else {
        put32(img + dyn_off, (uint32_t)dyn_tag, be);
        put32(img + dyn_off + 4, (uint32_t)dyn_val, be);
    }
    return len;
}

static void test_elf_parse_null_and_truncated(void **state)
{
    uint8_t img[512];
    struct procmem_elf e;
    char why[WHY_SIZE];
    size_t len = make_elf(img, sizeof(img), true, false, 22 /* DT_TEXTREL */, 0);
    size_t k;

    (void)state;
    assert_int_equal(procmem_elf_parse(img, len, NULL, NULL, 0), ATT_ERR_INVALID_ARG);
    assert_int_equal(procmem_elf_parse(NULL, 1, &e, NULL, 0), ATT_ERR_INVALID_ARG);
    assert_int_equal(procmem_elf_parse(NULL, 0, &e, why, sizeof(why)), ATT_ERR_PARSE);
    assert_int_equal(procmem_elf_parse(img, len, &e, why, sizeof(why)), ATT_OK);
    for (k = 0; k < len; k++) {
        why[0] = '\0';
        assert_int_equal(procmem_elf_parse(img, k, &e, why, sizeof(why)), ATT_ERR_PARSE);
        assert_true(why[0] != '\0');
    }
}

static void test_elf_parse_classes_and_textrel(void **state)
{
    uint8_t img[512];
    struct procmem_elf e;
    int variant;

    (void)state;
    for (variant = 0; variant < 4; variant++) {
        bool is64 = (variant & 1) != 0;
        bool be = (variant & 2) != 0;
        size_t len = make_elf(img, sizeof(img), is64, be, 22 /* DT_TEXTREL */, 0);

        assert_int_equal(procmem_elf_parse(img, len, &e, NULL, 0), ATT_OK);
        assert_true(e.has_textrel && e.has_relro);
        assert_int_equal(e.relro_vaddr, 0x2000);
        assert_int_equal(e.relro_memsz, 0x100);
        assert_int_equal(e.n_loads, 1);
        assert_true(e.loads[0].is_exec);
        len = make_elf(img, sizeof(img), is64, be, 30 /* DT_FLAGS */, 4 /* DF_TEXTREL */);
        assert_int_equal(procmem_elf_parse(img, len, &e, NULL, 0), ATT_OK);
        assert_true(e.has_textrel);
        len = make_elf(img, sizeof(img), is64, be, 30 /* DT_FLAGS */, 8 /* DF_BIND_NOW */);
        assert_int_equal(procmem_elf_parse(img, len, &e, NULL, 0), ATT_OK);
        assert_false(e.has_textrel);
    }
}

static void test_elf_parse_malformed(void **state)
{
    uint8_t img[512];
    uint8_t bad[512];
    struct procmem_elf e;
    char why[WHY_SIZE];
    size_t len = make_elf(img, sizeof(img), true, false, 0, 0);

    (void)state;
#define EXPECT_BAD(mutate, part)                                                                   \
    do {                                                                                           \
        memcpy(bad, img, len);                                                                     \
        mutate;                                                                                    \
        why[0] = '\0';                                                                             \
        assert_int_equal(procmem_elf_parse(bad, len, &e, why, sizeof(why)), ATT_ERR_PARSE);        \
        assert_non_null(strstr(why, part));                                                        \
    } while (0)
    EXPECT_BAD(bad[1] = 'X', "not an ELF");
    EXPECT_BAD(bad[4] = 3, "class");
    EXPECT_BAD(bad[5] = 0, "class");
    EXPECT_BAD(bad[6] = 2, "version");
    EXPECT_BAD(put16(bad + 16, 1 /* ET_REL */, false), "not an executable");
    EXPECT_BAD(put16(bad + 54, 55, false), "program header size");
    EXPECT_BAD(put16(bad + 56, 513, false), "too many program headers");
    EXPECT_BAD(put16(bad + 56, 0xffff, false), "too many program headers");
    EXPECT_BAD(put64(bad + 32, 0xfffffffffffffff0ull, false), "outside the file");
    EXPECT_BAD(put64(bad + 32, len - 8, false), "outside the file");
    /* PT_DYNAMIC at an offset past the end, then with a huge size. */
    EXPECT_BAD(put64(bad + 64 + 56 + 8, 0x10000, false), "dynamic section outside");
    EXPECT_BAD(put64(bad + 64 + 56 + 32, 0x100000, false), "too many entries");
    /* The PT_LOAD turned into a second PT_GNU_RELRO, then a second PT_DYNAMIC. */
    EXPECT_BAD(put32(bad + 64, 0x6474e552, false), "more than one PT_GNU_RELRO");
    EXPECT_BAD(put32(bad + 64, 2, false), "more than one PT_DYNAMIC");
#undef EXPECT_BAD
}

static void test_elf_parse_real_files(void **state)
{
    const char *files[] = {"/proc/self/exe", sleep_path};
    struct procmem_elf e;
    struct att_buf b;
    size_t i;

    (void)state;
    for (i = 0; i < 2; i++) {
        read_file(files[i], &b);
        assert_int_equal(procmem_elf_parse(b.data, b.len, &e, NULL, 0), ATT_OK);
        assert_true(e.has_relro); /* both linked with -z relro */
        assert_false(e.has_textrel);
        assert_true(e.n_loads >= 2);
        att_buf_cleanup(&b);
    }
}

/* ---- cache ------------------------------------------------------------ */

static void test_cache_new_bad_limits(void **state)
{
    struct procmem_limits l;
    struct procmem_cache *c = NULL;

    (void)state;
    assert_int_equal(procmem_cache_new(NULL, NULL), ATT_ERR_INVALID_ARG);
    procmem_limits_default(&l);
    l.max_cache_entries = 0;
    assert_int_equal(procmem_cache_new(&l, &c), ATT_ERR_INVALID_ARG);
    assert_null(c);
    procmem_limits_default(&l);
    l.max_findings = 0;
    assert_int_equal(procmem_cache_new(&l, &c), ATT_ERR_INVALID_ARG);
    procmem_cache_free(NULL);
    procmem_report_free(NULL);
    assert_int_equal(procmem_cache_count(NULL), 0);
    assert_string_equal(procmem_finding_kind_str(PROCMEM_FINDING_WX), "wx");
    assert_string_equal(procmem_hint_str(PROCMEM_HINT_TEXTREL), "text relocations");
}

/* ---- inspection: arguments and gone processes ------------------------- */

static void test_inspect_bad_args(void **state)
{
    struct procmem_cache *c = NULL;
    struct procmem_report *r = NULL;

    (void)state;
    assert_int_equal(procmem_cache_new(NULL, &c), ATT_OK);
    assert_int_equal(procmem_inspect(0, c, &r), ATT_ERR_INVALID_ARG);
    assert_int_equal(procmem_inspect(-1, c, &r), ATT_ERR_INVALID_ARG);
    assert_int_equal(procmem_inspect(getpid(), NULL, &r), ATT_ERR_INVALID_ARG);
    assert_int_equal(procmem_inspect(getpid(), c, NULL), ATT_ERR_INVALID_ARG);
    assert_null(r);
    procmem_cache_free(c);
}

static void test_inspect_reaped_and_zombie_are_gone(void **state)
{
    struct procmem_report *r;
    siginfo_t si;
    pid_t pid;

    (void)state;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        _exit(0);
    }
    /* Zombie: exited, not yet reaped. */
    memset(&si, 0, sizeof(si));
    assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
    assert_int_equal(proc_state(pid), 'Z');
    r = inspect_once(pid);
    assert_true(r->is_gone);
    assert_int_equal(r->n_files, 0);
    assert_int_equal(r->n_findings, 0);
    procmem_report_free(r);
    /* Reaped: no /proc entry at all. */
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    r = inspect_once(pid);
    assert_true(r->is_gone);
    assert_int_equal(r->n_mappings, 0);
    procmem_report_free(r);
}

static void spin_us(long us)
{
    struct timespec a;
    struct timespec b;

    clock_gettime(CLOCK_MONOTONIC, &a);
    do {
        clock_gettime(CLOCK_MONOTONIC, &b);
    } while ((b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000 < us);
}

/*
 * Children that exit while being inspected, at spread-out moments: every
 * inspection must return ATT_OK, and a report either complete or marked gone.
 * The number caught mid-way is printed, not asserted (it depends on timing).
 */
static void test_inspect_exit_mid_way(void **state)
{
    struct procmem_cache *c = NULL;
    struct timespec a;
    struct timespec b;
    long full_us;
    int mid_way = 0;
    int gone = 0;
    int i;

    (void)state;
    assert_int_equal(procmem_cache_new(NULL, &c), ATT_OK);
    /* How long one inspection of a forked copy of this test takes, warm. */
    clock_gettime(CLOCK_MONOTONIC, &a);
    procmem_report_free(inspect(c, getpid()));
    clock_gettime(CLOCK_MONOTONIC, &b);
    full_us = (b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000;
    for (i = 0; i < 60; i++) {
        long life = full_us * (i % 20) / 10;
        struct procmem_report *r;
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
            spin_us(life);
            _exit(0);
        }
        r = inspect(c, pid);
        if (r->is_gone) {
            gone++;
            mid_way += r->n_mappings > 0;
        } else {
            assert_no_findings(r);
        }
        procmem_report_free(r);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
    }
    print_message("  exit mid-way: %d of 60 gone, %d of them after maps were read "
                  "(one inspection ~%ld us)\n",
                  gone, mid_way, full_us);
    procmem_cache_free(c);
}

/* ---- inspection: a clean /bin/sleep ------------------------------------ */

static void test_inspect_sleep_clean(void **state)
{
    struct procmem_report *r;
    const struct procmem_file *f;
    pid_t pid = spawn_parked(sleep_path);
    bool saw_libc = false;
    size_t i;

    (void)state;
    r = inspect_once(pid);
    assert_false(r->is_gone);
    assert_no_findings(r);
    assert_true(r->n_mappings > 5);
    assert_true(r->n_exec_mappings >= 3); /* sleep, libc, ld.so (+ vdso) */
    f = must_file(r, sleep_path);
    assert_true(f->is_main_binary && f->has_digest && !f->is_deleted && !f->is_memfd);
    assert_memory_equal(f->digest, sleep_digest, ATT_SHA256_LEN);
    for (i = 0; i < r->n_files; i++) {
        uint8_t want[ATT_SHA256_LEN];

        f = &r->files[i];
        assert_true(f->has_digest);
        assert_int_equal(att_sha256_file(f->path, want), ATT_OK);
        assert_memory_equal(f->digest, want, ATT_SHA256_LEN);
        if (strstr(f->path, "/libc.so") != NULL) {
            saw_libc = true;
            assert_false(f->is_main_binary);
        }
    }
    assert_true(saw_libc);
    assert_true(r->n_relro >= 2);
    for (i = 1; i < r->n_relro; i++) {
        assert_true(r->relro[i - 1].end <= r->relro[i].start);
    }
    assert_true(r->bytes_compared > 0);
    procmem_report_free(r);
    kill_child(pid);
}

static void test_inspect_cache_warm(void **state)
{
    struct procmem_cache *c = NULL;
    struct procmem_report *r1;
    struct procmem_report *r2;
    pid_t pid = spawn_parked(sleep_path);
    size_t i;

    (void)state;
    assert_int_equal(procmem_cache_new(NULL, &c), ATT_OK);
    r1 = inspect(c, pid);
    assert_int_equal(r1->files_hashed, r1->n_files);
    assert_int_equal(r1->cache_hits, 0);
    assert_int_equal(procmem_cache_count(c), r1->n_files);
    r2 = inspect(c, pid);
    assert_int_equal(r2->files_hashed, 0);
    assert_int_equal(r2->cache_hits, r1->n_files);
    assert_int_equal(r2->n_files, r1->n_files);
    for (i = 0; i < r1->n_files; i++) {
        assert_string_equal(r1->files[i].path, r2->files[i].path);
        assert_memory_equal(r1->files[i].digest, r2->files[i].digest, ATT_SHA256_LEN);
    }
    assert_memory_equal(r1->relro_baseline, r2->relro_baseline, ATT_SHA256_LEN);
    assert_no_findings(r2);
    procmem_report_free(r1);
    procmem_report_free(r2);
    procmem_cache_free(c);
    kill_child(pid);
}

/* ---- inspection: tampering -------------------------------------------- */

static void test_inspect_code_patch_named(void **state)
{
    struct procmem_mapping text = {0};
    struct procmem_report *r;
    const struct procmem_finding *f;
    pid_t pid = spawn_parked(sleep_path);
    uint64_t addr;
    uint8_t orig;

    (void)state;
    assert_true(find_mapping(pid, sleep_path, "r-xp", &text));
    addr = text.start + 0x123;
    orig = mem_peek(pid, addr);
    mem_poke(pid, addr, (uint8_t)(orig ^ 0x5a));
    r = inspect_once(pid);
    assert_int_equal(r->n_findings, 1);
    f = &r->findings[0];
    assert_int_equal(f->kind, PROCMEM_FINDING_CODE_MODIFIED);
    assert_int_equal(f->hint, PROCMEM_HINT_NONE);
    assert_string_equal(f->path, sleep_path);
    assert_true(f->address == addr);
    assert_true(f->offset == text.offset + 0x123);
    assert_int_equal(f->n_diff, 1);
    /* The file itself is unchanged, so its digest still is. */
    assert_memory_equal(must_file(r, sleep_path)->digest, sleep_digest, ATT_SHA256_LEN);
    procmem_report_free(r);
    kill_child(pid);
}

/*
 * Incremental re-inspection: pages the process shares with the file are not
 * compared, yet a code or read-only page patched through /proc/PID/mem (a
 * private copy now) is found exactly as by a full inspection.
 */
static void test_inspect_incremental(void **state)
{
    struct procmem_mapping text = {0};
    struct procmem_mapping head = {0};
    struct procmem_cache *c = NULL;
    struct procmem_report *full;
    struct procmem_report *inc;
    pid_t pid = spawn_parked(sleep_path);
    uint64_t addr;

    (void)state;
    assert_int_equal(procmem_cache_new(NULL, &c), ATT_OK);
    full = inspect(c, pid);
    assert_no_findings(full);
    assert_int_equal(full->bytes_skipped, 0);
    assert_int_equal(procmem_inspect_ex(pid, c, PROCMEM_INCREMENTAL, &inc), ATT_OK);
    assert_no_findings(inc);
    assert_true(inc->bytes_skipped > 0);
    /* what is still compared: the pages the loader relocated, a small part */
    assert_true(inc->bytes_compared < full->bytes_compared / 4);
    assert_int_equal(inc->n_files, full->n_files);
    procmem_report_free(inc);

    assert_true(find_mapping(pid, sleep_path, "r-xp", &text));
    addr = text.start + 0x123;
    mem_poke(pid, addr, (uint8_t)(mem_peek(pid, addr) ^ 0x5a));
    assert_true(find_mapping(pid, sleep_path, "r--p", &head));
    mem_poke(pid, head.start + 9, (uint8_t)(mem_peek(pid, head.start + 9) ^ 0xaa));
    assert_int_equal(procmem_inspect_ex(pid, c, PROCMEM_INCREMENTAL, &inc), ATT_OK);
    assert_int_equal(count_kind(inc, PROCMEM_FINDING_CODE_MODIFIED), 1);
    assert_int_equal(count_kind(inc, PROCMEM_FINDING_RODATA_MODIFIED), 1);
    assert_true(inc->bytes_skipped > 0);
    procmem_report_free(inc);
    assert_int_equal(procmem_inspect_ex(pid, c, 2u, &inc), ATT_ERR_INVALID_ARG);
    procmem_report_free(full);
    procmem_cache_free(c);
    kill_child(pid);
}

static void test_inspect_int3_is_breakpoint_not_silent(void **state)
{
    struct procmem_mapping text = {0};
    struct procmem_report *r;
    pid_t pid = spawn_parked(sleep_path);
    uint64_t addr;

    (void)state;
    assert_true(find_mapping(pid, sleep_path, "r-xp", &text));
    addr = text.start + 0x40;
    assert_true(mem_peek(pid, addr) != 0xCC);
    mem_poke(pid, addr, 0xCC);
    r = inspect_once(pid);
    assert_int_equal(r->n_findings, 1);
    assert_int_equal(r->findings[0].kind, PROCMEM_FINDING_CODE_MODIFIED);
    assert_int_equal(r->findings[0].hint, PROCMEM_HINT_BREAKPOINT);
    assert_true(r->findings[0].address == addr);
    assert_non_null(strstr(r->findings[0].detail, "breakpoint/uprobe"));
    procmem_report_free(r);
    /* An int3 cannot vouch for a real patch elsewhere in the same mapping. */
    mem_poke(pid, addr + 0x100, (uint8_t)(mem_peek(pid, addr + 0x100) ^ 0x01));
    r = inspect_once(pid);
    assert_int_equal(r->n_findings, 1);
    assert_int_equal(r->findings[0].hint, PROCMEM_HINT_NONE);
    assert_int_equal(r->findings[0].n_diff, 2);
    assert_true(r->findings[0].address == addr);
    procmem_report_free(r);
    kill_child(pid);
}

static void test_inspect_rodata_patch(void **state)
{
    struct procmem_mapping head = {0};
    struct procmem_report *r;
    pid_t pid = spawn_parked(sleep_path);
    uint64_t addr;

    (void)state;
    assert_true(find_mapping(pid, sleep_path, "r--p", &head));
    assert_int_equal(head.offset, 0);
    addr = head.start + 9; /* e_ident padding */
    mem_poke(pid, addr, (uint8_t)(mem_peek(pid, addr) ^ 0xaa));
    r = inspect_once(pid);
    assert_int_equal(r->n_findings, 1);
    assert_int_equal(r->findings[0].kind, PROCMEM_FINDING_RODATA_MODIFIED);
    assert_true(r->findings[0].address == addr);
    assert_string_equal(r->findings[0].path, sleep_path);
    procmem_report_free(r);
    kill_child(pid);
}

static void test_inspect_relro_baseline(void **state)
{
    struct procmem_cache *c = NULL;
    struct procmem_report *r1;
    struct procmem_report *r2;
    struct procmem_report *r3;
    pid_t pid = spawn_parked(sleep_path);
    const struct procmem_relro *target = NULL;
    size_t i;
    uint64_t addr;

    (void)state;
    assert_int_equal(procmem_cache_new(NULL, &c), ATT_OK);
    r1 = inspect(c, pid);
    r2 = inspect(c, pid);
    assert_no_findings(r1);
    assert_int_equal(r1->n_relro, r2->n_relro);
    assert_memory_equal(r1->relro_baseline, r2->relro_baseline, ATT_SHA256_LEN);
    for (i = 0; i < r1->n_relro; i++) {
        assert_memory_equal(r1->relro[i].digest, r2->relro[i].digest, ATT_SHA256_LEN);
        if (strcmp(r1->relro[i].path, sleep_path) == 0) {
            target = &r1->relro[i];
        }
    }
    assert_non_null(target);
    if (target == NULL) {
        abort(); /* unreachable */
    }
    /* The loader wrote these pages (they differ from the file), then made them r--p. */
    addr = target->start + 8;
    mem_poke(pid, addr, (uint8_t)(mem_peek(pid, addr) ^ 0xff));
    r3 = inspect(c, pid);
    assert_no_findings(r3); /* RELRO is baselined, not compared with the file */
    assert_int_equal(r3->n_relro, r1->n_relro);
    assert_memory_not_equal(r3->relro_baseline, r1->relro_baseline, ATT_SHA256_LEN);
    for (i = 0; i < r1->n_relro; i++) {
        bool is_target = r1->relro[i].start == target->start;

        assert_true(r3->relro[i].start == r1->relro[i].start);
        if (is_target) {
            assert_memory_not_equal(r3->relro[i].digest, r1->relro[i].digest, ATT_SHA256_LEN);
        } else {
            assert_memory_equal(r3->relro[i].digest, r1->relro[i].digest, ATT_SHA256_LEN);
        }
    }
    procmem_report_free(r1);
    procmem_report_free(r2);
    procmem_report_free(r3);
    procmem_cache_free(c);
    kill_child(pid);
}

/* ---- inspection: executable memory without a file ------------------- */

static uint64_t setup_mmap(void *arg)
{
    int prot = *(int *)arg;
    void *p = mmap(NULL, 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    return p == MAP_FAILED ? 0 : (uint64_t)(uintptr_t)p;
}

static void test_inspect_forked_child_clean(void **state)
{
    int prot = PROT_READ;
    uint64_t addr = 0;
    pid_t pid = fork_parked(setup_mmap, &prot, &addr);
    struct procmem_report *r = inspect_once(pid);
    char exe[PATH_MAX];

    (void)state;
    assert_non_null(realpath("/proc/self/exe", exe));
    assert_no_findings(r);
    assert_true(must_file(r, exe)->is_main_binary);
    procmem_report_free(r);
    kill_child(pid);
}

static void test_inspect_anon_exec(void **state)
{
    int prot = PROT_READ | PROT_EXEC;
    uint64_t addr = 0;
    pid_t pid = fork_parked(setup_mmap, &prot, &addr);
    struct procmem_report *r = inspect_once(pid);
    const struct procmem_finding *f;

    (void)state;
    if (r->n_findings != 1) {
        dump_findings(r);
    }
    assert_int_equal(r->n_findings, 1);
    f = must_kind(r, PROCMEM_FINDING_ANON_EXEC);
    assert_true(f->address == addr);
    assert_true(f->end == addr + 4096);
    assert_null(f->path);
    assert_int_equal(count_kind(r, PROCMEM_FINDING_WX), 0);
    procmem_report_free(r);
    kill_child(pid);
}

static void test_inspect_rwx(void **state)
{
    int prot = PROT_READ | PROT_WRITE | PROT_EXEC;
    uint64_t addr = 0;
    pid_t pid = fork_parked(setup_mmap, &prot, &addr);
    struct procmem_report *r = inspect_once(pid);

    (void)state;
    assert_int_equal(count_kind(r, PROCMEM_FINDING_WX), 1);
    assert_true(must_kind(r, PROCMEM_FINDING_WX)->address == addr);
    assert_int_equal(count_kind(r, PROCMEM_FINDING_ANON_EXEC), 1);
    assert_int_equal(r->n_findings, 2);
    procmem_report_free(r);
    kill_child(pid);
}

static void test_inspect_memfd_exec(void **state)
{
    char *argv[] = {arg_sleep, arg_1000, NULL};
    struct procmem_report *r;
    const struct procmem_file *f;
    struct att_buf b;
    pid_t pid;
    int fd;

    (void)state;
    fd = memfd_create("sleep", MFD_CLOEXEC | MFD_EXEC);
    if (fd < 0 && errno == EINVAL) {
        fd = memfd_create("sleep", MFD_CLOEXEC); /* before Linux 6.3 */
    }
    assert_true(fd >= 0);
    read_file(sleep_path, &b);
    assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
    att_buf_cleanup(&b);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        fexecve(fd, argv, environ);
        _exit(127);
    }
    close(fd);
    wait_parked(pid, "/memfd:sleep");
    r = inspect_once(pid);
    assert_true(count_kind(r, PROCMEM_FINDING_MEMFD_EXEC) >= 1);
    assert_int_equal(count_kind(r, PROCMEM_FINDING_MEMFD_EXEC), r->n_findings);
    assert_string_equal(must_kind(r, PROCMEM_FINDING_MEMFD_EXEC)->path, "/memfd:sleep");
    f = must_file(r, "/memfd:sleep");
    assert_true(f->is_memfd && f->is_main_binary && f->has_digest);
    assert_memory_equal(f->digest, sleep_digest, ATT_SHA256_LEN);
    procmem_report_free(r);
    kill_child(pid);
}

static void test_inspect_deleted_exec(void **state)
{
    char dir[] = "/tmp/procmem-XXXXXX";
    char path[PATH_MAX];
    struct procmem_report *r;
    const struct procmem_file *f;
    pid_t pid;

    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_true(snprintf(path, sizeof(path), "%s/sleep-copy", dir) > 0);
    copy_file(sleep_path, path, 0755);
    pid = spawn_parked(path);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
    r = inspect_once(pid);
    assert_true(count_kind(r, PROCMEM_FINDING_DELETED_EXEC) >= 1);
    assert_int_equal(count_kind(r, PROCMEM_FINDING_DELETED_EXEC), r->n_findings);
    f = must_file(r, path);
    assert_true(f->is_deleted && f->is_main_binary && f->has_digest);
    assert_memory_equal(f->digest, sleep_digest, ATT_SHA256_LEN);
    procmem_report_free(r);
    kill_child(pid);
}

/* ---- inspection: DT_TEXTREL, found through a library built here ------- */

static const char textrel_src[] = "int procmem_textrel_var = 42;\n"
                                  "int procmem_textrel_get(void);\n"
                                  "int procmem_textrel_get(void)\n"
                                  "{\n"
                                  "    int *p;\n"
                                  "    __asm__(\"movabs $procmem_textrel_var, %0\" : \"=r\"(p));\n"
                                  "    return *p;\n"
                                  "}\n";

static bool build_textrel_lib(const char *dir, char *so, size_t so_len)
{
    char src[PATH_MAX];
    static char a_cc[] = "cc";
    static char a_shared[] = "-shared";
    static char a_nopic[] = "-fno-pic";
    static char a_o1[] = "-O1";
    static char a_o[] = "-o";
    static char a_notext[] = "-Wl,-z,notext";
    char *argv[] = {a_cc, a_shared, a_nopic, a_o1, a_o, so, src, a_notext, NULL};
    pid_t pid;
    int status = 0;
    int fd;

    assert_true(snprintf(src, sizeof(src), "%s/textrel.c", dir) > 0);
    assert_true(snprintf(so, so_len, "%s/libtextrel.so", dir) > 0);
    fd = open(src, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, textrel_src, sizeof(textrel_src) - 1),
                     (ssize_t)(sizeof(textrel_src) - 1));
    close(fd);
    if (posix_spawnp(&pid, "cc", NULL, NULL, argv, environ) != 0) {
        return false;
    }
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return false;
    }
    (void)unlink(src);
    return true;
}

static uint64_t setup_dlopen(void *arg)
{
    void *h = dlopen((const char *)arg, RTLD_NOW);

    return h != NULL ? 1 : 0;
}

static void test_inspect_textrel_is_named(void **state)
{
    char dir[] = "/tmp/procmem-XXXXXX";
    char so[PATH_MAX];
    char real[PATH_MAX];
    struct procmem_elf e;
    struct procmem_report *r;
    const struct procmem_finding *f;
    struct att_buf b;
    uint64_t ok = 0;
    pid_t pid;

    (void)state;
    assert_non_null(mkdtemp(dir));
    if (!build_textrel_lib(dir, so, sizeof(so))) {
        (void)rmdir(dir);
        print_message("  no working cc: DT_TEXTREL case skipped\n");
        skip();
    }
    assert_non_null(realpath(so, real));
    read_file(real, &b);
    assert_int_equal(procmem_elf_parse(b.data, b.len, &e, NULL, 0), ATT_OK);
    assert_true(e.has_textrel);
    att_buf_cleanup(&b);
    pid = fork_parked(setup_dlopen, real, &ok);
    r = inspect_once(pid);
    if (r->n_findings != 1) {
        dump_findings(r);
    }
    assert_int_equal(r->n_findings, 1);
    f = must_kind(r, PROCMEM_FINDING_CODE_MODIFIED);
    assert_string_equal(f->path, real);
    assert_int_equal(f->hint, PROCMEM_HINT_TEXTREL);
    assert_non_null(strstr(f->detail, "text relocations"));
    assert_non_null(report_file(r, real));
    procmem_report_free(r);
    kill_child(pid);
    assert_int_equal(unlink(real), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* ---- inspection: the cache key follows the inode's state -------------- */

static uint64_t setup_map_file(void *arg)
{
    int fd = open((const char *)arg, O_RDONLY | O_CLOEXEC);
    void *p;

    if (fd < 0) {
        return 0;
    }
    p = mmap(NULL, 8192, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
    close(fd);
    return p == MAP_FAILED ? 0 : (uint64_t)(uintptr_t)p;
}

static void test_inspect_rewrite_same_inode_rehashes(void **state)
{
    char dir[] = "/tmp/procmem-XXXXXX";
    char path[PATH_MAX];
    struct procmem_cache *c = NULL;
    struct procmem_report *r;
    uint8_t first[ATT_SHA256_LEN];
    uint8_t want[ATT_SHA256_LEN];
    uint64_t addr = 0;
    uint8_t byte = 0x90;
    pid_t pid;
    int fd;

    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_true(snprintf(path, sizeof(path), "%s/blob", dir) > 0);
    copy_file(sleep_path, path, 0644);
    pid = fork_parked(setup_map_file, path, &addr);
    assert_int_equal(procmem_cache_new(NULL, &c), ATT_OK);
    /* A file changed less than 2 s ago is hashed every time ("racily clean"). */
    r = inspect(c, pid);
    assert_false(must_file(r, path)->is_main_binary);
    memcpy(first, must_file(r, path)->digest, ATT_SHA256_LEN);
    assert_memory_equal(first, sleep_digest, ATT_SHA256_LEN);
    procmem_report_free(r);
    r = inspect(c, pid);
    assert_true(r->files_hashed >= 1);
    procmem_report_free(r);
    sleep_ms(2100);
    r = inspect(c, pid);
    procmem_report_free(r);
    r = inspect(c, pid);
    assert_int_equal(r->files_hashed, 0); /* old enough: cached now */
    assert_no_findings(r);
    procmem_report_free(r);
    /* Rewrite one byte in place: same inode, new ctime -> new key, new digest. */
    fd = open(path, O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, &byte, 1, 0x1800), 1);
    close(fd);
    assert_int_equal(att_sha256_file(path, want), ATT_OK);
    r = inspect(c, pid);
    assert_int_equal(r->files_hashed, 1);
    assert_memory_equal(must_file(r, path)->digest, want, ATT_SHA256_LEN);
    assert_memory_not_equal(want, first, ATT_SHA256_LEN);
    /* The private mapping's untouched page follows the page cache: memory == file. */
    assert_no_findings(r);
    procmem_report_free(r);
    procmem_cache_free(c);
    kill_child(pid);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* ---- inspection: limits ------------------------------------------------ */

static void test_inspect_limits(void **state)
{
    struct procmem_limits l;
    struct procmem_cache *c = NULL;
    struct procmem_report *r;
    pid_t pid = spawn_parked(sleep_path);
    size_t i;

    (void)state;
    /* Files over the hashing cap: listed without digest, each one UNVERIFIED. */
    procmem_limits_default(&l);
    l.max_file_size = 4096;
    assert_int_equal(procmem_cache_new(&l, &c), ATT_OK);
    r = inspect(c, pid);
    assert_true(r->n_files >= 3);
    for (i = 0; i < r->n_files; i++) {
        assert_false(r->files[i].has_digest);
    }
    assert_int_equal(count_kind(r, PROCMEM_FINDING_UNVERIFIED), r->n_files);
    assert_int_equal(r->n_findings, r->n_files);
    procmem_report_free(r);
    r = inspect(c, pid); /* the same from the cache */
    assert_int_equal(count_kind(r, PROCMEM_FINDING_UNVERIFIED), r->n_files);
    procmem_report_free(r);
    procmem_cache_free(c);

    /* Hashing budget: no digests, nothing cached, so the next inspection tries again. */
    procmem_limits_default(&l);
    l.max_hash_bytes = 1;
    assert_int_equal(procmem_cache_new(&l, &c), ATT_OK);
    for (i = 0; i < 2; i++) {
        size_t k;

        r = inspect(c, pid);
        assert_int_equal(r->files_hashed, 0);
        assert_int_equal(r->bytes_hashed, 0);
        assert_int_equal(count_kind(r, PROCMEM_FINDING_UNVERIFIED), r->n_files);
        for (k = 0; k < r->n_files; k++) {
            assert_false(r->files[k].has_digest);
        }
        assert_non_null(strstr(r->findings[0].detail, "hashing budget"));
        assert_int_equal(procmem_cache_count(c), 0);
        procmem_report_free(r);
    }
    procmem_cache_free(c);

    /* Compare budget: one UNVERIFIED finding, the budget never overrun. */
    procmem_limits_default(&l);
    l.max_compare_bytes = 8192;
    assert_int_equal(procmem_cache_new(&l, &c), ATT_OK);
    r = inspect(c, pid);
    assert_true(r->bytes_compared <= 8192);
    assert_int_equal(count_kind(r, PROCMEM_FINDING_UNVERIFIED), 1);
    assert_non_null(strstr(must_kind(r, PROCMEM_FINDING_UNVERIFIED)->detail, "budget"));
    procmem_report_free(r);
    procmem_cache_free(c);

    /* A one-entry cache still gives right digests. */
    procmem_limits_default(&l);
    l.max_cache_entries = 1;
    assert_int_equal(procmem_cache_new(&l, &c), ATT_OK);
    for (i = 0; i < 3; i++) {
        r = inspect(c, pid);
        assert_int_equal(procmem_cache_count(c), 1);
        assert_memory_equal(must_file(r, sleep_path)->digest, sleep_digest, ATT_SHA256_LEN);
        assert_no_findings(r);
        procmem_report_free(r);
    }
    procmem_cache_free(c);
    kill_child(pid);
}

static void test_inspect_findings_cap(void **state)
{
    int prot = PROT_READ | PROT_WRITE | PROT_EXEC;
    uint64_t addr = 0;
    pid_t pid = fork_parked(setup_mmap, &prot, &addr);
    struct procmem_limits l;
    struct procmem_cache *c = NULL;
    struct procmem_report *r;

    (void)state;
    procmem_limits_default(&l);
    l.max_findings = 1;
    assert_int_equal(procmem_cache_new(&l, &c), ATT_OK);
    r = inspect(c, pid);
    assert_int_equal(r->n_findings, 1);
    assert_true(r->is_truncated);
    procmem_report_free(r);
    procmem_cache_free(c);
    kill_child(pid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maps_parse_null_args),
        cmocka_unit_test(test_maps_parse_empty_is_valid),
        cmocka_unit_test(test_maps_parse_truncated_every_field_byte),
        cmocka_unit_test(test_maps_parse_bad_hex),
        cmocka_unit_test(test_maps_parse_bad_perms),
        cmocka_unit_test(test_maps_parse_bad_ranges),
        cmocka_unit_test(test_maps_parse_overlong_path),
        cmocka_unit_test(test_maps_parse_garbage),
        cmocka_unit_test(test_maps_parse_too_many_lines),
        cmocka_unit_test(test_maps_parse_fields_and_kinds),
        cmocka_unit_test(test_maps_parse_self),
        cmocka_unit_test(test_elf_parse_null_and_truncated),
        cmocka_unit_test(test_elf_parse_classes_and_textrel),
        cmocka_unit_test(test_elf_parse_malformed),
        cmocka_unit_test(test_elf_parse_real_files),
        cmocka_unit_test(test_cache_new_bad_limits),
        cmocka_unit_test(test_inspect_bad_args),
        cmocka_unit_test(test_inspect_reaped_and_zombie_are_gone),
        cmocka_unit_test(test_inspect_exit_mid_way),
        cmocka_unit_test(test_inspect_sleep_clean),
        cmocka_unit_test(test_inspect_cache_warm),
        cmocka_unit_test(test_inspect_code_patch_named),
        cmocka_unit_test(test_inspect_incremental),
        cmocka_unit_test(test_inspect_int3_is_breakpoint_not_silent),
        cmocka_unit_test(test_inspect_rodata_patch),
        cmocka_unit_test(test_inspect_relro_baseline),
        cmocka_unit_test(test_inspect_forked_child_clean),
        cmocka_unit_test(test_inspect_anon_exec),
        cmocka_unit_test(test_inspect_rwx),
        cmocka_unit_test(test_inspect_memfd_exec),
        cmocka_unit_test(test_inspect_deleted_exec),
        cmocka_unit_test(test_inspect_textrel_is_named),
        cmocka_unit_test(test_inspect_rewrite_same_inode_rehashes),
        cmocka_unit_test(test_inspect_limits),
        cmocka_unit_test(test_inspect_findings_cap),
    };

    return cmocka_run_group_tests(tests, group_setup, NULL);
}
