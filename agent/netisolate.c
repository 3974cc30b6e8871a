/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* setns, close_range, pipe2, pidfd_open (glibc 2.36) */
/*
 * Quarantine network isolation (see netisolate.h): nft(8) run inside the
 * target's network namespace. The namespace is opened and checked in the
 * agent, and the child joins exactly that open file with setns(2), so the
 * "not the agent's own namespace" check and the join cannot be split by a
 * pid that is reused in between. Rulesets go to `nft -f -` on a pipe that is
 * filled and closed before fork (they are far smaller than PIPE_BUF), so the
 * agent never blocks on, or takes SIGPIPE from, a child that died early.
 * nft's stdout and stderr are read with caps under one deadline.
 */
#include "netisolate.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attest/util.h"

#define ERR_MAX  1024          /* bytes of nft's stderr kept for why */
#define OUT_MAX  (64u * 1024u) /* bytes of nft's stdout kept (status only) */
#define MAX_ARGS 8

/* Exit codes of the forked child before nft runs; nft itself uses 0..3. */
#define CHILD_SETUP_FAILED 125
#define CHILD_SETNS_FAILED 126
#define CHILD_EXEC_FAILED  127

static const char *const nft_paths[] = {"/usr/sbin/nft", "/sbin/nft"};

/*
 * Created if missing, then deleted and created again in one transaction:
 * whatever a table of that name held before (ours, or one the container
 * made), afterwards it is exactly these three drop chains, with no window
 * in which the namespace is open.
 */
static const char apply_ruleset[] =
    "table inet " NETISOLATE_TABLE " {}\n"
    "delete table inet " NETISOLATE_TABLE "\n"
    "table inet " NETISOLATE_TABLE " {\n"
    "    chain input { type filter hook input priority -300; policy drop; }\n"
    "    chain output { type filter hook output priority -300; policy drop; }\n"
    "    chain forward { type filter hook forward priority -300; policy drop; }\n"
    "}\n";

/* Create-then-delete, so deleting a table that is not there succeeds. */
static const char remove_ruleset[] = "table inet " NETISOLATE_TABLE " {}\n"
                                     "delete table inet " NETISOLATE_TABLE "\n";

/*
 * Open /proc/PID/ns/net into *fd (O_CLOEXEC) and refuse the agent's own
 * namespace: two nsfs files are the same namespace when st_dev and st_ino
 * are equal (namespaces(7)).
 */
static att_rc open_netns(pid_t pid, int *fd, char *why, size_t why_len)
{
    char path[64];
    struct stat target;
    struct stat self;
    int nsfd;

    if (pid <= 1) {
        att_set_why(why, why_len, "pid %d cannot be a container process", (int)pid);
        return ATT_ERR_INVALID_ARG;
    }
    (void)snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
    nsfd = open(path, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) {
        if (errno == ENOENT || errno == ESRCH) {
            att_set_why(why, why_len, "no process %d", (int)pid);
            return ATT_ERR_NOT_FOUND;
        }
        att_set_why(why, why_len, "cannot open %s: %s", path, strerror(errno));
        return ATT_ERR_IO;
    }
    if (fstat(nsfd, &target) != 0 || stat("/proc/self/ns/net", &self) != 0) {
        att_set_why(why, why_len, "cannot stat network namespaces: %s", strerror(errno));
        (void)close(nsfd);
        return ATT_ERR_IO;
    }
    if (target.st_dev == self.st_dev && target.st_ino == self.st_ino) {
        att_set_why(why, why_len,
                    "process %d shares the agent's network namespace (host network): "
                    "refusing to change it",
                    (int)pid);
        (void)close(nsfd);
        return ATT_ERR_INVALID_ARG;
    }
    *fd = nsfd;
    return ATT_OK;
}

/*
 * The forked child: join the namespace, wire the pipes to fds 0..2, close
 * everything else and exec nft. Only async-signal-safe calls (the agent is
 * multithreaded). Never returns.
 */
