/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* unshare, setns, struct ifreq */
/*
 * netisolate against a real network namespace: a forked child unshares one,
 * brings its lo up and listens on 127.0.0.1; a probe process joins that
 * namespace and connects, before, during and after isolation. Needs root
 * and nft (skipped otherwise). Also: the host namespace is refused and left
 * untouched, a pid without a process is NOT_FOUND.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "netisolate.h"

#define NFT "/usr/sbin/nft"

struct ns_child {
    pid_t pid;
    uint16_t port; /* listening on 127.0.0.1 inside the namespace */
};

/* In the new namespace: lo up, listen, report the port on @p fd, then sleep until killed. */
static _Noreturn void ns_child_main(int fd)
{
    struct ifreq ifr;
    struct sockaddr_in sa;
    socklen_t sa_len = sizeof(sa);
    uint16_t port = 0;
    int s;

    (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (unshare(CLONE_NEWNET) != 0) {
        _exit(1);
    }
    s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    memset(&ifr, 0, sizeof(ifr));
    (void)snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
        _exit(1);
    }
    ifr.ifr_flags = (short)(ifr.ifr_flags | IFF_UP);
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) {
        _exit(1);
    }
    (void)close(s);
    s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(s, 16) != 0 ||
        getsockname(s, (struct sockaddr *)&sa, &sa_len) != 0) {
        _exit(1);
    }
    port = ntohs(sa.sin_port);
    if (write(fd, &port, sizeof(port)) != (ssize_t)sizeof(port)) {
        _exit(1);
    }
    for (;;) {
        (void)pause();
    }
}

static int setup_ns(void **state)
{
    static struct ns_child c;
    int p[2];

    if (geteuid() != 0 || access(NFT, X_OK) != 0) {
        *state = NULL;
        return 0; /* the test skips */
    }
    if (pipe2(p, O_CLOEXEC) != 0) {
        return -1;
    }
    c.pid = fork();
    if (c.pid == 0) {
        (void)close(p[0]);
        ns_child_main(p[1]);
    }
    (void)close(p[1]);
    if (c.pid < 0 || read(p[0], &c.port, sizeof(c.port)) != (ssize_t)sizeof(c.port)) {
        (void)close(p[0]);
        return -1;
    }
    (void)close(p[0]);
    *state = &c;
    return 0;
}

static int teardown_ns(void **state)
{
    struct ns_child *c = *state;

    if (c != NULL && c->pid > 0) {
        (void)kill(c->pid, SIGKILL);
        (void)waitpid(c->pid, NULL, 0);
        c->pid = 0;
    }
    return 0;
}

/*
 * Whether a TCP connect to 127.0.0.1:port inside the namespace of @p pid
 * completes within 1 s, from a forked process that joined it.
 */
static bool can_connect(pid_t pid, uint16_t port)
{
    int status = 0;
    pid_t probe = fork();

    assert_true(probe >= 0);
    if (probe == 0) {
        char path[64];
        struct sockaddr_in sa;
        struct pollfd pfd;
        int err = 0;
        socklen_t err_len = sizeof(err);
        int fd;
        int s;

        (void)snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
            _exit(2);
        }
        s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sa.sin_port = htons(port);
        if (s < 0) {
            _exit(2);
        }
        if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            _exit(0);
        }
        if (errno != EINPROGRESS) {
            _exit(1);
        }
        pfd.fd = s;
        pfd.events = POLLOUT;
        if (poll(&pfd, 1, 1000) != 1 || getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0 ||
            err != 0) {
            _exit(1);
        }
        _exit(0);
    }
    assert_int_equal(waitpid(probe, &status, 0), probe);
    assert_true(WIFEXITED(status));
    assert_int_not_equal(WEXITSTATUS(status), 2); /* the probe itself must work */
    return WEXITSTATUS(status) == 0;
}

