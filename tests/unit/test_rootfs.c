/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* SEEK_DATA, SEEK_HOLE */
/*
 * Unit tests for agent/rootfs.h (pre-start rootfs measurement) and
 * agent/ocistate.h (OCI runtime state and config.json). Negative cases come
 * first: NULL arguments, synthetic ELF images of both classes and byte
 * orders with every header and program header fault, truncation at every
 * length and every bit flip; then real binaries (/bin/ls, libc.so.6,
 * busybox) copied into temporary rootfs trees with scripts, symlinks out of
 * the tree, a fifo, a sparse file over the cap, truncated and corrupted
 * ELFs; caps; the digest cache (hits, re-hash after a write or chmod, racy
 * margin, LRU bound); then OCI state and config documents, valid
 * (podman/runc-like) and broken in every member, and opening the rootfs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "attest/digest.h"
#include "attest/util.h"
#include "ocistate.h"
#include "rootfs.h"

#define WHY_SIZE 512
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------------- */
/* Helpers                                                                   */

static const char *const libc_candidates[] = {
    "/lib/x86_64-linux-gnu/libc.so.6",
    "/usr/lib/x86_64-linux-gnu/libc.so.6",
    "/lib/aarch64-linux-gnu/libc.so.6",
    "/usr/lib/aarch64-linux-gnu/libc.so.6",
    "/lib64/libc.so.6",
    "/usr/lib64/libc.so.6",
    "/lib/libc.so.6",
};

static const char *find_libc(void)
{
    size_t i;

    for (i = 0; i < NELEM(libc_candidates); i++) {
        if (access(libc_candidates[i], R_OK) == 0) {
            return libc_candidates[i];
        }
    }
    return NULL;
}

static const char *find_busybox(void)
{
    if (access("/bin/busybox", R_OK) == 0) {
        return "/bin/busybox";
    }
    if (access("/usr/bin/busybox", R_OK) == 0) {
        return "/usr/bin/busybox";
    }
    return NULL;
}

/* Whole file into a malloc'd buffer (test helper; files here are small). */
static uint8_t *slurp(const char *path, size_t *len)
{
    struct att_buf b;
    uint8_t *data;

    att_buf_init(&b, 256u << 20);
    assert_int_equal(att_file_read(path, &b), ATT_OK);
    data = att_buf_steal(&b, len);
    assert_non_null(data);
    return data;
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    const uint8_t *p = data;
    ssize_t n;

    assert_true(fd >= 0);
    while (len > 0) {
        n = write(fd, p, len);
        assert_true(n > 0);
        p += n;
        len -= (size_t)n;
    }
    assert_int_equal(close(fd), 0);
}

static void copy_file(const char *src, const char *dst)
{
    size_t len;
    uint8_t *data = slurp(src, &len);

    write_file(dst, data, len, 0755);
    free(data);
}

/* mkdir -p for a path under a test root. */
static void mkdirs(const char *path)
{
    char tmp[4096];
    size_t i;

    assert_true(strlen(path) < sizeof(tmp));
    (void)snprintf(tmp, sizeof(tmp), "%s", path);
    for (i = 1; tmp[i] != '\0'; i++) {
        if (tmp[i] == '/') {
            tmp[i] = '\0';
            assert_true(mkdir(tmp, 0755) == 0 || errno == EEXIST);
            tmp[i] = '/';
        }
    }
    assert_true(mkdir(tmp, 0755) == 0 || errno == EEXIST);
}

/* rm -rf through unlinkat, never following symlinks. */
static void rm_rf_at(int dfd, const char *name)
{
    struct stat st;
    int fd;
    DIR *d;
    struct dirent *de;

    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        assert_true(fd >= 0);
        d = fdopendir(fd);
        assert_non_null(d);
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                rm_rf_at(dirfd(d), de->d_name);
            }
        }
        (void)closedir(d);
        assert_int_equal(unlinkat(dfd, name, AT_REMOVEDIR), 0);
    } else {
        assert_int_equal(unlinkat(dfd, name, 0), 0);
    }
}

static void rm_rf(const char *path)
{
    rm_rf_at(AT_FDCWD, path);
}

static char *make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    char *dir;

    (void)snprintf(tmpl, sizeof(tmpl), "%s/att-rootfs-XXXXXX",
                   base != NULL && base[0] != '\0' ? base : "/tmp");
    dir = mkdtemp(tmpl);
    assert_non_null(dir);
    dir = strdup(dir);
    assert_non_null(dir);
    return dir;
}

static void join(char *out, size_t len, const char *a, const char *b)
{
    int n = snprintf(out, len, "%s%s", a, b);

    assert_true(n > 0 && (size_t)n < len);
}

/* Sleep long enough for the coarse timestamp clock to move on. */
static void tick(void)
{
    struct timespec ts = {0, 30 * 1000 * 1000};

    (void)nanosleep(&ts, NULL);
}

static const struct rootfs_entry *find_entry(const struct rootfs_result *r, const char *path)
{
    size_t i;

    for (i = 0; i < r->n_entries; i++) {
        if (strcmp(r->entries[i].path, path) == 0) {
            return &r->entries[i];
        }
    }
    return NULL;
}

/* find_entry() that fails the test when @p path is not in the result. */
static const struct rootfs_entry *must_find(const struct rootfs_result *r, const char *path)
{
    const struct rootfs_entry *e = find_entry(r, path);

    if (e == NULL) {
        fail_msg("%s not in the result", path);
        abort(); /* not reached; tells -Wnull-dereference so */
    }
    return e;
}

/* ------------------------------------------------------------------------- */
/* Synthetic ELF images                                                      */

#define SYN_SIZE     1024u
#define SYN_INTERP   512u /* "/lib/ld-test.so.1\0", 18 bytes */
#define SYN_DYNAMIC  640u
#define SYN_INTERP_S "/lib/ld-test.so.1"

struct syn {
    int cls; /* 1 = 32-bit, 2 = 64-bit */
    bool be; /* big-endian */
    uint16_t type;
    bool interp;
    bool dynamic;
    bool soname;
    bool pie;
};

static void w16(uint8_t *p, uint16_t v, bool be)
{
    p[be ? 0 : 1] = (uint8_t)(v >> 8);
    p[be ? 1 : 0] = (uint8_t)v;
}

