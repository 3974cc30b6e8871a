/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The package inventory on rootfs trees built under a temp dir: a Debian tree
 * whose status holds stanzas copied from this machine's dpkg database (and
 * checked against dpkg-query), distroless status.d, an apk database, corrupt
 * databases refused with file:line, symlinks that would escape to the host,
 * and the canonical text's round trip and strict parser.
 */
#include <errno.h>
#include <fcntl.h>
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
#include "attest/inventory.h"
#include "attest/util.h"

extern char **environ;

static char base[] = "/tmp/att-test-inventory.XXXXXX";
static unsigned n_roots;

/* A fresh, empty rootfs directory under base. */
static void new_root(char *root, size_t len)
{
    (void)snprintf(root, len, "%s/root%u", base, n_roots++);
    assert_int_equal(mkdir(root, 0755), 0);
}

/* mkdir -p of every parent of root/rel. */
static void parents(const char *root, const char *rel, char *path, size_t len)
{
    char *slash;

    (void)snprintf(path, len, "%s/%s", root, rel);
    for (slash = strchr(path + strlen(root) + 1, '/'); slash != NULL;
         slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
        *slash = '/';
    }
}

static void put(const char *root, const char *rel, const void *data, size_t len)
{
    char path[512];
    const uint8_t *p = data;
    ssize_t n;
    int fd;

    parents(root, rel, path, sizeof(path));
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    while (len > 0) {
        n = write(fd, p, len);
        assert_true(n > 0);
        p += n;
        len -= (size_t)n;
    }
    assert_int_equal(close(fd), 0);
}

static void put_str(const char *root, const char *rel, const char *s)
{
    put(root, rel, s, strlen(s));
}

static void sym(const char *root, const char *rel, const char *target)
{
    char path[512];

    parents(root, rel, path, sizeof(path));
    (void)unlink(path);
    assert_int_equal(symlink(target, path), 0);
}

static att_rc load(const char *root, struct att_inventory **inv, char *why, size_t why_len)
{
    why[0] = '\0';
    return att_inventory_from_dir(root, inv, why, why_len);
}

static const struct att_pkg *find(const struct att_inventory *inv, const char *name,
                                  const char *arch)
{
    size_t i;

    for (i = 0; i < inv->n_pkgs; i++) {
        if (strcmp(inv->pkgs[i].name, name) == 0 &&
            (arch == NULL || strcmp(inv->pkgs[i].arch, arch) == 0)) {
            return &inv->pkgs[i];
        }
    }
    return NULL;
}

/* find() that fails the test when the package is not there. */
static const struct att_pkg *must_find(const struct att_inventory *inv, const char *name,
                                       const char *arch)
{
    const struct att_pkg *p = find(inv, name, arch);

    if (p == NULL) {
        fail_msg("package %s not in the inventory", name);
        abort(); /* not reached; tells -Wnull-dereference so */
    }
    return p;
}

/* canonical -> parse -> canonical gives the same bytes. */
static void round_trip(const struct att_inventory *inv)
{
    struct att_inventory *back = NULL;
    struct att_buf a;
    struct att_buf b;
    char why[256] = "";

    att_buf_init(&a, ATT_INV_MAX_TEXT);
    att_buf_init(&b, ATT_INV_MAX_TEXT);
    assert_int_equal(att_inventory_canonical(inv, &a), ATT_OK);
    assert_int_equal(att_inventory_parse((const char *)a.data, a.len, &back, why, sizeof(why)),
                     ATT_OK);
    assert_int_equal(att_inventory_canonical(back, &b), ATT_OK);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    assert_int_equal(back->n_pkgs, inv->n_pkgs);
    assert_string_equal(back->ecosystem, inv->ecosystem);
    att_inventory_free(back);
    att_buf_cleanup(&a);
    att_buf_cleanup(&b);
}

/* ------------------------------------------------------------------------- */
/* Debian from this machine's dpkg database                                  */

/* Append the host's stanza of @p pkg (the first, for a multi-arch package). */
static bool host_stanza(const char *status, const char *pkg, struct att_buf *out)
{
    char key[128];
    const char *start = NULL;
    const char *end;

    (void)snprintf(key, sizeof(key), "Package: %s\n", pkg);
    if (strncmp(status, key, strlen(key)) == 0) {
        start = status;
    } else {
        (void)snprintf(key, sizeof(key), "\nPackage: %s\n", pkg);
        start = strstr(status, key);
        if (start != NULL) {
            start++;
        }
    }
    if (start == NULL) {
        return false;
    }
    end = strstr(start, "\n\n");
    end = end != NULL ? end + 1 : start + strlen(start);
    assert_int_equal(att_buf_append(out, start, (size_t)(end - start)), ATT_OK);
    assert_int_equal(att_buf_append_str(out, "\n"), ATT_OK);
    return true;
}

