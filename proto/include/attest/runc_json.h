/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decoding of runc's per-container state file, <root>/<id>/state.json
 * (libcontainer's State struct, as written by runc 1.1): the id, the init
 * process (pid and its start time in clock ticks, /proc/<pid>/stat field 22),
 * the bundle (config.labels "bundle=<path>") and the cgroup paths used to
 * freeze the container. Pure decode (jansson), bounded, no I/O: whether the
 * init process still lives is for the caller to find out. runc has no image,
 * so image_id stays NULL; image_ref carries the bundle path.
 */
#ifndef ATT_PROTO_RUNC_JSON_H
#define ATT_PROTO_RUNC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/engine_json.h"
#include "attest/rc.h"

#define ATT_RUNC_MAX_STATE (1u * 1024u * 1024u)
#define ATT_RUNC_PATH_MAX  4096

/* What state.json says beyond struct att_engine_container. */
struct att_runc_state {
    uint64_t init_start;                  /* "init_process_start", clock ticks since boot */
    char freezer_path[ATT_RUNC_PATH_MAX]; /* cgroup v1 freezer dir, "" if none */
    char unified_path[ATT_RUNC_PATH_MAX]; /* cgroup v2 dir (cgroup_paths[""]), "" if none */
};

/**
 * Check a runc container id: 1..64 characters of [A-Za-z0-9_+.-], not "." or
 * "..", so that it is safe as one path component (runc's own rule, capped at
 * the length struct att_engine_container holds).
 */
bool att_runc_id_ok(const char *id);

/**
 * Decode one state.json.
 *
 * Sets out->id, out->name (= the id), out->image_ref (the bundle path, NULL
 * without a "bundle=" label) and out->pid (init_process_pid); image_id,
 * state and the posture fields stay empty. Cgroup paths are accepted only
 * when absolute, under /sys/fs/cgroup/ and free of ".." components, since
 * the caller writes to them.
 *
 * @param[in]  json  state.json bytes (not NUL-terminated), at most ATT_RUNC_MAX_STATE
 * @param[out] out   cleaned up first; on success owns the strings, free with
 *                   att_engine_container_cleanup(); left empty on failure
 * @param[out] st    may be NULL; written only on success
 * @param[out] why   reason on failure, naming the field (may be NULL)
 * @retval ATT_OK
 * @retval ATT_ERR_INVALID_ARG  @p out is NULL
 * @retval ATT_ERR_PARSE        not JSON, too large, a field missing or malformed
 * @retval ATT_ERR_NOMEM
 */
att_rc att_runc_state_decode(const char *json, size_t len, struct att_engine_container *out,
                             struct att_runc_state *st, char *why, size_t why_len);

#endif
