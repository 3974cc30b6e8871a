/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* syscall(SYS_openat2) */
/*
 * Package inventory of an untrusted image rootfs (see attest/inventory.h):
 * os-release(5), the dpkg status database (deb822(5) stanzas, the Status
 * words of dpkg(1)), distroless's /var/lib/dpkg/status.d/ (one control file
 * per package, as `dpkg-deb --field` writes it, next to <pkg>.md5sums) and
 * apk-tools' installed database ("K:value" lines, blank line between
 * packages), plus the canonical text and its strict parser. It does not
 * order versions (vercmp.c) or judge vulnerabilities (vulndb.c). Every path
 * is opened with openat2(RESOLVE_IN_ROOT), so an image's symlinks, absolute
 * or "../", resolve inside the image and never reach the host.
 */
#include "attest/inventory.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "attest/util.h"
#include "attest/vercmp.h"

#define OSREL_MAX           (64u * 1024u) /* a real os-release is a few hundred bytes */
#define OSREL_VALUE_MAX     63u
#define STATUSD_MAX_FILES   ATT_INV_MAX_PKGS /* each stanza file holds at least one package */
#define STATUSD_MAX_ENTRIES (2u * ATT_INV_MAX_PKGS + 2u) /* + <pkg>.md5sums, ".", ".." */
#define READ_CHUNK          16384u
#define WHAT_MAX            192u

static const char OSREL_ETC[] = "/etc/os-release";
static const char OSREL_USR[] = "/usr/lib/os-release";
static const char DPKG_STATUS[] = "/var/lib/dpkg/status";
static const char DPKG_STATUSD[] = "/var/lib/dpkg/status.d";
static const char APK_INSTALLED[] = "/lib/apk/db/installed";
static const char MD5SUMS_SUFFIX[] = ".md5sums";

/* ------------------------------------------------------------------------- */
/* Small helpers                                                             */

static att_rc parse_fail(char *why, size_t why_len, const char *file, size_t line, const char *fmt,
                         ...) __attribute__((format(printf, 5, 6)));

/* Set why to "FILE:LINE: what" and return ATT_ERR_PARSE. */
static att_rc parse_fail(char *why, size_t why_len, const char *file, size_t line, const char *fmt,
                         ...)
{
    char what[WHAT_MAX];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    att_set_why(why, why_len, "%s:%zu: %s", file, line, what);
    return ATT_ERR_PARSE;
}

static char *dup_n(const char *p, size_t n)
{
    char *s = malloc(n + 1);

    if (s != NULL) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/* Copy a token of @p len bytes into dst (ATT_INV_MAX_TOKEN + 1 bytes); false when too long. */
static bool tok_copy(char *dst, const char *src, size_t len)
{
    if (len > ATT_INV_MAX_TOKEN) {
        return false;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
    return true;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || is_digit(c);
}

static bool is_alnum(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool all_blank(const char *p, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (!is_blank(p[i])) {
            return false;
        }
    }
    return true;
}

/* ASCII-only, locale-free: does p[0..len) equal @p word ignoring case? */
static bool word_eq_nocase(const char *p, size_t len, const char *word)
{
    size_t i;

    if (strlen(word) != len) {
        return false;
    }
    for (i = 0; i < len; i++) {
        char a = p[i];
        char b = word[i];

        if (a >= 'A' && a <= 'Z') {
            a = (char)(a - 'A' + 'a');
        }
        if (b >= 'A' && b <= 'Z') {
            b = (char)(b - 'A' + 'a');
        }
        if (a != b) {
            return false;
        }
    }
    return true;
}

static bool word_eq(const char *p, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(p, word, len) == 0;
}

static bool word_in(const char *p, size_t len, const char *const *words, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (word_eq(p, len, words[i])) {
            return true;
        }
    }
    return false;
}

/* 1-based line of byte @p off: one more than the newlines before it. */
static size_t line_of(const char *p, size_t off)
{
    size_t line = 1;
    size_t i;

    for (i = 0; i < off; i++) {
        if (p[i] == '\n') {
            line++;
        }
    }
    return line;
}

/*
 * The next line of p[0..len) from *pos: sets *line and *line_len (without
 * the '\n') and moves *pos past the '\n'. *has_nl tells whether the line
 * was terminated (the canonical text demands it; databases do not).
 */
static void next_line(const char *p, size_t len, size_t *pos, const char **line, size_t *line_len,
                      bool *has_nl)
{
    const char *start = p + *pos;
    const char *nl = memchr(start, '\n', len - *pos);

    *line = start;
    if (nl != NULL) {
        *line_len = (size_t)(nl - start);
        *pos += *line_len + 1;
        *has_nl = true;
    } else {
        *line_len = len - *pos;
        *pos = len;
        *has_nl = false;
    }
}

/* ------------------------------------------------------------------------- */
/* Token rules                                                               */

/*
 * A token of one alphanumeric (lower-case only with @p lower_only) followed
 * by alphanumerics and the characters of @p more.
 */
static bool token_ok(const char *s, bool lower_only, const char *more)
{
    size_t i;

    for (i = 0; s[i] != '\0'; i++) {
        bool an = lower_only ? is_lower_alnum(s[i]) : is_alnum(s[i]);

        if (!an && (i == 0 || strchr(more, s[i]) == NULL)) {
            return false;
        }
    }
    return i > 0;
}

/* Debian Policy §5.6.1: [a-z0-9][a-z0-9+.-]* */
static bool deb_name_ok(const char *s)
{
    return token_ok(s, true, "+.-");
}

/* apk names in practice: [A-Za-z0-9][A-Za-z0-9+._-]* ("R", "libstdc++", "py3-foo_bar"). */
static bool apk_name_ok(const char *s)
{
    return token_ok(s, false, "+._-");
}

/* dpkg ("amd64", "all", "musl-linux-arm64") and apk ("x86_64") architectures. */
static bool arch_ok(const char *s)
{
    return token_ok(s, false, "_-");
}

/*
 * An os-release value we keep: [A-Za-z0-9._~+-]{1,63}. A lone "-" is what the
 * canonical text writes for a missing field, so it counts as missing too.
 */
static bool osval_ok(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > OSREL_VALUE_MAX || (len == 1 && s[0] == '-')) {
        return false;
    }
    for (i = 0; i < len; i++) {
        char c = s[i];

        if (!is_alnum(c) && c != '.' && c != '_' && c != '~' && c != '+' && c != '-') {
            return false;
        }
    }
    return true;
}

/*
 * The OSV ecosystem named by the os fields: "Debian:<VERSION_ID>",
 * "Ubuntu:<VERSION_ID>", "Alpine:v<major>.<minor>" from "3.18.4"; "" for
 * anything else, including a Debian without VERSION_ID (testing, sid).
 */
static void ecosystem_of(const char *id, const char *version_id, char *out, size_t out_len)
{
    size_t i = 0;
    size_t major;
    size_t minor;

    out[0] = '\0';
    if (version_id[0] == '\0') {
        return;
    }
    if (strcmp(id, "debian") == 0) {
        (void)snprintf(out, out_len, "Debian:%s", version_id);
    } else if (strcmp(id, "ubuntu") == 0) {
        (void)snprintf(out, out_len, "Ubuntu:%s", version_id);
    } else if (strcmp(id, "alpine") == 0) {
        while (is_digit(version_id[i])) {
            i++;
        }
        major = i;
        if (major == 0 || major > 9 || version_id[i] != '.') {
            return;
        }
        i++;
        while (is_digit(version_id[i])) {
            i++;
        }
        minor = i - major - 1;
        if (minor == 0 || minor > 9 || (version_id[i] != '\0' && version_id[i] != '.')) {
            return;
        }
        (void)snprintf(out, out_len, "Alpine:v%.*s", (int)i, version_id);
    }
}

