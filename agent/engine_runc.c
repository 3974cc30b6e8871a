/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* pidfd_open, pidfd_send_signal (glibc 2.36) */
/*
 * Bare runc as a container "engine" (engine_int.h): where no engine process
 * runs, the containers are the subdirectories of runc's --root directory,
 * each with the state.json runc keeps there (decoded by proto/runc_json).
 * A container is "running" only while its init process lives with the start
 * time runc recorded (a recycled pid is not the container), "created" while
 * runc's exec.fifo still waits for `runc start`, "paused" when its freezer
 * cgroup is frozen. Actions need no runc binary: pause/unpause write the
 * freezer cgroup (v1 freezer.state, v2 cgroup.freeze), kill signals the init
 * process through a pidfd taken before the start time is checked, so the
 * signal cannot reach a process that reused the pid. Does not create,
 * start or delete containers; runc's own state stays untouched.
 */
#include "engine_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attest/buf.h"
#include "attest/log.h"
#include "attest/runc_json.h"
#include "attest/util.h"

#define FREEZE_TRIES   100 /* x 10 ms: how long a freeze may take to settle */
#define SMALL_FILE_MAX 256

struct engine_runc {
    char root[ATT_RUNC_PATH_MAX];
};

att_rc engine_runc_open(const char *root, struct engine_runc **out)
{
    struct engine_runc *r;
    size_t len = root != NULL ? strlen(root) : 0;

    if (root == NULL || out == NULL || root[0] != '/' || len >= sizeof(r->root) ||
        strstr(root, "/../") != NULL || (len >= 3 && strcmp(root + len - 3, "/..") == 0)) {
        LOG_ERR("runc engine URL must be runc:///absolute/runc/root");
        return ATT_ERR_INVALID_ARG;
    }
    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return ATT_ERR_NOMEM;
    }
    (void)snprintf(r->root, sizeof(r->root), "%s", root);
    *out = r;
    return ATT_OK;
}

void engine_runc_free(struct engine_runc *r)
{
    free(r);
}

/* Read a whole small file opened relative to @p dirfd (no symlink followed). */
static att_rc read_at(int dirfd, const char *name, struct att_buf *b)
{
    att_rc rc = ATT_ERR_IO;
    char chunk[4096];
    ssize_t n;
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0) {
        return errno == ENOENT ? ATT_ERR_NOT_FOUND : ATT_ERR_IO;
    }
    while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
        if (att_buf_append(b, chunk, (size_t)n) != ATT_OK) {
            rc = ATT_ERR_PARSE; /* larger than the buffer's cap */
            goto out;
        }
    }
    if (n < 0) {
        goto out;
    }
    rc = ATT_OK;
out:
    (void)close(fd);
    return rc;
}

/* Read a short text file by absolute path into @p text (NUL-terminated). */
static bool read_small(const char *path, char *text, size_t text_len)
{
    ssize_t n;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0) {
        return false;
    }
    n = read(fd, text, text_len - 1);
    (void)close(fd);
    if (n < 0) {
        return false;
    }
    text[n] = '\0';
    return true;
}

/* Write @p text to an existing file; on failure errno says why. */
static bool write_small(const char *path, const char *text)
{
    size_t len = strlen(text);
    ssize_t n;
    int saved;
    int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0) {
        return false;
    }
    n = write(fd, text, len);
    saved = errno;
    (void)close(fd);
    errno = n < 0 ? saved : EIO;
    return n == (ssize_t)len;
}

/*
 * The start time (clock ticks since boot, /proc/<pid>/stat field 22) of a
 * live process, 0 if it is gone or a zombie: a zombie init means the
 * container has stopped even though its pid is still taken.
 */
static uint64_t live_start_time(int64_t pid)
{
    char path[64];
    char text[1024];
    const char *p;
    uint64_t v = 0;
    int field;

    if (pid <= 0) {
        return 0;
    }
    (void)snprintf(path, sizeof(path), "/proc/%lld/stat", (long long)pid);
    if (!read_small(path, text, sizeof(text))) {
        return 0;
    }
    p = strrchr(text, ')'); /* comm may contain spaces and parentheses */
    if (p == NULL || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X' || p[2] == '\0') {
        return 0;
    }
    p += 2; /* field 3, the state */
    for (field = 3; field < 22 && p != NULL; field++) {
        p = strchr(p, ' ');
        if (p != NULL) {
            p++;
        }
    }
    if (p == NULL) {
        return 0;
    }
    while (*p >= '0' && *p <= '9') {
        if (v > (UINT64_MAX - 9u) / 10u) {
            return 0;
        }
        v = v * 10u + (uint64_t)(*p - '0');
        p++;
    }
    return v;
}