/* stdout of `nft list tables` in the host (this process's) namespace. */
static void host_tables(char *out, size_t out_len)
{
    char a0[] = NFT;
    char a1[] = "list";
    char a2[] = "tables";
    char *argv[] = {a0, a1, a2, NULL};
    char *envp[] = {NULL};
    size_t len = 0;
    ssize_t n;
    int status = 0;
    int p[2];
    pid_t pid;

    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (dup2(p[1], 1) != 1) {
            _exit(127);
        }
        (void)execve(argv[0], argv, envp);
        _exit(127);
    }
    (void)close(p[1]);
    while ((n = read(p[0], out + len, out_len - 1 - len)) > 0) {
        len += (size_t)n;
    }
    (void)close(p[0]);
    out[len] = '\0';
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void expect_status(pid_t pid, bool want)
{
    bool isolated = !want;
    char why[1024] = "";

    assert_int_equal(netisolate_status(pid, &isolated, why, sizeof(why)), ATT_OK);
    assert_int_equal(isolated, want);
}

static void test_netisolate_apply_cycle(void **state)
{
    struct ns_child *c = *state;
    char why[1024] = "";

    if (c == NULL) {
        skip();
    }
    expect_status(c->pid, false);
    assert_true(can_connect(c->pid, c->port));

    assert_int_equal(netisolate_apply(c->pid, why, sizeof(why)), ATT_OK);
    expect_status(c->pid, true);
    assert_false(can_connect(c->pid, c->port));
    assert_int_equal(netisolate_apply(c->pid, why, sizeof(why)), ATT_OK); /* idempotent */
    expect_status(c->pid, true);
    assert_false(can_connect(c->pid, c->port));

    assert_int_equal(netisolate_remove(c->pid, why, sizeof(why)), ATT_OK);
    expect_status(c->pid, false);
    assert_true(can_connect(c->pid, c->port));
    assert_int_equal(netisolate_remove(c->pid, why, sizeof(why)), ATT_OK); /* idempotent */
    expect_status(c->pid, false);
}

/* A stopped (or cgroup-frozen) target: only its /proc/PID/ns/net is used. */
static void test_netisolate_apply_stopped_target(void **state)
{
    struct ns_child *c = *state;
    char why[1024] = "";

    if (c == NULL) {
        skip();
    }
    assert_int_equal(kill(c->pid, SIGSTOP), 0);
    assert_int_equal(netisolate_apply(c->pid, why, sizeof(why)), ATT_OK);
    expect_status(c->pid, true);
    assert_false(can_connect(c->pid, c->port));
    assert_int_equal(netisolate_remove(c->pid, why, sizeof(why)), ATT_OK);
    expect_status(c->pid, false);
    assert_int_equal(kill(c->pid, SIGCONT), 0);
}

static void test_netisolate_apply_host_refused(void **state)
{
    char why[1024] = "";
    char tables[16384];
    bool isolated = false;

    (void)state;
    if (geteuid() != 0 || access(NFT, X_OK) != 0) {
        skip();
    }
    assert_int_equal(netisolate_apply(getpid(), why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_non_null(strstr(why, "agent's network namespace"));
    why[0] = '\0';
    assert_int_equal(netisolate_remove(getpid(), why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_true(why[0] != '\0');
    assert_int_equal(netisolate_status(getpid(), &isolated, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_int_equal(netisolate_apply(1, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_int_equal(netisolate_apply(0, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    assert_int_equal(netisolate_apply(-1, why, sizeof(why)), ATT_ERR_INVALID_ARG);
    host_tables(tables, sizeof(tables));
    assert_null(strstr(tables, NETISOLATE_TABLE));
}

static void test_netisolate_apply_no_process(void **state)
{
    char why[1024] = "";
    bool isolated = false;
    pid_t gone = fork();

    (void)state;
    assert_true(gone >= 0);
    if (gone == 0) {
        _exit(0);
    }
    assert_int_equal(waitpid(gone, NULL, 0), gone); /* reaped: no process has that pid now */
    assert_int_equal(netisolate_apply(gone, why, sizeof(why)), ATT_ERR_NOT_FOUND);
    assert_non_null(strstr(why, "no process"));
    assert_int_equal(netisolate_remove(gone, why, sizeof(why)), ATT_ERR_NOT_FOUND);
    assert_int_equal(netisolate_status(gone, &isolated, why, sizeof(why)), ATT_ERR_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_netisolate_apply_cycle, setup_ns, teardown_ns),
        cmocka_unit_test_setup_teardown(test_netisolate_apply_stopped_target, setup_ns,
                                        teardown_ns),
        cmocka_unit_test(test_netisolate_apply_host_refused),
        cmocka_unit_test(test_netisolate_apply_no_process),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
