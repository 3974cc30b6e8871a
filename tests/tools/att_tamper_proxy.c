/* SPDX-License-Identifier: Apache-2.0 */
/*
 * att_tamper_proxy: a man-in-the-middle between attest-verify and an agent,
 * for integration tests only. It listens on 127.0.0.1 (libmicrohttpd),
 * forwards every request to --upstream (libcurl) and, for a 200 answer to
 * POST /v1/evidence, changes the evidence as --mode says: the in-transit
 * attacks the verifier must catch (DESIGN §3: the network is not trusted).
 * Enrollment attacks change the 200 answer to GET /v1/identity (swap-ak,
 * unrestricted-ak) or to POST /v1/activate (bad-secret) instead.
 * Evidence is decoded and re-encoded with proto.h and its log rebuilt with
 * imalog.h, TPM structures with tss2-mu, so every mutation is a well-formed
 * message unless the mode is about malformed bytes. Downstream it serves
 * plain HTTP only (point a verifier running with --insecure-dev at it);
 * upstream it speaks http:// or, with --ca (and --cert/--key for mTLS),
 * https:// to agents that require a fleet client certificate. It is not a
 * general proxy: no keep-alive tuning, one request at a time (MHD's internal
 * polling thread).
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cbor.h>
#include <curl/curl.h>
#include <microhttpd.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tpm2_types.h>

#include "attest/buf.h"
#include "attest/digest.h"
#include "attest/imalog.h"
#include "attest/proto.h"
#include "attest/rc.h"
#include "attest/util.h"

#define PROXY_NAME         "att_tamper_proxy"
#define PROXY_MAX_REQ_BODY (1024u * 1024u) /* requests we forward (the agent allows 4 KiB) */
#define PROXY_MAX_ENTRIES  1000000u
#define PROXY_GARBAGE_LEN  256u
#define PROXY_TIMEOUT_S    30L
#define PROXY_URL_MAX      2048

enum mode {
    MODE_PASS = 0,
    MODE_ALTER_ENTRY,
    MODE_DROP_ENTRY,
    MODE_SWAP_ENTRIES,
    MODE_FORGE_ENTRY,
    MODE_SPLICE,
    MODE_TRUNCATE_LOG,
    MODE_REPLAY,
    MODE_FOREIGN,
    MODE_GARBAGE,
    MODE_BAD_CBOR_FIELD,
    MODE_SHORT_ATTEST,
    MODE_SWAP_AK,
    MODE_UNRESTRICTED_AK,
    MODE_IDENTITY_PCR,
    MODE_BAD_SECRET,
};

/* Mode names and how many positional arguments each takes. */
static const struct {
    const char *name;
    enum mode mode;
    int nargs;
} modes[] = {
    {"pass", MODE_PASS, 0},
    {"alter-entry", MODE_ALTER_ENTRY, 1},
    {"drop-entry", MODE_DROP_ENTRY, 1},
    {"swap-entries", MODE_SWAP_ENTRIES, 2},
    {"forge-entry", MODE_FORGE_ENTRY, 1},
    {"splice", MODE_SPLICE, 1},
    {"truncate-log", MODE_TRUNCATE_LOG, 0},
    {"replay", MODE_REPLAY, 0},
    {"foreign", MODE_FOREIGN, 1},
    {"garbage", MODE_GARBAGE, 0},
    {"bad-cbor-field", MODE_BAD_CBOR_FIELD, 0},
    {"short-attest", MODE_SHORT_ATTEST, 0},
    {"swap-ak", MODE_SWAP_AK, 1},
    {"unrestricted-ak", MODE_UNRESTRICTED_AK, 0},
    {"identity-pcr", MODE_IDENTITY_PCR, 1},
    {"bad-secret", MODE_BAD_SECRET, 0},
};

#define PATH_EVIDENCE "/v1/evidence"
#define PATH_IDENTITY "/v1/identity"
#define PATH_ACTIVATE "/v1/activate"

/* The one agent request (method and path) whose 200 answer a mode changes. */
static void mode_target(enum mode m, const char **method, const char **path)
{
    switch (m) {
    case MODE_SWAP_AK:
    case MODE_UNRESTRICTED_AK:
    case MODE_IDENTITY_PCR:
        *method = "GET";
        *path = PATH_IDENTITY;
        return;
    case MODE_BAD_SECRET:
        *method = "POST";
        *path = PATH_ACTIVATE;
        return;
    default:
        *method = "POST";
        *path = PATH_EVIDENCE;
        return;
    }
}

/* TLS towards the agents (upstream and the mode's second agent); all borrowed from argv. */
struct upstream_tls {
    const char *ca_file;   /* fleet CA the agent's certificate must chain to */
    const char *cert_file; /* client certificate (mTLS), NULL: none */
    const char *key_file;
};

/*
 * Proxy state. Only MHD's single internal polling thread touches it after
 * start-up, so it needs no lock. Strings are borrowed from argv.
 */
struct proxy {
    enum mode mode;
    const char *mode_name;
    const char *upstream; /* borrowed */
    const char *foreign;  /* borrowed; the second agent's URL (foreign, swap-ak, splice) */
    struct upstream_tls tls;
    uint64_t n;            /* first entry index argument */
    uint64_t m;            /* second entry index argument (swap) */
    struct att_buf replay; /* owned; the first evidence answer (MODE_REPLAY) */
    bool has_replay;
    unsigned long requests;
};

/* Per-connection upload, allocated on MHD's first callback, freed on completion. */
struct conn {
    struct att_buf body;
    bool too_big;
};

