/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Write the seed corpora of the fuzz targets that need encoded or signed
 * inputs (order, activate, credential) and of the text ones added with them
 * (netstats, storage_json, agent_config, verifier_config, procmem_elf), with
 * the project's own encoders and the committed test data; nothing is
 * downloaded. Built on demand (target fuzz-seedgen, not part of "all"):
 *   fuzz-seedgen tests/fuzz/corpus tests/data
 * It rewrites only the files it names below; crash-* seeds (found crashes
 * kept as regression tests) and the other targets' seeds are left alone.
 * ECDSA signatures are randomised, so envelopes differ from run to run.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attest/buf.h"
#include "attest/imalog.h"
#include "attest/credential.h"
#include "attest/proto.h"
#include "attest/quote.h"
#include "attest/sigkey.h"
#include "attest/util.h"
#include "order_key.h"

static const char *out_dir;
static int failed;

static void put(const char *target, const char *name, const void *data, size_t len)
{
    char path[4096];

    (void)snprintf(path, sizeof(path), "%s/%s", out_dir, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "seedgen: cannot create %s\n", path);
        failed = 1;
        return;
    }
    (void)snprintf(path, sizeof(path), "%s/%s/%s", out_dir, target, name);
    if (att_file_write_atomic(path, data, len) != ATT_OK || chmod(path, 0644) != 0) {
        fprintf(stderr, "seedgen: cannot write %s\n", path);
        failed = 1;
    }
}

static void put_str(const char *target, const char *name, const char *text)
{
    put(target, name, text, strlen(text));
}

static void put_buf(const char *target, const char *name, const struct att_buf *b)
{
    put(target, name, b->data, b->len);
}

static int must(att_rc rc, const char *what)
{
    if (rc != ATT_OK) {
        fprintf(stderr, "seedgen: %s: %s\n", what, att_rc_str(rc));
        failed = 1;
        return 0;
    }
    return 1;
}

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEX32 "00112233445566778899aabbccddeeff"

/* The byte string stored under the envelope's "order" key (its last item). */
static void envelope_body(const struct att_buf *env, struct att_buf *body)
{
    const uint8_t *p = env->data;
    size_t i;

    for (i = 0; i + 6 < env->len; i++) {
        if (memcmp(p + i, "\x65order", 6) == 0) {
            size_t off = i + 6;
            size_t len;

            if (p[off] == 0x59) {
                len = (size_t)p[off + 1] << 8 | p[off + 2];
                off += 3;
            } else if (p[off] == 0x58) {
                len = p[off + 1];
                off += 2;
            } else {
                len = p[off] & 0x1fu;
                off += 1;
            }
            if (off + len == env->len) {
                (void)att_buf_append(body, p + off, len);
            }
            return;
        }
    }
}

