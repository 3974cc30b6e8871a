/* SPDX-License-Identifier: Apache-2.0 */
/* Quarantine orders on the agent: check, enforce, record (see quarantine.h). */
#include "quarantine.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "attest/buf.h"
#include "attest/log.h"
#include "attest/sigkey.h"
#include "attest/util.h"
#include "engine.h"
#include "netisolate.h"

#define STATE_FILE "quarantine.state"
#define KEY_FILE   "verifier-key.der"
#define STATE_MAX  (QUARANTINE_MAX_RECORDS * 1024u)
#define NETS_LEN   512
#define RESULT_LEN 900

struct qrec {
    char id[ATT_ORDER_ID_LEN + 1];
    char state; /* 'A' in effect, 'L' lifted */
    char container[65];
    char image[80];   /* "" when unknown */
    uint32_t actions; /* ATT_ORDER_* */
    char lift_id[ATT_ORDER_ID_LEN + 1];
    char nets[NETS_LEN]; /* networks disconnected, comma-separated, to reconnect on lift */
};

struct quarantine {
    pthread_mutex_t lock;
    char *state_path;       /* owned */
    char *key_path;         /* owned */
    char *engine_url;       /* owned, may be NULL */
    struct engine *engine;  /* owned, opened on first use */
    struct att_sigkey *key; /* owned, NULL before enrollment */
    struct att_buf key_der; /* its SubjectPublicKeyInfo: the pinned key */
    struct qrec *recs;      /* owned array, oldest first */
    size_t n;
};

static const char *dash(const char *s)
{
    return s[0] != '\0' ? s : "-";
}

static void undash(char *s)
{
    if (strcmp(s, "-") == 0) {
        s[0] = '\0';
    }
}

static att_rc save(struct quarantine *q)
{
    struct att_buf b;
    size_t i;
    att_rc rc = ATT_OK;

    att_buf_init(&b, STATE_MAX);
    for (i = 0; i < q->n && rc == ATT_OK; i++) {
        const struct qrec *r = &q->recs[i];

        rc = att_buf_printf(&b, "%s %c %s %s %u %s %s\n", r->id, r->state, r->container,
                            dash(r->image), r->actions, dash(r->lift_id), dash(r->nets));
    }
    if (rc == ATT_OK) {
        rc =
            att_file_write_atomic(q->state_path, b.data != NULL ? (const void *)b.data : "", b.len);
    }
    att_buf_cleanup(&b);
    if (rc != ATT_OK) {
        LOG_ERR("cannot write %s: %s", q->state_path, att_rc_str(rc));
    }
    return rc;
}

static att_rc load(struct quarantine *q)
{
    struct att_buf b;
    char *line;
    char *save_ptr = NULL;
    att_rc rc;
    size_t lineno = 0;

    att_buf_init(&b, STATE_MAX);
    rc = att_file_read(q->state_path, &b);
    if (rc == ATT_ERR_NOT_FOUND) {
        att_buf_cleanup(&b);
        return ATT_OK;
    }
    if (rc != ATT_OK) {
        att_buf_cleanup(&b);
        return rc;
    }
    q->recs = calloc(QUARANTINE_MAX_RECORDS, sizeof(*q->recs));
    if (q->recs == NULL) {
        att_buf_cleanup(&b);
        return ATT_ERR_NOMEM;
    }
    for (line = b.data != NULL ? strtok_r((char *)b.data, "\n", &save_ptr) : NULL; line != NULL;
         line = strtok_r(NULL, "\n", &save_ptr)) {
        struct qrec r;
        char state[4];
        char actions[12]; /* parsed strictly below: sscanf's %u wraps 4294967297 to 1 */

        lineno++;
        memset(&r, 0, sizeof(r));
        if (q->n >= QUARANTINE_MAX_RECORDS ||
            sscanf(line, "%32s %3s %64s %79s %11s %32s %511s", r.id, state, r.container, r.image,
                   actions, r.lift_id, r.nets) != 7 ||
            att_parse_u32(actions, ATT_ORDER_ALL, &r.actions) != ATT_OK ||
            !att_lower_hex(r.id, ATT_ORDER_ID_LEN, ATT_ORDER_ID_LEN) ||
            !att_lower_hex(r.container, 64, 64) ||
            (strcmp(state, "A") != 0 && strcmp(state, "L") != 0) ||
            (r.actions & ~ATT_ORDER_ALL) != 0) {
            LOG_ERR("%s:%zu: damaged quarantine record", q->state_path, lineno);
            att_buf_cleanup(&b);
            return ATT_ERR_PARSE;
        }
        r.state = state[0];
        undash(r.image);
        undash(r.lift_id);
        undash(r.nets);
        q->recs[q->n++] = r;
    }
    att_buf_cleanup(&b);
    return ATT_OK;
}