struct sink {
    struct att_buf *b;
    bool too_big;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: " PROXY_NAME " --upstream URL --port-file FILE [--port P]\n"
               "       [--ca FILE [--cert FILE --key FILE]] --mode MODE [ARG...]\n"
               "\n"
               "Test-only HTTP man-in-the-middle in front of an attest-agent. Listens on\n"
               "127.0.0.1:P (default 0: any free port; the port is written to FILE), plain\n"
               "HTTP, forwards every request to URL and tampers with the 200 answer to\n"
               "POST /v1/evidence (evidence modes), GET /v1/identity (swap-ak,\n"
               "unrestricted-ak) or POST /v1/activate (bad-secret).\n"
               "Runs until SIGTERM or SIGINT.\n"
               "\n"
               "upstream TLS (for https:// agent URLs; URL2 of a mode uses it too):\n"
               "  --ca FILE            CA the agent certificates chain to (the fleet CA)\n"
               "  --cert FILE          client certificate for mTLS (e.g. the verifier's)\n"
               "  --key FILE           its key\n"
               "\n"
               "modes:\n"
               "  pass                 forward unchanged\n"
               "  alter-entry N        flip a byte of record N's d-ng digest; fix nothing else\n"
               "  drop-entry N         remove record N (log_count follows)\n"
               "  swap-entries N M     exchange records N and M\n"
               "  forge-entry N        give ima-ng record N another file digest and rebuild it\n"
               "                       whole (template digest too): self-consistent\n"
               "  splice URL2          this agent's quote with the log the agent at URL2 sends\n"
               "                       for the same request\n"
               "  truncate-log         cut the log's bytes in the middle of its last record\n"
               "  replay               answer every evidence request with the first answer\n"
               "  foreign URL2         send the evidence request to the agent at URL2 instead\n"
               "  garbage              answer 200 with random bytes that are not CBOR\n"
               "  bad-cbor-field       re-encode with \"attest\" as a 3-byte text string\n"
               "  short-attest         re-encode with \"attest\" as a 3-byte byte string\n"
               "  swap-ak URL2         identity: replace ak_pub with the AK of the agent at URL2\n"
               "  unrestricted-ak      identity: clear the restricted bit of the AK's attributes\n"
               "  identity-pcr N       identity: declare PCR N as the measurement PCR\n"
               "  bad-secret           activate: flip a byte of the recovered secret\n"
               "\n"
               "Exit 0 after a signal, 1 if it cannot start, 2 on bad arguments.\n");
}

static size_t on_data(char *p, size_t size, size_t n, void *user)
{
    struct sink *s = user;

    if (att_buf_append(s->b, p, size * n) != ATT_OK) {
        s->too_big = true;
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    }
    return size * n;
}

/*
 * One request to url with libcurl. body == NULL makes a GET (or a bodiless
 * request with method). On success *status holds the HTTP status and ctype
 * the answer's content type ("" if none, truncated to ctype_len).
 */
