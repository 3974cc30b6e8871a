/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pre-start measurement of a container root filesystem (DESIGN §4 item 1):
 * walk the rootfs about to run, find every regular file that starts with the
 * ELF magic, classify it (executable, shared library, other) from its ELF
 * header and program headers (System V gABI, "ELF Header" and "Program
 * Header"; 32/64-bit, either byte order) and sha256 the measured ones.
 * It does not log, extend or appraise: the caller turns the result into log
 * entries. Scripts and other non-ELF files are not measured.
 */
#ifndef ATT_AGENT_ROOTFS_H
#define ATT_AGENT_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "attest/digest.h"
#include "attest/rc.h"

/*
 * What a file is. Only EXEC, SHLIB and MALFORMED files are measured (hashed
 * and listed in a result).
 *   EXEC       ET_EXEC; or ET_DYN with DF_1_PIE (PIE, static-pie); or ET_DYN
 *              with PT_INTERP and no DT_SONAME (a PIE from a linker that
 *              predates DF_1_PIE).
 *   SHLIB      any other ET_DYN. This includes libraries the kernel can also
 *              run, such as glibc's libc.so.6 (PT_INTERP and DT_SONAME);
 *              has_interp tells them apart.
 *   OTHER      ET_REL or ET_CORE: neither execve() nor ld.so loads them, so
 *              they are counted but not hashed.
 *   MALFORMED  ELF magic, but a header, program header table, PT_INTERP or
 *              PT_DYNAMIC this parser refuses. The parser is stricter than
 *              the kernel, so such a file may still run: it is measured, and
 *              rootfs_limits.reject_malformed can make it fail the scan.
 */
enum rootfs_kind {
    ROOTFS_KIND_NONE = 0, /* not ELF; never in a result */
    ROOTFS_KIND_EXEC,
    ROOTFS_KIND_SHLIB,
    ROOTFS_KIND_OTHER,
    ROOTFS_KIND_MALFORMED,
};

/** Static name ("exec", "shlib", "other", "malformed", "none"); never NULL. */
const char *rootfs_kind_str(enum rootfs_kind kind);

/* What the ELF parser found; fields past kind are 0/false when not reached. */
struct rootfs_elf_info {
    enum rootfs_kind kind;
    uint8_t elf_class;  /* ELFCLASS32 (1) or ELFCLASS64 (2) */
    uint8_t elf_data;   /* ELFDATA2LSB (1) or ELFDATA2MSB (2) */
    uint16_t e_type;    /* ET_* */
    uint16_t e_machine; /* EM_*; not checked against the host */
    bool has_interp;    /* PT_INTERP present */
    bool has_pie_flag;  /* DT_FLAGS_1 has DF_1_PIE */
    bool has_soname;    /* DT_SONAME present */
};

/*
 * Hard bounds the parser applies, as the kernel's binfmt_elf does: the program
 * header table is at most 64 KiB and its entries have the native size.
 */
#define ROOTFS_ELF_MAX_PHTAB   65536u
#define ROOTFS_ELF_MAX_DYNAMIC 65536u /* bytes of PT_DYNAMIC examined */

/**
 * Classify an ELF image held in memory (@p file is the whole file).
 *
 * Never fails on content: a file without the ELF magic (or shorter than 4
 * bytes) is ROOTFS_KIND_NONE, a damaged one ROOTFS_KIND_MALFORMED with the
 * reason in @p why. All offsets are bounds-checked against @p len.
 * @param[in]  file  borrowed; may be NULL only when @p len is 0
 * @param[out] out   written on ATT_OK
 * @param[out] why   optional; the reason for MALFORMED, else ""
 * @retval ATT_OK @retval ATT_ERR_INVALID_ARG @retval ATT_ERR_NOMEM
 */
att_rc rootfs_elf_classify_mem(const uint8_t *file, size_t len, struct rootfs_elf_info *out,
                               char *why, size_t why_len);

/*
 * Cache of earlier results, so that repeated starts of the same image do not
 * re-hash unchanged files. Not thread-safe; one owner.
 *
 * The key is (st_dev, st_ino, st_size, st_mtim, st_ctim) from lstat, and the
 * value the kind and digest (non-ELF verdicts are cached too, so a warm scan
 * opens nothing). Threat note: changing a file's content in place (write,
 * truncate, a new file renamed over it) or its mode sets its ctime to the
 * current time; user space can set mtime (utimensat) but never ctime, short
 * of changing the system clock. So a file whose key is unchanged has not been
 * written since it was hashed, with two caveats this cache handles or
 * accepts:
 *  - timestamps are coarse (a clock tick; a second on some filesystems): a
 *    write in the same tick as the last change leaves ctime as it was. Like
 *    git's "racy" check, an entry whose ctime is not older than the racy
 *    margin (default 2 s) before hashing began is never cached.
 *  - whoever is root on the host can move the clock, write the block device
 *    or patch this process: no user-space cache stands against that. The TPM
 *    log is the ground truth, and the runtime sweep (/proc/PID/maps) checks
 *    what actually runs.
 * Bounded: when full, the least recently used entry is evicted.
 */
struct rootfs_cache;

#define ROOTFS_CACHE_DEFAULT_MAX       131072u /* about 16 MiB */
#define ROOTFS_CACHE_DEFAULT_RACY_NSEC 2000000000ll

/**
 * @param[in] max_entries  bound (> 0)
 * @return Owned, free with rootfs_cache_free(); NULL when out of memory or max_entries is 0.
 */
struct rootfs_cache *rootfs_cache_new(size_t max_entries);
/** Free the cache and every entry; NULL is a no-op. */
void rootfs_cache_free(struct rootfs_cache *cache);
/** Entries held now (<= max_entries); 0 for NULL. */
size_t rootfs_cache_count(const struct rootfs_cache *cache);
/** Drop every entry, keep the cache; NULL is a no-op. */
void rootfs_cache_clear(struct rootfs_cache *cache);
/**
 * Set the racy margin (ns, >= 0). 0 caches every entry and is meant for tests
 * on files created a moment ago; production keeps the default.
 */
void rootfs_cache_set_racy_nsec(struct rootfs_cache *cache, long long nsec);

/* Caps; exceeding one fails the whole scan (never a partial result). */
struct rootfs_limits {
    size_t max_files;         /* measured entries in the result */
    size_t max_entries;       /* directory entries visited, of any type */
    uint64_t max_total_bytes; /* sum of sizes of measured files (cached or not) */
    size_t max_path;          /* bytes of a result path, leading '/' included */
    size_t max_depth;         /* directory nesting; each level holds one fd */
    bool reject_malformed;    /* a MALFORMED file fails the scan */
};

#define ROOTFS_DEFAULT_MAX_FILES   100000u
#define ROOTFS_DEFAULT_MAX_ENTRIES 2000000u
#define ROOTFS_DEFAULT_MAX_BYTES   (16ull * 1024u * 1024u * 1024u)
#define ROOTFS_DEFAULT_MAX_PATH    4095u
#define ROOTFS_DEFAULT_MAX_DEPTH   128u

/** Fill @p lim with the ROOTFS_DEFAULT_* values, reject_malformed false. */
void rootfs_limits_default(struct rootfs_limits *lim);

struct rootfs_entry {
    char *path; /* owned; relative to the rootfs with a leading '/'. Raw bytes:
                 * may hold any byte but NUL, including newlines */
    uint8_t digest[ATT_SHA256_LEN];
    enum rootfs_kind kind; /* EXEC, SHLIB or MALFORMED */
    bool has_interp;
    uint64_t size;
};

/*
 * Directories not descended into, always listed so nothing is left out
 * silently: top-level proc, sys and dev (a runtime mounts proc, sysfs and a
 * tmpfs over them, hiding whatever the image put there), and mount points of
 * another filesystem (st_dev differs from the rootfs directory's). A
 * container rootfs (overlay, vfs, a plain directory) is one filesystem;
 * crossing into another would measure the host, not the image.
 */
enum rootfs_skip_reason {
    ROOTFS_SKIP_PSEUDO = 1,
    ROOTFS_SKIP_MOUNT,
};

struct rootfs_skip {
    char *path; /* owned, leading '/' */
    enum rootfs_skip_reason reason;
};

struct rootfs_stats {
    size_t entries; /* directory entries visited */
    size_t dirs;
    size_t regular;
    size_t symlinks;       /* never followed */
    size_t special;        /* fifos, sockets, devices: never opened */
    size_t not_elf;        /* regular files without the ELF magic */
    size_t elf_other;      /* ROOTFS_KIND_OTHER */
    size_t malformed;      /* ROOTFS_KIND_MALFORMED (measured) */
    size_t hashed;         /* files read and hashed by this scan */
    size_t cache_hits;     /* files answered by the cache without opening */
    size_t manifest_hits;  /* of which by the image layer's file (struct rootfs_origin) */
    uint64_t bytes_hashed; /* bytes read for hashing by this scan */
    uint64_t bytes_total;  /* sum of sizes of measured files */
};

struct rootfs_result {
    struct rootfs_entry *entries; /* owned; pre-order, names sorted bytewise per directory */
    size_t n_entries;
    struct rootfs_skip *skipped; /* owned */
    size_t n_skipped;
    struct rootfs_stats stats;
};

/**
 * Measure every ELF executable and shared library under a rootfs.
 *
 * Walks with openat()/fdopendir() relative to @p root_fd; symlinks are never
 * followed (fstatat AT_SYMLINK_NOFOLLOW, O_NOFOLLOW, and each opened object
 * is checked to be the inode that was stat'ed). Regular files are opened
 * O_NONBLOCK, so a fifo swapped in cannot block the scan. A file that
 * changes while it is hashed fails the scan. Order is deterministic.
 * @param[in]     root_fd  borrowed directory fd; not closed, offset untouched
 * @param[in,out] cache    optional (NULL: hash everything); read and updated
 * @param[in]     lim      optional (NULL: rootfs_limits_default())
 * @param[out]    out      on ATT_OK only; free with rootfs_result_free()
 * @param[out]    why      optional; on failure names the cap or the path
 * @retval ATT_OK
 * @retval ATT_ERR_INVALID_ARG  NULL @p out, bad fd or limits
 * @retval ATT_ERR_PARSE        a cap was exceeded, or a MALFORMED file with reject_malformed
 * @retval ATT_ERR_IO           a file could not be read or changed during the scan
 * @retval ATT_ERR_NOMEM @retval ATT_ERR_CRYPTO
 */
att_rc rootfs_scan(int root_fd, struct rootfs_cache *cache, const struct rootfs_limits *lim,
                   struct rootfs_result **out, char *why, size_t why_len);

/*
 * Where a container's rootfs came from, for copy-per-container storage
 * drivers (vfs: every container gets fresh copies, so no inode key above
 * ever hits across containers of one image). With an origin, a file the
 * engine copied while creating the container (its ctime before @c created:
 * containers/storage stamps "created" after the copy, 2-11 ms after it for a
 * 3 MB image here) is looked up under the key of the layer file it was
 * copied from: the same relative path in the image's top layer directory
 * (@c layer_fd), reached with no symlink followed, a regular file of the
 * same size and mtime, itself unchanged since before @c created (by more
 * than ROOTFS_LAYER_MARGIN_NSEC). Its digest
 * was recorded when an earlier copy of that very layer file was hashed.
 *
 * Threat note. The chain is: this copy is unchanged since creation (ctime,
 * which user space cannot set back), it was made from the layer file, and
 * the layer file is unchanged since (its own ctime is in the key). So an
 * edit of the image store (even one that keeps size and mtime) changes the
 * layer file's key and is hashed again; a write into the container after
 * creation (podman cp, the container itself) changes the copy's ctime and is
 * hashed again. On a kernel with coarse timestamps a write within one timer
 * tick of "created" could carry an earlier ctime; the files and the
 * metadata holding "created" are writable only by root, who can as well
 * rewrite that metadata or step the clock back (a backwards step also makes
 * later writes look older). That is the inode cache's limit too, with the
 * same answer: the TPM log, and the runtime sweep of what actually runs.
 */
struct rootfs_origin {
    int layer_fd;            /* borrowed dir fd of the image's top layer (a full tree), or -1 */
    struct timespec created; /* CLOCK_REALTIME, when the engine created the container */
};

#define ROOTFS_ORIGIN_MARGIN_NSEC 0ll /* ctime strictly before "created"; see the threat note */
/*
 * The layer file itself must be older than "created" by more than a timer
 * tick (4 ms at HZ=250, 10 ms at HZ=100): file times come from the coarse
 * clock, so an edit of the layer just after creation can carry a ctime
 * before it, and the copy's digest would then be filed under the edited
 * file's key. Layers are written at pull time, long before; one pulled
 * within this margin of the container's creation is simply hashed.
 */
#define ROOTFS_LAYER_MARGIN_NSEC 20000000ll

/**
 * rootfs_scan() with an origin: as above, plus lookups and updates under the
 * layer files' keys for engine-made copies (NULL @p origin or @p cache:
 * plain rootfs_scan()).
 */
att_rc rootfs_scan_image(int root_fd, struct rootfs_cache *cache, const struct rootfs_limits *lim,
                         const struct rootfs_origin *origin, struct rootfs_result **out,
                         char *why, size_t why_len);

/**
 * rootfs_scan() on a directory path, opened O_DIRECTORY|O_NOFOLLOW (the last
 * component must not be a symlink).
 * @retval as rootfs_scan(), plus ATT_ERR_NOT_FOUND
 */
att_rc rootfs_scan_path(const char *path, struct rootfs_cache *cache,
                        const struct rootfs_limits *lim, struct rootfs_result **out, char *why,
                        size_t why_len);

/** Free a result with its entries and paths; NULL is a no-op. */
void rootfs_result_free(struct rootfs_result *res);

#endif
