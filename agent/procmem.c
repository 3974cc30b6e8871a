/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runtime integrity of one live process (see procmem.h). The maps and ELF
 * parsers are strict and bounded because both read bytes another party
 * controls: the ELF files come from container images. Memory: the inspection
 * context owns two chunk buffers, the maps and the /proc descriptors for the
 * length of one procmem_inspect(); the report it hands out owns the rest.
 */
#include "procmem.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "attest/buf.h"
#include "attest/digest.h"
#include "attest/log.h"
#include "attest/util.h"

#define MAPS_ALIGN      4096u               /* every Linux page size is a multiple of it */
#define CHUNK           ((size_t)64 * 1024) /* bytes read from mem and from the file at once */
#define STAT_MAX        4096u               /* /proc/PID/stat is one short line */
#define MAPS_ATTEMPTS   3                   /* maps re-read when a concurrent mmap tore it */
#define MAX_BIASES      8u                  /* distinct load addresses of one file per process */
#define MAX_RELRO_BYTES ((uint64_t)64 * 1024 * 1024)
#define RACY_NS         2000000000ll /* ctime this close to the hash start: not cached */
#define DELETED_SUFFIX  " (deleted)"

/* ==== /proc/PID/maps ===================================================== */

void procmem_maps_init(struct procmem_maps *m)
{
    if (m == NULL) {
        return;
    }
    m->mappings = NULL;
    m->count = 0;
    m->strings = NULL;
}

