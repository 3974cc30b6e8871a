/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attest-verify: the operator CLI. Global options, then a command:
 *   attest-verify [--verifier URL --token T --ca FILE --json] host HOST
 *   attest-verify [...] hosts | events | enroll | policy apply|show|assign
 *   attest-verify [--ca FILE --cert FILE --key FILE] host --agent URL --policy FILE  (direct)
 *   attest-verify policy generate PATH...
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "attest/log.h"
#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: attest-verify [GLOBAL OPTIONS] COMMAND ...\n"
            "\n"
            "Verifier mode (asks attest-verifier's API):\n"
            "  host HOST                    attest HOST now; exit 0 trusted, 1 untrusted, 2 error\n"
            "                               or unreachable\n"
            "  hosts                        enrolled hosts and their verdicts\n"
            "  events [--host H] [--kind K] [--after ID] [--limit N]\n"
            "  enroll --agent URL --name NAME\n"
            "  containers [--host H]        per-container verdicts\n"
            "  container ID                 one container (exit 0 trusted, 1 failed)\n"
            "  policy apply NAME FILE | policy show [NAME] | policy assign HOST NAME\n"
            "  quarantine list [--host H] [--open]   quarantine orders and their state\n"
            "  quarantine lift ORDER-ID --reason TEXT  lift one (operator role; audited)\n"
            "  vulndb import PATH... [--source osv|debian-tracker] [--release CODENAME]\n"
            "                [--feed-time RFC3339]   load a vulnerability feed (operator role)\n"
            "  vulndb show                  the current feed, its age, earlier imports\n"
            "  image scan (--rootfs DIR | --image REF) [--policy DOC --container NAME]\n"
            "                               an image's packages against the feed; exit 0\n"
            "                               clean, 1 findings over the bar, 2 error\n"
            "  vulnerabilities [--host H] [--container ID] [--image sha256:...]\n"
            "Direct mode (no verifier):\n"
            "  host --agent URL --policy FILE [--save-evidence DIR] [--known-aks FILE]\n"
            "  policy generate [--name NAME] PATH... > policy.json\n"
            "\n"
            "global options:\n"
            "  --verifier URL   the verifier's API (or $ATTEST_VERIFIER)\n"
            "  --token T        API bearer token (or $ATTEST_TOKEN)\n"
            "  --ca FILE        CA of the server's certificate (or $ATTEST_CA)\n"
            "  --cert FILE, --key FILE   client certificate for mTLS to an agent (direct mode)\n"
            "  --json           print JSON\n"
            "  --help, --version\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"verifier", required_argument, NULL, 'v'},
                                         {"token", required_argument, NULL, 't'},
                                         {"ca", required_argument, NULL, 'c'},
                                         {"cert", required_argument, NULL, 'C'},
                                         {"key", required_argument, NULL, 'K'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {"version", no_argument, NULL, 'V'},
                                         {NULL, 0, NULL, 0}};
    struct cli_fleet f;
    const char *cmd;
    int ret;
    int c;
    int i;
    bool direct = false;

    att_log_set_ident("attest-verify");
    /* tss2-mu logs every malformed structure a peer sends; we report them ourselves. */
    (void)setenv("TSS2_LOG", "all+none", 0);
    cli_fleet_defaults(&f);
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (c) {
        case 'v':
            f.verifier = optarg;
            break;
        case 't':
            f.token = optarg;
            break;
        case 'c':
            f.ca = optarg;
            break;
        case 'C':
            f.cert = optarg;
            break;
        case 'K':
            f.key = optarg;
            break;
        case 'j':
            f.json = 1;
            break;
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK;
        case 'V':
            printf("attest-verify %s\n", ATT_VERSION);
            return CLI_EXIT_OK;
        default:
            usage(stderr);
            return CLI_EXIT_ERROR;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return CLI_EXIT_ERROR;
    }
    cmd = argv[optind];
    argc -= optind;
    argv += optind;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "attest-verify: cannot initialise libcurl\n");
        return CLI_EXIT_ERROR;
    }
    for (i = 1; i < argc; i++) {
        direct = direct || strcmp(argv[i], "--agent") == 0 ||
                 strncmp(argv[i], "--agent=", 8) == 0;
    }
    if (strcmp(cmd, "host") == 0 && (direct || argc < 2 || strcmp(argv[1], "--help") == 0)) {
        ret = cli_host(&f, argc, argv);
    } else if (strcmp(cmd, "policy") == 0 && argc > 1 && strcmp(argv[1], "generate") == 0) {
        ret = cli_policy(argc, argv);
    } else if (strcmp(cmd, "host") == 0 || strcmp(cmd, "hosts") == 0 ||
               strcmp(cmd, "events") == 0 || strcmp(cmd, "enroll") == 0 ||
               strcmp(cmd, "policy") == 0 || strcmp(cmd, "containers") == 0 ||
               strcmp(cmd, "container") == 0 || strcmp(cmd, "quarantine") == 0) {
        ret = cli_fleet(&f, cmd, argc, argv);
    } else if (strcmp(cmd, "vulndb") == 0 || strcmp(cmd, "image") == 0 ||
               strcmp(cmd, "vulnerabilities") == 0) {
        ret = cli_vuln(&f, cmd, argc, argv);
    } else {
        fprintf(stderr, "attest-verify: unknown command \"%s\"\n", cmd);
        usage(stderr);
        ret = CLI_EXIT_ERROR;
    }
    curl_global_cleanup();
    return ret;
}
