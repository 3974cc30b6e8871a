/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attest-verify's verifier-mode commands: they talk to attest-verifier's
 * dashboard API (JSON, bearer token) and print what it says.
 *   host HOST, hosts, events, enroll, policy apply|show|assign, containers,
 *   container ID, quarantine list|lift
 * The verifier is --verifier URL (or $ATTEST_VERIFIER), the token --token T
 * (or $ATTEST_TOKEN), the CA of its HTTPS certificate --ca FILE ($ATTEST_CA).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "attest/httpc.h"
#include "attest/policy.h"
#include "attest/policy_json.h"
#include "attest/util.h"
#include "cli.h"

#define API_MAX (16u << 20)

struct api {
    const char *base;  /* verifier URL */
    const char *token; /* bearer token */
    struct att_tls_client_config tls;
    long timeout_s;
    int json; /* print raw JSON */
};

void cli_fleet_defaults(struct cli_fleet *f)
{
    memset(f, 0, sizeof(*f));
    f->verifier = getenv("ATTEST_VERIFIER");
    f->token = getenv("ATTEST_TOKEN");
    f->ca = getenv("ATTEST_CA");
}

/*
 * One API call with a raw body of @p content_type (may be NULL with no body).
 * On success *out is the parsed JSON (caller decrefs) and the HTTP status is
 * returned; -1 on transport or format errors (printed). An error status is
 * printed unless it is @p quiet_status.
 */
static int request(const struct att_tls_client_config *tls, const char *base, const char *token,
                   long timeout_s, const char *method, const char *path, const char *content_type,
                   const uint8_t *body, size_t len, json_t **out, long quiet_status)
{
    struct att_buf resp;
    char url[4096];
    char err[512] = "";
    long status = 0;
    json_error_t jerr;
    int ret = -1;

    *out = NULL;
    att_buf_init(&resp, API_MAX);
    if (snprintf(url, sizeof(url), "%s%s", base, path) >= (int)sizeof(url)) {
        fprintf(stderr, "attest-verify: URL too long\n");
        goto out;
    }
    if (att_httpc_request(tls, method, url, content_type, token, body, len, timeout_s, &resp,
                          &status, err, sizeof(err)) != ATT_OK) {
        fprintf(stderr, "attest-verify: verifier unreachable: %s\n", err);
        goto out;
    }
    *out = json_loadb(resp.data != NULL ? (const char *)resp.data : "", resp.len, 0, &jerr);
    if (*out == NULL) {
        fprintf(stderr, "attest-verify: the verifier answered HTTP %ld with no JSON\n", status);
        goto out;
    }
    if (status >= 400 && status != quiet_status) {
        const char *msg = json_string_value(json_object_get(*out, "error"));

        fprintf(stderr, "attest-verify: verifier refused (HTTP %ld): %s\n", status,
                msg != NULL ? msg : "(no message)");
    }
    ret = (int)status;
out:
    att_buf_cleanup(&resp);
    return ret;
}

/* One API call with a JSON body (may be NULL); see request(). */
static int call_ex(const struct api *a, const char *method, const char *path, json_t *body,
                   json_t **out, long quiet_status)
{
    char *text = NULL;
    int ret;

    *out = NULL;
    if (body != NULL) {
        text = json_dumps(body, JSON_COMPACT);
        if (text == NULL) {
            return -1;
        }
    }
    ret = request(&a->tls, a->base, a->token, a->timeout_s, method, path, "application/json",
                  (const uint8_t *)text, text != NULL ? strlen(text) : 0, out, quiet_status);
    free(text);
    return ret;
}

static int call(const struct api *a, const char *method, const char *path, json_t *body,
                json_t **out)
{
    return call_ex(a, method, path, body, out, 0);
}

int cli_api_call_raw(const struct cli_fleet *f, const char *method, const char *path,
                     const char *content_type, const uint8_t *body, size_t len, json_t **out)
{
    struct att_tls_client_config tls;

    memset(&tls, 0, sizeof(tls));
    tls.ca_file = f->ca;
    /* feed uploads are large: a longer timeout than the other commands' 60 s */
    return request(&tls, f->verifier, f->token, 600, method, path, content_type, body, len, out, 0);
}

