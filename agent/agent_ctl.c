/* SPDX-License-Identifier: Apache-2.0 */
/* Control socket server and client (see agent_ctl.h). */
#define _GNU_SOURCE /* SO_PEERCRED, struct ucred, accept4 */
#include "agent_ctl.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "attest/buf.h"
#include "agent_hook.h"
#include "hook_client.h"
#include "attest/log.h"
#include "rootfs.h"

static att_rc sock_path(const char *state_dir, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/agent.sock", state_dir) >=
        (int)sizeof(sa->sun_path)) {
        LOG_ERR("state dir path too long for a unix socket (max %zu): %s",
                sizeof(sa->sun_path) - 12, state_dir);
        return ATT_ERR_INVALID_ARG;
    }
    return ATT_OK;
}

static void write_all(int fd, const char *s, size_t len)
{
    while (len > 0) {
        /* MSG_NOSIGNAL: a peer that hung up (the agent refused us) must not kill us */
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        s += n;
        len -= (size_t)n;
    }
}

/* Read the whole request (bounded, 2 s per read, given up when the agent is
 * told to stop), answer line by line. */
static void serve_one(struct agent *a, struct rootfs_cache *cache, int fd, int stop_fd)
{
    struct att_buf req;
    char chunk[4096];
    char reply[4096 + 64];
    struct ucred cred;
    socklen_t cl = sizeof(cred);
    struct pollfd pfd[2] = {{.fd = fd, .events = POLLIN}, {.fd = stop_fd, .events = POLLIN}};
    char *line;
    char *next;
    ssize_t n;

    att_buf_init(&req, AGENT_CTL_MAX_REQUEST);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 ||
        (cred.uid != 0 && cred.uid != geteuid())) {
        LOG_WARN("control socket: refused a peer with uid %u", (unsigned)cred.uid);
        write_all(fd, "error: permission denied\n", 25);
        goto out;
    }
    for (;;) {
        if (poll(pfd, 2, 2000) <= 0 || pfd[1].revents != 0) {
            write_all(fd, "error: request timed out\n", 25);
            goto out;
        }
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        if (att_buf_append(&req, chunk, (size_t)n) != ATT_OK) {
            write_all(fd, "error: request too large\n", 25);
            goto out;
        }
    }
    if (req.len == 0) {
        goto out;
    }
    for (line = (char *)req.data; line != NULL && *line != '\0'; line = next) {
        next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        }
        if (strncmp(line, "MEASURE ", 8) == 0) {
            (void)agent_measure_file(a, line + 8, reply, sizeof(reply) - 1);
        } else if (strncmp(line, "HOOK ", 5) == 0 && strchr(line + 5, ' ') != NULL) {
            /* HOOK <storage root or -> <OCI state JSON on one line> */
            char *json = strchr(line + 5, ' ');

            *json++ = '\0';
            (void)agent_hook(a, cache, strcmp(line + 5, "-") == 0 ? NULL : line + 5, json,
                             strlen(json), reply, sizeof(reply) - 1);
        } else {
            (void)snprintf(reply, sizeof(reply) - 1, "error: unknown request \"%.64s\"", line);
        }
        {
            size_t len = strnlen(reply, sizeof(reply) - 2);

            reply[len] = '\n';
            write_all(fd, reply, len + 1);
        }
    }
out:
    att_buf_cleanup(&req);
}

