#!/usr/bin/env bash
# The image vulnerability gate (issue 8), on the real rig: podman + runc +
# swtpm, the prestart hook, the verifier with generated feeds.
# - the test images carry this machine's real dpkg stanzas (swtpm-setup/rig);
# - a generated OSV feed marks libc6's source (glibc) vulnerable below a
#   version newer than the installed one (high): the start is refused and the
#   refusal names the vulnerability; another record, fixed below an older
#   version of dash, matches nothing; an image without that package starts;
# - an allow entry lets the start pass until it expires, then it is refused;
# - importing a new feed makes a running container newly vulnerable: an event
#   and, under running=quarantine, a quarantine order carried out (paused);
# - attest-verify image scan (--image, --rootfs) exits 0 / 1 / 2;
#   vulnerabilities lists findings per container and per image;
# - the Debian security tracker JSON imports too (a zip of OSV records too);
# - malformed OSV and tracker JSON, an oversized feed and a corrupt dpkg
#   status give clear errors and leave the store as it was; a stale feed is
#   not judged with (the verifier says so).
source "$(dirname "$0")/lib.sh"

command -v zip >/dev/null || die "zip is not installed (scripts/install-deps.sh)"

section "rig with podman, agent with the hook, verifier polling every second"
start_podman_host
DB=$T_DIR/v.db
token_create OPS "$DB" ops operator
token_create ADM "$DB" adm admin
token_create VIEW "$DB" viewer viewer
start_verifier v "$DB" --insecure-dev --interval 1 --log-level info --tpm-ca "$RIG/ca/root.pem" \
    --tpm-ca "$RIG/ca/intermediate.pem" --vulndb-max-bytes 1048576
V=(--verifier "${VERIFIER_URL[v]}" --token "$ADM")
VO=(--verifier "${VERIFIER_URL[v]}" --token "$OPS")
AV=("$ATT_BIN/attest-verify")
expect_cmd 0 "enroll the host" "${AV[@]}" "${V[@]}" enroll --agent "${AGENT_URL[a]}" --name h1

# What this machine (and so the test images) has installed.
LIBC_VER=$(dpkg-query -W -f='${Version}' libc6) || die "no libc6"
LIBC_SRC=$(dpkg-query -W -f='${source:Package}' libc6)
LIBC_SRCVER=$(dpkg-query -W -f='${source:Version}' libc6)
DASH_VER=$(dpkg-query -W -f='${Version}' dash) || die "no dash"
BB_SRC=$(dpkg-query -W -f='${source:Package}' busybox-static)
. /usr/lib/os-release
ECO="Debian:$VERSION_ID"
log "libc6 $LIBC_VER (source $LIBC_SRC $LIBC_SRCVER), dash $DASH_VER, ecosystem $ECO"

section "the test images carry real dpkg stanzas"
mkdir -p "$T_DIR/rootfs"
cid=$("$PODMAN" create --network none localhost/attest-dyn:1 /bin/true) || die "create"
"$PODMAN" export "$cid" | tar -x -C "$T_DIR/rootfs" || die "export"
"$PODMAN" rm "$cid" >/dev/null
grep -q "^Package: libc6$" "$T_DIR/rootfs/var/lib/dpkg/status" &&
    pass "attest-dyn:1 has libc6's stanza" || fail "no libc6 stanza in the image"
grep -q "^Package: dash$" "$T_DIR/rootfs/var/lib/dpkg/status" &&
    pass "... and dash's" || fail "no dash stanza in the image"
[[ -L $T_DIR/rootfs/etc/os-release ]] && pass "/etc/os-release is a symlink into /usr/lib" ||
    fail "/etc/os-release is not a symlink"

NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
# osv ID PACKAGE FIXED SEVERITY_VECTOR [MODIFIED]: one OSV record
osv() {
    jq -n --arg id "$1" --arg pkg "$2" --arg fixed "$3" --arg cvss "$4" --arg eco "$ECO" \
        --arg mod "${5:-$NOW}" '{id: $id, modified: $mod, aliases: [($id + "-ALIAS")],
        severity: [{type: "CVSS_V3", score: $cvss}],
        affected: [{package: {ecosystem: $eco, name: $pkg},
                    ranges: [{type: "ECOSYSTEM", events: [{introduced: "0"}, {fixed: $fixed}]}]}]}'
}
HIGH="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"  # 7.5 high
CRIT="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8 critical
mkdir -p "$T_DIR/feed1" "$T_DIR/feed2" "$T_DIR/feed3"
osv ATT-2026-0001 "$LIBC_SRC" "$LIBC_SRCVER+attest1" "$HIGH" >"$T_DIR/feed1/ATT-2026-0001.json"
osv ATT-2026-0002 dash "0.1-1" "$CRIT" >"$T_DIR/feed1/ATT-2026-0002.json"
cp "$T_DIR/feed1/ATT-2026-0002.json" "$T_DIR/feed2/"
cp "$T_DIR/feed1/ATT-2026-0002.json" "$T_DIR/feed3/"
osv ATT-2026-0003 "$LIBC_SRC" "$LIBC_SRCVER+attest3" "$CRIT" >"$T_DIR/feed3/ATT-2026-0003.json"

feeds_json() { "${AV[@]}" "${V[@]}" --json vulndb show | jq -c '[.feeds[] | .digest]'; }

section "bad feeds change nothing"
expect_cmd 0 "vulndb show with no feed" "${AV[@]}" "${V[@]}" vulndb show
assert_contains "$T_OUT" "no vulnerability feed" "says there is none"
mkdir -p "$T_DIR/bad"
printf '{"id": "X", "modified": "%s", "affected": [' "$NOW" >"$T_DIR/bad/broken.json"
expect_cmd 2 "a truncated OSV record" "${AV[@]}" "${VO[@]}" vulndb import "$T_DIR/bad"
assert_contains "$T_OUT" "broken.json" "the error names the file"
osv ATT-BAD "$LIBC_SRC" "1.0" "$HIGH" | jq '.affected[0].ranges[0].events = [{introduced: "0", fixed: "1"}]' \
    >"$T_DIR/bad/broken.json"
expect_cmd 2 "an OSV event with two keys" "${AV[@]}" "${VO[@]}" vulndb import "$T_DIR/bad"
printf '{"glibc": {"CVE-2026-1": {"releases": {"bookworm": {"status": 7}}}}}' >"$T_DIR/tracker-bad.json"
expect_cmd 2 "malformed tracker JSON" "${AV[@]}" "${VO[@]}" vulndb import "$T_DIR/tracker-bad.json" \
    --source debian-tracker
mkdir -p "$T_DIR/big"
jq -n --arg eco "$ECO" --arg mod "$NOW" '[range(0; 20000) | {id: "ATT-BIG-\(.)", modified: $mod,
    affected: [{package: {ecosystem: $eco, name: "package-number-\(.)"},
                ranges: [{type: "ECOSYSTEM", events: [{introduced: "0"}, {fixed: "1.\(.)-1"}]}]}]}]' \
    >"$T_DIR/big/all.json"
expect_cmd 2 "an oversized feed (verifier limit 1 MiB)" "${AV[@]}" "${VO[@]}" vulndb import "$T_DIR/big"
assert_contains "$T_OUT" "413" "refused with HTTP 413"
expect_cmd 2 "an oversized feed (--max-bytes)" "${AV[@]}" "${VO[@]}" vulndb import "$T_DIR/big" \
    --max-bytes 10000
assert_contains "$T_OUT" "too large" "refused by the CLI before sending"
expect_cmd 2 "a viewer cannot import" "${AV[@]}" --verifier "${VERIFIER_URL[v]}" --token "$VIEW" \
    vulndb import "$T_DIR/feed1"
expect_api 400 "a malformed canonical feed straight to the API" v "$OPS" POST \
    "/api/v1/vulndb?source=osv&source_digest=$(printf '%064d' 0)" '{"not": "a feed"}'
assert_eq "$(feeds_json)" "[]" "the store still holds no feed"