void procmem_maps_cleanup(struct procmem_maps *m)
{
    if (m == NULL) {
        return;
    }
    free(m->mappings);
    free(m->strings);
    procmem_maps_init(m);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

/*
 * Lower-case hex (the kernel prints %lx), 1..max_digits digits, then exactly
 * the byte @p stop. Advances *p past the stop byte. Never reads at or past @p end.
 */
static bool parse_hex(const char **p, const char *end, unsigned max_digits, char stop,
                      uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    unsigned n = 0;
    int d;

    while (s < end && (d = hex_value(*s)) >= 0) {
        if (n == max_digits) {
            return false;
        }
        v = (v << 4) | (uint64_t)d;
        n++;
        s++;
    }
    if (n == 0 || s == end || *s != stop) {
        return false;
    }
    *p = s + 1;
    *out = v;
    return true;
}

/* Decimal u64 with overflow check; stops at the first non-digit (not consumed). */
static bool parse_dec(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    unsigned n = 0;

    while (s < end && *s >= '0' && *s <= '9') {
        uint64_t digit = (uint64_t)(*s - '0');

        if (v > (UINT64_MAX - digit) / 10u) {
            return false;
        }
        v = v * 10u + digit;
        n++;
        s++;
    }
    if (n == 0) {
        return false;
    }
    *p = s;
    *out = v;
    return true;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * Decide kind and pseudo from the path and inode. Files always print an
 * absolute path (d_path); kernel objects print "[name]" or "anon_inode:name".
 * Shared anonymous memory is a shmem file named "/dev/zero" or "/SYSVkey",
 * always unlinked, and counts as anonymous: it has no file to compare with.
 */
static void classify(struct procmem_mapping *m)
{
    static const struct {
        const char *name;
        enum procmem_pseudo id;
    } pseudo[] = {
        {"[heap]", PROCMEM_PSEUDO_HEAP},         {"[stack]", PROCMEM_PSEUDO_STACK},
        {"[vdso]", PROCMEM_PSEUDO_VDSO},         {"[vvar]", PROCMEM_PSEUDO_VVAR},
        {"[vsyscall]", PROCMEM_PSEUDO_VSYSCALL},
    };
    const char *p = m->path;
    size_t i;

    m->kind = PROCMEM_MAP_ANON;
    m->pseudo = PROCMEM_PSEUDO_NONE;
    if (p[0] == '\0') {
        return;
    }
    if (p[0] == '[') {
        if (has_prefix(p, "[anon:") || has_prefix(p, "[anon_shmem:")) {
            return;
        }
        m->kind = PROCMEM_MAP_PSEUDO;
        m->pseudo = PROCMEM_PSEUDO_OTHER;
        if (m->inode != 0) {
            return;
        }
        for (i = 0; i < sizeof(pseudo) / sizeof(pseudo[0]); i++) {
            if (strcmp(p, pseudo[i].name) == 0) {
                m->pseudo = pseudo[i].id;
            }
        }
        return;
    }
    if (p[0] != '/') {
        m->kind = PROCMEM_MAP_PSEUDO; /* "anon_inode:[perf_event]", "socket:[...]" */
        m->pseudo = PROCMEM_PSEUDO_OTHER;
        return;
    }
    if (m->is_deleted && has_prefix(p, "/memfd:")) {
        m->kind = PROCMEM_MAP_MEMFD;
        return;
    }
    if (m->is_deleted && (strcmp(p, "/dev/zero") == 0 || has_prefix(p, "/SYSV"))) {
        return; /* shared anonymous */
    }
    m->kind = m->inode != 0 ? PROCMEM_MAP_FILE : PROCMEM_MAP_ANON;
}

/*
 * Parse one line [s, nl) into @p m. The path is copied into @p arena at
 * *arena_pos and NUL-terminated there.
 */
static bool parse_line(const char *s, const char *nl, struct procmem_mapping *m, char *arena,
                       size_t *arena_pos, const char **reason)
{
    const char *p = s;
    uint64_t major = 0;
    uint64_t minor = 0;
    size_t plen;
    size_t slen = sizeof(DELETED_SUFFIX) - 1;
    char *dst;

    memset(m, 0, sizeof(*m));
    if (!parse_hex(&p, nl, 16, '-', &m->start)) {
        *reason = "bad start address";
        return false;
    }
    if (!parse_hex(&p, nl, 16, ' ', &m->end)) {
        *reason = "bad end address";
        return false;
    }
    if (m->start >= m->end || m->start % MAPS_ALIGN != 0 || m->end % MAPS_ALIGN != 0) {
        *reason = "start/end not an aligned, non-empty range";
        return false;
    }
    if (nl - p < 5 || (p[0] != 'r' && p[0] != '-') || (p[1] != 'w' && p[1] != '-') ||
        (p[2] != 'x' && p[2] != '-') || (p[3] != 'p' && p[3] != 's') || p[4] != ' ') {
        *reason = "bad permissions (want [r-][w-][x-][ps])";
        return false;
    }
    m->is_read = p[0] == 'r';
    m->is_write = p[1] == 'w';
    m->is_exec = p[2] == 'x';
    m->is_shared = p[3] == 's';
    p += 5;
    if (!parse_hex(&p, nl, 16, ' ', &m->offset) || m->offset % MAPS_ALIGN != 0) {
        *reason = "bad offset";
        return false;
    }
    /* The kernel's device numbers: major 12 bits, minor 20 bits. */
    if (!parse_hex(&p, nl, 3, ':', &major) || !parse_hex(&p, nl, 5, ' ', &minor)) {
        *reason = "bad device (want hex MAJOR:MINOR)";
        return false;
    }
    m->dev_major = (uint32_t)major;
    m->dev_minor = (uint32_t)minor;
    if (!parse_dec(&p, nl, &m->inode)) {
        *reason = "bad inode";
        return false;
    }
    if (p != nl && *p != ' ') {
        *reason = "garbage after inode";
        return false;
    }
    while (p < nl && *p == ' ') {
        p++;
    }
    plen = (size_t)(nl - p);
    if (plen > PROCMEM_MAX_PATH) {
        *reason = "path too long";
        return false;
    }
    if (memchr(p, '\0', plen) != NULL) {
        *reason = "NUL byte";
        return false;
    }
    if (plen > slen && p[0] == '/' && memcmp(p + plen - slen, DELETED_SUFFIX, slen) == 0) {
        m->is_deleted = true;
        plen -= slen;
    }
    dst = arena + *arena_pos;
    if (plen > 0) {
        memcpy(dst, p, plen);
    }
    dst[plen] = '\0';
    *arena_pos += plen + 1;
    m->path = dst;
    classify(m);
    return true;
}

att_rc procmem_maps_parse(const char *text, size_t len, size_t max_mappings,
                          struct procmem_maps *out, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_PARSE;
    struct procmem_maps m;
    const char *p;
    const char *end;
    size_t lines = 0;
    size_t arena_pos = 0;
    size_t i;

    if (out == NULL || (text == NULL && len > 0)) {
        return ATT_ERR_INVALID_ARG;
    }
    procmem_maps_init(out);
    procmem_maps_init(&m);
    if (max_mappings == 0) {
        max_mappings = PROCMEM_MAX_MAPPINGS;
    }
    if (len == 0) {
        return ATT_OK;
    }
    if (memchr(text, '\0', len) != NULL) {
        att_set_why(why, why_len, "NUL byte in maps text");
        goto out;
    }
    if (text[len - 1] != '\n') {
        att_set_why(why, why_len, "truncated: the last line has no newline");
        goto out;
    }
    for (i = 0; i < len; i++) {
        if (text[i] == '\n') {
            lines++;
        }
    }
    if (lines > max_mappings) {
        att_set_why(why, why_len, "too many mappings (%zu > %zu)", lines, max_mappings);
        goto out;
    }
    /* NOLINTNEXTLINE(clang-analyzer-optin.portability.UnixAPI): lines >= 1, text ends in '\n' */
    m.mappings = calloc(lines, sizeof(*m.mappings));
    m.strings = malloc(len + 1); /* each path plus NUL fits in its own line */
    if (m.mappings == NULL || m.strings == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    p = text;
    end = text + len;
    for (i = 0; i < lines; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *reason = "malformed";

        if (nl == NULL) {
            goto out; /* impossible: lines were counted */
        }
        if (!parse_line(p, nl, &m.mappings[i], m.strings, &arena_pos, &reason)) {
            att_set_why(why, why_len, "line %zu: %s", i + 1, reason);
            goto out;
        }
        if (i > 0 && m.mappings[i].start < m.mappings[i - 1].end) {
            att_set_why(why, why_len, "line %zu: overlaps or precedes the line before", i + 1);
            goto out;
        }
        m.count++;
        p = nl + 1;
    }
    *out = m;
    procmem_maps_init(&m); /* transferred to out */
    rc = ATT_OK;
out:
    procmem_maps_cleanup(&m);
    return rc;
}

/* ==== ELF program headers and dynamic section ============================ */

/* Either a file read with pread() (fd >= 0) or a buffer in memory. */
struct elf_src {
    int fd;
    const uint8_t *data;
    uint64_t size;
};

static bool src_read(const struct elf_src *s, uint64_t off, void *buf, size_t len)
{
    uint8_t *dst = buf;
    size_t done = 0;

    if (off > s->size || len > s->size - off) {
        return false;
    }
    if (len == 0) {
        return true;
    }
    if (s->fd < 0) {
        if (s->data == NULL) {
            return false;
        }
        memcpy(buf, s->data + off, len);
        return true;
    }
    while (done < len) {
        ssize_t n = pread(s->fd, dst + done, len - done, (off_t)(off + done));

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        done += (size_t)n;
    }
    return true;
}

static uint16_t rd16(const uint8_t *p, bool be)
{
    return be ? (uint16_t)((unsigned)p[0] << 8 | p[1]) : (uint16_t)((unsigned)p[1] << 8 | p[0]);
}

static uint32_t rd32(const uint8_t *p, bool be)
{
    uint32_t v = 0;
    int i;

    for (i = 0; i < 4; i++) {
        v = (v << 8) | p[be ? i : 3 - i];
    }
    return v;
}

static uint64_t rd64(const uint8_t *p, bool be)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < 8; i++) {
        v = (v << 8) | p[be ? i : 7 - i];
    }
    return v;
}

/* An address-sized field: 8 bytes for ELFCLASS64, 4 for ELFCLASS32. */
static uint64_t rdaddr(const uint8_t *p, bool is64, bool be)
{
    return is64 ? rd64(p, be) : rd32(p, be);
}

/*
 * Scan the dynamic section [off, off + size) for DT_TEXTREL or DF_TEXTREL,
 * stopping at DT_NULL. Reads it in stack-sized chunks.
 */
static bool elf_scan_dynamic(const struct elf_src *s, uint64_t off, uint64_t size, bool is64,
                             bool be, bool *has_textrel, const char **reason)
{
    uint8_t chunk[4096];
    size_t ent = is64 ? 16u : 8u;
    uint64_t n = size / ent;
    uint64_t i = 0;

    if (n > PROCMEM_ELF_MAX_DYN) {
        *reason = "dynamic section has too many entries";
        return false;
    }
    while (i < n) {
        size_t batch = (size_t)((n - i) < sizeof(chunk) / ent ? (n - i) : sizeof(chunk) / ent);
        size_t k;

        if (!src_read(s, off + i * ent, chunk, batch * ent)) {
            *reason = "dynamic section outside the file";
            return false;
        }
        for (k = 0; k < batch; k++) {
            const uint8_t *d = chunk + k * ent;
            uint64_t tag = rdaddr(d, is64, be);
            uint64_t val = rdaddr(d + ent / 2, is64, be);

            if (tag == DT_NULL) {
                return true;
            }
            if (tag == DT_TEXTREL || (tag == DT_FLAGS && (val & DF_TEXTREL) != 0)) {
                *has_textrel = true;
            }
        }
        i += batch;
    }
    return true;
}

static att_rc elf_parse_src(const struct elf_src *s, struct procmem_elf *out, char *why,
                            size_t why_len)
{
    att_rc rc = ATT_ERR_PARSE;
    uint8_t eh[64];
    uint8_t *ph = NULL;
    struct procmem_elf e;
    const char *reason = NULL;
    bool is64;
    bool be;
    bool has_dynamic = false;
    uint64_t dyn_off = 0;
    uint64_t dyn_size = 0;
    uint64_t phoff;
    size_t phentsize;
    size_t phnum;
    size_t want_ent;
    size_t i;
    uint16_t type;

    memset(&e, 0, sizeof(e));
    if (!src_read(s, 0, eh, EI_NIDENT) || memcmp(eh, ELFMAG, SELFMAG) != 0) {
        reason = "not an ELF file";
        goto out;
    }
    if ((eh[EI_CLASS] != ELFCLASS32 && eh[EI_CLASS] != ELFCLASS64) ||
        (eh[EI_DATA] != ELFDATA2LSB && eh[EI_DATA] != ELFDATA2MSB) ||
        eh[EI_VERSION] != EV_CURRENT) {
        reason = "bad ELF class, byte order or version";
        goto out;
    }
    is64 = eh[EI_CLASS] == ELFCLASS64;
    be = eh[EI_DATA] == ELFDATA2MSB;
    if (!src_read(s, 0, eh, is64 ? 64u : 52u)) {
        reason = "truncated ELF header";
        goto out;
    }
    type = rd16(eh + 16, be);
    if (type != ET_EXEC && type != ET_DYN) {
        reason = "not an executable or shared object";
        goto out;
    }
    phoff = is64 ? rd64(eh + 32, be) : rd32(eh + 28, be);
    phentsize = rd16(eh + (is64 ? 54 : 42), be);
    phnum = rd16(eh + (is64 ? 56 : 44), be);
    want_ent = is64 ? 56u : 32u;
    if (phnum > 0 && phentsize != want_ent) {
        reason = "bad program header size";
        goto out;
    }
    if (phnum > PROCMEM_ELF_MAX_PHDRS) {
        reason = "too many program headers";
        goto out;
    }
    ph = malloc(phnum * want_ent + 1);
    if (ph == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    if (!src_read(s, phoff, ph, phnum * want_ent)) {
        reason = "program headers outside the file";
        goto out;
    }
    for (i = 0; i < phnum; i++) {
        const uint8_t *p = ph + i * want_ent;
        uint32_t p_type = rd32(p, be);
        uint32_t flags = is64 ? rd32(p + 4, be) : rd32(p + 24, be);
        uint64_t off = is64 ? rd64(p + 8, be) : rd32(p + 4, be);
        uint64_t vaddr = is64 ? rd64(p + 16, be) : rd32(p + 8, be);
        uint64_t filesz = is64 ? rd64(p + 32, be) : rd32(p + 16, be);
        uint64_t memsz = is64 ? rd64(p + 40, be) : rd32(p + 20, be);

        if (p_type == PT_LOAD) {
            if (e.n_loads == PROCMEM_ELF_MAX_LOADS) {
                reason = "too many PT_LOAD segments";
                goto out;
            }
            e.loads[e.n_loads].vaddr = vaddr;
            e.loads[e.n_loads].offset = off;
            e.loads[e.n_loads].filesz = filesz;
            e.loads[e.n_loads].memsz = memsz;
            e.loads[e.n_loads].is_exec = (flags & PF_X) != 0;
            e.n_loads++;
        } else if (p_type == PT_DYNAMIC) {
            if (has_dynamic) {
                reason = "more than one PT_DYNAMIC";
                goto out;
            }
            has_dynamic = true;
            dyn_off = off;
            dyn_size = filesz;
        } else if (p_type == PT_GNU_RELRO) {
            if (e.has_relro) {
                reason = "more than one PT_GNU_RELRO";
                goto out;
            }
            e.has_relro = true;
            e.relro_vaddr = vaddr;
            e.relro_memsz = memsz;
        }
    }
    if (has_dynamic && !elf_scan_dynamic(s, dyn_off, dyn_size, is64, be, &e.has_textrel, &reason)) {
        goto out;
    }
    *out = e;
    rc = ATT_OK;
out:
    if (rc == ATT_ERR_PARSE && reason != NULL) {
        att_set_why(why, why_len, "%s", reason);
    }
    free(ph);
    return rc;
}

att_rc procmem_elf_parse(const uint8_t *data, size_t len, struct procmem_elf *out, char *why,
                         size_t why_len)
{
    struct elf_src s;

    if (out == NULL || (data == NULL && len > 0)) {
        return ATT_ERR_INVALID_ARG;
    }
    s.fd = -1;
    s.data = data;
    s.size = len;
    return elf_parse_src(&s, out, why, why_len);
}

/* ==== the file cache ======================================================= */

struct cache_entry {
    uint64_t dev;
    uint64_t ino;
    uint64_t size;
    int64_t mtime_ns;
    int64_t ctime_ns;
    uint64_t last_use;
    bool has_digest;
    bool has_elf;
    uint8_t digest[ATT_SHA256_LEN];
    struct procmem_elf elf;
};

struct procmem_cache {
    struct procmem_limits lim;
    struct cache_entry **slots; /* open addressing, linear probing; entries owned */
    size_t mask;                /* slot count - 1 (a power of two) */
    size_t count;
    uint64_t clock; /* use counter for LRU eviction */
};

void procmem_limits_default(struct procmem_limits *l)
{
    if (l == NULL) {
        return;
    }
    l->max_mappings = PROCMEM_MAX_MAPPINGS;
    l->max_maps_bytes = PROCMEM_DEF_MAX_MAPS_BYTES;
    l->max_file_size = PROCMEM_DEF_MAX_FILE_SIZE;
    l->max_compare_bytes = PROCMEM_DEF_MAX_COMPARE_BYTES;
    l->max_hash_bytes = PROCMEM_DEF_MAX_HASH_BYTES;
    l->max_findings = PROCMEM_DEF_MAX_FINDINGS;
    l->max_cache_entries = PROCMEM_DEF_MAX_CACHE_ENTRIES;
}

att_rc procmem_cache_new(const struct procmem_limits *limits, struct procmem_cache **out)
{
    struct procmem_cache *c;
    size_t slots = 16;

    if (out == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return ATT_ERR_NOMEM;
    }
    if (limits != NULL) {
        c->lim = *limits;
    } else {
        procmem_limits_default(&c->lim);
    }
    if (c->lim.max_cache_entries == 0 || c->lim.max_cache_entries > (SIZE_MAX >> 4) ||
        c->lim.max_mappings == 0 || c->lim.max_maps_bytes == 0 || c->lim.max_findings == 0) {
        free(c);
        return ATT_ERR_INVALID_ARG;
    }
    while (slots < 2 * c->lim.max_cache_entries) {
        slots <<= 1;
    }
    c->slots = calloc(slots, sizeof(struct cache_entry *));
    if (c->slots == NULL) {
        free(c);
        return ATT_ERR_NOMEM;
    }
    c->mask = slots - 1;
    *out = c;
    return ATT_OK;
}

void procmem_cache_free(struct procmem_cache *c)
{
    size_t i;

    if (c == NULL) {
        return;
    }
    for (i = 0; i <= c->mask; i++) {
        free(c->slots[i]);
    }
    free(c->slots);
    free(c);
}

size_t procmem_cache_count(const struct procmem_cache *c)
{
    return c != NULL ? c->count : 0;
}

static size_t cache_home(const struct procmem_cache *c, uint64_t dev, uint64_t ino)
{
    /* splitmix64 finaliser: inode numbers are dense, so spread them. */
    uint64_t h = ino ^ (dev * 0x9e3779b97f4a7c15ull);

    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
    h ^= h >> 31;
    return (size_t)h & c->mask;
}

/* Slot index holding (dev, ino), or the empty slot where it would go. */
static size_t cache_find(const struct procmem_cache *c, uint64_t dev, uint64_t ino)
{
    size_t i = cache_home(c, dev, ino);

    while (c->slots[i] != NULL && (c->slots[i]->dev != dev || c->slots[i]->ino != ino)) {
        i = (i + 1) & c->mask;
    }
    return i;
}

/*
 * Remove slot @p i with backward-shift deletion (Knuth 6.4 Algorithm R), so
 * that later probes never stop early at the hole.
 */
static void cache_remove_slot(struct procmem_cache *c, size_t i)
{
    size_t j = i;

    free(c->slots[i]);
    c->slots[i] = NULL;
    c->count--;
    for (;;) {
        size_t k;

        j = (j + 1) & c->mask;
        if (c->slots[j] == NULL) {
            return;
        }
        k = cache_home(c, c->slots[j]->dev, c->slots[j]->ino);
        /* Leave slots[j] where it is if its home lies cyclically in (i, j]. */
        if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j)) {
            continue;
        }
        c->slots[i] = c->slots[j];
        c->slots[j] = NULL;
        i = j;
    }
}

