#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Regenerate tests/data/quote-ecc/ and tests/data/quote-rsa/: real TPM2_Quote
# evidence from a private, throw-away swtpm, for tests/unit/test_quote.c and
# test_pcrs.c. Everything written is public data (public keys, quotes, PCR
# values); no private key or TPM state leaves the temp directory.
#
# Per algorithm directory:
#   ak.pub          TPM2B_PUBLIC of the AK as `tpm2_createak -u` writes it
#   ak.pub.pem.expected  the same key as SubjectPublicKeyInfo PEM (tpm2_readpublic -f pem)
#   ak.name.hex     the AK's Name as tpm2_readpublic -n reports it, lower-case hex
#   other-ak.pub    a second AK of the same algorithm (signature must not verify)
#   ek.pub          TPM2B_PUBLIC of the EK (restricted decrypt: not an AK)
#   quote.msg       TPMS_ATTEST (tpm2_quote -m)
#   quote.sig       TPMT_SIGNATURE (tpm2_quote -s, tss format)
#   quote.pcrs      tpm2-tools "serialized" PCR file (tpm2_quote -o, default -F)
#   partial.{msg,sig,pcrs}  the same for the selection sha256:0-7,10,15 (mask 0x0084ff)
#   pcrs.txt        24 lines "NN <64 hex>", sha256 PCRs 0..23 as read after the quote
#   nonce.hex       the 32-byte qualifying data, hex
#   pss-ak.pub, pss-quote.{msg,sig}  (quote-rsa only) an RSAPSS AK and its quote
#   info.txt        clock/resetCount/restartCount/safe (decimal) and firmwareVersion
#                   (16 hex digits, big-endian) of quote.msg, from tpm2_print
#
# It also rewrites the generated block of tests/fuzz/fuzz_quote.c (the ECC AK,
# nonce and PCR values) and the seeds in tests/fuzz/corpus/quote/.
#
# Usage: tests/data/make-quote-data.sh   (needs swtpm and tpm2-tools 5.x)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/att-quote-data.XXXXXX")
SWTPM_PID=""
PARTIAL=0,1,2,3,4,5,6,7,10,15
NONCE=a5e1b1d0c0ffee00112233445566778899aabbccddeeff0f1e2d3c4b5a697887

