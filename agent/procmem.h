/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runtime integrity of one live process (DESIGN §4 item 2; authority:
 * shared/notes/measurement-facts.md §4). It reads /proc/PID/maps, measures
 * every file that has an executable mapping (sha256 of the whole file, cached
 * by inode state), compares the mapped code and read-only data in
 * /proc/PID/mem with the file bytes at the mapping's offset (page by page,
 * clamped to EOF), baselines the PT_GNU_RELRO pages the loader relocated, and
 * names anonymous, W+X, memfd and deleted executable memory. Formats: proc(5)
 * "/proc/pid/maps" and "/proc/pid/mem"; ELF gABI program headers and dynamic
 * section (PT_LOAD, PT_DYNAMIC, PT_GNU_RELRO, DT_TEXTREL, DF_TEXTREL).
 *
 * It does NOT: write to the log or extend the PCR (the caller logs each
 * (container, path, digest) once), decide policy (JIT allowed? breakpoints
 * acceptable?), keep RELRO baselines across calls (the caller compares them),
 * measure .data/.bss/heap/stack (not comparable with disk, §4.3 (c)), or check
 * [vdso]/[vsyscall] (kernel-provided, no file). It never stops or ptraces the
 * target: reads are not atomic with respect to its threads.
 *
 * Memory: procmem_maps owns its mapping array and the path arena;
 * procmem_report owns every string and array in it; procmem_cache owns its
 * entries. Nothing here is thread-safe: one sweeper owns one cache.
 * Needs root with CAP_SYS_PTRACE (mem, PTRACE_MODE_ATTACH_FSCREDS) and
 * CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE (map_files), and no Yama
 * ptrace_scope=3.
 */
#ifndef ATT_AGENT_PROCMEM_H
#define ATT_AGENT_PROCMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "attest/digest.h"
#include "attest/rc.h"

/* ---- /proc/PID/maps ----------------------------------------------------- */

/* Just above the kernel's default vm.max_map_count (65530). */
#define PROCMEM_MAX_MAPPINGS 65536u
/* Longest path accepted in a maps line, " (deleted)" included. */
#define PROCMEM_MAX_PATH 4096u

enum procmem_map_kind {
    PROCMEM_MAP_ANON = 0, /* no file: "", "[anon:NAME]", shared anon ("/dev/zero (deleted)",
                             "/SYSV... (deleted)", "[anon_shmem:NAME]") */
    PROCMEM_MAP_FILE,     /* a regular file: absolute path, inode != 0 */
    PROCMEM_MAP_PSEUDO,   /* kernel-named: [heap] [stack] [vdso] [vvar] [vsyscall] and other
                             "[...]" or "anon_inode:..." names (e.g. [uprobes]) */
    PROCMEM_MAP_MEMFD,    /* "/memfd:NAME (deleted)": fileless code when executable */
};

enum procmem_pseudo {
    PROCMEM_PSEUDO_NONE = 0,
    PROCMEM_PSEUDO_HEAP,
    PROCMEM_PSEUDO_STACK,
    PROCMEM_PSEUDO_VDSO,
    PROCMEM_PSEUDO_VVAR,
    PROCMEM_PSEUDO_VSYSCALL,
    PROCMEM_PSEUDO_OTHER,
};

/* One line of /proc/PID/maps. */
struct procmem_mapping {
    uint64_t start;  /* first byte */
    uint64_t end;    /* one past the last byte; start < end, both 4 KiB aligned */
    uint64_t offset; /* file offset of start (0 when there is no file) */
    uint32_t dev_major;
    uint32_t dev_minor;
    uint64_t inode;
    bool is_read;
    bool is_write;
    bool is_exec;
    bool is_shared;  /* 's' rather than 'p' */
    bool is_deleted; /* the path carried the " (deleted)" suffix, now removed */
    enum procmem_map_kind kind;
    enum procmem_pseudo pseudo;
    /*
     * Borrowed from the owning procmem_maps; NUL-terminated; "" when the line
     * has none. Printed by the kernel relative to the reader's root (for a
     * container process: its path inside the container's mount namespace),
     * with a newline escaped as "\012". May contain spaces.
     */
    const char *path;
};

struct procmem_maps {
    struct procmem_mapping *mappings; /* owned; ascending, non-overlapping */
    size_t count;
    char *strings; /* owned arena that every mapping's path points into */
};

void procmem_maps_init(struct procmem_maps *m);
/** Frees what @p m owns and re-initialises it; NULL is a no-op. */
void procmem_maps_cleanup(struct procmem_maps *m);