static att_rc fetch(const struct upstream_tls *tls, const char *url, const char *method,
                    const uint8_t *body, size_t body_len, struct att_buf *resp, long *status,
                    char *ctype, size_t ctype_len, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_IO;
    CURL *c = NULL;
    struct curl_slist *hdrs = NULL;
    struct sink s = {.b = resp, .too_big = false};
    char *ct = NULL;
    CURLcode cc;

    *status = 0;
    ctype[0] = '\0';
    c = curl_easy_init();
    if (c == NULL) {
        (void)snprintf(why, why_len, "cannot initialise libcurl");
        return ATT_ERR_NOMEM;
    }
    (void)curl_easy_setopt(c, CURLOPT_URL, url);
    (void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (tls->ca_file != NULL) {
        /* Like att_httpc_setup(): peer and host name verified, only this CA. */
        (void)curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        (void)curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
        (void)curl_easy_setopt(c, CURLOPT_CAINFO, tls->ca_file);
        (void)curl_easy_setopt(c, CURLOPT_CAPATH, (const char *)NULL);
    }
    if (tls->cert_file != NULL) {
        (void)curl_easy_setopt(c, CURLOPT_SSLCERT, tls->cert_file);
        (void)curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
        (void)curl_easy_setopt(c, CURLOPT_SSLKEY, tls->key_file);
        (void)curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
    }
    (void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    (void)curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
    (void)curl_easy_setopt(c, CURLOPT_TIMEOUT, PROXY_TIMEOUT_S);
    (void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    (void)curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    if (body != NULL) {
        hdrs = curl_slist_append(hdrs, "Content-Type: application/cbor");
        if (hdrs == NULL) {
            (void)snprintf(why, why_len, "out of memory");
            rc = ATT_ERR_NOMEM;
            goto out;
        }
        (void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        (void)curl_easy_setopt(c, CURLOPT_POST, 1L);
        (void)curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)body);
        (void)curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    if (strcmp(method, "HEAD") == 0) {
        (void)curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0) {
        (void)curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        (void)snprintf(why, why_len, "%.300s: %s", url,
                       s.too_big ? "answer too large" : curl_easy_strerror(cc));
        rc = s.too_big ? ATT_ERR_PARSE : ATT_ERR_IO;
        goto out;
    }
    (void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != NULL) {
        (void)snprintf(ctype, ctype_len, "%s", ct);
    }
    rc = ATT_OK;
out:
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    return rc;
}

/*
 * Split a binary IMA log into its records. On ATT_OK, *offs (malloc'ed,
 * caller frees) holds count+1 offsets: record i is [offs[i], offs[i+1]).
 */
static att_rc record_offsets(const uint8_t *log, size_t len, size_t **offs, size_t *count,
                             char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_ima_entry e;
    size_t *o = NULL;
    size_t cap = 0;
    size_t n = 0;
    size_t pos = 0;
    size_t used = 0;

    memset(&e, 0, sizeof(e));
    for (;;) {
        if (n + 1 >= cap) {
            size_t ncap = cap != 0 ? cap * 2 : 16;
            size_t *no = NULL;

            if (ncap > PROXY_MAX_ENTRIES + 1) {
                (void)snprintf(why, why_len, "log has more than %u records", PROXY_MAX_ENTRIES);
                rc = ATT_ERR_PARSE;
                goto out;
            }
            no = realloc(o, ncap * sizeof(*o));
            if (no == NULL) {
                rc = ATT_ERR_NOMEM;
                goto out;
            }
            o = no;
            cap = ncap;
        }
        o[n] = pos;
        if (pos == len) {
            break;
        }
        rc = att_ima_entry_parse(log + pos, len - pos, &e, &used, why, why_len);
        if (rc != ATT_OK) {
            goto out;
        }
        att_ima_entry_cleanup(&e);
        pos += used;
        n++;
    }
    *offs = o;
    o = NULL; /* transferred to caller */
    *count = n;
    rc = ATT_OK;
out:
    free(o);
    return rc;
}

/*
 * Rebuild ev->log from its parsed records with the mode's change (alter,
 * drop or swap), using imalog.h for both directions. Only the log (and, for
 * drop, log_count) changes: the quote and the PCR values stay as the TPM
 * signed them.
 */
static att_rc tamper_log_records(const struct proxy *p, struct att_evidence *ev, char *why,
                                 size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_ima_log log;
    struct att_buf nb;
    uint8_t *nlog = NULL;
    size_t nlen = 0;
    size_t i;
    size_t n = (size_t)p->n;
    size_t m = (size_t)p->m;

    att_ima_log_init(&log);
    att_buf_init(&nb, ATT_PROTO_MAX_BODY);
    rc = att_ima_log_parse(ev->log, ev->log_len, PROXY_MAX_ENTRIES, &log, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    if (p->n >= log.count || (p->mode == MODE_SWAP_ENTRIES && p->m >= log.count)) {
        (void)snprintf(why, why_len, "the log has %zu records, there is no record %llu", log.count,
                       (unsigned long long)(p->n >= log.count ? p->n : p->m));
        rc = ATT_ERR_INVALID_ARG;
        goto out;
    }
    if (p->mode == MODE_ALTER_ENTRY) {
        struct att_ima_entry *e = &log.entries[n];
        uint32_t dng_len = 0;

        /* data = u32 len(d-ng) || d-ng || ...; flip the last byte of the d-ng digest */
        if (e->data_len < 4) {
            (void)snprintf(why, why_len, "record %zu has no template fields", n);
            rc = ATT_ERR_PARSE;
            goto out;
        }
        dng_len = (uint32_t)e->data[0] | (uint32_t)e->data[1] << 8 | (uint32_t)e->data[2] << 16 |
                  (uint32_t)e->data[3] << 24; /* little-endian (imalog.h) */
        if (dng_len == 0 || dng_len > e->data_len - 4) {
            (void)snprintf(why, why_len, "record %zu has a bad d-ng length", n);
            rc = ATT_ERR_PARSE;
            goto out;
        }
        e->data[4 + dng_len - 1] ^= 0x01u;
        fprintf(stderr, PROXY_NAME ": flipped the last d-ng digest byte of record %zu of %zu\n", n,
                log.count);
    } else if (p->mode == MODE_SWAP_ENTRIES) {
        struct att_ima_entry tmp = log.entries[n];

        log.entries[n] = log.entries[m];
        log.entries[m] = tmp;
        fprintf(stderr, PROXY_NAME ": swapped records %zu and %zu of %zu\n", n, m, log.count);
    } else if (p->mode == MODE_DROP_ENTRY) {
        fprintf(stderr, PROXY_NAME ": dropped record %zu of %zu\n", n, log.count);
    } else if (p->mode == MODE_FORGE_ENTRY) {
        struct att_ima_entry *e = &log.entries[n];
        struct att_ima_entry forged;
        uint8_t d[ATT_SHA256_LEN];

        if (e->tmpl != ATT_IMA_TEMPLATE_NG || e->digest_len != ATT_SHA256_LEN) {
            (void)snprintf(why, why_len, "record %zu is not an ima-ng sha256 record", n);
            rc = ATT_ERR_INVALID_ARG;
            goto out;
        }
        memcpy(d, e->digest, sizeof(d));
        d[0] ^= 0x01u;
        memset(&forged, 0, sizeof(forged));
        rc = att_ima_entry_build_ng(&forged, e->pcr, d, e->name);
        if (rc != ATT_OK) {
            (void)snprintf(why, why_len, "cannot rebuild record %zu: %s", n, att_rc_str(rc));
            goto out;
        }
        att_ima_entry_cleanup(e);
        *e = forged;
        fprintf(stderr, PROXY_NAME ": forged record %zu of %zu (new digest, new template digest)\n",
                n, log.count);
    }
    for (i = 0; i < log.count; i++) {
        if (p->mode == MODE_DROP_ENTRY && i == n) {
            continue;
        }
        rc = att_ima_entry_encode(&log.entries[i], &nb);
        if (rc != ATT_OK) {
            (void)snprintf(why, why_len, "cannot re-encode record %zu: %s", i, att_rc_str(rc));
            goto out;
        }
    }
    if (p->mode == MODE_DROP_ENTRY && ev->log_count > ev->log_offset) {
        ev->log_count--; /* a careful attacker keeps the counts consistent */
    }
    nlog = att_buf_steal(&nb, &nlen);
    free(ev->log);
    ev->log = nlog;
    ev->log_len = nlen;
    nlog = NULL; /* transferred to ev */
    rc = ATT_OK;
out:
    att_buf_cleanup(&nb);
    att_ima_log_cleanup(&log);
    return rc;
}

/* Cut ev->log in the middle of its last record (so it no longer parses). */
static att_rc tamper_truncate(struct att_evidence *ev, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    size_t *offs = NULL;
    size_t count = 0;
    size_t cut;

    rc = record_offsets(ev->log, ev->log_len, &offs, &count, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    if (count == 0) {
        (void)snprintf(why, why_len, "the log is empty: nothing to truncate");
        rc = ATT_ERR_INVALID_ARG;
        goto out;
    }
    cut = offs[count - 1] + (offs[count] - offs[count - 1]) / 2;
    fprintf(stderr, PROXY_NAME ": truncated the log from %zu to %zu bytes (inside record %zu)\n",
            ev->log_len, cut, count - 1);
    ev->log_len = cut;
    rc = ATT_OK;
out:
    free(offs);
    return rc;
}

/* Keep only the first 3 bytes of "attest": well-formed CBOR, a TPMS_ATTEST that cannot parse. */
static att_rc tamper_short_attest(struct att_evidence *ev)
{
    att_rc rc = ATT_ERR_INTERNAL;
    uint8_t *cut = NULL;

    cut = calloc(1, 3);
    if (cut == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    memcpy(cut, ev->attest, ev->attest_len < 3 ? ev->attest_len : 3);
    free(ev->attest);
    ev->attest = cut;
    ev->attest_len = 3;
    cut = NULL; /* transferred to ev */
    fprintf(stderr, PROXY_NAME ": cut \"attest\" to 3 bytes\n");
    rc = ATT_OK;
out:
    free(cut);
    return rc;
}

/*
 * Re-encode the CBOR map in @p in with the value of "attest" replaced by a
 * 3-byte text string: well-formed CBOR whose field has the wrong type. Done
 * with libcbor directly because proto.h can only write the right type.
 */
static att_rc tamper_bad_field(const uint8_t *in, size_t len, struct att_buf *out, char *why,
                               size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct cbor_load_result res;
    cbor_item_t *root = NULL;
    cbor_item_t *nmap = NULL;
    cbor_item_t *bad = NULL;
    struct cbor_pair *pairs;
    unsigned char *ser = NULL;
    size_t ser_cap = 0;
    size_t ser_len;
    size_t i;
    size_t n;
    bool replaced = false;

    root = cbor_load(in, len, &res);
    if (root == NULL || !cbor_isa_map(root)) {
        (void)snprintf(why, why_len, "the agent's evidence is not a CBOR map");
        rc = ATT_ERR_PARSE;
        goto out;
    }
    n = cbor_map_size(root);
    pairs = cbor_map_handle(root);
    nmap = cbor_new_definite_map(n);
    bad = cbor_build_string("abc");
    if (nmap == NULL || bad == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    for (i = 0; i < n; i++) {
        struct cbor_pair np = pairs[i];

        if (cbor_isa_string(np.key) && cbor_string_is_definite(np.key) &&
            cbor_string_length(np.key) == 6 &&
            memcmp(cbor_string_handle(np.key), "attest", 6) == 0) {
            np.value = bad;
            replaced = true;
        }
        if (!cbor_map_add(nmap, np)) { /* increfs key and value */
            rc = ATT_ERR_NOMEM;
            goto out;
        }
    }
    if (!replaced) {
        (void)snprintf(why, why_len, "the agent's evidence has no \"attest\" field");
        rc = ATT_ERR_PARSE;
        goto out;
    }
    ser_len = cbor_serialize_alloc(nmap, &ser, &ser_cap);
    if (ser_len == 0 || ser == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    rc = att_buf_append(out, ser, ser_len);
    if (rc != ATT_OK) {
        goto out;
    }
    fprintf(stderr, PROXY_NAME ": replaced \"attest\" with the text string \"abc\"\n");
    rc = ATT_OK;
out:
    free(ser);
    if (bad != NULL) {
        cbor_decref(&bad);
    }
    if (nmap != NULL) {
        cbor_decref(&nmap);
    }
    if (root != NULL) {
        cbor_decref(&root);
    }
    return rc;
}

/*
 * Clear TPMA_OBJECT_RESTRICTED in the marshalled TPM2B_PUBLIC *pub (replaced
 * by a new allocation): a signing key that could sign any digest, including
 * a forged TPMS_ATTEST. The rest of the public area stays as the TPM made it.
 */
static att_rc clear_restricted(uint8_t **pub, size_t *len, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    TPM2B_PUBLIC tp;
    uint8_t *nb = NULL;
    size_t off = 0;
    TSS2_RC trc;

    memset(&tp, 0, sizeof(tp));
    trc = Tss2_MU_TPM2B_PUBLIC_Unmarshal(*pub, *len, &off, &tp);
    if (trc != TSS2_RC_SUCCESS || off != *len) {
        (void)snprintf(why, why_len, "the agent's ak_pub is not a TPM2B_PUBLIC (0x%08x)",
                       (unsigned)trc);
        rc = ATT_ERR_PARSE;
        goto out;
    }
    if ((tp.publicArea.objectAttributes & TPMA_OBJECT_RESTRICTED) == 0) {
        (void)snprintf(why, why_len, "the agent's AK is not restricted to begin with");
        rc = ATT_ERR_INVALID_ARG;
        goto out;
    }
    tp.publicArea.objectAttributes &= ~(TPMA_OBJECT)TPMA_OBJECT_RESTRICTED;
    nb = malloc(sizeof(tp));
    if (nb == NULL) {
        rc = ATT_ERR_NOMEM;
        goto out;
    }
    off = 0;
    trc = Tss2_MU_TPM2B_PUBLIC_Marshal(&tp, nb, sizeof(tp), &off);
    if (trc != TSS2_RC_SUCCESS) {
        (void)snprintf(why, why_len, "cannot marshal the changed AK (0x%08x)", (unsigned)trc);
        rc = ATT_ERR_INTERNAL;
        goto out;
    }
    fprintf(stderr, PROXY_NAME ": cleared the restricted bit of the AK (attributes 0x%08x)\n",
            (unsigned)tp.publicArea.objectAttributes);
    free(*pub);
    *pub = nb;
    *len = off;
    nb = NULL; /* transferred to the caller */
    rc = ATT_OK;
out:
    free(nb);
    return rc;
}

/* Fetch the identity of the agent at @p base (MODE_SWAP_AK's second agent). */
static att_rc fetch_identity(const struct proxy *p, const char *base, struct att_identity *id,
                             char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_buf raw;
    char url[PROXY_URL_MAX];
    char ctype[128];
    char detail[400] = "";
    long status = 0;

    att_buf_init(&raw, ATT_PROTO_MAX_BODY);
    if (snprintf(url, sizeof(url), "%s" PATH_IDENTITY, base) >= (int)sizeof(url)) {
        (void)snprintf(why, why_len, "URL too long");
        rc = ATT_ERR_INVALID_ARG;
        goto out;
    }
    rc = fetch(&p->tls, url, "GET", NULL, 0, &raw, &status, ctype, sizeof(ctype), why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    if (status != 200) {
        (void)snprintf(why, why_len, "%.300s answered HTTP %ld", url, status);
        rc = ATT_ERR_IO;
        goto out;
    }
    rc = att_identity_decode(raw.data != NULL ? raw.data : (const uint8_t *)"", raw.len, id, detail,
                             sizeof(detail));
    if (rc != ATT_OK) {
        (void)snprintf(why, why_len, "identity from %.300s does not decode: %s", url, detail);
        goto out;
    }
    rc = ATT_OK;
out:
    att_buf_cleanup(&raw);
    return rc;
}

/*
 * Change the agent's identity answer: its AK replaced by another TPM's
 * (swap-ak) or made unrestricted (unrestricted-ak). The EK and its
 * certificate stay genuine, which is what makes these attacks interesting.
 */
static att_rc tamper_identity(const struct proxy *p, const uint8_t *in, size_t len,
                              struct att_buf *out, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_identity id;
    struct att_identity other;

    memset(&id, 0, sizeof(id));
    memset(&other, 0, sizeof(other));
    rc = att_identity_decode(in, len, &id, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    if (p->mode == MODE_IDENTITY_PCR) {
        fprintf(stderr, PROXY_NAME ": declared PCR %llu instead of %u as the measurement PCR\n",
                (unsigned long long)p->n, id.meas_pcr);
        id.meas_pcr = (uint32_t)p->n;
    } else if (p->mode == MODE_SWAP_AK) {
        rc = fetch_identity(p, p->foreign, &other, why, why_len);
        if (rc != ATT_OK) {
            goto out;
        }
        if (other.ak_pub_len == id.ak_pub_len &&
            memcmp(other.ak_pub, id.ak_pub, id.ak_pub_len) == 0) {
            (void)snprintf(why, why_len, "the agent at %s has the same AK: nothing to swap",
                           p->foreign);
            rc = ATT_ERR_INVALID_ARG;
            goto out;
        }
        free(id.ak_pub);
        id.ak_pub = other.ak_pub;
        id.ak_pub_len = other.ak_pub_len;
        other.ak_pub = NULL; /* transferred to id */
        other.ak_pub_len = 0;
        fprintf(stderr, PROXY_NAME ": replaced ak_pub with the AK of %s (EK unchanged)\n",
                p->foreign);
    } else {
        rc = clear_restricted(&id.ak_pub, &id.ak_pub_len, why, why_len);
        if (rc != ATT_OK) {
            goto out;
        }
    }
    rc = att_identity_encode(&id, out);
    if (rc != ATT_OK) {
        (void)snprintf(why, why_len, "cannot re-encode the identity: %s", att_rc_str(rc));
        goto out;
    }
    rc = ATT_OK;
out:
    att_identity_cleanup(&id);
    att_identity_cleanup(&other);
    return rc;
}

/* Flip a bit of the secret the agent's TPM recovered with ActivateCredential. */
static att_rc tamper_activate(const uint8_t *in, size_t len, struct att_buf *out, char *why,
                              size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_activate_response ar;

    memset(&ar, 0, sizeof(ar));
    rc = att_activate_response_decode(in, len, &ar, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    if (ar.secret == NULL || ar.secret_len == 0) {
        (void)snprintf(why, why_len, "the activation answer has an empty secret");
        rc = ATT_ERR_PARSE;
        goto out;
    }
    ar.secret[ar.secret_len - 1] ^= 0x01u;
    fprintf(stderr, PROXY_NAME ": flipped the last byte of the %zu-byte activation secret\n",
            ar.secret_len);
    rc = att_activate_response_encode(&ar, out);
    if (rc != ATT_OK) {
        (void)snprintf(why, why_len, "cannot re-encode the activation answer: %s", att_rc_str(rc));
        goto out;
    }
    rc = ATT_OK;
out:
    att_activate_response_cleanup(&ar);
    return rc;
}

/*
 * Turn the agent's 200 answer @p in into what the verifier gets,
 * appended to @p out: the evidence, identity or activation answer, as
 * mode_target() says. Modes that keep the message well-formed decode and
 * re-encode it with proto.h.
 */
/* Put the log of @p other (the second agent's evidence) into @p ev, under ev's quote. */
static att_rc tamper_splice(struct att_evidence *ev, const struct att_buf *other, char *why,
                            size_t why_len)
{
    struct att_evidence o;
    att_rc rc;

    memset(&o, 0, sizeof(o));
    if (other == NULL || other->len == 0) {
        (void)snprintf(why, why_len, "no evidence from the second agent");
        return ATT_ERR_INVALID_ARG;
    }
    rc = att_evidence_decode(other->data, other->len, &o, why, why_len);
    if (rc != ATT_OK) {
        return rc;
    }
    free(ev->log);
    ev->log = o.log;
    ev->log_len = o.log_len;
    o.log = NULL;
    ev->log_offset = o.log_offset;
    ev->log_count = o.log_count;
    fprintf(stderr, PROXY_NAME ": spliced the second agent's log (%zu bytes, entries %llu..%llu)\n",
            ev->log_len, (unsigned long long)ev->log_offset, (unsigned long long)ev->log_count);
    att_evidence_cleanup(&o);
    return ATT_OK;
}

static att_rc tamper(const struct proxy *p, const uint8_t *in, size_t len,
                     const struct att_buf *other, struct att_buf *out, char *why, size_t why_len)
{
    att_rc rc = ATT_ERR_INTERNAL;
    struct att_evidence ev;
    uint8_t garbage[PROXY_GARBAGE_LEN];

    memset(&ev, 0, sizeof(ev));
    switch (p->mode) {
    case MODE_PASS:
    case MODE_REPLAY:
    case MODE_FOREIGN:
        return att_buf_append(out, in, len);
    case MODE_GARBAGE:
        rc = att_random_bytes(garbage, sizeof(garbage));
        if (rc != ATT_OK) {
            return rc;
        }
        /* 0xff is a "break" outside an indefinite item: never valid CBOR at the top */
        garbage[0] = 0xffu;
        fprintf(stderr, PROXY_NAME ": answering with %u random bytes\n", PROXY_GARBAGE_LEN);
        return att_buf_append(out, garbage, sizeof(garbage));
    case MODE_BAD_CBOR_FIELD:
        return tamper_bad_field(in, len, out, why, why_len);
    case MODE_SWAP_AK:
    case MODE_UNRESTRICTED_AK:
    case MODE_IDENTITY_PCR:
        return tamper_identity(p, in, len, out, why, why_len);
    case MODE_BAD_SECRET:
        return tamper_activate(in, len, out, why, why_len);
    case MODE_ALTER_ENTRY:
    case MODE_DROP_ENTRY:
    case MODE_SWAP_ENTRIES:
    case MODE_FORGE_ENTRY:
    case MODE_SPLICE:
    case MODE_TRUNCATE_LOG:
    case MODE_SHORT_ATTEST:
        break;
    }
    rc = att_evidence_decode(in, len, &ev, why, why_len);
    if (rc != ATT_OK) {
        goto out;
    }
    if (p->mode == MODE_TRUNCATE_LOG) {
        rc = tamper_truncate(&ev, why, why_len);
    } else if (p->mode == MODE_SHORT_ATTEST) {
        rc = tamper_short_attest(&ev);
    } else if (p->mode == MODE_SPLICE) {
        rc = tamper_splice(&ev, other, why, why_len);
    } else {
        rc = tamper_log_records(p, &ev, why, why_len);
    }
    if (rc != ATT_OK) {
        goto out;
    }
    rc = att_evidence_encode(&ev, out);
    if (rc != ATT_OK) {
        (void)snprintf(why, why_len, "cannot re-encode the evidence: %s", att_rc_str(rc));
        goto out;
    }
    rc = ATT_OK;
out:
    att_evidence_cleanup(&ev);
    return rc;
}

static enum MHD_Result send_bytes(struct MHD_Connection *c, unsigned status, const char *type,
                                  const uint8_t *data, size_t len)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)data, MHD_RESPMEM_MUST_COPY);
    if (r == NULL) {
        return MHD_NO;
    }
    if (type != NULL && type[0] != '\0') {
        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    }
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* A 502 with the agent API's CBOR error body, so the verifier prints our reason. */
static enum MHD_Result send_error(struct MHD_Connection *c, const char *msg)
{
    struct att_buf b;
    char text[600];
    enum MHD_Result ret;

    (void)snprintf(text, sizeof(text), "tamper proxy: %s", msg);
    fprintf(stderr, PROXY_NAME ": %s\n", text);
    att_buf_init(&b, 4096);
    if (att_error_encode(text, &b) != ATT_OK) {
        att_buf_cleanup(&b);
        return send_bytes(c, MHD_HTTP_BAD_GATEWAY, "text/plain", (const uint8_t *)text,
                          strlen(text));
    }
    ret = send_bytes(c, MHD_HTTP_BAD_GATEWAY, "application/cbor", b.data, b.len);
    att_buf_cleanup(&b);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct conn *r = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (r != NULL) {
        att_buf_cleanup(&r->body);
        free(r);
        *con_cls = NULL;
    }
}

/* Forward one complete request and answer it (tampered where the mode says). */
static enum MHD_Result proxy_request(struct proxy *p, struct MHD_Connection *c, const char *url,
                                     const char *method, const struct conn *r)
{
    struct att_buf resp;
    struct att_buf out;
    struct att_buf other; /* the second agent's answer (splice) */
    char target[PROXY_URL_MAX];
    char ctype[128];
    char why[512] = "";
    const char *base = p->upstream;
    const uint8_t *body = NULL;
    const char *t_method = NULL;
    const char *t_path = NULL;
    long status = 0;
    bool is_evidence = strcmp(url, PATH_EVIDENCE) == 0 && strcmp(method, "POST") == 0;
    bool is_target;
    enum MHD_Result ret;
    att_rc rc;

    mode_target(p->mode, &t_method, &t_path);
    is_target = strcmp(url, t_path) == 0 && strcmp(method, t_method) == 0;

    att_buf_init(&resp, ATT_PROTO_MAX_BODY);
    att_buf_init(&out, ATT_PROTO_MAX_BODY);
    att_buf_init(&other, ATT_PROTO_MAX_BODY);
    p->requests++;
    fprintf(stderr, PROXY_NAME ": request %lu: %s %s (mode %s)\n", p->requests, method, url,
            p->mode_name);
    if (is_evidence && p->mode == MODE_REPLAY && p->has_replay) {
        fprintf(stderr, PROXY_NAME ": replaying the first evidence answer (%zu bytes)\n",
                p->replay.len);
        ret = send_bytes(c, 200, "application/cbor", p->replay.data, p->replay.len);
        goto out;
    }
    if (is_evidence && p->mode == MODE_FOREIGN) {
        base = p->foreign;
        fprintf(stderr, PROXY_NAME ": sending the evidence request to the foreign agent %s\n",
                base);
    }
    if (snprintf(target, sizeof(target), "%s%s", base, url) >= (int)sizeof(target)) {
        ret = send_error(c, "URL too long");
        goto out;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        body = r->body.data != NULL ? r->body.data : (const uint8_t *)"";
    }
    rc = fetch(&p->tls, target, method, body, r->body.len, &resp, &status, ctype, sizeof(ctype),
               why, sizeof(why));
    if (rc != ATT_OK) {
        ret = send_error(c, why);
        goto out;
    }
    if (!is_target || status != 200) {
        ret = send_bytes(c, (unsigned)status, ctype, resp.data, resp.len);
        goto out;
    }
    if (p->mode == MODE_SPLICE) {
        long status2 = 0;
        char ctype2[128];

        /* the same request (same nonce) to the second agent, for its log */
        if (snprintf(target, sizeof(target), "%s%s", p->foreign, url) >= (int)sizeof(target) ||
            fetch(&p->tls, target, method, body, r->body.len, &other, &status2, ctype2,
                  sizeof(ctype2), why, sizeof(why)) != ATT_OK ||
            status2 != 200) {
            ret = send_error(c, why[0] ? why : "the second agent did not answer 200");
            goto out;
        }
    }
    rc = tamper(p, resp.data != NULL ? resp.data : (const uint8_t *)"", resp.len, &other, &out, why,
                sizeof(why));
    if (rc != ATT_OK) {
        char msg[600];

        (void)snprintf(msg, sizeof(msg), "mode %s failed: %s", p->mode_name,
                       why[0] ? why : att_rc_str(rc));
        ret = send_error(c, msg);
        goto out;
    }
    if (p->mode == MODE_REPLAY && !p->has_replay) {
        if (att_buf_append(&p->replay, out.data, out.len) != ATT_OK) {
            ret = send_error(c, "cannot keep the evidence for replay");
            goto out;
        }
        p->has_replay = true;
        fprintf(stderr, PROXY_NAME ": kept the first evidence answer for replay\n");
    }
    ret = send_bytes(c, 200, "application/cbor", out.data, out.len);
out:
    att_buf_cleanup(&resp);
    att_buf_cleanup(&out);
    att_buf_cleanup(&other);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    struct proxy *p = cls;
    struct conn *r = *con_cls;

    (void)version;
    if (r == NULL) {
        r = calloc(1, sizeof(*r));
        if (r == NULL) {
            return MHD_NO;
        }
        att_buf_init(&r->body, PROXY_MAX_REQ_BODY);
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (!r->too_big && att_buf_append(&r->body, upload, *upload_size) != ATT_OK) {
            r->too_big = true;
            att_buf_cleanup(&r->body);
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->too_big) {
        return send_error(c, "request body too large to forward");
    }
    return proxy_request(p, c, url, method, r);
}

static int parse_index(const char *s, uint64_t *out)
{
    if (att_parse_u64(s, PROXY_MAX_ENTRIES, out) != ATT_OK) {
        fprintf(stderr, PROXY_NAME ": \"%s\" is not a record index (0..%u)\n", s,
                PROXY_MAX_ENTRIES);
        return -1;
    }
    return 0;
}

/* An agent URL we can reach: http://, or https:// when --ca says whom to trust. */
static bool is_agent_url(const struct proxy *p, const char *s, const char *what)
{
    bool is_http = strncmp(s, "http://", 7) == 0 && s[7] != '\0';
    bool is_https = strncmp(s, "https://", 8) == 0 && s[8] != '\0';

    if ((!is_http && !is_https) || strlen(s) >= PROXY_URL_MAX / 2) {
        fprintf(stderr, PROXY_NAME ": %s \"%s\" is not an http:// or https:// URL\n", what, s);
        return false;
    }
    if (is_https && p->tls.ca_file == NULL) {
        fprintf(stderr,
                PROXY_NAME ": %s \"%s\" is https://: give --ca (and --cert/--key "
                           "for mTLS)\n",
                what, s);
        return false;
    }
    return true;
}

/*
 * Parse argv into p and the listen port. Returns 0 to run, 1 for --help, and
 * -1 on bad usage after printing the reason.
 */
static int parse_args(int argc, char **argv, struct proxy *p, uint32_t *port,
                      const char **port_file)
{
    static const struct option opts[] = {{"upstream", required_argument, NULL, 'u'},
                                         {"port-file", required_argument, NULL, 'f'},
                                         {"port", required_argument, NULL, 'p'},
                                         {"mode", required_argument, NULL, 'm'},
                                         {"ca", required_argument, NULL, 'a'},
                                         {"cert", required_argument, NULL, 'c'},
                                         {"key", required_argument, NULL, 'k'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *mode = NULL;
    size_t i;
    int nargs = -1;
    int c;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            p->upstream = optarg;
            break;
        case 'f':
            *port_file = optarg;
            break;
        case 'p':
            if (att_parse_u32(optarg, 65535, port) != ATT_OK) {
                fprintf(stderr, PROXY_NAME ": --port \"%s\" is not a port number\n", optarg);
                return -1;
            }
            break;
        case 'm':
            mode = optarg;
            break;
        case 'a':
            p->tls.ca_file = optarg;
            break;
        case 'c':
            p->tls.cert_file = optarg;
            break;
        case 'k':
            p->tls.key_file = optarg;
            break;
        case 'h':
            return 1;
        default:
            return -1;
        }
    }
    if (p->upstream == NULL || *port_file == NULL || mode == NULL) {
        fprintf(stderr, PROXY_NAME ": --upstream, --port-file and --mode are required\n");
        return -1;
    }
    if ((p->tls.cert_file == NULL) != (p->tls.key_file == NULL)) {
        fprintf(stderr, PROXY_NAME ": --cert and --key go together\n");
        return -1;
    }
    if (p->tls.cert_file != NULL && p->tls.ca_file == NULL) {
        fprintf(stderr, PROXY_NAME ": --cert needs --ca (the CA of the agent's certificate)\n");
        return -1;
    }
    if (!is_agent_url(p, p->upstream, "--upstream")) {
        return -1;
    }
    for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (strcmp(mode, modes[i].name) == 0) {
            p->mode = modes[i].mode;
            p->mode_name = modes[i].name;
            nargs = modes[i].nargs;
        }
    }
    if (nargs < 0) {
        fprintf(stderr, PROXY_NAME ": unknown mode \"%s\"\n", mode);
        return -1;
    }
    if (argc - optind != nargs) {
        fprintf(stderr, PROXY_NAME ": mode %s takes %d argument%s, got %d\n", mode, nargs,
                nargs == 1 ? "" : "s", argc - optind);
        return -1;
    }
    if (p->mode == MODE_FOREIGN || p->mode == MODE_SWAP_AK || p->mode == MODE_SPLICE) {
        p->foreign = argv[optind];
        if (!is_agent_url(p, p->foreign, p->mode_name)) {
            return -1;
        }
    } else if (nargs >= 1 && parse_index(argv[optind], &p->n) != 0) {
        return -1;
    }
    if (nargs == 2 && parse_index(argv[optind + 1], &p->m) != 0) {
        return -1;
    }
    if (p->mode == MODE_SWAP_ENTRIES && p->n == p->m) {
        fprintf(stderr, PROXY_NAME ": swap-entries needs two different records\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct proxy p;
    struct MHD_Daemon *d = NULL;
    struct sockaddr_in sa;
    const union MHD_DaemonInfo *info;
    const char *port_file = NULL;
    sigset_t sigs;
    char line[16];
    uint32_t port = 0;
    int sig = 0;
    int ret = 1;
    int rc;
    int n;
    bool curl_up = false;

    memset(&p, 0, sizeof(p));
    /* tss2-mu logs every structure it refuses; the proxy reports its own errors. */
    (void)setenv("TSS2_LOG", "all+none", 0);
    att_buf_init(&p.replay, ATT_PROTO_MAX_BODY);
    rc = parse_args(argc, argv, &p, &port, &port_file);
    if (rc != 0) {
        usage(rc > 0 ? stdout : stderr);
        ret = rc > 0 ? 0 : 2;
        goto out;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, PROXY_NAME ": cannot initialise libcurl\n");
        goto out;
    }
    curl_up = true;
    /* Block the stop signals before MHD's thread starts, so only sigwait() sees them. */
    (void)sigemptyset(&sigs);
    (void)sigaddset(&sigs, SIGTERM);
    (void)sigaddset(&sigs, SIGINT);
    (void)sigaddset(&sigs, SIGPIPE);
    if (pthread_sigmask(SIG_BLOCK, &sigs, NULL) != 0) {
        goto out;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, handle,
                         &p, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                         MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, PROXY_NAME ": cannot listen on 127.0.0.1:%u\n", (unsigned)port);
        goto out;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || info->port == 0) {
        fprintf(stderr, PROXY_NAME ": cannot learn the listening port\n");
        goto out;
    }
    n = snprintf(line, sizeof(line), "%u\n", (unsigned)info->port);
    if (att_file_write_atomic(port_file, line, (size_t)n) != ATT_OK) {
        fprintf(stderr, PROXY_NAME ": cannot write %s\n", port_file);
        goto out;
    }
    fprintf(stderr, PROXY_NAME ": listening on 127.0.0.1:%u, upstream %s, mode %s\n",
            (unsigned)info->port, p.upstream, p.mode_name);
    (void)sigdelset(&sigs, SIGPIPE);
    do {
        if (sigwait(&sigs, &sig) != 0) {
            goto out;
        }
    } while (sig != SIGTERM && sig != SIGINT);
    MHD_stop_daemon(d); /* joins MHD's thread: p is ours alone again */
    d = NULL;
    fprintf(stderr, PROXY_NAME ": stopping after %lu request%s\n", p.requests,
            p.requests == 1 ? "" : "s");
    ret = 0;
out:
    if (d != NULL) {
        MHD_stop_daemon(d);
    }
    if (curl_up) {
        curl_global_cleanup();
    }
    att_buf_cleanup(&p.replay);
    return ret;
}