static void w32(uint8_t *p, uint32_t v, bool be)
{
    int i;

    for (i = 0; i < 4; i++) {
        p[be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
    }
}

static void w64(uint8_t *p, uint64_t v, bool be)
{
    int i;

    for (i = 0; i < 8; i++) {
        p[be ? 7 - i : i] = (uint8_t)(v >> (8 * i));
    }
}

static void wword(uint8_t *p, uint64_t v, const struct syn *s)
{
    if (s->cls == 2) {
        w64(p, v, s->be);
    } else {
        w32(p, (uint32_t)v, s->be);
    }
}

static size_t syn_ehsize(const struct syn *s)
{
    return s->cls == 2 ? 64u : 52u;
}

static size_t syn_phentsize(const struct syn *s)
{
    return s->cls == 2 ? 56u : 32u;
}

/* Write one program header at index @p i. */
static void syn_phdr(uint8_t *buf, const struct syn *s, size_t i, uint32_t type, uint64_t off,
                     uint64_t filesz)
{
    uint8_t *p = buf + syn_ehsize(s) + i * syn_phentsize(s);

    w32(p, type, s->be);
    if (s->cls == 2) {
        w32(p + 4, 5, s->be); /* p_flags R+X */
        w64(p + 8, off, s->be);
        w64(p + 16, 0x400000 + off, s->be);
        w64(p + 24, 0x400000 + off, s->be);
        w64(p + 32, filesz, s->be);
        w64(p + 40, filesz, s->be);
        w64(p + 48, 0x1000, s->be);
    } else {
        w32(p + 4, (uint32_t)off, s->be);
        w32(p + 8, (uint32_t)(0x8048000 + off), s->be);
        w32(p + 12, (uint32_t)(0x8048000 + off), s->be);
        w32(p + 16, (uint32_t)filesz, s->be);
        w32(p + 20, (uint32_t)filesz, s->be);
        w32(p + 24, 5, s->be);
        w32(p + 28, 0x1000, s->be);
    }
}

/*
 * A SYN_SIZE-byte ELF image: header, program headers right after it
 * (PT_LOAD, then PT_INTERP and PT_DYNAMIC when asked), the interpreter
 * string at SYN_INTERP and dynamic entries at SYN_DYNAMIC, which run to the
 * end of the file so truncation anywhere cuts something the parser checks.
 */
static void syn_build(uint8_t buf[SYN_SIZE], const struct syn *s)
{
    size_t nph = 0;
    size_t dynent = s->cls == 2 ? 16u : 8u;
    size_t ndyn = (SYN_SIZE - SYN_DYNAMIC) / dynent;
    size_t k = 0;
    uint8_t *d = buf + SYN_DYNAMIC;

    memset(buf, 0, SYN_SIZE);
    memcpy(buf, "\177ELF", 4);
    buf[4] = (uint8_t)s->cls;
    buf[5] = s->be ? 2 : 1;
    buf[6] = 1;
    w16(buf + 16, s->type, s->be);
    w16(buf + 18, s->cls == 2 ? 62 : 3, s->be); /* EM_X86_64 / EM_386; not checked */
    w32(buf + 20, 1, s->be);
    syn_phdr(buf, s, nph++, 1 /* PT_LOAD */, 0, SYN_SIZE);
    if (s->interp) {
        memcpy(buf + SYN_INTERP, SYN_INTERP_S, sizeof(SYN_INTERP_S));
        syn_phdr(buf, s, nph++, 3, SYN_INTERP, sizeof(SYN_INTERP_S));
    }
    if (s->dynamic) {
        if (s->soname) {
            wword(d + k * dynent, 14, s);
            wword(d + k * dynent + dynent / 2, 1, s);
            k++;
        }
        wword(d + k * dynent, 0x6ffffffb, s);
        wword(d + k * dynent + dynent / 2, s->pie ? 0x08000001u : 0x1u, s);
        k++;
        /* then DT_NULL (all zero) and padding up to the end of the file */
        syn_phdr(buf, s, nph++, 2, SYN_DYNAMIC, ndyn * dynent);
    }
    if (s->cls == 2) {
        w64(buf + 24, 0x401000, s->be);
        w64(buf + 32, 64, s->be);
        w16(buf + 52, 64, s->be);
        w16(buf + 54, 56, s->be);
        w16(buf + 56, (uint16_t)nph, s->be);
    } else {
        w32(buf + 24, 0x8049000, s->be);
        w32(buf + 28, 52, s->be);
        w16(buf + 40, 52, s->be);
        w16(buf + 42, 32, s->be);
        w16(buf + 44, (uint16_t)nph, s->be);
    }
}

static enum rootfs_kind classify(const uint8_t *buf, size_t len, char *why)
{
    struct rootfs_elf_info info;

    assert_int_equal(rootfs_elf_classify_mem(buf, len, &info, why, WHY_SIZE), ATT_OK);
    return info.kind;
}

/* The four class x byte order combinations. */
static const struct {
    int cls;
    bool be;
} layouts[] = {{2, false}, {2, true}, {1, false}, {1, true}};

/* ------------------------------------------------------------------------- */
/* ELF: negative                                                             */

static void test_elf_classify_invalid_args(void **state)
{
    struct rootfs_elf_info info;
    uint8_t b[4] = {0x7f, 'E', 'L', 'F'};

    (void)state;
    assert_int_equal(rootfs_elf_classify_mem(b, 4, NULL, NULL, 0), ATT_ERR_INVALID_ARG);
    assert_int_equal(rootfs_elf_classify_mem(NULL, 4, &info, NULL, 0), ATT_ERR_INVALID_ARG);
    assert_int_equal(rootfs_elf_classify_mem(NULL, 0, &info, NULL, 0), ATT_OK);
    assert_int_equal(info.kind, ROOTFS_KIND_NONE);
}

static void test_elf_classify_not_elf(void **state)
{
    char why[WHY_SIZE];
    const char *script = "#!/bin/sh\necho hello\n";

    (void)state;
    assert_int_equal(classify((const uint8_t *)"", 0, why), ROOTFS_KIND_NONE);
    assert_int_equal(classify((const uint8_t *)"\177EL", 3, why), ROOTFS_KIND_NONE);
    assert_int_equal(classify((const uint8_t *)"\177ELG", 4, why), ROOTFS_KIND_NONE);
    assert_int_equal(classify((const uint8_t *)script, strlen(script), why), ROOTFS_KIND_NONE);
    assert_string_equal(why, "");
}

/* Apply @p mutate to a valid image of every layout; expect MALFORMED naming @p needle. */
static void expect_malformed(void (*mutate)(uint8_t *buf, const struct syn *s, size_t *len),
                             uint16_t type, const char *needle)
{
    uint8_t buf[SYN_SIZE];
    char why[WHY_SIZE];
    size_t i;
    size_t len;

    for (i = 0; i < NELEM(layouts); i++) {
        struct syn s = {layouts[i].cls, layouts[i].be, type, true, true, false, true};

        syn_build(buf, &s);
        len = SYN_SIZE;
        assert_int_not_equal(classify(buf, len, why), ROOTFS_KIND_MALFORMED);
        mutate(buf, &s, &len);
        if (classify(buf, len, why) != ROOTFS_KIND_MALFORMED) {
            fail_msg("layout %zu: expected malformed for \"%s\"", i, needle);
        }
        if (strstr(why, needle) == NULL) {
            fail_msg("layout %zu: why \"%s\" lacks \"%s\"", i, why, needle);
        }
    }
}

static void m_ident_short(uint8_t *b, const struct syn *s, size_t *len)
{
    (void)b;
    (void)s;
    *len = 10;
}

static void m_class(uint8_t *b, const struct syn *s, size_t *len)
{
    (void)s;
    (void)len;
    b[4] = 3;
}

static void m_data(uint8_t *b, const struct syn *s, size_t *len)
{
    (void)s;
    (void)len;
    b[5] = 0;
}

static void m_ei_version(uint8_t *b, const struct syn *s, size_t *len)
{
    (void)s;
    (void)len;
    b[6] = 2;
}

static void m_header_only_part(uint8_t *b, const struct syn *s, size_t *len)
{
    (void)b;
    *len = syn_ehsize(s) - 1;
}

static void m_e_version(uint8_t *b, const struct syn *s, size_t *len)
{
    (void)len;
    w32(b + 20, 0, s->be);
}

static void m_e_type(uint8_t *b, const struct syn *s, size_t *len)
{
    (void)len;
    w16(b + 16, 0xfe00, s->be);
}

static void m_phentsize(uint8_t *b, const struct syn *s, size_t *len)
{
    (void)len;
    w16(b + (s->cls == 2 ? 54 : 42), (uint16_t)(syn_phentsize(s) - 1), s->be);
}

static void m_phnum_zero(uint8_t *b, const struct syn *s, size_t *len)
{
    (void)len;
    w16(b + (s->cls == 2 ? 56 : 44), 0, s->be);
}

static void m_phnum_huge(uint8_t *b, const struct syn *s, size_t *len)
{
    (void)len;
    w16(b + (s->cls == 2 ? 56 : 44), 0xffff, s->be);
}

static void m_phoff_past_end(uint8_t *b, const struct syn *s, size_t *len)
{
    (void)len;
    wword(b + (s->cls == 2 ? 32 : 28), SYN_SIZE - 8, s);
}

static void m_phoff_wrap(uint8_t *b, const struct syn *s, size_t *len)
{
    (void)len;
    wword(b + (s->cls == 2 ? 32 : 28), s->cls == 2 ? UINT64_MAX - 16 : UINT32_MAX - 16, s);
}

static void m_header_only(uint8_t *b, const struct syn *s, size_t *len)
{
    (void)b;
    *len = syn_ehsize(s);
}

/* Program header 1 is PT_INTERP in these images. */
static void m_interp_past_end(uint8_t *b, const struct syn *s, size_t *len)
{
    (void)len;
    syn_phdr(b, s, 1, 3, SYN_SIZE - 4, 18);
}

static void m_interp_offset_wrap(uint8_t *b, const struct syn *s, size_t *len)
{
    (void)len;
    syn_phdr(b, s, 1, 3, s->cls == 2 ? UINT64_MAX - 2 : UINT32_MAX - 2, 18);
}

static void m_interp_tiny(uint8_t *b, const struct syn *s, size_t *len)
{
    (void)len;
    syn_phdr(b, s, 1, 3, SYN_INTERP, 1);
}

static void m_interp_big(uint8_t *b, const struct syn *s, size_t *len)
{
    (void)len;
    syn_phdr(b, s, 1, 3, 0, 4097);
}

static void m_two_interp(uint8_t *b, const struct syn *s, size_t *len)
{
    (void)len;
    syn_phdr(b, s, 0, 3, SYN_INTERP, 18); /* PT_LOAD becomes a second PT_INTERP */
}

static void m_two_dynamic(uint8_t *b, const struct syn *s, size_t *len)
{
    (void)len;
    syn_phdr(b, s, 0, 2, SYN_DYNAMIC, 16);
}

static void m_dynamic_past_end(uint8_t *b, const struct syn *s, size_t *len)
{
    (void)len;
    syn_phdr(b, s, 2, 2, SYN_DYNAMIC, SYN_SIZE);
}

static void m_truncate_dynamic(uint8_t *b, const struct syn *s, size_t *len)
{
    (void)b;
    (void)s;
    *len = SYN_SIZE - 1;
}

static void test_elf_classify_malformed(void **state)
{
    (void)state;
    expect_malformed(m_ident_short, 3, "identification");
    expect_malformed(m_class, 3, "EI_CLASS");
    expect_malformed(m_data, 3, "EI_DATA");
    expect_malformed(m_ei_version, 3, "EI_VERSION");
    expect_malformed(m_header_only_part, 3, "truncated ELF header");
    expect_malformed(m_e_version, 3, "e_version");
    expect_malformed(m_e_type, 3, "e_type");
    expect_malformed(m_phentsize, 3, "e_phentsize");
    expect_malformed(m_phnum_zero, 3, "e_phnum");
    expect_malformed(m_phnum_huge, 3, "e_phnum");
    expect_malformed(m_phoff_past_end, 3, "past the end");
    expect_malformed(m_phoff_wrap, 3, "past the end");
    expect_malformed(m_header_only, 3, "past the end");
    expect_malformed(m_interp_past_end, 3, "PT_INTERP");
    expect_malformed(m_interp_offset_wrap, 3, "PT_INTERP");
    expect_malformed(m_interp_tiny, 3, "PT_INTERP of 1 bytes");
    expect_malformed(m_interp_big, 3, "PT_INTERP of 4097 bytes");
    expect_malformed(m_two_interp, 3, "more than one PT_INTERP");
    expect_malformed(m_two_dynamic, 3, "more than one PT_DYNAMIC");
    expect_malformed(m_dynamic_past_end, 3, "PT_DYNAMIC");
    expect_malformed(m_truncate_dynamic, 3, "PT_DYNAMIC");
    /* the same faults in executables */
    expect_malformed(m_phoff_past_end, 2, "past the end");
    expect_malformed(m_two_interp, 2, "more than one PT_INTERP");
}

/* Every prefix of a valid image is NONE (< 4 bytes) or MALFORMED, never a verdict. */
static void test_elf_classify_truncated_every_length(void **state)
{
    uint8_t buf[SYN_SIZE];
    char why[WHY_SIZE];
    size_t i;
    size_t len;
    enum rootfs_kind k;

    (void)state;
    for (i = 0; i < NELEM(layouts); i++) {
        struct syn s = {layouts[i].cls, layouts[i].be, 3, true, true, true, false};

        syn_build(buf, &s);
        assert_int_equal(classify(buf, SYN_SIZE, why), ROOTFS_KIND_SHLIB);
        for (len = 0; len < SYN_SIZE; len++) {
            uint8_t *copy = malloc(len + 1); /* exact size so ASan sees any over-read */

            assert_non_null(copy);
            memcpy(copy, buf, len);
            k = classify(copy, len, why);
            free(copy);
            assert_int_equal(k, len < 4 ? ROOTFS_KIND_NONE : ROOTFS_KIND_MALFORMED);
        }
    }
}

/* Every single-bit flip of the headers: no crash, no over-read (ASan), some verdict. */
static void test_elf_classify_bitflips(void **state)
{
    uint8_t buf[SYN_SIZE];
    uint8_t *copy;
    char why[WHY_SIZE];
    size_t i;
    size_t bit;
    size_t hdr;

    (void)state;
    for (i = 0; i < NELEM(layouts); i++) {
        struct syn s = {layouts[i].cls, layouts[i].be, 3, true, true, true, true};

        syn_build(buf, &s);
        hdr = syn_ehsize(&s) + 3 * syn_phentsize(&s) + 64;
        for (bit = 0; bit < hdr * 8; bit++) {
            copy = malloc(SYN_SIZE);
            assert_non_null(copy);
            memcpy(copy, buf, SYN_SIZE);
            copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            (void)classify(copy, SYN_SIZE, why);
            free(copy);
        }
    }
}

/* ------------------------------------------------------------------------- */
/* ELF: positive                                                             */

static void test_elf_classify_synthetic(void **state)
{
    uint8_t buf[SYN_SIZE];
    char why[WHY_SIZE];
    struct rootfs_elf_info info;
    size_t i;

    (void)state;
    for (i = 0; i < NELEM(layouts); i++) {
        int c = layouts[i].cls;
        bool be = layouts[i].be;
        struct syn exec_static = {c, be, 2, false, false, false, false};
        struct syn exec_dyn = {c, be, 2, true, true, false, false};
        struct syn pie = {c, be, 3, true, true, false, true};
        struct syn old_pie = {c, be, 3, true, true, false, false};
        struct syn static_pie = {c, be, 3, false, true, false, true};
        struct syn lib = {c, be, 3, false, true, true, false};
        struct syn runnable_lib = {c, be, 3, true, true, true, false};
        struct syn bare_dyn = {c, be, 3, false, false, false, false};
        struct syn rel = {c, be, 1, false, false, false, false};
        struct syn core = {c, be, 4, false, false, false, false};

        syn_build(buf, &exec_static);
        assert_int_equal(classify(buf, SYN_SIZE, why), ROOTFS_KIND_EXEC);
        syn_build(buf, &exec_dyn);
        assert_int_equal(classify(buf, SYN_SIZE, why), ROOTFS_KIND_EXEC);
        syn_build(buf, &pie);
        assert_int_equal(rootfs_elf_classify_mem(buf, SYN_SIZE, &info, why, sizeof(why)), ATT_OK);
        assert_int_equal(info.kind, ROOTFS_KIND_EXEC);
        assert_true(info.has_interp);
        assert_true(info.has_pie_flag);
        assert_false(info.has_soname);
        assert_int_equal(info.elf_class, c);
        assert_int_equal(info.elf_data, be ? 2 : 1);
        assert_int_equal(info.e_type, 3);
        assert_int_equal(info.e_machine, c == 2 ? 62 : 3);
        syn_build(buf, &old_pie);
        assert_int_equal(classify(buf, SYN_SIZE, why), ROOTFS_KIND_EXEC);
        syn_build(buf, &static_pie);
        assert_int_equal(classify(buf, SYN_SIZE, why), ROOTFS_KIND_EXEC);
        syn_build(buf, &lib);
        assert_int_equal(classify(buf, SYN_SIZE, why), ROOTFS_KIND_SHLIB);
        syn_build(buf, &runnable_lib);
        assert_int_equal(rootfs_elf_classify_mem(buf, SYN_SIZE, &info, why, sizeof(why)), ATT_OK);
        assert_int_equal(info.kind, ROOTFS_KIND_SHLIB);
        assert_true(info.has_interp);
        assert_true(info.has_soname);
        syn_build(buf, &bare_dyn);
        assert_int_equal(classify(buf, SYN_SIZE, why), ROOTFS_KIND_SHLIB);
        syn_build(buf, &rel);
        assert_int_equal(classify(buf, SYN_SIZE, why), ROOTFS_KIND_OTHER);
        syn_build(buf, &core);
        assert_int_equal(classify(buf, SYN_SIZE, why), ROOTFS_KIND_OTHER);
        assert_string_equal(why, "");
    }
}

static void test_elf_classify_real_binaries(void **state)
{
    struct rootfs_elf_info info;
    char why[WHY_SIZE];
    const char *libc = find_libc();
    const char *bb = find_busybox();
    uint8_t *data;
    size_t len;

    (void)state;
    data = slurp("/bin/ls", &len);
    assert_int_equal(rootfs_elf_classify_mem(data, len, &info, why, sizeof(why)), ATT_OK);
    assert_int_equal(info.kind, ROOTFS_KIND_EXEC);
    assert_true(info.has_interp);
    /* the first 64 bytes: a header whose program header table is missing */
    assert_int_equal(rootfs_elf_classify_mem(data, 64, &info, why, sizeof(why)), ATT_OK);
    assert_int_equal(info.kind, ROOTFS_KIND_MALFORMED);
    assert_non_null(strstr(why, "program header table"));
    free(data);
    if (libc != NULL) {
        data = slurp(libc, &len);
        assert_int_equal(rootfs_elf_classify_mem(data, len, &info, why, sizeof(why)), ATT_OK);
        assert_int_equal(info.kind, ROOTFS_KIND_SHLIB);
        assert_true(info.has_soname);
        free(data);
    }
    if (bb != NULL) {
        data = slurp(bb, &len);
        assert_int_equal(rootfs_elf_classify_mem(data, len, &info, why, sizeof(why)), ATT_OK);
        assert_int_equal(info.kind, ROOTFS_KIND_EXEC);
        assert_false(info.has_interp);
        free(data);
    }
}

/* ------------------------------------------------------------------------- */
/* Scan: fixture                                                             */

struct tree {
    char *dir; /* owned temp dir; the rootfs is dir + "/rootfs" */
    char root[4096];
    bool has_libc;
    bool has_busybox;
};

static void tree_path(const struct tree *t, const char *rel, char *out, size_t len)
{
    join(out, len, t->root, rel);
}

static void tree_file(const struct tree *t, const char *rel, const void *data, size_t len,
                      mode_t mode)
{
    char p[4096];

    tree_path(t, rel, p, sizeof(p));
    write_file(p, data, len, mode);
}

static void tree_copy(const struct tree *t, const char *src, const char *rel)
{
    char p[4096];

    tree_path(t, rel, p, sizeof(p));
    copy_file(src, p);
}

/* Copy of /bin/ls with PT_INTERP's p_offset pointed far past the end. */
static void tree_corrupt_phdr(const struct tree *t, const char *rel)
{
    size_t len;
    uint8_t *data = slurp("/bin/ls", &len);
    uint64_t phoff = 0;
    uint16_t phnum;
    uint16_t i;
    int k;

    assert_int_equal(data[4], 2); /* the test host's ls is ELFCLASS64 little-endian */
    assert_int_equal(data[5], 1);
    for (k = 7; k >= 0; k--) {
        phoff = (phoff << 8) | data[32 + k];
    }
    phnum = (uint16_t)(data[56] | (data[57] << 8));
    for (i = 0; i < phnum; i++) {
        uint8_t *p = data + phoff + (size_t)i * 56u;

        if (p[0] == 3 && p[1] == 0 && p[2] == 0 && p[3] == 0) {
            w64(p + 8, 0x7fffffffffffull, false);
        }
    }
    tree_file(t, rel, data, len, 0755);
    free(data);
}

/*
 * The rootfs used by most scan tests:
 *   /bin/ls /bin/busybox /bin/run.sh /bin/hostls -> /usr/bin/ls (host) /hostlib -> /lib
 *   /lib/libc.so.6 /lib/trunc.so (64 bytes) /lib/badph.so /lib/foo.o (ET_REL)
 *   /run/fifo /tmp/empty /tmp/tiny /proc/self/exe /sys/x /dev/x /var/huge (sparse, not ELF)
 */
static void tree_setup(struct tree *t)
{
    static const char script[] = "#!/bin/sh\necho measured? no\n";
    const char *libc = find_libc();
    const char *bb = find_busybox();
    uint8_t syn[SYN_SIZE];
    struct syn rel = {2, false, 1, false, false, false, false};
    uint8_t *data;
    size_t len;
    char p[4096];
    int fd;

    memset(t, 0, sizeof(*t));
    t->dir = make_tmpdir();
    join(t->root, sizeof(t->root), t->dir, "/rootfs");
    tree_path(t, "/bin", p, sizeof(p));
    mkdirs(p);
    tree_path(t, "/lib", p, sizeof(p));
    mkdirs(p);
    tree_path(t, "/run", p, sizeof(p));
    mkdirs(p);
    tree_path(t, "/tmp", p, sizeof(p));
    mkdirs(p);
    tree_path(t, "/var", p, sizeof(p));
    mkdirs(p);
    tree_path(t, "/proc/self", p, sizeof(p));
    mkdirs(p);
    tree_path(t, "/sys", p, sizeof(p));
    mkdirs(p);
    tree_path(t, "/dev", p, sizeof(p));
    mkdirs(p);

    tree_copy(t, "/bin/ls", "/bin/ls");
    tree_copy(t, "/bin/ls", "/proc/self/exe"); /* under proc: skipped */
    tree_copy(t, "/bin/ls", "/sys/x");
    tree_copy(t, "/bin/ls", "/dev/x");
    if (bb != NULL) {
        tree_copy(t, bb, "/bin/busybox");
        t->has_busybox = true;
    }
    if (libc != NULL) {
        tree_copy(t, libc, "/lib/libc.so.6");
        t->has_libc = true;
    }
    tree_file(t, "/bin/run.sh", script, sizeof(script) - 1, 0755);
    tree_path(t, "/bin/hostls", p, sizeof(p));
    assert_int_equal(symlink("/usr/bin/ls", p), 0);
    tree_path(t, "/hostlib", p, sizeof(p));
    assert_int_equal(symlink("/lib", p), 0);
    tree_path(t, "/run/fifo", p, sizeof(p));
    assert_int_equal(mkfifo(p, 0600), 0);
    tree_file(t, "/tmp/empty", "", 0, 0644);
    tree_file(t, "/tmp/tiny", "\177EL", 3, 0644);

    data = slurp("/bin/ls", &len);
    tree_file(t, "/lib/trunc.so", data, 64, 0755);
    free(data);
    tree_corrupt_phdr(t, "/lib/badph.so");
    syn_build(syn, &rel);
    tree_file(t, "/lib/foo.o", syn, sizeof(syn), 0644);

    /* 64 GiB of hole without the ELF magic: classified from 4 bytes, never read */
    tree_path(t, "/var/huge", p, sizeof(p));
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "data", 4), 4);
    assert_int_equal(ftruncate(fd, (off_t)64 << 30), 0);
    assert_int_equal(close(fd), 0);
}