/* ------------------------------------------------------------------------- */
/* Files inside the root                                                     */

/* openat2 with the rootfs as "/": absolute and "../" symlinks stay inside. */
static int open_in_root(int rootfd, const char *path, uint64_t flags)
{
    struct open_how how;
    long fd;

    memset(&how, 0, sizeof(how));
    how.flags = flags;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
    return fd < 0 ? -1 : (int)fd;
}

/*
 * Map a failed open of @p path. A path that is not there (ENOENT, or ENOTDIR
 * when a file stands where a directory should) is absent: *found = false and
 * ATT_OK. A symlink loop or a magic link is the image's doing (ATT_ERR_PARSE);
 * anything else, ENOSYS from a kernel without openat2 included, is ATT_ERR_IO.
 */
static att_rc open_failed(const char *path, int err, bool *found, char *why, size_t why_len)
{
    if (err == ENOENT || err == ENOTDIR) {
        *found = false;
        return ATT_OK;
    }
    att_set_why(why, why_len, "%s: %s", path, strerror(err));
    return (err == ELOOP || err == EXDEV) ? ATT_ERR_PARSE : ATT_ERR_IO;
}

/*
 * Read the file at @p path (resolved inside the root) into @p out, at most
 * out->max bytes. Absent: *found = false, ATT_OK. Something other than a
 * regular file is ATT_ERR_PARSE, or absent when @p skip_other is set.
 *
 * The file is first opened O_PATH, which opens nothing: only once fstat
 * shows a regular file is it opened for reading, and that second open must
 * land on the same inode. So a FIFO cannot block the agent and a device node
 * planted in the image is never opened (opening some devices has effects).
 */
static att_rc root_read(int rootfd, const char *path, bool skip_other, struct att_buf *out,
                        bool *found, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    char chunk[READ_CHUNK];
    struct stat st;
    struct stat st2;
    int pfd = -1;
    int fd = -1;
    ssize_t n;

    *found = false;
    att_buf_reset(out);
    pfd = open_in_root(rootfd, path, O_PATH | O_CLOEXEC);
    if (pfd < 0) {
        rc = open_failed(path, errno, found, why, why_len);
        goto out;
    }
    if (fstat(pfd, &st) != 0) {
        att_set_why(why, why_len, "%s: fstat: %s", path, strerror(errno));
        rc = ATT_ERR_IO;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        if (skip_other) {
            rc = ATT_OK;
            goto out;
        }
        att_set_why(why, why_len, "%s: not a regular file", path);
        rc = ATT_ERR_PARSE;
        goto out;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > out->max) {
        att_set_why(why, why_len, "%s: larger than %zu bytes", path, out->max);
        rc = ATT_ERR_PARSE;
        goto out;
    }
    fd = open_in_root(rootfd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st2) != 0 || !S_ISREG(st2.st_mode) || st2.st_dev != st.st_dev ||
        st2.st_ino != st.st_ino) {
        att_set_why(why, why_len, "%s: changed while being read", path);
        rc = ATT_ERR_IO;
        goto out;
    }
    for (;;) {
        n = read(fd, chunk, sizeof(chunk));
        if (n == 0) {
            break;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            att_set_why(why, why_len, "%s: read: %s", path, strerror(errno));
            rc = ATT_ERR_IO;
            goto out;
        }
        rc = att_buf_append(out, chunk, (size_t)n);
        if (rc == ATT_ERR_PARSE) {
            att_set_why(why, why_len, "%s: larger than %zu bytes", path, out->max);
        }
        if (rc != ATT_OK) {
            goto out;
        }
    }
    *found = true;
    rc = ATT_OK;
out:
    if (fd >= 0) {
        (void)close(fd);
    }
    if (pfd >= 0) {
        (void)close(pfd);
    }
    return rc;
}

/* ------------------------------------------------------------------------- */
/* os-release                                                                */

/* One value being read: kept while it fits OSREL_VALUE_MAX, else marked long. */
struct osval {
    char s[OSREL_VALUE_MAX + 1];
    size_t len;
    bool too_long;
    bool bad; /* shell syntax we do not follow: the assignment is ignored */
};

static void osval_put(struct osval *v, char c)
{
    if (v->len < OSREL_VALUE_MAX) {
        v->s[v->len++] = c;
    } else {
        v->too_long = true;
    }
}

static size_t skip_to_next_line(const char *p, size_t len, size_t i)
{
    while (i < len && p[i] != '\n') {
        i++;
    }
    return i < len ? i + 1 : len;
}

/*
 * Read the value after "KEY=" at p[*i] as sh(1) would read one word: plain
 * characters, '\' escaping the next one, '...' literally, "..." where '\'
 * escapes only $ ` " \ and newline. Quotes may span lines, as in the shell
 * and systemd's parser, so both read the same assignments. Returns false on
 * an unterminated quote: the rest of the file cannot be read reliably.
 * Blanks end the word; anything but a comment after it, or $ ` ; & | < > ( )
 * unquoted, marks the value bad.
 */
static bool osrel_word(const char *p, size_t len, size_t *i, struct osval *v)
{
    size_t k = *i;
    char c;

    while (k < len && p[k] != '\n' && !is_blank(p[k])) {
        c = p[k];
        if (c == '\'') {
            k++;
            while (k < len && p[k] != '\'') {
                osval_put(v, p[k++]);
            }
            if (k >= len) {
                return false;
            }
            k++;
        } else if (c == '"') {
            k++;
            while (k < len && p[k] != '"') {
                if (p[k] == '\\' && k + 1 < len && strchr("$`\"\\\n", p[k + 1]) != NULL) {
                    if (p[k + 1] != '\n') {
                        osval_put(v, p[k + 1]);
                    }
                    k += 2;
                } else {
                    osval_put(v, p[k++]);
                }
            }
            if (k >= len) {
                return false;
            }
            k++;
        } else if (c == '\\') {
            if (k + 1 < len && p[k + 1] != '\n') {
                osval_put(v, p[k + 1]);
            }
            k += 2;
        } else if (strchr("$`;&|<>()", c) != NULL || c == '\0') {
            v->bad = true;
            k++;
        } else {
            osval_put(v, c);
            k++;
        }
    }
    while (k < len && is_blank(p[k])) {
        k++;
    }
    if (k < len && p[k] != '\n' && p[k] != '#') {
        v->bad = true;
    }
    *i = skip_to_next_line(p, len, k > len ? len : k);
    return true;
}

/*
 * Take ID, VERSION_ID and VERSION_CODENAME from os-release text (os-release(5):
 * KEY=value lines, comments, blank lines). The last assignment wins, as in the
 * shell; a value that is not a valid token leaves the field empty. Malformed
 * lines are ignored (systemd's reader is as lenient): os-release identifies
 * the image but is not evidence of what it contains.
 */
