/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What both daemons (attest-agent, attest-verifier) do the same way at start:
 * a self-pipe that SIGTERM/SIGINT write to, SIGPIPE ignored, and the
 * --log-level flag. No allocation; the pipe lives for the process.
 */
#ifndef ATTEST_DAEMON_H
#define ATTEST_DAEMON_H

#include <getopt.h>
#include <stdio.h>

#include "attest/rc.h"

/**
 * Install SIGTERM/SIGINT handlers that write the signal number to a pipe and
 * ignore SIGPIPE. Returns the pipe's read end (readable once a stop signal
 * came; poll it), or -1 with errno set. Call once per process.
 */
int att_daemon_stop_fd(void);

/** Set the log level from "error|warning|info|debug"; an unknown name is reported as @p prog. */
att_rc att_daemon_log_level(const char *prog, const char *name);

/**
 * First pass over a daemon's flags (@p opts must map --help to 'h',
 * --version to 'V' and --config to 'c'): prints usage or the version, checks
 * flag syntax and picks up --config. Leaves optind for a second pass to reset.
 * @param[out] config  --config's value, NULL when absent
 * @return -1 to go on; else the exit status (0 after --help/--version, 2 for a bad flag)
 */
int att_daemon_first_pass(int argc, char **argv, const struct option *opts, const char *prog,
                          void (*usage)(FILE *), const char **config);

#endif