void cli_print_json(const json_t *j)
{
    char *t = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

    if (t != NULL) {
        printf("%s\n", t);
        free(t);
    }
}

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s != NULL ? s : "-";
}

static void print_findings(const json_t *findings)
{
    size_t i;
    json_t *f;

    json_array_foreach(findings, i, f)
    {
        printf("  %s %s: %s\n", strcmp(str(f, "kind"), "fail") == 0 ? "FAIL" : "info",
               str(f, "code"), str(f, "message"));
    }
}

/* After a host's verdict: its containers that are not simply trusted. */
static void host_containers_summary(const struct api *a, const char *host)
{
    char path[256];
    json_t *j = NULL;
    json_t *c;
    size_t i;
    size_t total = 0;

    (void)snprintf(path, sizeof(path), "/api/v1/hosts/%s/containers", host);
    if (call(a, "GET", path, NULL, &j) != 200) {
        json_decref(j);
        return;
    }
    json_array_foreach(json_object_get(j, "containers"), i, c)
    {
        json_t *q = json_object_get(c, "quarantine");

        total++;
        if (strcmp(str(c, "verdict"), "trusted") == 0 && q == NULL) {
            continue;
        }
        printf("container %.12s: %s%s%s%s\n", str(c, "id"), str(c, "verdict"),
               str(c, "code")[0] ? " (" : "", str(c, "code")[0] ? str(c, "code") : "",
               str(c, "code")[0] ? ")" : "");
        if (str(c, "reason")[0]) {
            printf("  reason: %s\n", str(c, "reason"));
        }
        if (q != NULL) {
            printf("  quarantine order %s: %s (%s): %s\n", str(q, "order"), str(q, "state"),
                   str(q, "actions"),
                   str(q, "result")[0] ? str(q, "result") : "not yet acknowledged");
        }
    }
    printf("containers: %zu\n", total);
    json_decref(j);
}

static int cmd_quarantine(const struct api *a, int argc, char **argv)
{
    json_t *j = NULL;
    json_t *o;
    size_t i;
    int ret = CLI_EXIT_ERROR;
    char path[512];

    if (argc >= 2 && strcmp(argv[1], "list") == 0) {
        const char *host = NULL;
        int open = 0;
        int k;

        for (k = 2; k < argc; k++) {
            if (strcmp(argv[k], "--host") == 0 && k + 1 < argc) {
                host = argv[++k];
            } else if (strcmp(argv[k], "--open") == 0) {
                open = 1;
            } else {
                fprintf(stderr, "usage: attest-verify quarantine list [--host H] [--open]\n");
                return CLI_EXIT_ERROR;
            }
        }
        (void)snprintf(path, sizeof(path), "/api/v1/quarantine?open=%d%s%s", open,
                       host != NULL ? "&host=" : "", host != NULL ? host : "");
        if (call(a, "GET", path, NULL, &j) != 200) {
            goto out;
        }
        if (a->json) {
            cli_print_json(j);
        } else {
            printf("%-32s %-12s %-12s %-12s %-22s %s\n", "ORDER", "HOST", "CONTAINER", "STATE",
                   "ACTIONS", "REASON");
            json_array_foreach(json_object_get(j, "orders"), i, o)
            {
                printf("%-32s %-12s %-12.12s %-12s %-22s %s\n", str(o, "id"), str(o, "host"),
                       str(o, "container"), str(o, "state"), str(o, "actions"), str(o, "reason"));
                if (json_is_string(json_object_get(o, "lifted_by"))) {
                    printf("%32s lifted by %s: %s\n", "", str(o, "lifted_by"),
                           str(o, "lift_reason"));
                }
            }
        }
        ret = CLI_EXIT_OK;
    } else if (argc == 5 && strcmp(argv[1], "lift") == 0 && strcmp(argv[3], "--reason") == 0) {
        json_t *body = json_pack("{s:s}", "reason", argv[4]);

        if (strlen(argv[2]) != 32 || strspn(argv[2], "0123456789abcdef") != 32) {
            fprintf(stderr, "attest-verify: %s is not an order id (32 hex digits)\n", argv[2]);
            json_decref(body);
            return CLI_EXIT_ERROR;
        }
        (void)snprintf(path, sizeof(path), "/api/v1/quarantine/%s/lift", argv[2]);
        if (body == NULL || call(a, "POST", path, body, &j) != 200) {
            json_decref(body);
            goto out;
        }
        json_decref(body);
        if (a->json) {
            cli_print_json(j);
        } else {
            o = json_object_get(j, "order");
            printf("order %s: %s (lifted by %s: %s); the agent undoes it at its next poll\n",
                   str(o, "id"), str(o, "state"), str(o, "lifted_by"), str(o, "lift_reason"));
        }
        ret = CLI_EXIT_OK;
    } else {
        fprintf(stderr, "usage: attest-verify quarantine list [--host H] [--open]\n"
                        "       attest-verify quarantine lift ORDER-ID --reason TEXT\n");
    }
out:
    json_decref(j);
    return ret;
}

