/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* syscall(SYS_openat2) */
/*
 * Rootfs walk, ELF classification and the (dev, ino, size, mtime, ctime)
 * digest cache; see rootfs.h for the contract and the cache's threat note.
 * The ELF reader follows the System V gABI (ELF header, program header,
 * dynamic section) and applies the bounds of the kernel's fs/binfmt_elf.c
 * (native e_phentsize, table at most 64 KiB, PT_INTERP 2..PATH_MAX bytes).
 * Every multi-byte field is decoded byte by byte in the file's byte order,
 * so neither alignment nor the host's endianness matters.
 */
#include "rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "attest/digest.h"
#include "attest/util.h"

/* ELF constants (System V gABI); spelled out so no <elf.h> is needed. */
#define ELF_EI_NIDENT   16u
#define ELF_EI_CLASS    4u
#define ELF_EI_DATA     5u
#define ELF_EI_VERSION  6u
#define ELF_CLASS32     1u
#define ELF_CLASS64     2u
#define ELF_DATA2LSB    1u
#define ELF_DATA2MSB    2u
#define ELF_EV_CURRENT  1u
#define ELF_ET_REL      1u
#define ELF_ET_EXEC     2u
#define ELF_ET_DYN      3u
#define ELF_ET_CORE     4u
#define ELF_PT_DYNAMIC  2u
#define ELF_PT_INTERP   3u
#define ELF_DT_NULL     0u
#define ELF_DT_SONAME   14u
#define ELF_DT_FLAGS_1  0x6ffffffbu
#define ELF_DF_1_PIE    0x08000000u
#define ELF32_EHDR_SIZE 52u
#define ELF64_EHDR_SIZE 64u
#define ELF32_PHDR_SIZE 32u
#define ELF64_PHDR_SIZE 56u
#define ELF32_DYN_SIZE  8u
#define ELF64_DYN_SIZE  16u
#define ELF_INTERP_MAX  4096u /* the kernel's PATH_MAX bound on p_filesz */

#define SCAN_INITIAL_CAP 64u
#define MSG_PATH_MAX     160u
/*
 * Files to measure are opened and classified by the walk, then hashed in
 * batches of HASH_BATCH files (open fds, and hard links to a queued file
 * that take its digest, see use_queued) by the scanning thread and one
 * helper thread (when the batch holds at least HASH_PARALLEL_MIN bytes): a
 * cold admission is bound by hashing, and the hook waits for it.
 */
#define HASH_BATCH        32u
#define HASH_PARALLEL_MIN (1u << 20)

const char *rootfs_kind_str(enum rootfs_kind kind)
{
    switch (kind) {
    case ROOTFS_KIND_NONE:
        return "none";
    case ROOTFS_KIND_EXEC:
        return "exec";
    case ROOTFS_KIND_SHLIB:
        return "shlib";
    case ROOTFS_KIND_OTHER:
        return "other";
    case ROOTFS_KIND_MALFORMED:
        return "malformed";
    }
    return "unknown";
}

void rootfs_limits_default(struct rootfs_limits *lim)
{
    if (lim == NULL) {
        return;
    }
    lim->max_files = ROOTFS_DEFAULT_MAX_FILES;
    lim->max_entries = ROOTFS_DEFAULT_MAX_ENTRIES;
    lim->max_total_bytes = ROOTFS_DEFAULT_MAX_BYTES;
    lim->max_path = ROOTFS_DEFAULT_MAX_PATH;
    lim->max_depth = ROOTFS_DEFAULT_MAX_DEPTH;
    lim->reject_malformed = false;
}

/* ------------------------------------------------------------------------- */
/* ELF                                                                       */

/*
 * Where ELF bytes come from: the whole file in memory (mem != NULL), or an
 * fd read with pread() so the file offset stays 0 for the hash that follows.
 * size is the file size every offset is checked against.
 */
struct elf_src {
    const uint8_t *mem;
    int fd;
    uint64_t size;
};

/*
 * Read exactly @p len bytes at @p off. Callers check off + len <= size
 * first; a short pread means the file shrank after fstat (ATT_ERR_IO).
 */
static att_rc src_read(const struct elf_src *src, uint64_t off, uint8_t *buf, size_t len)
{
    size_t done = 0;
    ssize_t n;

    if (off > src->size || len > src->size - off) {
        return ATT_ERR_INTERNAL;
    }
    if (src->mem != NULL) {
        memcpy(buf, src->mem + off, len);
        return ATT_OK;
    }
    while (done < len) {
        n = pread(src->fd, buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return ATT_ERR_IO;
        }
        done += (size_t)n;
    }
    return ATT_OK;
}

static uint16_t rd16(const uint8_t *p, bool be)
{
    if (be) {
        return (uint16_t)(((unsigned)p[0] << 8) | p[1]);
    }
    return (uint16_t)(((unsigned)p[1] << 8) | p[0]);
}