static void orders(void)
{
    static char why_q[] = "unexpected executable /tmp/x (not in policy web)";
    static char why_l[] = "lifted by alice";
    static char done[] = "paused, network isolated, killed";
    static char refused[] = "refused: expired";
    struct att_sigkey *key = fuzz_order_key_load();
    struct att_order q;
    struct att_order l;
    struct att_order_ack a;
    struct att_buf env;
    struct att_buf body;

    if (key == NULL) {
        fprintf(stderr, "seedgen: the order key does not load\n");
        failed = 1;
        return;
    }
    memset(&q, 0, sizeof(q));
    (void)snprintf(q.id, sizeof(q.id), "%s", HEX32);
    q.op = ATT_ORDER_QUARANTINE;
    (void)snprintf(q.ak_name, sizeof(q.ak_name), "000b%s", HEX64);
    (void)snprintf(q.container, sizeof(q.container), "%s", HEX64);
    (void)snprintf(q.image, sizeof(q.image), "sha256:%s", HEX64);
    q.actions = ATT_ORDER_ALL;
    q.reason = why_q;
    q.issued_at = 1700000000;
    q.expires_at = 1700003600;
    l = q;
    (void)snprintf(l.id, sizeof(l.id), "ffeeddccbbaa99887766554433221100");
    l.op = ATT_ORDER_LIFT;
    (void)snprintf(l.lifts, sizeof(l.lifts), "%s", HEX32);
    l.image[0] = '\0';
    l.actions = 0;
    l.reason = why_l;

    att_buf_init(&env, ATT_PROTO_MAX_ORDER);
    att_buf_init(&body, ATT_PROTO_MAX_ORDER);
    if (must(att_order_seal(&q, key, &env), "seal quarantine")) {
        put_buf("order", "valid-quarantine-envelope", &env);
        envelope_body(&env, &body);
        put_buf("order", "valid-quarantine-body", &body);
        env.data[env.len - 1] ^= 1; /* a body byte: the signature no longer verifies */
        put_buf("order", "bad-signature-envelope", &env);
    }
    att_buf_reset(&env);
    att_buf_reset(&body);
    q.actions = ATT_ORDER_PAUSE;
    q.image[0] = '\0';
    if (must(att_order_seal(&q, key, &env), "seal pause")) {
        envelope_body(&env, &body);
        put_buf("order", "valid-pause-noimage-body", &body);
    }
    att_buf_reset(&env);
    att_buf_reset(&body);
    if (must(att_order_seal(&l, key, &env), "seal lift")) {
        put_buf("order", "valid-lift-envelope", &env);
        envelope_body(&env, &body);
        put_buf("order", "valid-lift-body", &body);
    }
    att_buf_reset(&env);
    memset(&a, 0, sizeof(a));
    (void)snprintf(a.id, sizeof(a.id), "%s", HEX32);
    a.ok = true;
    a.result = done;
    if (must(att_order_ack_encode(&a, &env), "ack")) {
        put_buf("order", "valid-ack-ok", &env);
    }
    att_buf_reset(&env);
    a.ok = false;
    a.result = refused;
    if (must(att_order_ack_encode(&a, &env), "ack refused")) {
        put_buf("order", "valid-ack-refused", &env);
    }
    put_str("order", "actions-all", "pause,isolate-network,kill");
    put_str("order", "actions-kill", "kill");
    put_str("order", "bad-actions-empty-word", "pause,,kill");
    att_buf_cleanup(&env);
    att_buf_cleanup(&body);
    att_sigkey_free(key);
}

static int read_data(const char *data_dir, const char *name, struct att_buf *b)
{
    char path[4096];

    (void)snprintf(path, sizeof(path), "%s/%s", data_dir, name);
    att_buf_init(b, 1u << 20);
    if (att_file_read(path, b) != ATT_OK || b->len == 0) {
        fprintf(stderr, "seedgen: cannot read %s\n", path);
        failed = 1;
        return 0;
    }
    return 1;
}

/* Name bytes from ak.name.hex (one line of hex). */
static size_t read_name(const char *data_dir, const char *alg, uint8_t *name, size_t cap)
{
    char file[64];
    struct att_buf b;
    size_t n = 0;

    (void)snprintf(file, sizeof(file), "quote-%s/ak.name.hex", alg);
    if (read_data(data_dir, file, &b)) {
        while (b.len > 0 && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r')) {
            b.len--;
        }
        n = b.len / 2;
        if (n > cap || att_buf_append(&b, "", 1) != ATT_OK ||
            att_hex_decode((const char *)b.data, name, n) != ATT_OK) {
            fprintf(stderr, "seedgen: bad %s\n", file);
            failed = 1;
            n = 0;
        }
    }
    att_buf_cleanup(&b);
    return n;
}

/* credential seed: 2-byte length, the TPM2B_PUBLIC, then the AK Name */
static void put_credential(const char *name, const struct att_buf *pub, const uint8_t *ak_name,
                           size_t ak_name_len)
{
    struct att_buf s;
    uint8_t len[2] = {(uint8_t)(pub->len >> 8), (uint8_t)pub->len};

    att_buf_init(&s, 1u << 16);
    if (att_buf_append(&s, len, 2) == ATT_OK && att_buf_append(&s, pub->data, pub->len) == ATT_OK &&
        att_buf_append(&s, ak_name, ak_name_len) == ATT_OK) {
        put_buf("credential", name, &s);
    }
    att_buf_cleanup(&s);
}

