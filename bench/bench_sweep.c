/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Issue 6, figure 6: the runtime integrity sweep of many live processes,
 * real ones (forked and exec'd, inspected through /proc like the agent does).
 *
 * For N processes of a small program (/bin/sleep: itself, libc, ld.so) and N
 * of a larger one (python3: adds libpython, several MB of code), it measures
 * the CPU time (getrusage, this process) of
 *   - a full sweep: every code and read-only page compared with the file
 *     (what the agent does on a process's first inspection), and
 *   - an incremental sweep (PROCMEM_INCREMENTAL, every later inspection):
 *     only pages the process owns (copy-on-write) are compared,
 * and the bytes compared. Target: incremental cost follows what changed,
 * not the mapped code: its CPU per process must not grow with code size the
 * way the full sweep does, and one patched page in one process is still
 * found. Limit column: the full sweep of the same processes.
 *
 * Usage: bench_sweep [--quick] [--json FILE]   (needs root: /proc/PID/mem)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../agent/procmem.h"
#include "report.h"

#define MAX_PROCS 256

static double cpu_now(void)
{
    struct rusage ru;

    (void)getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Start n copies of argv, parked; wait until each has exec'd (maps show argv[0]). */
static int spawn(char *const argv[], pid_t *pids, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        pid_t p = fork();

        if (p < 0) {
            return -1;
        }
        if (p == 0) {
            int nul = open("/dev/null", O_RDWR);

            if (nul >= 0) {
                (void)dup2(nul, 0);
                (void)dup2(nul, 1);
                (void)dup2(nul, 2);
            }
            execv(argv[0], argv);
            _exit(127);
        }
        pids[i] = p;
    }
    usleep(n > 50 ? 1500000 : 500000); /* let the loaders finish relocating */
    return 0;
}

static void reap(pid_t *pids, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        (void)kill(pids[i], SIGKILL);
        (void)waitpid(pids[i], NULL, 0);
    }
}

struct sweep {
    double cpu_s;
    unsigned long long compared;
    unsigned long long skipped;
    size_t findings;
};

static int sweep(struct procmem_cache *c, const pid_t *pids, int n, unsigned flags,
                 struct sweep *out)
{
    double t0 = cpu_now();
    int i;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < n; i++) {
        struct procmem_report *r = NULL;

        if (procmem_inspect_ex(pids[i], c, flags, &r) != ATT_OK) {
            fprintf(stderr, "bench_sweep: cannot inspect pid %d\n", (int)pids[i]);
            return -1;
        }
        out->compared += r->bytes_compared;
        out->skipped += r->bytes_skipped;
        out->findings += r->n_findings;
        procmem_report_free(r);
    }
    out->cpu_s = cpu_now() - t0;
    return 0;
}