static void tree_teardown(struct tree *t)
{
    rm_rf(t->dir);
    free(t->dir);
}

static void check_digest_at(const char *root, const struct rootfs_entry *e)
{
    uint8_t want[ATT_SHA256_LEN];
    char p[8400];

    join(p, sizeof(p), root, e->path);
    assert_int_equal(att_sha256_file(p, want), ATT_OK);
    assert_memory_equal(e->digest, want, ATT_SHA256_LEN);
}

static void check_digest(const struct tree *t, const struct rootfs_entry *e)
{
    check_digest_at(t->root, e);
}

/* ------------------------------------------------------------------------- */
/* Scan: negative                                                            */

static void test_rootfs_scan_invalid_args(void **state)
{
    struct rootfs_result *r = (struct rootfs_result *)(uintptr_t)0x1;
    struct rootfs_limits lim;
    char why[WHY_SIZE];
    struct tree t;
    char p[4096];
    int fd;

    (void)state;
    tree_setup(&t);
    assert_int_equal(rootfs_scan(-1, NULL, NULL, &r, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_int_equal(rootfs_scan_path(t.root, NULL, NULL, NULL, why, sizeof(why)),
                     ATT_ERR_INVALID_ARG);
    assert_int_equal(rootfs_scan_path(NULL, NULL, NULL, &r, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    tree_path(&t, "/bin/ls", p, sizeof(p));
    fd = open(p, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(rootfs_scan(fd, NULL, NULL, &r, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_non_null(strstr(why, "not a directory"));
    (void)close(fd);
    assert_int_equal(rootfs_scan_path(p, NULL, NULL, &r, why, sizeof(why)), ATT_ERR_IO);
    tree_path(&t, "/nonexistent", p, sizeof(p));
    assert_int_equal(rootfs_scan_path(p, NULL, NULL, &r, why, sizeof(why)), ATT_ERR_NOT_FOUND);
    /* the rootfs itself must not be a symlink */
    tree_path(&t, "/hostlib", p, sizeof(p));
    assert_int_equal(rootfs_scan_path(p, NULL, NULL, &r, why, sizeof(why)), ATT_ERR_IO);
    assert_non_null(strstr(why, "symlink"));
    rootfs_limits_default(&lim);
    lim.max_path = 0;
    assert_int_equal(rootfs_scan_path(t.root, NULL, &lim, &r, why, sizeof(why)),
                     ATT_ERR_INVALID_ARG);
    assert_ptr_equal(r, (struct rootfs_result *)(uintptr_t)0x1);
    rootfs_result_free(NULL);
    rootfs_limits_default(NULL);
    tree_teardown(&t);
}

static void expect_cap(const struct tree *t, const struct rootfs_limits *lim,
                       struct rootfs_cache *cache, const char *needle)
{
    struct rootfs_result *r = (struct rootfs_result *)(uintptr_t)0x1;
    char why[WHY_SIZE];

    assert_int_equal(rootfs_scan_path(t->root, cache, lim, &r, why, sizeof(why)), ATT_ERR_PARSE);
    assert_ptr_equal(r, (struct rootfs_result *)(uintptr_t)0x1);
    if (strstr(why, needle) == NULL) {
        fail_msg("why \"%s\" lacks \"%s\"", why, needle);
    }
}

static void test_rootfs_scan_caps(void **state)
{
    struct rootfs_limits lim;
    struct rootfs_cache *cache = rootfs_cache_new(1024);
    struct rootfs_result *r = NULL;
    char why[WHY_SIZE];
    struct tree t;
    char p[4096];
    int pass;

    (void)state;
    assert_non_null(cache);
    rootfs_cache_set_racy_nsec(cache, 0);
    tree_setup(&t);
    tree_path(&t, "/a/b/c/d", p, sizeof(p));
    mkdirs(p);
    /* cold, then warm: a cap fails the same way whether the cache answers or not */
    assert_int_equal(rootfs_scan_path(t.root, cache, NULL, &r, why, sizeof(why)), ATT_OK);
    rootfs_result_free(r);
    for (pass = 0; pass < 2; pass++) {
        struct rootfs_cache *c = pass == 0 ? NULL : cache;

        rootfs_limits_default(&lim);
        lim.max_files = 1;
        expect_cap(&t, &lim, c, "max_files");
        rootfs_limits_default(&lim);
        lim.max_total_bytes = 4096;
        expect_cap(&t, &lim, c, "max_total_bytes");
        rootfs_limits_default(&lim);
        lim.max_entries = 5;
        expect_cap(&t, &lim, c, "max_entries");
        rootfs_limits_default(&lim);
        lim.max_path = 6; /* "/bin/b" fits, "/bin/busybox" does not */
        expect_cap(&t, &lim, c, "path length");
        rootfs_limits_default(&lim);
        lim.max_depth = 3; /* /a/b/c is 3 deep, /a/b/c/d 4 */
        expect_cap(&t, &lim, c, "max_depth");
        rootfs_limits_default(&lim);
        lim.reject_malformed = true;
        expect_cap(&t, &lim, c, "malformed ELF");
    }
    /* reject_malformed names the first malformed file in scan order */
    rootfs_limits_default(&lim);
    lim.reject_malformed = true;
    assert_int_equal(rootfs_scan_path(t.root, NULL, &lim, &r, why, sizeof(why)), ATT_ERR_PARSE);
    assert_non_null(strstr(why, "\"/lib/badph.so\""));
    assert_non_null(strstr(why, "PT_INTERP"));
    /* max_depth 4 is enough */
    rootfs_limits_default(&lim);
    lim.max_depth = 4;
    assert_int_equal(rootfs_scan_path(t.root, NULL, &lim, &r, why, sizeof(why)), ATT_OK);
    rootfs_result_free(r);
    rootfs_cache_free(cache);
    tree_teardown(&t);
}

/* An ELF header followed by a hole far beyond the byte cap: refused before any hashing. */
static void test_rootfs_scan_sparse_over_cap(void **state)
{
    struct rootfs_limits lim;
    struct rootfs_result *r = NULL;
    char why[WHY_SIZE];
    struct timespec t0;
    struct timespec t1;
    uint8_t *data;
    size_t len;
    char dir[4096];
    char p[4096];
    char *tmp;
    int fd;

    (void)state;
    tmp = make_tmpdir();
    join(dir, sizeof(dir), tmp, "/rootfs");
    mkdirs(dir);
    join(p, sizeof(p), dir, "/huge.so");
    data = slurp("/bin/ls", &len);
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, 4096), 4096);
    free(data);
    assert_int_equal(ftruncate(fd, (off_t)1 << 40), 0); /* 1 TiB */
    assert_int_equal(close(fd), 0);
    rootfs_limits_default(&lim);
    assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &t0), 0);
    assert_int_equal(rootfs_scan_path(dir, NULL, &lim, &r, why, sizeof(why)), ATT_ERR_PARSE);
    assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &t1), 0);
    assert_non_null(strstr(why, "max_total_bytes"));
    assert_non_null(strstr(why, "\"/huge.so\""));
    assert_true(t1.tv_sec - t0.tv_sec < 5); /* not read */
    rm_rf(tmp);
    free(tmp);
}

/* A tree deeper than max_path: the path cap trips, never a truncated path. */
static void test_rootfs_scan_long_path(void **state)
{
    struct rootfs_limits lim;
    struct rootfs_result *r = NULL;
    char why[WHY_SIZE];
    char name[256];
    char *tmp = make_tmpdir();
    int fd;
    int next;
    int i;

    (void)state;
    memset(name, 'n', 200);
    name[200] = '\0';
    fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    for (i = 0; i < 25; i++) { /* 25 * 201 bytes > 4095 */
        assert_int_equal(mkdirat(fd, name, 0755), 0);
        next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(next >= 0);
        (void)close(fd);
        fd = next;
    }
    (void)close(fd);
    rootfs_limits_default(&lim);
    assert_int_equal(rootfs_scan_path(tmp, NULL, &lim, &r, why, sizeof(why)), ATT_ERR_PARSE);
    assert_non_null(strstr(why, "path length"));
    assert_non_null(strstr(why, "...")); /* the message path is cut, not the scan's */
    rm_rf(tmp);
    free(tmp);
}

/* ------------------------------------------------------------------------- */
/* Scan: positive                                                            */

static void test_rootfs_scan_classifies(void **state)
{
    struct rootfs_result *r = NULL;
    const struct rootfs_entry *e;
    char why[WHY_SIZE];
    struct tree t;
    size_t want = 3; /* ls, trunc.so, badph.so */
    size_t i;
    int fd;
    off_t before;

    (void)state;
    tree_setup(&t);
    fd = open(t.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    before = lseek(fd, 0, SEEK_CUR);
    assert_int_equal(rootfs_scan(fd, NULL, NULL, &r, why, sizeof(why)), ATT_OK);
    assert_int_equal(lseek(fd, 0, SEEK_CUR), before);
    (void)close(fd);
    assert_string_equal(why, "");

    e = must_find(r, "/bin/ls");
    assert_int_equal(e->kind, ROOTFS_KIND_EXEC);
    assert_true(e->has_interp);
    if (t.has_busybox) {
        want++;
        e = must_find(r, "/bin/busybox");
        assert_int_equal(e->kind, ROOTFS_KIND_EXEC);
        assert_false(e->has_interp);
    }
    if (t.has_libc) {
        want++;
        e = must_find(r, "/lib/libc.so.6");
        assert_int_equal(e->kind, ROOTFS_KIND_SHLIB);
    }
    e = must_find(r, "/lib/trunc.so");
    assert_int_equal(e->kind, ROOTFS_KIND_MALFORMED);
    assert_int_equal(e->size, 64);
    e = must_find(r, "/lib/badph.so");
    assert_int_equal(e->kind, ROOTFS_KIND_MALFORMED);
    /* never measured: script, object file, symlinks (and their host targets), skipped dirs */
    assert_null(find_entry(r, "/bin/run.sh"));
    assert_null(find_entry(r, "/lib/foo.o"));
    assert_null(find_entry(r, "/bin/hostls"));
    assert_null(find_entry(r, "/hostlib/libc.so.6"));
    assert_null(find_entry(r, "/proc/self/exe"));
    assert_null(find_entry(r, "/sys/x"));
    assert_null(find_entry(r, "/dev/x"));
    assert_int_equal(r->n_entries, want);

    for (i = 0; i < r->n_entries; i++) {
        check_digest(&t, &r->entries[i]);
        assert_true(r->entries[i].path[0] == '/');
        if (i > 0) {
            assert_true(strcmp(r->entries[i - 1].path, r->entries[i].path) < 0);
        }
    }
    assert_int_equal(r->n_skipped, 3);
    assert_string_equal(r->skipped[0].path, "/dev");
    assert_string_equal(r->skipped[1].path, "/proc");
    assert_string_equal(r->skipped[2].path, "/sys");
    for (i = 0; i < r->n_skipped; i++) {
        assert_int_equal(r->skipped[i].reason, ROOTFS_SKIP_PSEUDO);
    }
    assert_int_equal(r->stats.symlinks, 2);
    assert_int_equal(r->stats.special, 1);
    assert_int_equal(r->stats.elf_other, 1);
    assert_int_equal(r->stats.malformed, 2);
    assert_int_equal(r->stats.not_elf, 4); /* run.sh, empty, tiny, huge */
    assert_int_equal(r->stats.hashed, want);
    assert_int_equal(r->stats.cache_hits, 0);
    assert_int_equal(r->stats.regular, want + 5);
    assert_true(r->stats.bytes_hashed == r->stats.bytes_total);
    assert_true(r->stats.bytes_total < ((uint64_t)1 << 30)); /* the sparse file was not read */
    rootfs_result_free(r);
    tree_teardown(&t);
}

/*
 * More measured files than one hash batch (32), several MiB: hashed by two
 * threads, yet every entry carries its own file's digest, in walk order,
 * with non-ELF files between them left out.
 */
static void test_rootfs_scan_batches(void **state)
{
    struct rootfs_result *r = NULL;
    char why[WHY_SIZE];
    char rel[64];
    struct tree t;
    uint8_t *ls;
    uint8_t *copy;
    size_t ls_len;
    size_t i;
    const size_t n = 81;
    char p[4096];

    (void)state;
    tree_setup(&t);
    tree_path(&t, "/opt", p, sizeof(p));
    mkdirs(p);
    ls = slurp("/bin/ls", &ls_len);
    copy = malloc(ls_len + 8);
    assert_non_null(copy);
    memcpy(copy, ls, ls_len);
    for (i = 0; i < n; i++) {
        /* a distinct trailer per copy: the digests differ, the ELF stays valid */
        (void)snprintf((char *)copy + ls_len, 8, "%07zu", i);
        (void)snprintf(rel, sizeof(rel), "/opt/b%03zu", i);
        tree_file(&t, rel, copy, ls_len + 7, 0755);
        (void)snprintf(rel, sizeof(rel), "/opt/b%03zu.txt", i);
        tree_file(&t, rel, "not an ELF file", 15, 0644);
    }
    assert_int_equal(rootfs_scan_path(t.root, NULL, NULL, &r, why, sizeof(why)), ATT_OK);
    assert_string_equal(why, "");
    for (i = 0; i < r->n_entries; i++) {
        check_digest(&t, &r->entries[i]);
        if (i > 0) {
            assert_true(strcmp(r->entries[i - 1].path, r->entries[i].path) < 0);
            assert_memory_not_equal(r->entries[i - 1].digest, r->entries[i].digest, ATT_SHA256_LEN);
        }
    }
    for (i = 0; i < n; i++) {
        (void)snprintf(rel, sizeof(rel), "/opt/b%03zu", i);
        assert_int_equal(must_find(r, rel)->kind, ROOTFS_KIND_EXEC);
        (void)snprintf(rel, sizeof(rel), "/opt/b%03zu.txt", i);
        assert_null(find_entry(r, rel));
    }
    assert_int_equal(r->stats.hashed, r->n_entries);
    assert_true(r->stats.bytes_hashed == r->stats.bytes_total);
    rootfs_result_free(r);
    free(copy);
    free(ls);
    tree_teardown(&t);
}

/*
 * Hard links to one file within one batch: with a cache, the first is hashed
 * and each later link is a cache hit on it (never opened), as it was before
 * files were hashed in batches; every entry has the file's digest.
 */
static void test_rootfs_scan_batch_hard_links(void **state)
{
    struct rootfs_cache *cache = rootfs_cache_new(ROOTFS_CACHE_DEFAULT_MAX);
    struct rootfs_result *r = NULL;
    char why[WHY_SIZE];
    char *dir = make_tmpdir();
    char root[4096];
    char bin[4096];
    char src[4096];
    char p[4096];
    char rel[64];
    size_t i;
    const size_t links = 10;

    (void)state;
    assert_non_null(cache);
    rootfs_cache_set_racy_nsec(cache, 0); /* the files were made a moment ago */
    join(root, sizeof(root), dir, "/rootfs");
    join(bin, sizeof(bin), root, "/bin");
    mkdirs(bin);
    join(src, sizeof(src), bin, "/a");
    copy_file("/bin/ls", src);
    for (i = 0; i < links; i++) {
        (void)snprintf(rel, sizeof(rel), "/l%02zu", i);
        join(p, sizeof(p), bin, rel);
        assert_int_equal(link(src, p), 0);
    }
    /* without a cache each link is measured on its own, as ever */
    assert_int_equal(rootfs_scan_path(root, NULL, NULL, &r, why, sizeof(why)), ATT_OK);
    assert_int_equal(r->n_entries, links + 1);
    assert_int_equal(r->stats.hashed, links + 1);
    assert_int_equal(r->stats.cache_hits, 0);
    rootfs_result_free(r);
    r = NULL;

    assert_int_equal(rootfs_scan_path(root, cache, NULL, &r, why, sizeof(why)), ATT_OK);
    assert_int_equal(r->n_entries, links + 1);
    assert_int_equal(r->stats.hashed, 1);
    assert_int_equal(r->stats.cache_hits, links);
    assert_true(r->stats.bytes_hashed == r->entries[0].size);
    assert_true(r->stats.bytes_total == (uint64_t)(links + 1) * r->entries[0].size);
    assert_string_equal(r->entries[0].path, "/bin/a");
    for (i = 0; i < r->n_entries; i++) {
        assert_int_equal(r->entries[i].kind, r->entries[0].kind);
        check_digest_at(root, &r->entries[i]);
    }
    assert_int_equal(rootfs_cache_count(cache), 1);
    rootfs_result_free(r);
    rootfs_cache_free(cache);
    rm_rf(dir);
    free(dir);
}

static size_t count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    size_t n = 0;

    assert_non_null(d);
    while (readdir(d) != NULL) {
        n++;
    }
    assert_int_equal(closedir(d), 0);
    return n;
}

/*
 * max_files hit while a batch holds open files waiting to be hashed: the
 * scan fails naming the file over the cap, and the queued fds are closed.
 */
static void test_rootfs_scan_batch_fail_closes(void **state)
{
    struct rootfs_result *r = (struct rootfs_result *)(uintptr_t)0x1;
    struct rootfs_limits lim;
    char why[WHY_SIZE];
    char *dir = make_tmpdir();
    char root[4096];
    char p[4096];
    char rel[64];
    uint8_t *ls;
    uint8_t *copy;
    size_t ls_len;
    size_t before;
    size_t i;

    (void)state;
    join(root, sizeof(root), dir, "/rootfs");
    join(p, sizeof(p), root, "/bin");
    mkdirs(p);
    ls = slurp("/bin/ls", &ls_len);
    copy = malloc(ls_len + 8);
    assert_non_null(copy);
    memcpy(copy, ls, ls_len);
    for (i = 0; i < 12; i++) {
        (void)snprintf((char *)copy + ls_len, 8, "%07zu", i); /* distinct files */
        (void)snprintf(rel, sizeof(rel), "/bin/e%02zu", i);
        join(p, sizeof(p), root, rel);
        write_file(p, copy, ls_len + 7, 0755);
    }
    rootfs_limits_default(&lim);
    lim.max_files = 10; /* /bin/e00../bin/e09 queued (fewer than a batch), e10 over */
    before = count_open_fds();
    assert_int_equal(rootfs_scan_path(root, NULL, &lim, &r, why, sizeof(why)), ATT_ERR_PARSE);
    assert_int_equal(count_open_fds(), before);
    assert_ptr_equal(r, (struct rootfs_result *)(uintptr_t)0x1);
    if (strstr(why, "\"/bin/e10\"") == NULL || strstr(why, "max_files") == NULL) {
        fail_msg("why \"%s\" does not name /bin/e10 and max_files", why);
    }
    free(copy);
    free(ls);
    rm_rf(dir);
    free(dir);
}

/* Mount points inside the scanned tree are listed, not entered (when /dev/shm is a mount). */
static void test_rootfs_scan_mount_point_skipped(void **state)
{
    struct rootfs_result *r = NULL;
    char why[WHY_SIZE];
    struct stat a;
    struct stat b;
    size_t i;
    bool found = false;

    (void)state;
    if (stat("/dev", &a) != 0 || stat("/dev/shm", &b) != 0 || a.st_dev == b.st_dev) {
        skip();
    }
    assert_int_equal(rootfs_scan_path("/dev", NULL, NULL, &r, why, sizeof(why)), ATT_OK);
    for (i = 0; i < r->n_skipped; i++) {
        if (strcmp(r->skipped[i].path, "/shm") == 0) {
            assert_int_equal(r->skipped[i].reason, ROOTFS_SKIP_MOUNT);
            found = true;
        }
    }
    assert_true(found);
    assert_true(r->stats.special > 0); /* device nodes: counted, never opened */
    rootfs_result_free(r);
}

static void test_rootfs_cache_hits_and_rehash(void **state)
{
    struct rootfs_cache *cache = rootfs_cache_new(ROOTFS_CACHE_DEFAULT_MAX);
    struct rootfs_result *r1 = NULL;
    struct rootfs_result *r2 = NULL;
    struct rootfs_result *r3 = NULL;
    struct rootfs_result *r4 = NULL;
    const struct rootfs_entry *e;
    char why[WHY_SIZE];
    struct tree t;
    struct stat st0;
    struct stat st1;
    char p[4096];
    size_t i;
    int fd;

    (void)state;
    assert_non_null(cache);
    rootfs_cache_set_racy_nsec(cache, 0); /* the files were made a moment ago */
    tree_setup(&t);
    assert_int_equal(rootfs_scan_path(t.root, cache, NULL, &r1, why, sizeof(why)), ATT_OK);
    assert_int_equal(r1->stats.cache_hits, 0);
    assert_int_equal(r1->stats.hashed, r1->n_entries);
    /* every regular file of 4 bytes or more has a verdict cached */
    assert_int_equal(rootfs_cache_count(cache), r1->stats.regular - 2);

    assert_int_equal(rootfs_scan_path(t.root, cache, NULL, &r2, why, sizeof(why)), ATT_OK);
    assert_int_equal(r2->stats.hashed, 0);
    assert_int_equal(r2->stats.bytes_hashed, 0);
    assert_int_equal(r2->stats.cache_hits, r1->stats.regular - 2);
    assert_int_equal(r2->n_entries, r1->n_entries);
    assert_int_equal(r2->stats.bytes_total, r1->stats.bytes_total);
    assert_int_equal(r2->stats.not_elf, r1->stats.not_elf);
    assert_int_equal(r2->stats.elf_other, r1->stats.elf_other);
    assert_int_equal(r2->stats.malformed, r1->stats.malformed);
    for (i = 0; i < r1->n_entries; i++) {
        assert_string_equal(r1->entries[i].path, r2->entries[i].path);
        assert_memory_equal(r1->entries[i].digest, r2->entries[i].digest, ATT_SHA256_LEN);
        assert_int_equal(r1->entries[i].kind, r2->entries[i].kind);
        assert_int_equal(r1->entries[i].size, r2->entries[i].size);
    }

    /* a write in place changes ctime: re-hashed, new digest */
    tree_path(&t, "/bin/ls", p, sizeof(p));
    assert_int_equal(stat(p, &st0), 0);
    tick();
    fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "X", 1), 1);
    assert_int_equal(close(fd), 0);
    assert_int_equal(stat(p, &st1), 0);
    assert_true(st0.st_ctim.tv_sec != st1.st_ctim.tv_sec ||
                st0.st_ctim.tv_nsec != st1.st_ctim.tv_nsec);
    assert_int_equal(rootfs_scan_path(t.root, cache, NULL, &r3, why, sizeof(why)), ATT_OK);
    assert_int_equal(r3->stats.hashed, 1);
    e = must_find(r3, "/bin/ls");
    assert_memory_not_equal(e->digest, must_find(r1, "/bin/ls")->digest, ATT_SHA256_LEN);
    check_digest(&t, e);

    /* a chmod changes ctime too: re-hashed, same digest */
    tree_path(&t, "/lib/badph.so", p, sizeof(p));
    tick();
    assert_int_equal(chmod(p, 0700), 0);
    /* the same bytes under a new mtime (utimensat): re-hashed as well */
    tree_path(&t, "/lib/trunc.so", p, sizeof(p));
    {
        struct timespec ts[2] = {{0, UTIME_OMIT}, {12345, 0}};

        assert_int_equal(utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW), 0);
    }
    assert_int_equal(rootfs_scan_path(t.root, cache, NULL, &r4, why, sizeof(why)), ATT_OK);
    assert_int_equal(r4->stats.hashed, 2);
    assert_memory_equal(must_find(r4, "/lib/badph.so")->digest,
                        must_find(r1, "/lib/badph.so")->digest, ATT_SHA256_LEN);
    for (i = 0; i < r4->n_entries; i++) {
        check_digest(&t, &r4->entries[i]);
    }

    rootfs_result_free(r1);
    rootfs_result_free(r2);
    rootfs_result_free(r3);
    rootfs_result_free(r4);
    rootfs_cache_clear(cache);
    assert_int_equal(rootfs_cache_count(cache), 0);
    rootfs_cache_free(cache);
    rootfs_cache_free(NULL);
    tree_teardown(&t);
}