/* Run dpkg-query -W for @p names, output to @p file; false when it cannot run. */
static bool dpkg_query(char *const *names, size_t n, const char *file)
{
    char *argv[16];
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int st = 0;
    size_t i;
    bool ok;

    argv[0] = (char *)(uintptr_t) "dpkg-query";
    argv[1] = (char *)(uintptr_t) "-W";
    argv[2] = (char *)(uintptr_t) "-f";
    argv[3] = (char *)(uintptr_t) "${Package} ${Version} ${Architecture} ${source:Package} "
                                  "${source:Version}\\n";
    for (i = 0; i < n && i < 11; i++) {
        argv[4 + i] = names[i];
    }
    argv[4 + i] = NULL;
    assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
    assert_int_equal(
        posix_spawn_file_actions_addopen(&fa, 1, file, O_WRONLY | O_CREAT | O_TRUNC, 0644), 0);
    ok = posix_spawnp(&pid, "dpkg-query", &fa, NULL, argv, environ) == 0;
    (void)posix_spawn_file_actions_destroy(&fa);
    if (!ok) {
        return false;
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static const char DEBIAN_OSREL[] = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
                                   "NAME=\"Debian GNU/Linux\"\n"
                                   "VERSION_ID=\"12\"\n"
                                   "VERSION=\"12 (bookworm)\"\n"
                                   "VERSION_CODENAME=bookworm\n"
                                   "ID=debian\n"
                                   "HOME_URL=\"https://www.debian.org/\"\n";

static void test_inventory_debian_host_stanzas(void **state)
{
    static const char *const wanted[] = {"libc6", "zlib1g",    "libssl3",
                                         "bash",  "coreutils", "base-files"};
    struct att_inventory *inv = NULL;
    struct att_buf host;
    struct att_buf status;
    char *names[8];
    char root[256];
    char qfile[300];
    char why[256];
    char line[1024];
    const struct att_pkg *p;
    size_t n = 0;
    size_t checked = 0;
    size_t i;
    FILE *f;

    (void)state;
    att_buf_init(&host, ATT_INV_MAX_DB);
    if (att_file_read("/var/lib/dpkg/status", &host) != ATT_OK) {
        att_buf_cleanup(&host);
        skip(); /* not a Debian machine */
    }
    att_buf_init(&status, ATT_INV_MAX_DB);
    /* A removed package that left its conffiles: skipped, like dpkg -l shows it. */
    assert_int_equal(att_buf_append_str(&status, "Package: oldpkg\n"
                                                 "Status: deinstall ok config-files\n"
                                                 "Priority: optional\n"
                                                 "Version: 1.0-1\n"
                                                 "Conffiles:\n"
                                                 " /etc/oldpkg.conf 0123456789abcdef\n\n"),
                     ATT_OK);
    for (i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
        if (host_stanza((const char *)host.data, wanted[i], &status)) {
            names[n++] = (char *)(uintptr_t)wanted[i];
        }
    }
    if (n == 0) {
        att_buf_cleanup(&host);
        att_buf_cleanup(&status);
        skip();
    }
    new_root(root, sizeof(root));
    put(root, "var/lib/dpkg/status", status.data, status.len);
    put_str(root, "usr/lib/os-release", DEBIAN_OSREL);
    sym(root, "etc/os-release", "../usr/lib/os-release");

    assert_int_equal(load(root, &inv, why, sizeof(why)), ATT_OK);
    assert_int_equal(inv->format, ATT_PKG_DPKG);
    assert_string_equal(inv->os_id, "debian");
    assert_string_equal(inv->os_version_id, "12");
    assert_string_equal(inv->os_codename, "bookworm");
    assert_string_equal(inv->ecosystem, "Debian:12");
    assert_int_equal(inv->n_pkgs, n);
    assert_null(find(inv, "oldpkg", NULL));
    for (i = 1; i < inv->n_pkgs; i++) {
        assert_true(strcmp(inv->pkgs[i - 1].name, inv->pkgs[i].name) < 0);
    }
    p = find(inv, "libc6", NULL);
    if (p != NULL) {
        assert_string_equal(p->source, "glibc");
        assert_string_equal(p->source_version, p->version);
    }
    /* dpkg itself must read every package the same way. */
    (void)snprintf(qfile, sizeof(qfile), "%s/dpkg-query.out", base);
    if (dpkg_query(names, n, qfile)) {
        f = fopen(qfile, "r");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f) != NULL) {
            char name[256];
            char ver[256];
            char arch[64];
            char src[256];
            char srcver[256];

            assert_int_equal(
                sscanf(line, "%255s %255s %63s %255s %255s", name, ver, arch, src, srcver), 5);
            p = find(inv, name, arch);
            if (p == NULL) {
                continue; /* another architecture of a multi-arch package */
            }
            assert_string_equal(p->version, ver);
            assert_string_equal(p->source, src);
            assert_string_equal(p->source_version, srcver);
            checked++;
        }
        (void)fclose(f);
        assert_int_equal(checked, n);
    }
    round_trip(inv);
    att_inventory_free(inv);
    att_buf_cleanup(&host);
    att_buf_cleanup(&status);
}

