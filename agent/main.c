/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attest-agent: argv and INI config, the state-dir lock, signals, and the two
 * front doors (HTTP API and control socket). All logic lives in agent*.c.
 *
 *   attest-agent [run] [--config FILE] [--tcti T] [--state-dir D] [--listen A:P] ...
 *   attest-agent measure [--state-dir D] PATH...
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "agent.h"
#include "agent_ctl.h"
#include "agent_http.h"
#include "agent_containers.h"
#include "engine.h"
#include "attest/daemon.h"
#include "attest/log.h"
#include "attest/pcrs.h"
#include "attest/util.h"

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: attest-agent [run] [OPTIONS]\n"
        "       attest-agent measure [--state-dir DIR] PATH...\n"
        "       attest-agent containers --engine unix:///PATH.sock | runc:///RUNC-ROOT\n"
        "       attest-agent hook [--state-dir DIR] [--storage GRAPHROOT] [--fail-open]\n"
        "                         (OCI prestart hook: OCI state on stdin)\n"
        "\n"
        "Runs the attest host agent: measures files into a TPM PCR, keeps an IMA-format\n"
        "measurement log and serves identity and signed evidence over HTTP.\n"
        "\n"
        "options (each may also be set in the [agent] section of --config FILE):\n"
        "  --config FILE        INI file; flags override it\n"
        "  --tcti TCTI          TPM access: swtpm:host=H,port=P | device:/dev/tpmrm0 | tabrmd\n"
        "  --state-dir DIR      keys, log and socket (default " AGENT_DEFAULT_STATE_DIR ")\n"
        "  --listen ADDR:PORT   HTTP listen address (default " AGENT_DEFAULT_LISTEN
        "; port 0 = any)\n"
        "  --pcr N              measurement PCR (default 15; 0-7, 10, 16-23 refused)\n"
        "  --ak-alg ecc|rsa     attestation key (default ecc: P-256 ECDSA-SHA256)\n"
        "  --ek-alg rsa|ecc     endorsement key the AK is made under (default rsa)\n"
        "  --agent-id NAME      name reported in the identity (default: hostname)\n"
        "  --log-level LEVEL    error|warning|info|debug (default warning)\n"
        "  --tls-cert FILE      server certificate from the fleet CA (PEM)\n"
        "  --tls-key FILE       its key\n"
        "  --tls-client-ca FILE fleet CA: clients (the verifier) must present a certificate\n"
        "                       chaining to it (mTLS)\n"
        "  --insecure-dev       plain HTTP, no client authentication (test rigs only!)\n"
        "  --engine URL         container engine: unix:///PATH.sock (Docker or podman API)\n"
        "                       or runc:///run/runc (bare runc state dir); measure\n"
        "                       running containers' processes\n"
        "  --integrity-interval S  re-inspect every container process this often (default 30)\n"
        "  --net-check-interval S  re-read containers' network rulesets this often (default 10)\n"
        "  --storage DIR        hook: containers/storage graph root, to name the image\n"
        "  --fail-open          hook: let containers start when the agent is down\n"
        "  --help, --version\n");
}

struct settings {
    struct agent_config cfg;
    char *log_level;      /* owned */
    char *tls_cert;       /* owned: server certificate from the fleet CA */
    char *tls_key;        /* owned */
    char *tls_client_ca;  /* owned: fleet CA that verifier certificates chain to */
    char *engine;         /* owned: container engine API, unix:///path.sock */
    char *storage;        /* owned: containers/storage graph root (hook image lookup) */
    bool fail_open;       /* hook: start containers when the agent is unreachable */
    uint32_t integrity_s; /* full memory-integrity sweep period (0: default 30 s) */
    bool insecure_dev;
};

static void settings_init(struct settings *s)
{
    memset(s, 0, sizeof(*s));
    agent_config_init(&s->cfg);
}