static att_rc scan_image(const char *dir, struct rootfs_cache *cache,
                         const struct rootfs_origin *origin, struct rootfs_result **out)
{
    char why[WHY_SIZE];
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    att_rc rc;

    assert_true(fd >= 0);
    rc = rootfs_scan_image(fd, cache, NULL, origin, out, why, sizeof(why));
    assert_int_equal(close(fd), 0);
    return rc;
}

/* Copy a tree the way the vfs driver copies an image: new inodes, same mtimes. */
static void copy_tree(const char *src, const char *dst)
{
    struct stat st;
    struct dirent *de;
    char a[4200];
    char b[4200];
    DIR *d;

    assert_int_equal(lstat(src, &st), 0);
    if (S_ISDIR(st.st_mode)) {
        assert_int_equal(mkdir(dst, 0755), 0);
        d = opendir(src);
        assert_non_null(d);
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                assert_true((size_t)snprintf(a, sizeof(a), "%s/%s", src, de->d_name) < sizeof(a));
                assert_true((size_t)snprintf(b, sizeof(b), "%s/%s", dst, de->d_name) < sizeof(b));
                copy_tree(a, b);
            }
        }
        assert_int_equal(closedir(d), 0);
    } else if (S_ISLNK(st.st_mode)) {
        ssize_t n = readlink(src, a, sizeof(a) - 1);

        assert_true(n > 0);
        a[n] = '\0';
        assert_int_equal(symlink(a, dst), 0);
        return;
    } else if (S_ISREG(st.st_mode)) {
        /* data segments only (SEEK_DATA/SEEK_HOLE): the tree holds a 64 GiB sparse file */
        static uint8_t buf[1 << 16];
        int in = open(src, O_RDONLY | O_CLOEXEC);
        int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 07777);
        off_t off = 0;

        assert_true(in >= 0 && out >= 0);
        while ((off = lseek(in, off, SEEK_DATA)) >= 0) {
            off_t end = lseek(in, off, SEEK_HOLE);

            assert_true(end > off);
            while (off < end) {
                size_t want = (size_t)(end - off) < sizeof(buf) ? (size_t)(end - off) : sizeof(buf);
                ssize_t n = pread(in, buf, want, off);

                assert_true(n > 0);
                assert_int_equal(pwrite(out, buf, (size_t)n, off), n);
                off += n;
            }
        }
        assert_int_equal(ftruncate(out, st.st_size), 0);
        assert_int_equal(close(in), 0);
        assert_int_equal(close(out), 0);
    } else {
        return;
    }
    {
        struct timespec ts[2] = {st.st_atim, st.st_mtim};

        assert_int_equal(utimensat(AT_FDCWD, dst, ts, AT_SYMLINK_NOFOLLOW), 0);
    }
}