/* Flip one byte of the first r-xp page of @p path in @p pid through /proc/PID/mem. */
static int patch(pid_t pid, const char *path)
{
    char p[64];
    char line[4400];
    unsigned long lo = 0;
    FILE *f;
    int fd;
    unsigned char b;

    (void)snprintf(p, sizeof(p), "/proc/%d/maps", (int)pid);
    f = fopen(p, "r");
    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strstr(line, " r-xp ") != NULL && strstr(line, path) != NULL) {
            lo = strtoul(line, NULL, 16);
            break;
        }
    }
    (void)fclose(f);
    (void)snprintf(p, sizeof(p), "/proc/%d/mem", (int)pid);
    fd = open(p, O_RDWR | O_CLOEXEC);
    if (lo == 0 || fd < 0 || pread(fd, &b, 1, (off_t)(lo + 0x200)) != 1) {
        if (fd >= 0) {
            (void)close(fd);
        }
        return -1;
    }
    b ^= 0x5a;
    if (pwrite(fd, &b, 1, (off_t)(lo + 0x200)) != 1) {
        (void)close(fd);
        return -1;
    }
    (void)close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    static char s0[] = "/bin/sleep";
    static char s1[] = "1000";
    static char l0[] = "/usr/bin/python3";
    static char l1[] = "-c";
    static char l2[] = "import time, json, decimal; time.sleep(1000)";
    static char *small[] = {s0, s1, NULL};
    static char *large[] = {l0, l1, l2, NULL};
    struct {
        const char *name;
        char **argv;
    } kinds[2] = {{"sleep", small}, {"python3", large}};
    const char *json = NULL;
    bool quick = false;
    int n;
    int k;
    int i;
    double per_inc[2] = {0, 0};
    double per_full[2] = {0, 0};
    bool found = false;
    static pid_t pids[MAX_PROCS];

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            json = argv[++i];
        } else {
            fprintf(stderr, "usage: bench_sweep [--quick] [--json FILE]\n");
            return 2;
        }
    }
    if (geteuid() != 0) {
        fprintf(stderr, "bench_sweep: needs root (/proc/PID/mem of other processes)\n");
        return 2;
    }
    n = quick ? 8 : 100;
    for (k = 0; k < 2; k++) {
        struct procmem_cache *c = NULL;
        struct sweep warm;
        struct sweep full;
        struct sweep inc;
        char fig[96];

        if (access(kinds[k].argv[0], X_OK) != 0) {
            fprintf(stderr, "bench_sweep: %s not found, skipped\n", kinds[k].argv[0]);
            continue;
        }
        if (procmem_cache_new(NULL, &c) != ATT_OK || spawn(kinds[k].argv, pids, n) != 0) {
            return 1;
        }
        /* first inspection of each process: full (files hashed into the cache too);
         * the figure is a second full sweep, on the warm cache */
        if (sweep(c, pids, n, 0, &warm) != 0 || sweep(c, pids, n, 0, &full) != 0 ||
            sweep(c, pids, n, PROCMEM_INCREMENTAL, &inc) != 0) {
            reap(pids, n);
            return 1;
        }
        per_full[k] = full.cpu_s / n * 1e6;
        per_inc[k] = inc.cpu_s / n * 1e6;
        (void)snprintf(fig, sizeof(fig), "fig6 sweep %d x %s, CPU/process", n, kinds[k].name);
        (void)bench_report("sweep", quick, json, fig, "us", per_inc[k], per_full[k],
                           per_full[k] > 0 ? per_inc[k] / per_full[k] : 0, "", 0);
        (void)snprintf(fig, sizeof(fig), "fig6 sweep %d x %s, KiB compared/proc", n,
                       kinds[k].name);
        (void)bench_report("sweep", quick, json, fig, "KiB", (double)inc.compared / n / 1024.0,
                           (double)full.compared / n / 1024.0,
                           full.compared > 0 ? (double)inc.compared / (double)full.compared : 0,
                           "", 0);
        if (k == 1 || access(kinds[1].argv[0], X_OK) != 0) {
            /* one patched page in one process: the incremental sweep still finds it */
            if (patch(pids[n / 2], kinds[k].argv[0]) == 0 &&
                sweep(c, pids, n, PROCMEM_INCREMENTAL, &inc) == 0) {
                found = inc.findings == 1;
            }
        }
        reap(pids, n);
        procmem_cache_free(c);
    }
    if (per_full[0] > 0 && per_full[1] > 0 && per_inc[0] > 0) {
        /* how the cost grows with code: full sweep vs incremental */
        (void)bench_report("sweep", quick, json, "fig6 growth large/small code, full", "x",
                           per_full[1] / per_full[0], 0, 0, "", 0);
        (void)bench_report("sweep", quick, json, "fig6 growth large/small code, incr", "x",
                           per_inc[1] / per_inc[0], per_full[1] / per_full[0],
                           (per_inc[1] / per_inc[0]) / (per_full[1] / per_full[0]), "<=", 1.0);
    }
    (void)bench_report("sweep", quick, json, "fig6 one patched page found (incr)", "found",
                       found ? 1 : 0, 1, found ? 1 : 0, ">=", 1.0);
    return found ? 0 : 1;
}