static void settings_cleanup(struct settings *s)
{
    agent_config_cleanup(&s->cfg);
    free(s->log_level);
    free(s->tls_cert);
    free(s->tls_key);
    free(s->tls_client_ca);
    free(s->engine);
    free(s->storage);
    memset(s, 0, sizeof(*s));
}

static att_rc apply(struct settings *s, const char *key, const char *val, char *why, size_t why_len)
{
    att_rc rc = ATT_OK;

    if (strcmp(key, "tcti") == 0) {
        rc = agent_config_set(&s->cfg.tcti, val);
    } else if (strcmp(key, "state_dir") == 0 || strcmp(key, "state-dir") == 0) {
        rc = agent_config_set(&s->cfg.state_dir, val);
    } else if (strcmp(key, "listen") == 0) {
        rc = agent_config_set(&s->cfg.listen, val);
    } else if (strcmp(key, "agent_id") == 0 || strcmp(key, "agent-id") == 0) {
        rc = agent_config_set(&s->cfg.agent_id, val);
    } else if (strcmp(key, "log_level") == 0 || strcmp(key, "log-level") == 0) {
        rc = agent_config_set(&s->log_level, val);
    } else if (strcmp(key, "integrity_interval") == 0 || strcmp(key, "integrity-interval") == 0) {
        if (att_parse_u32(val, 86400, &s->integrity_s) != ATT_OK || s->integrity_s == 0) {
            (void)snprintf(why, why_len, "integrity_interval \"%s\" must be 1..86400 seconds", val);
            return ATT_ERR_INVALID_ARG;
        }
    } else if (strcmp(key, "net_check_interval") == 0 || strcmp(key, "net-check-interval") == 0) {
        if (att_parse_u32(val, 86400, &s->cfg.net_check_s) != ATT_OK || s->cfg.net_check_s == 0) {
            (void)snprintf(why, why_len, "net_check_interval \"%s\" must be 1..86400 seconds", val);
            return ATT_ERR_INVALID_ARG;
        }
    } else if (strcmp(key, "storage") == 0) {
        rc = agent_config_set(&s->storage, val);
    } else if (strcmp(key, "fail_open") == 0 || strcmp(key, "fail-open") == 0) {
        s->fail_open = strcmp(val, "true") == 0;
    } else if (strcmp(key, "engine") == 0) {
        rc = agent_config_set(&s->engine, val);
        if (rc == ATT_OK) {
            rc = agent_config_set(&s->cfg.engine, val); /* quarantine orders act through it */
        }
    } else if (strcmp(key, "tls_cert") == 0 || strcmp(key, "tls-cert") == 0) {
        rc = agent_config_set(&s->tls_cert, val);
    } else if (strcmp(key, "tls_key") == 0 || strcmp(key, "tls-key") == 0) {
        rc = agent_config_set(&s->tls_key, val);
    } else if (strcmp(key, "tls_client_ca") == 0 || strcmp(key, "tls-client-ca") == 0) {
        rc = agent_config_set(&s->tls_client_ca, val);
    } else if (strcmp(key, "insecure_dev") == 0 || strcmp(key, "insecure-dev") == 0) {
        if (strcmp(val, "true") != 0 && strcmp(val, "false") != 0) {
            (void)snprintf(why, why_len, "insecure_dev must be true or false");
            return ATT_ERR_INVALID_ARG;
        }
        s->insecure_dev = strcmp(val, "true") == 0;
    } else if (strcmp(key, "pcr") == 0) {
        if (att_parse_u32(val, 23, &s->cfg.pcr) != ATT_OK) {
            (void)snprintf(why, why_len, "pcr \"%s\" is not a number from 0 to 23", val);
            return ATT_ERR_INVALID_ARG;
        }
    } else if (strcmp(key, "ak_alg") == 0 || strcmp(key, "ak-alg") == 0) {
        if (att_key_alg_parse(val, &s->cfg.ak_alg) != ATT_OK) {
            (void)snprintf(why, why_len, "ak_alg \"%s\" must be ecc or rsa", val);
            return ATT_ERR_INVALID_ARG;
        }
    } else if (strcmp(key, "ek_alg") == 0 || strcmp(key, "ek-alg") == 0) {
        if (att_key_alg_parse(val, &s->cfg.ek_alg) != ATT_OK) {
            (void)snprintf(why, why_len, "ek_alg \"%s\" must be rsa or ecc", val);
            return ATT_ERR_INVALID_ARG;
        }
    } else {
        (void)snprintf(why, why_len, "unknown option \"%s\"", key);
        return ATT_ERR_INVALID_ARG;
    }
    return rc;
}