/* ------------------------------------------------------------------------- */
/* Distroless status.d                                                       */

static void test_inventory_distroless_statusd(void **state)
{
    struct att_inventory *inv = NULL;
    const struct att_pkg *p;
    char root[256];
    char why[256];
    char path[512];

    (void)state;
    new_root(root, sizeof(root));
    put_str(root, "var/lib/dpkg/status.d/base",
            "Package: base-files\n"
            "Version: 12.4+deb12u5\n"
            "Architecture: amd64\n"
            "Essential: yes\n"
            "Description: Debian base system miscellaneous files\n"
            " This package contains the basic filesystem hierarchy.\n"
            "\n"
            "Package: netbase\n"
            "Version: 6.4\n"
            "Architecture: all\n");
    put_str(root, "var/lib/dpkg/status.d/libssl3",
            "package: libssl3\n" /* field names are case-insensitive */
            "SOURCE: openssl (3.0.11-1~deb12u2)\n"
            "Version: 3.0.11-1~deb12u2+b1\n"
            "Architecture: amd64\n");
    /* distroless keeps file lists next to the stanzas; dot files and dirs are not stanzas */
    put_str(root, "var/lib/dpkg/status.d/libssl3.md5sums",
            "5461b4c9623a1657baf85fbc0c8576b6  usr/lib/x86_64-linux-gnu/libssl.so.3\n");
    put_str(root, "var/lib/dpkg/status.d/.wh..opq", "garbage\n");
    (void)snprintf(path, sizeof(path), "%s/var/lib/dpkg/status.d/sub", root);
    assert_int_equal(mkdir(path, 0755), 0);
    put_str(root, "etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n");

    assert_int_equal(load(root, &inv, why, sizeof(why)), ATT_OK);
    assert_int_equal(inv->format, ATT_PKG_DPKG);
    assert_string_equal(inv->ecosystem, "Debian:12");
    assert_int_equal(inv->n_pkgs, 3);
    assert_string_equal(inv->pkgs[0].name, "base-files");
    assert_string_equal(inv->pkgs[1].name, "libssl3");
    assert_string_equal(inv->pkgs[2].name, "netbase");
    p = must_find(inv, "libssl3", "amd64");
    assert_string_equal(p->version, "3.0.11-1~deb12u2+b1");
    assert_string_equal(p->source, "openssl");
    assert_string_equal(p->source_version, "3.0.11-1~deb12u2");
    p = must_find(inv, "netbase", "all");
    assert_string_equal(p->source, "netbase");
    assert_string_equal(p->source_version, "6.4");
    round_trip(inv);
    att_inventory_free(inv);

    /* The same package in status and status.d: identical is one, different is refused. */
    put_str(root, "var/lib/dpkg/status",
            "Package: netbase\nStatus: install ok installed\nVersion: 6.4\nArchitecture: all\n");
    assert_int_equal(load(root, &inv, why, sizeof(why)), ATT_OK);
    assert_int_equal(inv->n_pkgs, 3);
    att_inventory_free(inv);
    inv = NULL;
    put_str(root, "var/lib/dpkg/status",
            "Package: netbase\nStatus: install ok installed\nVersion: 6.3\nArchitecture: all\n");
    assert_int_equal(load(root, &inv, why, sizeof(why)), ATT_ERR_PARSE);
    assert_null(inv);
    assert_non_null(strstr(why, "/var/lib/dpkg/status.d/base:8:"));
    assert_non_null(strstr(why, "/var/lib/dpkg/status:1"));
    /* A broken stanza file names itself. */
    put_str(root, "var/lib/dpkg/status", "");
    put_str(root, "var/lib/dpkg/status.d/zz", "Package: zz\nVersion: 1.0\nbroken\n");
    assert_int_equal(load(root, &inv, why, sizeof(why)), ATT_ERR_PARSE);
    assert_non_null(strstr(why, "/var/lib/dpkg/status.d/zz:3:"));
}

/* ------------------------------------------------------------------------- */
/* apk                                                                       */