static void osrel_parse(const char *p, size_t len, struct att_inventory *inv)
{
    size_t i = 0;
    size_t key;
    size_t key_len;
    char *dst;
    struct osval v;

    while (i < len) {
        while (i < len && is_blank(p[i])) {
            i++;
        }
        if (i >= len) {
            break;
        }
        if (p[i] == '\n' || p[i] == '#') {
            i = skip_to_next_line(p, len, i);
            continue;
        }
        key = i;
        while (i < len && (is_alnum(p[i]) || p[i] == '_')) {
            i++;
        }
        key_len = i - key;
        if (key_len == 0 || is_digit(p[key]) || i >= len || p[i] != '=') {
            i = skip_to_next_line(p, len, i);
            continue;
        }
        i++;
        memset(&v, 0, sizeof(v));
        if (!osrel_word(p, len, &i, &v)) {
            return;
        }
        dst = NULL;
        if (word_eq(p + key, key_len, "ID")) {
            dst = inv->os_id;
        } else if (word_eq(p + key, key_len, "VERSION_ID")) {
            dst = inv->os_version_id;
        } else if (word_eq(p + key, key_len, "VERSION_CODENAME")) {
            dst = inv->os_codename;
        }
        if (dst == NULL) {
            continue;
        }
        if (!v.bad && !v.too_long && osval_ok(v.s, v.len)) {
            memcpy(dst, v.s, v.len);
            dst[v.len] = '\0';
        } else {
            dst[0] = '\0';
        }
    }
}

/* /etc/os-release, or /usr/lib/os-release when the first does not exist. */
static att_rc read_os_release(int rootfd, struct att_buf *b, struct att_inventory *inv, char *why,
                              size_t why_len)
{
    att_rc rc;
    bool found = false;

    b->max = OSREL_MAX;
    rc = root_read(rootfd, OSREL_ETC, false, b, &found, why, why_len);
    if (rc == ATT_OK && !found) {
        rc = root_read(rootfd, OSREL_USR, false, b, &found, why, why_len);
    }
    if (rc != ATT_OK) {
        return rc;
    }
    if (found) {
        osrel_parse((const char *)b->data, b->len, inv);
    }
    ecosystem_of(inv->os_id, inv->os_version_id, inv->ecosystem, sizeof(inv->ecosystem));
    return ATT_OK;
}

/* ------------------------------------------------------------------------- */
/* Package collection                                                        */

/* A package as read, with where it came from for messages about duplicates. */
struct entry {
    struct att_pkg pkg;
    size_t file; /* index into coll.files */
    size_t line;
};

struct coll {
    struct entry *e; /* owned */
    size_t n;
    size_t cap;
    char **files; /* owned: display paths */
    size_t n_files;
    size_t cap_files;
};

static void pkg_cleanup(struct att_pkg *p)
{
    free(p->name);
    free(p->version);
    free(p->arch);
    free(p->source);
    free(p->source_version);
    memset(p, 0, sizeof(*p));
}

static void coll_cleanup(struct coll *c)
{
    size_t i;

    for (i = 0; i < c->n; i++) {
        pkg_cleanup(&c->e[i].pkg);
    }
    free(c->e);
    for (i = 0; i < c->n_files; i++) {
        free(c->files[i]);
    }
    free(c->files);
    memset(c, 0, sizeof(*c));
}

/* Record a file name; *idx is its index for coll_add. */
static att_rc coll_file(struct coll *c, const char *path, size_t *idx)
{
    char **nf;
    size_t ncap;

    if (c->n_files == c->cap_files) {
        ncap = c->cap_files != 0 ? c->cap_files * 2 : 8;
        nf = realloc(c->files, ncap * sizeof(*nf));
        if (nf == NULL) {
            return ATT_ERR_NOMEM;
        }
        c->files = nf;
        c->cap_files = ncap;
    }
    c->files[c->n_files] = dup_n(path, strlen(path));
    if (c->files[c->n_files] == NULL) {
        return ATT_ERR_NOMEM;
    }
    *idx = c->n_files++;
    return ATT_OK;
}

/* Copy a validated package in. ATT_ERR_PARSE (no why) past ATT_INV_MAX_PKGS. */
static att_rc coll_add(struct coll *c, size_t file, size_t line, const char *name,
                       const char *version, const char *arch, const char *source,
                       const char *source_version)
{
    struct entry *ne;
    struct att_pkg p;
    size_t ncap;

    if (c->n >= ATT_INV_MAX_PKGS) {
        return ATT_ERR_PARSE;
    }
    if (c->n == c->cap) {
        ncap = c->cap != 0 ? c->cap * 2 : 64;
        if (ncap > ATT_INV_MAX_PKGS) {
            ncap = ATT_INV_MAX_PKGS;
        }
        ne = realloc(c->e, ncap * sizeof(*ne));
        if (ne == NULL) {
            return ATT_ERR_NOMEM;
        }
        c->e = ne;
        c->cap = ncap;
    }
    p.name = dup_n(name, strlen(name));
    p.version = dup_n(version, strlen(version));
    p.arch = dup_n(arch, strlen(arch));
    p.source = dup_n(source, strlen(source));
    p.source_version = dup_n(source_version, strlen(source_version));
    if (p.name == NULL || p.version == NULL || p.arch == NULL || p.source == NULL ||
        p.source_version == NULL) {
        pkg_cleanup(&p);
        return ATT_ERR_NOMEM;
    }
    c->e[c->n].pkg = p;
    c->e[c->n].file = file;
    c->e[c->n].line = line;
    c->n++;
    return ATT_OK;
}

/* The canonical order: name, then arch, bytewise. */
static int pkg_key_cmp(const struct att_pkg *a, const struct att_pkg *b)
{
    int r = strcmp(a->name, b->name);

    return r != 0 ? r : strcmp(a->arch, b->arch);
}

static bool pkg_same(const struct att_pkg *a, const struct att_pkg *b)
{
    return pkg_key_cmp(a, b) == 0 && strcmp(a->version, b->version) == 0 &&
           strcmp(a->source, b->source) == 0 && strcmp(a->source_version, b->source_version) == 0;
}

/* Key order, then origin, so duplicates sort the same way on every run. */
static int entry_cmp(const void *x, const void *y)
{
    const struct entry *a = x;
    const struct entry *b = y;
    int r = pkg_key_cmp(&a->pkg, &b->pkg);

    if (r != 0) {
        return r;
    }
    if (a->file != b->file) {
        return a->file < b->file ? -1 : 1;
    }
    if (a->line != b->line) {
        return a->line < b->line ? -1 : 1;
    }
    return 0;
}

/*
 * Sort, fold identical duplicates (a package listed in status and again in
 * status.d), refuse differing ones, and move the packages into @p inv.
 * Differences are looked for before anything is folded, so a failure leaves
 * the collection whole for coll_cleanup().
 */