struct ini_ctx {
    struct settings *s;
    char why[512];
};

static int ini_cb(void *user, const char *section, const char *name, const char *value)
{
    struct ini_ctx *c = user;

    if (strcmp(section, "agent") != 0) {
        (void)snprintf(c->why, sizeof(c->why), "unknown section [%s]", section);
        return 0;
    }
    return apply(c->s, name, value, c->why, sizeof(c->why)) == ATT_OK;
}

static att_rc load_config(struct settings *s, const char *path)
{
    struct ini_ctx c = {.s = s, .why = ""};
    int line = ini_parse(path, ini_cb, &c);

    if (line == -1) {
        fprintf(stderr, "attest-agent: cannot open config file %s: %s\n", path, strerror(errno));
        return ATT_ERR_NOT_FOUND;
    }
    if (line != 0) {
        fprintf(stderr, "attest-agent: %s:%d: %s\n", path, line, c.why[0] ? c.why : "syntax error");
        return ATT_ERR_PARSE;
    }
    return ATT_OK;
}

static att_rc ensure_state_dir(const char *dir)
{
    struct stat st;

    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "attest-agent: cannot create state dir %s: %s\n", dir, strerror(errno));
        return ATT_ERR_IO;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "attest-agent: state dir %s is not a directory\n", dir);
        return ATT_ERR_IO;
    }
    return ATT_OK;
}

/* One agent per state dir: an flock held for the process lifetime. */
static int lock_state_dir(const char *dir)
{
    char path[4200];
    int fd;

    (void)snprintf(path, sizeof(path), "%s/agent.lock", dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "attest-agent: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "attest-agent: another attest-agent is running on state dir %s\n", dir);
        (void)close(fd);
        return -1;
    }
    return fd;
}