static const char APK_DB[] = "C:Q1abcdefghijklmnopqrstuvwxyz0123=\n"
                             "P:musl\n"
                             "V:1.2.4-r2\n"
                             "A:x86_64\n"
                             "S:383152\n"
                             "I:622592\n"
                             "T:the musl c library (libc) implementation\n"
                             "o:musl\n"
                             "p:so:libc.musl-x86_64.so.1=1\n"
                             "F:lib\n"
                             "R:libc.musl-x86_64.so.1\n"
                             "a:0:0:777\n"
                             "Z:Q17yJ3JFNypA4mxhJJr0ou6CzsJVI=\n"
                             "\n"
                             "C:Q1zyxwvutsrqponmlkjihgfedcba9876=\n"
                             "P:libcrypto3\n"
                             "V:3.1.4-r1\n"
                             "A:x86_64\n"
                             "o:openssl\n"
                             "D:so:libc.musl-x86_64.so.1\n"
                             "\n"
                             "P:busybox\n"
                             "V:1.36.1-r5\n"
                             "A:x86_64\n"
                             "\n";

static void test_inventory_apk(void **state)
{
    struct att_inventory *inv = NULL;
    const struct att_pkg *p;
    char root[256];
    char why[256];

    (void)state;
    new_root(root, sizeof(root));
    put_str(root, "lib/apk/db/installed", APK_DB);
    put_str(root, "etc/os-release",
            "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.18.4\n"
            "PRETTY_NAME=\"Alpine Linux v3.18\"\n");
    assert_int_equal(load(root, &inv, why, sizeof(why)), ATT_OK);
    assert_int_equal(inv->format, ATT_PKG_APK);
    assert_string_equal(inv->ecosystem, "Alpine:v3.18");
    assert_string_equal(inv->os_codename, "");
    assert_int_equal(inv->n_pkgs, 3);
    assert_string_equal(inv->pkgs[0].name, "busybox");
    assert_string_equal(inv->pkgs[1].name, "libcrypto3");
    assert_string_equal(inv->pkgs[2].name, "musl");
    p = must_find(inv, "libcrypto3", "x86_64");
    assert_string_equal(p->source, "openssl");
    assert_string_equal(p->source_version, "3.1.4-r1");
    p = must_find(inv, "busybox", NULL);
    assert_string_equal(p->source, "busybox");
    round_trip(inv);
    att_inventory_free(inv);
    inv = NULL;

    /* Broken apk records. */
    put_str(root, "lib/apk/db/installed", "P:musl\nV:1.2.4-r2\n\nP:zlib\nA:x86_64\n");
    assert_int_equal(load(root, &inv, why, sizeof(why)), ATT_ERR_PARSE);
    assert_non_null(strstr(why, "/lib/apk/db/installed:4:"));
    put_str(root, "lib/apk/db/installed", "P:musl\nV:not-a-version\n");
    assert_int_equal(load(root, &inv, why, sizeof(why)), ATT_ERR_PARSE);
    assert_non_null(strstr(why, "/lib/apk/db/installed:2:"));
    put_str(root, "lib/apk/db/installed", "P:musl\nV:1.2.4-r2\nmusl rules\n");
    assert_int_equal(load(root, &inv, why, sizeof(why)), ATT_ERR_PARSE);
    assert_non_null(strstr(why, "/lib/apk/db/installed:3:"));
    put_str(root, "lib/apk/db/installed", "P:musl\nV:1.2.4-r2\nV:1.2.5-r0\n");
    assert_int_equal(load(root, &inv, why, sizeof(why)), ATT_ERR_PARSE);
    assert_non_null(strstr(why, "/lib/apk/db/installed:3:"));
    assert_null(inv);

    /* dpkg and apk both listing packages: ambiguous. */
    put_str(root, "lib/apk/db/installed", APK_DB);
    put_str(root, "var/lib/dpkg/status", "Package: dash\nVersion: 0.5.12-2\n");
    assert_int_equal(load(root, &inv, why, sizeof(why)), ATT_ERR_PARSE);
    assert_non_null(strstr(why, "both"));
    /* An empty dpkg status next to a full apk db ("apk add dpkg"): apk. */
    put_str(root, "var/lib/dpkg/status", "");
    assert_int_equal(load(root, &inv, why, sizeof(why)), ATT_OK);
    assert_int_equal(inv->format, ATT_PKG_APK);
    assert_int_equal(inv->n_pkgs, 3);
    att_inventory_free(inv);
}

/* ------------------------------------------------------------------------- */
/* Corrupt dpkg status                                                       */

/* @p status must be refused with a reason that starts "/var/lib/dpkg/status:<line>:". */
static void refused(const char *status, size_t len, unsigned line, const char *what)
{
    struct att_inventory *inv = NULL;
    char root[256];
    char why[256];
    char want[64];

    new_root(root, sizeof(root));
    put(root, "var/lib/dpkg/status", status, len);
    assert_int_equal(load(root, &inv, why, sizeof(why)), ATT_ERR_PARSE);
    assert_null(inv);
    (void)snprintf(want, sizeof(want), "/var/lib/dpkg/status:%u: ", line);
    if (strncmp(why, want, strlen(want)) != 0 || strstr(why, what) == NULL) {
        fail_msg("why \"%s\", wanted \"%s...%s\"", why, want, what);
    }
}

