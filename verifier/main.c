/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attest-verifier: argv and INI config, signals, and the token admin command.
 *   attest-verifier [run] [--config FILE] [--db FILE] [--listen A:P] ...
 *   attest-verifier token create --db FILE --name NAME --role viewer|operator|admin
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <ini.h>

#include "attest/digest.h"
#include "attest/daemon.h"
#include "attest/log.h"
#include "attest/util.h"
#include "store.h"
#include "verifier.h"

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: attest-verifier [run] [OPTIONS]\n"
        "       attest-verifier token create --db FILE --name NAME --role viewer|operator|admin\n"
        "\n"
        "Enrolls hosts, attests them every interval and serves the dashboard API.\n"
        "\n"
        "options (each may also be set in the [verifier] section of --config FILE):\n"
        "  --config FILE         INI file; flags override it\n"
        "  --db FILE             SQLite store (default " VERIFIER_DEFAULT_DB ")\n"
        "  --listen ADDR:PORT    dashboard API (default " VERIFIER_DEFAULT_LISTEN
        "; port 0 = any)\n"
        "  --api-cert FILE       HTTPS certificate for the API (PEM)\n"
        "  --api-key FILE        its key\n"
        "  --fleet-ca FILE       CA of agent certificates (mTLS to agents)\n"
        "  --client-cert FILE    the verifier's client certificate towards agents\n"
        "  --client-key FILE     its key\n"
        "  --tpm-ca PATH         trusted TPM EK CA file or dir; repeatable "
        "(default " VERIFIER_DEFAULT_TPM_CA ")\n"
        "  --interval SECONDS    attest every host this often (default 2; decimals allowed)\n"
        "  --timeout SECONDS     per agent request (default 10)\n"
        "  --max-inflight N      concurrent agent requests (default 32)\n"
        "  --order-key FILE      P-256 key signing quarantine orders (PEM; created if\n"
        "                        absent; default order-key.pem next to the --db file)\n"
        "  --order-ttl SECONDS   drop an order not delivered within this (default 86400)\n"
        "  --vulndb-max-age SECONDS  do not judge with a vulnerability feed older than this\n"
        "                        (default 432000 = 120 h; a policy's max_feed_age overrides)\n"
        "  --vulndb-max-bytes N  largest feed upload accepted (default and most 25165824)\n"
        "  --insecure-dev        plain HTTP to agents and on the API (test rigs only!)\n"
        "  --log-level LEVEL     error|warning|info|debug (default warning)\n"
        "  --help, --version\n");
}

struct settings {
    struct verifier_config cfg;
    char *log_level;
};

static void settings_init(struct settings *s)
{
    memset(s, 0, sizeof(*s));
    verifier_config_init(&s->cfg);
}

static void settings_cleanup(struct settings *s)
{
    verifier_config_cleanup(&s->cfg);
    free(s->log_level);
    memset(s, 0, sizeof(*s));
}

static att_rc set_str(char **dst, const char *v)
{
    char *n = strdup(v);

    if (n == NULL) {
        return ATT_ERR_NOMEM;
    }
    free(*dst);
    *dst = n;
    return ATT_OK;
}

/* Seconds with up to three decimals -> milliseconds. */
static att_rc parse_interval(const char *s, uint32_t *ms)
{
    char whole[16];
    const char *dot = strchr(s, '.');
    uint32_t sec = 0;
    uint32_t frac = 0;
    size_t n = dot != NULL ? (size_t)(dot - s) : strlen(s);
    size_t flen;
    size_t i;

    if (n == 0 || n >= sizeof(whole)) {
        return ATT_ERR_PARSE;
    }
    memcpy(whole, s, n);
    whole[n] = '\0';
    if (att_parse_u32(whole, 86400, &sec) != ATT_OK) {
        return ATT_ERR_PARSE;
    }
    if (dot != NULL) {
        flen = strlen(dot + 1);
        if (flen == 0 || flen > 3) {
            return ATT_ERR_PARSE;
        }
        for (i = 0; i < 3; i++) {
            char c = i < flen ? dot[1 + i] : '0';

            if (c < '0' || c > '9') {
                return ATT_ERR_PARSE;
            }
            frac = frac * 10 + (uint32_t)(c - '0');
        }
    }
    *ms = sec * 1000 + frac;
    return *ms >= 100 ? ATT_OK : ATT_ERR_PARSE;
}

