/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attest-verify: the operator CLI. Dispatches to the command files.
 *   attest-verify host --agent URL --policy FILE [--json] [--save-evidence DIR]
 *   attest-verify policy generate PATH...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "attest/log.h"
#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: attest-verify host --agent URL --policy FILE [--json] [--save-evidence DIR]\n"
               "                          [--known-aks FILE] [--timeout SECONDS]\n"
               "       attest-verify policy generate [--name NAME] PATH... > policy.json\n"
               "       attest-verify --help | --version\n"
               "\n"
               "host: challenge the agent for a fresh TPM quote, verify it and its measurement\n"
               "log, and appraise every entry against the policy. Exit 0 trusted, 1 untrusted,\n"
               "2 error. Run a command with --help for its options.\n");
}

int main(int argc, char **argv)
{
    int ret;

    att_log_set_ident("attest-verify");
    /* tss2-mu logs every malformed structure a peer sends; we report them ourselves. */
    (void)setenv("TSS2_LOG", "all+none", 0);
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_ERROR;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("attest-verify %s\n", ATT_VERSION);
        return CLI_EXIT_OK;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "attest-verify: cannot initialise libcurl\n");
        return CLI_EXIT_ERROR;
    }
    if (strcmp(argv[1], "host") == 0) {
        ret = cli_host(argc - 1, argv + 1);
    } else if (strcmp(argv[1], "policy") == 0) {
        ret = cli_policy(argc - 1, argv + 1);
    } else {
        fprintf(stderr, "attest-verify: unknown command \"%s\"\n", argv[1]);
        usage(stderr);
        ret = CLI_EXIT_ERROR;
    }
    curl_global_cleanup();
    return ret;
}