static int cmd_host(const struct api *a, const char *host)
{
    char path[256];
    json_t *j = NULL;
    int st;
    int ret = CLI_EXIT_ERROR;
    const char *verdict;

    (void)snprintf(path, sizeof(path), "/api/v1/hosts/%s/attest", host);
    st = call(a, "POST", path, NULL, &j);
    if (st != 200) {
        goto out;
    }
    verdict = str(j, "verdict");
    if (a->json) {
        cli_print_json(j);
    } else {
        printf("host %s, log entries %lld..%lld appraised by the verifier\n", host,
               (long long)json_integer_value(json_object_get(j, "log_from")),
               (long long)json_integer_value(json_object_get(j, "log_to")));
        print_findings(json_object_get(j, "findings"));
        if (strcmp(verdict, "unreachable") == 0) {
            printf("verdict: unreachable (%s)\n", str(j, "reason"));
        } else if (strcmp(verdict, "trusted") == 0) {
            printf("verdict: trusted\n");
        } else {
            printf("verdict: untrusted: %s\n", str(j, "reason"));
        }
        host_containers_summary(a, host);
    }
    if (strcmp(verdict, "trusted") == 0) {
        ret = CLI_EXIT_OK;
    } else if (strcmp(verdict, "untrusted") == 0) {
        ret = CLI_EXIT_UNTRUSTED;
    }
out:
    json_decref(j);
    return ret;
}

static int cmd_hosts(const struct api *a)
{
    json_t *j = NULL;
    json_t *h;
    size_t i;
    int ret = CLI_EXIT_ERROR;

    if (call(a, "GET", "/api/v1/hosts", NULL, &j) != 200) {
        goto out;
    }
    if (a->json) {
        cli_print_json(j);
    } else {
        printf("%-20s %-11s %-16s %-8s %s\n", "HOST", "VERDICT", "POLICY", "LOG", "AGENT");
        json_array_foreach(json_object_get(j, "hosts"), i, h)
        {
            printf("%-20s %-11s %-16s %-8lld %s\n", str(h, "name"), str(h, "verdict"),
                   str(h, "policy"),
                   (long long)json_integer_value(json_object_get(h, "log_offset")),
                   str(h, "agent_url"));
        }
    }
    ret = CLI_EXIT_OK;
out:
    json_decref(j);
    return ret;
}

