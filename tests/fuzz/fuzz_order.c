/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the quarantine order messages (attest/proto.h): the
 * agent's att_order_open() and the verifier's att_order_ack_decode(), plus
 * att_order_actions_parse() (the API's and CLI's action lists).
 * The input is tried as a signed envelope (seeds are sealed with the fixed
 * key of order_key.h) and, since a mutated envelope rarely keeps a good
 * signature, also as the order body itself: the target signs it with that
 * key and wraps it, so the signed-order decoder sees fuzzed bytes.
 * Whatever opens must seal again and open to the same order; an ack that
 * decodes must re-encode to bytes that decode and encode the same.
 * Seeds (tests/fuzz/seedgen.c): tests/fuzz/corpus/order/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attest/proto.h"
#include "attest/sigkey.h"
#include "order_key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct att_sigkey *key;
static int loaded; /* 1 ok, -1 the key did not load */

static bool same_order(const struct att_order *a, const struct att_order *b)
{
    return strcmp(a->id, b->id) == 0 && a->op == b->op && strcmp(a->lifts, b->lifts) == 0 &&
           strcmp(a->ak_name, b->ak_name) == 0 && strcmp(a->container, b->container) == 0 &&
           strcmp(a->image, b->image) == 0 && a->actions == b->actions &&
           strcmp(a->reason, b->reason) == 0 && a->issued_at == b->issued_at &&
           a->expires_at == b->expires_at;
}

static void open_and_reseal(const uint8_t *env, size_t len)
{
    struct att_order a;
    struct att_order b;
    struct att_buf sealed;
    char why[256];

    if (att_order_open(env, len, key, &a, why, sizeof(why)) != ATT_OK) {
        return;
    }
    att_buf_init(&sealed, ATT_PROTO_MAX_ORDER);
    if (att_order_seal(&a, key, &sealed) != ATT_OK ||
        att_order_open(sealed.data, sealed.len, key, &b, why, sizeof(why)) != ATT_OK) {
        abort();
    }
    if (!same_order(&a, &b)) {
        abort();
    }
    att_order_cleanup(&a);
    att_order_cleanup(&b);
    att_buf_cleanup(&sealed);
}

/* CBOR head of major type @p major (2 bytes, 3 text) with argument @p n. */
static void head(struct att_buf *b, uint8_t major, size_t n)
{
    uint8_t h[5];
    uint8_t mt = (uint8_t)(major << 5);
    size_t hl;

    if (n < 24) {
        h[0] = (uint8_t)(mt | (uint8_t)n);
        hl = 1;
    } else if (n <= 0xff) {
        h[0] = (uint8_t)(mt | 24u);
        h[1] = (uint8_t)n;
        hl = 2;
    } else if (n <= 0xffff) {
        h[0] = (uint8_t)(mt | 25u);
        h[1] = (uint8_t)(n >> 8);
        h[2] = (uint8_t)n;
        hl = 3;
    } else {
        h[0] = (uint8_t)(mt | 26u);
        h[1] = (uint8_t)(n >> 24);
        h[2] = (uint8_t)(n >> 16);
        h[3] = (uint8_t)(n >> 8);
        h[4] = (uint8_t)n;
        hl = 5;
    }
    (void)att_buf_append(b, h, hl);
}

/* {"sig": ECDSA(body), "order": body}, as att_order_seal() lays it out. */
static void sign_and_open(const uint8_t *body, size_t len)
{
    struct att_buf sig;
    struct att_buf env;

    att_buf_init(&sig, ATT_SIGKEY_MAX_SIG);
    att_buf_init(&env, 2 * ATT_PROTO_MAX_ORDER);
    if (att_sigkey_sign(key, body, len, &sig) == ATT_OK) {
        head(&env, 5, 2);
        head(&env, 3, 3);
        (void)att_buf_append(&env, "sig", 3);
        head(&env, 2, sig.len);
        (void)att_buf_append(&env, sig.data, sig.len);
        head(&env, 3, 5);
        (void)att_buf_append(&env, "order", 5);
        head(&env, 2, len);
        if (len > 0) {
            (void)att_buf_append(&env, body, len);
        }
        open_and_reseal(env.data, env.len);
    }
    att_buf_cleanup(&sig);
    att_buf_cleanup(&env);
}

static void ack(const uint8_t *data, size_t size)
{
    struct att_order_ack a;
    struct att_order_ack b;
    struct att_buf e1;
    struct att_buf e2;

    att_buf_init(&e1, ATT_PROTO_MAX_ORDER);
    att_buf_init(&e2, ATT_PROTO_MAX_ORDER);
    if (att_order_ack_decode(data, size, &a, NULL, 0) == ATT_OK) {
        if (att_order_ack_encode(&a, &e1) != ATT_OK ||
            att_order_ack_decode(e1.data, e1.len, &b, NULL, 0) != ATT_OK ||
            att_order_ack_encode(&b, &e2) != ATT_OK || e1.len != e2.len ||
            memcmp(e1.data, e2.data, e1.len) != 0) {
            abort();
        }
        att_order_ack_cleanup(&b);
    }
    att_order_ack_cleanup(&a);
    att_buf_cleanup(&e1);
    att_buf_cleanup(&e2);
}

static void actions(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    char back[64];
    uint32_t a = 0;
    uint32_t b = 0;

    if (s == NULL) {
        return;
    }
    if (size > 0) {
        memcpy(s, data, size);
    }
    s[size] = '\0';
    if (att_order_actions_parse(s, &a)) {
        att_order_actions_str(a, back, sizeof(back));
        if (a == 0 || (a & ~ATT_ORDER_ALL) != 0 || !att_order_actions_parse(back, &b) || a != b) {
            abort();
        }
    }
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (loaded == 0) {
        key = fuzz_order_key_load();
        loaded = key != NULL ? 1 : -1;
    }
    if (loaded != 1) {
        abort(); /* the embedded key is broken: fail loudly, not vacuously */
    }
    open_and_reseal(data, size);
    if (size <= ATT_PROTO_MAX_ORDER) {
        sign_and_open(data, size);
    }
    ack(data, size);
    actions(data, size);
    return 0;
}