static _Noreturn void child_exec(int nsfd, int in_fd, int out_fd, int err_fd, char *const argv[],
                                 char *const envp[])
{
    int fds[3];
    sigset_t none;
    struct sigaction dfl;
    int i;

    (void)sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    (void)sigaction(SIGPIPE, &dfl, NULL); /* the daemon ignores it; SIG_IGN survives exec */
    if (setns(nsfd, CLONE_NEWNET) != 0) {
        _exit(CHILD_SETNS_FAILED);
    }
    /* Move the pipe ends above 2 first, so no dup2() below overwrites another one. */
    fds[0] = fcntl(in_fd, F_DUPFD_CLOEXEC, 3);
    fds[1] = fcntl(out_fd, F_DUPFD_CLOEXEC, 3);
    fds[2] = fcntl(err_fd, F_DUPFD_CLOEXEC, 3);
    for (i = 0; i < 3; i++) {
        if (fds[i] < 0 || dup2(fds[i], i) != i) {
            _exit(CHILD_SETUP_FAILED);
        }
    }
    /* Everything is O_CLOEXEC already; this also covers fds opened without it elsewhere. */
    (void)close_range(3, UINT_MAX, 0);
    (void)execve(argv[0], argv, envp);
    _exit(CHILD_EXEC_FAILED);
}

static long ms_left(const struct timespec *deadline)
{
    struct timespec now;
    long ms;

    (void)clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (long)(deadline->tv_sec - now.tv_sec) * 1000L +
         (deadline->tv_nsec - now.tv_nsec) / 1000000L;
    return ms > 0 ? ms : 0;
}

/*
 * Read what is there from *fd into @p dst (at most @p max bytes kept in
 * total, the rest read and dropped). On EOF or error, close *fd and set it
 * to -1.
 */
static void drain(int *fd, char *dst, size_t *len, size_t max)
{
    char chunk[4096];
    ssize_t n = read(*fd, chunk, sizeof(chunk));
    size_t keep;

    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return;
    }
    if (n <= 0) {
        (void)close(*fd);
        *fd = -1;
        return;
    }
    keep = (size_t)n;
    if (keep > max - *len) {
        keep = max - *len;
    }
    memcpy(dst + *len, chunk, keep);
    *len += keep;
}

/*
 * nft's stderr as one printable line, in place: each run of newlines,
 * control bytes and spaces becomes one space; no trailing space.
 * @p s holds @p len bytes and room for the NUL.
 */
static void flatten(char *s, size_t len)
{
    size_t i;
    size_t j = 0;

    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        bool is_blank = ch <= 0x20 || ch >= 0x7f;

        if (!is_blank) {
            s[j++] = (char)ch;
        } else if (j > 0 && s[j - 1] != ' ') {
            s[j++] = ' ';
        }
    }
    if (j > 0 && s[j - 1] == ' ') {
        j--;
    }
    s[j] = '\0';
}

struct nft_io {
    char err[ERR_MAX + 1];
    size_t err_len;
    char *out; /* NULL: stdout is read and dropped */
    size_t out_len;
    size_t out_max;
};

/*
 * Run `nft ARGS` (ARGS split on single spaces) inside the namespace @p nsfd,
 * with @p input on its stdin (NULL: empty). Waits at most
 * NETISOLATE_TIMEOUT_S, then SIGKILLs and reaps it. ATT_OK only when nft
 * exited 0; io->err holds its stderr either way.
 */