static int cmd_events(const struct api *a, int argc, char **argv)
{
    static const struct option opts[] = {{"host", required_argument, NULL, 'H'},
                                         {"kind", required_argument, NULL, 'k'},
                                         {"after", required_argument, NULL, 'a'},
                                         {"limit", required_argument, NULL, 'l'},
                                         {NULL, 0, NULL, 0}};
    struct att_buf q;
    json_t *j = NULL;
    json_t *e;
    size_t i;
    int c;
    int ret = CLI_EXIT_ERROR;
    char sep = '?';

    att_buf_init(&q, 1024);
    (void)att_buf_append_str(&q, "/api/v1/events");
    optind = 1;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        const char *key = c == 'H' ? "host" : c == 'k' ? "kind" : c == 'a' ? "after" : "limit";

        if (c == '?') {
            goto out;
        }
        if (strpbrk(optarg, "&?#/ ") != NULL) {
            fprintf(stderr, "attest-verify: --%s value has characters a URL cannot carry\n", key);
            goto out;
        }
        (void)att_buf_printf(&q, "%c%s=%s", sep, key, optarg);
        sep = '&';
    }
    if (call(a, "GET", (const char *)q.data, NULL, &j) != 200) {
        goto out;
    }
    if (a->json) {
        cli_print_json(j);
    } else {
        json_array_foreach(json_object_get(j, "events"), i, e)
        {
            char when[32];

            if (!att_rfc3339_format((time_t)json_integer_value(json_object_get(e, "at")), when,
                                    sizeof(when))) {
                (void)snprintf(when, sizeof(when), "?");
            }
            printf("%-5lld %s %-16s %-16s %s\n",
                   (long long)json_integer_value(json_object_get(e, "id")), when, str(e, "host"),
                   str(e, "kind"), str(e, "message"));
        }
    }
    ret = CLI_EXIT_OK;
out:
    att_buf_cleanup(&q);
    json_decref(j);
    return ret;
}

/*
 * The container's network policy counters (issue 9), when the verifier has
 * them: "  network: N egress connections refused, M ingress dropped
 * (ruleset <12 hex>)".
 */
static void print_network(const json_t *c)
{
    const json_t *n = json_object_get(c, "network");
    const json_t *egress = json_object_get(n, "egress_dropped");
    const json_t *ingress = json_object_get(n, "ingress_dropped");

    if (!json_is_object(n) || !json_is_integer(egress) || !json_is_integer(ingress)) {
        return;
    }
    printf("  network: %lld egress connections refused, %lld ingress dropped (ruleset %.12s)\n",
           (long long)json_integer_value(egress), (long long)json_integer_value(ingress),
           str(n, "ruleset"));
}

/* containers [--host H] | container ID-PREFIX */
static int cmd_containers(const struct api *a, int argc, char **argv, const char *one)
{
    json_t *j = NULL;
    json_t *c;
    size_t i;
    int ret = CLI_EXIT_ERROR;
    char path[256] = "/api/v1/containers";
    int found = 0;

    if (one == NULL && argc == 3 && strcmp(argv[1], "--host") == 0) {
        (void)snprintf(path, sizeof(path), "/api/v1/hosts/%s/containers", argv[2]);
    } else if (one == NULL && argc != 1) {
        fprintf(stderr, "usage: attest-verify containers [--host HOST]\n");
        return CLI_EXIT_ERROR;
    }
    if (call(a, "GET", path, NULL, &j) != 200) {
        goto out;
    }
    if (a->json && one == NULL) {
        cli_print_json(j);
        ret = CLI_EXIT_OK;
        goto out;
    }
    if (one == NULL) {
        printf("%-16s %-12s %-8s %-14s %s\n", "HOST", "CONTAINER", "VERDICT", "POLICY", "REASON");
    }
    json_array_foreach(json_object_get(j, "containers"), i, c)
    {
        const char *id = str(c, "id");

        if (one != NULL) {
            if (strncmp(id, one, strlen(one)) != 0) {
                continue;
            }
            found++;
            if (a->json) {
                cli_print_json(c);
            } else {
                printf("container %s on %s\n  image   %s\n  policy  %s\n  verdict %s\n", id,
                       str(c, "host"), str(c, "image"), str(c, "policy"), str(c, "verdict"));
                if (str(c, "code")[0] != '\0') {
                    printf("  reason  %s: %s (log entry %lld)\n", str(c, "code"), str(c, "reason"),
                           (long long)json_integer_value(json_object_get(c, "entry")));
                }
                if (json_object_get(c, "quarantine") != NULL) {
                    json_t *q = json_object_get(c, "quarantine");

                    printf("  quarantine order %s: %s (%s): %s\n", str(q, "order"), str(q, "state"),
                           str(q, "actions"), str(q, "result"));
                }
                print_network(c);
            }
            ret = strcmp(str(c, "verdict"), "trusted") == 0 ? CLI_EXIT_OK : CLI_EXIT_UNTRUSTED;
            continue;
        }
        printf("%-16s %-12.12s %-8s %-14s %s\n", str(c, "host"), id, str(c, "verdict"),
               str(c, "policy")[0] ? str(c, "policy") : "-",
               str(c, "reason")[0] ? str(c, "reason") : "");
    }
    if (one == NULL) {
        ret = CLI_EXIT_OK;
    } else if (found == 0) {
        fprintf(stderr, "attest-verify: no container %s seen by the verifier\n", one);
        ret = CLI_EXIT_ERROR;
    } else if (found > 1) {
        fprintf(stderr, "attest-verify: %s matches %d containers; give more of the id\n", one,
                found);
        ret = CLI_EXIT_ERROR;
    }
out:
    json_decref(j);
    return ret;
}