static void enrolment(const char *data_dir)
{
    static const char *const algs[] = {"ecc", "rsa"};
    struct att_sigkey *key = fuzz_order_key_load();
    struct att_buf spki;
    size_t i;

    att_buf_init(&spki, ATT_SIGKEY_MAX_SPKI);
    if (key == NULL || !must(att_sigkey_spki(key, &spki), "spki")) {
        failed = 1;
    } else {
        put_buf("activate", "valid-spki", &spki);
    }
    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        static const uint8_t secret[32] = {0x5e, 0xc2, 0xe7, 0x01};
        uint8_t name[ATT_TPM_NAME_MAX];
        size_t name_len = read_name(data_dir, algs[i], name, sizeof(name));
        char file[64];
        struct att_buf ek;
        struct att_buf ak;
        struct att_buf blob;
        struct att_buf enc;
        struct att_buf msg;
        struct att_activate_request req;
        struct att_activate_response resp;

        (void)snprintf(file, sizeof(file), "quote-%s/ek.pub", algs[i]);
        if (name_len == 0 || !read_data(data_dir, file, &ek)) {
            continue;
        }
        (void)snprintf(file, sizeof(file), "quote-%s/ak.pub", algs[i]);
        if (!read_data(data_dir, file, &ak)) {
            att_buf_cleanup(&ek);
            continue;
        }
        (void)snprintf(file, sizeof(file), "valid-ek-%s", algs[i]);
        put_credential(file, &ek, name, name_len);
        (void)snprintf(file, sizeof(file), "valid-ak-%s", algs[i]);
        put_credential(file, &ak, name, name_len);

        att_buf_init(&blob, 1u << 16);
        att_buf_init(&enc, 1u << 16);
        att_buf_init(&msg, 1u << 16);
        if (must(att_make_credential(ek.data, ek.len, name, name_len, secret, sizeof(secret), &blob,
                                     &enc),
                 "make credential")) {
            memset(&req, 0, sizeof(req));
            req.cred_blob = blob.data;
            req.cred_blob_len = blob.len;
            req.enc_secret = enc.data;
            req.enc_secret_len = enc.len;
            if (must(att_activate_request_encode(&req, &msg), "activate request")) {
                (void)snprintf(file, sizeof(file), "valid-request-%s", algs[i]);
                put_buf("activate", file, &msg);
            }
            att_buf_reset(&msg);
            req.verifier_key = spki.data;
            req.verifier_key_len = spki.len;
            if (spki.len > 0 && must(att_activate_request_encode(&req, &msg), "activate request")) {
                (void)snprintf(file, sizeof(file), "valid-request-key-%s", algs[i]);
                put_buf("activate", file, &msg);
            }
            (void)snprintf(file, sizeof(file), "valid-id-object-%s", algs[i]);
            put_buf("activate", file, &blob);
            (void)snprintf(file, sizeof(file), "valid-encrypted-secret-%s", algs[i]);
            put_buf("activate", file, &enc);
        }
        att_buf_reset(&msg);
        memset(&resp, 0, sizeof(resp));
        resp.secret = (uint8_t *)(uintptr_t)secret;
        resp.secret_len = sizeof(secret);
        if (i == 0 && must(att_activate_response_encode(&resp, &msg), "activate response")) {
            put_buf("activate", "valid-response", &msg);
        }
        att_buf_cleanup(&blob);
        att_buf_cleanup(&enc);
        att_buf_cleanup(&msg);
        att_buf_cleanup(&ek);
        att_buf_cleanup(&ak);
    }
    att_buf_cleanup(&spki);
    att_sigkey_free(key);
}

