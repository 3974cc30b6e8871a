/* SPDX-License-Identifier: Apache-2.0 */
/* OCI prestart hook client (see hook_client.h). No allocation beyond one buffer. */
#include "hook_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define HOOK_MAX_REPLY 65536u

static int write_all(int fd, const char *s, size_t len)
{
    while (len > 0) {
        /* MSG_NOSIGNAL: an agent that hung up (it refused us) must not kill the hook */
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        s += n;
        len -= (size_t)n;
    }
    return 0;
}

int hook_client_run(const char *state_dir, const char *storage, bool fail_open)
{
    struct sockaddr_un sa;
    char *req = NULL;
    char reply[HOOK_MAX_REPLY + 1];
    size_t len = 0;
    size_t got = 0;
    size_t i;
    ssize_t r;
    int fd = -1;
    int n;
    int ret = 1;
    bool sent;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (state_dir == NULL || snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/agent.sock",
                                      state_dir) >= (int)sizeof(sa.sun_path)) {
        fprintf(stderr, "attest: state dir path too long for a unix socket: refusing\n");
        return 1;
    }
    req = malloc(HOOK_MAX_REQUEST + 1);
    if (req == NULL) {
        fprintf(stderr, "attest: out of memory: refusing\n");
        return 1;
    }
    n = snprintf(req, HOOK_MAX_REQUEST, "HOOK %s ", storage != NULL ? storage : "-");
    if (n < 0 || (size_t)n >= HOOK_MAX_REQUEST / 2) {
        fprintf(stderr, "attest: storage path too long: refusing\n");
        goto out;
    }
    len = (size_t)n;
    while ((r = read(STDIN_FILENO, req + len, HOOK_MAX_REQUEST - len)) > 0) {
        /* JSON never needs a raw newline (strings escape them): fold to one line. */
        for (i = len; i < len + (size_t)r; i++) {
            if (req[i] == '\n' || req[i] == '\r') {
                req[i] = ' ';
            }
        }
        len += (size_t)r;
        if (len >= HOOK_MAX_REQUEST) {
            fprintf(stderr, "attest: OCI state larger than %u bytes: refusing\n",
                    HOOK_MAX_REQUEST - 1);
            goto out;
        }
    }
    req[len++] = '\n';
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        if (fail_open) {
            fprintf(stderr, "attest: agent unreachable at %s; starting anyway (--fail-open)\n",
                    sa.sun_path);
            ret = 0;
        } else {
            fprintf(stderr, "attest: agent unreachable at %s: refusing the start (fail closed)\n",
                    sa.sun_path);
        }
        goto out;
    }
    /* On a failed send the agent may still have said why (e.g. permission denied). */
    sent = write_all(fd, req, len) == 0;
    (void)shutdown(fd, SHUT_WR);
    while (got < HOOK_MAX_REPLY && (r = read(fd, reply + got, HOOK_MAX_REPLY - got)) != 0) {
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        got += (size_t)r;
    }
    reply[got] = '\0';
    if (sent && got > 6 && strncmp(reply, "admit ", 6) == 0) {
        ret = 0;
    } else if (!sent && got == 0) {
        fprintf(stderr, "attest: cannot send the OCI state to the agent: refusing\n");
    } else {
        fprintf(stderr, "attest: %s", got > 0 ? reply : "no answer from the agent: refusing\n");
    }
out:
    if (fd >= 0) {
        (void)close(fd);
    }
    free(req);
    return ret;
}