static int cmd_enroll(const struct api *a, int argc, char **argv)
{
    static const struct option opts[] = {{"agent", required_argument, NULL, 'a'},
                                         {"name", required_argument, NULL, 'n'},
                                         {NULL, 0, NULL, 0}};
    const char *agent = NULL;
    const char *name = NULL;
    json_t *j = NULL;
    json_t *body;
    int c;
    int ret = CLI_EXIT_ERROR;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        if (c == 'a') {
            agent = optarg;
        } else if (c == 'n') {
            name = optarg;
        } else {
            return CLI_EXIT_ERROR;
        }
    }
    if (agent == NULL || name == NULL) {
        fprintf(stderr, "usage: attest-verify enroll --agent URL --name NAME\n");
        return CLI_EXIT_ERROR;
    }
    body = json_pack("{s:s, s:s}", "name", name, "agent_url", agent);
    if (call(a, "POST", "/api/v1/hosts", body, &j) == 201) {
        if (a->json) {
            cli_print_json(j);
        } else {
            printf("enrolled %s: %s EK certificate verified, AK %s activated\n", name,
                   str(j, "ek_alg"), str(j, "ak_name"));
        }
        ret = CLI_EXIT_OK;
    }
    json_decref(body);
    json_decref(j);
    return ret;
}

static int cmd_policy(const struct api *a, int argc, char **argv)
{
    json_t *j = NULL;
    json_t *body = NULL;
    char path[256];
    int ret = CLI_EXIT_ERROR;

    if (argc >= 2 && strcmp(argv[1], "show") == 0 && argc == 3) {
        (void)snprintf(path, sizeof(path), "/api/v1/policies/%s", argv[2]);
        if (call(a, "GET", path, NULL, &j) == 200) {
            cli_print_json(j);
            ret = CLI_EXIT_OK;
        }
    } else if (argc >= 2 && strcmp(argv[1], "show") == 0 && argc == 2) {
        if (call(a, "GET", "/api/v1/policies", NULL, &j) == 200) {
            cli_print_json(j);
            ret = CLI_EXIT_OK;
        }
    } else if (argc == 4 && strcmp(argv[1], "apply") == 0) {
        /* policy apply NAME FILE: create, or replace if it exists. */
        struct att_buf b;
        struct att_policy *p = NULL;
        char why[512] = "";
        json_error_t jerr;
        json_t *pol;
        int st;

        att_buf_init(&b, ATT_POLICY_MAX_JSON);
        if (att_file_read(argv[3], &b) != ATT_OK) {
            fprintf(stderr, "attest-verify: cannot read %s\n", argv[3]);
            att_buf_cleanup(&b);
            goto out;
        }
        if (att_policy_parse_json(b.data != NULL ? (const char *)b.data : "", b.len, &p, why,
                                  sizeof(why)) != ATT_OK) {
            fprintf(stderr, "attest-verify: policy %s: %s\n", argv[3], why);
            att_buf_cleanup(&b);
            goto out;
        }
        att_policy_free(p);
        pol = json_loadb((const char *)b.data, b.len, 0, &jerr);
        att_buf_cleanup(&b);
        if (pol == NULL) {
            goto out;
        }
        body = json_pack("{s:s, s:O}", "name", argv[2], "policy", pol);
        st = call_ex(a, "POST", "/api/v1/policies", body, &j, 409); /* 409: replace it */
        if (st == 409) {
            json_decref(j);
            j = NULL;
            (void)snprintf(path, sizeof(path), "/api/v1/policies/%s", argv[2]);
            st = call(a, "PUT", path, pol, &j);
        }
        json_decref(pol);
        if (st == 200 || st == 201) {
            printf("policy %s %s\n", argv[2], st == 201 ? "created" : "replaced");
            ret = CLI_EXIT_OK;
        }
    } else if (argc == 4 && strcmp(argv[1], "assign") == 0) {
        body = json_pack("{s:s}", "policy", argv[3]);
        (void)snprintf(path, sizeof(path), "/api/v1/hosts/%s/policy", argv[2]);
        if (call(a, "PUT", path, body, &j) == 200) {
            printf("policy %s assigned to %s\n", argv[3], argv[2]);
            ret = CLI_EXIT_OK;
        }
    } else {
        fprintf(stderr, "usage: attest-verify policy apply NAME FILE | policy show [NAME] | "
                        "policy assign HOST NAME | policy generate PATH...\n");
    }
out:
    json_decref(body);
    json_decref(j);
    return ret;
}