static void cache_evict_lru(struct procmem_cache *c)
{
    size_t i;
    size_t victim = SIZE_MAX;
    uint64_t oldest = UINT64_MAX;

    for (i = 0; i <= c->mask; i++) {
        if (c->slots[i] != NULL && c->slots[i]->last_use < oldest) {
            oldest = c->slots[i]->last_use;
            victim = i;
        }
    }
    if (victim != SIZE_MAX) {
        cache_remove_slot(c, victim);
    }
}

static int64_t ts_ns(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000000000LL + (int64_t)t->tv_nsec;
}

static bool entry_matches(const struct cache_entry *e, const struct stat *st)
{
    return e->size == (uint64_t)st->st_size && e->mtime_ns == ts_ns(&st->st_mtim) &&
           e->ctime_ns == ts_ns(&st->st_ctim);
}

/* Borrowed entry valid for @p st, or NULL. Marks it used. */
static const struct cache_entry *cache_lookup(struct procmem_cache *c, const struct stat *st)
{
    size_t i = cache_find(c, (uint64_t)st->st_dev, (uint64_t)st->st_ino);
    struct cache_entry *e = c->slots[i];

    if (e == NULL || !entry_matches(e, st)) {
        return NULL;
    }
    e->last_use = ++c->clock;
    return e;
}

/* Store a copy of @p src (key fields included), replacing a stale entry for the inode. */
static att_rc cache_store(struct procmem_cache *c, const struct cache_entry *src)
{
    size_t i = cache_find(c, src->dev, src->ino);

    if (c->slots[i] == NULL) {
        if (c->count >= c->lim.max_cache_entries) {
            cache_evict_lru(c);
            i = cache_find(c, src->dev, src->ino);
        }
        c->slots[i] = malloc(sizeof(*c->slots[i]));
        if (c->slots[i] == NULL) {
            return ATT_ERR_NOMEM;
        }
        c->count++;
    }
    *c->slots[i] = *src;
    c->slots[i]->last_use = ++c->clock;
    return ATT_OK;
}

/* ==== the report ============================================================ */

void procmem_report_free(struct procmem_report *r)
{
    size_t i;

    if (r == NULL) {
        return;
    }
    for (i = 0; i < r->n_files; i++) {
        free(r->files[i].path);
    }
    for (i = 0; i < r->n_findings; i++) {
        free(r->findings[i].path);
    }
    for (i = 0; i < r->n_relro; i++) {
        free(r->relro[i].path);
    }
    free(r->files);
    free(r->findings);
    free(r->relro);
    free(r);
}

const char *procmem_finding_kind_str(enum procmem_finding_kind kind)
{
    switch (kind) {
    case PROCMEM_FINDING_CODE_MODIFIED:
        return "code_modified";
    case PROCMEM_FINDING_RODATA_MODIFIED:
        return "rodata_modified";
    case PROCMEM_FINDING_ANON_EXEC:
        return "anon_exec";
    case PROCMEM_FINDING_WX:
        return "wx";
    case PROCMEM_FINDING_MEMFD_EXEC:
        return "memfd_exec";
    case PROCMEM_FINDING_DELETED_EXEC:
        return "deleted_exec";
    case PROCMEM_FINDING_UNVERIFIED:
        return "unverified";
    }
    return "unknown";
}

