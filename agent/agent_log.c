/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Durable measurement log (see agent_log.h). Memory: struct agent_log owns the
 * file descriptor, the in-memory copy of the file, the parsed entries and the
 * dedup set.
 */
#include "agent_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attest/digest.h"
#include "attest/log.h"
#include "attest/util.h"

struct agent_log {
    char path[4096];
    char dir[4096];
    int fd;
    struct att_buf bytes;   /* the whole file, then any volatile records */
    size_t durable;         /* bytes[0, durable) are written and fsync'd */
    char error[4096 + 128]; /* why the last write failed; "" after a good one */
    size_t *offsets;        /* offsets[i] = start of record i in bytes */
    size_t offsets_cap;
    struct att_ima_log log;          /* parsed entries */
    uint8_t (*seen)[ATT_SHA256_LEN]; /* open-addressing set of H(name||0||digest) */
    size_t seen_cap;
    size_t seen_count;
};

static void seen_key(const char *name, const uint8_t *digest, size_t dlen,
                     uint8_t key[ATT_SHA256_LEN])
{
    struct att_buf b;

    att_buf_init(&b, SIZE_MAX);
    if (att_buf_append_str(&b, name) != ATT_OK || att_buf_append(&b, "", 1) != ATT_OK ||
        att_buf_append(&b, digest, dlen) != ATT_OK || att_sha256(b.data, b.len, key) != ATT_OK) {
        memset(key, 0, ATT_SHA256_LEN);
    }
    att_buf_cleanup(&b);
}

static size_t seen_slot(const struct agent_log *l, const uint8_t key[ATT_SHA256_LEN])
{
    size_t h = 0;

    memcpy(&h, key, sizeof(h));
    return h & (l->seen_cap - 1);
}

static bool seen_find(const struct agent_log *l, const uint8_t key[ATT_SHA256_LEN])
{
    static const uint8_t zero[ATT_SHA256_LEN];
    size_t i;

    if (l->seen_cap == 0) {
        return false;
    }
    for (i = seen_slot(l, key);; i = (i + 1) & (l->seen_cap - 1)) {
        if (memcmp(l->seen[i], key, ATT_SHA256_LEN) == 0) {
            return true;
        }
        if (memcmp(l->seen[i], zero, ATT_SHA256_LEN) == 0) {
            return false;
        }
    }
}

/* NOLINTNEXTLINE(misc-no-recursion): one level: the rehash inserts into a table twice the size */
static att_rc seen_add(struct agent_log *l, const uint8_t key[ATT_SHA256_LEN])
{
    static const uint8_t zero[ATT_SHA256_LEN];
    size_t i;

    if (seen_find(l, key)) {
        return ATT_OK;
    }
    if ((l->seen_count + 1) * 2 > l->seen_cap) {
        size_t ncap = l->seen_cap != 0 ? l->seen_cap * 2 : 256;
        uint8_t(*old)[ATT_SHA256_LEN] = l->seen;
        size_t ocap = l->seen_cap;
        size_t j;

        l->seen = calloc(ncap, ATT_SHA256_LEN);
        if (l->seen == NULL) {
            l->seen = old;
            return ATT_ERR_NOMEM;
        }
        l->seen_cap = ncap;
        l->seen_count = 0;
        for (j = 0; j < ocap; j++) {
            if (memcmp(old[j], zero, ATT_SHA256_LEN) != 0) {
                (void)seen_add(l, old[j]);
            }
        }
        free(old);
    }
    for (i = seen_slot(l, key); memcmp(l->seen[i], zero, ATT_SHA256_LEN) != 0;
         i = (i + 1) & (l->seen_cap - 1)) {
    }
    memcpy(l->seen[i], key, ATT_SHA256_LEN);
    l->seen_count++;
    return ATT_OK;
}

static att_rc index_entry(struct agent_log *l, size_t offset)
{
    const struct att_ima_entry *e = &l->log.entries[l->log.count - 1];
    uint8_t key[ATT_SHA256_LEN];

    if (l->log.count > l->offsets_cap) {
        size_t ncap = l->offsets_cap != 0 ? l->offsets_cap * 2 : 256;
        size_t *n = realloc(l->offsets, ncap * sizeof(*n));

        if (n == NULL) {
            return ATT_ERR_NOMEM;
        }
        l->offsets = n;
        l->offsets_cap = ncap;
    }
    l->offsets[l->log.count - 1] = offset;
    seen_key(e->name, e->digest, e->digest_len, key);
    return seen_add(l, key);
}

static void reset_memory(struct agent_log *l)
{
    att_buf_reset(&l->bytes);
    att_ima_log_cleanup(&l->log);
    att_ima_log_init(&l->log);
    free(l->seen);
    l->seen = NULL;
    l->seen_cap = 0;
    l->seen_count = 0;
}

static uint32_t rd32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * Is [p, p+len) the beginning of a record whose write a crash cut short?
 * True only when every length it declares so far is within limits and the
 * record would need more bytes than there are. A complete but malformed
 * record is corruption, never a torn tail.
 */
