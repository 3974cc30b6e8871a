/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test tool: send one hand-made quarantine order to an agent, the way an
 * attacker (or a confused verifier) would, and print the agent's
 * acknowledgement. Used by tests/integration/test_quarantine.sh to show that
 * forged, replayed, expired and misaddressed orders are refused.
 *
 *   att_order_tool --agent URL --sign-key PEM --ak-name HEX --container ID
 *                  [--id HEX32] [--op quarantine|lift --lifts HEX32]
 *                  [--actions pause,isolate-network] [--expires-in SECONDS]
 *                  [--flip-byte N]
 *
 * --sign-key signs with any P-256 key (a new file is created if absent);
 * --flip-byte changes one byte of the sealed envelope before sending. Prints
 * "ack ok=0|1 id=... result=..." and exits 0 when an ack came back.
 * Plain HTTP only (agents of the test rig run with --insecure-dev).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "attest/buf.h"
#include "attest/pcrs.h"
#include "attest/proto.h"
#include "attest/sigkey.h"
#include "attest/util.h"

static size_t on_data(char *p, size_t size, size_t n, void *user)
{
    return att_buf_append(user, p, size * n) == ATT_OK ? size * n : 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"agent", required_argument, NULL, 'a'},     {"sign-key", required_argument, NULL, 'k'},
        {"ak-name", required_argument, NULL, 'n'},   {"container", required_argument, NULL, 'c'},
        {"id", required_argument, NULL, 'i'},        {"op", required_argument, NULL, 'o'},
        {"lifts", required_argument, NULL, 'l'},     {"actions", required_argument, NULL, 'A'},
        {"expires-in", required_argument, NULL, 'e'}, {"flip-byte", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0}};
    const char *agent = NULL;
    const char *keyfile = NULL;
    long expires_in = 3600;
    long flip = -1;
    struct att_order o;
    struct att_sigkey *key = NULL;
    struct att_buf env;
    struct att_buf req;
    struct att_buf resp;
    struct att_evidence_request r;
    struct att_evidence ev;
    struct att_blob blob;
    struct curl_slist *hdrs = NULL;
    char url[2100];
    char why[512] = "";
    char reason[] = "att_order_tool";
    uint8_t rnd[16];
    CURL *c = NULL;
    long status = 0;
    int opt;
    int ret = 2;
    size_t i;

    memset(&o, 0, sizeof(o));
    o.op = ATT_ORDER_QUARANTINE;
    o.actions = ATT_ORDER_PAUSE | ATT_ORDER_ISOLATE;
    if (att_random_bytes(rnd, sizeof(rnd)) != ATT_OK) {
        return 2;
    }
    att_hex_encode(rnd, sizeof(rnd), o.id);
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'a': agent = optarg; break;
        case 'k': keyfile = optarg; break;
        case 'n': (void)snprintf(o.ak_name, sizeof(o.ak_name), "%s", optarg); break;
        case 'c': (void)snprintf(o.container, sizeof(o.container), "%s", optarg); break;
        case 'i': (void)snprintf(o.id, sizeof(o.id), "%s", optarg); break;
        case 'l': (void)snprintf(o.lifts, sizeof(o.lifts), "%s", optarg); break;
        case 'o': o.op = strcmp(optarg, "lift") == 0 ? ATT_ORDER_LIFT : ATT_ORDER_QUARANTINE; break;
        case 'A':
            if (!att_order_actions_parse(optarg, &o.actions)) {
                fprintf(stderr, "att_order_tool: bad --actions\n");
                return 2;
            }
            break;
        case 'e': expires_in = strtol(optarg, NULL, 10); break;
        case 'f': flip = strtol(optarg, NULL, 10); break;
        default:
            fprintf(stderr, "att_order_tool: see the header comment for usage\n");
            return 2;
        }
    }
    if (agent == NULL || keyfile == NULL) {
        fprintf(stderr, "att_order_tool: --agent and --sign-key are required\n");
        return 2;
    }
    if (o.op == ATT_ORDER_LIFT) {
        o.actions = 0;
    }
    o.reason = reason;
    o.issued_at = (uint64_t)time(NULL);
    /* an order that expired before it was sent: issued even earlier */
    if (expires_in < 0) {
        o.issued_at += (uint64_t)(expires_in * 2);
    }
    o.expires_at = (uint64_t)((int64_t)time(NULL) + expires_in);
    att_buf_init(&env, ATT_PROTO_MAX_ORDER);
    att_buf_init(&req, 1u << 20);
    att_buf_init(&resp, ATT_PROTO_MAX_BODY);
    memset(&ev, 0, sizeof(ev));
    if (att_sigkey_load_or_create(keyfile, &key, why, sizeof(why)) != ATT_OK ||
        att_order_seal(&o, key, &env) != ATT_OK) {
        fprintf(stderr, "att_order_tool: cannot seal the order: %s\n", why);
        goto out;
    }
    if (flip >= 0 && (size_t)flip < env.len) {
        env.data[flip] ^= 0x01;
    }
    memset(&r, 0, sizeof(r));
    (void)att_random_bytes(r.nonce, sizeof(r.nonce));
    r.pcr_mask = ATT_PCR_ALL_MASK;
    r.log_offset = 0;
    blob.data = env.data;
    blob.len = env.len;
    r.orders = &blob;
    r.n_orders = 1;
    if (att_evidence_request_encode(&r, &req) != ATT_OK) {
        goto out;
    }
    c = curl_easy_init();
    hdrs = curl_slist_append(NULL, "Content-Type: application/cbor");
    if (c == NULL || hdrs == NULL) {
        goto out;
    }
    (void)snprintf(url, sizeof(url), "%s/v1/evidence", agent);
    (void)curl_easy_setopt(c, CURLOPT_URL, url);
    (void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    (void)curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)req.data);
    (void)curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req.len);
    (void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    (void)curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
    (void)curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    if (curl_easy_perform(c) != CURLE_OK) {
        fprintf(stderr, "att_order_tool: agent unreachable\n");
        goto out;
    }
    (void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200 || att_evidence_decode(resp.data, resp.len, &ev, why, sizeof(why)) != ATT_OK) {
        fprintf(stderr, "att_order_tool: HTTP %ld, no evidence: %s\n", status, why);
        goto out;
    }
    for (i = 0; i < ev.n_acks; i++) {
        struct att_order_ack ack;

        if (att_order_ack_decode(ev.acks[i].data, ev.acks[i].len, &ack, why, sizeof(why)) ==
            ATT_OK) {
            printf("ack ok=%d id=%s result=%s\n", ack.ok ? 1 : 0, ack.id, ack.result);
            att_order_ack_cleanup(&ack);
            ret = 0;
        }
    }
    if (ret != 0) {
        fprintf(stderr, "att_order_tool: the answer carried no acknowledgement\n");
    }
out:
    att_evidence_cleanup(&ev);
    curl_slist_free_all(hdrs);
    if (c != NULL) {
        curl_easy_cleanup(c);
    }
    att_sigkey_free(key);
    att_buf_cleanup(&env);
    att_buf_cleanup(&req);
    att_buf_cleanup(&resp);
    return ret;
}