/**
 * Parse the text of /proc/PID/maps, bounded.
 *
 * Every line must be "START-END PERMS OFFSET MAJ:MIN INODE[ PATH]\n" exactly as
 * proc(5) prints it: lower-case hex addresses, offset and device, decimal inode,
 * 4 KiB-aligned START < END, ascending and non-overlapping, a final newline.
 * Empty text is valid (a kernel thread or a zombie has no mappings).
 *
 * @param[in]  text          Borrowed; need not be NUL-terminated; a NUL byte is an error.
 * @param[in]  len           Bytes in @p text.
 * @param[in]  max_mappings  Cap on lines (0 means PROCMEM_MAX_MAPPINGS).
 * @param[out] out           Caller storage, initialised by the callee; on success owns
 *                           the result (procmem_maps_cleanup()); on failure left empty.
 * @param[out] why           Optional; on failure "line N: reason".
 * @retval ATT_OK
 * @retval ATT_ERR_INVALID_ARG  NULL @p out, or NULL @p text with @p len > 0
 * @retval ATT_ERR_PARSE        malformed, truncated, unordered, too many lines, path too long
 * @retval ATT_ERR_NOMEM
 */
att_rc procmem_maps_parse(const char *text, size_t len, size_t max_mappings,
                          struct procmem_maps *out, char *why, size_t why_len);

/* ---- ELF facts the inspection needs -------------------------------------- */

#define PROCMEM_ELF_MAX_PHDRS 512u  /* program headers read */
#define PROCMEM_ELF_MAX_LOADS 32u   /* PT_LOAD segments kept */
#define PROCMEM_ELF_MAX_DYN   8192u /* dynamic entries scanned */

struct procmem_elf_load {
    uint64_t vaddr;
    uint64_t offset;
    uint64_t filesz;
    uint64_t memsz;
    bool is_exec; /* PF_X */
};

/* What procmem takes from an ELF file (either class, either byte order). */
struct procmem_elf {
    bool has_textrel; /* DT_TEXTREL, or DF_TEXTREL in DT_FLAGS */
    bool has_relro;   /* a PT_GNU_RELRO header */
    uint64_t relro_vaddr;
    uint64_t relro_memsz;
    size_t n_loads;
    struct procmem_elf_load loads[PROCMEM_ELF_MAX_LOADS];
};

/**
 * Parse the program headers and the dynamic section of an ELF image held in
 * memory (unit tests and fuzzing; the inspection reads files with pread()
 * through the same code). Only ET_EXEC and ET_DYN are accepted.
 *
 * @param[in]  data  Borrowed; the whole file.
 * @param[out] out   Caller storage; written only on success.
 * @param[out] why   Optional; the reason on failure.
 * @retval ATT_OK
 * @retval ATT_ERR_INVALID_ARG  NULL @p out, or NULL @p data with @p len > 0
 * @retval ATT_ERR_PARSE        not ELF, bad class/order/type, headers outside the file,
 *                              more than the caps above, duplicate PT_GNU_RELRO
 */
att_rc procmem_elf_parse(const uint8_t *data, size_t len, struct procmem_elf *out, char *why,
                         size_t why_len);

/* ---- limits and the file cache ------------------------------------------- */

#define PROCMEM_DEF_MAX_MAPS_BYTES    ((size_t)32 * 1024 * 1024)
#define PROCMEM_DEF_MAX_FILE_SIZE     ((uint64_t)256 * 1024 * 1024)
#define PROCMEM_DEF_MAX_COMPARE_BYTES ((uint64_t)1024 * 1024 * 1024)
#define PROCMEM_DEF_MAX_HASH_BYTES    ((uint64_t)1024 * 1024 * 1024)
#define PROCMEM_DEF_MAX_FINDINGS      256u
#define PROCMEM_DEF_MAX_CACHE_ENTRIES 4096u

/* Bounds on the work and memory of one procmem_inspect(); fixed per cache. */
struct procmem_limits {
    size_t max_mappings;        /* maps lines; more is ATT_ERR_PARSE */
    size_t max_maps_bytes;      /* maps text; more is ATT_ERR_PARSE */
    uint64_t max_file_size;     /* larger files are not hashed: an UNVERIFIED finding */
    uint64_t max_compare_bytes; /* memory compared per process; the rest is UNVERIFIED */
    uint64_t max_hash_bytes;    /* file bytes hashed per process (cache misses); files past
                                   it get no digest this time (UNVERIFIED, not cached) */
    size_t max_findings;        /* more sets is_truncated */
    size_t max_cache_entries;   /* least recently used entries are evicted */
};

