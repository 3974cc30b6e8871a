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

#include <curl/curl.h>
#include <jansson.h>

#include "attest/buf.h"
#include "attest/digest.h"
#include "attest/tar.h"
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

#define EXPORT_MAX (1024u * 1024u * 1024u) /* a container filesystem export, in memory */

static size_t sink(char *p, size_t size, size_t n, void *user);

/* One Docker Engine API request over its unix socket; the answer in @p resp. */
static long engine_req(const char *sock, const char *method, const char *path, const char *body,
                       struct att_buf *resp)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char url[1024];
    long status = -1;

    if (c == NULL) {
        return -1;
    }
    att_buf_reset(resp);
    (void)snprintf(url, sizeof(url), "http://engine/v1.40%s", path);
    (void)curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
    (void)curl_easy_setopt(c, CURLOPT_URL, url);
    (void)curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    (void)curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
    (void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    (void)curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    if (body != NULL) {
        h = curl_slist_append(NULL, "Content-Type: application/json");
        (void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        (void)curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    if (curl_easy_perform(c) == CURLE_OK) {
        (void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

static size_t sink(char *p, size_t size, size_t n, void *user)
{
    return att_buf_append(user, p, size * n) == ATT_OK ? size * n : 0;
}

/* Every ELF regular file of the export goes into the policy's file whitelist. */
static int add_tar_elf(void *ctx, const struct att_tar_entry *e)
{
    struct att_policy *files = ctx;
    uint8_t d[ATT_SHA256_LEN];
    char path[ATT_TAR_MAX_PATH + 2];

    if (e->type != '0' || e->size < 4 || memcmp(e->data, "\x7f" "ELF", 4) != 0) {
        return 0;
    }
    (void)snprintf(path, sizeof(path), "/%s", e->path);
    if (att_sha256(e->data, e->size, d) != ATT_OK || att_policy_add(files, path, d) != ATT_OK) {
        walk_failed = 1;
        return 1;
    }
    return 0;
}

/*
 * --image REF --engine unix:///SOCK: the image's ID and its files, through
 * the engine API: create a container (never started, so no hook runs), export
 * its filesystem as tar, hash the ELF files in memory, delete the container.
 */
static int image_files(const char *engine, const char *ref, char *image_id, size_t id_len,
                       struct att_policy *files)
{
    struct att_buf resp;
    char path[1024];
    char cid[80] = "";
    char why[256] = "";
    const char *sock = NULL;
    char *esc = NULL;
    json_t *j = NULL;
    json_t *body = NULL;
    char *text = NULL;
    int ret = CLI_EXIT_ERROR;
    long st;

    att_buf_init(&resp, EXPORT_MAX);
    if (engine == NULL || strncmp(engine, "unix:///", 8) != 0) {
        fprintf(stderr, "attest-verify: --image needs --engine unix:///path/to/engine.sock\n");
        goto out;
    }
    sock = engine + 7;
    esc = curl_easy_escape(NULL, ref, 0);
    if (esc == NULL) {
        goto out;
    }
    (void)snprintf(path, sizeof(path), "/images/%s/json", esc);
    st = engine_req(sock, "GET", path, NULL, &resp);
    j = st == 200 ? json_loadb((const char *)resp.data, resp.len, 0, NULL) : NULL;
    if (j == NULL || !json_is_string(json_object_get(j, "Id"))) {
        fprintf(stderr, "attest-verify: the engine at %s has no image %s (HTTP %ld)\n", sock, ref,
                st);
        goto out;
    }
    (void)snprintf(image_id, id_len, "%s%s",
                   strncmp(json_string_value(json_object_get(j, "Id")), "sha256:", 7) == 0
                       ? ""
                       : "sha256:",
                   json_string_value(json_object_get(j, "Id")));
    json_decref(j);
    body = json_pack("{s:s, s:[s], s:{s:s}}", "Image", ref, "Cmd", "/attest-policy-export",
                     "HostConfig", "NetworkMode", "none");
    text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    st = text != NULL ? engine_req(sock, "POST", "/containers/create", text, &resp) : -1;
    j = st == 201 ? json_loadb((const char *)resp.data, resp.len, 0, NULL) : NULL;
    if (j == NULL || !json_is_string(json_object_get(j, "Id")) ||
        strlen(json_string_value(json_object_get(j, "Id"))) >= sizeof(cid)) {
        fprintf(stderr, "attest-verify: cannot create a container from %s (HTTP %ld)\n", ref, st);
        goto out;
    }
    (void)snprintf(cid, sizeof(cid), "%s", json_string_value(json_object_get(j, "Id")));
    (void)snprintf(path, sizeof(path), "/containers/%s/export", cid);
    st = engine_req(sock, "GET", path, NULL, &resp);
    if (st != 200) {
        fprintf(stderr, "attest-verify: cannot export %s (HTTP %ld; larger than %u bytes?)\n",
                ref, st, EXPORT_MAX);
        goto out;
    }
    walk_failed = 0;
    if (att_tar_walk(resp.data, resp.len, add_tar_elf, files, why, sizeof(why)) != ATT_OK ||
        walk_failed) {
        fprintf(stderr, "attest-verify: export of %s: %s\n", ref, why[0] ? why : "cannot hash");
        goto out;
    }
    ret = CLI_EXIT_OK;
out:
    if (cid[0] != '\0' && sock != NULL) {
        (void)snprintf(path, sizeof(path), "/containers/%s?force=true", cid);
        (void)engine_req(sock, "DELETE", path, NULL, &resp);
    }
    curl_free(esc);
    free(text);
    json_decref(body);
    json_decref(j);
    att_buf_cleanup(&resp);
    return ret;
}

/* --rootfs mode: one container policy admitting image_id, allowing its ELF files. */
static int container_policy(const char *rootfs, const char *image_id, const char *name,
                            int allow_jit, const char *image, const char *engine,
                            struct att_buf *out)
{
    struct att_policy *top = NULL;
    struct att_container_policy *c;
    char abs[PATH_MAX];
    char found_id[80] = "";
    int ret = CLI_EXIT_ERROR;

    if (image != NULL) {
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
        c->files = att_policy_new();
        if (c->files == NULL ||
            image_files(engine, image, found_id, sizeof(found_id), c->files) != CLI_EXIT_OK) {
            goto out;
        }
        image_id = found_id;
        goto fill;
    }
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
    c->files = att_policy_new();
    if (c->files == NULL) {
        goto out;
    }
    walk_policy = c->files;
    walk_strip = strcmp(abs, "/") == 0 ? 0 : strlen(abs);
    walk_elf_only = 1;
    walk_failed = 0;
    if (nftw(abs, on_entry, 32, FTW_PHYS) != 0 || walk_failed) {
        goto out;
    }
fill:
    c->name = strdup(name != NULL ? name : "container");
    c->images = calloc(1, sizeof(char *));
    if (c->name == NULL || c->images == NULL) {
        goto out;
    }
    c->images[0] = strdup(image_id);
    if (c->images[0] == NULL) {
        goto out;
    }
    c->n_images = 1;
    c->allow_jit = allow_jit != 0;
    c->quarantine = ATT_QUARANTINE_DEFAULT; /* a failure pauses it and cuts its network */
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
                                         {"image", required_argument, NULL, 'I'},
                                         {"engine", required_argument, NULL, 'E'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *rootfs = NULL;
    const char *image_id = NULL;
    const char *image = NULL;
    const char *engine = NULL;
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
        } else if (c == 'I') {
            image = optarg;
        } else if (c == 'E') {
            engine = optarg;
        } else if (c == 'h') {
            printf("usage: attest-verify policy generate [--name NAME] PATH...\n"
                   "       attest-verify policy generate --rootfs DIR --image-id sha256:ID\n"
                   "       attest-verify policy generate --image REF --engine unix:///SOCK\n"
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
    if (rootfs != NULL || image != NULL) {
        ret = container_policy(rootfs, image_id, name, allow_jit, image, engine, &out);
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