static att_rc coll_finish(struct coll *c, struct att_inventory *inv, char *why, size_t why_len)
{
    struct att_pkg *pkgs;
    size_t i;
    size_t w = 0;

    if (c->n == 0) {
        return ATT_OK;
    }
    qsort(c->e, c->n, sizeof(*c->e), entry_cmp);
    for (i = 1; i < c->n; i++) {
        if (pkg_key_cmp(&c->e[i - 1].pkg, &c->e[i].pkg) == 0 &&
            !pkg_same(&c->e[i - 1].pkg, &c->e[i].pkg)) {
            return parse_fail(why, why_len, c->files[c->e[i].file], c->e[i].line,
                              "package %s (%s) differs from the one at %s:%zu", c->e[i].pkg.name,
                              c->e[i].pkg.arch, c->files[c->e[i - 1].file], c->e[i - 1].line);
        }
    }
    pkgs = calloc(c->n, sizeof(*pkgs));
    if (pkgs == NULL) {
        return ATT_ERR_NOMEM;
    }
    for (i = 0; i < c->n; i++) {
        if (w > 0 && pkg_key_cmp(&pkgs[w - 1], &c->e[i].pkg) == 0) {
            pkg_cleanup(&c->e[i].pkg);
            continue;
        }
        pkgs[w++] = c->e[i].pkg;
        memset(&c->e[i].pkg, 0, sizeof(c->e[i].pkg)); /* moved to pkgs */
    }
    c->n = 0;
    inv->pkgs = pkgs;
    inv->n_pkgs = w;
    return ATT_OK;
}

/* ------------------------------------------------------------------------- */
/* dpkg                                                                      */

enum dfield { DF_PACKAGE, DF_VERSION, DF_ARCH, DF_SOURCE, DF_STATUS, DF_N };

static const char *const dfield_names[DF_N] = {"Package", "Version", "Architecture", "Source",
                                               "Status"};

/* Status words as dpkg(1) lists them. */
static const char *const want_words[] = {"unknown", "install", "hold", "deinstall", "purge"};
static const char *const flag_words[] = {"ok", "reinstreq"};
static const char *const present_words[] = {"installed",        "half-configured",
                                            "unpacked",         "half-installed",
                                            "triggers-awaited", "triggers-pending"};
static const char *const absent_words[] = {"not-installed", "config-files"};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The fields of one stanza we read; values point into the file buffer, trimmed. */
struct stanza {
    size_t line; /* first line; 0 while no stanza is open */
    const char *val[DF_N];
    size_t len[DF_N];
    size_t vline[DF_N];
    int last; /* field of the previous line; -1 for one we do not read */
};

struct dpkg_ctx {
    const char *file; /* display path */
    size_t file_idx;
    struct coll *c;
    char *why;
    size_t why_len;
};

/*
 * Whether the stanza's package is on the system. No Status field counts as
 * installed (distroless control files have none; reporting a package is the
 * safe error). Status must be three known words: an unknown state is
 * refused rather than guessed.
 */
static att_rc stanza_present(const struct dpkg_ctx *x, const struct stanza *s, bool *present)
{
    const char *p = s->val[DF_STATUS];
    size_t len = s->len[DF_STATUS];
    const char *w[3] = {NULL, NULL, NULL};
    size_t wl[3] = {0, 0, 0};
    size_t n = 0;
    size_t i = 0;

    if (p == NULL) {
        *present = true;
        return ATT_OK;
    }
    while (i < len) {
        while (i < len && is_blank(p[i])) {
            i++;
        }
        if (i >= len) {
            break;
        }
        if (n == 3) {
            n = 4;
            break;
        }
        w[n] = p + i;
        while (i < len && !is_blank(p[i])) {
            i++;
        }
        wl[n] = (size_t)(p + i - w[n]);
        n++;
    }
    if (n != 3 || !word_in(w[0], wl[0], want_words, N_OF(want_words)) ||
        !word_in(w[1], wl[1], flag_words, N_OF(flag_words))) {
        return parse_fail(x->why, x->why_len, x->file, s->vline[DF_STATUS],
                          "Status is not \"<want> <flag> <state>\"");
    }
    if (word_in(w[2], wl[2], present_words, N_OF(present_words))) {
        *present = true;
        return ATT_OK;
    }
    if (word_in(w[2], wl[2], absent_words, N_OF(absent_words))) {
        *present = false;
        return ATT_OK;
    }
    return parse_fail(x->why, x->why_len, x->file, s->vline[DF_STATUS], "unknown package state");
}

/* "name" or "name (version)" into src / srcver (ATT_INV_MAX_TOKEN + 1 bytes each). */
static bool parse_source(const char *p, size_t len, char *src, char *srcver, bool *has_ver)
{
    size_t i = 0;
    size_t v;

    while (i < len && !is_blank(p[i])) {
        i++;
    }
    if (!tok_copy(src, p, i)) {
        return false;
    }
    *has_ver = false;
    if (i == len) {
        return true;
    }
    while (i < len && is_blank(p[i])) {
        i++;
    }
    if (i >= len || p[i] != '(' || p[len - 1] != ')') {
        return false;
    }
    v = i + 1;
    *has_ver = true;
    return len - 1 >= v && tok_copy(srcver, p + v, len - 1 - v);
}

/* Validate a finished stanza and add its package when installed. */
static att_rc stanza_finish(const struct dpkg_ctx *x, const struct stanza *s)
{
    char name[ATT_INV_MAX_TOKEN + 1];
    char version[ATT_INV_MAX_TOKEN + 1];
    char arch[ATT_INV_MAX_TOKEN + 1];
    char src[ATT_INV_MAX_TOKEN + 1];
    char srcver[ATT_INV_MAX_TOKEN + 1];
    char msg[128];
    bool present = false;
    bool has_srcver = false;
    att_rc rc;

    rc = stanza_present(x, s, &present);
    if (rc != ATT_OK || !present) {
        return rc;
    }
    if (s->val[DF_PACKAGE] == NULL) {
        return parse_fail(x->why, x->why_len, x->file, s->line, "stanza without Package");
    }
    if (!tok_copy(name, s->val[DF_PACKAGE], s->len[DF_PACKAGE])) {
        return parse_fail(x->why, x->why_len, x->file, s->vline[DF_PACKAGE],
                          "Package longer than %u bytes", ATT_INV_MAX_TOKEN);
    }
    if (!deb_name_ok(name)) {
        return parse_fail(x->why, x->why_len, x->file, s->vline[DF_PACKAGE],
                          "Package is not a valid package name");
    }
    if (s->val[DF_VERSION] == NULL) {
        return parse_fail(x->why, x->why_len, x->file, s->line, "package %s without Version", name);
    }
    if (!tok_copy(version, s->val[DF_VERSION], s->len[DF_VERSION])) {
        return parse_fail(x->why, x->why_len, x->file, s->vline[DF_VERSION],
                          "Version of %s longer than %u bytes", name, ATT_INV_MAX_TOKEN);
    }
    msg[0] = '\0';
    if (!att_debver_valid(version, msg, sizeof(msg))) {
        return parse_fail(x->why, x->why_len, x->file, s->vline[DF_VERSION],
                          "bad Version of %s: %s", name, msg);
    }
    if (s->val[DF_ARCH] == NULL) {
        arch[0] = '-';
        arch[1] = '\0';
    } else if (!tok_copy(arch, s->val[DF_ARCH], s->len[DF_ARCH]) || !arch_ok(arch)) {
        return parse_fail(x->why, x->why_len, x->file, s->vline[DF_ARCH], "bad Architecture of %s",
                          name);
    }
    if (s->val[DF_SOURCE] == NULL) {
        memcpy(src, name, strlen(name) + 1);
    } else if (!parse_source(s->val[DF_SOURCE], s->len[DF_SOURCE], src, srcver, &has_srcver) ||
               !deb_name_ok(src)) {
        return parse_fail(x->why, x->why_len, x->file, s->vline[DF_SOURCE],
                          "Source of %s is not \"name\" or \"name (version)\"", name);
    }
    if (has_srcver && !att_debver_valid(srcver, msg, sizeof(msg))) {
        return parse_fail(x->why, x->why_len, x->file, s->vline[DF_SOURCE],
                          "bad Source version of %s: %s", name, msg);
    }
    if (!has_srcver) {
        memcpy(srcver, version, strlen(version) + 1);
    }
    rc = coll_add(x->c, x->file_idx, s->line, name, version, arch, src, srcver);
    if (rc == ATT_ERR_PARSE) {
        return parse_fail(x->why, x->why_len, x->file, s->line, "more than %u packages",
                          ATT_INV_MAX_PKGS);
    }
    return rc;
}

