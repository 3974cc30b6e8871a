/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quarantine orders on the wire: the verifier's P-256 signing key (created
 * once, reloaded, never overwritten), sealed orders that open only with the
 * right key and unaltered bytes, acknowledgements, and the order/ack lists
 * carried by evidence requests and answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <cbor.h>

#include "attest/buf.h"
#include "attest/proto.h"
#include "attest/sigkey.h"
#include "attest/util.h"

#define OID  "0123456789abcdef0123456789abcdef"
#define OID2 "fedcba9876543210fedcba9876543210"
#define CTR  "1111111111111111111111111111111111111111111111111111111111111111"

static char dir[64];
static struct att_sigkey *key;
static struct att_sigkey *other;

static int setup(void **state)
{
    char p[128];
    char why[256] = "";

    (void)state;
    (void)snprintf(dir, sizeof(dir), "/tmp/att-order-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    (void)snprintf(p, sizeof(p), "%s/k1.pem", dir);
    if (att_sigkey_load_or_create(p, &key, why, sizeof(why)) != ATT_OK) {
        return -1;
    }
    (void)snprintf(p, sizeof(p), "%s/k2.pem", dir);
    return att_sigkey_load_or_create(p, &other, why, sizeof(why)) == ATT_OK ? 0 : -1;
}

static int teardown(void **state)
{
    char p[128];

    (void)state;
    att_sigkey_free(key);
    att_sigkey_free(other);
    (void)snprintf(p, sizeof(p), "%s/k1.pem", dir);
    (void)unlink(p);
    (void)snprintf(p, sizeof(p), "%s/k2.pem", dir);
    (void)unlink(p);
    (void)snprintf(p, sizeof(p), "%s/junk.pem", dir);
    (void)unlink(p);
    (void)rmdir(dir);
    return 0;
}

static char reason_text[] = "unknown-binary: /opt/sleep";
static char ack_text[] = "paused; network isolated";

static void sample(struct att_order *o)
{
    memset(o, 0, sizeof(*o));
    (void)snprintf(o->id, sizeof(o->id), "%s", OID);
    o->op = ATT_ORDER_QUARANTINE;
    (void)snprintf(o->ak_name, sizeof(o->ak_name), "000b%s", CTR);
    (void)snprintf(o->container, sizeof(o->container), "%s", CTR);
    (void)snprintf(o->image, sizeof(o->image), "sha256:%s", CTR);
    o->actions = ATT_ORDER_PAUSE | ATT_ORDER_ISOLATE;
    o->reason = reason_text;
    o->issued_at = 1000;
    o->expires_at = 2000;
}

static void test_sigkey_create_reload(void **state)
{
    struct att_sigkey *k = NULL;
    struct att_sigkey *pub = NULL;
    struct att_buf a;
    struct att_buf b;
    struct stat st;
    char p[128];
    char why[256] = "";
    FILE *f;

    (void)state;
    (void)snprintf(p, sizeof(p), "%s/k1.pem", dir);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(att_sigkey_load_or_create(p, &k, why, sizeof(why)), ATT_OK);
    att_buf_init(&a, 1024);
    att_buf_init(&b, 1024);
    assert_int_equal(att_sigkey_spki(key, &a), ATT_OK);
    assert_int_equal(att_sigkey_spki(k, &b), ATT_OK);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len); /* the same key, reloaded */
    assert_int_equal(att_sigkey_from_spki(a.data, a.len, &pub), ATT_OK);
    att_sigkey_free(pub);
    pub = NULL;
    assert_int_equal(att_sigkey_from_spki(a.data, a.len - 1, &pub), ATT_ERR_PARSE);
    assert_null(pub);
    assert_int_equal(att_sigkey_from_spki((const uint8_t *)"junk", 4, &pub), ATT_ERR_PARSE);
    att_sigkey_free(pub);
    att_sigkey_free(k);
    att_buf_cleanup(&a);
    att_buf_cleanup(&b);

    /* a file that is not a key is an error and stays as it was */
    (void)snprintf(p, sizeof(p), "%s/junk.pem", dir);
    f = fopen(p, "w");
    assert_non_null(f);
    assert_int_equal(fputs("not a key\n", f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    k = NULL;
    assert_int_equal(att_sigkey_load_or_create(p, &k, why, sizeof(why)), ATT_ERR_PARSE);
    assert_null(k);
    assert_non_null(strstr(why, "not a PEM P-256 private key"));
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_size, 10);
}

static void test_order_seal_open(void **state)
{
    struct att_order o;
    struct att_order got;
    struct att_buf env;
    struct att_sigkey *pub = NULL;
    struct att_buf spki;
    char why[256] = "";

    (void)state;
    sample(&o);
    att_buf_init(&env, ATT_PROTO_MAX_ORDER);
    assert_int_equal(att_order_seal(&o, key, &env), ATT_OK);
    /* the agent holds only the public key */
    att_buf_init(&spki, 1024);
    assert_int_equal(att_sigkey_spki(key, &spki), ATT_OK);
    assert_int_equal(att_sigkey_from_spki(spki.data, spki.len, &pub), ATT_OK);
    assert_int_equal(att_order_open(env.data, env.len, pub, &got, why, sizeof(why)), ATT_OK);
    assert_string_equal(got.id, OID);
    assert_int_equal(got.op, ATT_ORDER_QUARANTINE);
    assert_string_equal(got.container, CTR);
    assert_string_equal(got.image, o.image);
    assert_string_equal(got.ak_name, o.ak_name);
    assert_int_equal(got.actions, ATT_ORDER_PAUSE | ATT_ORDER_ISOLATE);
    assert_string_equal(got.reason, o.reason);
    assert_int_equal(got.issued_at, 1000);
    assert_int_equal(got.expires_at, 2000);
    att_order_cleanup(&got);

    /* another verifier's key */
    assert_int_equal(att_order_open(env.data, env.len, other, &got, why, sizeof(why)),
                     ATT_ERR_VERIFY);
    assert_non_null(strstr(why, "signature"));
    /* any byte changed: the signature or the order body no longer match */
    {
        size_t i;

        for (i = 0; i < env.len; i++) {
            att_rc rc;

            env.data[i] ^= 0x01;
            rc = att_order_open(env.data, env.len, pub, &got, why, sizeof(why));
            assert_true(rc == ATT_ERR_VERIFY || rc == ATT_ERR_PARSE);
            env.data[i] ^= 0x01;
        }
    }
    assert_int_equal(att_order_open(env.data, env.len - 1, pub, &got, why, sizeof(why)),
                     ATT_ERR_PARSE);
    assert_int_equal(att_order_open(env.data, env.len, NULL, &got, why, sizeof(why)),
                     ATT_ERR_INVALID_ARG);

    /* a lift names the order it lifts and carries no actions */
    sample(&o);
    o.op = ATT_ORDER_LIFT;
    (void)snprintf(o.id, sizeof(o.id), "%s", OID2);
    (void)snprintf(o.lifts, sizeof(o.lifts), "%s", OID);
    assert_int_equal(att_order_seal(&o, key, &env), ATT_ERR_INVALID_ARG); /* actions set */
    o.actions = 0;
    env.len = 0;
    assert_int_equal(att_order_seal(&o, key, &env), ATT_OK);
    assert_int_equal(att_order_open(env.data, env.len, pub, &got, why, sizeof(why)), ATT_OK);
    assert_int_equal(got.op, ATT_ORDER_LIFT);
    assert_string_equal(got.lifts, OID);
    att_order_cleanup(&got);

    /* what an honest verifier never seals */
    sample(&o);
    o.id[0] = 'X';
    assert_int_equal(att_order_seal(&o, key, &env), ATT_ERR_INVALID_ARG);
    sample(&o);
    o.actions = 8;
    assert_int_equal(att_order_seal(&o, key, &env), ATT_ERR_INVALID_ARG);
    sample(&o);
    o.expires_at = 10;
    assert_int_equal(att_order_seal(&o, key, &env), ATT_ERR_INVALID_ARG);
    sample(&o);
    o.image[3] = 'X';
    assert_int_equal(att_order_seal(&o, key, &env), ATT_ERR_INVALID_ARG);
    att_sigkey_free(pub);
    att_buf_cleanup(&env);
    att_buf_cleanup(&spki);
}

static void test_order_actions(void **state)
{
    uint32_t a = 0;
    char s[64];

    (void)state;
    assert_true(att_order_actions_parse("pause,isolate-network", &a));
    assert_int_equal(a, ATT_ORDER_PAUSE | ATT_ORDER_ISOLATE);
    att_order_actions_str(a, s, sizeof(s));
    assert_string_equal(s, "pause,isolate-network");
    assert_true(att_order_actions_parse("kill", &a));
    att_order_actions_str(a, s, sizeof(s));
    assert_string_equal(s, "kill");
    att_order_actions_str(ATT_ORDER_ALL, s, sizeof(s));
    assert_string_equal(s, "pause,isolate-network,kill");
    assert_false(att_order_actions_parse("", &a));
    assert_false(att_order_actions_parse("pause,,kill", &a));
    assert_false(att_order_actions_parse("freeze", &a));
    assert_false(att_order_actions_parse(NULL, &a));
}

static void test_ack_and_lists(void **state)
{
    struct att_order_ack ack = {OID, true, ack_text};
    struct att_order_ack got;
    struct att_evidence_request r;
    struct att_evidence_request r2;
    struct att_blob item;
    struct att_buf b;
    char why[256] = "";

    (void)state;
    att_buf_init(&b, 1u << 20);
    assert_int_equal(att_order_ack_encode(&ack, &b), ATT_OK);
    assert_int_equal(att_order_ack_decode(b.data, b.len, &got, why, sizeof(why)), ATT_OK);
    assert_string_equal(got.id, OID);
    assert_true(got.ok);
    assert_string_equal(got.result, ack.result);
    att_order_ack_cleanup(&got);
    assert_int_equal(att_order_ack_decode(b.data, b.len - 1, &got, why, sizeof(why)),
                     ATT_ERR_PARSE);
    ack.id[0] = 'Z';
    assert_int_equal(att_order_ack_encode(&ack, &b), ATT_ERR_INVALID_ARG);

    /* orders ride on evidence requests */
    memset(&r, 0, sizeof(r));
    r.pcr_mask = 1u << 15;
    item.data = b.data;
    item.len = b.len;
    r.orders = &item;
    r.n_orders = 1;
    {
        struct att_buf enc;

        att_buf_init(&enc, 1u << 20);
        assert_int_equal(att_evidence_request_encode(&r, &enc), ATT_OK);
        assert_int_equal(att_evidence_request_decode(enc.data, enc.len, &r2, why, sizeof(why)),
                         ATT_OK);
        assert_int_equal(r2.n_orders, 1);
        assert_int_equal(r2.orders[0].len, b.len);
        assert_memory_equal(r2.orders[0].data, b.data, b.len);
        att_evidence_request_cleanup(&r2);
        r.n_orders = ATT_PROTO_MAX_ORDERS + 1;
        enc.len = 0;
        assert_int_equal(att_evidence_request_encode(&r, &enc), ATT_ERR_INVALID_ARG);
        att_buf_cleanup(&enc);
    }
    att_buf_cleanup(&b);
}

/* ---- hand-made bodies: what a verifier never seals but a key holder could sign ---- */

struct body {
    uint8_t b[2048];
    size_t n;
};

static void put(struct body *x, size_t used)
{
    assert_true(used > 0);
    x->n += used;
}

static void put_text(struct body *x, const char *t)
{
    put(x, cbor_encode_string_start(strlen(t), x->b + x->n, sizeof(x->b) - x->n));
    memcpy(x->b + x->n, t, strlen(t));
    x->n += strlen(t);
}

static void put_uint(struct body *x, uint64_t v)
{
    put(x, cbor_encode_uint(v, x->b + x->n, sizeof(x->b) - x->n));
}

/* An order map with one field replaced (key @p key, text @p text or number @p num). */
static void make_body(struct body *x, const char *field, const char *text, uint64_t num)
{
    static const char *const keys[] = {"v", "id", "op", "image", "lifts", "reason", "actions",
                                       "ak_name", "container", "issued_at", "expires_at"};
    size_t i;

    x->n = 0;
    put(x, cbor_encode_map_start(11, x->b, sizeof(x->b)));
    for (i = 0; i < 11; i++) {
        bool mine = strcmp(keys[i], field) == 0;

        put_text(x, keys[i]);
        if (mine && text != NULL) {
            put_text(x, text);
        } else if (mine) {
            put_uint(x, num);
        } else if (strcmp(keys[i], "v") == 0) {
            put_uint(x, 1);
        } else if (strcmp(keys[i], "id") == 0) {
            put_text(x, OID);
        } else if (strcmp(keys[i], "op") == 0) {
            put_text(x, "quarantine");
        } else if (strcmp(keys[i], "image") == 0 || strcmp(keys[i], "lifts") == 0) {
            put_text(x, "");
        } else if (strcmp(keys[i], "reason") == 0) {
            put_text(x, "r");
        } else if (strcmp(keys[i], "actions") == 0) {
            put_uint(x, ATT_ORDER_PAUSE);
        } else if (strcmp(keys[i], "ak_name") == 0) {
            put_text(x, "000b" CTR);
        } else if (strcmp(keys[i], "container") == 0) {
            put_text(x, CTR);
        } else if (strcmp(keys[i], "issued_at") == 0) {
            put_uint(x, 1000);
        } else {
            put_uint(x, 2000);
        }
    }
}

/* Sign @p x with the real key and wrap it as an envelope {sig, order}. */
static void envelope(const struct body *x, struct att_buf *env)
{
    struct att_buf sig;
    uint8_t h[9];
    size_t k;

    att_buf_init(&sig, ATT_SIGKEY_MAX_SIG);
    assert_int_equal(att_sigkey_sign(key, x->b, x->n, &sig), ATT_OK);
    att_buf_reset(env);
    k = cbor_encode_map_start(2, h, sizeof(h));
    assert_int_equal(att_buf_append(env, h, k), ATT_OK);
    k = cbor_encode_string_start(3, h, sizeof(h));
    assert_int_equal(att_buf_append(env, h, k), ATT_OK);
    assert_int_equal(att_buf_append(env, "sig", 3), ATT_OK);
    k = cbor_encode_bytestring_start(sig.len, h, sizeof(h));
    assert_int_equal(att_buf_append(env, h, k), ATT_OK);
    assert_int_equal(att_buf_append(env, sig.data, sig.len), ATT_OK);
    k = cbor_encode_string_start(5, h, sizeof(h));
    assert_int_equal(att_buf_append(env, h, k), ATT_OK);
    assert_int_equal(att_buf_append(env, "order", 5), ATT_OK);
    k = cbor_encode_bytestring_start(x->n, h, sizeof(h));
    assert_int_equal(att_buf_append(env, h, k), ATT_OK);
    assert_int_equal(att_buf_append(env, x->b, x->n), ATT_OK);
    att_buf_cleanup(&sig);
}

/* A correctly signed order whose fields do not make sense is refused all the same. */
static void test_order_signed_but_inconsistent(void **state)
{
    static const struct {
        const char *key;
        const char *text; /* NULL: use num */
        uint64_t num;
    } bad[] = {
        {"op", "freeze", 0},         /* no such op */
        {"lifts", OID2, 0},          /* a quarantine that names an order to lift */
        {"expires_at", NULL, 10},    /* expires before it is issued */
        {"id", "0123456789ABCDEF0123456789ABCDEF", 0}, /* upper-case id */
        {"v", NULL, 2},              /* another version */
        {"container", "111", 0},     /* not 64 hex */
        {"actions", NULL, 8},        /* unknown action bit */
        {"image", "sha256:xyz", 0},  /* not an image id */
    };
    struct att_order got;
    struct att_sigkey *pub = NULL;
    struct att_buf spki;
    struct att_buf env;
    struct body x;
    char why[256];
    size_t i;

    (void)state;
    att_buf_init(&spki, 1024);
    att_buf_init(&env, ATT_PROTO_MAX_ORDER);
    assert_int_equal(att_sigkey_spki(key, &spki), ATT_OK);
    assert_int_equal(att_sigkey_from_spki(spki.data, spki.len, &pub), ATT_OK);
    /* the hand-made body itself is accepted: the cases below differ in one field only */
    make_body(&x, "", NULL, 0);
    envelope(&x, &env);
    assert_int_equal(att_order_open(env.data, env.len, pub, &got, why, sizeof(why)), ATT_OK);
    att_order_cleanup(&got);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        make_body(&x, bad[i].key, bad[i].text, bad[i].num);
        envelope(&x, &env);
        why[0] = '\0';
        assert_int_equal(att_order_open(env.data, env.len, pub, &got, why, sizeof(why)),
                         ATT_ERR_PARSE);
        assert_true(why[0] != '\0');
    }
    /* more orders in one evidence request than the protocol allows: refused on decode */
    {
        struct att_evidence_request r;
        uint8_t h[9];
        uint8_t one = 0x41; /* bstr of length 1: "\x01" */
        size_t k;

        att_buf_reset(&env);
        k = cbor_encode_map_start(4, h, sizeof(h));
        assert_int_equal(att_buf_append(&env, h, k), ATT_OK);
        k = cbor_encode_string_start(5, h, sizeof(h));
        assert_int_equal(att_buf_append(&env, h, k), ATT_OK);
        assert_int_equal(att_buf_append(&env, "nonce", 5), ATT_OK);
        k = cbor_encode_bytestring_start(ATT_PROTO_NONCE_LEN, h, sizeof(h));
        assert_int_equal(att_buf_append(&env, h, k), ATT_OK);
        for (k = 0; k < ATT_PROTO_NONCE_LEN; k++) {
            assert_int_equal(att_buf_append(&env, "n", 1), ATT_OK);
        }
        k = cbor_encode_string_start(6, h, sizeof(h));
        assert_int_equal(att_buf_append(&env, h, k), ATT_OK);
        assert_int_equal(att_buf_append(&env, "orders", 6), ATT_OK);
        k = cbor_encode_array_start(ATT_PROTO_MAX_ORDERS + 1, h, sizeof(h));
        assert_int_equal(att_buf_append(&env, h, k), ATT_OK);
        for (k = 0; k < ATT_PROTO_MAX_ORDERS + 1; k++) {
            assert_int_equal(att_buf_append(&env, &one, 1), ATT_OK);
            assert_int_equal(att_buf_append(&env, "\x01", 1), ATT_OK);
        }
        k = cbor_encode_string_start(8, h, sizeof(h));
        assert_int_equal(att_buf_append(&env, h, k), ATT_OK);
        assert_int_equal(att_buf_append(&env, "pcr_mask", 8), ATT_OK);
        k = cbor_encode_uint(1u << 15, h, sizeof(h));
        assert_int_equal(att_buf_append(&env, h, k), ATT_OK);
        k = cbor_encode_string_start(10, h, sizeof(h));
        assert_int_equal(att_buf_append(&env, h, k), ATT_OK);
        assert_int_equal(att_buf_append(&env, "log_offset", 10), ATT_OK);
        k = cbor_encode_uint(0, h, sizeof(h));
        assert_int_equal(att_buf_append(&env, h, k), ATT_OK);
        assert_int_equal(att_evidence_request_decode(env.data, env.len, &r, why, sizeof(why)),
                         ATT_ERR_PARSE);
        assert_non_null(strstr(why, "orders"));
    }
    att_sigkey_free(pub);
    att_buf_cleanup(&spki);
    att_buf_cleanup(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigkey_create_reload),
        cmocka_unit_test(test_order_seal_open),
        cmocka_unit_test(test_order_actions),
        cmocka_unit_test(test_ack_and_lists),
        cmocka_unit_test(test_order_signed_but_inconsistent),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