const char *procmem_hint_str(enum procmem_hint hint)
{
    switch (hint) {
    case PROCMEM_HINT_NONE:
        return "";
    case PROCMEM_HINT_BREAKPOINT:
        return "breakpoint/uprobe";
    case PROCMEM_HINT_TEXTREL:
        return "text relocations";
    case PROCMEM_HINT_UPROBES:
        return "uprobes trampoline area";
    }
    return "";
}

/*
 * @p arr (of @p n elements of @p size, room for *cap) with room for one more,
 * doubling from 8: the same pointer, a moved one, or NULL on allocation
 * failure (then @p arr is still valid and owned by the caller). Callers bound
 * the element count themselves.
 */
static void *grow(void *arr, size_t *cap, size_t n, size_t size)
{
    size_t ncap;
    void *p;

    if (n < *cap) {
        return arr;
    }
    ncap = *cap == 0 ? 8 : *cap * 2;
    if (ncap > SIZE_MAX / size) {
        return NULL;
    }
    p = realloc(arr, ncap * size);
    if (p != NULL) {
        *cap = ncap;
    }
    return p;
}

/* strdup of a non-empty string; NULL (and ATT_OK) for "". */
static att_rc dup_path(const char *path, char **out)
{
    *out = NULL;
    if (path == NULL || path[0] == '\0') {
        return ATT_OK;
    }
    *out = strdup(path);
    return *out != NULL ? ATT_OK : ATT_ERR_NOMEM;
}

/* ==== inspection =========================================================== */

struct ictx {
    pid_t pid;
    struct procmem_cache *cache;
    const struct procmem_limits *lim;
    struct procmem_report *r;
    size_t cap_files;
    size_t cap_findings;
    size_t cap_relro;
    int dirfd; /* /proc/PID: stale (ENOENT) once the process is reaped, so a reused pid
                  never gets inspected in its place */
    int memfd; /* /proc/PID/mem, pinned to the mm of the image being inspected */
    struct procmem_maps maps;
    uint64_t start_code;
    uint64_t page;
    uint8_t *mbuf; /* CHUNK bytes of process memory */
    uint8_t *fbuf; /* CHUNK bytes of the file */
    bool budget_noted;
    bool incremental; /* PROCMEM_INCREMENTAL: compare only pages the process owns */
    int pagemapfd;    /* /proc/PID/pagemap with incremental, else -1 */
    uint64_t *pm;     /* CHUNK / page pagemap entries */
};

static att_rc add_finding(struct ictx *x, enum procmem_finding_kind kind, enum procmem_hint hint,
                          const struct procmem_mapping *m, uint64_t address, uint64_t n_diff,
                          const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static att_rc add_finding(struct ictx *x, enum procmem_finding_kind kind, enum procmem_hint hint,
                          const struct procmem_mapping *m, uint64_t address, uint64_t n_diff,
                          const char *fmt, ...)
{
    struct procmem_report *r = x->r;
    struct procmem_finding *f;
    va_list ap;
    att_rc rc;

    if (r->n_findings >= x->lim->max_findings) {
        r->is_truncated = true;
        return ATT_OK;
    }
    f = grow(r->findings, &x->cap_findings, r->n_findings, sizeof(*r->findings));
    if (f == NULL) {
        return ATT_ERR_NOMEM;
    }
    r->findings = f;
    f = &r->findings[r->n_findings];
    memset(f, 0, sizeof(*f));
    rc = dup_path(m != NULL ? m->path : NULL, &f->path);
    if (rc != ATT_OK) {
        return rc;
    }
    f->kind = kind;
    f->hint = hint;
    f->address = address;
    f->end = m != NULL ? m->end : address;
    if (m != NULL && (m->kind == PROCMEM_MAP_FILE || m->kind == PROCMEM_MAP_MEMFD)) {
        f->offset = m->offset + (address - m->start);
    }
    f->n_diff = n_diff;
    va_start(ap, fmt);
    (void)vsnprintf(f->detail, sizeof(f->detail), fmt, ap);
    va_end(ap);
    r->n_findings++;
    return ATT_OK;
}

static bool errno_gone(int e)
{
    return e == ENOENT || e == ESRCH;
}

/*
 * Read a whole /proc/PID file through the pinned directory into @p b.
 * ATT_ERR_NOT_FOUND: the process is gone. ATT_ERR_PARSE: over b->max.
 */
static att_rc read_proc(int dirfd, const char *name, struct att_buf *b)
{
    att_rc rc = ATT_ERR_IO;
    uint8_t chunk[4096];
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    ssize_t n;

    if (fd < 0) {
        return errno_gone(errno) ? ATT_ERR_NOT_FOUND : ATT_ERR_IO;
    }
    for (;;) {
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            rc = errno_gone(errno) ? ATT_ERR_NOT_FOUND : ATT_ERR_IO;
            goto out;
        }
        if (n == 0) {
            break;
        }
        rc = att_buf_append(b, chunk, (size_t)n);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    rc = ATT_OK;
out:
    (void)close(fd);
    return rc;
}

/*
 * From /proc/PID/stat: the state letter, field 22 (starttime) and field 26
 * (startcode). The comm field may hold spaces and ')', so fields are counted
 * from the last ')'. ATT_ERR_NOT_FOUND when the process is gone or a zombie.
 */
static att_rc read_stat(int dirfd, uint64_t *start_time, uint64_t *start_code)
{
    att_rc rc;
    struct att_buf b;
    const char *s;
    char *endp;
    uint64_t v;
    int field;

    att_buf_init(&b, STAT_MAX);
    rc = read_proc(dirfd, "stat", &b);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_ERR_PARSE;
    if (b.data == NULL) {
        goto out;
    }
    s = strrchr((const char *)b.data, ')');
    if (s == NULL || s[1] != ' ') {
        goto out;
    }
    s += 2; /* field 3, the state */
    if (*s == 'Z' || *s == 'X' || *s == 'x') {
        rc = ATT_ERR_NOT_FOUND;
        goto out;
    }
    for (field = 3; field <= 26; field++) {
        if (field == 22 || field == 26) {
            if (*s < '0' || *s > '9') {
                goto out;
            }
            errno = 0;
            v = strtoull(s, &endp, 10);
            if (errno != 0 || *endp != ' ') {
                goto out;
            }
            *(field == 22 ? start_time : start_code) = v;
        }
        s = strchr(s, ' ');
        if (s == NULL) {
            goto out;
        }
        s++;
    }
    rc = ATT_OK;
out:
    att_buf_cleanup(&b);
    return rc;
}

/*
 * Whether the image being inspected still runs: the process exists, is not a
 * zombie, and has not exec'd (startcode unchanged). Called only after a read
 * failed, to tell "gone" from "mapping changed under us".
 */
static bool still_same(struct ictx *x)
{
    uint64_t st = 0;
    uint64_t sc = 0;

    if (read_stat(x->dirfd, &st, &sc) != ATT_OK) {
        return false;
    }
    return sc == x->start_code && st == x->r->start_time;
}

/*
 * A read of the target failed. If the process went away, mark the report and
 * return true (the caller stops); otherwise record an UNVERIFIED finding.
 */
static att_rc read_failed(struct ictx *x, const struct procmem_mapping *m, uint64_t addr,
                          const char *what)
{
    if (!still_same(x)) {
        x->r->is_gone = true;
        return ATT_OK;
    }
    return add_finding(x, PROCMEM_FINDING_UNVERIFIED, PROCMEM_HINT_NONE, m, addr, 0,
                       "%s at 0x%" PRIx64 " failed; the mapping changed during inspection?", what,
                       addr);
}

/* Read exactly @p len bytes of process memory at @p addr; false on any failure. */
static bool mem_read(struct ictx *x, uint64_t addr, uint8_t *buf, size_t len)
{
    size_t done = 0;

    if (addr > (uint64_t)INT64_MAX - len) {
        return false;
    }
    while (done < len) {
        ssize_t n = pread(x->memfd, buf + done, len - done, (off_t)(addr + done));

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false; /* 0: the mm is gone (exit or exec); EIO: page unmapped */
        }
        done += (size_t)n;
    }
    return true;
}

