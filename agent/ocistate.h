/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What an OCI hook learns about the container it runs for: the runtime state
 * JSON on stdin (OCI runtime-spec runtime.md "State") and the parts of the
 * bundle's config.json (config.md, config-linux.md) that matter for
 * measurement and policy: the rootfs, the entry point, privileges and
 * namespaces. It only parses and opens; it does not measure or decide.
 * Parsing is strict where a mistake would measure the wrong thing (types,
 * duplicate keys, keys that differ from ours only in case, which Go's
 * encoding/json in runc would read) and lenient about members it does not use.
 */
#ifndef ATT_AGENT_OCISTATE_H
#define ATT_AGENT_OCISTATE_H

#include <stdbool.h>
#include <stddef.h>

#include "attest/rc.h"

#define OCISTATE_MAX_JSON        (1024u * 1024u)      /* state on stdin */
#define OCISTATE_CONFIG_MAX_JSON (4u * 1024u * 1024u) /* config.json */
#define OCISTATE_ID_MAX          128u                 /* [A-Za-z0-9_.-]{1,128}, not . or .. */
#define OCISTATE_PID_MAX         4194304              /* the kernel's PID_MAX_LIMIT */
#define OCISTATE_TEXT_MAX        4096u                /* paths, labels, profiles */
#define OCISTATE_NAME_MAX        64u                  /* ociVersion, capability names */
#define OCISTATE_MAX_CAPS        256u                 /* entries per capability list */

enum ocistate_status {
    OCISTATE_CREATING = 0,
    OCISTATE_CREATED,
    OCISTATE_RUNNING,
    OCISTATE_STOPPED,
};

/** "creating", "created", "running", "stopped"; never NULL. */
const char *ocistate_status_str(enum ocistate_status status);

struct ocistate_annotation {
    char *key;   /* owned */
    char *value; /* owned */
};

/* The runtime state (runtime-spec "State"). */
struct ocistate {
    char *oci_version; /* owned; major version 1 */
    char *id;          /* owned; [A-Za-z0-9_.-]{1,128}, never "." or ".." */
    enum ocistate_status status;
    bool has_pid;                            /* required when created or running */
    int pid;                                 /* 1..OCISTATE_PID_MAX when has_pid */
    char *bundle;                            /* owned; absolute path */
    struct ocistate_annotation *annotations; /* owned; sorted by key */
    size_t n_annotations;
};

/**
 * Parse the state JSON a hook reads on stdin, for example podman's
 * {"ociVersion":"1.0.2-dev","id":"...","status":"creating","pid":1234,
 *  "bundle":"/...","annotations":{...}}.
 *
 * Members the spec may add later are ignored; duplicate keys, trailing bytes,
 * wrong types and missing required members are errors naming the member.
 * @param[in]  json  borrowed; @p len bytes, need not be NUL-terminated
 * @param[out] out   on ATT_OK only; free with ocistate_free()
 * @param[out] why   optional; "oci state: ..." naming the member at fault
 * @retval ATT_OK @retval ATT_ERR_INVALID_ARG @retval ATT_ERR_PARSE @retval ATT_ERR_NOMEM
 */
att_rc ocistate_parse(const char *json, size_t len, struct ocistate **out, char *why,
                      size_t why_len);

/**
 * Read @p fd (a hook's stdin) to EOF, at most OCISTATE_MAX_JSON bytes, and
 * ocistate_parse() it.
 * @param[in]  fd   borrowed; not closed
 * @param[out] out  on ATT_OK only; free with ocistate_free()
 * @retval as ocistate_parse(), plus ATT_ERR_IO; ATT_ERR_PARSE when larger than the cap
 */
att_rc ocistate_read_fd(int fd, struct ocistate **out, char *why, size_t why_len);

/** Free @p st and everything it owns; NULL is a no-op. */
void ocistate_free(struct ocistate *st);

/** Borrowed value of annotation @p key, or NULL. */
const char *ocistate_annotation_get(const struct ocistate *st, const char *key);

/* Linux namespace types (config-linux.md "Namespaces"), as bits. */
enum ocistate_ns {
    OCISTATE_NS_PID = 1u << 0,
    OCISTATE_NS_NETWORK = 1u << 1,
    OCISTATE_NS_MOUNT = 1u << 2,
    OCISTATE_NS_IPC = 1u << 3,
    OCISTATE_NS_UTS = 1u << 4,
    OCISTATE_NS_USER = 1u << 5,
    OCISTATE_NS_CGROUP = 1u << 6,
    OCISTATE_NS_TIME = 1u << 7,
};
#define OCISTATE_NS_COUNT 8u
#define OCISTATE_NS_ALL   0xffu