static void texts(void)
{
    put_str("netstats", "valid-two",
            HEX64 " 0 12 " HEX64 "\n"
                  "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210 "
                  "9223372036854775807 1 " HEX64 "\n");
    put_str("netstats", "bad-five-fields", HEX64 " 1 2 " HEX64 " 5\n");
    put_str("netstats", "cidrs", "10.0.0.0/8\n192.168.1.7\nfd00::/8\n2001:db8::1/128\n::/0\n");
    put_str("netstats", "bad-cidr-hostbits", "10.0.0.1/8\nfd00::1/8\n");
    put_str("netstats", "dns-and-escapes", "example.com\nweb%20policy\n%25%3D\nbad%0\n%00\n");

    put_str("storage_json", "containers",
            "[{\"id\":\"" HEX64 "\",\"names\":[\"web\"],\"image\":\"" HEX64 "\",\"layer\":\"" HEX64
            "\",\"metadata\":\"{\\\"image-name\\\":\\\"docker.io/"
            "library/nginx:latest\\\"}\",\"created\":\"2024-05-01T10:00:00.123456789Z\"}]");
    put_str("storage_json", "layers",
            "[{\"id\":\"" HEX64 "\",\"parent\":\"fedcba9876543210fedcba9876543210fedcba98765"
            "43210fedcba9876543210\",\"created\":\"2024-05-01T09:59:59Z\"}]");
    put_str("storage_json", "bad-image", "[{\"id\":\"" HEX64 "\",\"image\":\"sha256:x\"}]");

    put_str("agent_config", "valid",
            "; attest-agent.conf\n[agent]\ntcti = swtpm:host=127.0.0.1,port=2321\n"
            "state_dir = /var/lib/attest-agent\nlisten = 0.0.0.0:8443\nagent-id = host-1\n"
            "log_level = info\npcr = 10\nak_alg = ecc\nek-alg = rsa\n"
            "engine = unix:///run/podman/podman.sock\nstorage = /var/lib/containers/storage\n"
            "fail_open = false\nintegrity_interval = 30\nnet-check-interval = 10\n"
            "tls_cert = /etc/attest/agent.crt\ntls_key = /etc/attest/agent.key\n"
            "tls-client-ca = /etc/attest/fleet-ca.crt\ninsecure_dev = false\n");
    put_str("agent_config", "bad-section", "[verifier]\nlisten = 0.0.0.0:8443\n");
    put_str("agent_config", "bad-values",
            "[agent]\npcr = 24\nak_alg = dsa\ninsecure_dev = maybe\n");

    put_str("verifier_config", "valid",
            "[verifier]\ndb = /var/lib/attest/verifier.db\nlisten = 127.0.0.1:8080\n"
            "api-cert = /etc/attest/api.crt\napi_key = /etc/attest/api.key\n"
            "fleet-ca = /etc/attest/fleet-ca.crt\nclient-cert = /etc/attest/v.crt\n"
            "client_key = /etc/attest/v.key\norder-key = /var/lib/attest/order.pem\n"
            "order_ttl = 3600\nvulndb-max-age = 86400\nvulndb_max_bytes = 1048576\n"
            "log-level = debug\ntpm-ca = /etc/attest/tpm-ca\ntpm_ca = /etc/attest/swtpm.pem\n"
            "interval = 0.5\ntimeout = 10\nmax-inflight = 64\ninsecure-dev = no\n");
    put_str("verifier_config", "bad-interval", "[verifier]\ninterval = 0.05\ninterval = 1.2345\n");
    put_str("verifier_config", "multiline", "[verifier]\nlisten = a\n  b\n# c\n");
}