static att_rc run_nft(int nsfd, const char *args, const char *input, struct nft_io *io, char *why,
                      size_t why_len)
{
    att_rc rc = ATT_ERR_IO;
    char nft[32] = "";
    char argline[128];
    char env_lc[] = "LC_ALL=C";
    char env_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    char *envp[] = {env_lc, env_path, NULL};
    char *argv[MAX_ARGS + 2];
    char dropped[4096];
    size_t dropped_len;
    size_t argc = 0;
    size_t i;
    int in[2] = {-1, -1};
    int out[2] = {-1, -1};
    int err[2] = {-1, -1};
    int pidfd = -1;
    pid_t child = -1;
    bool is_exited = false;
    bool is_killed = false;
    int status = 0;
    struct timespec deadline;
    size_t input_len = input != NULL ? strlen(input) : 0;

    for (i = 0; i < sizeof(nft_paths) / sizeof(nft_paths[0]); i++) {
        if (access(nft_paths[i], X_OK) == 0) {
            (void)snprintf(nft, sizeof(nft), "%s", nft_paths[i]);
            break;
        }
    }
    if (nft[0] == '\0') {
        att_set_why(why, why_len, "nft not found at /usr/sbin/nft or /sbin/nft");
        return ATT_ERR_IO;
    }
    if (strlen(args) >= sizeof(argline) || input_len >= PIPE_BUF) {
        att_set_why(why, why_len, "nft command too long");
        return ATT_ERR_INTERNAL;
    }
    (void)snprintf(argline, sizeof(argline), "%s", args);
    argv[argc++] = nft;
    for (i = 0; argline[i] != '\0' && argc <= MAX_ARGS; i++) {
        if (i == 0 || argline[i - 1] == '\0') {
            argv[argc++] = &argline[i];
        }
        if (argline[i] == ' ') {
            argline[i] = '\0';
        }
    }
    argv[argc] = NULL;

    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
        att_set_why(why, why_len, "pipe: %s", strerror(errno));
        goto out;
    }
    /* Smaller than PIPE_BUF and the pipe is empty: one write, never blocks. */
    if (input_len > 0 && write(in[1], input, input_len) != (ssize_t)input_len) {
        att_set_why(why, why_len, "cannot pass the ruleset to nft: %s", strerror(errno));
        goto out;
    }
    (void)close(in[1]);
    in[1] = -1;
    (void)clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += NETISOLATE_TIMEOUT_S;

    child = fork();
    if (child < 0) {
        att_set_why(why, why_len, "fork: %s", strerror(errno));
        goto out;
    }
    if (child == 0) {
        child_exec(nsfd, in[0], out[1], err[1], argv, envp);
    }
    (void)close(in[0]);
    (void)close(out[1]);
    (void)close(err[1]);
    in[0] = out[1] = err[1] = -1;
    pidfd = pidfd_open(child, 0); /* our unreaped child: the pid cannot be reused */
    if (pidfd < 0) {
        att_set_why(why, why_len, "pidfd_open: %s", strerror(errno));
        is_killed = true;
        (void)kill(child, SIGKILL);
    }

    while (!is_killed && (out[0] >= 0 || err[0] >= 0 || !is_exited)) {
        struct pollfd p[3] = {
            {.fd = out[0], .events = POLLIN},
            {.fd = err[0], .events = POLLIN},
            {.fd = is_exited ? -1 : pidfd, .events = POLLIN},
        };
        long ms = ms_left(&deadline);
        int n;

        if (ms == 0 && !is_exited) {
            att_set_why(why, why_len, "nft took longer than %d s; killed", NETISOLATE_TIMEOUT_S);
            rc = ATT_ERR_TIMEOUT;
            is_killed = true;
            (void)kill(child, SIGKILL);
            break;
        }
        /*
         * Once nft has exited all it wrote is in the pipes: take that, but do
         * not wait for EOF, which a process forked meanwhile by another agent
         * thread (holding copies of the write ends until its exec) can delay.
         */
        n = poll(p, 3, is_exited ? 0 : (int)ms);
        if (n == 0 && is_exited) {
            break;
        }
        if (n < 0 && errno != EINTR) {
            att_set_why(why, why_len, "poll: %s", strerror(errno));
            is_killed = true;
            (void)kill(child, SIGKILL);
            break;
        }
        if (n <= 0) {
            continue;
        }
        if (p[0].revents != 0) {
            dropped_len = 0;
            if (io->out != NULL) {
                drain(&out[0], io->out, &io->out_len, io->out_max);
            } else {
                drain(&out[0], dropped, &dropped_len, sizeof(dropped));
            }
        }
        if (p[1].revents != 0) {
            drain(&err[0], io->err, &io->err_len, ERR_MAX);
        }
        if (p[2].revents != 0) {
            is_exited = true;
        }
    }
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) {
            att_set_why(why, why_len, "waitpid: %s", strerror(errno));
            is_killed = true;
            break;
        }
    }
    child = -1;
    flatten(io->err, io->err_len);
    if (is_killed) {
        goto out; /* rc and why already say why */
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_SETNS_FAILED) {
        att_set_why(why, why_len, "cannot join the target's network namespace");
        goto out;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_EXEC_FAILED) {
        att_set_why(why, why_len, "cannot execute %s", nft);
        goto out;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        att_set_why(why, why_len, "%s %s failed (%s %d): %s", nft, args,
                    WIFEXITED(status) ? "exit" : "signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                    io->err_len > 0 ? io->err : "no message");
        goto out;
    }
    rc = ATT_OK;
out:
    if (child > 0) {
        (void)kill(child, SIGKILL);
        (void)waitpid(child, NULL, 0);
    }
    for (i = 0; i < 2; i++) {
        if (in[i] >= 0) {
            (void)close(in[i]);
        }
        if (out[i] >= 0) {
            (void)close(out[i]);
        }
        if (err[i] >= 0) {
            (void)close(err[i]);
        }
    }
    if (pidfd >= 0) {
        (void)close(pidfd);
    }
    return rc;
}