static void stanza_reset(struct stanza *s)
{
    memset(s, 0, sizeof(*s));
    s->last = -1;
}

/* deb822 field name: printable ASCII without blank or ':', not starting with '#' or '-'. */
static bool field_name_ok(const char *p, size_t len)
{
    size_t i;

    if (len == 0 || p[0] == '#' || p[0] == '-') {
        return false;
    }
    for (i = 0; i < len; i++) {
        if (p[i] <= ' ' || p[i] > '~') {
            return false;
        }
    }
    return true;
}

/*
 * Parse a dpkg status file or a status.d control file: stanzas separated by
 * blank lines, "Name: value" lines with case-insensitive names, continuation
 * lines starting with a blank. Only fields of other names may continue: a
 * folded Package or Version would be read differently by different tools.
 */
static att_rc dpkg_parse(const struct dpkg_ctx *x, const char *p, size_t len)
{
    struct stanza s;
    const char *nul;
    const char *l;
    const char *colon;
    size_t pos = 0;
    size_t lineno = 0;
    size_t ll;
    size_t nlen;
    size_t vs;
    size_t ve;
    bool has_nl;
    int f;
    int i;
    att_rc rc;

    if (len == 0) {
        return ATT_OK; /* an empty database; p may be NULL */
    }
    nul = memchr(p, '\0', len);
    if (nul != NULL) {
        return parse_fail(x->why, x->why_len, x->file, line_of(p, (size_t)(nul - p)), "NUL byte");
    }
    stanza_reset(&s);
    while (pos < len) {
        next_line(p, len, &pos, &l, &ll, &has_nl);
        lineno++;
        if (all_blank(l, ll)) {
            if (s.line != 0) {
                rc = stanza_finish(x, &s);
                if (rc != ATT_OK) {
                    return rc;
                }
                stanza_reset(&s);
            }
            continue;
        }
        if (is_blank(l[0])) {
            if (s.line == 0) {
                return parse_fail(x->why, x->why_len, x->file, lineno,
                                  "continuation line outside a stanza");
            }
            if (s.last >= 0) {
                return parse_fail(x->why, x->why_len, x->file, lineno,
                                  "%s continued on a second line", dfield_names[s.last]);
            }
            continue;
        }
        colon = memchr(l, ':', ll);
        if (colon == NULL) {
            return parse_fail(x->why, x->why_len, x->file, lineno, "line without ':'");
        }
        nlen = (size_t)(colon - l);
        if (!field_name_ok(l, nlen)) {
            return parse_fail(x->why, x->why_len, x->file, lineno, "bad field name");
        }
        if (s.line == 0) {
            s.line = lineno;
        }
        f = -1;
        for (i = 0; i < DF_N; i++) {
            if (word_eq_nocase(l, nlen, dfield_names[i])) {
                f = i;
            }
        }
        s.last = f;
        if (f < 0) {
            continue;
        }
        if (s.val[f] != NULL) {
            return parse_fail(x->why, x->why_len, x->file, lineno, "second %s field",
                              dfield_names[f]);
        }
        vs = nlen + 1;
        ve = ll;
        while (vs < ve && is_blank(l[vs])) {
            vs++;
        }
        while (ve > vs && is_blank(l[ve - 1])) {
            ve--;
        }
        s.val[f] = l + vs;
        s.len[f] = ve - vs;
        s.vline[f] = lineno;
    }
    if (s.line != 0) {
        return stanza_finish(x, &s);
    }
    return ATT_OK;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s);
    size_t m = strlen(suffix);

    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/*
 * The names of the stanza files in status.d, sorted so that files are read
 * (and errors reported) in the same order on every run. Skips dot files and
 * distroless's <pkg>.md5sums. *names is NULL when the directory is absent.
 */
static att_rc statusd_names(int rootfd, char ***names, size_t *n, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct dirent *de;
    DIR *d = NULL;
    char **v = NULL;
    char **nv;
    size_t cnt = 0;
    size_t cap = 0;
    size_t seen = 0;
    size_t i;
    bool found = true;
    int dfd;

    *names = NULL;
    *n = 0;
    dfd = open_in_root(rootfd, DPKG_STATUSD, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        rc = open_failed(DPKG_STATUSD, errno, &found, why, why_len);
        goto out;
    }
    d = fdopendir(dfd);
    if (d == NULL) {
        att_set_why(why, why_len, "%s: %s", DPKG_STATUSD, strerror(errno));
        (void)close(dfd);
        rc = ATT_ERR_IO;
        goto out;
    }
    for (;;) {
        errno = 0;
        de = readdir(d);
        if (de == NULL) {
            if (errno != 0) {
                att_set_why(why, why_len, "%s: readdir: %s", DPKG_STATUSD, strerror(errno));
                rc = ATT_ERR_IO;
                goto out;
            }
            break;
        }
        if (++seen > STATUSD_MAX_ENTRIES) {
            att_set_why(why, why_len, "%s: more than %u entries", DPKG_STATUSD,
                        STATUSD_MAX_ENTRIES);
            rc = ATT_ERR_PARSE;
            goto out;
        }
        if (de->d_name[0] == '.' || ends_with(de->d_name, MD5SUMS_SUFFIX)) {
            continue;
        }
        if (cnt == STATUSD_MAX_FILES) {
            att_set_why(why, why_len, "%s: more than %u package files", DPKG_STATUSD,
                        STATUSD_MAX_FILES);
            rc = ATT_ERR_PARSE;
            goto out;
        }
        if (cnt == cap) {
            cap = cap != 0 ? cap * 2 : 16;
            nv = realloc(v, cap * sizeof(*nv));
            if (nv == NULL) {
                rc = ATT_ERR_NOMEM;
                goto out;
            }
            v = nv;
        }
        v[cnt] = dup_n(de->d_name, strlen(de->d_name));
        if (v[cnt] == NULL) {
            rc = ATT_ERR_NOMEM;
            goto out;
        }
        cnt++;
    }
    if (cnt > 1) {
        qsort(v, cnt, sizeof(*v), name_cmp);
    }
    if (v == NULL) {
        v = calloc(1, sizeof(*v)); /* present but empty: non-NULL */
        if (v == NULL) {
            rc = ATT_ERR_NOMEM;
            goto out;
        }
    }
    *names = v;
    *n = cnt;
    v = NULL; /* transferred to the caller */
    rc = ATT_OK;
out:
    if (v != NULL) {
        for (i = 0; i < cnt; i++) {
            free(v[i]);
        }
        free(v);
    }
    if (d != NULL) {
        (void)closedir(d);
    }
    return rc;
}