att_rc agent_ctl_serve(struct agent *a, const char *state_dir, int stop_fd)
{
    att_rc rc = ATT_ERR_IO;
    struct sockaddr_un sa;
    int lfd = -1;
    mode_t old;
    struct rootfs_cache *cache = rootfs_cache_new(ROOTFS_CACHE_DEFAULT_MAX);

    if (cache == NULL) {
        return ATT_ERR_NOMEM;
    }
    rc = sock_path(state_dir, &sa);
    if (rc != ATT_OK) {
        goto out;
    }
    (void)unlink(sa.sun_path); /* stale from a killed agent; the state-dir lock is ours */
    lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0) {
        rc = ATT_ERR_IO;
        goto out;
    }
    old = umask(0177);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        umask(old);
        LOG_ERR("cannot bind %s: %s", sa.sun_path, strerror(errno));
        rc = ATT_ERR_IO;
        goto out;
    }
    umask(old);
    if (chmod(sa.sun_path, 0600) != 0 || listen(lfd, 16) != 0) {
        rc = ATT_ERR_IO;
        goto out;
    }
    for (;;) {
        struct pollfd p[2] = {{.fd = lfd, .events = POLLIN}, {.fd = stop_fd, .events = POLLIN}};
        int cfd;

        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            rc = ATT_ERR_IO;
            goto out;
        }
        if (p[1].revents != 0) {
            break;
        }
        if ((p[0].revents & POLLIN) == 0) {
            continue;
        }
        cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (cfd < 0) {
            continue;
        }
        serve_one(a, cache, cfd, stop_fd);
        (void)close(cfd);
    }
    rc = ATT_OK;
out:
    if (lfd >= 0) {
        (void)close(lfd);
        (void)unlink(sa.sun_path);
    }
    rootfs_cache_free(cache);
    return rc;
}

int agent_ctl_measure(const char *state_dir, char *const *paths, size_t n)
{
    struct sockaddr_un sa;
    struct att_buf req;
    struct att_buf resp;
    char abs[PATH_MAX];
    char chunk[4096];
    int fd = -1;
    int ret = 2;
    size_t i;
    size_t answered;
    ssize_t r;
    char *line;
    char *next;

    att_buf_init(&req, AGENT_CTL_MAX_REQUEST);
    att_buf_init(&resp, 16u << 20);
    if (sock_path(state_dir, &sa) != ATT_OK) {
        goto out;
    }
    for (i = 0; i < n; i++) {
        const char *p = paths[i];

        if (strchr(p, '\n') != NULL) {
            fprintf(stderr, "attest-agent: path contains a newline: refused\n");
            goto out;
        }
        if (p[0] != '/') {
            /* Absolute against our cwd; the file must exist for realpath. */
            if (realpath(p, abs) == NULL) {
                fprintf(stderr, "attest-agent: %s: %s\n", p, strerror(errno));
                ret = 1;
                goto out;
            }
            p = abs;
        }
        if (att_buf_printf(&req, "MEASURE %s\n", p) != ATT_OK) {
            fprintf(stderr, "attest-agent: too many paths in one call\n");
            goto out;
        }
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        fprintf(stderr, "attest-agent: cannot reach the agent at %s: %s (is it running?)\n",
                sa.sun_path, strerror(errno));
        goto out;
    }
    write_all(fd, (const char *)req.data, req.len);
    (void)shutdown(fd, SHUT_WR);
    while ((r = read(fd, chunk, sizeof(chunk))) > 0) {
        if (att_buf_append(&resp, chunk, (size_t)r) != ATT_OK) {
            break;
        }
    }
    ret = 0;
    answered = 0;
    for (line = (char *)resp.data; line != NULL && *line != '\0'; line = next) {
        next = strchr(line, '\n');
        if (next == NULL) {
            break; /* a cut last line (the agent died writing it) is no answer */
        }
        *next++ = '\0';
        printf("%s\n", line);
        answered++;
        if (strncmp(line, "measured ", 9) != 0 && strncmp(line, "unchanged ", 10) != 0) {
            ret = 1;
        }
    }
    if (resp.len == 0) {
        fprintf(stderr, "attest-agent: the agent closed the connection without an answer\n");
        ret = 2;
    } else if (answered < n) {
        /* The agent went away mid-request: the paths without an answer may or
         * may not be measured, so this call did not succeed. */
        fprintf(stderr,
                "attest-agent: the agent answered %zu of %zu paths and closed the connection\n",
                answered, n);
        ret = 2;
    }
out:
    if (fd >= 0) {
        (void)close(fd);
    }
    att_buf_cleanup(&req);
    att_buf_cleanup(&resp);
    return ret;
}

int agent_ctl_hook(const char *state_dir, const char *storage, bool fail_open)
{
    return hook_client_run(state_dir, storage, fail_open);
}
