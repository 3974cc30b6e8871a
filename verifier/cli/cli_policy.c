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
static size_t walk_strip;  /* --rootfs: length of the rootfs prefix to strip */
static int walk_elf_only;  /* --rootfs: only ELF files (executables, libraries) */

static int is_elf(const char *path)
{
    unsigned char m[4] = {0, 0, 0, 0};
    FILE *f = fopen(path, "rb");
    size_t n;

    if (f == NULL) {
        return 0;
    }
    n = fread(m, 1, sizeof(m), f);
    (void)fclose(f);
    return n == 4 && m[0] == 0x7f && m[1] == 'E' && m[2] == 'L' && m[3] == 'F';
}

static int add_file(const char *path)
{
    uint8_t d[ATT_SHA256_LEN];
    att_rc rc;

    if (walk_elf_only && !is_elf(path)) {
        return 0;
    }
    rc = att_sha256_file(path, d);
    if (rc != ATT_OK) {
        fprintf(stderr, "attest-verify: cannot hash %s: %s\n", path, att_rc_str(rc));
        return -1;
    }
    if (att_policy_add(walk_policy, walk_strip > 0 ? path + walk_strip : path, d) != ATT_OK) {
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

/* --rootfs mode: one container policy admitting image_id, allowing its ELF files. */
static int container_policy(const char *rootfs, const char *image_id, const char *name,
                            int allow_jit, struct att_buf *out)
{
    struct att_policy *top = NULL;
    struct att_container_policy *c;
    char abs[PATH_MAX];
    int ret = CLI_EXIT_ERROR;

    if (image_id == NULL || strncmp(image_id, "sha256:", 7) != 0 || strlen(image_id) != 71) {
        fprintf(stderr, "attest-verify: --rootfs needs --image-id sha256:<64 hex> (e.g. from "
                        "podman image inspect --format '{{.Id}}', prefixed with sha256:)\n");
        return CLI_EXIT_ERROR;
    }
    if (realpath(rootfs, abs) == NULL) {
        fprintf(stderr, "attest-verify: %s: %s\n", rootfs, strerror(errno));
        return CLI_EXIT_ERROR;
    }
    top = att_policy_new();
    if (top == NULL) {
        return CLI_EXIT_ERROR;
    }
    top->containers = calloc(1, sizeof(*top->containers));
    if (top->containers == NULL) {
        goto out;
    }
    top->n_containers = 1;
    c = &top->containers[0];
    c->name = strdup(name != NULL ? name : "container");
    c->images = calloc(1, sizeof(char *));
    c->files = att_policy_new();
    if (c->name == NULL || c->images == NULL || c->files == NULL) {
        goto out;
    }
    c->images[0] = strdup(image_id);
    if (c->images[0] == NULL) {
        goto out;
    }
    c->n_images = 1;
    c->allow_jit = allow_jit != 0;
    walk_policy = c->files;
    walk_strip = strcmp(abs, "/") == 0 ? 0 : strlen(abs);
    walk_elf_only = 1;
    walk_failed = 0;
    if (nftw(abs, on_entry, 32, FTW_PHYS) != 0 || walk_failed) {
        goto out;
    }
    if (att_policy_encode_json(top, out) != ATT_OK) {
        fprintf(stderr, "attest-verify: cannot encode the policy\n");
        goto out;
    }
    ret = CLI_EXIT_OK;
out:
    walk_strip = 0;
    walk_elf_only = 0;
    att_policy_free(top);
    return ret;
}

int cli_policy(int argc, char **argv)
{
    static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
                                         {"rootfs", required_argument, NULL, 'r'},
                                         {"image-id", required_argument, NULL, 'i'},
                                         {"allow-jit", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *rootfs = NULL;
    const char *image_id = NULL;
    int allow_jit = 0;
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
        } else if (c == 'r') {
            rootfs = optarg;
        } else if (c == 'i') {
            image_id = optarg;
        } else if (c == 'j') {
            allow_jit = 1;
        } else if (c == 'h') {
            printf("usage: attest-verify policy generate [--name NAME] PATH...\n"
                   "       attest-verify policy generate --rootfs DIR --image-id sha256:ID\n"
                   "                                     [--name NAME] [--allow-jit]\n"
                   "Prints a policy (JSON) whose reference values allow each file, and every\n"
                   "regular file under each directory, with its current sha256. With --rootfs,\n"
                   "a container policy instead: the image ID may start, and every ELF file in\n"
                   "the image's filesystem DIR may run (paths as seen inside the container).\n");
            ret = CLI_EXIT_OK;
            goto out;
        } else {
            goto out;
        }
    }
    if (rootfs != NULL) {
        ret = container_policy(rootfs, image_id, name, allow_jit, &out);
        if (ret == CLI_EXIT_OK &&
            (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0)) {
            ret = CLI_EXIT_ERROR;
        }
        goto out;
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
