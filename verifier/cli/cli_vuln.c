/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attest-verify's image vulnerability gate commands (issue 8):
 *   vulndb import PATH...  read OSV feeds (a directory or zip of OSV JSON, or
 *                        one JSON file) and/or the Debian security tracker JSON
 *                        (several paths make one feed; an import replaces it),
 *                        turn it into the canonical feed text
 *                        (attest/vulndb.h) and POST it to the verifier
 *                        (operator role). Nothing is sent unless every record
 *                        parses, so a bad feed changes nothing. The source
 *                        digest is the chain h = SHA-256(h || SHA-256(name) ||
 *                        SHA-256(bytes)) over every file read (a directory's
 *                        or zip's JSON files in name order), from 32 zero
 *                        bytes.
 *   vulndb show          the current feed and earlier imports
 *   image scan           a rootfs's (or a podman image's) package inventory
 *                        judged by the verifier with its feed
 *   vulnerabilities      stored findings of running containers
 * Nothing is downloaded: users fetch feeds themselves.
 * Memory: everything is per command; files are read whole, bounded by
 * --max-bytes (default 512 MiB in all).
 */
#define _GNU_SOURCE /* environ */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <zip.h>

#include "attest/buf.h"
#include "attest/digest.h"
#include "attest/inventory.h"
#include "attest/util.h"
#include "attest/vulndb.h"
#include "attest/vulnfeed_json.h"
#include "cli.h"

/* NOLINTNEXTLINE(readability-redundant-declaration): POSIX has the program declare it */
extern char **environ;

#define FEED_MAX_FILES         2000000u
#define FEED_DEFAULT_MAX_BYTES (512ull * 1024u * 1024u)

enum feed_source { SRC_AUTO = 0, SRC_OSV, SRC_TRACKER };

struct feed_reader {
    struct att_vulndb *db;
    enum feed_source source; /* as asked (--source) */
    bool saw_osv;
    bool saw_tracker;
    const char *release;
    uint64_t max_bytes;
    uint64_t read_bytes;
    size_t files;
    uint8_t chain[ATT_SHA256_LEN];
    struct att_vulnfeed_stats st;
};

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s);
    size_t k = strlen(suffix);

    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Which format one JSON document is: an OSV record/array, or the tracker's map. */
static enum feed_source sniff(const char *json, size_t len)
{
    size_t i;

    for (i = 0; i < len && (json[i] == ' ' || json[i] == '\n' || json[i] == '\r' ||
                            json[i] == '\t');
         i++) {
    }
    if (i < len && json[i] == '[') {
        return SRC_OSV;
    }
    /* an OSV record has "id" and "modified" at its top level; the tracker's keys are packages */
    {
        json_error_t err;
        json_t *j = json_loadb(json, len, JSON_DISABLE_EOF_CHECK, &err);
        enum feed_source s = SRC_TRACKER;

        if (j != NULL && json_is_object(j) && json_is_string(json_object_get(j, "id")) &&
            json_object_get(j, "modified") != NULL) {
            s = SRC_OSV;
        }
        json_decref(j);
        return s;
    }
}

/*
 * Add one document. @p assume is what an unsaid --source means here: OSV for
 * the files of a directory or zip (they are OSV as published), SRC_AUTO for a
 * single file (looked at first: one extra parse of one file).
 */
static int add_doc(struct feed_reader *r, const char *name, const char *data, size_t len,
                   enum feed_source assume)
{
    enum feed_source s = r->source != SRC_AUTO ? r->source
                         : assume != SRC_AUTO  ? assume
                                               : sniff(data, len);
    char why[600] = "";
    att_rc rc;

    if (s == SRC_OSV) {
        r->saw_osv = true;
        rc = att_vulnfeed_osv_add(r->db, data, len, name, &r->st, why, sizeof(why));
    } else {
        r->saw_tracker = true;
        rc = att_vulnfeed_tracker_add(r->db, data, len, r->release, &r->st, why, sizeof(why));
    }
    if (rc != ATT_OK) {
        fprintf(stderr, "attest-verify: feed %s: %s\n", name, why[0] ? why : att_rc_str(rc));
        return -1;
    }
    return 0;
}