section "a feed marking libc6's source vulnerable: the start is refused, naming it"
expect_cmd 0 "import feed 1 (OSV directory)" "${AV[@]}" "${VO[@]}" vulndb import "$T_DIR/feed1"
assert_contains "$T_OUT" "imported" "imported"
FEED1=$(feeds_json)
image_policy localhost/attest-dyn:1 dyn "$T_DIR/p-dyn.json"
image_policy localhost/attest-static:1 static "$T_DIR/p-static.json"
policy() { # policy VULNS_JSON: both images, the dyn one with this vulnerability section
    jq -s --argjson v "$1" '{version: 1, name: "apps", reference_values: {},
        containers: [(.[0].containers[0] + {vulnerabilities: $v}),
                     (.[1].containers[0] + {vulnerabilities: {refuse_at: "high"}})]}' \
        "$T_DIR/p-dyn.json" "$T_DIR/p-static.json" >"$T_DIR/policy.json"
    "${AV[@]}" "${V[@]}" policy apply apps "$T_DIR/policy.json" >/dev/null ||
        die "policy apply failed"
}
policy '{"refuse_at": "high"}'
expect_cmd 0 "policy assign" "${AV[@]}" "${V[@]}" policy assign h1 apps
wait_until 20 grep -q "vulnerability feed" "$(agent_log a)" ||
    die "the feed never reached the agent" "$(agent_log a)"
pass "the verifier sent the feed to the agent"
wait_until 20 grep -q "admission policy updated" "$(agent_log a)" || die "no admission policy"
sleep 2
expect_cmd 126 "attest-dyn:1 (libc6 $LIBC_VER) is refused at start" "$PODMAN" run --rm \
    localhost/attest-dyn:1 /bin/sh -c 'echo should-not-run'
assert_contains "$T_OUT" "ATT-2026-0001" "the refusal names the vulnerability"
assert_contains "$T_OUT" "fixed in $LIBC_SRCVER+attest1" "... and the fixed version"
assert_not_contains "$T_OUT" "ATT-2026-0002" "dash's record (fixed below the installed version) does not match"
assert_not_contains "$T_OUT" "should-not-run" "the container never ran"
expect_cmd 0 "attest-static:1 (no glibc) starts" "$PODMAN" run --rm localhost/attest-static:1 \
    /bin/busybox echo static-ran
assert_contains "$T_OUT" "static-ran" "it ran"

section "an allow entry passes the start until it expires"
EXP=$(date -u -d '+25 seconds' +%Y-%m-%dT%H:%M:%SZ)
policy "{\"refuse_at\": \"high\", \"allow\": [{\"id\": \"ATT-2026-0001-ALIAS\", \"expires\": \"$EXP\",
    \"reason\": \"test: accepted until a fixed glibc is out\"}]}"
sleep 3
expect_cmd 0 "allowed by alias until $EXP" "$PODMAN" run --rm localhost/attest-dyn:1 \
    /bin/sh -c 'echo allowed-ran'
assert_contains "$T_OUT" "allowed-ran" "it ran"
while [[ $(date -u +%s) -le $(date -u -d "$EXP" +%s) ]]; do sleep 1; done
expect_cmd 126 "refused again after the allow entry expired" "$PODMAN" run --rm \
    localhost/attest-dyn:1 /bin/sh -c 'echo should-not-run'
assert_contains "$T_OUT" "ATT-2026-0001" "names the vulnerability again"

section "image scan: exit 1 over the bar, 0 clean, 2 on errors"
export PATH="$RIG/host-1:$PATH" # its podman wrapper, for --image
expect_cmd 1 "image scan --image attest-dyn:1" "${AV[@]}" "${VO[@]}" image scan \
    --image localhost/attest-dyn:1
assert_contains "$T_OUT" "ATT-2026-0001" "lists the finding"
assert_contains "$T_OUT" "OVER" "over the bar"
expect_cmd 0 "image scan --image attest-static:1" "${AV[@]}" "${VO[@]}" image scan \
    --image localhost/attest-static:1
expect_cmd 1 "image scan under the dyn container policy's bar" "${AV[@]}" "${VO[@]}" image scan \
    --image localhost/attest-dyn:1 --policy apps --container dyn
expect_cmd 2 "image scan with a policy that does not exist" "${AV[@]}" "${VO[@]}" image scan \
    --image localhost/attest-dyn:1 --policy nosuch --container dyn
assert_contains "$T_OUT" "no policy named" "says which"
expect_cmd 2 "image scan with a container policy the policy lacks" "${AV[@]}" "${VO[@]}" image scan \
    --image localhost/attest-dyn:1 --policy apps --container nosuch
