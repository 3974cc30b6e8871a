/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attest-verify policy generate: a policy allowing the given files (and the
 * regular files under given directories) exactly as they are now.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attest/digest.h"
#include "attest/policy.h"
#include "attest/policy_json.h"
#include "cli.h"

static struct att_policy *walk_policy; /* nftw has no user pointer */
static int walk_failed;

static int add_file(const char *path)
{
    uint8_t d[ATT_SHA256_LEN];
    att_rc rc = att_sha256_file(path, d);

    if (rc != ATT_OK) {
        fprintf(stderr, "attest-verify: cannot hash %s: %s\n", path, att_rc_str(rc));
        return -1;
    }
    if (att_policy_add(walk_policy, path, d) != ATT_OK) {
        fprintf(stderr, "attest-verify: cannot add %s to the policy\n", path);
        return -1;
    }
    return 0;
}

static int on_entry(const char *path, const struct stat *st, int type, struct FTW *f)
{
    (void)st;
    (void)f;
    if (type == FTW_F && S_ISREG(st->st_mode) && add_file(path) != 0) {
        walk_failed = 1;
    }
    if (type == FTW_DNR || type == FTW_NS) {
        fprintf(stderr, "attest-verify: cannot read %s\n", path);
        walk_failed = 1;
    }
    return 0;
}

int cli_policy(int argc, char **argv)
{
    static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct att_policy *p = NULL;
    struct att_buf out;
    char abs[PATH_MAX];
    const char *name = NULL;
    int ret = CLI_EXIT_ERROR;
    int c;
    int i;

    att_buf_init(&out, ATT_POLICY_MAX_JSON);
    if (argc < 2 || strcmp(argv[1], "generate") != 0) {
        fprintf(stderr, "usage: attest-verify policy generate [--name NAME] PATH...\n");
        goto out;
    }
    argc--;
    argv++;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        if (c == 'n') {
            name = optarg;
        } else if (c == 'h') {
            printf("usage: attest-verify policy generate [--name NAME] PATH...\n"
                   "Prints a policy (JSON) whose reference values allow each file, and every\n"
                   "regular file under each directory, with its current sha256.\n");
            ret = CLI_EXIT_OK;
            goto out;
        } else {
            goto out;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "attest-verify: policy generate needs at least one PATH\n");
        goto out;
    }
    p = att_policy_new();
    if (p == NULL || (name != NULL && (p->name = strdup(name)) == NULL)) {
        goto out;
    }
    walk_policy = p;
    for (i = optind; i < argc; i++) {
        struct stat st;

        if (realpath(argv[i], abs) == NULL || stat(abs, &st) != 0) {
            fprintf(stderr, "attest-verify: %s: %s\n", argv[i], strerror(errno));
            goto out;
        }
        if (S_ISDIR(st.st_mode)) {
            walk_failed = 0;
            if (nftw(abs, on_entry, 32, FTW_PHYS) != 0 || walk_failed) {
                goto out;
            }
        } else if (S_ISREG(st.st_mode)) {
            if (add_file(abs) != 0) {
                goto out;
            }
        } else {
            fprintf(stderr, "attest-verify: %s is neither a regular file nor a directory\n",
                    argv[i]);
            goto out;
        }
    }
    if (att_policy_encode_json(p, &out) != ATT_OK) {
        fprintf(stderr, "attest-verify: cannot encode the policy\n");
        goto out;
    }
    if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
        fprintf(stderr, "attest-verify: cannot write the policy: %s\n", strerror(errno));
        goto out;
    }
    ret = CLI_EXIT_OK;
out:
    att_policy_free(p);
    att_buf_cleanup(&out);
    return ret;
}