static bool is_torn_tail(const uint8_t *p, size_t len)
{
    uint32_t name_len;
    uint32_t data_len;

    if (len < 28) {
        return true;
    }
    name_len = rd32le(p + 24);
    if (name_len > ATT_IMA_MAX_TEMPLATE_NAME) {
        return false;
    }
    if (len < 28 + (size_t)name_len + 4) {
        return true;
    }
    data_len = rd32le(p + 28 + name_len);
    if (data_len > ATT_IMA_MAX_DATA) {
        return false;
    }
    return len < 32 + (size_t)name_len + data_len;
}

/* Parse the file into entries. A torn last record is cut off the file (it was
 * never extended); anything else malformed refuses to open and changes nothing. */
static att_rc load(struct agent_log *l)
{
    att_rc rc = ATT_ERR_IO;
    size_t off = 0;
    char why[256];

    rc = att_file_read(l->path, &l->bytes);
    if (rc != ATT_OK) {
        LOG_ERR("cannot read measurement log %s: %s", l->path, att_rc_str(rc));
        return rc;
    }
    while (off < l->bytes.len) {
        struct att_ima_entry e;
        size_t n = 0;

        why[0] = '\0';
        rc = att_ima_entry_parse(l->bytes.data + off, l->bytes.len - off, &e, &n, why, sizeof(why));
        if (rc != ATT_OK) {
            if (!is_torn_tail(l->bytes.data + off, l->bytes.len - off)) {
                LOG_ERR("measurement log %s is corrupt at record %zu (byte %zu): %s; refusing "
                        "to touch it",
                        l->path, l->log.count, off, why);
                return ATT_ERR_PARSE;
            }
            LOG_WARN("measurement log %s: dropping %zu bytes of a record cut short by a crash "
                     "(it was never extended into the TPM)",
                     l->path, l->bytes.len - off);
            if (ftruncate(l->fd, (off_t)off) != 0 || fsync(l->fd) != 0) {
                LOG_ERR("cannot truncate %s: %s", l->path, strerror(errno));
                return ATT_ERR_IO;
            }
            l->bytes.len = off;
            break;
        }
        rc = att_ima_log_push(&l->log, &e);
        if (rc != ATT_OK) {
            att_ima_entry_cleanup(&e);
            return rc;
        }
        rc = index_entry(l, off);
        if (rc != ATT_OK) {
            return rc;
        }
        off += n;
    }
    l->durable = l->bytes.len;
    return ATT_OK;
}

static att_rc open_file(struct agent_log *l)
{
    l->fd = open(l->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (l->fd < 0) {
        LOG_ERR("cannot open measurement log %s: %s", l->path, strerror(errno));
        return ATT_ERR_IO;
    }
    return ATT_OK;
}

att_rc agent_log_open(const char *state_dir, struct agent_log **out)
{
    att_rc rc = ATT_ERR_IO;
    struct agent_log *l = NULL;

    if (state_dir == NULL || out == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    l = calloc(1, sizeof(*l));
    if (l == NULL) {
        return ATT_ERR_NOMEM;
    }
    l->fd = -1;
    att_buf_init(&l->bytes, AGENT_LOG_MAX_BYTES);
    att_ima_log_init(&l->log);
    if (snprintf(l->path, sizeof(l->path), "%s/measurements.bin", state_dir) >=
            (int)sizeof(l->path) ||
        snprintf(l->dir, sizeof(l->dir), "%s", state_dir) >= (int)sizeof(l->dir)) {
        rc = ATT_ERR_INVALID_ARG;
        goto out;
    }
    rc = open_file(l);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = load(l);
    if (rc != ATT_OK) {
        goto out;
    }
    *out = l;
    l = NULL;
    rc = ATT_OK;
out:
    agent_log_free(l);
    return rc;
}

void agent_log_free(struct agent_log *l)
{
    if (l == NULL) {
        return;
    }
    if (l->fd >= 0) {
        (void)close(l->fd);
    }
    att_buf_cleanup(&l->bytes);
    att_ima_log_cleanup(&l->log);
    free(l->offsets);
    free(l->seen);
    free(l);
}

size_t agent_log_count(const struct agent_log *l)
{
    return l->log.count;
}

const uint8_t *agent_log_bytes_from(const struct agent_log *l, size_t from, size_t *len)
{
    size_t off = from < l->log.count ? l->offsets[from] : l->bytes.len;

    *len = l->bytes.len - off;
    return l->bytes.data != NULL ? l->bytes.data + off : (const uint8_t *)"";
}

const struct att_ima_entry *agent_log_entry(const struct agent_log *l, size_t i)
{
    return i < l->log.count ? &l->log.entries[i] : NULL;
}

bool agent_log_has(const struct agent_log *l, const char *name, const uint8_t *digest,
                   size_t digest_len)
{
    uint8_t key[ATT_SHA256_LEN];

    seen_key(name, digest, digest_len, key);
    return seen_find(l, key);
}

/*
 * Cut the file back to @p keep bytes (its durable length) and fsync that, so
 * a record that is not kept can never be found, and extended, by the next
 * start. Only logged when it fails: the caller is failing already.
 */
static void cut_back(struct agent_log *l, size_t keep)
{
    if (ftruncate(l->fd, (off_t)keep) != 0 || fsync(l->fd) != 0) {
        LOG_ERR("cannot cut %s back to %zu bytes: %s", l->path, keep, strerror(errno));
    }
}

/* Write @p len bytes at the end of the file and fsync them; on failure cut_back() to @p keep. */
static att_rc write_durable(struct agent_log *l, const uint8_t *data, size_t len, size_t keep)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = write(l->fd, data + done, len - done);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            (void)snprintf(l->error, sizeof(l->error), "cannot append to %s: %s", l->path,
                           strerror(errno));
            goto fail;
        }
        done += (size_t)n;
    }
    if (fsync(l->fd) != 0) {
        (void)snprintf(l->error, sizeof(l->error), "cannot fsync %s: %s", l->path, strerror(errno));
        goto fail;
    }
    l->error[0] = '\0';
    return ATT_OK;