#define REFUSED(s, line, what) refused((s), sizeof(s) - 1, (line), (what))

static void test_inventory_dpkg_corrupt(void **state)
{
    char big[1024];
    char *many;
    size_t off = 0;
    size_t cap = (size_t)ATT_INV_MAX_PKGS * 40u + 64u;
    unsigned i;

    (void)state;
    REFUSED("Package: a\nStatus: install ok installed\nArchitecture: all\n", 1, "without Version");
    REFUSED("Status: install ok installed\nVersion: 1.0\n", 1, "without Package");
    REFUSED("Package: a\nVersion: 1.0\n\nPackage: b\nVersion: abc\n", 5, "bad Version");
    REFUSED("Package: a\nVersion: 1.0\n\nPackage: b\nVersion: 1.0 2\n", 5, "bad Version");
    REFUSED("Package: a\nVersion: 1:\n", 2, "bad Version");
    REFUSED("Package: a\nVersion: 1.0\nSo\0urce: x\n", 3, "NUL");
    REFUSED("Package: a\nhello world\nVersion: 1.0\n", 2, "without ':'");
    REFUSED(" indented\nPackage: a\nVersion: 1.0\n", 1, "continuation");
    REFUSED("Package: a\nVersion: 1.0\n 2.0\n", 3, "Version continued");
    REFUSED("Package: a\nVersion: 1.0\nversion: 2.0\n", 3, "second Version");
    REFUSED("Package: Bad_Name\nVersion: 1.0\n", 1, "not a valid package name");
    REFUSED("Package: a\nVersion: 1.0\nSource: x (1.0\n", 3, "Source");
    REFUSED("Package: a\nVersion: 1.0\nSource: x (1.0) y\n", 3, "Source");
    REFUSED("Package: a\nVersion: 1.0\nSource: UPPER\n", 3, "Source");
    REFUSED("Package: a\nVersion: 1.0\nArchitecture: am d64\n", 3, "Architecture");
    REFUSED("Package: a\nVersion: 1.0\nStatus: install ok\n", 3, "Status");
    REFUSED("Package: a\nVersion: 1.0\nStatus: install ok weird\n", 3, "unknown package state");
    REFUSED("Package: a\nVersion: 1.0\n-Bad: x\n", 3, "bad field name");
    /* A token over ATT_INV_MAX_TOKEN. */
    (void)snprintf(big, sizeof(big), "Package: a\nVersion: 1.");
    for (i = (unsigned)strlen(big); i < 400; i++) {
        big[i] = '0';
    }
    big[i] = '\n';
    big[i + 1] = '\0';
    refused(big, strlen(big), 2, "longer than");
    /* More packages than ATT_INV_MAX_PKGS. */
    many = malloc(cap);
    assert_non_null(many);
    for (i = 0; i <= ATT_INV_MAX_PKGS; i++) {
        off += (size_t)snprintf(many + off, cap - off, "Package: p%u\nVersion: 1\n\n", i);
    }
    refused(many, off, 3u * ATT_INV_MAX_PKGS + 1u, "more than");
    free(many);
}

static void test_inventory_dpkg_oversized(void **state)
{
    struct att_inventory *inv = NULL;
    char root[256];
    char path[512];
    char why[256];
    int fd;

    (void)state;
    new_root(root, sizeof(root));
    put_str(root, "var/lib/dpkg/status", "");
    (void)snprintf(path, sizeof(path), "%s/var/lib/dpkg/status", root);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)ATT_INV_MAX_DB + 1), 0); /* sparse */
    assert_int_equal(close(fd), 0);
    assert_int_equal(load(root, &inv, why, sizeof(why)), ATT_ERR_PARSE);
    assert_non_null(strstr(why, "/var/lib/dpkg/status: larger than"));
    assert_null(inv);
    /* Not a regular file. */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(load(root, &inv, why, sizeof(why)), ATT_ERR_PARSE);
    assert_non_null(strstr(why, "not a regular file"));
}

/* ------------------------------------------------------------------------- */
/* Symlinks stay inside the root                                             */

static const char ROOT_OSREL[] = "ID=attestos\nVERSION_ID=9.9\nVERSION_CODENAME=inside\n";

static void expect_inside(const char *root)
{
    struct att_inventory *inv = NULL;
    char why[256];

    assert_int_equal(load(root, &inv, why, sizeof(why)), ATT_OK);
    assert_string_equal(inv->os_id, "attestos"); /* the host's would say debian or so */
    assert_string_equal(inv->os_codename, "inside");
    att_inventory_free(inv);
}