static bool file_read(int fd, uint64_t off, uint8_t *buf, size_t len)
{
    struct elf_src s = {fd, NULL, UINT64_MAX};

    return off <= (uint64_t)INT64_MAX - len && src_read(&s, off, buf, len);
}

/* Consume @p want bytes of the per-process compare budget; returns what may be read. */
static att_rc budget_take(struct ictx *x, const struct procmem_mapping *m, uint64_t addr,
                          uint64_t want, uint64_t *granted)
{
    uint64_t left = x->lim->max_compare_bytes - x->r->bytes_compared;

    *granted = want < left ? want : left;
    if (*granted == want || x->budget_noted) {
        return ATT_OK;
    }
    x->budget_noted = true;
    return add_finding(x, PROCMEM_FINDING_UNVERIFIED, PROCMEM_HINT_NONE, m, addr + *granted, 0,
                       "compare budget of %" PRIu64 " bytes per process exhausted; the rest "
                       "of the process is not compared",
                       x->lim->max_compare_bytes);
}

/* What we know about the file behind a group of mappings. */
struct fileinfo {
    int fd;
    uint64_t size;
    bool has_elf;
    struct procmem_elf elf;
    const char *path;
};

/*
 * One *_MODIFIED finding for a compared range, with the false friend it
 * resembles: every differing byte int3 (debugger, uprobe), or code of a
 * DT_TEXTREL object (the loader patched it). The hint explains, never excuses.
 */
static att_rc report_diff(struct ictx *x, const struct fileinfo *fi,
                          const struct procmem_mapping *m, uint64_t first, uint64_t n_diff,
                          uint8_t first_mem, uint8_t first_file, bool all_cc)
{
    bool is_code = m->is_exec;
    enum procmem_hint hint = PROCMEM_HINT_NONE;

    if (is_code && all_cc) {
        hint = PROCMEM_HINT_BREAKPOINT;
    } else if (is_code && fi->has_elf && fi->elf.has_textrel) {
        hint = PROCMEM_HINT_TEXTREL;
    }
    return add_finding(x, is_code ? PROCMEM_FINDING_CODE_MODIFIED : PROCMEM_FINDING_RODATA_MODIFIED,
                       hint, m, first, n_diff,
                       "%" PRIu64 " byte(s) differ from the file; first at 0x%" PRIx64
                       " (file offset 0x%" PRIx64 "): memory 0x%02x, file 0x%02x%s%s",
                       n_diff, first, m->offset + (first - m->start), first_mem, first_file,
                       hint != PROCMEM_HINT_NONE ? "; looks like " : "", procmem_hint_str(hint));
}

/*
 * Compare process memory [lo, hi) of mapping @p m with the file bytes at the
 * same offsets, clamped to the file size (bytes past EOF are the kernel's
 * zero fill, not file content). Page by page; every difference is counted,
 * so a single int3 can not hide a real patch behind the "breakpoint" hint.
 */
/*
 * Incremental sweeps (PROCMEM_INCREMENTAL): whether no page of [addr,
 * addr + n) can differ from the file. By /proc/PID/pagemap (proc(5)): a page
 * of a private file mapping that is present and marked "file-page or
 * shared-anon" (bit 61) is the page-cache page of the file itself; one
 * neither present nor swapped (bits 63, 62) was never loaded, so a read
 * would load the file's page. Only a page the process owns (copied on write:
 * a patch through ptrace or /proc/PID/mem, or a relocation) can differ, and
 * then the chunk is compared as in a full sweep. Any pagemap failure: compare.
 */
static bool pages_all_shared(struct ictx *x, uint64_t addr, size_t n)
{
    size_t npages = (size_t)((n + x->page - 1) / x->page);
    size_t i;

    if (x->pagemapfd < 0 || x->pm == NULL || npages > CHUNK / MAPS_ALIGN) {
        return false;
    }
    if (pread(x->pagemapfd, x->pm, npages * sizeof(uint64_t),
              (off_t)(addr / x->page * sizeof(uint64_t))) != (ssize_t)(npages * sizeof(uint64_t))) {
        return false;
    }
    for (i = 0; i < npages; i++) {
        uint64_t e = x->pm[i];
        bool present = (e >> 63) & 1u;
        bool swapped = (e >> 62) & 1u;
        bool file_page = (e >> 61) & 1u;

        if (swapped || (present && !file_page)) {
            return false;
        }
    }
    return true;
}

static att_rc compare_range(struct ictx *x, const struct fileinfo *fi,
                            const struct procmem_mapping *m, uint64_t lo, uint64_t hi)
{
    att_rc rc;
    uint64_t foff = m->offset + (lo - m->start);
    uint64_t addr;
    uint64_t granted = 0;
    uint64_t n_diff = 0;
    uint64_t first = 0;
    uint8_t first_mem = 0;
    uint8_t first_file = 0;
    bool all_cc = true;
    const char *failed = NULL;

    if (foff < m->offset || foff >= fi->size) {
        return ATT_OK; /* past EOF: nothing the file could be compared with */
    }
    if (hi - lo > fi->size - foff) {
        hi = lo + (fi->size - foff);
    }
    rc = budget_take(x, m, lo, hi - lo, &granted);
    if (rc != ATT_OK) {
        return rc;
    }
    hi = lo + granted;
    for (addr = lo; addr < hi;) {
        size_t n = (size_t)((hi - addr) < CHUNK ? (hi - addr) : CHUNK);
        size_t pg;

        if (x->incremental && pages_all_shared(x, addr, n)) {
            /* every page is the file's own page-cache page, or was never loaded */
            x->r->bytes_skipped += n;
            addr += n;
            continue;
        }
        if (!mem_read(x, addr, x->mbuf, n)) {
            failed = "reading process memory";
            break;
        }
        if (!file_read(fi->fd, foff + (addr - lo), x->fbuf, n)) {
            failed = "reading the file (shorter than at open?)";
            break;
        }
        x->r->bytes_compared += n;
        for (pg = 0; pg < n; pg += (size_t)x->page) {
            size_t plen = n - pg < x->page ? n - pg : (size_t)x->page;
            size_t k;

            if (memcmp(x->mbuf + pg, x->fbuf + pg, plen) == 0) {
                continue;
            }
            for (k = pg; k < pg + plen; k++) {
                if (x->mbuf[k] == x->fbuf[k]) {
                    continue;
                }
                if (n_diff == 0) {
                    first = addr + k;
                    first_mem = x->mbuf[k];
                    first_file = x->fbuf[k];
                }
                n_diff++;
                all_cc = all_cc && x->mbuf[k] == 0xCC;
            }
        }
        addr += n;
    }
    /* Differences seen before a failed read are real: report them first. */
    if (n_diff > 0) {
        rc = report_diff(x, fi, m, first, n_diff, first_mem, first_file, all_cc);
    }
    if (rc == ATT_OK && failed != NULL) {
        rc = read_failed(x, m, addr, failed);
    }
    return rc;
}

static int cmp_relro(const void *a, const void *b)
{
    const struct procmem_relro *x = a;
    const struct procmem_relro *y = b;

    return x->start < y->start ? -1 : x->start > y->start;
}