static bool is_frozen(const struct att_runc_state *st)
{
    char path[ATT_RUNC_PATH_MAX + 32];
    char text[SMALL_FILE_MAX];

    if (st->freezer_path[0] != '\0') {
        (void)snprintf(path, sizeof(path), "%s/freezer.state", st->freezer_path);
        return read_small(path, text, sizeof(text)) && strncmp(text, "FROZEN", 6) == 0;
    }
    if (st->unified_path[0] != '\0') {
        (void)snprintf(path, sizeof(path), "%s/cgroup.events", st->unified_path);
        return read_small(path, text, sizeof(text)) && strstr(text, "frozen 1") != NULL;
    }
    return false;
}

/*
 * Read and decode <root>/<id>/state.json and find out the container's state.
 * Symlinks are followed for neither the container directory nor the file.
 * Returns ATT_ERR_NOT_FOUND when there is no such container (or it is being
 * created and has no state.json yet).
 */
static att_rc read_container(const struct engine_runc *r, const char *id,
                             struct att_engine_container *out, struct att_runc_state *st)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_buf b;
    char why[256] = "";
    const char *state = "stopped";
    int rootfd = -1;
    int dirfd = -1;

    att_buf_init(&b, ATT_RUNC_MAX_STATE);
    if (!att_runc_id_ok(id)) {
        rc = ATT_ERR_INVALID_ARG;
        goto out;
    }
    rootfd = open(r->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
        rc = errno == ENOENT ? ATT_ERR_NOT_FOUND : ATT_ERR_IO;
        goto out;
    }
    dirfd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dirfd < 0) {
        rc = errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? ATT_ERR_NOT_FOUND : ATT_ERR_IO;
        goto out;
    }
    rc = read_at(dirfd, "state.json", &b);
    if (rc != ATT_OK) {
        goto out;
    }
    rc = att_runc_state_decode((const char *)b.data, b.len, out, st, why, sizeof(why));
    if (rc != ATT_OK) {
        LOG_WARN("runc container %s: %s", id, why);
        goto out;
    }
    if (strcmp(out->id, id) != 0) {
        LOG_WARN("runc container %s: state.json names container %s", id, out->id);
        rc = ATT_ERR_PARSE;
        goto out;
    }
    if (out->pid > 0 && st->init_start != 0 && live_start_time(out->pid) == st->init_start) {
        /* runc's exec.fifo exists from `runc create` until `runc start`. */
        if (faccessat(dirfd, "exec.fifo", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
            state = "created";
        } else if (is_frozen(st)) {
            state = "paused";
        } else {
            state = "running";
        }
    } else {
        out->pid = 0; /* stopped: the pid may belong to someone else by now */
    }
    out->state = strdup(state);
    if (out->state == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    rc = ATT_OK;
out:
    if (rc != ATT_OK) {
        att_engine_container_cleanup(out);
    }
    if (dirfd >= 0) {
        (void)close(dirfd);
    }
    if (rootfd >= 0) {
        (void)close(rootfd);
    }
    att_buf_cleanup(&b);
    return rc;
}

att_rc engine_runc_list(struct engine_runc *r, struct att_engine_container **out, size_t *n)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_engine_container *list = NULL;
    struct att_runc_state *st = NULL;
    size_t count = 0;
    size_t cap = 0;
    struct dirent *de;
    DIR *d = NULL;

    if (r == NULL || out == NULL || n == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    d = opendir(r->root);
    if (d == NULL) {
        if (errno == ENOENT) {
            *out = NULL; /* no container was ever run with this root */
            *n = 0;
            return ATT_OK;
        }
        LOG_WARN("runc root %s: %s", r->root, strerror(errno));
        return ATT_ERR_IO;
    }
    st = calloc(1, sizeof(*st));
    if (st == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    while ((de = readdir(d)) != NULL) {
        if (!att_runc_id_ok(de->d_name) || de->d_name[0] == '.') {
            continue;
        }
        if (count == cap) {
            struct att_engine_container *grown;
            size_t ncap = cap == 0 ? 16 : cap * 2;

            if (ncap > ATT_ENGINE_MAX_CONTAINERS) {
                LOG_WARN("runc root %s: more than %d containers; listing the first %zu", r->root,
                         ATT_ENGINE_MAX_CONTAINERS, count);
                break;
            }
            grown = realloc(list, ncap * sizeof(*list));
            if (grown == NULL) {
                rc = ATT_ERR_NOMEM;
                goto out;
            }
            list = grown;
            cap = ncap;
        }
        memset(&list[count], 0, sizeof(list[count]));
        if (read_container(r, de->d_name, &list[count], st) == ATT_OK) {
            count++;
        }
    }
    rc = ATT_OK;
out:
    if (d != NULL) {
        (void)closedir(d);
    }
    if (rc == ATT_OK) {
        *out = list;
        *n = count;
        list = NULL; /* transferred to out */
    }
    att_engine_containers_free(list, count);
    free(st);
    return rc;
}

att_rc engine_runc_inspect(struct engine_runc *r, const char *id, struct att_engine_container *out)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_runc_state *st = NULL;

    if (r == NULL || out == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    st = calloc(1, sizeof(*st));
    if (st == NULL) {
        return ATT_ERR_NOMEM;
    }
    rc = read_container(r, id, out, st);
    free(st);
    return rc;
}

/*
 * Freeze or thaw the container's cgroup and wait until the kernel reports
 * the new state: a v1 freezer passes through FREEZING while tasks are being
 * stopped, and runc itself writes FROZEN again until it sticks.
 */
static att_rc set_frozen(const struct att_runc_state *st, bool freeze, char *why, size_t why_len)
{
    char path[ATT_RUNC_PATH_MAX + 32];
    struct timespec ten_ms = {0, 10000000L};
    bool is_v1 = st->freezer_path[0] != '\0';
    int i;

    if (!is_v1 && st->unified_path[0] == '\0') {
        att_set_why(why, why_len, "container has no freezer cgroup");
        return ATT_ERR_IO;
    }
    (void)snprintf(path, sizeof(path), "%s/%s", is_v1 ? st->freezer_path : st->unified_path,
                   is_v1 ? "freezer.state" : "cgroup.freeze");
    for (i = 0; i < FREEZE_TRIES; i++) {
        if (!write_small(path, is_v1 ? (freeze ? "FROZEN" : "THAWED") : (freeze ? "1" : "0"))) {
            att_set_why(why, why_len, "cannot write %s: %s", path, strerror(errno));
            return ATT_ERR_IO;
        }
        if (is_frozen(st) == freeze) {
            return ATT_OK;
        }
        (void)nanosleep(&ten_ms, NULL);
    }
    att_set_why(why, why_len, "%s did not become %s", path, freeze ? "frozen" : "thawed");
    return ATT_ERR_IO;
}

/*
 * SIGKILL the init process (in its own pid namespace this ends every process
 * of the container). The pidfd pins the process before its start time is
 * compared, so a pid reused in between is never signalled.
 */
static att_rc kill_init(const struct att_engine_container *c, const struct att_runc_state *st,
                        char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_IO;
    int fd = pidfd_open((pid_t)c->pid, 0);
    int err = errno;

    if (fd < 0) {
        att_set_why(why, why_len, "cannot open init process %lld of %s: %s", (long long)c->pid,
                    c->id, strerror(err));
        return err == ESRCH ? ATT_ERR_NOT_FOUND : ATT_ERR_IO;
    }
    if (live_start_time(c->pid) != st->init_start) {
        att_set_why(why, why_len, "init process %lld of %s is gone", (long long)c->pid, c->id);
        rc = ATT_ERR_NOT_FOUND;
        goto out;
    }
    if (pidfd_send_signal(fd, SIGKILL, NULL, 0) != 0) {
        err = errno;
        att_set_why(why, why_len, "cannot kill pid %lld of %s: %s", (long long)c->pid, c->id,
                    strerror(err));
        rc = err == ESRCH ? ATT_ERR_NOT_FOUND : ATT_ERR_IO;
        goto out;
    }
    rc = ATT_OK;
out:
    (void)close(fd);
    return rc;
}

att_rc engine_runc_action(struct engine_runc *r, const char *id, const char *action, char *why,
                          size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_engine_container c;
    struct att_runc_state *st = NULL;

    memset(&c, 0, sizeof(c));
    if (r == NULL || !att_runc_id_ok(id) || action == NULL ||
        (strcmp(action, "pause") != 0 && strcmp(action, "unpause") != 0 &&
         strcmp(action, "kill") != 0)) {
        att_set_why(why, why_len, "invalid container id or action");
        return ATT_ERR_INVALID_ARG;
    }
    st = calloc(1, sizeof(*st));
    if (st == NULL) {
        return ATT_ERR_NOMEM;
    }
    rc = read_container(r, id, &c, st);
    if (rc != ATT_OK) {
        att_set_why(why, why_len, "no runc container %s under %s", id, r->root);
        rc = rc == ATT_ERR_NOT_FOUND ? ATT_ERR_NOT_FOUND : ATT_ERR_IO;
        goto out;
    }
    if (c.pid <= 0) {
        att_set_why(why, why_len, "runc container %s is not running", id);
        rc = ATT_ERR_NOT_FOUND;
        goto out;
    }
    if (strcmp(action, "kill") == 0) {
        rc = kill_init(&c, st, why, why_len);
    } else {
        rc = set_frozen(st, strcmp(action, "pause") == 0, why, why_len);
    }
    if (rc != ATT_OK) {
        goto out;
    }
    rc = ATT_OK;
out:
    att_engine_container_cleanup(&c);
    free(st);
    return rc;
}
