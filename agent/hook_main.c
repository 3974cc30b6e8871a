/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attest-hook: the OCI prestart hook on its own, libc only (hook_client.h).
 *   attest-hook --state-dir DIR [--storage GRAPHROOT] [--fail-open]
 * Exit 0 lets the container start; anything else refuses it.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "hook_client.h"

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"state-dir", required_argument, NULL, 'd'},
                                         {"storage", required_argument, NULL, 's'},
                                         {"fail-open", no_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *state_dir = NULL;
    const char *storage = NULL;
    bool fail_open = false;
    int c;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            state_dir = optarg;
            break;
        case 's':
            storage = optarg;
            break;
        case 'f':
            fail_open = true;
            break;
        case 'h':
            printf("usage: attest-hook --state-dir DIR [--storage GRAPHROOT] [--fail-open]\n"
                   "OCI prestart hook: the OCI state on stdin goes to the attest agent,\n"
                   "which measures the rootfs and admits or refuses the start (exit 0/1).\n");
            return 0;
        default:
            fprintf(stderr, "attest-hook: bad option (see --help): refusing\n");
            return 2;
        }
    }
    if (state_dir == NULL || optind != argc) {
        fprintf(stderr, "attest-hook: --state-dir DIR is required and takes no other arguments: "
                        "refusing\n");
        return 2;
    }
    return hook_client_run(state_dir, storage, fail_open);
}