static int run(struct settings *s)
{
    struct agent *a = NULL;
    struct agent_http *h = NULL;
    struct agent_containers *containers = NULL;
    char portfile[4200];
    char port[16];
    char why[256];
    int lock_fd = -1;
    int stop_fd;
    int ret = 1;
    att_rc rc;

    struct att_tls_server_config tls = {
        .cert_file = s->tls_cert, .key_file = s->tls_key, .client_ca_file = s->tls_client_ca};

    if (s->cfg.tcti == NULL) {
        fprintf(stderr, "attest-agent: no TPM given: use --tcti (e.g. device:/dev/tpmrm0)\n");
        return 2;
    }
    if (!att_pcr_meas_allowed(s->cfg.pcr, why, sizeof(why))) {
        fprintf(stderr, "attest-agent: %s\n", why);
        return 2;
    }
    if (!s->insecure_dev &&
        (s->tls_cert == NULL || s->tls_key == NULL || s->tls_client_ca == NULL)) {
        fprintf(stderr, "attest-agent: mTLS needs --tls-cert, --tls-key and --tls-client-ca "
                        "(fleet CA); plain HTTP only with --insecure-dev (test rigs)\n");
        return 2;
    }
    if (ensure_state_dir(s->cfg.state_dir) != ATT_OK) {
        return 1;
    }
    lock_fd = lock_state_dir(s->cfg.state_dir);
    if (lock_fd < 0) {
        return 1;
    }
    stop_fd = att_daemon_stop_fd();
    if (stop_fd < 0) {
        fprintf(stderr, "attest-agent: cannot set up signal handling: %s\n", strerror(errno));
        goto out;
    }

    rc = agent_new(&s->cfg, &a);
    if (rc != ATT_OK) {
        fprintf(stderr, "attest-agent: cannot start: %s (see messages above)\n", att_rc_str(rc));
        goto out;
    }
    if (s->insecure_dev) {
        LOG_WARN("*** --insecure-dev: plain HTTP without client authentication. Anyone who can "
                 "reach %s can ask this TPM for quotes. Test rigs only. ***",
                 s->cfg.listen);
    }
    rc = agent_http_start(a, s->cfg.listen, s->insecure_dev ? NULL : &tls, &h);
    if (rc != ATT_OK) {
        goto out;
    }
    (void)snprintf(portfile, sizeof(portfile), "%s/http.port", s->cfg.state_dir);
    (void)snprintf(port, sizeof(port), "%u\n", agent_http_port(h));
    if (att_file_write_atomic(portfile, port, strlen(port)) != ATT_OK) {
        goto out;
    }
    printf("attest-agent ready: http port %u, state dir %s, PCR %u\n", agent_http_port(h),
           s->cfg.state_dir, s->cfg.pcr);
    (void)fflush(stdout);
    if (s->engine != NULL) {
        rc = agent_containers_start(a, s->engine, 1000, s->integrity_s, &containers);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    rc = agent_ctl_serve(a, s->cfg.state_dir, stop_fd);
    if (rc != ATT_OK) {
        goto out;
    }
    ret = 0;
out:
    agent_containers_stop(containers);
    agent_http_stop(h);
    agent_free(a);
    if (lock_fd >= 0) {
        (void)close(lock_fd);
    }
    return ret;
}

/* attest-agent containers: what the engine reports, as the agent sees it. */
static int list_containers(const char *url)
{
    struct engine *e = NULL;
    struct att_engine_container *list = NULL;
    size_t n = 0;
    size_t i;
    int ret = 2;

    if (url == NULL) {
        fprintf(stderr, "attest-agent: containers needs --engine unix:///path/to/engine.sock\n");
        return 2;
    }
    if (engine_open(url, &e) != ATT_OK) {
        return 2;
    }
    if (engine_list(e, &list, &n) != ATT_OK) {
        fprintf(stderr, "attest-agent: cannot list containers through %s\n", url);
        goto out;
    }
    printf("%-12s %-20s %-9s %-8s %s\n", "ID", "NAME", "STATE", "PID", "IMAGE");
    for (i = 0; i < n; i++) {
        struct att_engine_container c;

        memset(&c, 0, sizeof(c));
        if (engine_inspect(e, list[i].id, &c) != ATT_OK) {
            continue; /* gone in between */
        }
        printf("%.12s %-20s %-9s %-8lld %s %s%s\n", c.id, c.name, c.state != NULL ? c.state : "-",
               (long long)c.pid, c.image_id != NULL ? c.image_id : "-",
               c.image_ref != NULL ? c.image_ref : "", c.is_privileged ? " privileged" : "");
        att_engine_container_cleanup(&c);
    }
    ret = 0;
out:
    att_engine_containers_free(list, n);
    engine_free(e);
    return ret;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"tcti", required_argument, NULL, 't'},
                                         {"state-dir", required_argument, NULL, 's'},
                                         {"listen", required_argument, NULL, 'l'},
                                         {"pcr", required_argument, NULL, 'p'},
                                         {"ak-alg", required_argument, NULL, 'a'},
                                         {"ek-alg", required_argument, NULL, 'e'},
                                         {"agent-id", required_argument, NULL, 'i'},
                                         {"log-level", required_argument, NULL, 'L'},
                                         {"help", no_argument, NULL, 'h'},
                                         {"version", no_argument, NULL, 'V'},
                                         {"tls-cert", required_argument, NULL, 'T'},
                                         {"tls-key", required_argument, NULL, 'K'},
                                         {"tls-client-ca", required_argument, NULL, 'A'},
                                         {"insecure-dev", no_argument, NULL, 'I'},
                                         {"engine", required_argument, NULL, 'E'},
                                         {"storage", required_argument, NULL, 'S'},
                                         {"fail-open", no_argument, NULL, 'F'},
                                         {"integrity-interval", required_argument, NULL, 'G'},
                                         {"net-check-interval", required_argument, NULL, 'N'},
                                         {NULL, 0, NULL, 0}};
    struct settings s;
    const char *cmd = "run";
    const char *config = NULL;
    char why[512];
    int ret = 2;
    int idx = 0;
    int c;

    att_log_set_ident("attest-agent");
    /* tpm2-tss logs to stderr by itself; we log every TSS failure once, decoded. */
    (void)setenv("TSS2_LOG", "all+none", 0);
    settings_init(&s);
    if (argc > 1 && argv[1][0] != '-') {
        cmd = argv[1];
        argv++;
        argc--;
    }
    if (strcmp(cmd, "run") != 0 && strcmp(cmd, "measure") != 0 && strcmp(cmd, "containers") != 0 &&
        strcmp(cmd, "hook") != 0) {
        fprintf(stderr, "attest-agent: unknown command \"%s\"\n", cmd);
        usage(stderr);
        return 2;
    }
    /* Pass 1: --help, --version, --config and flag syntax. */
    ret = att_daemon_first_pass(argc, argv, opts, "attest-agent", usage, &config);
    if (ret >= 0) {
        goto out;
    }
    ret = 2;
    if (config != NULL && load_config(&s, config) != ATT_OK) {
        goto out;
    }
    /* Pass 2: flags override the config file. */
    optind = 0;
    while ((c = getopt_long(argc, argv, "+", opts, &idx)) != -1) {
        if (c == 'c') {
            continue;
        }
        if (apply(&s, opts[idx].name, c == 'I' || c == 'F' ? "true" : optarg, why, sizeof(why)) !=
            ATT_OK) {
            fprintf(stderr, "attest-agent: --%s\n", why);
            goto out;
        }
    }
    if ((s.cfg.state_dir == NULL &&
         agent_config_set(&s.cfg.state_dir, AGENT_DEFAULT_STATE_DIR) != ATT_OK) ||
        (s.cfg.listen == NULL && agent_config_set(&s.cfg.listen, AGENT_DEFAULT_LISTEN) != ATT_OK)) {
        goto out;
    }
    if (s.log_level != NULL && att_daemon_log_level("attest-agent", s.log_level) != ATT_OK) {
        goto out;
    }
    if (strcmp(cmd, "containers") == 0) {
        ret = list_containers(s.engine);
        goto out;
    }
    if (strcmp(cmd, "hook") == 0) {
        /* OCI prestart hook: 0 lets the container start, anything else refuses it. */
        ret = agent_ctl_hook(s.cfg.state_dir, s.storage, s.fail_open);
        goto out;
    }
    if (strcmp(cmd, "measure") == 0) {
        if (optind >= argc) {
            fprintf(stderr, "attest-agent: measure needs at least one PATH\n");
            goto out;
        }
        ret = agent_ctl_measure(s.cfg.state_dir, argv + optind, (size_t)(argc - optind));
        goto out;
    }
    if (optind < argc) {
        fprintf(stderr, "attest-agent: unexpected argument \"%s\"\n", argv[optind]);
        goto out;
    }
    {
        if (att_httpd_check_listen(s.cfg.listen) != ATT_OK) {
            fprintf(stderr,
                    "attest-agent: --listen \"%s\" is not ADDR:PORT or [ADDR]:PORT with a "
                    "numeric address\n",
                    s.cfg.listen);
            goto out;
        }
    }
    ret = run(&s);
out:
    settings_cleanup(&s);
    return ret;
}