static void test_inventory_symlinks_stay_in_root(void **state)
{
    struct att_inventory *inv = NULL;
    char root[256];
    char path[512];
    char why[256];

    (void)state;
    new_root(root, sizeof(root));
    put_str(root, "usr/lib/os-release", ROOT_OSREL);
    /* On the host these name the host's /usr/lib/os-release. */
    sym(root, "etc/os-release", "/etc/../../../../usr/lib/os-release");
    expect_inside(root);
    sym(root, "etc/os-release", "../../../../../../../../../../usr/lib/os-release");
    expect_inside(root);
    sym(root, "etc/os-release", "/usr/lib/os-release");
    expect_inside(root);
    /* The brief's case: a link to the host's own /etc/os-release is the root's own path. */
    put_str(root, "etc/os-release.real", ROOT_OSREL);
    sym(root, "etc/os-release", "/etc/../../../../etc/os-release.real");
    expect_inside(root);
    /* A dangling link is a missing /etc/os-release: /usr/lib/os-release is read. */
    sym(root, "etc/os-release", "/nowhere/os-release");
    expect_inside(root);
    /* A link to itself through "..": a loop inside the root, refused. */
    sym(root, "etc/os-release", "/etc/../../../../etc/os-release");
    assert_int_equal(load(root, &inv, why, sizeof(why)), ATT_ERR_PARSE);
    assert_non_null(strstr(why, "/etc/os-release"));
    /* A FIFO is never opened for reading (that would block). */
    (void)snprintf(path, sizeof(path), "%s/etc/os-release", root);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkfifo(path, 0644), 0);
    assert_int_equal(load(root, &inv, why, sizeof(why)), ATT_ERR_PARSE);
    assert_non_null(strstr(why, "not a regular file"));
    assert_int_equal(unlink(path), 0);
    /* The dpkg database too: an absolute link to the host's status stays in the root. */
    put_str(root, "var/lib/dpkg/status.real", "Package: inside\nVersion: 1.0\n");
    sym(root, "var/lib/dpkg/status", "/../../../var/lib/dpkg/status.real");
    assert_int_equal(load(root, &inv, why, sizeof(why)), ATT_OK);
    assert_int_equal(inv->n_pkgs, 1);
    assert_string_equal(inv->pkgs[0].name, "inside");
    att_inventory_free(inv);
    inv = NULL;
    sym(root, "var/lib/dpkg/status", "/var/lib/dpkg/status");
    assert_int_equal(load(root, &inv, why, sizeof(why)), ATT_ERR_PARSE);
    assert_null(inv);
}

/* ------------------------------------------------------------------------- */
/* os-release                                                                */

static void os_case(const char *text, const char *id, const char *ver, const char *code,
                    const char *eco)
{
    struct att_inventory *inv = NULL;
    char root[256];
    char why[256];

    new_root(root, sizeof(root));
    put_str(root, "usr/lib/os-release", text);
    assert_int_equal(load(root, &inv, why, sizeof(why)), ATT_OK);
    assert_string_equal(inv->os_id, id);
    assert_string_equal(inv->os_version_id, ver);
    assert_string_equal(inv->os_codename, code);
    assert_string_equal(inv->ecosystem, eco);
    round_trip(inv);
    att_inventory_free(inv);
}

static void test_inventory_os_release(void **state)
{
    (void)state;
    os_case("# comment\n\n  ID='ubuntu'\nVERSION_ID=\"22.04\"\nVERSION_CODENAME=jammy\n", "ubuntu",
            "22.04", "jammy", "Ubuntu:22.04");
    os_case("ID=debian\nVERSION_CODENAME=trixie\n", "debian", "", "trixie", "");
    os_case("ID=\"deb\"ian\nVERSION_ID=1\\2\n", "debian", "12", "", "Debian:12");
    os_case("ID=alpine\nVERSION_ID=3.19_alpha20230901\n", "alpine", "3.19_alpha20230901", "", "");
    os_case("ID=alpine\nVERSION_ID=3.20\n", "alpine", "3.20", "", "Alpine:v3.20");
    /* Values that are not tokens are missing; the last assignment wins. */
    os_case("ID=debian\nID=\"not valid\"\nVERSION_ID=-\nVERSION_CODENAME=$(reboot)\n", "", "", "",
            "");
    os_case("ID=fedora\nID=debian # trailing comment\nVERSION_ID=12 extra\n", "debian", "", "", "");
    /* A quoted value spanning lines hides what is inside it, as in the shell. */
    os_case("ID=debian\nPRETTY_NAME=\"x\nID=alpine\n\"\nVERSION_ID=12\n", "debian", "12", "",
            "Debian:12");
    /* An unterminated quote ends the file. */
    os_case("ID=debian\nNAME=\"x\nVERSION_ID=12\n", "debian", "", "", "");
}

