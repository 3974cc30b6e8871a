/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* unshare, setns, struct ifreq */
/*
 * netisolate and netfilter (libnftables) against a real network namespace: a
 * forked child unshares one, brings its lo up and listens on 127.0.0.1; a
 * probe process joins that namespace and connects, before, during and after
 * isolation. A container network policy table is applied, read back (its
 * canonical digest), changed by hand (drift shows in the digest), left in
 * place under an isolation and removed. Needs root (skipped otherwise). Also:
 * the host namespace is refused and left untouched, a pid without a process
 * is NOT_FOUND, nftables' own error messages come through.
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
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "attest/netpolicy.h"
#include "netfilter.h"
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

    if (geteuid() != 0) {
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

/* A policy: default deny, egress tcp 10.9.0.0/16 port 80-90, egress udp dns-named, ingress tcp 22.
 */
static struct att_net_policy *sample_policy(void)
{
    struct att_net_policy *np = calloc(1, sizeof(*np));
    char why[256] = "";

    assert_non_null(np);
    np->resolve_interval = 300;
    np->n_rules = 3;
    np->rules = calloc(3, sizeof(*np->rules));
    assert_non_null(np->rules);
    np->rules[0].dir = ATT_NET_EGRESS;
    np->rules[0].allow = true;
    np->rules[0].proto = ATT_NET_TCP;
    assert_int_equal(att_net_cidr_parse("10.9.0.0/16", &np->rules[0], why, sizeof(why)), ATT_OK);
    np->rules[0].port_lo = 80;
    np->rules[0].port_hi = 90;
    np->rules[1].dir = ATT_NET_EGRESS;
    np->rules[1].allow = true;
    np->rules[1].proto = ATT_NET_UDP;
    np->rules[1].dns = calloc(1, sizeof(char *));
    assert_non_null(np->rules[1].dns);
    np->rules[1].dns[0] = strdup("localhost");
    np->rules[1].n_dns = 1;
    np->rules[1].port_lo = 53;
    np->rules[1].port_hi = 53;
    np->rules[2].dir = ATT_NET_INGRESS;
    np->rules[2].allow = true;
    np->rules[2].proto = ATT_NET_TCP;
    np->rules[2].port_lo = 22;
    np->rules[2].port_hi = 22;
    return np;
}

static const char test_table[] =
    NF_TABLE_PREFIX "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* The script for the sample policy, with "localhost" resolved to what this machine says. */
static void render_sample(struct att_net_policy *np, struct att_buf *script)
{
    struct nf_resolved res;

    assert_int_equal(nf_resolve(np, &res), ATT_OK);
    assert_int_equal(res.n_rules, 3);
    assert_true(res.rules[1].n_v4 + res.rules[1].n_v6 > 0); /* /etc/hosts has localhost */
    att_buf_init(script, 1u << 20);
    assert_int_equal(nf_render(test_table, np, &res, script), ATT_OK);
    assert_int_equal(att_buf_append(script, "", 1), ATT_OK);
    nf_resolved_cleanup(&res);
}

static void test_netfilter_render_text(void **state)
{
    struct att_net_policy *np = sample_policy();
    struct att_buf script;
    const char *t;

    (void)state;
    render_sample(np, &script);
    t = (const char *)script.data;
    assert_non_null(strstr(t, "delete table inet " NF_TABLE_PREFIX));
    assert_non_null(strstr(t, " egress ip daddr 10.9.0.0/16 tcp dport 80-90 accept\n"));
    assert_non_null(strstr(t, " ingress tcp dport 22 accept\n"));
    assert_non_null(strstr(t, "udp dport 53 accept\n"));
    assert_non_null(strstr(t, "counter name \"" NF_COUNTER_EGRESS "\" reject with tcp reset\n"));
    assert_non_null(strstr(t, "counter name \"" NF_COUNTER_INGRESS "\" drop\n"));
    assert_non_null(strstr(t, "egress icmpv6 type { nd-neighbor-solicit")); /* IPv6 must work */
    assert_non_null(strstr(t, "ingress icmpv6 type { nd-neighbor-solicit"));
    /* default allow: no final refusals */
    att_buf_cleanup(&script);
    np->default_allow = true;
    np->rules[0].allow = false;
    att_buf_init(&script, 1u << 20);
    assert_int_equal(nf_render(test_table, np, NULL, &script), ATT_OK);
    assert_int_equal(att_buf_append(&script, "", 1), ATT_OK);
    t = (const char *)script.data;
    assert_non_null(
        strstr(t, " egress ip daddr 10.9.0.0/16 tcp dport 80-90 counter name \"" NF_COUNTER_EGRESS
                  "\" reject with tcp reset\n"));
    assert_null(strstr(t, "udp dport 53")); /* DNS names unresolved: no rule */
    assert_null(strstr(t, "egress counter name"));
    /* a table name that is not ours is refused */
    assert_int_equal(nf_render("bad name", np, NULL, &script), ATT_ERR_INVALID_ARG);
    att_buf_cleanup(&script);
    att_net_policy_free(np);
}