fail:
    LOG_ERR("%s", l->error);
    cut_back(l, keep);
    return ATT_ERR_IO;
}

/* Keep an encoded record in memory (bytes, entries, index); takes *e on ATT_OK. */
static att_rc remember(struct agent_log *l, const struct att_buf *rec, struct att_ima_entry *e)
{
    size_t off = l->bytes.len;
    att_rc rc = att_buf_append(&l->bytes, rec->data, rec->len);

    if (rc != ATT_OK) {
        return rc;
    }
    rc = att_ima_log_push(&l->log, e);
    if (rc != ATT_OK) {
        l->bytes.len = off;
        return rc;
    }
    rc = index_entry(l, off);
    if (rc != ATT_OK) {
        /* all or nothing: the entry goes back to the caller */
        *e = l->log.entries[--l->log.count];
        l->bytes.len = off;
    }
    return rc;
}

att_rc agent_log_append(struct agent_log *l, struct att_ima_entry *e)
{
    att_rc rc;
    struct att_buf rec;

    att_buf_init(&rec, ATT_IMA_MAX_DATA * 2);
    rc = att_ima_entry_encode(e, &rec);
    if (rc != ATT_OK) {
        goto out;
    }
    /* Volatile records first, so the file keeps the order they were extended in. */
    if (l->durable < l->bytes.len) {
        rc = write_durable(l, l->bytes.data + l->durable, l->bytes.len - l->durable, l->durable);
        if (rc != ATT_OK) {
            goto out;
        }
        l->durable = l->bytes.len;
    }
    rc = write_durable(l, rec.data, rec.len, l->durable);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = remember(l, &rec, e);
    if (rc != ATT_OK) {
        /* not held in memory (out of memory): nor in the file, which must
         * keep matching what is extended */
        cut_back(l, l->durable);
        goto out;
    }
    l->durable += rec.len;
out:
    att_buf_cleanup(&rec);
    return rc;
}

att_rc agent_log_append_volatile(struct agent_log *l, struct att_ima_entry *e)
{
    att_rc rc;
    struct att_buf rec;

    att_buf_init(&rec, ATT_IMA_MAX_DATA * 2);
    rc = att_ima_entry_encode(e, &rec);
    if (rc == ATT_OK) {
        rc = remember(l, &rec, e);
    }
    att_buf_cleanup(&rec);
    return rc;
}

bool agent_log_volatile(const struct agent_log *l)
{
    return l->durable < l->bytes.len;
}

const char *agent_log_error(const struct agent_log *l)
{
    return l->error;
}

att_rc agent_log_replay(const struct agent_log *l, size_t n, uint32_t pcr,
                        uint8_t value[ATT_SHA256_LEN])
{
    memset(value, 0, ATT_SHA256_LEN);
    if (n > l->log.count) {
        return ATT_ERR_INVALID_ARG;
    }
    return att_ima_replay(l->log.entries, n, pcr, value, NULL);
}

att_rc agent_log_rotate(struct agent_log *l, const char *suffix)
{
    char old[4200];
    att_rc rc;

    if (snprintf(old, sizeof(old), "%s/measurements.%s.bin", l->dir, suffix) >= (int)sizeof(old)) {
        return ATT_ERR_INVALID_ARG;
    }
    if (l->bytes.len > 0 && rename(l->path, old) != 0) {
        LOG_ERR("cannot move %s to %s: %s", l->path, old, strerror(errno));
        return ATT_ERR_IO;
    }
    (void)close(l->fd);
    l->fd = -1;
    reset_memory(l);
    l->durable = 0;
    rc = open_file(l);
    if (rc != ATT_OK) {
        return rc;
    }
    return att_fsync_dir_of(l->path);
}