/* ------------------------------------------------------------------------- */
/* Canonical text                                                            */

static const char CANON[] = "attest-inventory 1\n"
                            "os debian 12 bookworm\n"
                            "ecosystem Debian:12\n"
                            "format dpkg\n"
                            "pkg libc6 2.36-9+deb12u4 amd64 glibc 2.36-9+deb12u4\n"
                            "pkg libc6 2.36-9+deb12u4 i386 glibc 2.36-9+deb12u4\n"
                            "pkg zlib1g 1:1.2.13.dfsg-1 amd64 zlib 1:1.2.13.dfsg-1\n";

/* Replace the first @p from in CANON by @p to and expect a refusal naming @p line. */
static void canon_refused(const char *from, const char *to, unsigned line)
{
    struct att_inventory *inv = NULL;
    char text[1024];
    char why[256];
    char want[32];
    const char *at = strstr(CANON, from);

    assert_non_null(at);
    (void)snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - CANON), CANON, to, at + strlen(from));
    assert_int_equal(att_inventory_parse(text, strlen(text), &inv, why, sizeof(why)),
                     ATT_ERR_PARSE);
    assert_null(inv);
    (void)snprintf(want, sizeof(want), "line %u:", line);
    if (strncmp(why, want, strlen(want)) != 0) {
        fail_msg("why \"%s\", wanted \"%s\" for %s -> %s", why, want, from, to);
    }
}