bool cli_fleet_ready(const struct cli_fleet *f, const char *cmd)
{
    if (f->verifier == NULL) {
        fprintf(stderr, "attest-verify: %s needs a verifier: --verifier URL (or ATTEST_VERIFIER)\n",
                cmd);
        return false;
    }
    if (strncmp(f->verifier, "http://", 7) != 0 && strncmp(f->verifier, "https://", 8) != 0) {
        fprintf(stderr, "attest-verify: --verifier must be an http:// or https:// URL\n");
        return false;
    }
    if (f->token == NULL) {
        fprintf(stderr, "attest-verify: %s needs an API token: --token T (or ATTEST_TOKEN)\n", cmd);
        return false;
    }
    return true;
}

int cli_fleet(const struct cli_fleet *f, const char *cmd, int argc, char **argv)
{
    struct api a;

    memset(&a, 0, sizeof(a));
    if (!cli_fleet_ready(f, cmd)) {
        return CLI_EXIT_ERROR;
    }
    a.base = f->verifier;
    a.token = f->token;
    a.tls.ca_file = f->ca;
    a.timeout_s = 60;
    a.json = f->json;
    if (strcmp(cmd, "host") == 0) {
        if (argc != 2) {
            fprintf(stderr, "usage: attest-verify [--verifier URL --token T] host HOST\n");
            return CLI_EXIT_ERROR;
        }
        return cmd_host(&a, argv[1]);
    }
    if (strcmp(cmd, "hosts") == 0) {
        return cmd_hosts(&a);
    }
    if (strcmp(cmd, "events") == 0) {
        return cmd_events(&a, argc, argv);
    }
    if (strcmp(cmd, "enroll") == 0) {
        return cmd_enroll(&a, argc, argv);
    }
    if (strcmp(cmd, "containers") == 0) {
        return cmd_containers(&a, argc, argv, NULL);
    }
    if (strcmp(cmd, "container") == 0) {
        if (argc != 2 || strlen(argv[1]) < 4) {
            fprintf(stderr, "usage: attest-verify container ID (at least 4 hex characters)\n");
            return CLI_EXIT_ERROR;
        }
        return cmd_containers(&a, 1, argv, argv[1]);
    }
    if (strcmp(cmd, "policy") == 0) {
        return cmd_policy(&a, argc, argv);
    }
    if (strcmp(cmd, "quarantine") == 0) {
        return cmd_quarantine(&a, argc, argv);
    }
    fprintf(stderr, "attest-verify: unknown command \"%s\"\n", cmd);
    return CLI_EXIT_ERROR;
}