static att_rc apply(struct settings *s, const char *key, const char *val, char *why, size_t why_len)
{
    struct verifier_config *c = &s->cfg;

    if (strcmp(key, "db") == 0) {
        return set_str(&c->db, val);
    }
    if (strcmp(key, "listen") == 0) {
        return set_str(&c->listen, val);
    }
    if (strcmp(key, "api-cert") == 0 || strcmp(key, "api_cert") == 0) {
        return set_str(&c->api_cert, val);
    }
    if (strcmp(key, "api-key") == 0 || strcmp(key, "api_key") == 0) {
        return set_str(&c->api_key, val);
    }
    if (strcmp(key, "fleet-ca") == 0 || strcmp(key, "fleet_ca") == 0) {
        return set_str(&c->fleet_ca, val);
    }
    if (strcmp(key, "client-cert") == 0 || strcmp(key, "client_cert") == 0) {
        return set_str(&c->client_cert, val);
    }
    if (strcmp(key, "client-key") == 0 || strcmp(key, "client_key") == 0) {
        return set_str(&c->client_key, val);
    }
    if (strcmp(key, "order-key") == 0 || strcmp(key, "order_key") == 0) {
        return set_str(&c->order_key, val);
    }
    if (strcmp(key, "order-ttl") == 0 || strcmp(key, "order_ttl") == 0) {
        if (att_parse_u32(val, 30u * 86400u, &c->order_ttl_s) != ATT_OK || c->order_ttl_s < 10) {
            (void)snprintf(why, why_len, "order-ttl \"%s\" must be 10..2592000 seconds", val);
            return ATT_ERR_INVALID_ARG;
        }
        return ATT_OK;
    }
    if (strcmp(key, "vulndb-max-age") == 0 || strcmp(key, "vulndb_max_age") == 0) {
        if (att_parse_u64(val, 366ull * 86400u, &c->vulndb_max_age_s) != ATT_OK ||
            c->vulndb_max_age_s < 60) {
            (void)snprintf(why, why_len, "vulndb-max-age \"%s\" must be 60..31622400 seconds", val);
            return ATT_ERR_INVALID_ARG;
        }
        return ATT_OK;
    }
    if (strcmp(key, "vulndb-max-bytes") == 0 || strcmp(key, "vulndb_max_bytes") == 0) {
        uint64_t n = 0;

        if (att_parse_u64(val, ATT_PROTO_MAX_VULNFEED, &n) != ATT_OK || n < 1024) {
            (void)snprintf(why, why_len,
                           "vulndb-max-bytes \"%s\" must be 1024..%u (a feed must fit one "
                           "evidence request to the agents)",
                           val, ATT_PROTO_MAX_VULNFEED);
            return ATT_ERR_INVALID_ARG;
        }
        c->vulndb_max_bytes = (size_t)n;
        return ATT_OK;
    }
    if (strcmp(key, "log-level") == 0 || strcmp(key, "log_level") == 0) {
        return set_str(&s->log_level, val);
    }
    if (strcmp(key, "tpm-ca") == 0 || strcmp(key, "tpm_ca") == 0) {
        if (c->n_tpm_ca >= VERIFIER_MAX_TPM_CA) {
            (void)snprintf(why, why_len, "at most %d tpm-ca entries", VERIFIER_MAX_TPM_CA);
            return ATT_ERR_INVALID_ARG;
        }
        c->tpm_ca[c->n_tpm_ca] = strdup(val);
        if (c->tpm_ca[c->n_tpm_ca] == NULL) {
            return ATT_ERR_NOMEM;
        }
        /* Kept in tpm_ca[] and freed by verifier_config_cleanup(): the analyzer
         * loses array elements stored at a symbolic index. */
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
        c->n_tpm_ca++;
        return ATT_OK;
    }
    if (strcmp(key, "interval") == 0) {
        if (parse_interval(val, &c->interval_ms) != ATT_OK) {
            (void)snprintf(why, why_len, "interval \"%s\" must be seconds >= 0.1 (e.g. 2 or 0.5)",
                           val);
            return ATT_ERR_INVALID_ARG;
        }
        return ATT_OK;
    }
    if (strcmp(key, "timeout") == 0) {
        if (att_parse_u32(val, 300, &c->timeout_s) != ATT_OK || c->timeout_s == 0) {
            (void)snprintf(why, why_len, "timeout \"%s\" must be 1..300 seconds", val);
            return ATT_ERR_INVALID_ARG;
        }
        return ATT_OK;
    }
    if (strcmp(key, "max-inflight") == 0 || strcmp(key, "max_inflight") == 0) {
        if (att_parse_u32(val, 4096, &c->max_inflight) != ATT_OK || c->max_inflight == 0) {
            (void)snprintf(why, why_len, "max-inflight \"%s\" must be 1..4096", val);
            return ATT_ERR_INVALID_ARG;
        }
        return ATT_OK;
    }
    if (strcmp(key, "insecure-dev") == 0 || strcmp(key, "insecure_dev") == 0) {
        if (strcmp(val, "true") != 0 && strcmp(val, "yes") != 0 && strcmp(val, "1") != 0 &&
            strcmp(val, "false") != 0 && strcmp(val, "no") != 0 && strcmp(val, "0") != 0) {
            (void)snprintf(why, why_len, "insecure_dev must be true or false");
            return ATT_ERR_INVALID_ARG;
        }
        c->insecure_dev = val[0] == 't' || val[0] == 'y' || val[0] == '1';
        return ATT_OK;
    }
    (void)snprintf(why, why_len, "unknown option \"%s\"", key);
    return ATT_ERR_INVALID_ARG;
}