expect_cmd 2 "image scan with a policy name that needs URL encoding" "${AV[@]}" "${VO[@]}" \
    image scan --image localhost/attest-dyn:1 --policy 'a&b' --container dyn
expect_cmd 1 "image scan --rootfs (exported attest-dyn:1) --json" "${AV[@]}" "${VO[@]}" image scan \
    --rootfs "$T_DIR/rootfs" --json
[[ $(jq -r '.verdict' "$T_OUT") == fail && $(jq -r '.inventory.ecosystem' "$T_OUT") == "$ECO" ]] &&
    pass "JSON: verdict fail, ecosystem $ECO" || fail "unexpected scan JSON" "$(cat "$T_OUT")"
mkdir -p "$T_DIR/corrupt/var/lib/dpkg"
cp -a "$T_DIR/rootfs/usr" "$T_DIR/rootfs/etc" "$T_DIR/corrupt/" || die "cannot copy the rootfs"
printf 'Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\nthis line has no colon\n' \
    >"$T_DIR/corrupt/var/lib/dpkg/status"
expect_cmd 2 "image scan of a rootfs with a corrupt dpkg status" "${AV[@]}" "${VO[@]}" image scan \
    --rootfs "$T_DIR/corrupt"
assert_contains "$T_OUT" "/var/lib/dpkg/status:4" "the error names file and line"
expect_cmd 2 "image scan of a missing directory" "${AV[@]}" "${VO[@]}" image scan --rootfs /nonexistent
expect_cmd 2 "image scan with both --rootfs and --image" "${AV[@]}" "${VO[@]}" image scan \
    --rootfs "$T_DIR/rootfs" --image localhost/attest-dyn:1