static void test_inventory_canonical_parse(void **state)
{
    struct att_inventory *inv = NULL;
    struct att_buf b;
    char why[256];
    char *many;
    size_t off;
    size_t cap = (size_t)ATT_INV_MAX_PKGS * 32u + 256u;
    size_t cut;
    size_t min_ok = (size_t)(strstr(CANON, "format dpkg\n") - CANON) + 12u;
    unsigned i;

    (void)state;
    assert_int_equal(att_inventory_parse(CANON, strlen(CANON), &inv, why, sizeof(why)), ATT_OK);
    assert_int_equal(inv->n_pkgs, 3);
    assert_string_equal(inv->pkgs[1].arch, "i386");
    att_buf_init(&b, ATT_INV_MAX_TEXT);
    assert_int_equal(att_inventory_canonical(inv, &b), ATT_OK);
    assert_int_equal(b.len, strlen(CANON));
    assert_memory_equal(b.data, CANON, b.len);

    /* The writer refuses what the parser would: a blank inside a token. */
    free(inv->pkgs[0].name);
    inv->pkgs[0].name = strdup("lib c6");
    assert_non_null(inv->pkgs[0].name);
    assert_int_equal(att_inventory_canonical(inv, &b), ATT_ERR_INVALID_ARG);
    assert_int_equal(b.len, strlen(CANON)); /* untouched */
    att_inventory_free(inv);
    inv = NULL;
    att_buf_cleanup(&b);

    canon_refused("attest-inventory 1", "attest-inventory 2", 1);
    canon_refused("os debian 12 bookworm", "os debian 12", 2);
    canon_refused("os debian 12 bookworm", "os debian 12 book worm", 2);
    canon_refused("os debian", "os  debian", 2);
    canon_refused("ecosystem Debian:12", "ecosystem Alpine:v3.18", 3);
    canon_refused("format dpkg", "format rpm", 4);
    canon_refused("pkg libc6 2.36-9+deb12u4 i386", "pkg libc6 2.36-9+deb12u4 amd64", 6);
    canon_refused("pkg zlib1g", "pkg aaa", 7); /* unsorted */
    canon_refused("zlib 1:1.2.13.dfsg-1\n", "zlib 1:1.2.13.dfsg-1 extra\n", 7);
    canon_refused("zlib 1:1.2.13.dfsg-1\n", "zlib 1:1.2.13.dfsg-1 \n", 7);
    canon_refused("zlib 1:1.2.13.dfsg-1\n", "zlib\t1:1.2.13.dfsg-1\n", 7);
    canon_refused("1:1.2.13.dfsg-1 amd64", "x1.2 amd64", 7); /* bad version */
    canon_refused("pkg zlib1g", "pkg Zlib1g", 7);
    canon_refused("pkg zlib1g", "package zlib1g", 7);
    canon_refused("format dpkg\n", "format dpkg\n\n", 5);
    canon_refused("format dpkg\n", "format none\n", 5); /* packages without a format */
    canon_refused("ecosystem", "format dpkg\necosystem", 3);
    canon_refused("amd64 glibc", "amd\001 glibc", 5);

    /* Empty, NUL, truncated at every length, missing final newline. */
    assert_int_equal(att_inventory_parse("", 0, &inv, why, sizeof(why)), ATT_ERR_PARSE);
    assert_non_null(strstr(why, "line 1:"));
    assert_int_equal(att_inventory_parse(NULL, 0, &inv, why, sizeof(why)), ATT_ERR_PARSE);
    assert_int_equal(att_inventory_parse(NULL, 1, &inv, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_inventory_parse(CANON, 3, NULL, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    for (cut = 0; cut < strlen(CANON); cut++) {
        att_rc rc = att_inventory_parse(CANON, cut, &inv, why, sizeof(why));

        if (rc == ATT_OK) {
            /* only at a line end after the format line */
            assert_true(cut > 0 && cut >= min_ok && CANON[cut - 1] == '\n');
            att_inventory_free(inv);
            inv = NULL;
        } else {
            assert_int_equal(rc, ATT_ERR_PARSE);
            assert_null(inv);
        }
    }
    assert_int_equal(att_inventory_parse(CANON, sizeof(CANON), &inv, why, sizeof(why)),
                     ATT_ERR_PARSE); /* the NUL terminator as trailing data */

    /* A valid minimal inventory and ATT_INV_MAX_PKGS + 1 packages. */
    many = malloc(cap);
    assert_non_null(many);
    off = (size_t)snprintf(many, cap, "attest-inventory 1\nos - - -\necosystem -\nformat apk\n");
    assert_int_equal(att_inventory_parse(many, off, &inv, why, sizeof(why)), ATT_OK);
    assert_int_equal(inv->format, ATT_PKG_APK);
    att_inventory_free(inv);
    inv = NULL;
    for (i = 0; i <= ATT_INV_MAX_PKGS; i++) {
        off += (size_t)snprintf(many + off, cap - off, "pkg p%06u 1.0-r0 - p 1.0-r0\n", i);
    }
    assert_int_equal(att_inventory_parse(many, off, &inv, why, sizeof(why)), ATT_ERR_PARSE);
    assert_non_null(strstr(why, "line 50005:"));
    assert_int_equal(att_inventory_parse(many, off - 30, &inv, why, sizeof(why)), ATT_OK);
    assert_int_equal(inv->n_pkgs, ATT_INV_MAX_PKGS);
    att_inventory_free(inv);
    free(many);
}

/* ------------------------------------------------------------------------- */
/* No package database                                                       */

static void test_inventory_no_database(void **state)
{
    static const char want[] = "attest-inventory 1\nos - - -\necosystem -\nformat none\n";
    struct att_inventory *inv = NULL;
    struct att_buf b;
    char root[256];
    char why[256];

    (void)state;
    new_root(root, sizeof(root));
    put_str(root, "bin/app",
            "\x7f"
            "ELF");
    assert_int_equal(load(root, &inv, why, sizeof(why)), ATT_OK);
    assert_int_equal(inv->format, ATT_PKG_NONE);
    assert_int_equal(inv->n_pkgs, 0);
    assert_null(inv->pkgs);
    assert_string_equal(inv->ecosystem, "");
    att_buf_init(&b, 4096);
    assert_int_equal(att_inventory_canonical(inv, &b), ATT_OK);
    assert_string_equal((const char *)b.data, want);
    round_trip(inv);
    att_buf_cleanup(&b);
    att_inventory_free(inv);
    inv = NULL;

    /* An empty status.d directory is a dpkg image with nothing in it. */
    put_str(root, "var/lib/dpkg/status.d/.keep", "");
    assert_int_equal(load(root, &inv, why, sizeof(why)), ATT_OK);
    assert_int_equal(inv->format, ATT_PKG_DPKG);
    assert_int_equal(inv->n_pkgs, 0);
    att_inventory_free(inv);
    inv = NULL;

    assert_int_equal(att_inventory_from_dir("/nonexistent/rootfs", &inv, why, sizeof(why)),
                     ATT_ERR_IO);
    assert_int_equal(att_inventory_from_dir(NULL, &inv, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_inventory_from_rootfs(-1, &inv, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_int_equal(att_inventory_canonical(NULL, &b), ATT_ERR_INVALID_ARG);
    assert_null(inv);
    att_inventory_free(NULL);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(base) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    char *argv[] = {(char *)(uintptr_t) "rm", (char *)(uintptr_t) "-rf", base, NULL};
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
        cmocka_unit_test(test_inventory_debian_host_stanzas),
        cmocka_unit_test(test_inventory_distroless_statusd),
        cmocka_unit_test(test_inventory_apk),
        cmocka_unit_test(test_inventory_dpkg_corrupt),
        cmocka_unit_test(test_inventory_dpkg_oversized),
        cmocka_unit_test(test_inventory_symlinks_stay_in_root),
        cmocka_unit_test(test_inventory_os_release),
        cmocka_unit_test(test_inventory_canonical_parse),
        cmocka_unit_test(test_inventory_no_database),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
