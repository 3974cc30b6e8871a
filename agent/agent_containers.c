/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runtime measurement of containers (DESIGN §4 item 2). A thread asks the
 * engine for running containers every tick (1 s); for each container it logs
 * one identity/posture record, finds the container's processes by cgroup
 * membership, and inspects every process it has not seen yet (pid + start
 * time) with procmem: each executable file (main binary and shared libraries)
 * is logged once per (container, path, digest), and every memory finding
 * (code modified, anonymous or W+X executable memory, memfd or deleted
 * executables) becomes a "violation:<container>" record naming the process,
 * mapping and kind. Every process is inspected again on the integrity
 * interval (default 30 s), so a later patch of a code page is found too;
 * those re-inspections compare only the pages the process owns
 * (PROCMEM_INCREMENTAL: a patched page is a private copy).
 *
 * Log entry names: "container:<id>" (ima-buf, text "image=... ref=...
 * privileged=0|1 cap_add=A,B pid_mode=... [policy_label=NAME]"), "<id>:<path>" (ima-ng),
 * "violation:<id>" (ima-buf, text "kind=... pid=... comm=... path=...
 * addr=0x... detail=...").
 *
 * Memory: struct agent_containers owns its thread, engine client, procmem
 * cache and the seen-process table; the agent it logs to is borrowed.
 */
#include "agent_containers.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "attest/buf.h"
#include "attest/engine_json.h"
#include "attest/log.h"
#include "attest/proto.h"
#include "attest/util.h"
#include "agent_net.h"
#include "engine.h"
#include "procmem.h"

#define MAX_SEEN      65536
#define CGROUP_TEXT   8192
#define REC_TEXT      2048

struct seen {
    pid_t pid;
    uint64_t start_time;
    char cid[ATT_ENGINE_ID_LEN + 1];
};

/* A process's RELRO "dynamic baseline" (procmem), kept across sweeps. */
struct baseline {
    pid_t pid;
    uint64_t start_time;
    uint8_t digest[32];
};

struct agent_containers {
    struct agent *agent; /* borrowed */
    char *engine_url;    /* owned */
    unsigned tick_ms;
    unsigned integrity_s;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
    struct procmem_cache *cache;
    struct seen *seen; /* processes inspected since the last integrity sweep */
    size_t n_seen;
    struct baseline *base; /* RELRO baselines, never reset by a sweep */
    size_t n_base;
    struct seen *known; /* processes fully inspected once: later sweeps are incremental */
    size_t n_known;
    uint64_t sweeps;
};

/* The cgroup a process belongs to, by the first v1 controller we know or v2. */
static bool read_cgroup(pid_t pid, char *out, size_t out_len)
{
    char path[64];
    char text[CGROUP_TEXT];
    char *line;
    char *next;
    char *v2 = NULL;
    ssize_t n;
    int fd;

    (void)snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    n = read(fd, text, sizeof(text) - 1);
    (void)close(fd);
    if (n <= 0) {
        return false;
    }
    text[n] = '\0';
    for (line = text; line != NULL && *line != '\0'; line = next) {
        char *c1;
        char *c2;

        next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        }
        c1 = strchr(line, ':');
        c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
        if (c2 == NULL) {
            continue;
        }
        *c2 = '\0';
        if (strstr(c1 + 1, "freezer") != NULL || strstr(c1 + 1, "pids") != NULL) {
            (void)snprintf(out, out_len, "%s:%s", c1 + 1, c2 + 1);
            return true;
        }
        if (c1[1] == '\0' && v2 == NULL) {
            v2 = c2 + 1;
        }
    }
    if (v2 != NULL) {
        (void)snprintf(out, out_len, "v2:%s", v2);
        return true;
    }
    return false;
}

static bool in_cgroup(const char *cg, const char *root)
{
    size_t n = strlen(root);

    return strncmp(cg, root, n) == 0 && (cg[n] == '\0' || cg[n] == '/');
}

static uint64_t start_time_of(pid_t pid, char *comm, size_t comm_len)
{
    char path[64];
    char text[1024];
    char *close_paren;
    char *p;
    int field;
    ssize_t n;
    int fd;

    (void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    n = read(fd, text, sizeof(text) - 1);
    (void)close(fd);
    if (n <= 0) {
        return 0;
    }
    text[n] = '\0';
    p = strchr(text, '(');
    close_paren = strrchr(text, ')');
    if (p == NULL || close_paren == NULL || close_paren < p) {
        return 0;
    }
    (void)snprintf(comm, comm_len, "%.*s", (int)(close_paren - p - 1), p + 1);
    /* field 3 (state) follows ") "; start time is field 22 */
    p = close_paren + 2;
    for (field = 3; field < 22 && p != NULL; field++) {
        p = strchr(p, ' ');
        if (p != NULL) {
            p++;
        }
    }
    return p != NULL ? strtoull(p, NULL, 10) : 0;
}

/*
 * The runtime's own helper ("runc:[2:INIT]") sits in a container's cgroup for
 * a moment during a start or an exec, mapping the host's runtime binary and
 * loader, before it execs the container's program under the same pid. Such a
 * young process is skipped for this tick (not marked seen), so the program it
 * becomes is inspected next tick. The name proves nothing (any process can
 * take it), so one that keeps it past the grace time is inspected anyway.
 */
#define RUNTIME_HELPER_GRACE_S 5

static bool is_young_runtime_helper(const char *comm, uint64_t start_ticks)
{
    long hz = sysconf(_SC_CLK_TCK);
    double uptime = 0;
    FILE *f;

    if (strncmp(comm, "runc:[", 6) != 0 || hz <= 0) {
        return false;
    }
    f = fopen("/proc/uptime", "re");
    if (f == NULL) {
        return false;
    }
    /* NOLINTNEXTLINE(cert-err34-c): the kernel's own "secs.cc" text, nothing to overflow */
    if (fscanf(f, "%lf", &uptime) != 1) {
        uptime = 0;
    }
    (void)fclose(f);
    return uptime - (double)start_ticks / (double)hz < RUNTIME_HELPER_GRACE_S;
}

static bool was_seen(struct agent_containers *c, pid_t pid, uint64_t st)
{
    size_t i;

    for (i = 0; i < c->n_seen; i++) {
        if (c->seen[i].pid == pid && c->seen[i].start_time == st) {
            return true;
        }
    }
    return false;
}

static void mark_seen(struct agent_containers *c, pid_t pid, uint64_t st, const char *cid)
{
    if (c->n_seen >= MAX_SEEN) {
        c->n_seen = 0; /* start over: at worst a process is inspected once more */
    }
    c->seen[c->n_seen].pid = pid;
    c->seen[c->n_seen].start_time = st;
    (void)snprintf(c->seen[c->n_seen].cid, sizeof(c->seen[c->n_seen].cid), "%s", cid);
    c->n_seen++;
}

/*
 * Posture as the kernel sees the container's init process: seccomp mode
 * (0 off, 1 strict, 2 filter), no_new_privs, effective capabilities (hex
 * mask) and the LSM label (AppArmor/SELinux), appended as key=value.
 */
static void append_proc_posture(struct att_buf *b, pid_t pid)
{
    char path[64];
    char text[4096];
    char label[256] = "-";
    const char *keys[3] = {"Seccomp:", "NoNewPrivs:", "CapEff:"};
    const char *names[3] = {"seccomp", "no_new_privs", "cap_eff"};
    ssize_t n;
    size_t i;
    int fd;

    (void)snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
    if (fd >= 0) {
        (void)close(fd);
    }
    text[n > 0 ? n : 0] = '\0';
    for (i = 0; i < 3; i++) {
        const char *p = strstr(text, keys[i]);
        char v[32] = "-";

        if (p != NULL && sscanf(p + strlen(keys[i]), " %31s", v) != 1) {
            (void)snprintf(v, sizeof(v), "-");
        }
        (void)att_buf_printf(b, " %s=%s", names[i], v);
    }
    (void)snprintf(path, sizeof(path), "/proc/%d/attr/current", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    n = fd >= 0 ? read(fd, label, sizeof(label) - 1) : -1;
    if (fd >= 0) {
        (void)close(fd);
    }
    if (n > 0) {
        label[n] = '\0';
        for (i = 0; label[i] != '\0'; i++) {
            if (label[i] == ' ' || label[i] == '\n') {
                label[i] = label[i] == ' ' ? '_' : '\0';
            }
        }
    } else {
        (void)snprintf(label, sizeof(label), "-");
    }
    (void)att_buf_printf(b, " lsm=%s", label[0] ? label : "-");
}

/* "container:<id>": image identity and posture as the engine and the kernel report them. */
static void record_identity(struct agent_containers *c, const struct att_engine_container *ct)
{
    char name[96];
    struct att_buf b;
    size_t i;

    att_buf_init(&b, REC_TEXT);
    (void)att_buf_printf(&b, "image=%s ref=%s privileged=%d cap_add=",
                         ct->image_id != NULL ? ct->image_id : "-",
                         ct->image_ref != NULL ? ct->image_ref : "-", ct->is_privileged ? 1 : 0);
    for (i = 0; i < ct->n_cap_add; i++) {
        /* Docker and podman report "SYS_ADMIN" or "CAP_SYS_ADMIN": one spelling here. */
        bool has_prefix = strncasecmp(ct->cap_add[i], "CAP_", 4) == 0;
        size_t k;

        (void)att_buf_printf(&b, "%s%s", i > 0 ? "," : "", has_prefix ? "" : "CAP_");
        for (k = 0; ct->cap_add[i][k] != '\0'; k++) {
            char up = (char)toupper((unsigned char)ct->cap_add[i][k]);

            (void)att_buf_append(&b, &up, 1);
        }
    }
    (void)att_buf_printf(&b, " pid_mode=%s network_mode=%s",
                         ct->pid_mode != NULL ? ct->pid_mode : "-",
                         ct->network_mode != NULL ? ct->network_mode : "-");
    if (ct->policy_label != NULL) {
        (void)att_buf_printf(&b, " policy_label=%s", ct->policy_label);
    }
    if (ct->pid > 0) {
        append_proc_posture(&b, (pid_t)ct->pid);
    }
    (void)snprintf(name, sizeof(name), "container:%s", ct->id);
    if (b.data != NULL && agent_record_buf(c->agent, name, b.data, b.len, NULL) != ATT_OK) {
        LOG_WARN("cannot log the identity of container %.12s", ct->id);
    }
    att_buf_cleanup(&b);
}

/*
 * Compare the process's RELRO digest with the baseline taken the first time
 * it was seen (after start-up relocation): a change is tampering. Returns
 * true when it changed.
 */
static bool relro_changed(struct agent_containers *c, pid_t pid, uint64_t st,
                          const uint8_t digest[32])
{
    size_t i;

    for (i = 0; i < c->n_base; i++) {
        if (c->base[i].pid == pid && c->base[i].start_time == st) {
            return memcmp(c->base[i].digest, digest, 32) != 0;
        }
    }
    if (c->n_base >= MAX_SEEN) {
        c->n_base = 0; /* forget old processes; new baselines are taken again */
    }
    c->base[c->n_base].pid = pid;
    c->base[c->n_base].start_time = st;
    memcpy(c->base[c->n_base].digest, digest, 32);
    c->n_base++;
    return false;
}

/*
 * Whether (pid, start time) was fully inspected before: its later
 * inspections compare only the pages it owns (PROCMEM_INCREMENTAL), so a
 * sweep costs what changed, not all mapped code.
 */
static bool known_before(const struct agent_containers *c, pid_t pid, uint64_t st)
{
    size_t i;

    for (i = 0; i < c->n_known; i++) {
        if (c->known[i].pid == pid && c->known[i].start_time == st) {
            return true;
        }
    }
    return false;
}

static void mark_known(struct agent_containers *c, pid_t pid, uint64_t st)
{
    if (c->n_known >= MAX_SEEN) {
        c->n_known = 0; /* forget: at worst a process is fully compared once more */
    }
    c->known[c->n_known].pid = pid;
    c->known[c->n_known].start_time = st;
    c->n_known++;
}

static void record_process(struct agent_containers *c, const char *cid, pid_t pid,
                           uint64_t st, const char *comm)
{
    struct procmem_report *r = NULL;
    char name[ATT_ENGINE_ID_LEN + 4200];
    char vname[96];
    struct att_buf b;
    size_t i;
    bool is_new;
    bool incremental = known_before(c, pid, st);

    if (procmem_inspect_ex(pid, c->cache, incremental ? PROCMEM_INCREMENTAL : 0, &r) != ATT_OK) {
        /* Retried at the next sweep; never silently counted as checked. */
        LOG_WARN("container %.12s: pid %d (%s) could not be inspected; retrying at the next "
                 "sweep",
                 cid, (int)pid, comm);
        return;
    }
    if (!incremental && !r->is_gone) {
        mark_known(c, pid, st);
    }
    for (i = 0; i < r->n_files; i++) {
        if (!r->files[i].has_digest || r->files[i].path == NULL) {
            continue;
        }
        if (snprintf(name, sizeof(name), "%s:%s", cid, r->files[i].path) >= (int)sizeof(name)) {
            continue;
        }
        if (agent_record_file(c->agent, name, r->files[i].digest, &is_new) == ATT_OK && is_new) {
            LOG_INFO("container %.12s: measured %s (pid %d %s)", cid, r->files[i].path,
                     (int)pid, comm);
        }
    }
    (void)snprintf(vname, sizeof(vname), "violation:%s", cid);
    if (!r->is_gone && r->n_relro > 0 && relro_changed(c, pid, r->start_time, r->relro_baseline)) {
        att_buf_init(&b, REC_TEXT);
        (void)att_buf_printf(&b, "kind=relro_modified pid=%d comm=%s path=- addr=0x0 hint=- "
                                 "detail=read-only-after-relocation data changed since the "
                                 "process was first inspected",
                             (int)pid, comm);
        if (b.data != NULL && agent_record_buf(c->agent, vname, b.data, b.len, &is_new) == ATT_OK &&
            is_new) {
            LOG_WARN("container %.12s: %s", cid, (const char *)b.data);
        }
        att_buf_cleanup(&b);
    }
    for (i = 0; i < r->n_findings; i++) {
        const struct procmem_finding *f = &r->findings[i];

        if (f->kind == PROCMEM_FINDING_UNVERIFIED) {
            /* "Could not check" (a race with an unload, a read error): retried at
             * the next sweep rather than made a sticky violation. */
            LOG_WARN("container %.12s: pid %d %s not verified this sweep: %s", cid, (int)pid,
                     f->path != NULL ? f->path : "-", f->detail);
            continue;
        }
        att_buf_init(&b, REC_TEXT);
        (void)att_buf_printf(&b, "kind=%s pid=%d comm=%s path=%s addr=0x%llx hint=%s detail=%s",
                             procmem_finding_kind_str(f->kind), (int)pid, comm,
                             f->path != NULL ? f->path : "-", (unsigned long long)f->address,
                             procmem_hint_str(f->hint)[0] ? procmem_hint_str(f->hint) : "-",
                             f->detail);
        if (b.data != NULL &&
            agent_record_buf(c->agent, vname, b.data, b.len, &is_new) == ATT_OK && is_new) {
            LOG_WARN("container %.12s: %s", cid, (const char *)b.data);
        }
        att_buf_cleanup(&b);
    }
    procmem_report_free(r);
}

/*
 * The network policies (agent_net.h): every container the engine lists, with
 * the pid of those running and inspected this tick (paused ones keep their
 * entry but are not read).
 */
static void net_tick(struct agent_containers *c, const struct att_engine_container *list,
                     const struct att_engine_container *info, char (*roots)[CGROUP_TEXT / 8],
                     size_t n)
{
    struct agent_net_seen *seen = calloc(n, sizeof(*seen));
    size_t i;

    if (seen == NULL) {
        return; /* next tick */
    }
    for (i = 0; i < n; i++) {
        seen[i].id = list[i].id;
        seen[i].image_id = info[i].image_id;
        seen[i].policy_label = info[i].policy_label;
        seen[i].pid = roots[i][0] != '\0' ? (pid_t)info[i].pid : 0;
    }
    agent_net_tick(c->agent, seen, n);
    free(seen);
}

/* One tick: every running container, every process not inspected yet. */
static void tick(struct agent_containers *c, struct engine *e, bool full)
{
    struct att_engine_container *list = NULL;
    struct att_engine_container *info = NULL;
    char (*roots)[CGROUP_TEXT / 8] = NULL;
    struct att_buf inv;
    size_t n = 0;
    size_t i;
    DIR *d = NULL;
    struct dirent *de;

    if (full) {
        c->n_seen = 0;
    }
    if (engine_list(e, &list, &n) != ATT_OK) {
        goto out;
    }
    if (n == 0) {
        /* "\n": an engine with nothing running (no inventory at all means no engine) */
        agent_set_inventory(c->agent, "\n");
        agent_net_tick(c->agent, NULL, 0);
        goto out;
    }
    info = calloc(n, sizeof(*info));
    roots = calloc(n, sizeof(*roots));
    if (info == NULL || roots == NULL) {
        goto out;
    }
    att_buf_init(&inv, ATT_PROTO_MAX_INVENTORY);
    for (i = 0; i < n; i++) {
        if (list[i].state == NULL || strcmp(list[i].state, "running") != 0 ||
            engine_inspect(e, list[i].id, &info[i]) != ATT_OK || info[i].pid <= 0 ||
            !read_cgroup((pid_t)info[i].pid, roots[i], sizeof(roots[i]))) {
            roots[i][0] = '\0';
            continue;
        }
        record_identity(c, &info[i]);
        (void)att_buf_printf(&inv, "%s %s %s\n", info[i].id,
                             info[i].image_id != NULL ? info[i].image_id : "-",
                             info[i].name != NULL && info[i].name[0] != '\0' ? info[i].name : "-");
    }
    agent_set_inventory(c->agent, inv.data != NULL && inv.len > 0 ? (const char *)inv.data : "\n");
    att_buf_cleanup(&inv);
    net_tick(c, list, info, roots, n);
    d = opendir("/proc");
    if (d == NULL) {
        goto out;
    }
    while ((de = readdir(d)) != NULL) {
        char cg[CGROUP_TEXT / 8];
        char comm[64] = "";
        pid_t pid;
        uint64_t st;

        if (!isdigit((unsigned char)de->d_name[0])) {
            continue;
        }
        pid = (pid_t)strtol(de->d_name, NULL, 10);
        if (pid <= 1 || !read_cgroup(pid, cg, sizeof(cg))) {
            continue;
        }
        for (i = 0; i < n; i++) {
            if (roots[i][0] == '\0' || !in_cgroup(cg, roots[i])) {
                continue;
            }
            st = start_time_of(pid, comm, sizeof(comm));
            if (st != 0 && !was_seen(c, pid, st) && !is_young_runtime_helper(comm, st)) {
                mark_seen(c, pid, st, info[i].id);
                record_process(c, info[i].id, pid, st, comm);
            }
            break;
        }
    }
out:
    if (d != NULL) {
        (void)closedir(d);
    }
    for (i = 0; info != NULL && i < n; i++) {
        att_engine_container_cleanup(&info[i]);
    }
    free(info);
    free(roots);
    att_engine_containers_free(list, n);
}

static void *sweep_main(void *arg)
{
    struct agent_containers *c = arg;
    struct engine *e = NULL;
    time_t last_full = 0;

    if (engine_open(c->engine_url, &e) != ATT_OK) {
        LOG_ERR("container measurement disabled: bad engine URL %s", c->engine_url);
        return NULL;
    }
    for (;;) {
        struct timespec ts;
        time_t now = time(NULL);
        bool full = now - last_full >= (time_t)c->integrity_s;

        pthread_mutex_lock(&c->lock);
        if (c->stop) {
            pthread_mutex_unlock(&c->lock);
            break;
        }
        pthread_mutex_unlock(&c->lock);
        tick(c, e, full);
        if (full) {
            last_full = now;
            c->sweeps++;
        }
        clock_gettime(CLOCK_MONOTONIC, &ts); /* the cond's clock */
        ts.tv_sec += (time_t)(c->tick_ms / 1000);
        ts.tv_nsec += (long)(c->tick_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&c->lock);
        if (!c->stop) {
            (void)pthread_cond_timedwait(&c->wake, &c->lock, &ts);
        }
        pthread_mutex_unlock(&c->lock);
    }
    engine_free(e);
    return NULL;
}

att_rc agent_containers_start(struct agent *a, const char *engine_url, unsigned tick_ms,
                              unsigned integrity_s, struct agent_containers **out)
{
    att_rc rc = ATT_ERR_NOMEM;
    struct agent_containers *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        return ATT_ERR_NOMEM;
    }
    c->agent = a;
    c->tick_ms = tick_ms != 0 ? tick_ms : 1000;
    c->integrity_s = integrity_s != 0 ? integrity_s : 30;
    pthread_mutex_init(&c->lock, NULL);
    {
        /* CLOCK_MONOTONIC: a wall-clock step back must not stall the sweeps */
        pthread_condattr_t ca;

        pthread_condattr_init(&ca);
        (void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&c->wake, &ca);
        pthread_condattr_destroy(&ca);
    }
    c->engine_url = strdup(engine_url);
    c->seen = calloc(MAX_SEEN, sizeof(*c->seen));
    c->base = calloc(MAX_SEEN, sizeof(*c->base));
    c->known = calloc(MAX_SEEN, sizeof(*c->known));
    if (c->engine_url == NULL || c->seen == NULL || c->base == NULL || c->known == NULL) {
        goto out;
    }
    rc = procmem_cache_new(NULL, &c->cache);
    if (rc != ATT_OK) {
        goto out;
    }
    if (pthread_create(&c->thread, NULL, sweep_main, c) != 0) {
        rc = ATT_ERR_INTERNAL;
        goto out;
    }
    c->started = true;
    *out = c;
    c = NULL;
    rc = ATT_OK;
out:
    agent_containers_stop(c);
    return rc;
}

void agent_containers_stop(struct agent_containers *c)
{
    if (c == NULL) {
        return;
    }
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    pthread_cond_broadcast(&c->wake);
    pthread_mutex_unlock(&c->lock);
    if (c->started) {
        (void)pthread_join(c->thread, NULL);
    }
    procmem_cache_free(c->cache);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    free(c->seen);
    free(c->known);
    free(c->base);
    free(c->engine_url);
    free(c);
}