section "a corrupt dpkg status in an image: the start is refused (fail closed)"
cid=$("$PODMAN" create --network none localhost/attest-dyn:1 /bin/true) || die "create"
"$PODMAN" export "$cid" >"$T_DIR/dyn.tar" && "$PODMAN" rm "$cid" >/dev/null
mkdir -p "$T_DIR/badimg" && tar -x -C "$T_DIR/badimg" -f "$T_DIR/dyn.tar"
printf 'Package: libc6\nVersion: not a version!\n' >>"$T_DIR/badimg/var/lib/dpkg/status"
tar -C "$T_DIR/badimg" -cf "$T_DIR/badimg.tar" .
BADID=$("$PODMAN" import "$T_DIR/badimg.tar" localhost/attest-bad:1 2>/dev/null | tail -n1)
BADID=sha256:${BADID#sha256:}
# and one that names Debian in os-release but has no package database at all
mkdir -p "$T_DIR/nodb" && tar -x -C "$T_DIR/nodb" -f "$T_DIR/dyn.tar" && rm -rf "$T_DIR/nodb/var/lib/dpkg"
tar -C "$T_DIR/nodb" -cf "$T_DIR/nodb.tar" .
NODBID=$("$PODMAN" import "$T_DIR/nodb.tar" localhost/attest-nodb:1 2>/dev/null | tail -n1)
NODBID=sha256:${NODBID#sha256:}
jq --arg id "$BADID" --arg id2 "$NODBID" '.containers[0].images += [$id, $id2]' "$T_DIR/policy.json" \
    >"$T_DIR/policy-bad.json"
"${AV[@]}" "${V[@]}" policy apply apps "$T_DIR/policy-bad.json" >/dev/null || die "policy apply"
sleep 3
expect_cmd 126 "an image whose dpkg status is corrupt is refused" "$PODMAN" run --rm \
    localhost/attest-bad:1 /bin/sh -c 'echo should-not-run'
assert_contains "$T_OUT" "package inventory" "the refusal says the inventory cannot be read"
assert_contains "$T_OUT" "status" "... naming the database"
expect_cmd 126 "an image with os-release but no package database is refused under a bar" \
    "$PODMAN" run --rm localhost/attest-nodb:1 /bin/sh -c 'echo should-not-run'
assert_contains "$T_OUT" "no package database" "the refusal says why"

section "a new feed makes a running container newly vulnerable: event and quarantine"
expect_cmd 0 "import feed 2 (no glibc record): from a zip" bash -c \
    "cd '$T_DIR/feed2' && zip -q '$T_DIR/feed2.zip' *.json && '$ATT_BIN/attest-verify' ${VO[*]} vulndb import '$T_DIR/feed2.zip'"
policy '{"refuse_at": "high", "running": "quarantine"}'
sleep 3
C=$("$PODMAN" run -d localhost/attest-dyn:1 /bin/sleep 600) || die "C did not start under feed 2"
pass "container C started (feed 2 has nothing over the bar)"
wait_verdict "$C" "trusted" "C is trusted"
EV0=$("${AV[@]}" "${V[@]}" --json events --kind vulnerability-found | jq '.events | length')
expect_cmd 0 "import feed 3: a critical glibc record" "${AV[@]}" "${VO[@]}" vulndb import "$T_DIR/feed3"
wait_verdict "$C" "quarantined vulnerable" "C fails as vulnerable and is quarantined after the import"
assert_eq "$("$PODMAN" inspect --format '{{.State.Status}}' "$C")" "paused" "C is paused"
EV1=$("${AV[@]}" "${V[@]}" --json events --kind vulnerability-found | jq '.events | length')
((EV1 > EV0)) && pass "a vulnerability-found event ($EV0 -> $EV1)" || fail "no vulnerability-found event"
"${AV[@]}" "${V[@]}" --json events --kind vulnerability-found >"$T_DIR/out/ev.json"
assert_contains "$T_DIR/out/ev.json" "ATT-2026-0003" "the event names the new vulnerability"
expect_cmd 0 "vulnerabilities --container C" "${AV[@]}" "${V[@]}" vulnerabilities --container "$C"
assert_contains "$T_OUT" "ATT-2026-0003" "lists the finding for the container"
IMG=$("$PODMAN" image inspect --format '{{.Id}}' localhost/attest-dyn:1)
expect_api 200 "findings per image" v "$VIEW" GET "/api/v1/vulnerabilities?image=sha256:$IMG"
[[ $(jget "$API_OUT" '.over_bar') -ge 1 ]] && pass "the image has findings over the bar" ||
    fail "no findings for the image" "$(cat "$API_OUT")"
expect_api 400 "a malformed container id" v "$VIEW" GET "/api/v1/vulnerabilities?container=xyz"

section "the Debian security tracker JSON imports too"
jq -n --arg src "$BB_SRC" '{($src): {"CVE-2026-9999": {description: "test", releases: {
    bookworm: {status: "open", urgency: "high", repositories: {bookworm: "1"}}}}}}' \
    >"$T_DIR/tracker.json"
expect_cmd 0 "import the tracker document" "${AV[@]}" "${VO[@]}" vulndb import "$T_DIR/tracker.json" \
    --source debian-tracker --release bookworm
expect_cmd 0 "image scan attest-static:1: an unfixed high one is not over the default bar" \
    "${AV[@]}" "${VO[@]}" image scan --image localhost/attest-static:1
assert_contains "$T_OUT" "CVE-2026-9999" "busybox's open CVE is listed"
assert_contains "$T_OUT" "no fix" "... as without a fix"

section "a running container whose packages cannot be judged fails under running=quarantine"
jq --arg id "$NODBID" '.containers[0].images += [$id] | del(.containers[].vulnerabilities)' \
    "$T_DIR/policy.json" >"$T_DIR/policy-nobar.json"
"${AV[@]}" "${V[@]}" policy apply apps "$T_DIR/policy-nobar.json" >/dev/null || die "policy apply"
sleep 3
N=$("$PODMAN" run -d localhost/attest-nodb:1 /bin/sleep 600) || die "N did not start without a bar"
pass "container N (os-release, no package database) started under a policy without a bar"
jq --arg id "$NODBID" '.containers[0].images += [$id]
    | .containers[0].vulnerabilities = {refuse_at: "high", running: "quarantine"}' \
    "$T_DIR/policy.json" >"$T_DIR/policy-q.json"
"${AV[@]}" "${V[@]}" policy apply apps "$T_DIR/policy-q.json" >/dev/null || die "policy apply"
wait_verdict "$N" "quarantined packages-unknown" "N fails (its packages cannot be judged) and is quarantined"
wait_until 20 bash -c "[[ \$('$PODMAN' inspect --format '{{.State.Status}}' '$N') == paused ]]" &&
    pass "N is quarantined (paused)" || fail "N was not paused"