/* Overwrite 4 bytes at offset 64 of @p path and put its mtime back (its ctime moves). */
static void rewrite_keep_mtime(const char *path, const char bytes[4])
{
    struct stat st0;
    int fd;

    assert_int_equal(stat(path, &st0), 0);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, bytes, 4, 64), 4);
    assert_int_equal(close(fd), 0);
    {
        struct timespec ts[2] = {{0, UTIME_OMIT}, st0.st_mtim};

        assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
    }
}

/*
 * Copies the engine made of one image layer (vfs): a copy is answered by the
 * layer file's key without hashing, but only when both are unchanged since
 * the container's creation, only from that layer, and never for a file
 * changed since, in the copy or in the layer.
 */
static void test_rootfs_cache_layer_origin(void **state)
{
    struct rootfs_cache *cache = rootfs_cache_new(ROOTFS_CACHE_DEFAULT_MAX);
    struct rootfs_result *r[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
    struct rootfs_origin x;
    struct rootfs_origin y;
    struct rootfs_origin old;
    char b[4200];
    char c[4200];
    char d[4200];
    char e[4200];
    char p[4200];
    struct tree t;
    size_t i;

    (void)state;
    assert_non_null(cache);
    rootfs_cache_set_racy_nsec(cache, 0);
    tree_setup(&t); /* t.root plays the image's top layer */
    join(e, sizeof(e), t.dir, "/copy-e");
    join(b, sizeof(b), t.dir, "/copy-b");
    join(c, sizeof(c), t.dir, "/copy-c");
    join(d, sizeof(d), t.dir, "/layer-d");
    copy_tree(t.root, b);
    copy_tree(t.root, c);
    copy_tree(t.root, d); /* another layer with the same bytes */
    copy_tree(t.root, e); /* a container not scanned before the layer is edited */
    tick();               /* every file is now older than "created" */
    memset(&x, 0, sizeof(x));
    x.layer_fd = open(t.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(x.layer_fd >= 0);
    assert_int_equal(clock_gettime(CLOCK_REALTIME, &x.created), 0);
    y = x;
    y.layer_fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(y.layer_fd >= 0);
    old = x;
    old.created.tv_sec -= 3600; /* created before these files were written */

    /* the first container of the layer: hashed, remembered under the layer's keys */
    assert_int_equal(scan_image(b, cache, &x, &r[0]), ATT_OK);
    assert_int_equal(r[0]->stats.hashed, r[0]->n_entries);
    assert_int_equal(r[0]->stats.manifest_hits, 0);
    /* another container of it: nothing hashed, the same result */
    assert_int_equal(scan_image(c, cache, &x, &r[1]), ATT_OK);
    assert_int_equal(r[1]->stats.hashed, 0);
    assert_int_equal(r[1]->stats.manifest_hits, r[0]->stats.regular - 2);
    assert_int_equal(r[1]->n_entries, r[0]->n_entries);
    for (i = 0; i < r[0]->n_entries; i++) {
        assert_string_equal(r[0]->entries[i].path, r[1]->entries[i].path);
        assert_memory_equal(r[0]->entries[i].digest, r[1]->entries[i].digest, ATT_SHA256_LEN);
    }
    /* the same bytes said to come from another layer: hashed */
    assert_int_equal(scan_image(c, cache, &y, &r[2]), ATT_OK);
    assert_int_equal(r[2]->stats.hashed, r[2]->n_entries);
    assert_int_equal(r[2]->stats.manifest_hits, 0);

    /* the layer's file edited (same size, mtime put back): its key changed, hashed */
    join(p, sizeof(p), t.root, "/bin/ls");
    rewrite_keep_mtime(p, "XXXX");
    assert_int_equal(scan_image(e, cache, &x, &r[3]), ATT_OK);
    assert_int_equal(r[3]->stats.hashed, 1);
    check_digest_at(e, must_find(r[3], "/bin/ls"));
    /* ... and that old copy's digest was not filed under the edited layer file's key:
     * a container created from the edited layer gets its own bytes measured */
    {
        struct rootfs_result *rh = NULL;
        struct rootfs_origin now = x;
        char h[4200];

        join(h, sizeof(h), t.dir, "/copy-h");
        copy_tree(t.root, h);
        tick();
        assert_int_equal(clock_gettime(CLOCK_REALTIME, &now.created), 0);
        assert_int_equal(scan_image(h, cache, &now, &rh), ATT_OK);
        check_digest_at(h, must_find(rh, "/bin/ls"));
        assert_memory_not_equal(must_find(rh, "/bin/ls")->digest,
                                must_find(r[3], "/bin/ls")->digest, ATT_SHA256_LEN);
        rootfs_result_free(rh);
    }

    /* a copy rewritten after creation (same size and mtime): hashed */
    join(p, sizeof(p), b, "/bin/ls");
    rewrite_keep_mtime(p, "YYYY");
    assert_int_equal(scan_image(b, cache, &x, &r[4]), ATT_OK);
    assert_true(r[4]->stats.hashed >= 1);
    for (i = 0; i < r[4]->n_entries; i++) {
        check_digest_at(b, &r[4]->entries[i]);
    }

    /* files newer than the container's creation are the container's own */
    rootfs_cache_clear(cache);
    assert_int_equal(scan_image(b, cache, &old, &r[5]), ATT_OK);
    assert_int_equal(r[5]->stats.manifest_hits, 0);
    rootfs_result_free(r[5]);
    assert_int_equal(scan_image(c, cache, &old, &r[5]), ATT_OK);
    assert_int_equal(r[5]->stats.hashed, r[5]->n_entries);
    assert_int_equal(r[5]->stats.manifest_hits, 0);

    for (i = 0; i < 6; i++) {
        rootfs_result_free(r[i]);
    }
    (void)close(x.layer_fd);
    (void)close(y.layer_fd);
    rootfs_cache_free(cache);
    tree_teardown(&t);
}

/* With the default racy margin, files changed a moment ago are never cached. */
static void test_rootfs_cache_racy_default(void **state)
{
    struct rootfs_cache *cache = rootfs_cache_new(ROOTFS_CACHE_DEFAULT_MAX);
    struct rootfs_result *r = NULL;
    char why[WHY_SIZE];
    struct tree t;

    (void)state;
    assert_non_null(cache);
    tree_setup(&t);
    assert_int_equal(rootfs_scan_path(t.root, cache, NULL, &r, why, sizeof(why)), ATT_OK);
    rootfs_result_free(r);
    assert_int_equal(rootfs_cache_count(cache), 0);
    assert_int_equal(rootfs_scan_path(t.root, cache, NULL, &r, why, sizeof(why)), ATT_OK);
    assert_int_equal(r->stats.cache_hits, 0);
    assert_int_equal(r->stats.hashed, r->n_entries);
    rootfs_result_free(r);
    rootfs_cache_free(cache);
    tree_teardown(&t);
}

/* The cache never holds more than its bound; results stay right when it thrashes. */
static void test_rootfs_cache_bound(void **state)
{
    struct rootfs_cache *cache = rootfs_cache_new(3);
    struct rootfs_result *r1 = NULL;
    struct rootfs_result *r2 = NULL;
    char why[WHY_SIZE];
    struct tree t;
    size_t i;

    (void)state;
    assert_null(rootfs_cache_new(0));
    assert_non_null(cache);
    rootfs_cache_set_racy_nsec(cache, 0);
    rootfs_cache_set_racy_nsec(cache, -1); /* ignored */
    tree_setup(&t);
    assert_int_equal(rootfs_scan_path(t.root, cache, NULL, &r1, why, sizeof(why)), ATT_OK);
    assert_int_equal(rootfs_cache_count(cache), 3);
    assert_int_equal(rootfs_scan_path(t.root, cache, NULL, &r2, why, sizeof(why)), ATT_OK);
    assert_int_equal(rootfs_cache_count(cache), 3);
    assert_int_equal(r2->n_entries, r1->n_entries);
    for (i = 0; i < r2->n_entries; i++) {
        assert_memory_equal(r1->entries[i].digest, r2->entries[i].digest, ATT_SHA256_LEN);
    }
    rootfs_result_free(r1);
    rootfs_result_free(r2);
    rootfs_cache_free(cache);
    tree_teardown(&t);
}

/* Names with control bytes: the result keeps them raw, messages escape them. */
static void test_rootfs_scan_odd_names(void **state)
{
    struct rootfs_limits lim;
    struct rootfs_result *r = NULL;
    char why[WHY_SIZE];
    char *tmp = make_tmpdir();
    char p[4096];

    (void)state;
    join(p, sizeof(p), tmp, "/a\nb\"c");
    copy_file("/bin/ls", p);
    assert_int_equal(rootfs_scan_path(tmp, NULL, NULL, &r, why, sizeof(why)), ATT_OK);
    assert_int_equal(r->n_entries, 1);
    assert_string_equal(r->entries[0].path, "/a\nb\"c");
    rootfs_result_free(r);
    rootfs_limits_default(&lim);
    lim.max_total_bytes = 1;
    assert_int_equal(rootfs_scan_path(tmp, NULL, &lim, &r, why, sizeof(why)), ATT_ERR_PARSE);
    assert_non_null(strstr(why, "\"/a\\x0ab\\x22c\""));
    rm_rf(tmp);
    free(tmp);
}

/* ------------------------------------------------------------------------- */
/* OCI state                                                                 */

#define PODMAN_ID "3f1c9a0d6b7e4f2a8c5d1e0b9a7f6c4d3e2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f"

static const char podman_state[] =
    "{\"ociVersion\":\"1.0.2-dev\",\"id\":\"" PODMAN_ID "\",\"status\":\"creating\","
    "\"pid\":1234,\"bundle\":\"/var/lib/containers/storage/overlay-containers/" PODMAN_ID
    "/userdata\",\"annotations\":{\"io.container.manager\":\"libpod\","
    "\"io.kubernetes.cri-o.Created\":\"2024-05-01T10:00:00Z\",\"io.podman.annotations.autoremove\":"
    "\"FALSE\",\"org.opencontainers.image.stopSignal\":\"15\"}}";

static att_rc sparse(const char *json, struct ocistate **st, char *why)
{
    return ocistate_parse(json, strlen(json), st, why, WHY_SIZE);
}

static void expect_state_reject(const char *json, const char *needle)
{
    struct ocistate *st = (struct ocistate *)(uintptr_t)0x1;
    char why[WHY_SIZE];

    memset(why, 'X', sizeof(why));
    assert_int_equal(sparse(json, &st, why), ATT_ERR_PARSE);
    assert_ptr_equal(st, (struct ocistate *)(uintptr_t)0x1);
    assert_true(strncmp(why, "oci state: ", 11) == 0);
    if (strstr(why, needle) == NULL) {
        fail_msg("why \"%s\" lacks \"%s\" for %s", why, needle, json);
    }
}

#define ST_PRE  "{\"ociVersion\":\"1.0.2\",\"id\":\"abc\",\"status\":\"creating\","
#define ST_POST "\"bundle\":\"/b\"}"

static void test_ocistate_parse_invalid(void **state)
{
    struct ocistate *st = NULL;
    char why[WHY_SIZE];
    char *big;
    char id129[200];

    (void)state;
    assert_int_equal(ocistate_parse(NULL, 1, &st, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_int_equal(ocistate_parse("{}", 2, NULL, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_int_equal(ocistate_parse(NULL, 0, &st, why, sizeof(why)), ATT_ERR_PARSE);
    expect_state_reject("", "empty document");
    expect_state_reject("[]", "top level must be a JSON object");
    expect_state_reject("\"x\"", "invalid JSON"); /* jansson wants [ or { */
    expect_state_reject("{", "truncated");
    expect_state_reject("{\"a\":1,}", "invalid JSON");
    expect_state_reject(ST_PRE ST_POST " x", "trailing content");
    expect_state_reject(ST_PRE ST_POST "{}", "trailing content");
    expect_state_reject(ST_PRE "\"id\":\"abd\"," ST_POST, "duplicate key");
    expect_state_reject("{\"id\":\"a\xff\"}", "invalid UTF-8");
    expect_state_reject(ST_PRE "\"x\":\"a\\u0000b\"," ST_POST, "NUL character");
    expect_state_reject(ST_PRE "\"pid\":1e999," ST_POST, "number out of range");
    /* ociVersion */
    expect_state_reject("{\"id\":\"abc\",\"status\":\"creating\"," ST_POST,
                        "\"ociVersion\" is missing");
    expect_state_reject("{\"ociVersion\":1,\"id\":\"abc\",\"status\":\"creating\"," ST_POST,
                        "1.x version");
    expect_state_reject("{\"ociVersion\":\"2.0.0\",\"id\":\"abc\",\"status\":\"creating\"," ST_POST,
                        "1.x version");
    expect_state_reject("{\"ociVersion\":\"10.0\",\"id\":\"abc\",\"status\":\"creating\"," ST_POST,
                        "1.x version");
    expect_state_reject("{\"ociVersion\":null,\"id\":\"abc\",\"status\":\"creating\"," ST_POST,
                        "\"ociVersion\" is missing");
    /* id */
    expect_state_reject("{\"ociVersion\":\"1.0\",\"status\":\"creating\"," ST_POST, "\"id\"");
    expect_state_reject("{\"ociVersion\":\"1.0\",\"id\":\"\",\"status\":\"creating\"," ST_POST,
                        "\"id\"");
    expect_state_reject("{\"ociVersion\":\"1.0\",\"id\":\"a/b\",\"status\":\"creating\"," ST_POST,
                        "\"id\"");
    expect_state_reject("{\"ociVersion\":\"1.0\",\"id\":\"..\",\"status\":\"creating\"," ST_POST,
                        "\"id\"");
    expect_state_reject("{\"ociVersion\":\"1.0\",\"id\":\".\",\"status\":\"creating\"," ST_POST,
                        "\"id\"");
    expect_state_reject("{\"ociVersion\":\"1.0\",\"id\":\"a b\",\"status\":\"creating\"," ST_POST,
                        "\"id\"");
    expect_state_reject("{\"ociVersion\":\"1.0\",\"id\":7,\"status\":\"creating\"," ST_POST,
                        "\"id\"");
    memset(id129, 'a', 129);
    id129[129] = '\0';
    {
        char doc[512];

        (void)snprintf(doc, sizeof(doc),
                       "{\"ociVersion\":\"1.0\",\"id\":\"%s\",\"status\":\"creating\"," ST_POST,
                       id129);
        expect_state_reject(doc, "1 to 128");
        id129[128] = '\0';
        (void)snprintf(doc, sizeof(doc),
                       "{\"ociVersion\":\"1.0\",\"id\":\"%s\",\"status\":\"creating\"," ST_POST,
                       id129);
        assert_int_equal(sparse(doc, &st, why), ATT_OK);
        ocistate_free(st);
        st = NULL;
    }
    /* status */
    expect_state_reject("{\"ociVersion\":\"1.0\",\"id\":\"abc\"," ST_POST, "\"status\"");
    expect_state_reject("{\"ociVersion\":\"1.0\",\"id\":\"abc\",\"status\":\"paused\"," ST_POST,
                        "\"status\"");
    expect_state_reject("{\"ociVersion\":\"1.0\",\"id\":\"abc\",\"status\":1," ST_POST,
                        "\"status\"");
    /* pid */
    expect_state_reject(ST_PRE "\"pid\":\"1234\"," ST_POST, "\"pid\" must be an integer");
    expect_state_reject(ST_PRE "\"pid\":12.0," ST_POST, "\"pid\" must be an integer");
    expect_state_reject(ST_PRE "\"pid\":-1," ST_POST, "\"pid\" must be between");
    expect_state_reject(ST_PRE "\"pid\":4194305," ST_POST, "\"pid\" must be between");
    expect_state_reject(ST_PRE "\"pid\":true," ST_POST, "\"pid\" must be an integer");
    expect_state_reject("{\"ociVersion\":\"1.0\",\"id\":\"abc\",\"status\":\"running\"," ST_POST,
                        "\"pid\" is required when status is running");
    expect_state_reject(
        "{\"ociVersion\":\"1.0\",\"id\":\"abc\",\"status\":\"created\",\"pid\":0," ST_POST,
        "\"pid\" is required when status is created");
    /* bundle */
    expect_state_reject(ST_PRE "\"pid\":1}", "\"bundle\" is missing");
    expect_state_reject(ST_PRE "\"bundle\":\"rel/dir\"}", "\"bundle\" must be an absolute path");
    expect_state_reject(ST_PRE "\"bundle\":\"\"}", "\"bundle\"");
    expect_state_reject(ST_PRE "\"bundle\":[\"/b\"]}", "\"bundle\"");
    big = malloc(8192);
    assert_non_null(big);
    {
        char path[4200];

        memset(path, 'p', 4097);
        path[0] = '/';
        path[4097] = '\0';
        (void)snprintf(big, 8192, ST_PRE "\"bundle\":\"%s\"}", path);
        expect_state_reject(big, "at most 4096 bytes");
    }
    free(big);
    /* annotations */
    expect_state_reject(ST_PRE "\"annotations\":[]," ST_POST, "\"annotations\" must be an object");
    expect_state_reject(ST_PRE "\"annotations\":{\"a\":1}," ST_POST, "values must be strings");
    /* keys a Go runtime would read as ours */
    expect_state_reject(ST_PRE "\"ID\":\"other\"," ST_POST, "only in letter case");
    expect_state_reject(ST_PRE "\"Bundle\":\"/other\"," ST_POST, "\"bundle\"");
    expect_state_reject(ST_PRE "\"\xc4\xb1\x64\":\"other\"," ST_POST, "\"id\"");  /* dotless i */
    expect_state_reject(ST_PRE "\"\xc5\xbftatus\":\"x\"," ST_POST, "\"status\""); /* long s */
    /* nesting bomb */
    big = malloc(20000);
    assert_non_null(big);
    memset(big, '[', 10000);
    memset(big + 10000, ']', 10000);
    assert_int_equal(ocistate_parse(big, 20000, &st, why, sizeof(why)), ATT_ERR_PARSE);
    free(big);
}

static void test_ocistate_parse_truncated_every_length(void **state)
{
    struct ocistate *st = NULL;
    char why[WHY_SIZE];
    size_t len;
    size_t n = strlen(podman_state);

    (void)state;
    for (len = 0; len < n; len++) {
        char *copy = malloc(len + 1);

        assert_non_null(copy);
        memcpy(copy, podman_state, len);
        assert_int_equal(ocistate_parse(copy, len, &st, why, sizeof(why)), ATT_ERR_PARSE);
        free(copy);
    }
}

static void test_ocistate_parse_podman(void **state)
{
    struct ocistate *st = NULL;
    char why[WHY_SIZE];

    (void)state;
    assert_int_equal(sparse(podman_state, &st, why), ATT_OK);
    assert_string_equal(why, "");
    assert_string_equal(st->oci_version, "1.0.2-dev");
    assert_string_equal(st->id, PODMAN_ID);
    assert_int_equal(st->status, OCISTATE_CREATING);
    assert_string_equal(ocistate_status_str(st->status), "creating");
    assert_true(st->has_pid);
    assert_int_equal(st->pid, 1234);
    assert_string_equal(st->bundle,
                        "/var/lib/containers/storage/overlay-containers/" PODMAN_ID "/userdata");
    assert_int_equal(st->n_annotations, 4);
    assert_string_equal(st->annotations[0].key, "io.container.manager");
    assert_string_equal(st->annotations[3].key, "org.opencontainers.image.stopSignal");
    assert_string_equal(ocistate_annotation_get(st, "io.container.manager"), "libpod");
    assert_null(ocistate_annotation_get(st, "nope"));
    assert_null(ocistate_annotation_get(NULL, "nope"));
    ocistate_free(st);
    ocistate_free(NULL);

    /* runc: no pid while creating (omitempty), unknown members ignored, null annotations */
    assert_int_equal(sparse("{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":\"creating\","
                            "\"bundle\":\"/run/b\",\"annotations\":null,\"x-future\":{\"a\":[1]}}",
                            &st, why),
                     ATT_OK);
    assert_false(st->has_pid);
    assert_int_equal(st->n_annotations, 0);
    ocistate_free(st);
    assert_int_equal(sparse("{\"ociVersion\":\"1\",\"id\":\"c1\",\"status\":\"stopped\",\"pid\":0,"
                            "\"bundle\":\"/run/b\"}",
                            &st, why),
                     ATT_OK);
    assert_int_equal(st->status, OCISTATE_STOPPED);
    assert_false(st->has_pid);
    ocistate_free(st);
    assert_int_equal(sparse("{\"ociVersion\":\"1.0.0\",\"id\":\"A-z_0.9\",\"status\":\"running\","
                            "\"pid\":4194304,\"bundle\":\"/\"}",
                            &st, why),
                     ATT_OK);
    assert_int_equal(st->status, OCISTATE_RUNNING);
    assert_int_equal(st->pid, 4194304);
    ocistate_free(st);
    assert_string_equal(ocistate_status_str(OCISTATE_CREATED), "created");
}

static void test_ocistate_read_fd(void **state)
{
    struct ocistate *st = (struct ocistate *)(uintptr_t)0x1;
    char why[WHY_SIZE];
    char *tmp = make_tmpdir();
    char p[4096];
    char *doc;
    size_t pre;
    size_t n;
    int fd;

    (void)state;
    assert_int_equal(ocistate_read_fd(-1, &st, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    join(p, sizeof(p), tmp, "/state.json");
    write_file(p, podman_state, strlen(podman_state), 0600);
    fd = open(p, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(ocistate_read_fd(fd, NULL, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_int_equal(ocistate_read_fd(fd, &st, why, sizeof(why)), ATT_OK);
    assert_string_equal(st->id, PODMAN_ID);
    ocistate_free(st);
    (void)close(fd);

    /* exactly 1 MiB is accepted; one byte more is not */
    doc = malloc(OCISTATE_MAX_JSON + 2);
    assert_non_null(doc);
    pre = (size_t)snprintf(doc, 200, ST_PRE "\"bundle\":\"/b\",\"annotations\":{\"a\":\"");
    n = OCISTATE_MAX_JSON - pre - 3;
    memset(doc + pre, 'v', n);
    memcpy(doc + pre + n, "\"}}", 3);
    write_file(p, doc, OCISTATE_MAX_JSON, 0600);
    fd = open(p, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(ocistate_read_fd(fd, &st, why, sizeof(why)), ATT_OK);
    assert_int_equal(strlen(ocistate_annotation_get(st, "a")), n);
    ocistate_free(st);
    (void)close(fd);
    doc[OCISTATE_MAX_JSON] = ' ';
    write_file(p, doc, OCISTATE_MAX_JSON + 1, 0600);
    fd = open(p, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    st = (struct ocistate *)(uintptr_t)0x1;
    assert_int_equal(ocistate_read_fd(fd, &st, why, sizeof(why)), ATT_ERR_PARSE);
    assert_ptr_equal(st, (struct ocistate *)(uintptr_t)0x1);
    assert_non_null(strstr(why, "larger than 1048576 bytes"));
    assert_int_equal(ocistate_parse(doc, OCISTATE_MAX_JSON + 1, &st, why, sizeof(why)),
                     ATT_ERR_PARSE);
    (void)close(fd);
    /* a directory cannot be read */
    fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(ocistate_read_fd(fd, &st, why, sizeof(why)), ATT_ERR_IO);
    (void)close(fd);
    free(doc);
    rm_rf(tmp);
    free(tmp);
}

/* ------------------------------------------------------------------------- */
/* OCI config                                                                */

static const char runc_config[] =
    "{\"ociVersion\":\"1.0.2-dev\","
    "\"process\":{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},"
    "\"args\":[\"/usr/bin/attest-dyn\",\"--serve\"],\"env\":[\"PATH=/usr/bin\"],\"cwd\":\"/\","
    "\"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_NET_BIND_SERVICE\",\"CAP_KILL\"],"
    "\"effective\":[\"CAP_CHOWN\",\"CAP_NET_BIND_SERVICE\"],\"permitted\":[\"CAP_CHOWN\"]},"
    "\"noNewPrivileges\":true,\"apparmorProfile\":\"containers-default-0.57.0\","
    "\"selinuxLabel\":\"system_u:system_r:container_t:s0:c1,c2\"},"
    "\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"attest\","
    "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
    "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},"
    "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\"}],"
    "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},"
    "{\"type\":\"mount\"},{\"type\":\"network\",\"path\":\"/run/netns/cni-1\"},"
    "{\"type\":\"cgroup\"}],\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\"},"
    "\"maskedPaths\":[\"/proc/kcore\"]}}";

static void expect_config_reject(const char *json, const char *needle)
{
    struct ocistate_config *cfg = (struct ocistate_config *)(uintptr_t)0x1;
    char why[WHY_SIZE];

    memset(why, 'X', sizeof(why));
    assert_int_equal(ocistate_config_parse(json, strlen(json), &cfg, why, sizeof(why)),
                     ATT_ERR_PARSE);
    assert_ptr_equal(cfg, (struct ocistate_config *)(uintptr_t)0x1);
    assert_true(strncmp(why, "oci config: ", 12) == 0);
    if (strstr(why, needle) == NULL) {
        fail_msg("why \"%s\" lacks \"%s\" for %s", why, needle, json);
    }
}

#define CF_PRE  "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
#define CF_PROC "\"process\":{\"args\":[\"/bin/sh\"],"

static void test_ocistate_config_parse_invalid(void **state)
{
    struct ocistate_config *cfg = NULL;
    char why[WHY_SIZE];
    char *big;
    size_t i;
    size_t o;

    (void)state;
    assert_int_equal(ocistate_config_parse(NULL, 2, &cfg, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_int_equal(ocistate_config_parse("{}", 2, NULL, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    expect_config_reject("", "empty document");
    expect_config_reject("[1]", "top level must be a JSON object");
    expect_config_reject(CF_PRE "\"x\":1}}", "trailing content");
    expect_config_reject(CF_PRE "\"root\":{\"path\":\"evil\"}}", "duplicate key");
    expect_config_reject("{\"root\":{\"path\":\"r\"}}", "\"ociVersion\" is missing");
    expect_config_reject("{\"ociVersion\":\"0.9\",\"root\":{\"path\":\"r\"}}", "1.x version");
    /* root */
    expect_config_reject("{\"ociVersion\":\"1.0\"}", "\"root\" is missing");
    expect_config_reject("{\"ociVersion\":\"1.0\",\"root\":null}", "\"root\" is missing");
    expect_config_reject("{\"ociVersion\":\"1.0\",\"root\":\"rootfs\"}", "\"root\" must be an");
    expect_config_reject("{\"ociVersion\":\"1.0\",\"root\":{}}", "\"root.path\" is missing");
    expect_config_reject("{\"ociVersion\":\"1.0\",\"root\":{\"path\":\"\"}}", "\"root.path\"");
    expect_config_reject("{\"ociVersion\":\"1.0\",\"root\":{\"path\":7}}", "\"root.path\"");
    expect_config_reject("{\"ociVersion\":\"1.0\",\"root\":{\"path\":\"r\",\"readonly\":\"yes\"}}",
                         "\"root.readonly\" must be true or false");
    expect_config_reject("{\"ociVersion\":\"1.0\",\"root\":{\"path\":\"r\"},\"Root\":{\"path\":"
                         "\"/\"}}",
                         "differs from \"root\" only in letter case");
    expect_config_reject("{\"ociVersion\":\"1.0\",\"root\":{\"path\":\"r\",\"PATH\":\"/\"}}",
                         "\"path\"");
    /* process */
    expect_config_reject(CF_PRE "\"process\":[]}", "\"process\" must be an object");
    expect_config_reject(CF_PRE "\"process\":{}}", "\"process.args\" must be a non-empty array");
    expect_config_reject(CF_PRE "\"process\":{\"args\":[]}}", "\"process.args\"");
    expect_config_reject(CF_PRE "\"process\":{\"args\":\"/bin/sh\"}}", "\"process.args\"");
    expect_config_reject(CF_PRE "\"process\":{\"args\":[\"/bin/sh\",1]}}",
                         "\"process.args[1]\" must be a string");
    expect_config_reject(CF_PRE "\"process\":{\"args\":[\"\"]}}", "\"process.args[0]\"");
    expect_config_reject(CF_PRE CF_PROC "\"capabilities\":[]}}",
                         "\"process.capabilities\" must be an object");
    expect_config_reject(CF_PRE CF_PROC "\"capabilities\":{\"effective\":\"CAP_KILL\"}}}",
                         "\"process.capabilities.effective\" must be an array");
    expect_config_reject(CF_PRE CF_PROC "\"capabilities\":{\"bounding\":[\"CAP KILL\"]}}}",
                         "\"process.capabilities.bounding[0]\"");
    expect_config_reject(CF_PRE CF_PROC "\"capabilities\":{\"bounding\":[\"CAP_A\",7]}}}",
                         "\"process.capabilities.bounding[1]\"");
    expect_config_reject(CF_PRE CF_PROC "\"capabilities\":{\"Effective\":[]}}}", "\"effective\"");
    expect_config_reject(CF_PRE CF_PROC "\"noNewPrivileges\":\"true\"}}",
                         "\"process.noNewPrivileges\" must be true or false");
    expect_config_reject(CF_PRE CF_PROC "\"nonewprivileges\":false}}", "\"noNewPrivileges\"");
    expect_config_reject(CF_PRE CF_PROC "\"apparmorProfile\":5}}", "\"process.apparmorProfile\"");
    expect_config_reject(CF_PRE CF_PROC "\"selinuxLabel\":\"\"}}", "\"process.selinuxLabel\"");
    expect_config_reject(CF_PRE "\"proces\xc5\xbf\":{\"args\":[\"/x\"]}}", "\"process\"");
    /* linux */
    expect_config_reject(CF_PRE "\"linux\":[]}", "\"linux\" must be an object");
    expect_config_reject(CF_PRE "\"linux\":{\"seccomp\":[]}}", "\"linux.seccomp\" must be an");
    expect_config_reject(CF_PRE "\"linux\":{\"namespaces\":{}}}",
                         "\"linux.namespaces\" must be an array");
    expect_config_reject(CF_PRE "\"linux\":{\"namespaces\":[\"pid\"]}}",
                         "\"linux.namespaces[0]\" must be an object");
    expect_config_reject(CF_PRE "\"linux\":{\"namespaces\":[{}]}}",
                         "\"linux.namespaces[0].type\" must be a string");
    expect_config_reject(CF_PRE "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},"
                                "{\"type\":\"foo\"}]}}",
                         "\"linux.namespaces[1].type\" is not a known");
    expect_config_reject(CF_PRE "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\","
                                "\"path\":\"/proc/1/ns/pid\"}]}}",
                         "lists \"pid\" twice");
    expect_config_reject(CF_PRE "\"linux\":{\"namespaces\":[{\"type\":\"net\"}]}}", "not a known");
    expect_config_reject(CF_PRE "\"linux\":{\"namespaces\":[{\"type\":\"network\",\"path\":"
                                "\"proc/1/ns/net\"}]}}",
                         "\"linux.namespaces[0].path\" must be an absolute path");
    expect_config_reject(CF_PRE "\"linux\":{\"namespaces\":[{\"type\":\"network\",\"Path\":"
                                "\"/proc/1/ns/net\"}]}}",
                         "\"path\"");
    expect_config_reject(CF_PRE "\"LINUX\":{}}", "\"linux\"");
    /* mounts */
    expect_config_reject(CF_PRE "\"mounts\":{}}", "\"mounts\" must be an array");
    expect_config_reject(CF_PRE "\"mounts\":[{},1]}", "\"mounts[1]\" must be an object");
    /* caps over the entry bound */
    big = malloc(20000);
    assert_non_null(big);
    o = (size_t)snprintf(big, 20000, CF_PRE CF_PROC "\"capabilities\":{\"bounding\":[");
    for (i = 0; i < OCISTATE_MAX_CAPS + 1; i++) {
        o += (size_t)snprintf(big + o, 20000 - o, "%s\"CAP_X\"", i == 0 ? "" : ",");
    }
    (void)snprintf(big + o, 20000 - o, "]}}}");
    expect_config_reject(big, "at most 256 names");
    free(big);
}

static void test_ocistate_config_parse_valid(void **state)
{
    struct ocistate_config *cfg = NULL;
    char why[WHY_SIZE];
    size_t len;
    size_t n = strlen(runc_config);

    (void)state;
    assert_int_equal(ocistate_config_parse(runc_config, n, &cfg, why, sizeof(why)), ATT_OK);
    assert_string_equal(cfg->oci_version, "1.0.2-dev");
    assert_string_equal(cfg->root_path, "rootfs");
    assert_true(cfg->root_readonly);
    assert_true(cfg->has_process);
    assert_string_equal(cfg->argv0, "/usr/bin/attest-dyn");
    assert_int_equal(cfg->n_args, 2);
    assert_true(cfg->has_capabilities);
    assert_int_equal(cfg->n_caps_effective, 2);
    assert_string_equal(cfg->caps_effective[1], "CAP_NET_BIND_SERVICE");
    assert_int_equal(cfg->n_caps_bounding, 3);
    assert_string_equal(cfg->caps_bounding[2], "CAP_KILL");
    assert_true(cfg->no_new_privileges);
    assert_string_equal(cfg->apparmor_profile, "containers-default-0.57.0");
    assert_string_equal(cfg->selinux_label, "system_u:system_r:container_t:s0:c1,c2");
    assert_true(cfg->has_linux);
    assert_true(cfg->has_seccomp);
    assert_int_equal(cfg->ns_new, OCISTATE_NS_PID | OCISTATE_NS_IPC | OCISTATE_NS_UTS |
                                      OCISTATE_NS_MOUNT | OCISTATE_NS_CGROUP);
    assert_int_equal(cfg->ns_joined, OCISTATE_NS_NETWORK);
    assert_string_equal(cfg->ns_path[1], "/run/netns/cni-1");
    assert_int_equal(ocistate_config_ns_host(cfg), OCISTATE_NS_USER | OCISTATE_NS_TIME);
    assert_string_equal(ocistate_ns_str(OCISTATE_NS_USER), "user");
    assert_string_equal(ocistate_ns_str(3), "?");
    assert_int_equal(cfg->n_mounts, 3);
    ocistate_config_free(cfg);
    ocistate_config_free(NULL);

    /* the minimum: no process, no linux section -> every namespace is the host's */
    {
        static const char minimal[] = "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"/r\"},"
                                      "\"process\":null,\"linux\":null}";

        assert_int_equal(ocistate_config_parse(minimal, strlen(minimal), &cfg, why, sizeof(why)),
                         ATT_OK);
    }
    assert_false(cfg->has_process);
    assert_null(cfg->argv0);
    assert_false(cfg->has_linux);
    assert_false(cfg->has_seccomp);
    assert_false(cfg->root_readonly);
    assert_int_equal(ocistate_config_ns_host(cfg), OCISTATE_NS_ALL);
    assert_int_equal(ocistate_config_ns_host(NULL), OCISTATE_NS_ALL);
    ocistate_config_free(cfg);

    for (len = 0; len < n; len++) {
        char *copy = malloc(len + 1);

        assert_non_null(copy);
        memcpy(copy, runc_config, len);
        assert_int_equal(ocistate_config_parse(copy, len, &cfg, why, sizeof(why)), ATT_ERR_PARSE);
        free(copy);
    }
}

/*
 * Set cfg's root.path to @p root and open it under the bundle: @p want, a
 * reason containing @p why_has (when given), and an fd only on success.
 */
static void expect_root(int bfd, struct ocistate_config *cfg, const char *root, att_rc want,
                        const char *why_has)
{
    char why[WHY_SIZE] = "";
    int rfd = -1;

    free(cfg->root_path);
    cfg->root_path = strdup(root);
    assert_non_null(cfg->root_path);
    assert_int_equal(ocistate_rootfs_open(bfd, cfg, &rfd, why, sizeof(why)), want);
    if (why_has != NULL) {
        assert_non_null(strstr(why, why_has));
    }
    if (want == ATT_OK) {
        assert_true(rfd >= 0);
        (void)close(rfd);
    } else {
        assert_int_equal(rfd, -1);
    }
}

/* The hook's path: state -> bundle -> config.json -> rootfs fd -> scan. */
static void test_ocistate_bundle_rootfs_open(void **state)
{
    struct ocistate *st = NULL;
    struct ocistate_config *cfg = NULL;
    struct rootfs_result *r = NULL;
    char why[WHY_SIZE];
    char *tmp = make_tmpdir();
    char bundle[4096];
    char p[4096];
    char doc[8192];
    char *big;
    int bfd = -1;
    int rfd = -1;

    (void)state;
    join(bundle, sizeof(bundle), tmp, "/bundle");
    join(p, sizeof(p), bundle, "/rootfs/bin");
    mkdirs(p);
    join(p, sizeof(p), bundle, "/rootfs/bin/ls");
    copy_file("/bin/ls", p);
    join(p, sizeof(p), bundle, "/config.json");
    write_file(p, runc_config, strlen(runc_config), 0600);
    (void)snprintf(doc, sizeof(doc),
                   "{\"ociVersion\":\"1.0.2-dev\",\"id\":\"c1\",\"status\":\"creating\","
                   "\"pid\":42,\"bundle\":\"%s\"}",
                   bundle);
    assert_int_equal(sparse(doc, &st, why), ATT_OK);
    assert_int_equal(ocistate_bundle_open(NULL, &bfd, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_int_equal(ocistate_bundle_open(st, &bfd, why, sizeof(why)), ATT_OK);
    assert_int_equal(ocistate_config_load(-1, &cfg, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_int_equal(ocistate_config_load(bfd, &cfg, why, sizeof(why)), ATT_OK);
    assert_int_equal(ocistate_rootfs_open(bfd, NULL, &rfd, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_int_equal(ocistate_rootfs_open(bfd, cfg, &rfd, why, sizeof(why)), ATT_OK);
    assert_int_equal(rootfs_scan(rfd, NULL, NULL, &r, why, sizeof(why)), ATT_OK);
    assert_int_equal(r->n_entries, 1);
    assert_string_equal(r->entries[0].path, "/bin/ls");
    rootfs_result_free(r);
    (void)close(rfd);

    /* root.path variants */
    expect_root(bfd, cfg, "./rootfs//bin/", ATT_OK, NULL);
    expect_root(bfd, cfg, ".", ATT_OK, NULL);
    join(p, sizeof(p), bundle, "/rootfs");
    expect_root(bfd, cfg, p, ATT_OK, NULL);
    expect_root(bfd, cfg, "../bundle/rootfs", ATT_ERR_PARSE, "\"..\"");
    expect_root(bfd, cfg, "rootfs/..", ATT_ERR_PARSE, NULL);
    join(p, sizeof(p), bundle, "/rootfs/../rootfs");
    expect_root(bfd, cfg, p, ATT_ERR_PARSE, NULL);
    expect_root(bfd, cfg, "nope", ATT_ERR_NOT_FOUND, NULL);
    expect_root(bfd, cfg, "rootfs/bin/ls", ATT_ERR_IO, "not a directory");
    /* a symlink anywhere in a relative root.path, or last in an absolute one */
    join(p, sizeof(p), bundle, "/link");
    assert_int_equal(symlink("rootfs", p), 0);
    join(p, sizeof(p), bundle, "/rootfs/up");
    assert_int_equal(symlink("/", p), 0);
    expect_root(bfd, cfg, "link", ATT_ERR_IO, "symlink");
    expect_root(bfd, cfg, "link/bin", ATT_ERR_IO, NULL);
    expect_root(bfd, cfg, "rootfs/up/tmp", ATT_ERR_IO, NULL);
    join(p, sizeof(p), bundle, "/link");
    expect_root(bfd, cfg, p, ATT_ERR_IO, "symlink");
    ocistate_config_free(cfg);
    cfg = NULL;

    /* config.json: a symlink, a directory, missing, too large */
    join(p, sizeof(p), bundle, "/config.json");
    assert_int_equal(unlink(p), 0);
    assert_int_equal(symlink("/etc/hostname", p), 0);
    assert_int_equal(ocistate_config_load(bfd, &cfg, why, sizeof(why)), ATT_ERR_IO);
    assert_non_null(strstr(why, "symlink"));
    assert_int_equal(unlink(p), 0);
    assert_int_equal(ocistate_config_load(bfd, &cfg, why, sizeof(why)), ATT_ERR_NOT_FOUND);
    assert_int_equal(mkdir(p, 0700), 0);
    assert_int_equal(ocistate_config_load(bfd, &cfg, why, sizeof(why)), ATT_ERR_IO);
    assert_non_null(strstr(why, "not a regular file"));
    assert_int_equal(rmdir(p), 0);
    big = malloc(OCISTATE_CONFIG_MAX_JSON + 1);
    assert_non_null(big);
    memset(big, ' ', OCISTATE_CONFIG_MAX_JSON + 1);
    memcpy(big, runc_config, strlen(runc_config));
    write_file(p, big, OCISTATE_CONFIG_MAX_JSON + 1, 0600);
    free(big);
    assert_int_equal(ocistate_config_load(bfd, &cfg, why, sizeof(why)), ATT_ERR_PARSE);
    assert_non_null(strstr(why, "larger than"));
    assert_null(cfg);
    (void)close(bfd);
    ocistate_free(st);

    /* the bundle itself: missing, or a symlink */
    (void)snprintf(doc, sizeof(doc),
                   "{\"ociVersion\":\"1.0\",\"id\":\"c1\",\"status\":\"creating\","
                   "\"bundle\":\"%s/nope\"}",
                   tmp);
    assert_int_equal(sparse(doc, &st, why), ATT_OK);
    assert_int_equal(ocistate_bundle_open(st, &bfd, why, sizeof(why)), ATT_ERR_NOT_FOUND);
    ocistate_free(st);
    join(p, sizeof(p), tmp, "/bundle-link");
    assert_int_equal(symlink(bundle, p), 0);
    (void)snprintf(doc, sizeof(doc),
                   "{\"ociVersion\":\"1.0\",\"id\":\"c1\",\"status\":\"creating\","
                   "\"bundle\":\"%s\"}",
                   p);
    assert_int_equal(sparse(doc, &st, why), ATT_OK);
    assert_int_equal(ocistate_bundle_open(st, &bfd, why, sizeof(why)), ATT_ERR_IO);
    assert_non_null(strstr(why, "symlink"));
    ocistate_free(st);
    rm_rf(tmp);
    free(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_elf_classify_invalid_args),
        cmocka_unit_test(test_elf_classify_not_elf),
        cmocka_unit_test(test_elf_classify_malformed),
        cmocka_unit_test(test_elf_classify_truncated_every_length),
        cmocka_unit_test(test_elf_classify_bitflips),
        cmocka_unit_test(test_elf_classify_synthetic),
        cmocka_unit_test(test_elf_classify_real_binaries),
        cmocka_unit_test(test_rootfs_scan_invalid_args),
        cmocka_unit_test(test_rootfs_scan_caps),
        cmocka_unit_test(test_rootfs_scan_sparse_over_cap),
        cmocka_unit_test(test_rootfs_scan_long_path),
        cmocka_unit_test(test_rootfs_scan_classifies),
        cmocka_unit_test(test_rootfs_scan_batches),
        cmocka_unit_test(test_rootfs_scan_batch_hard_links),
        cmocka_unit_test(test_rootfs_scan_batch_fail_closes),
        cmocka_unit_test(test_rootfs_scan_mount_point_skipped),
        cmocka_unit_test(test_rootfs_cache_hits_and_rehash),
        cmocka_unit_test(test_rootfs_cache_layer_origin),
        cmocka_unit_test(test_rootfs_cache_racy_default),
        cmocka_unit_test(test_rootfs_cache_bound),
        cmocka_unit_test(test_rootfs_scan_odd_names),
        cmocka_unit_test(test_ocistate_parse_invalid),
        cmocka_unit_test(test_ocistate_parse_truncated_every_length),
        cmocka_unit_test(test_ocistate_parse_podman),
        cmocka_unit_test(test_ocistate_read_fd),
        cmocka_unit_test(test_ocistate_config_parse_invalid),
        cmocka_unit_test(test_ocistate_config_parse_valid),
        cmocka_unit_test(test_ocistate_bundle_rootfs_open),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
