/* SPDX-License-Identifier: Apache-2.0 */
/* Daemon start-up shared by attest-agent and attest-verifier (see daemon.h). */
#define _GNU_SOURCE /* pipe2 */
#include "attest/daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "attest/log.h"

static int stop_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    char c = (char)sig;

    if (write(stop_pipe[1], &c, 1) < 0) {
        _exit(1);
    }
}

int att_daemon_stop_fd(void)
{
    struct sigaction sa;

    if (stop_pipe[0] < 0 && pipe2(stop_pipe, O_CLOEXEC) != 0) {
        return -1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    (void)sigaction(SIGTERM, &sa, NULL);
    (void)sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    (void)sigaction(SIGPIPE, &sa, NULL);
    return stop_pipe[0];
}

att_rc att_daemon_log_level(const char *prog, const char *name)
{
    enum att_log_level level;

    if (att_log_level_parse(name, &level) != 0) {
        fprintf(stderr, "%s: log level \"%s\" must be error|warning|info|debug\n", prog, name);
        return ATT_ERR_INVALID_ARG;
    }
    att_log_set_level(level);
    return ATT_OK;
}

int att_daemon_first_pass(int argc, char **argv, const struct option *opts, const char *prog,
                          void (*usage)(FILE *), const char **config)
{
    int c;

    *config = NULL;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        if (c == 'V') {
            printf("%s %s\n", prog, ATT_VERSION);
            return 0;
        }
        if (c == '?') {
            usage(stderr);
            return 2;
        }
        if (c == 'c') {
            *config = optarg;
        }
    }
    return -1;
}