"$PODMAN" rm -f "$N" >/dev/null 2>&1 || true

section "a stale feed is not judged with"
osv ATT-OLD "$LIBC_SRC" "$LIBC_SRCVER+attest9" "$HIGH" 2020-01-01T00:00:00Z >"$T_DIR/old.json"
expect_cmd 0 "import a feed of 2020" "${AV[@]}" "${VO[@]}" vulndb import "$T_DIR/old.json"
assert_contains "$T_OUT" "STALE" "the import says it is stale"
expect_cmd 2 "image scan refuses to judge" "${AV[@]}" "${VO[@]}" image scan --image localhost/attest-dyn:1
assert_contains "$T_OUT" "old" "says the feed is too old"
sleep 3
expect_cmd 126 "the hook refuses starts under a gated policy" "$PODMAN" run --rm \
    localhost/attest-static:1 /bin/busybox true
assert_contains "$T_OUT" "refusing to judge" "and says why"
N=$(jq 'length' <<<"$(feeds_json)")
assert_eq "$N" "5" "five feeds stored (append-only history)"

section "the age limit is configurable: a policy's max_feed_age, the verifier's --vulndb-max-age"
TWO_H=$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ)
osv ATT-2H "$LIBC_SRC" "1.0-1" "$HIGH" "$TWO_H" >"$T_DIR/two-hours.json"
expect_cmd 0 "import a feed of two hours ago" "${AV[@]}" "${VO[@]}" vulndb import "$T_DIR/two-hours.json"
static_bar() { # static_bar MAX_AGE: the static image's container policy with this max_feed_age
    jq --argjson a "$1" '.containers[1].vulnerabilities = {refuse_at: "high", max_feed_age: $a}' \
        "$T_DIR/policy.json" >"$T_DIR/policy-age.json"
    "${AV[@]}" "${V[@]}" policy apply apps "$T_DIR/policy-age.json" >/dev/null || die "policy apply"
    sleep 3
}
static_bar 3600
expect_cmd 126 "max_feed_age 3600: refused with a two-hour-old feed" "$PODMAN" run --rm \
    localhost/attest-static:1 /bin/busybox true
assert_contains "$T_OUT" "refusing to judge" "says the feed is too old for the policy"
static_bar 86400
expect_cmd 0 "max_feed_age 86400: the same feed judges, the start passes" "$PODMAN" run --rm \
    localhost/attest-static:1 /bin/busybox true
expect_cmd 0 "image scan under the verifier's default (120 h)" "${AV[@]}" "${VO[@]}" image scan \
    --image localhost/attest-static:1
stop_verifier v
start_verifier v "$DB" --insecure-dev --interval 1 --log-level info --tpm-ca "$RIG/ca/root.pem" \
    --tpm-ca "$RIG/ca/intermediate.pem" --vulndb-max-age 3600
VO=(--verifier "${VERIFIER_URL[v]}" --token "$OPS")
V=(--verifier "${VERIFIER_URL[v]}" --token "$ADM")
expect_cmd 2 "image scan under --vulndb-max-age 3600 refuses to judge" "${AV[@]}" "${VO[@]}" \
    image scan --image localhost/attest-static:1
assert_contains "$T_OUT" "refusing to judge" "says why"
expect_cmd 2 "a bad --vulndb-max-age is refused" "$ATT_BIN/attest-verifier" --db "$T_DIR/other.db" \
    --listen 127.0.0.1:0 --insecure-dev --vulndb-max-age 5
assert_contains "$T_OUT" "vulndb-max-age" "names the flag"
expect_cmd 2 "a --vulndb-max-bytes above what agents accept is refused" "$ATT_BIN/attest-verifier" \
    --db "$T_DIR/other.db" --listen 127.0.0.1:0 --insecure-dev --vulndb-max-bytes 999999999
assert_contains "$T_OUT" "vulndb-max-bytes" "names the flag"

"$PODMAN" rm -f "$C" >/dev/null 2>&1 || true
stop_verifier v
stop_agent a
finish