/* A deny rule whose names did not (all) resolve would fail open: refused. */
static void test_netfilter_deny_needs_addresses(void **state)
{
    struct att_net_policy *np = sample_policy();
    struct nf_resolved res;
    char why[256] = "";

    (void)state;
    np->rules[1].allow = false; /* the DNS rule becomes a deny rule */
    assert_int_equal(nf_resolve(np, &res), ATT_OK);
    assert_int_equal(nf_resolved_check(np, &res, why, sizeof(why)),
                     ATT_OK); /* localhost resolved */
    res.rules[1].lookup_failed = true;
    assert_int_equal(nf_resolved_check(np, &res, why, sizeof(why)), ATT_ERR_POLICY);
    assert_non_null(strstr(why, "deny rule 1: localhost did not resolve"));
    res.rules[1].lookup_failed = false;
    res.rules[1].truncated = true;
    assert_int_equal(nf_resolved_check(np, &res, why, sizeof(why)), ATT_ERR_POLICY);
    assert_non_null(strstr(why, "more addresses"));
    res.rules[1].truncated = false;
    res.rules[1].n_v4 = 0;
    res.rules[1].n_v6 = 0;
    assert_int_equal(nf_resolved_check(np, &res, why, sizeof(why)), ATT_ERR_POLICY);
    np->rules[1].allow = true; /* an allow rule with nothing resolved fails closed: fine */
    assert_int_equal(nf_resolved_check(np, &res, why, sizeof(why)), ATT_OK);
    nf_resolved_cleanup(&res);
    att_net_policy_free(np);
}

static void test_netfilter_canonical(void **state)
{
    static const char listing[] =
        "{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\"}},"
        " {\"table\": {\"family\": \"inet\", \"name\": \"t\", \"handle\": 7}},"
        " {\"counter\": {\"family\": \"inet\", \"name\": \"egress_dropped\", \"table\": \"t\","
        " \"handle\": 2, \"packets\": 5, \"bytes\": 300}},"
        " {\"counter\": {\"family\": \"inet\", \"name\": \"ingress_dropped\", \"table\": \"t\","
        " \"handle\": 3, \"packets\": 9, \"bytes\": 540}},"
        " {\"rule\": {\"family\": \"inet\", \"table\": \"t\", \"chain\": \"egress\", \"handle\": 4,"
        " \"expr\": [{\"counter\": {\"packets\": 1, \"bytes\": 2}}, {\"accept\": null}]}}]}";
    struct att_buf c;
    uint64_t eg = 0;
    uint64_t in = 0;

    (void)state;
    att_buf_init(&c, 1u << 16);
    assert_int_equal(nf_canonical(listing, strlen(listing), &c, &eg, &in), ATT_OK);
    assert_int_equal(eg, 5);
    assert_int_equal(in, 9);
    assert_int_equal(att_buf_append(&c, "", 1), ATT_OK);
    assert_string_equal(
        (const char *)c.data,
        "[{\"table\":{\"family\":\"inet\",\"name\":\"t\"}},"
        "{\"counter\":{\"family\":\"inet\",\"name\":\"egress_dropped\",\"table\":\"t\"}},"
        "{\"counter\":{\"family\":\"inet\",\"name\":\"ingress_dropped\",\"table\":\"t\"}},"
        "{\"rule\":{\"chain\":\"egress\",\"expr\":[{\"counter\":{}},{\"accept\":null}],"
        "\"family\":\"inet\",\"table\":\"t\"}}]");
    att_buf_cleanup(&c);
    assert_int_equal(nf_canonical("{\"nftables\": 3}", 15, NULL, NULL, NULL), ATT_ERR_PARSE);
    assert_int_equal(nf_canonical("not json", 8, NULL, NULL, NULL), ATT_ERR_PARSE);
}