struct ini_ctx {
    struct settings *s;
    char why[512];
};

static int ini_cb(void *user, const char *section, const char *name, const char *value)
{
    struct ini_ctx *c = user;

    if (strcmp(section, "verifier") != 0) {
        (void)snprintf(c->why, sizeof(c->why), "unknown section [%s]", section);
        return 0;
    }
    return apply(c->s, name, value, c->why, sizeof(c->why)) == ATT_OK;
}

/* attest-verifier token create: a random token, shown once, stored hashed. */
static int token_main(int argc, char **argv)
{
    static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                         {"name", required_argument, NULL, 'n'},
                                         {"role", required_argument, NULL, 'r'},
                                         {NULL, 0, NULL, 0}};
    const char *db = NULL;
    const char *name = NULL;
    const char *role = NULL;
    struct store *s = NULL;
    uint8_t raw[24];
    uint8_t hash[ATT_SHA256_LEN];
    char hex[2 * sizeof(raw) + 1];
    char token[64];
    att_rc rc;
    int c;

    if (argc < 2 || strcmp(argv[1], "create") != 0) {
        fprintf(stderr, "usage: attest-verifier token create --db FILE --name NAME --role "
                        "viewer|operator|admin\n");
        return 2;
    }
    argc--;
    argv++;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        if (c == 'd') {
            db = optarg;
        } else if (c == 'n') {
            name = optarg;
        } else if (c == 'r') {
            role = optarg;
        } else {
            return 2;
        }
    }
    if (db == NULL || name == NULL || role == NULL) {
        fprintf(stderr, "attest-verifier: token create needs --db, --name and --role\n");
        return 2;
    }
    if (strcmp(role, "viewer") != 0 && strcmp(role, "operator") != 0 &&
        strcmp(role, "admin") != 0) {
        fprintf(stderr, "attest-verifier: role \"%s\" must be viewer, operator or admin\n", role);
        return 2;
    }
    rc = store_open(db, &s);
    if (rc != ATT_OK) {
        fprintf(stderr, "attest-verifier: cannot open %s: %s%s\n", db, att_rc_str(rc),
                rc == ATT_ERR_EXISTS ? " (stop the running verifier, or use its API)" : "");
        return 1;
    }
    if (att_random_bytes(raw, sizeof(raw)) != ATT_OK) {
        store_close(s);
        return 1;
    }
    att_hex_encode(raw, sizeof(raw), hex);
    (void)snprintf(token, sizeof(token), "att_%s", hex);
    if (att_sha256(token, strlen(token), hash) != ATT_OK) {
        store_close(s);
        return 1;
    }
    rc = store_token_add(s, name, role, hash);
    store_close(s);
    if (rc != ATT_OK) {
        fprintf(stderr, "attest-verifier: cannot add token \"%s\": %s\n", name,
                rc == ATT_ERR_EXISTS ? "a token of that name exists" : att_rc_str(rc));
        return 1;
    }
    printf("%s\n", token);
    return 0;
}