cleanup() {
    if [ -n "$SWTPM_PID" ]; then
        kill "$SWTPM_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

port_free() {
    # A port is free when nothing accepts a connection on it.
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start_swtpm() {
    local try port
    mkdir -p "$TMP/state"
    for try in $(seq 1 20); do
        port=$((20000 + (RANDOM % 20000) * 2))
        if ! port_free "$port" || ! port_free $((port + 1)); then
            continue
        fi
        if swtpm socket --tpm2 --tpmstate dir="$TMP/state" \
            --server type=tcp,port="$port",bindaddr=127.0.0.1 \
            --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
            --flags not-need-init,startup-clear --daemon \
            --pid file="$TMP/swtpm.pid" --log file="$TMP/swtpm.log" 2>/dev/null; then
            SWTPM_PID=$(cat "$TMP/swtpm.pid")
            export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port"
            return 0
        fi
    done
    echo "could not start swtpm (attempt $try)" >&2
    return 1
}

flush() {
    # No resource manager: drop transient objects between steps.
    tpm2_flushcontext -t >/dev/null
}

# make_dir ALG EK_ALG AK_SCHEME
make_dir() {
    local alg=$1 ek_alg=$2 scheme=$3
    local out="$HERE/quote-$alg" w="$TMP/$alg"
    mkdir -p "$out" "$w"

    tpm2_createek -c "$w/ek.ctx" -G "$ek_alg" -u "$w/ek.pub" >/dev/null
    flush
    tpm2_createak -C "$w/ek.ctx" -c "$w/ak.ctx" -G "$alg" -g sha256 -s "$scheme" \
        -u "$w/ak.pub" -n "$w/ak.name" >/dev/null
    flush
    tpm2_createak -C "$w/ek.ctx" -c "$w/ak2.ctx" -G "$alg" -g sha256 -s "$scheme" \
        -u "$w/other-ak.pub" >/dev/null
    flush
    tpm2_readpublic -c "$w/ak.ctx" -f pem -o "$w/ak.pub.pem" -n "$w/ak.name.rp" >/dev/null
    flush
    cmp "$w/ak.name" "$w/ak.name.rp"

    tpm2_quote -c "$w/ak.ctx" -l sha256:all -q "$NONCE" -g sha256 \
        -m "$w/quote.msg" -s "$w/quote.sig" -o "$w/quote.pcrs" >/dev/null
    flush
    # A partial selection (10 PCRs: digest blocks of 8 + 2) pins down how
    # tpm2-tools splits values into TPML_DIGESTs.
    tpm2_quote -c "$w/ak.ctx" -l "sha256:$PARTIAL" -q "$NONCE" -g sha256 \
        -m "$w/partial.msg" -s "$w/partial.sig" -o "$w/partial.pcrs" >/dev/null
    flush
    if [ "$alg" = rsa ]; then
        # An RSAPSS AK too: att_quote_verify accepts the scheme the AK names.
        tpm2_createak -C "$w/ek.ctx" -c "$w/pss.ctx" -G rsa -g sha256 -s rsapss \
            -u "$w/pss-ak.pub" >/dev/null
        flush
        tpm2_quote -c "$w/pss.ctx" -l sha256:all -q "$NONCE" -g sha256 --scheme rsapss \
            -m "$w/pss-quote.msg" -s "$w/pss-quote.sig" >/dev/null
        flush
        cp "$w/pss-ak.pub" "$w/pss-quote.msg" "$w/pss-quote.sig" "$out/"
    fi
    tpm2_pcrread sha256:all >"$w/pcrs.yaml"
    awk '/^ *[0-9]+ *: *0x/ { gsub(/ /, ""); split($0, a, ":0x");
         printf "%02d %s\n", a[1], tolower(a[2]) }' "$w/pcrs.yaml" >"$w/pcrs.txt"
    [ "$(wc -l <"$w/pcrs.txt")" -eq 24 ]

    # Independent check of the evidence before it becomes a fixture.
    tpm2_checkquote -u "$w/ak.pub.pem" -m "$w/quote.msg" -s "$w/quote.sig" \
        -f "$w/quote.pcrs" -q "$NONCE" -g sha256 >/dev/null

    tpm2_checkquote -u "$w/ak.pub.pem" -m "$w/partial.msg" -s "$w/partial.sig" \
        -f "$w/partial.pcrs" -q "$NONCE" -g sha256 >/dev/null

    tpm2_print -t TPMS_ATTEST "$w/quote.msg" >"$w/quote.yaml"
    awk '/^ *clock:/ {print "clock " $2}
         /^ *resetCount:/ {print "reset_count " $2}
         /^ *restartCount:/ {print "restart_count " $2}
         /^ *safe:/ {print "safe " $2}
         /^ *firmwareVersion:/ {
             # tpm2-tools 5.4 prints the UINT64 as a hex dump of its
             # little-endian memory; turn it back into the big-endian value.
             if (length($2) != 16) { exit 1 }
             v = ""; for (i = 15; i >= 1; i -= 2) { v = v substr($2, i, 2) }
             print "firmware_version_hex " v }' "$w/quote.yaml" >"$w/info.txt"
    [ "$(wc -l <"$w/info.txt")" -eq 5 ]

    cp "$w/ak.pub" "$w/other-ak.pub" "$w/ek.pub" "$w/quote.msg" \
        "$w/quote.sig" "$w/quote.pcrs" "$w/partial.msg" "$w/partial.sig" "$w/partial.pcrs" \
        "$w/pcrs.txt" "$w/info.txt" "$out/"
    cp "$w/ak.pub.pem" "$out/ak.pub.pem.expected" # public key; named so no one mistakes it for a key file
    od -An -v -tx1 "$w/ak.name" | tr -d ' \n' >"$out/ak.name.hex"
    echo >>"$out/ak.name.hex"
    echo "$NONCE" >"$out/nonce.hex"
    chmod 0644 "$out"/*
}

# tests/fuzz/fuzz_quote.c embeds the ECC AK, nonce and PCRs (fuzz targets get
# no data directory): rewrite its generated block, and its seed corpus.
update_fuzz() {
    local src="$HERE/../fuzz/fuzz_quote.c" d="$HERE/quote-ecc"
    local corpus="$HERE/../fuzz/corpus/quote"
    {
        echo "/* BEGIN GENERATED by tests/data/make-quote-data.sh from tests/data/quote-ecc/ */"
        echo "static const uint8_t ak_pub[] = {"
        od -An -v -tx1 "$d/ak.pub" | sed -e 's/ \([0-9a-f][0-9a-f]\)/0x\1, /g' \
            -e 's/^/    /' -e 's/, *$/,/'
        echo "};"
        echo "static const char nonce_hex[] = \"$(cat "$d/nonce.hex")\";"
        echo "static const char *const pcr_hex[ATT_PCR_COUNT] = {"
        awk '{ printf "    \"%s\",\n", $2 }' "$d/pcrs.txt"
        echo "};"
        echo "/* END GENERATED */"
    } >"$TMP/generated"
    grep -q "BEGIN GENERATED" "$src"
    awk -v gen="$TMP/generated" '
        /BEGIN GENERATED/ { while ((getline l < gen) > 0) print l; skip = 1; next }
        /END GENERATED/ { skip = 0; next }
        !skip { print }' "$src" >"$TMP/fuzz_quote.c"
    cat "$TMP/fuzz_quote.c" >"$src"

    # Seed format: one length byte N, N bytes TPMS_ATTEST, then TPMT_SIGNATURE.
    mkdir -p "$corpus"
    seed() { # NAME FIRST [REST...]
        local name=$1 first=$2 n
        shift 2
        n=$(stat -c %s "$first")
        [ "$n" -le 255 ]
        { printf "\\x$(printf %02x "$n")"; cat "$first" "$@"; } >"$corpus/$name"
    }
    seed valid-ecc "$d/quote.msg" "$d/quote.sig"
    seed partial-ecc "$d/partial.msg" "$d/partial.sig"
    seed rsa-sig "$HERE/quote-rsa/quote.msg" "$HERE/quote-rsa/quote.sig"
    seed ak-pub-ecc "$d/ak.pub"
    seed ek-pub-ecc "$d/ek.pub"
    head -c 100 "$d/quote.msg" >"$TMP/short"
    seed truncated-msg "$TMP/short" "$d/quote.sig"
    chmod 0644 "$corpus"/*
}

start_swtpm
# Make PCR 15 non-trivial: a few extends, as the agent's measurement PCR would see.
for d in 1111111111111111111111111111111111111111111111111111111111111111 \
         2222222222222222222222222222222222222222222222222222222222222222 \
         3333333333333333333333333333333333333333333333333333333333333333; do
    tpm2_pcrextend "15:sha256=$d"
done

make_dir ecc ecc ecdsa
make_dir rsa rsa rsassa
update_fuzz
echo "wrote $HERE/quote-ecc, $HERE/quote-rsa and the fuzz_quote data"