/* Account one file of a directory or zip: size bound and the source-digest chain. */
static int account(struct feed_reader *r, const char *name, const uint8_t *data, size_t len)
{
    uint8_t buf[3 * ATT_SHA256_LEN];

    r->files++;
    r->read_bytes += len;
    if (r->files > FEED_MAX_FILES || r->read_bytes > r->max_bytes) {
        fprintf(stderr,
                "attest-verify: feed is too large: more than %llu bytes or %u files "
                "(--max-bytes)\n",
                (unsigned long long)r->max_bytes, FEED_MAX_FILES);
        return -1;
    }
    memcpy(buf, r->chain, ATT_SHA256_LEN);
    if (att_sha256(name, strlen(name), buf + ATT_SHA256_LEN) != ATT_OK ||
        att_sha256(data, len, buf + 2 * ATT_SHA256_LEN) != ATT_OK ||
        att_sha256(buf, sizeof(buf), r->chain) != ATT_OK) {
        return -1;
    }
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_dir(struct feed_reader *r, const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0;
    size_t cap = 0;
    size_t i;
    int ret = -1;

    if (d == NULL) {
        fprintf(stderr, "attest-verify: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !ends_with(de->d_name, ".json")) {
            continue;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            char **g = ncap <= FEED_MAX_FILES ? realloc(names, ncap * sizeof(*g)) : NULL;

            if (g == NULL) {
                fprintf(stderr, "attest-verify: %s: too many files\n", path);
                goto out;
            }
            names = g;
            cap = ncap;
        }
        names[n] = strdup(de->d_name);
        if (names[n] == NULL) {
            goto out;
        }
        n++;
    }
    if (n == 0) {
        fprintf(stderr, "attest-verify: %s holds no *.json files\n", path);
        goto out;
    }
    qsort(names, n, sizeof(*names), name_cmp);
    for (i = 0; i < n; i++) {
        char fp[4200];
        struct att_buf b;
        att_rc rc;
        struct stat sb;

        (void)snprintf(fp, sizeof(fp), "%s/%s", path, names[i]);
        if (stat(fp, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            continue;
        }
        att_buf_init(&b, ATT_VULNFEED_MAX_DOC);
        rc = att_file_read(fp, &b);
        if (rc != ATT_OK) {
            fprintf(stderr, "attest-verify: cannot read %s: %s\n", fp,
                    rc == ATT_ERR_PARSE ? "larger than one feed document may be" : att_rc_str(rc));
            att_buf_cleanup(&b);
            goto out;
        }
        if (account(r, names[i], b.data != NULL ? b.data : (const uint8_t *)"", b.len) != 0 ||
            add_doc(r, fp, b.data != NULL ? (const char *)b.data : "", b.len, SRC_OSV) != 0) {
            att_buf_cleanup(&b);
            goto out;
        }
        att_buf_cleanup(&b);
    }
    ret = 0;
out:
    for (i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
    (void)closedir(d);
    return ret;
}

static int read_zip(struct feed_reader *r, const char *path)
{
    int err = 0;
    zip_t *z = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &err);
    zip_int64_t n;
    zip_int64_t i;
    char **names = NULL;
    size_t k = 0;
    size_t j;
    int ret = -1;

    if (z == NULL) {
        zip_error_t ze;

        zip_error_init_with_code(&ze, err);
        fprintf(stderr, "attest-verify: %s is not a readable zip: %s\n", path,
                zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return -1;
    }
    n = zip_get_num_entries(z, 0);
    if (n < 0 || (zip_uint64_t)n > FEED_MAX_FILES) {
        fprintf(stderr, "attest-verify: %s: too many entries\n", path);
        goto out;
    }
    names = calloc((size_t)n + 1, sizeof(*names));
    if (names == NULL) {
        goto out;
    }
    for (i = 0; i < n; i++) {
        const char *nm = zip_get_name(z, (zip_uint64_t)i, 0);

        if (nm != NULL && ends_with(nm, ".json") && strchr(nm, '\n') == NULL) {
            names[k] = strdup(nm);
            if (names[k] == NULL) {
                goto out;
            }
            k++;
        }
    }
    if (k == 0) {
        fprintf(stderr, "attest-verify: %s holds no *.json entries\n", path);
        goto out;
    }
    qsort(names, k, sizeof(*names), name_cmp);
    for (j = 0; j < k; j++) {
        zip_stat_t zs;
        zip_file_t *zf;
        char *data;
        zip_int64_t got;
        char label[4200];

        (void)snprintf(label, sizeof(label), "%s:%s", path, names[j]);
        if (zip_stat(z, names[j], 0, &zs) != 0 || (zs.valid & ZIP_STAT_SIZE) == 0 ||
            zs.size > ATT_VULNFEED_MAX_DOC || r->read_bytes + zs.size > r->max_bytes) {
            fprintf(stderr, "attest-verify: %s: missing or too large (--max-bytes %llu)\n", label,
                    (unsigned long long)r->max_bytes);
            goto out;
        }
        data = malloc(zs.size + 1);
        zf = data != NULL ? zip_fopen(z, names[j], 0) : NULL;
        got = zf != NULL ? zip_fread(zf, data, zs.size) : -1;
        if (zf != NULL) {
            (void)zip_fclose(zf);
        }
        if (data == NULL || got < 0 || (zip_uint64_t)got != zs.size) {
            fprintf(stderr, "attest-verify: %s: cannot decompress it (corrupt zip)\n", label);
            free(data);
            goto out;
        }
        data[zs.size] = '\0';
        if (account(r, names[j], (const uint8_t *)data, (size_t)zs.size) != 0 ||
            add_doc(r, label, data, (size_t)zs.size, SRC_OSV) != 0) {
            free(data);
            goto out;
        }
        free(data);
    }
    ret = 0;
out:
    for (j = 0; names != NULL && j < k; j++) {
        free(names[j]);
    }
    free(names);
    zip_discard(z);
    return ret;
}

static void print_feed(const json_t *f)
{
    const char *d = json_string_value(json_object_get(f, "digest"));
    json_int_t age = json_integer_value(json_object_get(f, "age_seconds"));

    printf("feed %.12s: %lld entries (%s), content %lld h old%s, imported by %s\n",
           d != NULL ? d : "?", (long long)json_integer_value(json_object_get(f, "entries")),
           json_string_value(json_object_get(f, "source")) != NULL
               ? json_string_value(json_object_get(f, "source"))
               : "?",
           (long long)(age / 3600), json_is_true(json_object_get(f, "stale")) ? " (STALE)" : "",
           json_string_value(json_object_get(f, "imported_by")) != NULL
               ? json_string_value(json_object_get(f, "imported_by"))
               : "?");
}

static int cmd_import(const struct cli_fleet *f, int argc, char **argv)
{
    static const struct option opts[] = {{"source", required_argument, NULL, 's'},
                                         {"release", required_argument, NULL, 'r'},
                                         {"feed-time", required_argument, NULL, 't'},
                                         {"max-bytes", required_argument, NULL, 'm'},
                                         {NULL, 0, NULL, 0}};
    struct feed_reader r;
    struct att_buf canon;
    struct stat sb;
    const char *path;
    const char *feed_time = NULL;
    uint64_t tracker_time = 0;
    char q[300];
    char hex[2 * ATT_SHA256_LEN + 1];
    json_t *out = NULL;
    int status;
    int c;
    int ret = CLI_EXIT_ERROR;

    memset(&r, 0, sizeof(r));
    r.max_bytes = FEED_DEFAULT_MAX_BYTES;
    att_buf_init(&canon, ATT_VULNDB_MAX_TEXT);
    optind = 0; /* glibc: 0 restarts getopt (1 keeps the outer scan's state) */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (strcmp(optarg, "osv") == 0) {
                r.source = SRC_OSV;
            } else if (strcmp(optarg, "debian-tracker") == 0) {
                r.source = SRC_TRACKER;
            } else {
                fprintf(stderr, "attest-verify: --source must be osv or debian-tracker\n");
                return CLI_EXIT_ERROR;
            }
            break;
        case 'r':
            r.release = optarg;
            break;
        case 't':
            feed_time = optarg;
            break;
        case 'm':
            if (att_parse_u64(optarg, UINT64_MAX / 2, &r.max_bytes) != ATT_OK) {
                fprintf(stderr, "attest-verify: --max-bytes must be a number of bytes\n");
                return CLI_EXIT_ERROR;
            }
            break;
        default:
            fprintf(stderr, "usage: attest-verify vulndb import PATH... [--source osv|debian-tracker] "
                            "[--release CODENAME] [--feed-time RFC3339] [--max-bytes N]\n");
            return CLI_EXIT_ERROR;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "usage: attest-verify vulndb import PATH... [--source osv|debian-tracker] "
                        "[--release CODENAME] [--feed-time RFC3339] [--max-bytes N]\n");
        return CLI_EXIT_ERROR;
    }
    r.db = att_vulndb_new(0);
    if (r.db == NULL) {
        return CLI_EXIT_ERROR;
    }
    /* several paths make one feed (e.g. OSV and the tracker): the import replaces the feed */
    for (ret = CLI_EXIT_OK; ret == CLI_EXIT_OK && optind < argc; optind++) {
        path = argv[optind];
        if (stat(path, &sb) != 0) {
            fprintf(stderr, "attest-verify: cannot read feed %s: %s\n", path, strerror(errno));
            ret = CLI_EXIT_ERROR;
        } else if (S_ISDIR(sb.st_mode)) {
            ret = read_dir(&r, path) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
        } else if (ends_with(path, ".zip")) {
            ret = read_zip(&r, path) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
        } else {
            struct att_buf b;
            att_rc rc;

            att_buf_init(&b, r.max_bytes < ATT_VULNFEED_MAX_DOC ? (size_t)r.max_bytes
                                                                : ATT_VULNFEED_MAX_DOC);
            rc = att_file_read(path, &b);
            if (rc != ATT_OK) {
                fprintf(stderr, "attest-verify: cannot read feed %s: %s\n", path,
                        rc == ATT_ERR_PARSE ? "too large (--max-bytes)" : att_rc_str(rc));
                ret = CLI_EXIT_ERROR;
            } else if (account(&r, path, b.data != NULL ? b.data : (const uint8_t *)"", b.len) !=
                       0) {
                ret = CLI_EXIT_ERROR;
            } else {
                ret = add_doc(&r, path, b.data != NULL ? (const char *)b.data : "", b.len,
                              SRC_AUTO) == 0
                          ? CLI_EXIT_OK
                          : CLI_EXIT_ERROR;
            }
            att_buf_cleanup(&b);
        }
        if (ret == CLI_EXIT_OK && r.saw_tracker && sb.st_mtime > 0 &&
            (uint64_t)sb.st_mtime > tracker_time) {
            tracker_time = (uint64_t)sb.st_mtime;
        }
    }
    if (ret != CLI_EXIT_OK) {
        goto out;
    }
    ret = CLI_EXIT_ERROR;
    if (feed_time != NULL) {
        struct timespec ts;

        if (!att_rfc3339_parse(feed_time, &ts)) {
            fprintf(stderr, "attest-verify: --feed-time must be an RFC 3339 time "
                            "(e.g. 2026-11-23T00:00:00Z)\n");
            goto out;
        }
        r.db->feed_time = (uint64_t)ts.tv_sec;
    } else if (r.saw_tracker) {
        /* the tracker's JSON carries no time of its own: its file's, as fetched */
        if (r.db->feed_time == 0 || tracker_time < r.db->feed_time) {
            r.db->feed_time = tracker_time;
        }
    }
    if (r.db->feed_time == 0) {
        fprintf(stderr, "attest-verify: the feed says nothing about its age (no \"modified\"): "
                        "give --feed-time\n");
        goto out;
    }
    if (att_vulndb_finish(r.db) != ATT_OK || att_vulndb_canonical(r.db, &canon) != ATT_OK ||
        canon.data == NULL) {
        fprintf(stderr, "attest-verify: cannot build the feed (too large?)\n");
        goto out;
    }
    att_hex_encode(r.chain, ATT_SHA256_LEN, hex);
    (void)snprintf(q, sizeof(q), "/api/v1/vulndb?source=%s&source_digest=%s",
                   r.saw_osv && r.saw_tracker ? "osv+debian-tracker"
                   : r.saw_tracker             ? "debian-tracker"
                                               : "osv",
                   hex);
    fprintf(stderr, "attest-verify: read %zu records, %zu entries (%zu ranges skipped), %zu bytes "
                    "of canonical feed\n",
            r.st.records, r.db->n_entries, r.st.skipped_ranges, canon.len);
    status = cli_api_call_raw(f, "POST", q, "text/plain", canon.data, canon.len, &out);
    if (status == 200 || status == 201) {
        if (f->json) {
            cli_print_json(out);
        } else {
            printf("%s ", status == 201 ? "imported" : "unchanged:");
            print_feed(out);
        }
        ret = CLI_EXIT_OK;
    }
out:
    json_decref(out);
    att_buf_cleanup(&canon);
    att_vulndb_free(r.db);
    return ret;
}

static int cmd_show(const struct cli_fleet *f)
{
    json_t *out = NULL;
    json_t *it;
    size_t i;
    int status = cli_api_call_raw(f, "GET", "/api/v1/vulndb", NULL, NULL, 0, &out);

    if (status != 200) {
        json_decref(out);
        return CLI_EXIT_ERROR;
    }
    if (f->json) {
        cli_print_json(out);
    } else if (!json_is_object(json_object_get(out, "current"))) {
        printf("no vulnerability feed imported\n");
    } else {
        printf("current ");
        print_feed(json_object_get(out, "current"));
        printf("judging with feeds up to %lld h old\n",
               (long long)json_integer_value(json_object_get(out, "max_age_seconds")) / 3600);
        json_array_foreach(json_object_get(out, "feeds"), i, it) {
            if (i > 0) {
                printf("earlier ");
                print_feed(it);
            }
        }
    }
    json_decref(out);
    return CLI_EXIT_OK;
}

/* Run argv, capture its stdout (at most cap bytes); exit status 0 -> 0. */
static int run_capture(char *const argv[], char *out, size_t cap)
{
    int p[2];
    pid_t pid;
    posix_spawn_file_actions_t fa;
    size_t got = 0;
    ssize_t r;
    int st = 0;

    if (pipe(p) != 0) {
        return -1;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addclose(&fa, p[0]);
    if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        (void)close(p[0]);
        (void)close(p[1]);
        return -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    (void)close(p[1]);
    while (got + 1 < cap && (r = read(p[0], out + got, cap - 1 - got)) > 0) {
        got += (size_t)r;
    }
    out[got] = '\0';
    (void)close(p[0]);
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        return -1;
    }
    return 0;
}

/* A name that goes into a query string as it is (no URL encoding needed). */
static bool query_safe(const char *s)
{
    return s[0] != '\0' &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") ==
               strlen(s);
}

static int cmd_scan(const struct cli_fleet *f, int argc, char **argv)
{
    static const struct option opts[] = {{"rootfs", required_argument, NULL, 'r'},
                                         {"image", required_argument, NULL, 'i'},
                                         {"policy", required_argument, NULL, 'p'},
                                         {"container", required_argument, NULL, 'c'},
                                         {"json", no_argument, NULL, 'j'},
                                         {NULL, 0, NULL, 0}};
    const char *rootfs = NULL;
    const char *image = NULL;
    const char *policy = NULL;
    const char *cpol = NULL;
    int json = f->json;
    struct att_inventory *inv = NULL;
    struct att_buf canon;
    char why[400] = "";
    char mnt[4200] = "";
    char path[1024] = "/api/v1/vulndb/scan";
    json_t *out = NULL;
    json_t *it;
    size_t i;
    int status;
    int c;
    int ret = CLI_EXIT_ERROR;

    att_buf_init(&canon, ATT_INV_MAX_TEXT);
    optind = 0; /* glibc: 0 restarts getopt (1 keeps the outer scan's state) */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            rootfs = optarg;
            break;
        case 'i':
            image = optarg;
            break;
        case 'p':
            policy = optarg;
            break;
        case 'c':
            cpol = optarg;
            break;
        case 'j':
            json = 1;
            break;
        default:
            goto usage;
        }
    }
    if (optind != argc || (rootfs == NULL) == (image == NULL) || (policy == NULL) != (cpol == NULL)) {
        goto usage;
    }
    if (!cli_fleet_ready(f, "image scan")) {
        return CLI_EXIT_ERROR;
    }
    if (policy != NULL && (!query_safe(policy) || !query_safe(cpol))) {
        fprintf(stderr, "attest-verify: --policy and --container take names of A-Z a-z 0-9 . _ : -\n");
        return CLI_EXIT_ERROR;
    }
    if (image != NULL) {
        char a0[] = "podman";
        char a1[] = "image";
        char a2[] = "mount";
        char *pargv[] = {a0, a1, a2, (char *)(uintptr_t)image, NULL};
        size_t n;

        if (run_capture(pargv, mnt, sizeof(mnt)) != 0) {
            fprintf(stderr, "attest-verify: cannot mount image %s (podman image mount failed; "
                            "is it a local image, and are you root?)\n",
                    image);
            goto out;
        }
        n = strlen(mnt);
        while (n > 0 && (mnt[n - 1] == '\n' || mnt[n - 1] == ' ')) {
            mnt[--n] = '\0';
        }
        rootfs = mnt;
    }
    if (att_inventory_from_dir(rootfs, &inv, why, sizeof(why)) != ATT_OK) {
        fprintf(stderr, "attest-verify: cannot read the package inventory of %s: %s\n", rootfs,
                why);
        goto out;
    }
    if (att_inventory_canonical(inv, &canon) != ATT_OK || canon.data == NULL) {
        fprintf(stderr, "attest-verify: inventory too large\n");
        goto out;
    }
    if (policy != NULL) {
        (void)snprintf(path, sizeof(path), "/api/v1/vulndb/scan?policy=%s&container=%s", policy,
                       cpol);
    }
    status = cli_api_call_raw(f, "POST", path, "text/plain", canon.data, canon.len, &out);
    if (status != 200) {
        goto out;
    }
    if (json) {
        cli_print_json(out);
    } else {
        printf("%s: %s, %lld packages (%s)\n", image != NULL ? image : rootfs,
               json_string_value(json_object_get(json_object_get(out, "inventory"), "ecosystem")),
               (long long)json_integer_value(
                   json_object_get(json_object_get(out, "inventory"), "packages")),
               inv->format == ATT_PKG_DPKG  ? "dpkg"
               : inv->format == ATT_PKG_APK ? "apk"
                                            : "no package database");
        json_array_foreach(json_object_get(out, "findings"), i, it) {
            const char *fx = json_string_value(json_object_get(it, "fixed"));

            printf("  %-5s %-20s %-9s %s %s%s%s\n",
                   json_is_true(json_object_get(it, "over_bar"))  ? "OVER"
                   : json_is_true(json_object_get(it, "allowed")) ? "ok*"
                                                                   : "-",
                   json_string_value(json_object_get(it, "id")),
                   json_string_value(json_object_get(it, "severity")),
                   json_string_value(json_object_get(it, "package")),
                   json_string_value(json_object_get(it, "version")),
                   fx != NULL ? " fixed in " : " (no fix)", fx != NULL ? fx : "");
        }
        printf("%s: %lld findings, %lld over the bar (%s or worse%s), %lld accepted\n",
               json_string_value(json_object_get(out, "verdict")),
               (long long)json_integer_value(json_object_get(out, "findings_total")),
               (long long)json_integer_value(json_object_get(out, "over_bar")),
               json_string_value(json_object_get(json_object_get(out, "bar"), "refuse_at")),
               json_is_true(json_object_get(json_object_get(out, "bar"), "refuse_unfixed"))
                   ? ""
                   : ", fix available",
               (long long)json_integer_value(json_object_get(out, "allowed")));
    }
    ret = json_integer_value(json_object_get(out, "over_bar")) > 0 ? CLI_EXIT_UNTRUSTED
                                                                    : CLI_EXIT_OK;