/*
 * /var/lib/dpkg/status and every regular file of /var/lib/dpkg/status.d/.
 * The status.d files share one size budget of ATT_INV_MAX_DB, so thousands
 * of files cannot add up to more than one large database.
 */
static att_rc read_dpkg(int rootfd, struct att_buf *b, struct coll *c, bool *present, char *why,
                        size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct dpkg_ctx x;
    char **names = NULL;
    char path[sizeof(DPKG_STATUSD) + 1 + 256];
    size_t n_names = 0;
    size_t budget = ATT_INV_MAX_DB;
    size_t i;
    bool found = false;

    *present = false;
    memset(&x, 0, sizeof(x));
    x.c = c;
    x.why = why;
    x.why_len = why_len;
    b->max = ATT_INV_MAX_DB;
    rc = root_read(rootfd, DPKG_STATUS, false, b, &found, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    if (found) {
        *present = true;
        x.file = DPKG_STATUS;
        rc = coll_file(c, DPKG_STATUS, &x.file_idx);
        if (rc != ATT_OK) {
            goto out;
        }
        rc = dpkg_parse(&x, (const char *)b->data, b->len);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    rc = statusd_names(rootfd, &names, &n_names, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    if (names == NULL) {
        rc = ATT_OK; /* no status.d */
        goto out;
    }
    *present = true;
    for (i = 0; i < n_names; i++) {
        if (snprintf(path, sizeof(path), "%s/%s", DPKG_STATUSD, names[i]) >= (int)sizeof(path)) {
            att_set_why(why, why_len, "%s: a file name is too long", DPKG_STATUSD);
            rc = ATT_ERR_PARSE;
            goto out;
        }
        b->max = budget;
        rc = root_read(rootfd, path, true, b, &found, why, why_len);
        if (rc != ATT_OK) {
            goto out;
        }
        if (!found) {
            continue; /* a directory, a dangling link: not a stanza file */
        }
        budget -= b->len;
        rc = coll_file(c, path, &x.file_idx);
        if (rc != ATT_OK) {
            goto out;
        }
        x.file = c->files[x.file_idx];
        rc = dpkg_parse(&x, (const char *)b->data, b->len);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    rc = ATT_OK;
out:
    if (names != NULL) {
        for (i = 0; i < n_names; i++) {
            free(names[i]);
        }
        free(names);
    }
    return rc;
}

/* ------------------------------------------------------------------------- */
/* apk                                                                       */

enum afield { AF_NAME, AF_VERSION, AF_ARCH, AF_ORIGIN, AF_N };

static const char afield_keys[AF_N] = {'P', 'V', 'A', 'o'};

struct record {
    size_t line; /* first line; 0 while no record is open */
    const char *val[AF_N];
    size_t len[AF_N];
    size_t vline[AF_N];
};

static att_rc record_finish(const struct dpkg_ctx *x, const struct record *r)
{
    char name[ATT_INV_MAX_TOKEN + 1];
    char version[ATT_INV_MAX_TOKEN + 1];
    char arch[ATT_INV_MAX_TOKEN + 1];
    char origin[ATT_INV_MAX_TOKEN + 1];
    att_rc rc;

    if (r->val[AF_NAME] == NULL) {
        return parse_fail(x->why, x->why_len, x->file, r->line, "record without P:");
    }
    if (!tok_copy(name, r->val[AF_NAME], r->len[AF_NAME]) || !apk_name_ok(name)) {
        return parse_fail(x->why, x->why_len, x->file, r->vline[AF_NAME], "bad package name");
    }
    if (r->val[AF_VERSION] == NULL) {
        return parse_fail(x->why, x->why_len, x->file, r->line, "package %s without V:", name);
    }
    if (!tok_copy(version, r->val[AF_VERSION], r->len[AF_VERSION]) || !att_apkver_valid(version)) {
        return parse_fail(x->why, x->why_len, x->file, r->vline[AF_VERSION], "bad version of %s",
                          name);
    }
    if (r->val[AF_ARCH] == NULL) {
        arch[0] = '-';
        arch[1] = '\0';
    } else if (!tok_copy(arch, r->val[AF_ARCH], r->len[AF_ARCH]) || !arch_ok(arch)) {
        return parse_fail(x->why, x->why_len, x->file, r->vline[AF_ARCH], "bad architecture of %s",
                          name);
    }
    if (r->val[AF_ORIGIN] == NULL) {
        memcpy(origin, name, strlen(name) + 1);
    } else if (!tok_copy(origin, r->val[AF_ORIGIN], r->len[AF_ORIGIN]) || !apk_name_ok(origin)) {
        return parse_fail(x->why, x->why_len, x->file, r->vline[AF_ORIGIN], "bad origin of %s",
                          name);
    }
    rc = coll_add(x->c, x->file_idx, r->line, name, version, arch, origin, version);
    if (rc == ATT_ERR_PARSE) {
        return parse_fail(x->why, x->why_len, x->file, r->line, "more than %u packages",
                          ATT_INV_MAX_PKGS);
    }
    return rc;
}

/*
 * apk-tools' installed database: one record per package, records separated
 * by an empty line, every line "K:value" with a one-character,
 * case-sensitive key ('P' name, 'p' provides).
 */
static att_rc apk_parse(const struct dpkg_ctx *x, const char *p, size_t len)
{
    struct record r;
    const char *nul;
    const char *l;
    size_t pos = 0;
    size_t lineno = 0;
    size_t ll;
    bool has_nl;
    int f;
    int i;
    att_rc rc;

    if (len == 0) {
        return ATT_OK; /* an empty database; p may be NULL */
    }
    nul = memchr(p, '\0', len);
    if (nul != NULL) {
        return parse_fail(x->why, x->why_len, x->file, line_of(p, (size_t)(nul - p)), "NUL byte");
    }
    memset(&r, 0, sizeof(r));
    while (pos < len) {
        next_line(p, len, &pos, &l, &ll, &has_nl);
        lineno++;
        if (ll == 0) {
            if (r.line != 0) {
                rc = record_finish(x, &r);
                if (rc != ATT_OK) {
                    return rc;
                }
                memset(&r, 0, sizeof(r));
            }
            continue;
        }
        if (ll < 2 || l[1] != ':' || l[0] <= ' ' || l[0] > '~' || l[0] == ':') {
            return parse_fail(x->why, x->why_len, x->file, lineno, "not a \"K:value\" line");
        }
        if (r.line == 0) {
            r.line = lineno;
        }
        f = -1;
        for (i = 0; i < AF_N; i++) {
            if (l[0] == afield_keys[i]) {
                f = i;
            }
        }
        if (f < 0) {
            continue;
        }
        if (r.val[f] != NULL) {
            return parse_fail(x->why, x->why_len, x->file, lineno, "second %c: line",
                              afield_keys[f]);
        }
        r.val[f] = l + 2;
        r.len[f] = ll - 2;
        r.vline[f] = lineno;
    }
    if (r.line != 0) {
        return record_finish(x, &r);
    }
    return ATT_OK;
}

static att_rc read_apk(int rootfd, struct att_buf *b, struct coll *c, bool *present, char *why,
                       size_t why_len)
{
    struct dpkg_ctx x;
    att_rc rc;
    bool found = false;

    *present = false;
    b->max = ATT_INV_MAX_DB;
    rc = root_read(rootfd, APK_INSTALLED, false, b, &found, why, why_len);
    if (rc != ATT_OK || !found) {
        return rc;
    }
    *present = true;
    memset(&x, 0, sizeof(x));
    x.c = c;
    x.why = why;
    x.why_len = why_len;
    x.file = APK_INSTALLED;
    rc = coll_file(c, APK_INSTALLED, &x.file_idx);
    if (rc != ATT_OK) {
        return rc;
    }
    return apk_parse(&x, (const char *)b->data, b->len);
}

/* ------------------------------------------------------------------------- */
/* Public: reading a rootfs                                                  */

void att_inventory_free(struct att_inventory *inv)
{
    size_t i;

    if (inv == NULL) {
        return;
    }
    for (i = 0; i < inv->n_pkgs; i++) {
        pkg_cleanup(&inv->pkgs[i]);
    }
    free(inv->pkgs);
    free(inv);
}

att_rc att_inventory_from_rootfs(int rootfd, struct att_inventory **out, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_inventory *inv = NULL;
    struct coll dpkg;
    struct coll apk;
    struct coll *chosen = NULL;
    struct att_buf b;
    bool has_dpkg = false;
    bool has_apk = false;

    if (rootfd < 0 || out == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    memset(&dpkg, 0, sizeof(dpkg));
    memset(&apk, 0, sizeof(apk));
    att_buf_init(&b, ATT_INV_MAX_DB);
    inv = calloc(1, sizeof(*inv));
    if (inv == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    rc = read_os_release(rootfd, &b, inv, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = read_dpkg(rootfd, &b, &dpkg, &has_dpkg, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = read_apk(rootfd, &b, &apk, &has_apk, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    /*
     * Which database describes the image. Both holding packages is ambiguous
     * and refused. A database that exists but lists nothing (an Alpine image
     * with dpkg's empty status from "apk add dpkg") defers to the other.
     */
    if (dpkg.n > 0 && apk.n > 0) {
        att_set_why(why, why_len, "both %s and %s list packages", DPKG_STATUS, APK_INSTALLED);
        rc = ATT_ERR_PARSE;
        goto out;
    }
    if (dpkg.n > 0 || (has_dpkg && !has_apk)) {
        inv->format = ATT_PKG_DPKG;
        chosen = &dpkg;
    } else if (apk.n > 0 || (has_apk && !has_dpkg)) {
        inv->format = ATT_PKG_APK;
        chosen = &apk;
    } else {
        inv->format = ATT_PKG_NONE;
    }
    if (chosen != NULL) {
        rc = coll_finish(chosen, inv, why, why_len);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    *out = inv;
    inv = NULL; /* transferred to the caller */
    rc = ATT_OK;
out:
    coll_cleanup(&dpkg);
    coll_cleanup(&apk);
    att_buf_cleanup(&b);
    att_inventory_free(inv);
    return rc;
}

att_rc att_inventory_from_dir(const char *path, struct att_inventory **out, char *why,
                              size_t why_len)
{
    att_rc rc;
    int fd;

    if (path == NULL || out == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        att_set_why(why, why_len, "%s: %s", path, strerror(errno));
        return ATT_ERR_IO;
    }
    rc = att_inventory_from_rootfs(fd, out, why, why_len);
    (void)close(fd);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Canonical text                                                            */

static const char *format_str(enum att_pkg_format f)
{
    switch (f) {
    case ATT_PKG_NONE:
        return "none";
    case ATT_PKG_DPKG:
        return "dpkg";
    case ATT_PKG_APK:
        return "apk";
    }
    return NULL;
}

static bool tok_len_ok(const char *s)
{
    return s != NULL && s[0] != '\0' && strnlen(s, ATT_INV_MAX_TOKEN + 1) <= ATT_INV_MAX_TOKEN;
}

/* Why @p p cannot stand in an inventory of format @p f; NULL when it can. */
static const char *pkg_check(enum att_pkg_format f, const struct att_pkg *p)
{
    bool dpkg = f == ATT_PKG_DPKG;

    if (f != ATT_PKG_DPKG && f != ATT_PKG_APK) {
        return "a package in an inventory of format none";
    }
    if (!tok_len_ok(p->name) || !tok_len_ok(p->version) || !tok_len_ok(p->arch) ||
        !tok_len_ok(p->source) || !tok_len_ok(p->source_version)) {
        return "a field is missing or longer than the token limit";
    }
    if (dpkg ? !deb_name_ok(p->name) : !apk_name_ok(p->name)) {
        return "bad package name";
    }
    if (dpkg ? !att_debver_valid(p->version, NULL, 0) : !att_apkver_valid(p->version)) {
        return "bad version";
    }
    if (strcmp(p->arch, "-") != 0 && !arch_ok(p->arch)) {
        return "bad architecture";
    }
    if (dpkg ? !deb_name_ok(p->source) : !apk_name_ok(p->source)) {
        return "bad source name";
    }
    if (dpkg ? !att_debver_valid(p->source_version, NULL, 0)
             : !att_apkver_valid(p->source_version)) {
        return "bad source version";
    }
    return NULL;
}

/* An os field of the struct: NUL-terminated within its array, empty or a valid value. */
static bool os_field_ok(const char *s, size_t cap)
{
    const char *nul = memchr(s, '\0', cap);

    return nul != NULL && (nul == s || osval_ok(s, (size_t)(nul - s)));
}

static const char *dash(const char *s)
{
    return s[0] != '\0' ? s : "-";
}

att_rc att_inventory_canonical(const struct att_inventory *inv, struct att_buf *out)
{
    att_rc rc = ATT_ERR_INTERNAL;
    char eco[sizeof(inv->ecosystem)];
    const char *fmt;
    size_t start;
    size_t i;

    if (inv == NULL || out == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    /* Refuse what the parser would refuse: the text must read back the same. */
    fmt = format_str(inv->format);
    if (fmt == NULL || !os_field_ok(inv->os_id, sizeof(inv->os_id)) ||
        !os_field_ok(inv->os_version_id, sizeof(inv->os_version_id)) ||
        !os_field_ok(inv->os_codename, sizeof(inv->os_codename)) ||
        memchr(inv->ecosystem, '\0', sizeof(inv->ecosystem)) == NULL ||
        inv->n_pkgs > ATT_INV_MAX_PKGS || (inv->n_pkgs > 0 && inv->pkgs == NULL)) {
        return ATT_ERR_INVALID_ARG;
    }
    ecosystem_of(inv->os_id, inv->os_version_id, eco, sizeof(eco));
    if (strcmp(eco, inv->ecosystem) != 0) {
        return ATT_ERR_INVALID_ARG;
    }
    for (i = 0; i < inv->n_pkgs; i++) {
        if (pkg_check(inv->format, &inv->pkgs[i]) != NULL ||
            (i > 0 && pkg_key_cmp(&inv->pkgs[i - 1], &inv->pkgs[i]) >= 0)) {
            return ATT_ERR_INVALID_ARG;
        }
    }
    start = out->len;
    rc = att_buf_printf(out, "attest-inventory 1\nos %s %s %s\necosystem %s\nformat %s\n",
                        dash(inv->os_id), dash(inv->os_version_id), dash(inv->os_codename),
                        dash(inv->ecosystem), fmt);
    for (i = 0; rc == ATT_OK && i < inv->n_pkgs; i++) {
        rc = att_buf_printf(out, "pkg %s %s %s %s %s\n", inv->pkgs[i].name, inv->pkgs[i].version,
                            inv->pkgs[i].arch, inv->pkgs[i].source, inv->pkgs[i].source_version);
    }
    if (rc != ATT_OK) {
        att_buf_truncate(out, start);
    }
    return rc;
}

struct tok {
    const char *p;
    size_t len;
};

/*
 * Split a line at single spaces into exactly @p want tokens of printable
 * ASCII. Leading, trailing or doubled spaces, other bytes and any other
 * token count are refused.
 */
static bool split_exact(const char *l, size_t len, struct tok *t, size_t want)
{
    size_t n = 0;
    size_t i;
    size_t start = 0;

    for (i = 0; i <= len; i++) {
        if (i < len && l[i] != ' ') {
            if (l[i] < '!' || l[i] > '~') {
                return false;
            }
            continue;
        }
        if (i == start || n == want) {
            return false;
        }
        t[n].p = l + start;
        t[n].len = i - start;
        n++;
        start = i + 1;
    }
    return n == want;
}

/* An os token: "-" for missing, else a valid os-release value. */
static bool os_tok(const struct tok *t, char *dst)
{
    if (t->len == 1 && t->p[0] == '-') {
        dst[0] = '\0';
        return true;
    }
    if (!osval_ok(t->p, t->len)) {
        return false;
    }
    memcpy(dst, t->p, t->len);
    dst[t->len] = '\0';
    return true;
}

/* The "pkg" line's five tokens into a new package in inv (capacity checked by the caller). */
static const char *parse_pkg(struct att_inventory *inv, const struct tok *t, att_rc *rc)
{
    struct att_pkg *p = &inv->pkgs[inv->n_pkgs];
    const char *bad;
    size_t i;

    for (i = 0; i < 5; i++) {
        if (t[i].len > ATT_INV_MAX_TOKEN) {
            *rc = ATT_ERR_PARSE;
            return "token longer than the limit";
        }
    }
    p->name = dup_n(t[0].p, t[0].len);
    p->version = dup_n(t[1].p, t[1].len);
    p->arch = dup_n(t[2].p, t[2].len);
    p->source = dup_n(t[3].p, t[3].len);
    p->source_version = dup_n(t[4].p, t[4].len);
    if (p->name == NULL || p->version == NULL || p->arch == NULL || p->source == NULL ||
        p->source_version == NULL) {
        pkg_cleanup(p);
        *rc = ATT_ERR_NOMEM;
        return "out of memory";
    }
    bad = pkg_check(inv->format, p);
    if (bad == NULL && inv->n_pkgs > 0 && pkg_key_cmp(&inv->pkgs[inv->n_pkgs - 1], p) >= 0) {
        bad = pkg_key_cmp(&inv->pkgs[inv->n_pkgs - 1], p) == 0 ? "duplicate package"
                                                               : "packages out of order";
    }
    if (bad != NULL) {
        pkg_cleanup(p);
        *rc = ATT_ERR_PARSE;
        return bad;
    }
    inv->n_pkgs++;
    *rc = ATT_OK;
    return NULL;
}

att_rc att_inventory_parse(const char *text, size_t len, struct att_inventory **out, char *why,
                           size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_inventory *inv = NULL;
    struct att_pkg *np;
    struct tok t[6];
    const char *l;
    const char *bad = NULL;
    char eco[sizeof(inv->ecosystem)];
    size_t pos = 0;
    size_t lineno = 0;
    size_t ll;
    size_t cap = 0;
    size_t ncap;
    bool has_nl = false;

    if ((text == NULL && len > 0) || out == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    if (len > ATT_INV_MAX_TEXT) {
        att_set_why(why, why_len, "inventory longer than %u bytes", ATT_INV_MAX_TEXT);
        return ATT_ERR_PARSE;
    }
    inv = calloc(1, sizeof(*inv));
    if (inv == NULL) {
        return ATT_ERR_NOMEM;
    }
    rc = ATT_ERR_PARSE;
    while (bad == NULL && pos < len) {
        next_line(text, len, &pos, &l, &ll, &has_nl);
        lineno++;
        if (!has_nl) {
            bad = "no newline at the end";
        } else if (lineno == 1) {
            if (!word_eq(l, ll, "attest-inventory 1")) {
                bad = "not \"attest-inventory 1\"";
            }
        } else if (lineno == 2) {
            if (!split_exact(l, ll, t, 4) || !word_eq(t[0].p, t[0].len, "os") ||
                !os_tok(&t[1], inv->os_id) || !os_tok(&t[2], inv->os_version_id) ||
                !os_tok(&t[3], inv->os_codename)) {
                bad = "not \"os <id> <version_id> <codename>\"";
            }
        } else if (lineno == 3) {
            ecosystem_of(inv->os_id, inv->os_version_id, eco, sizeof(eco));
            if (!split_exact(l, ll, t, 2) || !word_eq(t[0].p, t[0].len, "ecosystem") ||
                !word_eq(t[1].p, t[1].len, dash(eco))) {
                bad = "not the ecosystem the os line names";
            } else {
                memcpy(inv->ecosystem, eco, sizeof(eco));
            }
        } else if (lineno == 4) {
            if (!split_exact(l, ll, t, 2) || !word_eq(t[0].p, t[0].len, "format")) {
                bad = "not \"format <dpkg|apk|none>\"";
            } else if (word_eq(t[1].p, t[1].len, "dpkg")) {
                inv->format = ATT_PKG_DPKG;
            } else if (word_eq(t[1].p, t[1].len, "apk")) {
                inv->format = ATT_PKG_APK;
            } else if (word_eq(t[1].p, t[1].len, "none")) {
                inv->format = ATT_PKG_NONE;
            } else {
                bad = "unknown format";
            }
        } else if (!split_exact(l, ll, t, 6) || !word_eq(t[0].p, t[0].len, "pkg")) {
            bad = "not \"pkg <name> <version> <arch> <source> <source-version>\"";
        } else if (inv->n_pkgs == ATT_INV_MAX_PKGS) {
            bad = "more packages than the limit";
        } else {
            if (inv->n_pkgs == cap) {
                ncap = cap != 0 ? cap * 2 : 64;
                if (ncap > ATT_INV_MAX_PKGS) {
                    ncap = ATT_INV_MAX_PKGS;
                }
                np = realloc(inv->pkgs, ncap * sizeof(*np));
                if (np == NULL) {
                    rc = ATT_ERR_NOMEM;
                    goto out;
                }
                inv->pkgs = np;
                cap = ncap;
            }
            bad = parse_pkg(inv, &t[1], &rc);
            if (rc == ATT_ERR_NOMEM) {
                goto out;
            }
        }
    }
    if (bad == NULL && lineno < 4) {
        lineno++;
        bad = "missing (the text ends early)";
    }
    if (bad != NULL) {
        att_set_why(why, why_len, "line %zu: %s", lineno, bad);
        rc = ATT_ERR_PARSE;
        goto out;
    }
    *out = inv;
    inv = NULL; /* transferred to the caller */
    rc = ATT_OK;
out:
    att_inventory_free(inv);
    return rc;
}