/* procmem_elf reads the same kind of file as fuzz_elfhdr: reuse its seeds. */
static void elf_seeds(void)
{
    static const char *const names[] = {"exec-static-64le",
                                        "pie-64le",
                                        "shlib-64le",
                                        "static-pie-32be",
                                        "runnable-shlib-32le",
                                        "gcc-tiny-shlib-x86_64",
                                        "gcc-tiny-static-x86_64",
                                        "bad-truncated-dynamic",
                                        "bad-phoff-wrap"};
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[4096];
        struct att_buf b;

        (void)snprintf(path, sizeof(path), "%s/elfhdr/%s", out_dir, names[i]);
        att_buf_init(&b, 1u << 20);
        if (att_file_read(path, &b) == ATT_OK && b.len > 0) {
            put_buf("procmem_elf", names[i], &b);
        } else {
            fprintf(stderr, "seedgen: cannot read %s\n", path);
            failed = 1;
        }
        att_buf_cleanup(&b);
    }
}

/* fuzz_appraise: IMA logs of the records an agent writes, one kind per seed and all together. */
#define SEED_CID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
static void appraise_seeds(void)
{
    static const struct {
        const char *name; /* NULL: an ima-ng file entry */
        const char *text;
    } recs[] = {
        {"container:" SEED_CID,
         "image=sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa ref=app:1 "
         "privileged=0 cap_add= pid_mode=private seccomp=2 no_new_privs=1 "
         "cap_eff=00000000a80425fb lsm=- policy_label=strict"},
        {"admission:" SEED_CID, "decision=admit image=sha256:aaaa policy=app"},
        {"rootfs:" SEED_CID,
         "2222222222222222222222222222222222222222222222222222222222222222 /bin/ls\n"},
        {"packages:" SEED_CID, "digest=00 count=1\nbusybox 1:1.35.0-4 amd64\n"},
        {"violation:" SEED_CID,
         "kind=anon_exec pid=7 comm=x path=- addr=0x1000 hint=- detail=injected"},
        {"quarantine:" SEED_CID,
         "at=1 n=1 order=0123456789abcdef0123456789abcdef op=quarantine actions=pause ok=1 "
         "result=paused"},
        {"netpolicy:" SEED_CID,
         "status=applied policy=app network=00 ruleset=11 table=attest_x\n{}"},
        {"netdrift:" SEED_CID, "expected=00 found=11 table=attest_x detail=rule%20gone"},
        {"order:refused", "at=1 n=2 order=- op=quarantine actions=- ok=0 result=signature"},
        {ATT_IMA_GAP_RECORD, "state=open since=2026-11-23T04:00:00Z error=No%20space"},
        {ATT_IMA_GAP_RECORD,
         "state=closed since=2026-11-23T04:00:00Z until=2026-11-23T04:05:00Z refused=3 "
         "error=No%20space"},
        {NULL, SEED_CID ":/bin/ls"},
        {NULL, "host:/usr/bin/x"},
    };
    struct att_buf all;
    size_t i;

    att_buf_init(&all, 1u << 20);
    for (i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
        struct att_ima_entry e;
        struct att_buf one;
        uint8_t d[ATT_SHA256_LEN];
        char name[32];

        memset(&e, 0, sizeof(e));
        att_buf_init(&one, 1u << 20);
        memset(d, 0x22, sizeof(d));
        if (must(recs[i].name != NULL
                     ? att_ima_entry_build_buf(&e, 15, recs[i].name, (const uint8_t *)recs[i].text,
                                               strlen(recs[i].text))
                     : att_ima_entry_build_ng(&e, 15, d, recs[i].text),
                 "appraise record") &&
            must(att_ima_entry_encode(&e, &one), "encode") &&
            must(att_ima_entry_encode(&e, &all), "encode")) {
            (void)snprintf(name, sizeof(name), "record-%02zu.bin", i);
            put_buf("appraise", name, &one);
        }
        att_ima_entry_cleanup(&e);
        att_buf_cleanup(&one);
    }
    put_buf("appraise", "all-records.bin", &all);
    att_buf_cleanup(&all);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s CORPUS_DIR DATA_DIR (tests/fuzz/corpus tests/data)\n", argv[0]);
        return 2;
    }
    out_dir = argv[1];
    orders();
    enrolment(argv[2]);
    texts();
    elf_seeds();
    appraise_seeds();
    return failed;
}