/* sha256 of process memory [lo, hi) of @p m, appended to the report's relro list. */
static att_rc hash_relro(struct ictx *x, const struct fileinfo *fi, const struct procmem_mapping *m,
                         uint64_t lo, uint64_t hi)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct procmem_report *r = x->r;
    struct procmem_relro *e;
    uint8_t *buf = NULL;
    uint64_t granted = 0;

    if (hi - lo > MAX_RELRO_BYTES) {
        return add_finding(x, PROCMEM_FINDING_UNVERIFIED, PROCMEM_HINT_NONE, m, lo, 0,
                           "RELRO range of %" PRIu64 " bytes is over the %" PRIu64 "-byte cap",
                           hi - lo, MAX_RELRO_BYTES);
    }
    rc = budget_take(x, m, lo, hi - lo, &granted);
    if (rc != ATT_OK || granted != hi - lo) {
        return rc;
    }
    buf = malloc((size_t)(hi - lo));
    if (buf == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    if (!mem_read(x, lo, buf, (size_t)(hi - lo))) {
        rc = read_failed(x, m, lo, "reading RELRO memory");
        goto out;
    }
    r->bytes_compared += hi - lo;
    e = grow(r->relro, &x->cap_relro, r->n_relro, sizeof(*r->relro));
    if (e == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    r->relro = e;
    e = &r->relro[r->n_relro];
    memset(e, 0, sizeof(*e));
    rc = att_sha256(buf, (size_t)(hi - lo), e->digest);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = dup_path(fi->path, &e->path);
    if (rc != ATT_OK) {
        goto out;
    }
    e->start = lo;
    e->end = hi;
    r->n_relro++;
    rc = ATT_OK;
out:
    free(buf);
    return rc;
}

/*
 * Load biases of this file in this process, one per executable mapping whose
 * file offset falls in an executable PT_LOAD: address(off) = bias + p_vaddr +
 * (off - p_offset). Wrapping unsigned arithmetic is intended.
 */
static size_t file_biases(const struct ictx *x, const struct fileinfo *fi,
                          const struct procmem_mapping *const *g, size_t n,
                          uint64_t biases[MAX_BIASES])
{
    size_t nb = 0;
    size_t i;
    size_t k;
    size_t b;

    for (i = 0; i < n && fi->has_elf; i++) {
        if (!g[i]->is_exec) {
            continue;
        }
        for (k = 0; k < fi->elf.n_loads; k++) {
            const struct procmem_elf_load *l = &fi->elf.loads[k];
            uint64_t lo = l->offset - l->offset % x->page;
            uint64_t off = g[i]->offset;
            uint64_t bias;

            if (!l->is_exec || off < lo || (off >= l->offset && off - l->offset >= l->filesz)) {
                continue;
            }
            bias = g[i]->start - l->vaddr - off + l->offset;
            for (b = 0; b < nb && biases[b] != bias; b++) {
            }
            if (b == nb && nb < MAX_BIASES) {
                biases[nb++] = bias;
            }
            break;
        }
    }
    return nb;
}

/*
 * The RELRO pages of @p m's load: the loader mprotects [PAGE_DOWN(bias +
 * relro_vaddr), PAGE_DOWN(bias + relro_vaddr + relro_memsz)) read-only (glibc
 * _dl_protect_relro, musl reloc_all). The bias used is the one whose whole
 * load span contains @p m.
 */
static bool relro_range(const struct ictx *x, const struct fileinfo *fi,
                        const struct procmem_mapping *m, const uint64_t *biases, size_t nb,
                        uint64_t *rlo, uint64_t *rhi)
{
    uint64_t span_lo = UINT64_MAX;
    uint64_t span_hi = 0;
    size_t b;
    size_t k;

    if (!fi->has_elf || !fi->elf.has_relro || fi->elf.relro_memsz == 0) {
        return false;
    }
    for (k = 0; k < fi->elf.n_loads; k++) {
        const struct procmem_elf_load *l = &fi->elf.loads[k];

        if (l->vaddr - l->vaddr % x->page < span_lo) {
            span_lo = l->vaddr - l->vaddr % x->page;
        }
        if (l->vaddr + l->memsz > span_hi) {
            span_hi = l->vaddr + l->memsz;
        }
    }
    for (b = 0; b < nb; b++) {
        if (m->start >= biases[b] + span_lo && m->end <= biases[b] + span_hi + x->page) {
            uint64_t a = biases[b] + fi->elf.relro_vaddr;
            uint64_t z = a + fi->elf.relro_memsz;

            *rlo = a - a % x->page;
            *rhi = z - z % x->page;
            return *rlo < *rhi;
        }
    }
    return false;
}

/*
 * Open exactly the mapped file: map_files/START-END names the vma's own
 * struct file (for overlayfs the real underlying file, which is what maps
 * prints); root/PATH is the fallback when map_files is not permitted. Either
 * way the inode is checked against the maps line. Returns -1 with *why set
 * (or the report marked gone).
 */
static int open_mapped(struct ictx *x, const struct procmem_mapping *m, struct stat *st,
                       const char **why)
{
    char name[64 + PROCMEM_MAX_PATH];
    int fd;
    int n;

    *why = "the mapped file cannot be opened";
    n = snprintf(name, sizeof(name), "map_files/%" PRIx64 "-%" PRIx64, m->start, m->end);
    fd = n > 0 && (size_t)n < sizeof(name)
             ? openat(x->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
             : -1;
    if (fd < 0 && m->kind == PROCMEM_MAP_FILE && !m->is_deleted) {
        n = snprintf(name, sizeof(name), "root%s", m->path);
        if (n > 0 && (size_t)n < sizeof(name)) {
            fd = openat(x->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
        }
    }
    if (fd < 0) {
        return -1;
    }
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        *why = "the mapped object is not a regular file";
        (void)close(fd);
        return -1;
    }
    if (major(st->st_dev) != m->dev_major || minor(st->st_dev) != m->dev_minor ||
        (uint64_t)st->st_ino != m->inode) {
        *why = "the file opened is not the mapped inode (replaced or remapped)";
        (void)close(fd);
        return -1;
    }
    return fd;
}

/*
 * Digest and ELF facts for the open file: from the cache when (dev, inode,
 * size, mtime, ctime) match, else hashed and parsed now and cached unless the
 * file is "racily" recent or changed while it was hashed.
 */
static att_rc file_facts(struct ictx *x, const struct procmem_mapping *m, int fd,
                         const struct stat *st, struct cache_entry *e)
{
    att_rc rc;
    const struct cache_entry *hit = cache_lookup(x->cache, st);
    struct timespec t0 = {0, 0};
    struct stat st2;
    struct elf_src s;
    bool is_stable = true;

    if (hit != NULL) {
        *e = *hit;
        x->r->cache_hits++;
        return ATT_OK;
    }
    memset(e, 0, sizeof(*e));
    e->dev = (uint64_t)st->st_dev;
    e->ino = (uint64_t)st->st_ino;
    e->size = (uint64_t)st->st_size;
    e->mtime_ns = ts_ns(&st->st_mtim);
    e->ctime_ns = ts_ns(&st->st_ctim);
    (void)clock_gettime(CLOCK_REALTIME, &t0);
    if (e->size <= x->lim->max_file_size && e->size > x->lim->max_hash_bytes - x->r->bytes_hashed) {
        is_stable = false; /* not cached: the next inspection has a fresh budget */
        rc = add_finding(x, PROCMEM_FINDING_UNVERIFIED, PROCMEM_HINT_NONE, m, m->start, 0,
                         "per-process hashing budget of %" PRIu64 " bytes spent: no digest",
                         x->lim->max_hash_bytes);
        if (rc != ATT_OK) {
            return rc;
        }
    } else if (e->size <= x->lim->max_file_size) {
        /*
         * att_sha256_fd() reads to EOF: a file that grows while it is hashed
         * costs more than its size, and then fails the fstat check below.
         */
        rc = att_sha256_fd(fd, e->digest);
        /* a file hashed from a mapping fails with ATT_ERR_IO when it shrinks meanwhile */
        if (rc == ATT_ERR_IO && (fstat(fd, &st2) != 0 || entry_matches(e, &st2))) {
            return add_finding(x, PROCMEM_FINDING_UNVERIFIED, PROCMEM_HINT_NONE, m, m->start, 0,
                               "reading the file to hash it failed");
        }
        if (rc != ATT_OK && rc != ATT_ERR_IO) {
            return rc;
        }
        x->r->files_hashed++;
        x->r->bytes_hashed += e->size;
        if (rc == ATT_ERR_IO || fstat(fd, &st2) != 0 || !entry_matches(e, &st2)) {
            is_stable = false;
            rc = add_finding(x, PROCMEM_FINDING_UNVERIFIED, PROCMEM_HINT_NONE, m, m->start, 0,
                             "the file changed while it was hashed: no digest");
            if (rc != ATT_OK) {
                return rc;
            }
        } else {
            e->has_digest = true;
        }
    }
    s.fd = fd;
    s.data = NULL;
    s.size = e->size;
    rc = elf_parse_src(&s, &e->elf, NULL, 0);
    if (rc == ATT_ERR_NOMEM) {
        return rc;
    }
    e->has_elf = rc == ATT_OK;
    if (is_stable && ts_ns(&t0) - e->ctime_ns >= RACY_NS) {
        return cache_store(x->cache, e);
    }
    return ATT_OK;
}

static att_rc add_file(struct ictx *x, const struct procmem_mapping *m, const struct cache_entry *e,
                       bool is_main)
{
    struct procmem_report *r = x->r;
    struct procmem_file *f;
    att_rc rc;

    f = grow(r->files, &x->cap_files, r->n_files, sizeof(*r->files));
    if (f == NULL) {
        return ATT_ERR_NOMEM;
    }
    r->files = f;
    f = &r->files[r->n_files];
    memset(f, 0, sizeof(*f));
    rc = dup_path(m->path, &f->path);
    if (rc != ATT_OK) {
        return rc;
    }
    f->dev_major = m->dev_major;
    f->dev_minor = m->dev_minor;
    f->inode = m->inode;
    f->size = e->size;
    f->has_digest = e->has_digest;
    memcpy(f->digest, e->digest, sizeof(f->digest));
    f->is_main_binary = is_main;
    f->is_deleted = m->is_deleted;
    f->is_memfd = m->kind == PROCMEM_MAP_MEMFD;
    r->n_files++;
    return ATT_OK;
}

/* Compare a r--p mapping outside its RELRO pages and hash the RELRO pages. */
static att_rc check_rodata(struct ictx *x, const struct fileinfo *fi,
                           const struct procmem_mapping *m, const uint64_t *biases, size_t nb)
{
    att_rc rc = ATT_OK;
    uint64_t rlo = 0;
    uint64_t rhi = 0;
    uint64_t a;
    uint64_t z;

    if (!relro_range(x, fi, m, biases, nb, &rlo, &rhi) || rhi <= m->start || rlo >= m->end) {
        return compare_range(x, fi, m, m->start, m->end);
    }
    a = rlo > m->start ? rlo : m->start;
    z = rhi < m->end ? rhi : m->end;
    if (a > m->start) {
        rc = compare_range(x, fi, m, m->start, a);
    }
    if (rc == ATT_OK && !x->r->is_gone) {
        rc = hash_relro(x, fi, m, a, z);
    }
    if (rc == ATT_OK && !x->r->is_gone && z < m->end) {
        rc = compare_range(x, fi, m, z, m->end);
    }
    return rc;
}

/*
 * One file: the mappings @p g[0..n) share (dev, inode), in address order, and
 * at least one is executable. Open, identify, hash (cache), list it, then
 * compare every executable and every private read-only mapping.
 */
static att_rc check_file(struct ictx *x, const struct procmem_mapping *const *g, size_t n,
                         bool is_main)
{
    att_rc rc = ATT_ERR_INTERNAL;
    const struct procmem_mapping *lead = NULL;
    struct cache_entry e;
    struct fileinfo fi;
    struct stat st;
    struct stat st_end;
    uint64_t biases[MAX_BIASES];
    size_t nb;
    size_t i;
    const char *why = NULL;

    memset(&fi, 0, sizeof(fi));
    fi.fd = -1;
    for (i = 0; i < n && lead == NULL; i++) {
        if (g[i]->is_exec) {
            lead = g[i];
        }
    }
    if (lead == NULL) {
        return ATT_OK;
    }
    fi.path = lead->path;
    fi.fd = open_mapped(x, lead, &st, &why);
    if (fi.fd < 0) {
        if (!still_same(x)) {
            x->r->is_gone = true;
            rc = ATT_OK;
            goto out;
        }
        rc = add_finding(x, PROCMEM_FINDING_UNVERIFIED, PROCMEM_HINT_NONE, lead, lead->start, 0,
                         "%s: not measured, not compared", why);
        goto out;
    }
    rc = file_facts(x, lead, fi.fd, &st, &e);
    if (rc != ATT_OK) {
        goto out;
    }
    if (!e.has_digest && e.size > x->lim->max_file_size) {
        rc = add_finding(x, PROCMEM_FINDING_UNVERIFIED, PROCMEM_HINT_NONE, lead, lead->start, 0,
                         "file of %" PRIu64 " bytes is over the %" PRIu64
                         "-byte hashing cap: no digest",
                         e.size, x->lim->max_file_size);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    rc = add_file(x, lead, &e, is_main);
    if (rc != ATT_OK) {
        goto out;
    }
    fi.size = e.size;
    fi.has_elf = e.has_elf;
    fi.elf = e.elf;
    nb = file_biases(x, &fi, g, n, biases);
    for (i = 0; i < n && rc == ATT_OK && !x->r->is_gone; i++) {
        if (g[i]->is_exec) {
            rc = compare_range(x, &fi, g[i], g[i]->start, g[i]->end);
        } else if (g[i]->is_read && !g[i]->is_write && !g[i]->is_shared) {
            rc = check_rodata(x, &fi, g[i], biases, nb);
        }
    }
    if (rc == ATT_OK && !x->r->is_gone &&
        (fstat(fi.fd, &st_end) != 0 || !entry_matches(&e, &st_end))) {
        rc = add_finding(x, PROCMEM_FINDING_UNVERIFIED, PROCMEM_HINT_NONE, lead, lead->start, 0,
                         "the file changed during inspection: comparisons may be stale");
    }
out:
    if (fi.fd >= 0) {
        (void)close(fi.fd);
    }
    return rc;
}

/* Mappings that are executable in themselves but have no file to compare with. */
static att_rc check_exec_flags(struct ictx *x)
{
    att_rc rc = ATT_OK;
    size_t i;

    for (i = 0; i < x->maps.count && rc == ATT_OK; i++) {
        const struct procmem_mapping *m = &x->maps.mappings[i];

        if (!m->is_exec) {
            continue;
        }
        x->r->n_exec_mappings++;
        if (m->is_write) {
            rc = add_finding(x, PROCMEM_FINDING_WX, PROCMEM_HINT_NONE, m, m->start, 0,
                             "writable and executable mapping of %" PRIu64 " bytes",
                             m->end - m->start);
            if (rc != ATT_OK) {
                break;
            }
        }
        switch (m->kind) {
        case PROCMEM_MAP_ANON:
            rc = add_finding(x, PROCMEM_FINDING_ANON_EXEC, PROCMEM_HINT_NONE, m, m->start, 0,
                             "anonymous executable memory of %" PRIu64
                             " bytes (JIT or injected code)",
                             m->end - m->start);
            break;
        case PROCMEM_MAP_PSEUDO:
            if (m->pseudo == PROCMEM_PSEUDO_VDSO || m->pseudo == PROCMEM_PSEUDO_VSYSCALL) {
                break;
            }
            rc = add_finding(x, PROCMEM_FINDING_ANON_EXEC,
                             strcmp(m->path, "[uprobes]") == 0 ? PROCMEM_HINT_UPROBES
                                                               : PROCMEM_HINT_NONE,
                             m, m->start, 0, "executable kernel-named mapping %s", m->path);
            break;
        case PROCMEM_MAP_MEMFD:
            rc = add_finding(x, PROCMEM_FINDING_MEMFD_EXEC, PROCMEM_HINT_NONE, m, m->start, 0,
                             "code executed from a memfd (fileless)");
            break;
        case PROCMEM_MAP_FILE:
            if (m->is_deleted) {
                rc = add_finding(x, PROCMEM_FINDING_DELETED_EXEC, PROCMEM_HINT_NONE, m, m->start, 0,
                                 "code from a file that was deleted or replaced");
            }
            break;
        }
    }
    return rc;
}

static int cmp_by_inode(const void *a, const void *b)
{
    const struct procmem_mapping *x = *(const struct procmem_mapping *const *)a;
    const struct procmem_mapping *y = *(const struct procmem_mapping *const *)b;

    if (x->dev_major != y->dev_major) {
        return x->dev_major < y->dev_major ? -1 : 1;
    }
    if (x->dev_minor != y->dev_minor) {
        return x->dev_minor < y->dev_minor ? -1 : 1;
    }
    if (x->inode != y->inode) {
        return x->inode < y->inode ? -1 : 1;
    }
    return x->start < y->start ? -1 : x->start > y->start;
}

static bool same_inode(const struct procmem_mapping *a, const struct procmem_mapping *b)
{
    return a->dev_major == b->dev_major && a->dev_minor == b->dev_minor && a->inode == b->inode;
}

/*
 * The main binary: the mapping holding startcode (the kernel's lowest
 * executable PT_LOAD address of the program it exec'd), else the inode that
 * /proc/PID/exe resolves to. NULL if neither is found.
 */
static const struct procmem_mapping *find_main(const struct ictx *x)
{
    struct stat st;
    size_t i;

    for (i = 0; i < x->maps.count && x->start_code != 0; i++) {
        const struct procmem_mapping *m = &x->maps.mappings[i];

        if (m->start <= x->start_code && x->start_code < m->end &&
            (m->kind == PROCMEM_MAP_FILE || m->kind == PROCMEM_MAP_MEMFD)) {
            return m;
        }
    }
    if (fstatat(x->dirfd, "exe", &st, 0) != 0) {
        return NULL;
    }
    for (i = 0; i < x->maps.count; i++) {
        const struct procmem_mapping *m = &x->maps.mappings[i];

        if (m->is_exec && m->inode == (uint64_t)st.st_ino && m->dev_major == major(st.st_dev) &&
            m->dev_minor == minor(st.st_dev)) {
            return m;
        }
    }
    return NULL;
}

/* Group the file-backed mappings by inode; check each group with an executable mapping. */
static att_rc check_files(struct ictx *x)
{
    att_rc rc = ATT_ERR_INTERNAL;
    const struct procmem_mapping **v = NULL;
    const struct procmem_mapping *main_m = find_main(x);
    size_t n = 0;
    size_t i;
    size_t j;

    v = calloc(x->maps.count + 1, sizeof(const struct procmem_mapping *));
    if (v == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    for (i = 0; i < x->maps.count; i++) {
        const struct procmem_mapping *m = &x->maps.mappings[i];

        if (m->kind == PROCMEM_MAP_FILE || m->kind == PROCMEM_MAP_MEMFD) {
            v[n++] = m;
        }
    }
    qsort(v, n, sizeof(const struct procmem_mapping *), cmp_by_inode);
    rc = ATT_OK;
    for (i = 0; i < n && rc == ATT_OK && !x->r->is_gone; i = j) {
        for (j = i + 1; j < n && same_inode(v[i], v[j]); j++) {
        }
        rc = check_file(x, v + i, j - i, main_m != NULL && same_inode(main_m, v[i]));
    }
out:
    free(v);
    return rc;
}

static att_rc read_maps(struct ictx *x)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_buf b;
    char why[128] = "";
    int attempt;

    att_buf_init(&b, x->lim->max_maps_bytes);
    for (attempt = 0; attempt < MAPS_ATTEMPTS; attempt++) {
        att_buf_reset(&b);
        procmem_maps_cleanup(&x->maps);
        rc = read_proc(x->dirfd, "maps", &b);
        if (rc == ATT_ERR_NOT_FOUND) {
            x->r->is_gone = true;
            rc = ATT_OK;
            goto out;
        }
        if (rc != ATT_OK) {
            (void)snprintf(why, sizeof(why), "%s", att_rc_str(rc));
            goto out;
        }
        /* A concurrent mmap/munmap can tear the text between two reads: read again. */
        rc = procmem_maps_parse((const char *)b.data, b.len, x->lim->max_mappings, &x->maps, why,
                                sizeof(why));
        if (rc != ATT_ERR_PARSE) {
            goto out;
        }
    }
out:
    if (rc != ATT_OK) {
        LOG_WARN("pid %d: /proc/PID/maps rejected: %s", (int)x->pid, why);
    }
    att_buf_cleanup(&b);
    return rc;
}

/* The baseline over every RELRO range, in address order. */
static att_rc finish_report(struct procmem_report *r)
{
    att_rc rc = ATT_ERR_INTERNAL;
    uint8_t *buf = NULL;
    size_t i;
    size_t k;
    const size_t rec = 16 + ATT_SHA256_LEN;

    if (r->n_relro > 0) {
        qsort(r->relro, r->n_relro, sizeof(*r->relro), cmp_relro);
    }
    buf = malloc(r->n_relro * rec + 1);
    if (buf == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    for (i = 0; i < r->n_relro; i++) {
        uint8_t *p = buf + i * rec;

        for (k = 0; k < 8; k++) {
            p[k] = (uint8_t)(r->relro[i].start >> (56 - 8 * k));
            p[8 + k] = (uint8_t)(r->relro[i].end >> (56 - 8 * k));
        }
        memcpy(p + 16, r->relro[i].digest, ATT_SHA256_LEN);
    }
    rc = att_sha256(buf, r->n_relro * rec, r->relro_baseline);
out:
    free(buf);
    return rc;
}

static att_rc inspect_run(struct ictx *x)
{
    att_rc rc = ATT_ERR_INTERNAL;
    char path[32];

    (void)snprintf(path, sizeof(path), "/proc/%d", (int)x->pid);
    x->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (x->dirfd < 0) {
        if (errno_gone(errno)) {
            x->r->is_gone = true;
            return ATT_OK;
        }
        LOG_ERR("open %s: %s", path, strerror(errno));
        return ATT_ERR_IO;
    }
    rc = read_stat(x->dirfd, &x->r->start_time, &x->start_code);
    if (rc == ATT_ERR_NOT_FOUND) {
        x->r->is_gone = true;
        return ATT_OK;
    }
    if (rc != ATT_OK) {
        LOG_ERR("pid %d: cannot read /proc/PID/stat: %s", (int)x->pid, att_rc_str(rc));
        return rc == ATT_ERR_PARSE ? ATT_ERR_PARSE : ATT_ERR_IO;
    }
    rc = read_maps(x);
    if (rc != ATT_OK || x->r->is_gone) {
        return rc;
    }
    x->r->n_mappings = x->maps.count;
    if (x->maps.count == 0) {
        x->r->is_gone = !still_same(x); /* a zombie has no mm; a kernel thread neither */
        return ATT_OK;
    }
    x->memfd = openat(x->dirfd, "mem", O_RDONLY | O_CLOEXEC);
    if (x->memfd < 0) {
        if (errno_gone(errno) || !still_same(x)) {
            x->r->is_gone = true;
            return ATT_OK;
        }
        LOG_ERR("pid %d: cannot open /proc/PID/mem (CAP_SYS_PTRACE? Yama?): %s", (int)x->pid,
                strerror(errno));
        return ATT_ERR_IO;
    }
    x->mbuf = malloc(CHUNK);
    x->fbuf = malloc(CHUNK);
    if (x->mbuf == NULL || x->fbuf == NULL) {
        return ATT_ERR_NOMEM;
    }
    if (x->incremental) {
        x->pm = malloc(CHUNK / MAPS_ALIGN * sizeof(uint64_t));
        x->pagemapfd = openat(x->dirfd, "pagemap", O_RDONLY | O_CLOEXEC);
        if (x->pm == NULL) {
            return ATT_ERR_NOMEM;
        }
        /* without pagemap the sweep is simply a full one */
    }
    rc = check_exec_flags(x);
    if (rc != ATT_OK) {
        return rc;
    }
    return check_files(x);
}

static int cmp_finding(const void *a, const void *b)
{
    const struct procmem_finding *x = a;
    const struct procmem_finding *y = b;

    if (x->address != y->address) {
        return x->address < y->address ? -1 : 1;
    }
    return (int)x->kind - (int)y->kind;
}

att_rc procmem_inspect(pid_t pid, struct procmem_cache *cache, struct procmem_report **out)
{
    return procmem_inspect_ex(pid, cache, 0, out);
}

att_rc procmem_inspect_ex(pid_t pid, struct procmem_cache *cache, unsigned flags,
                          struct procmem_report **out)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct ictx x;
    long page = sysconf(_SC_PAGESIZE);

    if (pid <= 0 || cache == NULL || out == NULL || (flags & ~PROCMEM_INCREMENTAL) != 0) {
        return ATT_ERR_INVALID_ARG;
    }
    memset(&x, 0, sizeof(x));
    x.incremental = (flags & PROCMEM_INCREMENTAL) != 0;
    x.pagemapfd = -1;
    x.pid = pid;
    x.cache = cache;
    x.lim = &cache->lim;
    x.dirfd = -1;
    x.memfd = -1;
    x.page = page > 0 && page % MAPS_ALIGN == 0 ? (uint64_t)page : MAPS_ALIGN;
    procmem_maps_init(&x.maps);
    x.r = calloc(1, sizeof(*x.r));
    if (x.r == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    x.r->pid = pid;
    rc = inspect_run(&x);
    if (rc != ATT_OK) {
        goto out;
    }
    if (x.r->n_findings > 1) {
        qsort(x.r->findings, x.r->n_findings, sizeof(*x.r->findings), cmp_finding);
    }
    rc = finish_report(x.r);
    if (rc != ATT_OK) {
        goto out;
    }
    *out = x.r;
    x.r = NULL; /* transferred to the caller */
    rc = ATT_OK;
out:
    if (x.memfd >= 0) {
        (void)close(x.memfd);
    }
    if (x.pagemapfd >= 0) {
        (void)close(x.pagemapfd);
    }
    free(x.pm);
    if (x.dirfd >= 0) {
        (void)close(x.dirfd);
    }
    free(x.mbuf);
    free(x.fbuf);
    procmem_maps_cleanup(&x.maps);
    procmem_report_free(x.r);
    return rc;
}