/* Apply, read back, drift by hand, coexist with an isolation, nft errors, remove. */
static void test_netfilter_apply_read_drift(void **state)
{
    struct ns_child *c = *state;
    struct att_net_policy *np;
    struct att_buf script;
    struct att_buf canon;
    struct nf_live live;
    struct nf_live again;
    char why[1024] = "";
    char cmd[256];
    int nsfd = -1;

    if (c == NULL) {
        skip();
    }
    np = sample_policy();
    render_sample(np, &script);
    assert_int_equal(nf_open_netns(c->pid, &nsfd, why, sizeof(why)), ATT_OK);
    att_buf_init(&canon, 1u << 20);
    assert_int_equal(
        nf_apply(nsfd, test_table, (const char *)script.data, &canon, &live, why, sizeof(why)),
        ATT_OK);
    assert_true(live.exists);
    assert_true(canon.len > 0);
    assert_int_equal(att_buf_append(&canon, "", 1), ATT_OK);
    assert_null(strstr((const char *)canon.data, "\"handle\""));
    assert_non_null(strstr((const char *)canon.data, "\"dport\""));
    /* loopback is always allowed */
    assert_true(can_connect(c->pid, c->port));
    /* applying the same script again gives the same table */
    assert_int_equal(
        nf_apply(nsfd, test_table, (const char *)script.data, NULL, &again, why, sizeof(why)),
        ATT_OK);
    assert_memory_equal(live.digest, again.digest, sizeof(live.digest));
    /* an isolation on top leaves the policy table as it was; lifting it too */
    assert_int_equal(netisolate_apply(c->pid, why, sizeof(why)), ATT_OK);
    assert_false(can_connect(c->pid, c->port));
    assert_int_equal(nf_read(nsfd, test_table, NULL, &again, why, sizeof(why)), ATT_OK);
    assert_memory_equal(live.digest, again.digest, sizeof(live.digest));
    assert_int_equal(netisolate_remove(c->pid, why, sizeof(why)), ATT_OK);
    assert_true(can_connect(c->pid, c->port));
    assert_int_equal(nf_read(nsfd, test_table, NULL, &again, why, sizeof(why)), ATT_OK);
    assert_memory_equal(live.digest, again.digest, sizeof(live.digest));
    /* someone adds a rule: the digest moves */
    (void)snprintf(cmd, sizeof(cmd), "insert rule inet %s egress accept", test_table);
    assert_int_equal(nf_run(nsfd, cmd, false, NULL, why, sizeof(why)), ATT_OK);
    assert_int_equal(nf_read(nsfd, test_table, NULL, &again, why, sizeof(why)), ATT_OK);
    assert_true(again.exists);
    assert_memory_not_equal(live.digest, again.digest, sizeof(live.digest));
    /* nftables' own message for a bad command; nothing changes */
    why[0] = '\0';
    assert_int_equal(
        nf_run(nsfd, "add rule inet nosuchtable egress accept", false, NULL, why, sizeof(why)),
        ATT_ERR_IO);
    assert_non_null(strstr(why, "No such file or directory"));
    assert_int_equal(nf_read(nsfd, test_table, NULL, &live, why, sizeof(why)), ATT_OK);
    assert_memory_equal(live.digest, again.digest, sizeof(live.digest));
    /* removed: read says so; removing twice is fine */
    assert_int_equal(nf_remove(nsfd, test_table, why, sizeof(why)), ATT_OK);
    assert_int_equal(nf_read(nsfd, test_table, NULL, &live, why, sizeof(why)), ATT_OK);
    assert_false(live.exists);
    assert_int_equal(nf_remove(nsfd, test_table, why, sizeof(why)), ATT_OK);
    (void)close(nsfd);
    att_buf_cleanup(&canon);
    att_buf_cleanup(&script);
    att_net_policy_free(np);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_netisolate_apply_cycle, setup_ns, teardown_ns),
        cmocka_unit_test_setup_teardown(test_netisolate_apply_stopped_target, setup_ns,
                                        teardown_ns),
        cmocka_unit_test(test_netisolate_apply_host_refused),
        cmocka_unit_test(test_netisolate_apply_no_process),
        cmocka_unit_test(test_netfilter_render_text),
        cmocka_unit_test(test_netfilter_deny_needs_addresses),
        cmocka_unit_test(test_netfilter_canonical),
        cmocka_unit_test_setup_teardown(test_netfilter_apply_read_drift, setup_ns, teardown_ns),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