out:
    if (image != NULL && mnt[0] != '\0') {
        char a0[] = "podman";
        char a1[] = "image";
        char a2[] = "unmount";
        char *uargv[] = {a0, a1, a2, (char *)(uintptr_t)image, NULL};
        char ignored[256];

        (void)run_capture(uargv, ignored, sizeof(ignored));
    }
    json_decref(out);
    att_inventory_free(inv);
    att_buf_cleanup(&canon);
    return ret;
usage:
    fprintf(stderr, "usage: attest-verify image scan (--rootfs DIR | --image REF) "
                    "[--policy DOC --container NAME] [--json]\n");
    return CLI_EXIT_ERROR;
}

static int cmd_findings(const struct cli_fleet *f, int argc, char **argv)
{
    static const struct option opts[] = {{"host", required_argument, NULL, 'h'},
                                         {"container", required_argument, NULL, 'c'},
                                         {"image", required_argument, NULL, 'i'},
                                         {NULL, 0, NULL, 0}};
    struct att_buf q;
    json_t *out = NULL;
    json_t *it;
    size_t i;
    int c;
    int status;
    char sep = '?';

    att_buf_init(&q, 2048);
    (void)att_buf_append_str(&q, "/api/v1/vulnerabilities");
    optind = 0; /* glibc: 0 restarts getopt (1 keeps the outer scan's state) */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        const char *key = c == 'h' ? "host" : c == 'c' ? "container" : c == 'i' ? "image" : NULL;

        if (key == NULL || !query_safe(optarg)) {
            fprintf(stderr, "usage: attest-verify vulnerabilities [--host H] [--container ID] "
                            "[--image sha256:...]\n");
            att_buf_cleanup(&q);
            return CLI_EXIT_ERROR;
        }
        (void)att_buf_printf(&q, "%c%s=%s", sep, key, optarg);
        sep = '&';
    }
    if (optind != argc || q.data == NULL) {
        fprintf(stderr, "usage: attest-verify vulnerabilities [--host H] [--container ID] "
                        "[--image sha256:...]\n");
        att_buf_cleanup(&q);
        return CLI_EXIT_ERROR;
    }
    status = cli_api_call_raw(f, "GET", (const char *)q.data, NULL, NULL, 0, &out);
    att_buf_cleanup(&q);
    if (status != 200) {
        json_decref(out);
        return CLI_EXIT_ERROR;
    }
    if (f->json) {
        cli_print_json(out);
    } else {
        json_array_foreach(json_object_get(out, "findings"), i, it) {
            const char *fx = json_string_value(json_object_get(it, "fixed"));

            printf("%s %.12s %-5s %-20s %-9s %s %s%s%s\n",
                   json_string_value(json_object_get(it, "host")),
                   json_string_value(json_object_get(it, "container")),
                   json_is_true(json_object_get(it, "over_bar"))  ? "OVER"
                   : json_is_true(json_object_get(it, "allowed")) ? "ok*"
                                                                   : "-",
                   json_string_value(json_object_get(it, "id")),
                   json_string_value(json_object_get(it, "severity")),
                   json_string_value(json_object_get(it, "package")),
                   json_string_value(json_object_get(it, "version")),
                   fx != NULL ? " fixed in " : " (no fix)", fx != NULL ? fx : "");
        }
        printf("%lld findings, %lld over the bar\n",
               (long long)json_integer_value(json_object_get(out, "total")),
               (long long)json_integer_value(json_object_get(out, "over_bar")));
    }
    json_decref(out);
    return CLI_EXIT_OK;
}

int cli_vuln(const struct cli_fleet *f, const char *cmd, int argc, char **argv)
{
    if (strcmp(cmd, "vulndb") == 0 && argc >= 2 && strcmp(argv[1], "import") == 0) {
        return cli_fleet_ready(f, "vulndb import") ? cmd_import(f, argc - 1, argv + 1)
                                                   : CLI_EXIT_ERROR;
    }
    if (strcmp(cmd, "vulndb") == 0 && argc == 2 && strcmp(argv[1], "show") == 0) {
        return cli_fleet_ready(f, "vulndb show") ? cmd_show(f) : CLI_EXIT_ERROR;
    }
    if (strcmp(cmd, "image") == 0 && argc >= 2 && strcmp(argv[1], "scan") == 0) {
        return cmd_scan(f, argc - 1, argv + 1);
    }
    if (strcmp(cmd, "vulnerabilities") == 0) {
        return cli_fleet_ready(f, "vulnerabilities") ? cmd_findings(f, argc, argv)
                                                     : CLI_EXIT_ERROR;
    }
    fprintf(stderr, "usage: attest-verify vulndb import PATH | vulndb show | image scan ... | "
                    "vulnerabilities ...\n");
    return CLI_EXIT_ERROR;
}