att_rc quarantine_open(const char *state_dir, const char *engine_url, struct quarantine **out)
{
    struct quarantine *q;
    struct att_buf key;
    att_rc rc;
    size_t n;

    if (state_dir == NULL || out == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    q = calloc(1, sizeof(*q));
    if (q == NULL) {
        return ATT_ERR_NOMEM;
    }
    pthread_mutex_init(&q->lock, NULL);
    att_buf_init(&q->key_der, ATT_SIGKEY_MAX_SPKI);
    n = strlen(state_dir) + 32;
    q->state_path = malloc(n);
    q->key_path = malloc(n);
    q->engine_url = engine_url != NULL ? strdup(engine_url) : NULL;
    if (q->state_path == NULL || q->key_path == NULL || (engine_url != NULL && !q->engine_url)) {
        quarantine_free(q);
        return ATT_ERR_NOMEM;
    }
    (void)snprintf(q->state_path, n, "%s/%s", state_dir, STATE_FILE);
    (void)snprintf(q->key_path, n, "%s/%s", state_dir, KEY_FILE);
    rc = load(q);
    if (rc == ATT_OK && q->recs == NULL) {
        q->recs = calloc(QUARANTINE_MAX_RECORDS, sizeof(*q->recs));
        rc = q->recs != NULL ? ATT_OK : ATT_ERR_NOMEM;
    }
    if (rc == ATT_OK) {
        att_buf_init(&key, ATT_SIGKEY_MAX_SPKI);
        rc = att_file_read(q->key_path, &key);
        if (rc == ATT_OK) {
            rc = att_sigkey_from_spki(key.data, key.len, &q->key);
            if (rc != ATT_OK) {
                LOG_ERR("%s is not a P-256 public key", q->key_path);
            } else {
                rc = att_buf_append(&q->key_der, key.data, key.len);
            }
        } else if (rc == ATT_ERR_NOT_FOUND) {
            rc = ATT_OK; /* not enrolled yet */
        }
        att_buf_cleanup(&key);
    }
    if (rc != ATT_OK) {
        quarantine_free(q);
        return rc;
    }
    *out = q;
    return ATT_OK;
}

void quarantine_free(struct quarantine *q)
{
    if (q == NULL) {
        return;
    }
    engine_free(q->engine);
    att_sigkey_free(q->key);
    att_buf_cleanup(&q->key_der);
    free(q->recs);
    free(q->state_path);
    free(q->key_path);
    free(q->engine_url);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

att_rc quarantine_set_key(struct quarantine *q, const uint8_t *spki, size_t len, char *why,
                          size_t why_len)
{
    struct att_sigkey *k = NULL;
    att_rc rc;

    if (q == NULL) {
        return ATT_ERR_INVALID_ARG;
    }
    if (att_sigkey_from_spki(spki, len, &k) != ATT_OK) {
        att_set_why(why, why_len, "verifier_key is not a P-256 SubjectPublicKeyInfo");
        return ATT_ERR_PARSE;
    }
    pthread_mutex_lock(&q->lock);
    if (q->key != NULL) {
        /*
         * Pinned on first use: credential activation proves the TPM, not who
         * asks, so another fleet certificate must not swap the key orders are
         * checked with. Re-enrolling with the same verifier is fine.
         */
        rc = q->key_der.len == len && memcmp(q->key_der.data, spki, len) == 0 ? ATT_OK
                                                                              : ATT_ERR_EXISTS;
        if (rc != ATT_OK) {
            att_set_why(why, why_len,
                        "this agent is pinned to another verifier's order key; remove %s to "
                        "enroll it with a new verifier",
                        q->key_path);
        }
    } else {
        rc = att_file_write_atomic(q->key_path, spki, len);
        if (rc == ATT_OK) {
            att_buf_reset(&q->key_der);
            rc = att_buf_append(&q->key_der, spki, len);
            q->key = k;
            k = NULL;
        } else {
            att_set_why(why, why_len, "cannot store the verifier key: %s", att_rc_str(rc));
        }
    }
    pthread_mutex_unlock(&q->lock);
    att_sigkey_free(k);
    return rc;
}

static struct qrec *find(struct quarantine *q, const char *id)
{
    size_t i;

    for (i = 0; i < q->n; i++) {
        if (strcmp(q->recs[i].id, id) == 0) {
            return &q->recs[i];
        }
    }
    return NULL;
}

static bool has_lifted(const struct quarantine *q)
{
    size_t i;

    for (i = 0; i < q->n; i++) {
        if (q->recs[i].state == 'L') {
            return true;
        }
    }
    return false;
}

/* A slot for a new record; when full, the oldest lifted record makes room. */
static struct qrec *add_slot(struct quarantine *q)
{
    size_t i;

    if (q->n < QUARANTINE_MAX_RECORDS) {
        return &q->recs[q->n++];
    }
    for (i = 0; i < q->n; i++) {
        if (q->recs[i].state == 'L') {
            memmove(&q->recs[i], &q->recs[i + 1], (q->n - i - 1) * sizeof(*q->recs));
            return &q->recs[q->n - 1];
        }
    }
    return NULL;
}

static att_rc engine_get(struct quarantine *q, struct engine **e, char *why, size_t why_len)
{
    if (q->engine_url == NULL) {
        att_set_why(why, why_len, "this agent has no container engine (--engine)");
        return ATT_ERR_INVALID_ARG;
    }
    if (q->engine == NULL && engine_open(q->engine_url, &q->engine) != ATT_OK) {
        att_set_why(why, why_len, "cannot open the container engine %s", q->engine_url);
        return ATT_ERR_IO;
    }
    *e = q->engine;
    return ATT_OK;
}

/*
 * The container an order is about: 1 found (@p c filled, clean it up), 0 no
 * such container or no engine, -1 the engine failed (an order then goes
 * unacknowledged and comes again). What went wrong is appended to @p res.
 */
static int find_target(struct quarantine *q, const char *id, struct engine **e,
                       struct att_engine_container *c, struct att_buf *res)
{
    char why[512] = "";
    att_rc rc;

    memset(c, 0, sizeof(*c));
    if (engine_get(q, e, why, sizeof(why)) != ATT_OK) {
        (void)att_buf_printf(res, "%s", why);
        return q->engine_url == NULL ? 0 : -1;
    }
    rc = engine_inspect(*e, id, c);
    if (rc == ATT_OK) {
        return 1;
    }
    att_engine_container_cleanup(c);
    if (rc != ATT_ERR_NOT_FOUND) {
        (void)att_buf_printf(res, "the engine did not answer for %.12s (%s)", id, att_rc_str(rc));
        return -1;
    }
    (void)att_buf_printf(res, "no container %.12s on this host; nothing to do", id);
    return 0;
}

/* Cut the network: disconnect every engine network, then nftables drop-all in its netns. */
static bool isolate(struct engine *e, const struct att_engine_container *c, struct qrec *r,
                    struct att_buf *res)
{
    char **nets = NULL;
    size_t n = 0;
    size_t i;
    size_t cut = 0;
    bool ok = true;
    char why[512] = "";

    if (engine_networks(e, c->id, &nets, &n, why, sizeof(why)) != ATT_OK) {
        (void)att_buf_printf(res, " networks: cannot list (%s);", why);
        ok = false;
    }
    for (i = 0; i < n; i++) {
        size_t used = strlen(r->nets);

        if (used + strlen(nets[i]) + 2 >= sizeof(r->nets)) {
            /* could not be reconnected on lift: left connected (the netns cut still holds) */
            (void)att_buf_printf(res, " %s left connected (too many networks to record);", nets[i]);
            ok = false;
        } else if (engine_network_action(e, c->id, nets[i], false, why, sizeof(why)) == ATT_OK) {
            (void)snprintf(r->nets + used, sizeof(r->nets) - used, "%s%s", used ? "," : "",
                           nets[i]);
            cut++;
        } else {
            (void)att_buf_printf(res, " disconnect %s failed (%s);", nets[i], why);
            ok = false;
        }
        free(nets[i]);
    }
    free(nets);
    (void)att_buf_printf(res, " disconnected %zu network(s);", cut);
    if (c->pid <= 0) {
        (void)att_buf_printf(res, " not running, no network namespace to cut;");
    } else if (netisolate_apply((pid_t)c->pid, why, sizeof(why)) == ATT_OK) {
        (void)att_buf_printf(res, " nftables drop-all in its network namespace;");
    } else {
        (void)att_buf_printf(res, " network namespace not cut (%s);", why);
        ok = false;
    }
    return ok;
}

/*
 * Carry out @p o: 1 all done, 0 in force with an action failed, -1 nothing to
 * act on (no such container, no engine), -2 the engine failed (try later).
 */
static int enforce(struct quarantine *q, const struct att_order *o, struct qrec *r,
                   struct att_buf *res)
{
    struct engine *e = NULL;
    struct att_engine_container c;
    char why[512] = "";
    bool ok = true;
    int found;

    found = find_target(q, o->container, &e, &c, res);
    if (found <= 0) {
        return found == 0 ? -1 : -2;
    }
    if ((o->actions & ATT_ORDER_ISOLATE) != 0) {
        (void)att_buf_printf(res, "isolate-network:");
        ok = isolate(e, &c, r, res) && ok;
    }
    if ((o->actions & ATT_ORDER_PAUSE) != 0) {
        if (c.state != NULL && strcmp(c.state, "paused") == 0) {
            (void)att_buf_printf(res, " pause: already paused;");
        } else if (c.state != NULL && strcmp(c.state, "running") != 0) {
            (void)att_buf_printf(res, " pause: not running (%s), refused at start until lifted;",
                                 c.state);
        } else if (engine_action(e, o->container, "pause", why, sizeof(why)) == ATT_OK) {
            (void)att_buf_printf(res, " pause: paused;");
        } else {
            (void)att_buf_printf(res, " pause failed (%s);", why);
            ok = false;
        }
    }
    if ((o->actions & ATT_ORDER_KILL) != 0) {
        if (engine_action(e, o->container, "kill", why, sizeof(why)) == ATT_OK) {
            (void)att_buf_printf(res, " kill: killed;");
        } else {
            (void)att_buf_printf(res, " kill failed (%s);", why);
            ok = false;
        }
    }
    att_engine_container_cleanup(&c);
    return ok ? 1 : 0;
}

/* Undo @p r: 1 done, 0 done with a step failed, -2 the engine failed (try later). */
static int undo(struct quarantine *q, const struct qrec *r, struct att_buf *res)
{
    struct engine *e = NULL;
    struct att_engine_container c;
    char why[512] = "";
    bool ok = true;
    int found;

    found = find_target(q, r->container, &e, &c, res);
    if (found <= 0) {
        /* gone (removed or killed): nothing left to restore; else try again */
        return found == 0 && q->engine_url != NULL ? 1 : -2;
    }
    if ((r->actions & ATT_ORDER_PAUSE) != 0 && c.state != NULL && strcmp(c.state, "paused") == 0) {
        if (engine_action(e, r->container, "unpause", why, sizeof(why)) == ATT_OK) {
            (void)att_buf_printf(res, "unpaused;");
        } else {
            (void)att_buf_printf(res, "unpause failed (%s);", why);
            ok = false;
        }
    }
    if ((r->actions & ATT_ORDER_ISOLATE) != 0) {
        char nets[NETS_LEN];
        char *save_ptr = NULL;
        char *net;

        if (c.pid > 0 && netisolate_remove((pid_t)c.pid, why, sizeof(why)) != ATT_OK) {
            (void)att_buf_printf(res, " network namespace not restored (%s);", why);
            ok = false;
        } else if (c.pid > 0) {
            (void)att_buf_printf(res, " nftables drop-all removed;");
        }
        (void)snprintf(nets, sizeof(nets), "%s", r->nets);
        for (net = strtok_r(nets, ",", &save_ptr); net != NULL;
             net = strtok_r(NULL, ",", &save_ptr)) {
            if (engine_network_action(e, r->container, net, true, why, sizeof(why)) == ATT_OK) {
                (void)att_buf_printf(res, " reconnected %s;", net);
            } else {
                (void)att_buf_printf(res, " reconnect %s failed (%s);", net, why);
                ok = false;
            }
        }
    }
    if ((r->actions & ATT_ORDER_KILL) != 0) {
        (void)att_buf_printf(res, " (a killed container is not restarted);");
    }
    att_engine_container_cleanup(&c);
    return ok ? 1 : 0;
}

/* Log what was done (or refused) as an attested entry. */
static void record(struct agent *a, const char *name, const struct att_order *o, bool ok,
                   const char *result)
{
    struct att_buf b;
    char acts[64];

    static unsigned long seq;

    att_buf_init(&b, 2048);
    att_order_actions_str(o->actions, acts, sizeof(acts));
    /* at= and n= keep two equal refusals from being folded into one entry */
    (void)att_buf_printf(&b, "at=%lld n=%lu ", (long long)time(NULL), ++seq);
    (void)att_buf_printf(&b, "order=%s op=%s%s%s actions=%s ok=%d result=%.*s",
                         o->id[0] ? o->id : "-", o->op == ATT_ORDER_LIFT ? "lift" : "quarantine",
                         o->op == ATT_ORDER_LIFT ? " lifts=" : "",
                         o->op == ATT_ORDER_LIFT ? o->lifts : "", acts[0] ? acts : "-", ok ? 1 : 0,
                         RESULT_LEN, result);
    if (b.data == NULL || agent_record_buf(a, name, b.data, b.len, NULL) != ATT_OK) {
        LOG_ERR("cannot log order %s", o->id);
    }
    att_buf_cleanup(&b);
}

static void set_ack(struct att_order_ack *ack, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_ack(struct att_order_ack *ack, bool ok, const char *fmt, ...)
{
    char text[RESULT_LEN + 100];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    /* printable ASCII only: engine and nft messages may carry anything, and a
     * cut must not split a UTF-8 character (the ack's text must stay valid) */
    att_printable_ascii(text);
    ack->ok = ok;
    free(ack->result);
    ack->result = strdup(text[0] ? text : "-");
}

#define UNSIGNED_REFUSALS_PER_MIN 10

static void refuse(struct agent *a, const struct att_order *o, struct att_order_ack *ack,
                   const char *why)
{
    static time_t window;
    static unsigned in_window;
    time_t now = time(NULL);

    set_ack(ack, false, "refused: %s", why);
    LOG_WARN("quarantine order %s refused: %s", o->id[0] ? o->id : "(unreadable)", why);
    /*
     * Every refusal is attested, but one whose signature never verified could
     * come from any client with a fleet certificate: at most a few a minute
     * (each is a log entry and a PCR extend), the rest only in the daemon log.
     */
    if (o->id[0] == '\0') {
        if (now / 60 != window) {
            window = now / 60;
            in_window = 0;
        }
        if (++in_window > UNSIGNED_REFUSALS_PER_MIN) {
            return;
        }
    }
    record(a, "order:refused", o, false, why);
}

static void handle_quarantine(struct quarantine *q, struct agent *a, const struct att_order *o,
                              struct att_order_ack *ack)
{
    struct qrec *r = find(q, o->id);
    struct qrec n;
    struct att_buf res;
    char name[96];
    bool ok;
    int done;

    if (r != NULL) {
        if (r->state == 'A') {
            set_ack(ack, true, "already in effect (order %s)", o->id);
        } else {
            refuse(a, o, ack, "replayed: this order was lifted");
        }
        return;
    }
    if (q->n >= QUARANTINE_MAX_RECORDS && !has_lifted(q)) {
        refuse(a, o, ack, "too many open quarantines on this host");
        return;
    }
    memset(&n, 0, sizeof(n));
    memcpy(n.id, o->id, sizeof(n.id));
    n.state = 'A';
    memcpy(n.container, o->container, sizeof(n.container));
    (void)snprintf(n.image, sizeof(n.image), "%s", o->image);
    n.actions = o->actions;
    att_buf_init(&res, 4096);
    done = enforce(q, o, &n, &res);
    if (done == -2) {
        LOG_WARN("quarantine order %s: %s; not acknowledged, so it comes again", o->id,
                 res.data != NULL ? (const char *)res.data : "engine failure");
        att_buf_cleanup(&res);
        ack->result = NULL; /* no acknowledgement */
        return;
    }
    if (done < 0) {
        /* nothing to hold: no record, so no image is blocked on its account */
        refuse(a, o, ack, res.data != NULL ? (const char *)res.data : "no such container");
        att_buf_cleanup(&res);
        return;
    }
    ok = done > 0;
    /* In effect from now on (the hook refuses restarts), even if an action failed. */
    r = add_slot(q);
    if (r == NULL) {
        att_buf_cleanup(&res);
        refuse(a, o, ack, "too many open quarantines on this host");
        return;
    }
    *r = n;
    if (save(q) != ATT_OK) {
        ok = false;
        (void)att_buf_printf(&res, " (the quarantine state could not be saved: lost on restart)");
    }
    set_ack(ack, ok, "%s", res.data != NULL ? (const char *)res.data : "-");
    (void)snprintf(name, sizeof(name), "quarantine:%s", o->container);
    record(a, name, o, ok, ack->result);
    LOG_WARN("quarantined container %.12s (order %s): %s", o->container, o->id, ack->result);
    att_buf_cleanup(&res);
}

static void handle_lift(struct quarantine *q, struct agent *a, const struct att_order *o,
                        struct att_order_ack *ack)
{
    struct qrec *r = find(q, o->lifts);
    struct att_buf res;
    char name[96];
    bool ok;
    int done;

    if (r == NULL) {
        /* e.g. the order was refused here: nothing to undo, and the lift is done */
        set_ack(ack, true, "nothing to undo: order %s was never carried out on this host",
                o->lifts);
        (void)snprintf(name, sizeof(name), "quarantine:%s", o->container);
        record(a, name, o, true, ack->result);
        return;
    }
    if (strcmp(r->container, o->container) != 0) {
        refuse(a, o, ack, "it names another container than the order it lifts");
        return;
    }
    if (r->state == 'L') {
        if (strcmp(r->lift_id, o->id) == 0) {
            set_ack(ack, true, "already lifted (lift %s)", o->id);
        } else {
            refuse(a, o, ack, "replayed: that order was already lifted");
        }
        return;
    }
    att_buf_init(&res, 4096);
    done = undo(q, r, &res);
    if (done == -2) {
        LOG_WARN("lift %s: %s; not acknowledged, so it comes again", o->id,
                 res.data != NULL ? (const char *)res.data : "engine failure");
        att_buf_cleanup(&res);
        return;
    }
    ok = done > 0;
    r->state = 'L';
    memcpy(r->lift_id, o->id, sizeof(r->lift_id));
    if (save(q) != ATT_OK) {
        ok = false;
        (void)att_buf_printf(&res, " (the quarantine state could not be saved)");
    }
    set_ack(ack, ok, "%s", res.data != NULL ? (const char *)res.data : "-");
    (void)snprintf(name, sizeof(name), "quarantine:%s", o->container);
    record(a, name, o, ok, ack->result);
    LOG_INFO("lifted the quarantine of container %.12s (order %s): %s", o->container, o->lifts,
             ack->result);
    att_buf_cleanup(&res);
}

bool quarantine_handle(struct quarantine *q, struct agent *a, const char *ak_name,
                       const uint8_t *env, size_t len, struct att_order_ack *ack)
{
    struct att_order o;
    char why[512] = "";
    bool acked = true;
    att_rc rc;

    memset(ack, 0, sizeof(*ack));
    memset(&o, 0, sizeof(o));
    memset(ack->id, '0', ATT_ORDER_ID_LEN);
    pthread_mutex_lock(&q->lock);
    if (q->key == NULL) {
        refuse(a, &o, ack, "this agent holds no verifier order key (enroll it again)");
        goto out;
    }
    rc = att_order_open(env, len, q->key, &o, why, sizeof(why));
    if (rc != ATT_OK) {
        memset(&o, 0, sizeof(o));
        refuse(a, &o, ack, why);
        goto out;
    }
    memcpy(ack->id, o.id, sizeof(ack->id));
    if (ak_name == NULL || strcmp(o.ak_name, ak_name) != 0) {
        refuse(a, &o, ack, "addressed to another host's AK");
        goto out;
    }
    /*
     * A quarantine order must arrive in time. A lift is honoured late too: it
     * names the one order it undoes (a replay after that is "already lifted"),
     * and a host offline past the lift's expiry must not stay quarantined.
     */
    if (o.op == ATT_ORDER_QUARANTINE && (uint64_t)time(NULL) > o.expires_at) {
        refuse(a, &o, ack, "expired");
        goto out;
    }
    if (o.op == ATT_ORDER_QUARANTINE) {
        handle_quarantine(q, a, &o, ack);
    } else {
        handle_lift(q, a, &o, ack);
    }
    acked = ack->result != NULL; /* none: the engine failed, the verifier sends it again */
out:
    pthread_mutex_unlock(&q->lock);
    att_order_cleanup(&o);
    return acked;
}

bool quarantine_refuses(struct quarantine *q, const char *container_id, const char *image_id,
                        char *why, size_t why_len)
{
    bool hit = false;
    size_t i;

    if (q == NULL) {
        return false;
    }
    pthread_mutex_lock(&q->lock);
    for (i = 0; i < q->n && !hit; i++) {
        const struct qrec *r = &q->recs[i];

        if (r->state != 'A') {
            continue;
        }
        if (container_id != NULL && strcmp(r->container, container_id) == 0) {
            att_set_why(why, why_len, "container %.12s is quarantined (order %s) until lifted",
                        container_id, r->id);
            hit = true;
        } else if (image_id != NULL && r->image[0] != '\0' && strcmp(r->image, image_id) == 0) {
            att_set_why(why, why_len,
                        "image %s is quarantined (order %s, container %.12s) until lifted",
                        image_id, r->id, r->container);
            hit = true;
        }
    }
    pthread_mutex_unlock(&q->lock);
    return hit;
}
