/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signing quarantine orders (verifier_order_seal, used by the poller for new
 * orders and here for lifts) and lifting a quarantine (DESIGN §6): an operator's decision, made through the
 * dashboard API. The lift is itself a signed order for the agent (it undoes
 * what the order did); it is written to the store's outbox, with who and
 * why, and delivered like any order until the agent acknowledges it.
 * Memory: nothing kept; every result is written to the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/log.h"
#include "attest/proto.h"
#include "attest/sigkey.h"
#include "attest/util.h"
#include "store.h"
#include "verifier.h"
#include "verifier_int.h"

att_rc verifier_order_seal(struct verifier *v, struct att_order *o, int64_t now, struct att_buf *env)
{
    uint8_t rnd[ATT_ORDER_ID_LEN / 2];
    att_rc rc = att_random_bytes(rnd, sizeof(rnd));

    if (rc != ATT_OK) {
        return rc;
    }
    att_hex_encode(rnd, sizeof(rnd), o->id);
    o->issued_at = (uint64_t)now;
    o->expires_at = (uint64_t)now + verifier_cfg(v)->order_ttl_s;
    return att_order_seal(o, verifier_order_key(v), env);
}

att_rc verifier_quarantine_lift(struct verifier *v, const char *id, const char *by,
                                const char *reason, char *why, size_t why_len)
{
    struct store *s = verifier_store(v);
    struct store_order q;
    struct store_host h;
    struct att_order o;
    struct att_buf env;
    char text[ATT_PROTO_MAX_TEXT];
    int64_t now = verifier_now();
    att_rc rc;

    memset(&q, 0, sizeof(q));
    memset(&h, 0, sizeof(h));
    memset(&o, 0, sizeof(o));
    att_buf_init(&env, ATT_PROTO_MAX_ORDER);
    rc = store_order_get(s, id, &q);
    if (rc != ATT_OK) {
        att_set_why(why, why_len, "no quarantine order %.40s", id);
        goto out;
    }
    if (strcmp(q.state, "pending") != 0 && strcmp(q.state, "enforced") != 0 &&
        strcmp(q.state, "refused") != 0 && strcmp(q.state, "expired") != 0) {
        att_set_why(why, why_len, "order %s is %s: nothing to lift", id, q.state);
        rc = ATT_ERR_EXISTS;
        goto out;
    }
    rc = store_host_get(s, q.host, &h);
    if (rc != ATT_OK) {
        att_set_why(why, why_len, "host %s of order %s is no longer enrolled", q.host, id);
        goto out;
    }
    o.op = ATT_ORDER_LIFT;
    memcpy(o.lifts, q.id, ATT_ORDER_ID_LEN);
    (void)snprintf(o.ak_name, sizeof(o.ak_name), "%s", h.ak_name);
    (void)snprintf(o.container, sizeof(o.container), "%s", q.container);
    (void)snprintf(o.image, sizeof(o.image), "%s", q.image);
    (void)snprintf(text, sizeof(text), "lifted by %.64s: %.900s", by, reason);
    while (text[0] != '\0' && !att_utf8_valid((const uint8_t *)text, strlen(text))) {
        text[strlen(text) - 1] = '\0'; /* a cut split a character: drop its bytes */
    }
    o.reason = text;
    rc = verifier_order_seal(v, &o, now, &env);
    if (rc != ATT_OK) {
        att_set_why(why, why_len, "cannot sign the lift order: %s", att_rc_str(rc));
        goto out;
    }
    rc = store_order_lift(s, id, o.id, env.data, env.len, by, reason);
    if (rc != ATT_OK) {
        att_set_why(why, why_len, rc == ATT_ERR_EXISTS ? "order %s was already lifted"
                                                       : "cannot record the lift of order %s",
                    id);
        goto out;
    }
    LOG_WARN("quarantine order %s (host %s, container %.12s) lifted by %s: %s", id, q.host,
             q.container, by, reason);
out:
    store_order_cleanup(&q);
    store_host_cleanup(&h);
    att_buf_cleanup(&env);
    return rc;
}