static int run(struct settings *s)
{
    struct verifier *v = NULL;
    struct pollfd pfd;
    att_rc rc;

    pfd.fd = att_daemon_stop_fd();
    if (pfd.fd < 0) {
        fprintf(stderr, "attest-verifier: cannot set up signal handling: %s\n", strerror(errno));
        return 1;
    }
    rc = verifier_start(&s->cfg, &v);
    if (rc != ATT_OK) {
        fprintf(stderr, "attest-verifier: cannot start: %s (see messages above)\n", att_rc_str(rc));
        return 1;
    }
    printf("attest-verifier ready: API port %u, store %s\n", verifier_api_port(v), s->cfg.db);
    (void)fflush(stdout);
    pfd.events = POLLIN;
    while (poll(&pfd, 1, -1) < 0 && errno == EINTR) {
    }
    verifier_stop(v);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"db", required_argument, NULL, 1},
                                         {"listen", required_argument, NULL, 1},
                                         {"api-cert", required_argument, NULL, 1},
                                         {"api-key", required_argument, NULL, 1},
                                         {"fleet-ca", required_argument, NULL, 1},
                                         {"client-cert", required_argument, NULL, 1},
                                         {"client-key", required_argument, NULL, 1},
                                         {"tpm-ca", required_argument, NULL, 1},
                                         {"interval", required_argument, NULL, 1},
                                         {"order-key", required_argument, NULL, 1},
                                         {"order-ttl", required_argument, NULL, 1},
                                         {"timeout", required_argument, NULL, 1},
                                         {"max-inflight", required_argument, NULL, 1},
                                         {"insecure-dev", no_argument, NULL, 2},
                                         {"log-level", required_argument, NULL, 1},
                                         {"vulndb-max-age", required_argument, NULL, 1},
                                         {"vulndb-max-bytes", required_argument, NULL, 1},
                                         {"help", no_argument, NULL, 'h'},
                                         {"version", no_argument, NULL, 'V'},
                                         {NULL, 0, NULL, 0}};
    struct settings s;
    const char *config = NULL;
    char why[512];
    int ret = 2;
    int idx = 0;
    int c;

    att_log_set_ident("attest-verifier");
    (void)setenv("TSS2_LOG", "all+none", 0);
    settings_init(&s);
    if (argc > 1 && strcmp(argv[1], "token") == 0) {
        return token_main(argc - 1, argv + 1);
    }
    if (argc > 1 && strcmp(argv[1], "run") == 0) {
        argv++;
        argc--;
    } else if (argc > 1 && argv[1][0] != '-') {
        fprintf(stderr, "attest-verifier: unknown command \"%s\"\n", argv[1]);
        usage(stderr);
        return 2;
    }
    ret = att_daemon_first_pass(argc, argv, opts, "attest-verifier", usage, &config);
    if (ret >= 0) {
        goto out;
    }
    ret = 2;
    if (config != NULL) {
        struct ini_ctx ic = {.s = &s, .why = ""};
        int line = ini_parse(config, ini_cb, &ic);

        if (line == -1) {
            fprintf(stderr, "attest-verifier: cannot open config file %s: %s\n", config,
                    strerror(errno));
            goto out;
        }
        if (line != 0) {
            fprintf(stderr, "attest-verifier: %s:%d: %s\n", config, line,
                    ic.why[0] ? ic.why : "syntax error");
            goto out;
        }
    }
    optind = 0;
    while ((c = getopt_long(argc, argv, "+", opts, &idx)) != -1) {
        if (c == 'c') {
            continue;
        }
        if (apply(&s, opts[idx].name, c == 2 ? "true" : optarg, why, sizeof(why)) != ATT_OK) {
            fprintf(stderr, "attest-verifier: --%s\n", why);
            goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "attest-verifier: unexpected argument \"%s\"\n", argv[optind]);
        goto out;
    }
    if ((s.cfg.db == NULL && set_str(&s.cfg.db, VERIFIER_DEFAULT_DB) != ATT_OK) ||
        (s.cfg.listen == NULL && set_str(&s.cfg.listen, VERIFIER_DEFAULT_LISTEN) != ATT_OK)) {
        goto out;
    }
    if (s.cfg.n_tpm_ca == 0) {
        s.cfg.tpm_ca[0] = strdup(VERIFIER_DEFAULT_TPM_CA);
        s.cfg.n_tpm_ca = s.cfg.tpm_ca[0] != NULL ? 1 : 0;
    }
    if (s.log_level != NULL && att_daemon_log_level("attest-verifier", s.log_level) != ATT_OK) {
        goto out;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        goto out;
    }
    ret = run(&s);
    curl_global_cleanup();
out:
    settings_cleanup(&s);
    return ret;
}