/* open_netns() + run_nft() + close. */
static att_rc in_netns(pid_t pid, const char *args, const char *input, struct nft_io *io, char *why,
                       size_t why_len)
{
    int nsfd = -1;
    att_rc rc = open_netns(pid, &nsfd, why, why_len);

    if (rc != ATT_OK) {
        return rc;
    }
    rc = run_nft(nsfd, args, input, io, why, why_len);
    (void)close(nsfd);
    return rc;
}

att_rc netisolate_apply(pid_t pid, char *why, size_t why_len)
{
    struct nft_io io;

    memset(&io, 0, sizeof(io));
    return in_netns(pid, "-f -", apply_ruleset, &io, why, why_len);
}

att_rc netisolate_remove(pid_t pid, char *why, size_t why_len)
{
    struct nft_io io;

    memset(&io, 0, sizeof(io));
    return in_netns(pid, "-f -", remove_ruleset, &io, why, why_len);
}

att_rc netisolate_status(pid_t pid, bool *isolated, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct nft_io io;
    const char *line;
    const char *nl;
    size_t len;
    bool has_table = false;
    static const char want[] = "table inet " NETISOLATE_TABLE;

    if (isolated == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    memset(&io, 0, sizeof(io));
    io.out_max = OUT_MAX;
    io.out = malloc(OUT_MAX + 1);
    if (io.out == NULL) {
        return ATT_ERR_NOMEM;
    }
    /*
     * Listing all inet tables and matching the line exactly, rather than
     * `nft list table` and its exit status, keeps "no such table" apart from
     * nft failing for another reason.
     */
    rc = in_netns(pid, "list tables inet", NULL, &io, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    if (io.out_len == OUT_MAX) {
        att_set_why(why, why_len, "nft listed more than %u bytes of tables", OUT_MAX);
        rc = ATT_ERR_IO;
        goto out;
    }
    io.out[io.out_len] = '\0';
    for (line = io.out; line != NULL && *line != '\0'; line = nl != NULL ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        len = nl != NULL ? (size_t)(nl - line) : strlen(line);
        if (len == sizeof(want) - 1 && memcmp(line, want, len) == 0) {
            has_table = true;
        }
    }
    *isolated = has_table;
    rc = ATT_OK;
out:
    free(io.out);
    return rc;
}