static uint32_t rd32(const uint8_t *p, bool be)
{
    if (be) {
        return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
    }
    return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

static uint64_t rd64(const uint8_t *p, bool be)
{
    uint64_t hi = rd32(be ? p : p + 4, be);
    uint64_t lo = rd32(be ? p + 4 : p, be);

    return (hi << 32) | lo;
}

/* Whether [off, off + len) lies inside a file of @p size bytes (no overflow). */
static bool in_file(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

/*
 * Scan the first ROOTFS_ELF_MAX_DYNAMIC bytes of PT_DYNAMIC for DT_SONAME
 * and DT_FLAGS_1 (DF_1_PIE), stopping at DT_NULL. d_tag is signed in the
 * gABI; the tags wanted are small positive values, so an unsigned compare of
 * the low 32 bits (the whole tag for ELFCLASS32) is exact for them.
 */
static att_rc elf_read_dynamic(const struct elf_src *src, bool is64, bool be, uint64_t off,
                               uint64_t len, struct rootfs_elf_info *info)
{
    att_rc rc = ATT_ERR_INTERNAL;
    size_t ent = is64 ? ELF64_DYN_SIZE : ELF32_DYN_SIZE;
    size_t n = (size_t)(len < ROOTFS_ELF_MAX_DYNAMIC ? len : ROOTFS_ELF_MAX_DYNAMIC);
    uint8_t *dyn = NULL;
    size_t i;

    n -= n % ent;
    if (n == 0) {
        return ATT_OK; /* nothing to learn; nothing acquired */
    }
    dyn = malloc(n);
    if (dyn == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    rc = src_read(src, off, dyn, n);
    if (rc != ATT_OK) {
        goto out;
    }
    for (i = 0; i < n; i += ent) {
        uint64_t tag = is64 ? rd64(dyn + i, be) : rd32(dyn + i, be);
        uint64_t val = is64 ? rd64(dyn + i + 8, be) : rd32(dyn + i + 4, be);

        if (tag == ELF_DT_NULL) {
            break;
        }
        if (tag == ELF_DT_SONAME) {
            info->has_soname = true;
        } else if (tag == ELF_DT_FLAGS_1 && (val & ELF_DF_1_PIE) != 0) {
            info->has_pie_flag = true;
        }
    }
    rc = ATT_OK;
out:
    free(dyn);
    return rc;
}

/*
 * Walk the program header table: at most one PT_INTERP (2..4096 bytes) and
 * one PT_DYNAMIC, each inside the file. ATT_ERR_PARSE means "malformed".
 */
static att_rc elf_read_phdrs(const struct elf_src *src, bool is64, bool be, uint64_t phoff,
                             size_t phnum, struct rootfs_elf_info *info, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    size_t ent = is64 ? ELF64_PHDR_SIZE : ELF32_PHDR_SIZE;
    size_t tablen = phnum * ent;
    uint8_t *tab = NULL;
    bool has_dynamic = false;
    uint64_t dyn_off = 0;
    uint64_t dyn_len = 0;
    size_t i;

    tab = malloc(tablen);
    if (tab == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    rc = src_read(src, phoff, tab, tablen);
    if (rc != ATT_OK) {
        goto out;
    }
    for (i = 0; i < phnum; i++) {
        const uint8_t *p = tab + i * ent;
        uint32_t type = rd32(p, be);
        uint64_t off = is64 ? rd64(p + 8, be) : rd32(p + 4, be);
        uint64_t filesz = is64 ? rd64(p + 32, be) : rd32(p + 16, be);

        if (type != ELF_PT_INTERP && type != ELF_PT_DYNAMIC) {
            continue;
        }
        if (type == ELF_PT_INTERP && (filesz < 2 || filesz > ELF_INTERP_MAX)) {
            att_set_why(why, why_len, "PT_INTERP of %llu bytes", (unsigned long long)filesz);
            rc = ATT_ERR_PARSE;
            goto out;
        }
        if (!in_file(off, filesz, src->size)) {
            att_set_why(why, why_len, "program header %zu (%s) lies past the end of the file", i,
                        type == ELF_PT_INTERP ? "PT_INTERP" : "PT_DYNAMIC");
            rc = ATT_ERR_PARSE;
            goto out;
        }
        if (type == ELF_PT_INTERP) {
            if (info->has_interp) {
                att_set_why(why, why_len, "more than one PT_INTERP");
                rc = ATT_ERR_PARSE;
                goto out;
            }
            info->has_interp = true;
        } else {
            if (has_dynamic) {
                att_set_why(why, why_len, "more than one PT_DYNAMIC");
                rc = ATT_ERR_PARSE;
                goto out;
            }
            has_dynamic = true;
            dyn_off = off;
            dyn_len = filesz;
        }
    }
    if (has_dynamic) {
        rc = elf_read_dynamic(src, is64, be, dyn_off, dyn_len, info);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    rc = ATT_OK;
out:
    free(tab);
    return rc;
}

/*
 * Parse the header and, for ET_EXEC/ET_DYN, the program headers. Returns
 * ATT_OK with kind NONE, OTHER, EXEC or SHLIB; ATT_ERR_PARSE (why set) for a
 * malformed ELF; ATT_ERR_IO/NOMEM when the bytes could not be had.
 */
static att_rc elf_parse(const struct elf_src *src, struct rootfs_elf_info *info, char *why,
                        size_t why_len)
{
    uint8_t eh[ELF64_EHDR_SIZE];
    size_t ehsize;
    bool is64;
    bool be;
    uint32_t e_version;
    uint64_t phoff;
    size_t phentsize;
    size_t phnum;
    att_rc rc;

    memset(info, 0, sizeof(*info));
    info->kind = ROOTFS_KIND_NONE;
    if (src->size < 4) {
        return ATT_OK;
    }
    rc = src_read(src, 0, eh, 4);
    if (rc != ATT_OK) {
        return rc;
    }
    if (memcmp(eh, "\177ELF", 4) != 0) {
        return ATT_OK;
    }
    info->kind = ROOTFS_KIND_MALFORMED; /* until every check below passed */
    if (src->size < ELF_EI_NIDENT) {
        att_set_why(why, why_len, "truncated ELF identification (%llu bytes)",
                    (unsigned long long)src->size);
        return ATT_ERR_PARSE;
    }
    rc = src_read(src, 0, eh, ELF_EI_NIDENT);
    if (rc != ATT_OK) {
        return rc;
    }
    if (eh[ELF_EI_CLASS] != ELF_CLASS32 && eh[ELF_EI_CLASS] != ELF_CLASS64) {
        att_set_why(why, why_len, "EI_CLASS %u", eh[ELF_EI_CLASS]);
        return ATT_ERR_PARSE;
    }
    if (eh[ELF_EI_DATA] != ELF_DATA2LSB && eh[ELF_EI_DATA] != ELF_DATA2MSB) {
        att_set_why(why, why_len, "EI_DATA %u", eh[ELF_EI_DATA]);
        return ATT_ERR_PARSE;
    }
    if (eh[ELF_EI_VERSION] != ELF_EV_CURRENT) {
        att_set_why(why, why_len, "EI_VERSION %u", eh[ELF_EI_VERSION]);
        return ATT_ERR_PARSE;
    }
    is64 = eh[ELF_EI_CLASS] == ELF_CLASS64;
    be = eh[ELF_EI_DATA] == ELF_DATA2MSB;
    info->elf_class = eh[ELF_EI_CLASS];
    info->elf_data = eh[ELF_EI_DATA];
    ehsize = is64 ? ELF64_EHDR_SIZE : ELF32_EHDR_SIZE;
    if (src->size < ehsize) {
        att_set_why(why, why_len, "truncated ELF header (%llu of %zu bytes)",
                    (unsigned long long)src->size, ehsize);
        return ATT_ERR_PARSE;
    }
    rc = src_read(src, 0, eh, ehsize);
    if (rc != ATT_OK) {
        return rc;
    }
    info->e_type = rd16(eh + 16, be);
    info->e_machine = rd16(eh + 18, be);
    e_version = rd32(eh + 20, be);
    if (is64) {
        phoff = rd64(eh + 32, be);
        phentsize = rd16(eh + 54, be);
        phnum = rd16(eh + 56, be);
    } else {
        phoff = rd32(eh + 28, be);
        phentsize = rd16(eh + 42, be);
        phnum = rd16(eh + 44, be);
    }
    if (e_version != ELF_EV_CURRENT) {
        att_set_why(why, why_len, "e_version %u", e_version);
        return ATT_ERR_PARSE;
    }
    if (info->e_type == ELF_ET_REL || info->e_type == ELF_ET_CORE) {
        info->kind = ROOTFS_KIND_OTHER;
        return ATT_OK;
    }
    if (info->e_type != ELF_ET_EXEC && info->e_type != ELF_ET_DYN) {
        att_set_why(why, why_len, "e_type %u", info->e_type);
        return ATT_ERR_PARSE;
    }
    if (phentsize != (is64 ? ELF64_PHDR_SIZE : ELF32_PHDR_SIZE)) {
        att_set_why(why, why_len, "e_phentsize %zu", phentsize);
        return ATT_ERR_PARSE;
    }
    if (phnum == 0 || phnum * phentsize > ROOTFS_ELF_MAX_PHTAB) {
        att_set_why(why, why_len, "e_phnum %zu", phnum);
        return ATT_ERR_PARSE;
    }
    if (!in_file(phoff, phnum * phentsize, src->size)) {
        att_set_why(why, why_len,
                    "program header table (e_phoff %llu, %zu bytes) past the end "
                    "of the file (%llu bytes)",
                    (unsigned long long)phoff, phnum * phentsize, (unsigned long long)src->size);
        return ATT_ERR_PARSE;
    }
    rc = elf_read_phdrs(src, is64, be, phoff, phnum, info, why, why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    if (info->e_type == ELF_ET_EXEC || info->has_pie_flag ||
        (info->has_interp && !info->has_soname)) {
        info->kind = ROOTFS_KIND_EXEC;
    } else {
        info->kind = ROOTFS_KIND_SHLIB;
    }
    return ATT_OK;
}

/* elf_parse(), with "malformed" turned into a verdict: the file is measured. */
static att_rc elf_classify(const struct elf_src *src, struct rootfs_elf_info *info, char *why,
                           size_t why_len)
{
    att_rc rc;

    att_set_why(why, why_len, "%s", "");
    rc = elf_parse(src, info, why, why_len);
    if (rc == ATT_ERR_PARSE) {
        info->kind = ROOTFS_KIND_MALFORMED;
        return ATT_OK;
    }
    return rc;
}

att_rc rootfs_elf_classify_mem(const uint8_t *file, size_t len, struct rootfs_elf_info *out,
                               char *why, size_t why_len)
{
    struct elf_src src;

    if (out == NULL || (file == NULL && len > 0)) {
        return ATT_ERR_INVALID_ARG;
    }
    src.mem = file;
    src.fd = -1;
    src.size = len;
    return elf_classify(&src, out, why, why_len);
}

/* ------------------------------------------------------------------------- */
/* Cache                                                                     */

/*
 * (dev, ino, size, mtime, ctime) of a file: of the scanned file itself, or,
 * for a copy the engine made (struct rootfs_origin), of the image layer's
 * file it was copied from.
 */
struct cache_key {
    uint64_t dev;
    uint64_t ino;
    uint64_t size;
    int64_t mtime_sec;
    int64_t mtime_nsec;
    int64_t ctime_sec;
    int64_t ctime_nsec;
};

struct cache_node {
    struct cache_key key;
    enum rootfs_kind kind;
    bool has_interp;
    uint8_t digest[ATT_SHA256_LEN];
    struct cache_node *hnext; /* bucket chain */
    struct cache_node *newer; /* LRU list, towards the most recently used */
    struct cache_node *older;
};

struct rootfs_cache {
    struct cache_node **buckets; /* owned array; nodes owned through it */
    size_t nbuckets;             /* a power of two */
    size_t count;
    size_t max;
    struct cache_node *mru; /* borrowed ends of the LRU list */
    struct cache_node *lru;
    long long racy_nsec;
};

static void key_from_stat(const struct stat *st, struct cache_key *k)
{
    k->dev = (uint64_t)st->st_dev;
    k->ino = (uint64_t)st->st_ino;
    k->size = (uint64_t)st->st_size;
    k->mtime_sec = (int64_t)st->st_mtim.tv_sec;
    k->mtime_nsec = (int64_t)st->st_mtim.tv_nsec;
    k->ctime_sec = (int64_t)st->st_ctim.tv_sec;
    k->ctime_nsec = (int64_t)st->st_ctim.tv_nsec;
}

static bool key_eq(const struct cache_key *a, const struct cache_key *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec &&
           a->ctime_sec == b->ctime_sec && a->ctime_nsec == b->ctime_nsec;
}

/* splitmix64 finaliser; keys are assigned by the filesystem, not chosen by peers. */
static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

static size_t key_bucket(const struct rootfs_cache *c, const struct cache_key *k)
{
    uint64_t h = 0;

    h = mix(h, k->dev);
    h = mix(h, k->ino);
    h = mix(h, k->size);
    h = mix(h, (uint64_t)k->mtime_sec);
    h = mix(h, (uint64_t)k->mtime_nsec);
    h = mix(h, (uint64_t)k->ctime_sec);
    h = mix(h, (uint64_t)k->ctime_nsec);
    return (size_t)(h & (uint64_t)(c->nbuckets - 1));
}

struct rootfs_cache *rootfs_cache_new(size_t max_entries)
{
    struct rootfs_cache *c = NULL;
    size_t n = 1;

    if (max_entries == 0) {
        return NULL;
    }
    while (n < max_entries && n <= SIZE_MAX / 4 / sizeof(struct cache_node *)) {
        n <<= 1;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
    c->buckets = calloc(n, sizeof(*c->buckets));
    if (c->buckets == NULL) {
        free(c);
        return NULL;
    }
    c->nbuckets = n;
    c->max = max_entries;
    c->racy_nsec = ROOTFS_CACHE_DEFAULT_RACY_NSEC;
    return c;
}

void rootfs_cache_clear(struct rootfs_cache *cache)
{
    struct cache_node *n;
    struct cache_node *next;

    if (cache == NULL) {
        return;
    }
    for (n = cache->mru; n != NULL; n = next) {
        next = n->older;
        free(n);
    }
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
    memset(cache->buckets, 0, cache->nbuckets * sizeof(*cache->buckets));
    cache->mru = NULL;
    cache->lru = NULL;
    cache->count = 0;
}

void rootfs_cache_free(struct rootfs_cache *cache)
{
    if (cache == NULL) {
        return;
    }
    rootfs_cache_clear(cache);
    free(cache->buckets);
    free(cache);
}

size_t rootfs_cache_count(const struct rootfs_cache *cache)
{
    return cache == NULL ? 0 : cache->count;
}

void rootfs_cache_set_racy_nsec(struct rootfs_cache *cache, long long nsec)
{
    if (cache != NULL && nsec >= 0) {
        cache->racy_nsec = nsec;
    }
}

static void lru_unlink(struct rootfs_cache *c, struct cache_node *n)
{
    if (n->newer != NULL) {
        n->newer->older = n->older;
    } else {
        c->mru = n->older;
    }
    if (n->older != NULL) {
        n->older->newer = n->newer;
    } else {
        c->lru = n->newer;
    }
    n->newer = NULL;
    n->older = NULL;
}

static void lru_push_front(struct rootfs_cache *c, struct cache_node *n)
{
    n->newer = NULL;
    n->older = c->mru;
    if (c->mru != NULL) {
        c->mru->newer = n;
    }
    c->mru = n;
    if (c->lru == NULL) {
        c->lru = n;
    }
}

/* Borrowed node for @p k, now the most recently used; NULL on a miss. */
static struct cache_node *cache_lookup(struct rootfs_cache *c, const struct cache_key *k)
{
    struct cache_node *n;

    for (n = c->buckets[key_bucket(c, k)]; n != NULL; n = n->hnext) {
        if (key_eq(&n->key, k)) {
            lru_unlink(c, n);
            lru_push_front(c, n);
            return n;
        }
    }
    return NULL;
}

/* Take the least recently used node out of its chain and the list; caller owns it. */
static struct cache_node *cache_evict(struct rootfs_cache *c)
{
    struct cache_node *victim = c->lru;
    struct cache_node **pp;

    if (victim == NULL) {
        return NULL;
    }
    for (pp = &c->buckets[key_bucket(c, &victim->key)]; *pp != NULL; pp = &(*pp)->hnext) {
        if (*pp == victim) {
            *pp = victim->hnext;
            break;
        }
    }
    lru_unlink(c, victim);
    c->count--;
    return victim;
}

static att_rc cache_insert(struct rootfs_cache *c, const struct cache_key *k, enum rootfs_kind kind,
                           bool has_interp, const uint8_t digest[ATT_SHA256_LEN])
{
    struct cache_node *n = cache_lookup(c, k);
    size_t b;

    if (n == NULL) {
        n = c->count >= c->max ? cache_evict(c) : malloc(sizeof(*n));
        if (n == NULL) {
            return ATT_ERR_NOMEM;
        }
        memset(n, 0, sizeof(*n));
        n->key = *k;
        b = key_bucket(c, k);
        n->hnext = c->buckets[b];
        c->buckets[b] = n;
        lru_push_front(c, n);
        c->count++;
    }
    n->kind = kind;
    n->has_interp = has_interp;
    if (digest != NULL) {
        memcpy(n->digest, digest, ATT_SHA256_LEN);
    } else {
        memset(n->digest, 0, ATT_SHA256_LEN);
    }
    return ATT_OK;
}

/*
 * Whether a file whose ctime is in @p st may be cached, given that hashing
 * began at @p now: its last change must be older than the racy margin, or a
 * write in the same timestamp tick could go unnoticed. A ctime in the future
 * (the clock went back) is never cached.
 */
static bool cacheable(const struct rootfs_cache *c, const struct stat *st,
                      const struct timespec *now)
{
    int64_t csec = (int64_t)st->st_ctim.tv_sec;
    int64_t nsec = (int64_t)now->tv_sec;
    int64_t diff;

    if (csec > nsec) {
        return false;
    }
    if (csec < nsec - 1000000) {
        return true; /* older than ~11 days; also keeps the subtraction below in range */
    }
    diff = (nsec - csec) * 1000000000LL + ((int64_t)now->tv_nsec - (int64_t)st->st_ctim.tv_nsec);
    return diff > c->racy_nsec;
}

/* ------------------------------------------------------------------------- */
/* Scan                                                                      */

struct scan {
    const struct rootfs_limits *lim;
    struct rootfs_cache *cache;         /* borrowed, may be NULL */
    const struct rootfs_origin *origin; /* borrowed, may be NULL */
    struct rootfs_result *res;          /* being built; owned by rootfs_scan() */
    size_t cap_entries;
    size_t cap_skipped;
    uint64_t root_dev;
    char *path; /* owned; lim->max_path + 1 bytes, "" for the root */
    size_t path_len;
    char *why;
    size_t why_len;
    struct hash_batch *batch; /* owned; files opened and waiting to be hashed */
};

/*
 * One file waiting to be hashed: opened and classified by the walk; or,
 * with is_dup, a hard link to the earlier job dup_of, not opened (fd -1),
 * that takes that job's digest or failure when the batch is flushed.
 */
struct hash_job {
    int fd;              /* owned until the batch is flushed; -1 for a dup */
    struct stat st;      /* fstat at open */
    struct timespec now; /* taken before the open: cacheability */
    size_t entry;        /* index in res->entries (kind, path); its digest is filled in */
    bool have_mkey;      /* mkey: the image layer file's key, see manifest_key */
    struct cache_key mkey;
    bool is_dup;
    size_t dup_of;    /* with is_dup: index of the job that hashes the file */
    att_rc rc;        /* set by the hashing thread, with: */
    const char *fail; /* what failed (static text), or */
    int err;          /* errno of a failed fstat after hashing */
    uint8_t digest[ATT_SHA256_LEN];
};

struct hash_batch {
    struct hash_job jobs[HASH_BATCH];
    size_t n;
    uint64_t bytes;
    atomic_size_t next; /* the next job a hashing thread takes */
};

/*
 * Copy the current path into @p dst for a message. Paths come from the
 * image and end up in logs, so bytes outside printable ASCII, quotes and
 * backslashes are written as \xNN, and a long path is cut with "...".
 */
static void path_msg_of(const char *path, size_t path_len, char *dst, size_t dst_len)
{
    size_t o = 0;
    size_t i;

    for (i = 0; i < path_len && o + 5 < dst_len; i++) {
        unsigned char ch = (unsigned char)path[i];

        if (ch < 0x20u || ch >= 0x7fu || ch == '"' || ch == '\\') {
            (void)snprintf(dst + o, dst_len - o, "\\x%02x", ch);
            o += 4;
        } else {
            dst[o++] = (char)ch;
        }
    }
    if (i < path_len && o + 4 <= dst_len) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
}

/* Set why to "rootfs: <path>: <what>" for the file at @p path and return @p rc. */
static att_rc scan_fail_at(const struct scan *s, const char *path, size_t path_len, att_rc rc,
                           const char *what)
{
    char p[MSG_PATH_MAX];

    path_msg_of(path, path_len, p, sizeof(p));
    att_set_why(s->why, s->why_len, "rootfs: \"%s\": %s", path_len > 0 ? p : "/", what);
    return rc;
}

/* scan_fail_at for the current path. */
static att_rc scan_fail(const struct scan *s, att_rc rc, const char *what)
{
    return scan_fail_at(s, s->path, s->path_len, rc, what);
}

static att_rc scan_fail_errno(const struct scan *s, att_rc rc, const char *op, int err)
{
    char what[128];

    (void)snprintf(what, sizeof(what), "%s: %s", op, strerror(err));
    return scan_fail(s, rc, what);
}

/* Append "/name" to the path; ATT_ERR_PARSE when max_path would be passed. */
static att_rc path_push(struct scan *s, const char *name)
{
    size_t n = strlen(name);

    if (n + 1 > s->lim->max_path - s->path_len) {
        return scan_fail(s, ATT_ERR_PARSE, "path would exceed the path length cap");
    }
    s->path[s->path_len] = '/';
    memcpy(s->path + s->path_len + 1, name, n + 1);
    s->path_len += n + 1;
    return ATT_OK;
}

static void path_pop(struct scan *s, size_t len)
{
    s->path_len = len;
    s->path[len] = '\0';
}

static att_rc add_skip(struct scan *s, enum rootfs_skip_reason reason)
{
    struct rootfs_result *r = s->res;
    struct rootfs_skip *grown;
    char *p;

    if (r->n_skipped == s->cap_skipped) {
        size_t cap = s->cap_skipped == 0 ? SCAN_INITIAL_CAP : 2 * s->cap_skipped;

        grown = realloc(r->skipped, cap * sizeof(*grown));
        if (grown == NULL) {
            return ATT_ERR_NOMEM;
        }
        r->skipped = grown;
        s->cap_skipped = cap;
    }
    p = strdup(s->path);
    if (p == NULL) {
        return ATT_ERR_NOMEM;
    }
    r->skipped[r->n_skipped].path = p;
    r->skipped[r->n_skipped].reason = reason;
    r->n_skipped++;
    return ATT_OK;
}

/*
 * Account for a measured file of @p size bytes before it is hashed (or taken
 * from the cache): the caps count every measured file alike, so a scan
 * fails or passes the same whether the cache is warm or cold.
 */
static att_rc check_caps(struct scan *s, uint64_t size)
{
    struct rootfs_stats *st = &s->res->stats;
    char what[128];

    if (s->res->n_entries >= s->lim->max_files) {
        (void)snprintf(what, sizeof(what), "more than %zu measured files (max_files)",
                       s->lim->max_files);
        return scan_fail(s, ATT_ERR_PARSE, what);
    }
    if (size > s->lim->max_total_bytes - st->bytes_total) {
        (void)snprintf(what, sizeof(what),
                       "measured files exceed %llu bytes in total (max_total_bytes)",
                       (unsigned long long)s->lim->max_total_bytes);
        return scan_fail(s, ATT_ERR_PARSE, what);
    }
    return ATT_OK;
}

static att_rc add_entry(struct scan *s, enum rootfs_kind kind, bool has_interp, uint64_t size,
                        const uint8_t digest[ATT_SHA256_LEN])
{
    struct rootfs_result *r = s->res;
    struct rootfs_entry *grown;
    struct rootfs_entry *e;
    char *p;

    if (r->n_entries == s->cap_entries) {
        size_t cap = s->cap_entries == 0 ? SCAN_INITIAL_CAP : 2 * s->cap_entries;

        grown = realloc(r->entries, cap * sizeof(*grown));
        if (grown == NULL) {
            return ATT_ERR_NOMEM;
        }
        r->entries = grown;
        s->cap_entries = cap;
    }
    p = strdup(s->path);
    if (p == NULL) {
        return ATT_ERR_NOMEM;
    }
    e = &r->entries[r->n_entries++];
    e->path = p;
    memcpy(e->digest, digest, ATT_SHA256_LEN);
    e->kind = kind;
    e->has_interp = has_interp;
    e->size = size;
    r->stats.bytes_total += size;
    if (kind == ROOTFS_KIND_MALFORMED) {
        r->stats.malformed++;
    }
    return ATT_OK;
}

static bool same_content_stat(const struct stat *a, const struct stat *b)
{
    struct cache_key ka;
    struct cache_key kb;

    key_from_stat(a, &ka);
    key_from_stat(b, &kb);
    return key_eq(&ka, &kb);
}

/*
 * A cache hit: count it and, for a measured kind, check caps and list it.
 * Nothing is opened.
 */
static att_rc use_cached(struct scan *s, const struct cache_node *n, uint64_t size)
{
    att_rc rc;

    s->res->stats.cache_hits++;
    if (n->kind == ROOTFS_KIND_NONE) {
        s->res->stats.not_elf++;
        return ATT_OK;
    }
    if (n->kind == ROOTFS_KIND_OTHER) {
        s->res->stats.elf_other++;
        return ATT_OK;
    }
    if (n->kind == ROOTFS_KIND_MALFORMED && s->lim->reject_malformed) {
        return scan_fail(s, ATT_ERR_PARSE, "malformed ELF (cached verdict)");
    }
    rc = check_caps(s, size);
    if (rc != ATT_OK) {
        return rc;
    }
    return add_entry(s, n->kind, n->has_interp, size, n->digest);
}

/* Whether @p t is older than @p created by more than @p margin_nsec. */
static bool older_than(const struct timespec *t, const struct timespec *created,
                       long long margin_nsec)
{
    int64_t diff;

    if ((int64_t)t->tv_sec > (int64_t)created->tv_sec) {
        return false;
    }
    if ((int64_t)t->tv_sec < (int64_t)created->tv_sec - 1000) {
        return true;
    }
    diff = ((int64_t)created->tv_sec - (int64_t)t->tv_sec) * 1000000000LL +
           ((int64_t)created->tv_nsec - (int64_t)t->tv_nsec);
    return diff > margin_nsec;
}

/*
 * Whether the engine made this file while creating the container, so that
 * it is the image's own content (struct rootfs_origin): its last change is
 * older than the container's creation by more than the margin.
 */
static bool origin_made(const struct scan *s, const struct stat *st)
{
    return older_than(&st->st_ctim, &s->origin->created, ROOTFS_ORIGIN_MARGIN_NSEC);
}

/*
 * The key of the image layer's file this one was copied from (struct
 * rootfs_origin): the same relative path in the layer, reached without
 * following any symlink and without leaving it (openat2 RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS), a regular file of the same size and mtime, and both
 * unchanged since the container was created. False when any of it fails.
 */
static bool manifest_key(struct scan *s, const struct stat *st, struct cache_key *k)
{
    struct open_how how;
    struct stat ls;
    long fd;

    if (s->cache == NULL || s->origin == NULL || s->origin->layer_fd < 0 || s->path_len < 2 ||
        !origin_made(s, st)) {
        return false;
    }
    memset(&how, 0, sizeof(how));
    how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    fd = syscall(SYS_openat2, s->origin->layer_fd, s->path + 1, &how, sizeof(how));
    if (fd < 0) {
        return false;
    }
    if (fstat((int)fd, &ls) != 0 || !S_ISREG(ls.st_mode) || ls.st_size != st->st_size ||
        ls.st_mtim.tv_sec != st->st_mtim.tv_sec || ls.st_mtim.tv_nsec != st->st_mtim.tv_nsec ||
        !older_than(&ls.st_ctim, &s->origin->created, ROOTFS_LAYER_MARGIN_NSEC)) {
        (void)close((int)fd);
        return false;
    }
    (void)close((int)fd);
    key_from_stat(&ls, k);
    return true;
}

/* Remember what an engine-made copy measured as, under its layer file's key. */
static att_rc manifest_note(struct scan *s, const struct stat *st, enum rootfs_kind kind,
                            bool has_interp, const uint8_t *digest)
{
    struct cache_key k;

    if (!manifest_key(s, st, &k)) {
        return ATT_OK;
    }
    return cache_insert(s->cache, &k, kind, has_interp, digest);
}

/* Hash the batch's jobs, taking them one at a time; run by two threads. */
static void hash_jobs(struct hash_batch *b)
{
    size_t i;
    struct stat st2;

    while ((i = atomic_fetch_add(&b->next, 1)) < b->n) {
        struct hash_job *j = &b->jobs[i];

        if (j->is_dup) {
            continue; /* batch_flush copies what its dup_of job got */
        }
        j->rc = att_sha256_fd(j->fd, j->digest);
        if (j->rc == ATT_ERR_IO) {
            /* a file hashed from a mapping fails so when it shrinks meanwhile */
            j->fail = fstat(j->fd, &st2) == 0 && !same_content_stat(&j->st, &st2)
                          ? "changed while being measured"
                          : "read failed while hashing";
            continue;
        }
        if (j->rc != ATT_OK) {
            j->fail = "sha256 failed";
            continue;
        }
        if (fstat(j->fd, &st2) != 0) {
            j->err = errno;
            j->rc = ATT_ERR_IO;
        } else if (!same_content_stat(&j->st, &st2)) {
            j->fail = "changed while being measured";
            j->rc = ATT_ERR_IO;
        }
    }
}

static void *hash_thread(void *arg)
{
    hash_jobs(arg);
    return NULL;
}

/* Close what a batch holds and empty it, hashed or not. */
static void batch_discard(struct hash_batch *b)
{
    size_t i;

    if (b == NULL) {
        return;
    }
    for (i = 0; i < b->n; i++) {
        if (b->jobs[i].fd >= 0) {
            (void)close(b->jobs[i].fd);
            b->jobs[i].fd = -1;
        }
    }
    b->n = 0;
    b->bytes = 0;
}

/*
 * Hash every waiting file, then, in walk order, fill in the entries' digests
 * and the cache. Of the batch's failures, the first in walk order is
 * reported, naming its file (a dup fails with its dup_of job, which comes
 * first). A queued file's hash failure is never reported when a later
 * walk-time failure ends the scan before its batch is flushed (rootfs_scan
 * discards the batch): the scan fails with that failure instead. The batch
 * is empty afterwards either way.
 */
static att_rc batch_flush(struct scan *s)
{
    struct hash_batch *b = s->batch;
    struct rootfs_stats *stats = &s->res->stats;
    att_rc rc = ATT_OK;
    pthread_t helper;
    bool helped = false;
    size_t i;

    if (b->n == 0) {
        return ATT_OK;
    }
    atomic_store(&b->next, 0);
    if (b->n > 1 && b->bytes >= HASH_PARALLEL_MIN) {
        helped = pthread_create(&helper, NULL, hash_thread, b) == 0;
    }
    hash_jobs(b);
    if (helped) {
        (void)pthread_join(helper, NULL);
    }
    for (i = 0; i < b->n && rc == ATT_OK; i++) {
        struct hash_job *j = &b->jobs[i];
        const struct hash_job *h = j->is_dup ? &b->jobs[j->dup_of] : j; /* hashed the file */
        struct rootfs_entry *e = &s->res->entries[j->entry];
        struct cache_key key;

        if (h->rc != ATT_OK) {
            char what[128];

            (void)snprintf(what, sizeof(what), "%s%s", h->fail != NULL ? h->fail : "fstat: ",
                           h->fail != NULL ? "" : strerror(h->err));
            rc = scan_fail_at(s, e->path, strlen(e->path), h->rc, what);
            break;
        }
        memcpy(e->digest, h->digest, ATT_SHA256_LEN);
        if (j->is_dup) {
            continue; /* the walk counted it as a cache hit; h filled the cache */
        }
        stats->hashed++;
        stats->bytes_hashed += (uint64_t)j->st.st_size;
        if (s->cache == NULL) {
            continue; /* and so no mkey either (manifest_key) */
        }
        if (cacheable(s->cache, &j->st, &j->now)) {
            key_from_stat(&j->st, &key);
            rc = cache_insert(s->cache, &key, e->kind, e->has_interp, j->digest);
        }
        if (rc == ATT_OK && j->have_mkey) {
            rc = cache_insert(s->cache, &j->mkey, e->kind, e->has_interp, j->digest);
        }
    }
    batch_discard(b);
    return rc;
}

/* An entry's digest until its batch is hashed. */
static const uint8_t zero_digest[ATT_SHA256_LEN];

/*
 * The job in the batch that a hard link whose lstat is @p lst would find in
 * the cache had the batch been flushed already: the same key, and cacheable
 * (batch_flush will cache it). False when there is none.
 */
static bool find_queued(const struct scan *s, const struct stat *lst, size_t *k)
{
    const struct hash_batch *b = s->batch;
    size_t i;

    for (i = 0; i < b->n; i++) {
        const struct hash_job *j = &b->jobs[i];

        if (!j->is_dup && same_content_stat(&j->st, lst) && cacheable(s->cache, &j->st, &j->now)) {
            *k = i;
            return true;
        }
    }
    return false;
}

/*
 * A cache hit on job @p k of the batch (find_queued), counted and listed as
 * use_cached would, and queued as its dup: batch_flush fills in the digest,
 * so a file with many hard links is hashed once, as without batches.
 * Nothing is opened.
 */
static att_rc use_queued(struct scan *s, size_t k, uint64_t size)
{
    struct hash_batch *b = s->batch;
    const struct rootfs_entry *e = &s->res->entries[b->jobs[k].entry];
    enum rootfs_kind kind = e->kind; /* copied: add_entry may move the entries */
    bool has_interp = e->has_interp;
    struct hash_job *job;
    att_rc rc;

    s->res->stats.cache_hits++;
    rc = check_caps(s, size);
    if (rc != ATT_OK) {
        return rc;
    }
    rc = add_entry(s, kind, has_interp, size, zero_digest);
    if (rc != ATT_OK) {
        return rc;
    }
    job = &b->jobs[b->n];
    memset(job, 0, sizeof(*job));
    job->fd = -1;
    job->entry = s->res->n_entries - 1;
    job->is_dup = true;
    job->dup_of = k;
    b->n++;
    return b->n == HASH_BATCH ? batch_flush(s) : ATT_OK;
}

/*
 * Count a file that is not measured (not ELF, or ET_REL/ET_CORE) and cache
 * that verdict, so a warm scan need not open it again.
 */
static att_rc note_unmeasured(struct scan *s, const struct stat *st, const struct timespec *now,
                              enum rootfs_kind kind)
{
    struct cache_key key;

    if (kind == ROOTFS_KIND_NONE) {
        s->res->stats.not_elf++;
    } else {
        s->res->stats.elf_other++;
    }
    if (manifest_note(s, st, kind, false, NULL) != ATT_OK) {
        return ATT_ERR_NOMEM;
    }
    if (s->cache == NULL || !cacheable(s->cache, st, now)) {
        return ATT_OK;
    }
    key_from_stat(st, &key);
    return cache_insert(s->cache, &key, kind, false, NULL);
}

/*
 * Measure one regular file @p name in @p dfd, whose lstat is @p lst. The
 * open is O_NOFOLLOW|O_NONBLOCK and the fd must be the same inode, still
 * regular; after hashing, fstat must show the same size and timestamps,
 * else the file changed under us and the scan fails. A file to measure is
 * listed here and hashed with its batch (batch_flush); a hard link to a file
 * queued in the batch is not opened but takes its digest (use_queued).
 */
static att_rc scan_file(struct scan *s, int dfd, const char *name, const struct stat *lst)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct rootfs_stats *stats = &s->res->stats;
    struct cache_key key;
    struct cache_node *hit;
    struct timespec now;
    struct stat st;
    struct elf_src src;
    struct rootfs_elf_info info;
    struct hash_job *job;
    size_t k;
    char elf_why[160];
    char what[256];
    int fd = -1;

    stats->regular++;
    if (lst->st_size < 4) {
        stats->not_elf++;
        return ATT_OK; /* too short for the magic; nothing acquired */
    }
    if (s->cache != NULL) {
        key_from_stat(lst, &key);
        hit = cache_lookup(s->cache, &key);
        if (hit != NULL) {
            return use_cached(s, hit, (uint64_t)lst->st_size);
        }
        if (find_queued(s, lst, &k)) {
            return use_queued(s, k, (uint64_t)lst->st_size);
        }
        if (manifest_key(s, lst, &key)) {
            hit = cache_lookup(s->cache, &key);
            if (hit != NULL) {
                s->res->stats.manifest_hits++;
                return use_cached(s, hit, (uint64_t)lst->st_size);
            }
        }
    }
    if (clock_gettime(CLOCK_REALTIME, &now) != 0) {
        rc = scan_fail_errno(s, ATT_ERR_INTERNAL, "clock_gettime", errno);
        goto out;
    }
    fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        rc = scan_fail_errno(s, ATT_ERR_IO, "open", errno);
        goto out;
    }
    if (fstat(fd, &st) != 0) {
        rc = scan_fail_errno(s, ATT_ERR_IO, "fstat", errno);
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_dev != lst->st_dev || st.st_ino != lst->st_ino) {
        rc = scan_fail(s, ATT_ERR_IO, "replaced while being scanned");
        goto out;
    }
    src.mem = NULL;
    src.fd = fd;
    src.size = (uint64_t)st.st_size;
    rc = elf_classify(&src, &info, elf_why, sizeof(elf_why));
    if (rc == ATT_ERR_IO) {
        rc = scan_fail(s, ATT_ERR_IO, "read failed or the file shrank while being read");
        goto out;
    }
    if (rc != ATT_OK) {
        goto out;
    }
    if (info.kind == ROOTFS_KIND_NONE || info.kind == ROOTFS_KIND_OTHER) {
        rc = note_unmeasured(s, &st, &now, info.kind);
        goto out;
    }
    if (info.kind == ROOTFS_KIND_MALFORMED && s->lim->reject_malformed) {
        (void)snprintf(what, sizeof(what), "malformed ELF: %s", elf_why);
        rc = scan_fail(s, ATT_ERR_PARSE, what);
        goto out;
    }
    rc = check_caps(s, (uint64_t)st.st_size);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = add_entry(s, info.kind, info.has_interp, (uint64_t)st.st_size, zero_digest);
    if (rc != ATT_OK) {
        goto out;
    }
    job = &s->batch->jobs[s->batch->n];
    memset(job, 0, sizeof(*job));
    job->fd = fd;
    job->st = st;
    job->now = now;
    job->entry = s->res->n_entries - 1;
    job->have_mkey = manifest_key(s, &st, &job->mkey);
    s->batch->n++;
    s->batch->bytes += (uint64_t)st.st_size;
    fd = -1; /* the batch's now */
    if (s->batch->n == HASH_BATCH) {
        rc = batch_flush(s);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    rc = ATT_OK;
out:
    if (fd >= 0) {
        (void)close(fd);
    }
    return rc;
}

static int name_cmp(const void *a, const void *b)
{
    const char *const *x = a;
    const char *const *y = b;

    return strcmp(*x, *y);
}

static void names_free(char **names, size_t n)
{
    size_t i;

    if (names == NULL) {
        return;
    }
    for (i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
}

/*
 * Read every name of @p d but "." and ".." into a sorted array, so the
 * result order does not depend on the filesystem's hash order. Counts each
 * against max_entries.
 */
static att_rc read_names(struct scan *s, DIR *d, char ***out, size_t *out_n)
{
    att_rc rc = ATT_ERR_INTERNAL;
    char **names = NULL;
    char **grown;
    size_t n = 0;
    size_t cap = 0;
    struct dirent *de;
    char what[96];

    for (;;) {
        errno = 0;
        de = readdir(d);
        if (de == NULL) {
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
            continue;
        }
        if (s->res->stats.entries >= s->lim->max_entries) {
            (void)snprintf(what, sizeof(what), "more than %zu directory entries (max_entries)",
                           s->lim->max_entries);
            rc = scan_fail(s, ATT_ERR_PARSE, what);
            goto out;
        }
        s->res->stats.entries++;
        if (n == cap) {
            cap = cap == 0 ? SCAN_INITIAL_CAP : 2 * cap;
            grown = realloc(names, cap * sizeof(*names));
            if (grown == NULL) {
                rc = ATT_ERR_NOMEM;
                goto out;
            }
            names = grown;
        }
        names[n] = strdup(de->d_name);
        if (names[n] == NULL) {
            rc = ATT_ERR_NOMEM;
            goto out;
        }
        n++;
    }
    if (errno != 0) {
        rc = scan_fail_errno(s, ATT_ERR_IO, "readdir", errno);
        goto out;
    }
    if (n > 1) {
        qsort(names, n, sizeof(*names), name_cmp);
    }
    *out = names;
    *out_n = n;
    names = NULL; /* transferred to the caller */
    rc = ATT_OK;
out:
    names_free(names, n);
    return rc;
}

static att_rc scan_dir(struct scan *s, int dir_fd, size_t depth);

/*
 * One directory entry @p name of @p dfd at @p depth (0 = the rootfs). The
 * current path ends in @p name while this runs.
 */
/* NOLINTNEXTLINE(misc-no-recursion): with scan_dir, at most lim->max_depth levels deep */
static att_rc scan_entry(struct scan *s, int dfd, const char *name, size_t depth)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct stat lst;
    struct stat st;
    int cfd = -1;

    if (fstatat(dfd, name, &lst, AT_SYMLINK_NOFOLLOW) != 0) {
        return scan_fail_errno(s, ATT_ERR_IO, "lstat", errno);
    }
    if (S_ISLNK(lst.st_mode)) {
        s->res->stats.symlinks++;
        return ATT_OK;
    }
    if (S_ISREG(lst.st_mode)) {
        return scan_file(s, dfd, name, &lst);
    }
    if (!S_ISDIR(lst.st_mode)) {
        s->res->stats.special++;
        return ATT_OK;
    }
    s->res->stats.dirs++;
    if (depth == 0 &&
        (strcmp(name, "proc") == 0 || strcmp(name, "sys") == 0 || strcmp(name, "dev") == 0)) {
        return add_skip(s, ROOTFS_SKIP_PSEUDO);
    }
    if ((uint64_t)lst.st_dev != s->root_dev) {
        return add_skip(s, ROOTFS_SKIP_MOUNT);
    }
    if (depth + 1 > s->lim->max_depth) {
        return scan_fail(s, ATT_ERR_PARSE, "directories nested deeper than max_depth");
    }
    cfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (cfd < 0) {
        rc = scan_fail_errno(s, ATT_ERR_IO, "open directory", errno);
        goto out;
    }
    if (fstat(cfd, &st) != 0) {
        rc = scan_fail_errno(s, ATT_ERR_IO, "fstat", errno);
        goto out;
    }
    if (st.st_dev != lst.st_dev || st.st_ino != lst.st_ino) {
        rc = scan_fail(s, ATT_ERR_IO, "replaced while being scanned");
        goto out;
    }
    rc = scan_dir(s, cfd, depth + 1);
    cfd = -1; /* transferred to scan_dir */
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_OK;
out:
    if (cfd >= 0) {
        (void)close(cfd);
    }
    return rc;
}

/*
 * Scan directory @p dir_fd (owned: closed here, success or not) at @p depth.
 * The DIR stays open while the entries are processed so its fd can anchor
 * the openat()/fstatat() calls; each level of nesting holds one fd.
 */
/* NOLINTNEXTLINE(misc-no-recursion): with scan_entry, at most lim->max_depth levels deep */
static att_rc scan_dir(struct scan *s, int dir_fd, size_t depth)
{
    att_rc rc = ATT_ERR_INTERNAL;
    DIR *d = NULL;
    char **names = NULL;
    size_t n = 0;
    size_t i;
    size_t base = s->path_len;

    d = fdopendir(dir_fd);
    if (d == NULL) {
        rc = scan_fail_errno(s, ATT_ERR_IO, "fdopendir", errno);
        (void)close(dir_fd);
        goto out;
    }
    rc = read_names(s, d, &names, &n);
    if (rc != ATT_OK) {
        goto out;
    }
    for (i = 0; i < n; i++) {
        rc = path_push(s, names[i]);
        if (rc != ATT_OK) {
            goto out;
        }
        rc = scan_entry(s, dirfd(d), names[i], depth);
        if (rc != ATT_OK) {
            goto out;
        }
        path_pop(s, base);
    }
    rc = ATT_OK;
out:
    names_free(names, n);
    if (d != NULL) {
        (void)closedir(d);
    }
    return rc;
}

void rootfs_result_free(struct rootfs_result *res)
{
    size_t i;

    if (res == NULL) {
        return;
    }
    for (i = 0; i < res->n_entries; i++) {
        free(res->entries[i].path);
    }
    for (i = 0; i < res->n_skipped; i++) {
        free(res->skipped[i].path);
    }
    free(res->entries);
    free(res->skipped);
    free(res);
}

att_rc rootfs_scan(int root_fd, struct rootfs_cache *cache, const struct rootfs_limits *lim,
                   struct rootfs_result **out, char *why, size_t why_len)
{
    return rootfs_scan_image(root_fd, cache, lim, NULL, out, why, why_len);
}

att_rc rootfs_scan_image(int root_fd, struct rootfs_cache *cache, const struct rootfs_limits *lim,
                         const struct rootfs_origin *origin, struct rootfs_result **out, char *why,
                         size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct rootfs_limits defaults;
    struct scan s;
    struct stat st;
    int fd = -1;

    att_set_why(why, why_len, "%s", "");
    if (out == NULL || root_fd < 0) {
        att_set_why(why, why_len, "rootfs: invalid argument");
        return ATT_ERR_INVALID_ARG;
    }
    if (lim == NULL) {
        rootfs_limits_default(&defaults);
        lim = &defaults;
    }
    if (lim->max_path < 1 || lim->max_path > ROOTFS_DEFAULT_MAX_PATH * 16 || lim->max_depth < 1) {
        att_set_why(why, why_len, "rootfs: invalid limits");
        return ATT_ERR_INVALID_ARG;
    }
    memset(&s, 0, sizeof(s));
    s.lim = lim;
    s.cache = cache;
    s.why = why;
    s.why_len = why_len;
    s.res = calloc(1, sizeof(*s.res));
    s.path = malloc(lim->max_path + 1);
    s.batch = calloc(1, sizeof(*s.batch));
    if (s.res == NULL || s.path == NULL || s.batch == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    s.origin = origin != NULL && cache != NULL && origin->layer_fd >= 0 ? origin : NULL;
    s.path[0] = '\0';
    if (fstat(root_fd, &st) != 0) {
        rc = scan_fail_errno(&s, ATT_ERR_INVALID_ARG, "fstat", errno);
        goto out;
    }
    if (!S_ISDIR(st.st_mode)) {
        rc = scan_fail(&s, ATT_ERR_INVALID_ARG, "not a directory");
        goto out;
    }
    s.root_dev = (uint64_t)st.st_dev;
    /* A fresh fd for fdopendir(): the caller's keeps its offset and stays open. */
    fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        rc = scan_fail_errno(&s, ATT_ERR_IO, "open", errno);
        goto out;
    }
    rc = scan_dir(&s, fd, 0);
    fd = -1; /* transferred to scan_dir */
    if (rc != ATT_OK) {
        goto out;
    }
    rc = batch_flush(&s);
    if (rc != ATT_OK) {
        goto out;
    }
    *out = s.res;
    s.res = NULL; /* transferred to the caller */
    rc = ATT_OK;
out:
    if (rc == ATT_ERR_NOMEM) {
        att_set_why(why, why_len, "rootfs: out of memory");
    }
    if (fd >= 0) {
        (void)close(fd);
    }
    batch_discard(s.batch);
    free(s.batch);
    rootfs_result_free(s.res);
    free(s.path);
    return rc;
}

att_rc rootfs_scan_path(const char *path, struct rootfs_cache *cache,
                        const struct rootfs_limits *lim, struct rootfs_result **out, char *why,
                        size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct stat st;
    int fd;
    int err;

    if (path == NULL || out == NULL) {
        att_set_why(why, why_len, "rootfs: invalid argument");
        return ATT_ERR_INVALID_ARG;
    }
    fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        err = errno;
        /* O_DIRECTORY|O_NOFOLLOW on a symlink fails with ENOTDIR or ELOOP */
        att_set_why(why, why_len, "rootfs: cannot open the rootfs directory: %s",
                    (err == ELOOP || err == ENOTDIR) && lstat(path, &st) == 0 && S_ISLNK(st.st_mode)
                        ? "it is a symlink"
                        : strerror(err));
        return err == ENOENT ? ATT_ERR_NOT_FOUND : ATT_ERR_IO;
    }
    rc = rootfs_scan(fd, cache, lim, out, why, why_len);
    (void)close(fd);
    return rc;
}
