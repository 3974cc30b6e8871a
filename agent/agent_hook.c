/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's half of the OCI prestart hook (DESIGN §4 item 1). The hook
 * process (`attest-agent hook`) forwards the OCI state; here the agent opens
 * the bundle and the rootfs about to run, measures every ELF executable and
 * shared library in it (rootfs_scan, cached by content identity), learns the
 * image from containers/storage's metadata (the engine itself cannot be
 * asked: it holds the container's lock during the hook), logs and extends:
 *   "container:<id>"  image identity (source=hook),
 *   "rootfs:<id>"     every ELF file of the rootfs, "<sha256> <path>" lines,
 *                     one record per 60 KiB (one extend, not one per file),
 *   "packages:<id>"   the image's package inventory (attest/inventory.h), its
 *                     canonical text in parts of at most 60 KiB, each headed
 *                     "attest-packages <part> <n> <sha256 of the whole text>",
 *   "admission:<id>"  the decision, so admission itself is attested,
 * then answers admit or refuse from the verifier's admission policy and its
 * vulnerability bar against the verifier's feed (issue 8), and refuses a
 * container or image under an open quarantine (quarantine.h). Any
 * error refuses (fail closed); the hook client decides about --fail-open
 * only when it cannot reach the agent at all.
 * Memory: the rootfs cache is owned by the caller (one per agent).
 */
#include "agent_hook.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attest/buf.h"
#include "attest/engine_json.h"
#include "attest/inventory.h"
#include "attest/appraise.h"
#include "attest/log.h"
#include "attest/util.h"
#include "agent_net.h"
#include "ocistate.h"
#include "rootfs.h"

#define STORAGE_JSON_MAX (16u * 1024u * 1024u)

