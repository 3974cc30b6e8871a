/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decoding of the Docker Engine API answers the agent reads (Docker and
 * podman's compatible service): GET /containers/json and
 * GET /containers/{id}/json (container fields, and the attached networks).
 * Pure decode (jansson), bounded, no I/O. Fields the engine omits or sends
 * as null are absent/empty, never guessed.
 */
#ifndef ATT_PROTO_ENGINE_JSON_H
#define ATT_PROTO_ENGINE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "attest/rc.h"

#define ATT_ENGINE_MAX_BODY       (8u * 1024u * 1024u)
#define ATT_ENGINE_MAX_CONTAINERS 4096
#define ATT_ENGINE_ID_LEN         64

struct att_engine_container {
    char id[ATT_ENGINE_ID_LEN + 1]; /* 64 hex */
    char *name;      /* owned, without the leading '/' */
    char *image_id;  /* owned, "sha256:<hex>" (the image's config digest) */
    char *image_ref; /* owned, e.g. "localhost/app:1", may be NULL */
    char *state;     /* owned: created | running | paused | exited | ... */
    int64_t pid;     /* init pid in the host's pid namespace, 0 if not running */
    bool is_privileged;
    char **cap_add;  /* owned array of owned strings */
    size_t n_cap_add;
    char *network_mode; /* owned, may be NULL */
    char *pid_mode;     /* owned, may be NULL ("host" = host pid namespace) */
    char *policy_label; /* owned, may be NULL: the container label ATT_POLICY_LABEL, or
                         * ATT_POLICY_LABEL_INVALID when its value is not a policy name */
};

/*
 * The label (or OCI annotation, for the prestart hook) that selects a
 * container policy by name instead of by image (DESIGN §5). Its value must
 * be 1..79 characters of [A-Za-z0-9._:-]; anything else is reported as
 * ATT_POLICY_LABEL_INVALID, which names no policy, so the container fails.
 */
#define ATT_POLICY_LABEL         "io.attest.policy"
#define ATT_POLICY_LABEL_INVALID "%invalid"

/** Whether @p v is a valid ATT_POLICY_LABEL value. */
bool att_engine_policy_label_ok(const char *v);

/**
 * Decode GET /containers/json: the ids (and states) of all containers.
 * @param[out] out  owned array; free with att_engine_containers_free()
 */
att_rc att_engine_list_decode(const char *json, size_t len, struct att_engine_container **out,
                              size_t *n, char *why, size_t why_len);
/** Decode GET /containers/{id}/json into @p out (cleaned up first). */
att_rc att_engine_inspect_decode(const char *json, size_t len, struct att_engine_container *out,
                                 char *why, size_t why_len);

/* Most networks att_engine_networks_decode() accepts, and longest name. */
#define ATT_ENGINE_MAX_NETWORKS 64
#define ATT_ENGINE_NETWORK_MAX  255

/**
 * Whether @p name is a network name safe to put into a URL path: 1 to
 * ATT_ENGINE_NETWORK_MAX bytes of [A-Za-z0-9_.-], the first alphanumeric
 * (the rule of both Docker and podman; it excludes "." and "..").
 */
bool att_engine_network_name_ok(const char *name);

/**
 * Decode the names of the networks a container is attached to: the keys of
 * NetworkSettings.Networks in GET /containers/{id}/json. Absent or null
 * NetworkSettings or Networks is no network. "host" and "none" (Docker lists
 * --network host/none there) are left out: they cannot be disconnected.
 * @param[out] names  written only on ATT_OK: owned array of owned strings,
 *                    NULL when @p n is 0; free with att_engine_networks_free()
 * @param[out] n      written only on ATT_OK
 * @retval ATT_OK
 * @retval ATT_ERR_PARSE  not JSON, wrong types, more than ATT_ENGINE_MAX_NETWORKS
 *                        networks or a name that fails att_engine_network_name_ok()
 * @retval ATT_ERR_NOMEM
 * @retval ATT_ERR_INVALID_ARG  @p names or @p n is NULL
 */
att_rc att_engine_networks_decode(const char *json, size_t len, char ***names, size_t *n, char *why,
                                  size_t why_len);
/** Free what att_engine_networks_decode() returned; NULL is a no-op. */
void att_engine_networks_free(char **names, size_t n);

void att_engine_container_cleanup(struct att_engine_container *c);
void att_engine_containers_free(struct att_engine_container *c, size_t n);

/**
 * Find container @p id in containers/storage's containers.json (podman,
 * CRI-O: GRAPHROOT/<driver>-containers/containers.json), readable while the
 * engine holds the container's lock, e.g. from a prestart hook.
 * @param[out] image_id  "sha256:<64 hex>"
 * @param[out] image_ref the image name from the metadata, "" if none
 * @param[out] created   optional: the container's "created" time (RFC 3339,
 *                       written after its layer was made); {0, 0} if absent or malformed
 * @retval ATT_OK @retval ATT_ERR_NOT_FOUND no such container @retval ATT_ERR_PARSE
 */
att_rc att_engine_storage_image(const char *json, size_t len, const char *id, char *image_id,
                                size_t image_id_len, char *image_ref, size_t image_ref_len,
                                struct timespec *created);

/**
 * The layer of container @p id (containers.json "layer"): 64 hex.
 * @retval ATT_OK @retval ATT_ERR_NOT_FOUND @retval ATT_ERR_PARSE
 */
att_rc att_engine_storage_layer(const char *json, size_t len, const char *id, char *layer,
                                size_t layer_len);
/**
 * The parent of layer @p layer in GRAPHROOT/<driver>-layers/layers.json: for
 * a container's layer, the image's top layer.
 * @retval ATT_OK @retval ATT_ERR_NOT_FOUND (none, or no parent) @retval ATT_ERR_PARSE
 */
att_rc att_engine_layer_parent(const char *json, size_t len, const char *layer, char *parent,
                               size_t parent_len);

#endif