/** Fill @p l with the PROCMEM_DEF_* values and PROCMEM_MAX_MAPPINGS. */
void procmem_limits_default(struct procmem_limits *l);

/*
 * Digest and ELF facts per file, keyed by (st_dev, st_ino) and valid while
 * (size, mtime ns, ctime ns) are unchanged.
 *
 * Threat note. A rewrite of the same inode (write(2), truncate, mmap
 * MAP_SHARED) updates ctime, which no system call sets directly (utimensat
 * cannot; only a clock change could), so the key changes and the file is
 * hashed again. Such a rewrite also shows through in running processes (their
 * untouched private pages are the page cache), so memory still equals the file
 * and it is the new digest that exposes it. A rename over the path makes a new
 * inode, and the old mapping then shows " (deleted)". Timestamps are as coarse
 * as the kernel's clock tick, so two writes inside one tick could keep ctime
 * unchanged: as git does for "racily clean" index entries, a file whose ctime
 * is less than 2 s before its hash began is never cached. A file that changes
 * while it is hashed (fstat before and after differ) is reported UNVERIFIED.
 * What the cache cannot see is a filesystem that lies about ctime (a FUSE or
 * network mount under attacker control): measure such files with IMA instead.
 */
struct procmem_cache;

/**
 * @param[in]  limits  Borrowed, copied; NULL means procmem_limits_default().
 * @param[out] out     Callee-allocated; free with procmem_cache_free(). Written on success.
 * @retval ATT_OK @retval ATT_ERR_INVALID_ARG @retval ATT_ERR_NOMEM
 */
att_rc procmem_cache_new(const struct procmem_limits *limits, struct procmem_cache **out);
void procmem_cache_free(struct procmem_cache *c);
/** Entries currently held. */
size_t procmem_cache_count(const struct procmem_cache *c);

/* ---- the report ------------------------------------------------------------ */

enum procmem_finding_kind {
    PROCMEM_FINDING_CODE_MODIFIED = 1, /* executable mapping differs from its file */
    PROCMEM_FINDING_RODATA_MODIFIED,   /* r--p mapping outside RELRO differs from its file */
    PROCMEM_FINDING_ANON_EXEC,         /* executable memory with no file (JIT, shellcode,
                                          [uprobes], anon_inode:...) */
    PROCMEM_FINDING_WX,                /* writable and executable at once */
    PROCMEM_FINDING_MEMFD_EXEC,        /* executable memfd (fileless execution) */
    PROCMEM_FINDING_DELETED_EXEC,      /* executable file that was unlinked or replaced */
    PROCMEM_FINDING_UNVERIFIED,        /* could not be checked: detail says why */
};

/*
 * A known false friend recognised at a CODE_MODIFIED finding. The finding is
 * still reported: policy decides whether the explanation is acceptable.
 */
enum procmem_hint {
    PROCMEM_HINT_NONE = 0,
    PROCMEM_HINT_BREAKPOINT, /* every differing byte is int3 (0xCC): debugger or uprobe */
    PROCMEM_HINT_TEXTREL,    /* the object has DT_TEXTREL: the loader patched its code */
    PROCMEM_HINT_UPROBES,    /* the kernel's [uprobes] out-of-line execution area */
};

#define PROCMEM_DETAIL_LEN 192

struct procmem_finding {
    enum procmem_finding_kind kind;
    enum procmem_hint hint;
    char *path;       /* owned; as in maps without " (deleted)"; NULL for unnamed anon */
    uint64_t address; /* first differing byte, else the mapping's start */
    uint64_t end;     /* the mapping's end */
    uint64_t offset;  /* file offset of address (file-backed mappings), else 0 */
    uint64_t n_diff;  /* differing bytes in the mapping (the *_MODIFIED kinds) */
    char detail[PROCMEM_DETAIL_LEN]; /* NUL-terminated text for the operator */
};

/* One file with an executable mapping, listed once per (dev, inode). */
struct procmem_file {
    char *path; /* owned; as in maps without " (deleted)" */
    uint32_t dev_major;
    uint32_t dev_minor;
    uint64_t inode;
    uint64_t size;
    uint8_t digest[ATT_SHA256_LEN]; /* sha256 of the whole file when has_digest */
    bool has_digest; /* false: not hashed (too large, unreadable, changing): see findings */
    bool is_main_binary;
    bool is_deleted;
    bool is_memfd;
};