/** "pid", "network", ... for one bit; "?" otherwise. */
const char *ocistate_ns_str(unsigned ns_bit);

/* What config.json says, reduced to what measurement and policy use. */
struct ocistate_config {
    char *oci_version; /* owned; major version 1 */
    char *root_path;   /* owned; as written (relative to the bundle or absolute) */
    bool root_readonly;
    bool has_process;
    char *argv0; /* owned; process.args[0] (non-empty) or NULL without process */
    size_t n_args;
    bool has_capabilities; /* process.capabilities present */
    char **caps_effective; /* owned array of owned strings */
    size_t n_caps_effective;
    char **caps_bounding;
    size_t n_caps_bounding;
    bool no_new_privileges;
    char *apparmor_profile; /* owned or NULL */
    char *selinux_label;    /* owned or NULL */
    bool has_linux;
    bool has_seccomp;                 /* linux.seccomp present */
    unsigned ns_new;                  /* namespaces created for the container (no path) */
    unsigned ns_joined;               /* namespaces joined by path; see ns_path */
    char *ns_path[OCISTATE_NS_COUNT]; /* owned or NULL; index = bit number */
    size_t n_mounts;
};

/**
 * Namespaces the config neither creates nor joins: the container shares the
 * host's (the runtime's) namespace of each type whose bit is set.
 */
unsigned ocistate_config_ns_host(const struct ocistate_config *cfg);

/**
 * Parse config.json text.
 * @param[out] out  on ATT_OK only; free with ocistate_config_free()
 * @param[out] why  optional; "oci config: ..." naming the member at fault
 * @retval ATT_OK @retval ATT_ERR_INVALID_ARG @retval ATT_ERR_PARSE @retval ATT_ERR_NOMEM
 */
att_rc ocistate_config_parse(const char *json, size_t len, struct ocistate_config **out, char *why,
                             size_t why_len);

/**
 * Open the bundle directory named in @p st: O_DIRECTORY|O_NOFOLLOW, so its
 * last component must not be a symlink (earlier components are the host's
 * own layout, such as /var/run -> /run, and are followed).
 * @param[out] out_fd  on ATT_OK only; the caller closes it
 * @retval ATT_OK @retval ATT_ERR_INVALID_ARG @retval ATT_ERR_NOT_FOUND @retval ATT_ERR_IO
 */
att_rc ocistate_bundle_open(const struct ocistate *st, int *out_fd, char *why, size_t why_len);

/**
 * Read and parse config.json from the bundle directory @p bundle_fd: opened
 * O_NOFOLLOW, must be a regular file of at most OCISTATE_CONFIG_MAX_JSON bytes.
 * @param[in]  bundle_fd  borrowed
 * @param[out] out        on ATT_OK only; free with ocistate_config_free()
 * @retval as ocistate_config_parse(), plus ATT_ERR_NOT_FOUND and ATT_ERR_IO
 */
att_rc ocistate_config_load(int bundle_fd, struct ocistate_config **out, char *why, size_t why_len);

/**
 * Open the container's rootfs directory (root.path) for rootfs_scan().
 *
 * No ".." component is accepted anywhere. A relative root.path is resolved
 * beneath @p bundle_fd one component at a time with O_DIRECTORY|O_NOFOLLOW,
 * so no symlink anywhere in it is followed and it cannot leave the bundle.
 * An absolute one is written by the engine and named on the host: its last
 * component must be a directory and not a symlink (O_NOFOLLOW); the host's
 * own symlinks earlier in the path are followed.
 * @param[in]  bundle_fd  borrowed
 * @param[out] out_fd     on ATT_OK only; the caller closes it
 * @retval ATT_OK @retval ATT_ERR_INVALID_ARG @retval ATT_ERR_PARSE (a ".." component)
 * @retval ATT_ERR_NOT_FOUND @retval ATT_ERR_IO (a symlink, not a directory, other errors)
 */
att_rc ocistate_rootfs_open(int bundle_fd, const struct ocistate_config *cfg, int *out_fd,
                            char *why, size_t why_len);

/** Free @p cfg and everything it owns; NULL is a no-op. */
void ocistate_config_free(struct ocistate_config *cfg);

#endif