/* Image of container @p id from GRAPHROOT/<driver>-containers/containers.json. */
static att_rc storage_image(const char *root, const char *id, char *image, size_t image_len,
                            char *ref, size_t ref_len, struct timespec *created)
{
    DIR *d;
    struct dirent *de;
    att_rc rc = ATT_ERR_NOT_FOUND;

    if (root == NULL || root[0] != '/') {
        return ATT_ERR_NOT_FOUND;
    }
    d = opendir(root);
    if (d == NULL) {
        return ATT_ERR_NOT_FOUND;
    }
    while (rc == ATT_ERR_NOT_FOUND && (de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        char path[4200];
        struct att_buf b;

        if (n < 12 || strcmp(de->d_name + n - 11, "-containers") != 0) {
            continue;
        }
        (void)snprintf(path, sizeof(path), "%s/%s/containers.json", root, de->d_name);
        att_buf_init(&b, STORAGE_JSON_MAX);
        if (att_file_read(path, &b) == ATT_OK && b.data != NULL) {
            rc = att_engine_storage_image((const char *)b.data, b.len, id, image, image_len, ref,
                                          ref_len, created);
        }
        att_buf_cleanup(&b);
    }
    (void)closedir(d);
    return rc;
}

/*
 * With the vfs driver (a full copy of the image per container), the image's
 * top layer directory the container's rootfs was copied from:
 * GRAPHROOT/vfs/dir/<parent of the container's layer> (struct rootfs_origin).
 * -1 for other drivers (overlay shares the layers' inodes: the inode key
 * already hits) or anything missing.
 */
static int open_image_layer(const char *root, const char *id)
{
    struct att_buf b;
    char path[4200];
    char layer[80] = "";
    char parent[80] = "";
    att_rc rc;

    if (root == NULL || root[0] != '/') {
        return -1;
    }
    att_buf_init(&b, STORAGE_JSON_MAX);
    (void)snprintf(path, sizeof(path), "%s/vfs-containers/containers.json", root);
    rc = att_file_read(path, &b);
    if (rc == ATT_OK && b.data != NULL) {
        rc = att_engine_storage_layer((const char *)b.data, b.len, id, layer, sizeof(layer));
    }
    att_buf_reset(&b);
    if (rc == ATT_OK) {
        (void)snprintf(path, sizeof(path), "%s/vfs-layers/layers.json", root);
        rc = att_file_read(path, &b);
    }
    if (rc == ATT_OK && b.data != NULL) {
        rc = att_engine_layer_parent((const char *)b.data, b.len, layer, parent, sizeof(parent));
    }
    att_buf_cleanup(&b);
    if (rc != ATT_OK) {
        return -1;
    }
    (void)snprintf(path, sizeof(path), "%s/vfs/dir/%s", root, parent);
    return open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

#define ROOTFS_RECORD_MAX (60u * 1024u) /* under ATT_IMA_MAX_BUF (64 KiB) */

/*
 * The measured rootfs as "rootfs:<id>" ima-buf records, "<sha256 hex>
 * <escaped path>\n" per ELF file, cut at ROOTFS_RECORD_MAX: one log append
 * and one PCR extend per record, not per file (a start's cost was one fsync
 * and one TPM extend per file). The verifier judges each line as a file.
 */
static att_rc record_rootfs(struct agent *a, const char *id, const struct rootfs_result *res)
{
    struct att_buf rec;
    struct att_buf line;
    char name[96];
    char hex[2 * ATT_SHA256_LEN + 1];
    att_rc rc = ATT_OK;
    size_t i;

    (void)snprintf(name, sizeof(name), "rootfs:%s", id);
    att_buf_init(&rec, ROOTFS_RECORD_MAX);
    att_buf_init(&line, 4 * 4096 + 128);
    for (i = 0; rc == ATT_OK && i < res->n_entries; i++) {
        att_buf_reset(&line);
        att_hex_encode(res->entries[i].digest, ATT_SHA256_LEN, hex);
        (void)att_buf_printf(&line, "%s ", hex);
        (void)att_buf_append_escaped(&line, res->entries[i].path); /* one field per line */
        if (att_buf_append(&line, "\n", 1) != ATT_OK || line.data == NULL) {
            rc = ATT_ERR_NOMEM;
            break;
        }
        if (rec.len > 0 && rec.len + line.len > ROOTFS_RECORD_MAX) {
            rc = agent_record_buf(a, name, rec.data, rec.len, NULL);
            att_buf_reset(&rec);
        }
        if (rc == ATT_OK) {
            /* a line is at most 64 + 2 + 3 x 4095 bytes: it always fits an empty record */
            rc = line.len <= ROOTFS_RECORD_MAX ? att_buf_append(&rec, line.data, line.len)
                                               : ATT_ERR_INTERNAL;
        }
    }
    if (rc == ATT_OK && rec.len > 0) {
        rc = agent_record_buf(a, name, rec.data, rec.len, NULL);
    }
    att_buf_cleanup(&rec);
    att_buf_cleanup(&line);
    return rc;
}

/*
 * The canonical inventory as "packages:<id>" records: header line, then up to
 * ROOTFS_RECORD_MAX bytes of whole lines. The verifier joins the parts in
 * order and checks the digest in every header.
 */
static att_rc record_packages(struct agent *a, const char *id, const struct att_buf *canon,
                              const uint8_t digest[ATT_SHA256_LEN])
{
    char name[96];
    char hex[2 * ATT_SHA256_LEN + 1];
    struct att_buf rec;
    size_t cuts[ATT_PKG_RECORD_MAX_PARTS + 1];
    size_t n = 0;
    size_t off = 0;
    size_t i;
    att_rc rc = ATT_OK;

    /* cut points at line ends, each part at most ROOTFS_RECORD_MAX - 128 bytes */
    cuts[0] = 0;
    while (off < canon->len) {
        size_t end = off + (ROOTFS_RECORD_MAX - 128);

        if (end >= canon->len) {
            end = canon->len;
        } else {
            while (end > off && canon->data[end - 1] != '\n') {
                end--;
            }
            if (end == off) {
                return ATT_ERR_PARSE; /* a line longer than a record: not canonical */
            }
        }
        if (n + 1 >= sizeof(cuts) / sizeof(cuts[0])) {
            return ATT_ERR_PARSE;
        }
        cuts[++n] = end;
        off = end;
    }
    att_hex_encode(digest, ATT_SHA256_LEN, hex);
    (void)snprintf(name, sizeof(name), "packages:%s", id);
    att_buf_init(&rec, ROOTFS_RECORD_MAX);
    for (i = 0; rc == ATT_OK && i < n; i++) {
        att_buf_reset(&rec);
        (void)att_buf_printf(&rec, ATT_PKG_RECORD_HEADER " %zu %zu %s\n", i + 1, n, hex);
        rc = att_buf_append(&rec, canon->data + cuts[i], cuts[i + 1] - cuts[i]);
        if (rc == ATT_OK) {
            rc = agent_record_buf(a, name, rec.data, rec.len, NULL);
        }
    }
    att_buf_cleanup(&rec);
    return rc;
}

static void record_decision(struct agent *a, const char *id, bool admit, const char *image,
                            const char *detail)
{
    char name[96];
    struct att_buf b;

    att_buf_init(&b, 2048);
    (void)att_buf_printf(&b, "decision=%s image=%s %s", admit ? "admit" : "refuse", image, detail);
    (void)snprintf(name, sizeof(name), "admission:%s", id);
    if (b.data == NULL || agent_record_buf(a, name, b.data, b.len, NULL) != ATT_OK) {
        LOG_ERR("cannot log the admission decision for container %.12s", id);
    }
    att_buf_cleanup(&b);
}

att_rc agent_hook(struct agent *a, struct rootfs_cache *cache, const char *storage_root,
                  const char *state_json, size_t len, char *reply, size_t reply_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct ocistate *st = NULL;
    struct ocistate_config *cfg = NULL;
    struct rootfs_result *res = NULL;
    struct att_buf rec;
    char why[512] = "";
    char image[80] = "unknown";
    char ref[256] = "";
    char policy[80] = "";
    struct rootfs_origin origin;
    char name[ATT_ENGINE_ID_LEN + 4200];
    int bundle = -1;
    int root = -1;
    struct timespec t0;
    struct timespec t1;
    struct att_inventory *inv = NULL;
    struct att_buf canon;
    uint8_t inv_digest[ATT_SHA256_LEN];
    char inv_why[300] = "";
    char vuln_why[700] = "";
    char net_why[512] = "";

    (void)clock_gettime(CLOCK_MONOTONIC, &t0);
    att_buf_init(&canon, ATT_INV_MAX_TEXT);
    att_buf_init(&rec, 4096);
    rc = ocistate_parse(state_json, len, &st, why, sizeof(why));
    if (rc != ATT_OK) {
        (void)snprintf(reply, reply_len, "refuse malformed OCI state: %s", why);
        goto out;
    }
    /* Fail closed while the log refuses writes: nothing started now could be
     * attested. With room again the gap closes here, so a host that only
     * starts containers is not refused for good. */
    rc = agent_log_gap_close(a, why, sizeof(why));
    if (rc != ATT_OK) {
        (void)snprintf(reply, reply_len, "refuse container %.12s: %s", st->id, why);
        goto out;
    }
    rc = ocistate_bundle_open(st, &bundle, why, sizeof(why));
    if (rc == ATT_OK) {
        rc = ocistate_config_load(bundle, &cfg, why, sizeof(why));
    }
    if (rc == ATT_OK) {
        rc = ocistate_rootfs_open(bundle, cfg, &root, why, sizeof(why));
    }
    if (rc != ATT_OK) {
        (void)snprintf(reply, reply_len, "refuse container %.12s: %s", st->id, why);
        goto out;
    }
    memset(&origin, 0, sizeof(origin));
    origin.layer_fd = -1;
    if (storage_image(storage_root, st->id, image, sizeof(image), ref, sizeof(ref),
                      &origin.created) != ATT_OK) {
        (void)snprintf(image, sizeof(image), "unknown");
    } else if (origin.created.tv_sec > 0) {
        origin.layer_fd = open_image_layer(storage_root, st->id);
    }
    rc = rootfs_scan_image(root, cache, NULL, origin.layer_fd >= 0 ? &origin : NULL, &res, why,
                           sizeof(why));
    if (origin.layer_fd >= 0) {
        (void)close(origin.layer_fd);
    }
    if (rc != ATT_OK) {
        (void)snprintf(reply, reply_len, "refuse container %.12s: cannot measure its rootfs: %s",
                       st->id, why);
        record_decision(a, st->id, false, image, "reason=rootfs-unmeasurable");
        goto out;
    }
    /* Identity first: appraisal reads files of a container against its image. */
    (void)att_buf_printf(
        &rec, "image=%s ref=%s privileged=%d source=hook", image, ref[0] ? ref : "-",
        ocistate_annotation_get(st, "io.podman.annotations.privileged") != NULL &&
                strcmp(ocistate_annotation_get(st, "io.podman.annotations.privileged"), "TRUE") == 0
            ? 1
            : 0);
    {
        const char *label = ocistate_annotation_get(st, ATT_POLICY_LABEL);

        if (label != NULL) {
            (void)att_buf_printf(&rec, " policy_label=%s",
                                 att_engine_policy_label_ok(label) ? label
                                                                   : ATT_POLICY_LABEL_INVALID);
        }
    }
    (void)snprintf(name, sizeof(name), "container:%s", st->id);
    rc = rec.data != NULL ? agent_record_buf(a, name, rec.data, rec.len, NULL) : ATT_ERR_NOMEM;
    if (rc == ATT_OK) {
        rc = record_rootfs(a, st->id, res);
    }
    /* The package inventory: measured when it can be read; judged below. */
    if (rc == ATT_OK) {
        att_rc irc = att_inventory_from_rootfs(root, &inv, inv_why, sizeof(inv_why));

        if (irc == ATT_OK) {
            irc = att_inventory_canonical(inv, &canon);
        }
        if (irc == ATT_OK && canon.data != NULL) {
            irc = att_sha256(canon.data, canon.len, inv_digest);
        }
        if (irc == ATT_OK && canon.data != NULL) {
            rc = record_packages(a, st->id, &canon, inv_digest);
        } else {
            if (inv_why[0] == '\0') {
                (void)snprintf(inv_why, sizeof(inv_why), "%s", att_rc_str(irc));
            }
            att_inventory_free(inv);
            inv = NULL;
        }
    }
    if (rc != ATT_OK) {
        if (!agent_log_degraded(a, why, sizeof(why))) {
            (void)snprintf(why, sizeof(why), "%s", att_rc_str(rc));
        }
        (void)snprintf(reply, reply_len, "refuse container %.12s: cannot log measurements: %s",
                       st->id, why);
        goto out;
    }
    rc = agent_quarantine_refuses(a, st->id, strcmp(image, "unknown") != 0 ? image : NULL, why,
                                  sizeof(why))
             ? ATT_ERR_POLICY
             : agent_admission_check(a, image, policy, sizeof(policy), why, sizeof(why));
    if (rc == ATT_OK) {
        /* an unreadable inventory passes only a policy without a bar */
        rc = agent_vuln_check(a, policy, inv, inv_digest, inv_why, vuln_why, sizeof(vuln_why));
        if (rc != ATT_OK) {
            (void)snprintf(why, sizeof(why), "%.500s", vuln_why);
        }
    }
    if (rc == ATT_OK && st->has_pid) {
        /* the network section is in force before the container's first instruction */
        const char *label = ocistate_annotation_get(st, ATT_POLICY_LABEL);

        rc =
            agent_net_start(a, st->id, (pid_t)st->pid,
                            label != NULL && att_engine_policy_label_ok(label) ? label : policy,
                            strcmp(image, "unknown") != 0 ? image : NULL, net_why, sizeof(net_why));
        if (rc != ATT_OK) {
            (void)snprintf(why, sizeof(why), "network policy cannot be applied: %.440s", net_why);
        }
    }
    if (rc != ATT_OK) {
        char detail[600];

        (void)snprintf(detail, sizeof(detail), "reason=%s", why);
        record_decision(a, st->id, false, image, detail);
        (void)snprintf(reply, reply_len, "refuse container %.12s: %s", st->id, why);
        LOG_WARN("refused container %.12s at start: %s", st->id, why);
        goto out;
    }
    {
        char detail[128];

        (void)snprintf(detail, sizeof(detail), "policy=%s", policy);
        record_decision(a, st->id, true, image, detail);
    }
    (void)snprintf(reply, reply_len,
                   "admit container %.12s image %s policy %s (%zu files measured%s%.400s)", st->id,
                   image, policy, res->n_entries, vuln_why[0] != '\0' ? "; " : "", vuln_why);
    (void)clock_gettime(CLOCK_MONOTONIC, &t1);
    LOG_INFO("admitted container %.12s: image %s, %zu ELF files measured (%zu hashed, %zu cached, "
             "%zu of them by the image layer) in %.1f ms",
             st->id, image, res->n_entries, res->stats.hashed, res->stats.cache_hits,
             res->stats.manifest_hits,
             (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    rc = ATT_OK;
out:
    if (root >= 0) {
        (void)close(root);
    }
    if (bundle >= 0) {
        (void)close(bundle);
    }
    rootfs_result_free(res);
    att_inventory_free(inv);
    att_buf_cleanup(&canon);
    ocistate_config_free(cfg);
    ocistate_free(st);
    att_buf_cleanup(&rec);
    return rc == ATT_OK ? ATT_OK : ATT_ERR_POLICY;
}