/* One read-only-after-relocation range (PT_GNU_RELRO pages that are r--p now). */
struct procmem_relro {
    char *path; /* owned */
    uint64_t start;
    uint64_t end;
    uint8_t digest[ATT_SHA256_LEN]; /* sha256 of the in-memory bytes [start, end) */
};

struct procmem_report {
    pid_t pid;
    uint64_t start_time;        /* /proc/PID/stat field 22: with pid, names this process */
    bool is_gone;               /* exited or exec'd during inspection: the report is partial */
    bool is_truncated;          /* more findings than max_findings; the rest were dropped */
    struct procmem_file *files; /* owned, n_files */
    size_t n_files;
    struct procmem_finding *findings; /* owned, n_findings, in address order per check */
    size_t n_findings;
    struct procmem_relro *relro; /* owned, n_relro, ascending by start */
    size_t n_relro;
    /*
     * sha256 over (start, end, digest) of every RELRO range, in address order
     * (big-endian u64 start, u64 end, 32-byte digest each). The per-process
     * "dynamic baseline": the caller stores it for (pid, start_time) once the
     * process has started and reports any later change as tampering. A range
     * not yet r--p (relocation still running) is not included.
     */
    uint8_t relro_baseline[ATT_SHA256_LEN];
    /* statistics */
    size_t n_mappings;
    size_t n_exec_mappings;
    uint64_t bytes_compared;
    uint64_t bytes_skipped; /* PROCMEM_INCREMENTAL: bytes whose pages the process shares
                               with the file (not compared) */
    uint64_t bytes_hashed;
    size_t files_hashed;
    size_t cache_hits;
};

/**
 * Inspect one process.
 *
 * For every executable mapping: a file-backed one (also memfd or deleted) is
 * opened as exactly the mapped file through /proc/PID/map_files/START-END
 * (fallback /proc/PID/root/PATH), its (dev, inode) checked against the maps
 * line, hashed (cache), listed in files, and its bytes in memory compared with
 * the file's; the r--p mappings of the same file are compared too, except the
 * PT_GNU_RELRO pages, which are hashed into relro instead. Anonymous,
 * W+X, memfd and deleted executable mappings are findings. Anything that could
 * not be checked is an UNVERIFIED finding, never a silent pass.
 *
 * A process that exits (or execs) at any point yields ATT_OK with is_gone set
 * and whatever was established before; a pid that does not exist yields an
 * empty report with is_gone set. Work is bounded by the cache's limits.
 * Fail closed: on any other return the caller must treat the process as not
 * verified (and say so), never as clean.
 *
 * @param[in]     pid    The process (a thread-group leader, or any thread id).
 * @param[in,out] cache  Borrowed; the file-digest cache, updated.
 * @param[out]    out    Callee-allocated; free with procmem_report_free(). Written on ATT_OK.
 * @retval ATT_OK
 * @retval ATT_ERR_INVALID_ARG  pid <= 0, NULL cache or out
 * @retval ATT_ERR_PARSE        maps text rejected (after retries) or over the caps
 * @retval ATT_ERR_IO           a live process's maps or mem cannot be opened (privileges)
 * @retval ATT_ERR_CRYPTO       sha256 failed to run
 * @retval ATT_ERR_NOMEM
 */
att_rc procmem_inspect(pid_t pid, struct procmem_cache *cache, struct procmem_report **out);

/*
 * Incremental sweep: code and read-only data pages that are still the
 * file's own page-cache pages (or were never loaded) are not compared; only
 * pages the process holds a private copy of (written through ptrace or
 * /proc/PID/mem, or relocated) are, so the cost follows what changed, not
 * the mapped size. Meant for re-inspections; a process's first inspection
 * compares everything. Needs /proc/PID/pagemap (falls back to full compares).
 */
#define PROCMEM_INCREMENTAL 1u

/** procmem_inspect() with @p flags (0 or PROCMEM_INCREMENTAL). */
att_rc procmem_inspect_ex(pid_t pid, struct procmem_cache *cache, unsigned flags,
                          struct procmem_report **out);

void procmem_report_free(struct procmem_report *r);

/** Static lower-case name, e.g. "code_modified"; never NULL. */
const char *procmem_finding_kind_str(enum procmem_finding_kind kind);
/** Static name, e.g. "breakpoint/uprobe", "text relocations"; "" for none. */
const char *procmem_hint_str(enum procmem_hint hint);

#endif
