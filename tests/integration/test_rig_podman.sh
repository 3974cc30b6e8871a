#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# test_rig_podman.sh: the private podman of "rig up --podman" (DESIGN.md §9).
#
# Two hosts, each with its own podman (vfs, runc, hooks dir, API service):
# both API services answer and list the three offline-built images with the
# IDs the rig recorded; dynamic and static images run on both hosts; an OCI
# hook installed by "rig hook" sees every start on its host only (the OCI
# state on stdin), a failing hook refuses the start (the container never
# runs), --remove restores; the two storages are separate; image IDs are
# reproducible; "down" stops running containers and services and leaves no
# mount and no podman or conmon process behind, so "rm -rf" works.
# Ends with "N passed, M failed". Needs root, podman, runc, busybox-static.
# $((...)) in single quotes is for the container's sh:
# shellcheck disable=SC2016
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

readonly IMAGES=(localhost/attest-dyn:1 localhost/attest-dyn:2 localhost/attest-static:1)
HOOK_DIR=$T_DIR/hook
# API answers; not in out/, whose sanitizer scan would misread podman's
# "OCI runtime error:" in a refused start.
mkdir -p "$T_DIR/engine"
ENGINE_STATUS=""
ENGINE_OUT=""
T_ENGINE_N=0

# engine_get K PATH: GET PATH from host K's API socket. Sets ENGINE_STATUS
# ("000": no answer) and ENGINE_OUT (body file).
engine_get() {
    local k=$1 path=$2
    T_ENGINE_N=$((T_ENGINE_N + 1))
    ENGINE_OUT=$T_DIR/engine/$T_ENGINE_N.json
    ENGINE_STATUS=$(curl -sS --max-time 30 --unix-socket "$RIG/host-$k/podman.sock" \
        -o "$ENGINE_OUT" -w '%{http_code}' "http://d$path" 2>"$ENGINE_OUT.err") || true
    [[ -n $ENGINE_STATUS ]] || ENGINE_STATUS=000
}

# engine_post K PATH [JSON]: POST to host K's API socket (as engine_get).
engine_post() {
    local k=$1 path=$2 body=${3-}
    local -a data=()
    [[ -n $body ]] && data=(-H 'Content-Type: application/json' --data-binary "$body")
    T_ENGINE_N=$((T_ENGINE_N + 1))
    ENGINE_OUT=$T_DIR/engine/$T_ENGINE_N.json
    ENGINE_STATUS=$(curl -sS --max-time 30 --unix-socket "$RIG/host-$k/podman.sock" -X POST \
        "${data[@]}" -o "$ENGINE_OUT" -w '%{http_code}' "http://d$path" 2>"$ENGINE_OUT.err") || true
    [[ -n $ENGINE_STATUS ]] || ENGINE_STATUS=000
}

# expect_engine CODE DESC: the last engine call answered HTTP CODE.
expect_engine() {
    if [[ $ENGINE_STATUS == "$1" ]]; then
        pass "$2 (HTTP $1)"
        return 0
    fi
    fail "$2: expected HTTP $1, got $ENGINE_STATUS"
    show_file "$ENGINE_OUT"
    show_file "$ENGINE_OUT.err"
    return 1
}

# hook_calls: how many times the test hook ran (one state file per call).
hook_calls() {
    find "$HOOK_DIR" -name 'state-*.json' | wc -l
}

# newest_state: the state file of the hook's latest call.
newest_state() {
    # shellcheck disable=SC2012 # the names are ours: state-PID.json
    ls -t "$HOOK_DIR"/state-*.json 2>/dev/null | head -n1
}

# Pids of podman or conmon processes whose command line names $1.
podman_procs_under() {
    local p comm cmd
    for p in /proc/[0-9]*; do
        comm=$(cat -- "$p/comm" 2>/dev/null) || continue
        [[ $comm == podman || $comm == conmon ]] || continue
        cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
        [[ $cmd == *"$1/"* ]] && printf '%s ' "${p#/proc/}"
    done
    return 0
}

mounts_under() {
    awk -v p="$1/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo
}

# ------------------------------------------------------------------- up
section "rig up --hosts 2 --podman"
for t in podman runc curl jq busybox; do
    command -v "$t" >/dev/null || die "this test needs '$t' (scripts/install-deps.sh test)"
done
(($(id -u) == 0)) || die "this test needs root (rootful podman)"
cp -- "$ATT_SRC/swtpm-setup/rig" "$T_RIG_CMD" || die "cannot copy the rig script"
chmod +x "$T_RIG_CMD"
RIG=$T_DIR/rig
t0=$SECONDS
if ! "$T_RIG_CMD" up "$RIG" --hosts 2 --podman >"$T_DIR/out/rig-up.txt" 2>&1; then
    die "rig up $RIG --hosts 2 --podman failed" "$T_DIR/out/rig-up.txt"
fi
pass "rig up --hosts 2 --podman ($((SECONDS - t0))s)"
sed 's/^/# /' "$T_DIR/out/rig-up.txt"
for img in "${IMAGES[@]}"; do
    assert_match "$T_DIR/out/rig-up.txt" "^$img [0-9a-f]{64} [0-9]+$" "up prints $img with its ID and size"
done

# ------------------------------------------------------- API services
section "API services"
for k in 1 2; do
    assert_eq "$(cat "$RIG/host-$k/engine" 2>/dev/null)" "unix://$RIG/host-$k/podman.sock" \
        "host-$k/engine names its socket"
    if [[ -x $RIG/host-$k/podman ]]; then
        pass "host-$k/podman is an executable wrapper"
    else
        fail "host-$k/podman is an executable wrapper"
    fi
    engine_get "$k" /v1.40/containers/json
    if expect_engine 200 "host-$k: GET /v1.40/containers/json"; then
        assert_eq "$(jget "$ENGINE_OUT" 'type')" array "host-$k: containers/json is a JSON array"
    fi
    engine_get "$k" /v1.40/images/json
    expect_engine 200 "host-$k: GET /v1.40/images/json"
    jq -r '.[] | .RepoTags[]? as $t | "\($t) \(.Id | sub("^sha256:"; ""))"' "$ENGINE_OUT" \
        2>/dev/null | sort >"$T_DIR/out/images-$k.txt"
    for img in "${IMAGES[@]}"; do
        want=$(awk -v n="$img" '$1 == n { print $2 }' "$RIG/images/ids")
        assert_contains "$T_DIR/out/images-$k.txt" "$img $want" \
            "host-$k: images/json lists $img with the ID the rig built (${want:0:12})"
    done
done
expect_cmd 0 "rig status" "$T_RIG_CMD" status "$RIG"
for k in 1 2; do
    assert_match "$T_OUT" "^host-$k/podman unix://$RIG/host-$k/podman.sock up$" \
        "status: host-$k/podman is up"
done

# ------------------------------------------------------------ containers
section "containers: dynamic and static images"
for k in 1 2; do
    expect_cmd 0 "host-$k: attest-dyn:1 runs /bin/ls /" \
        "$RIG/host-$k/podman" run --rm localhost/attest-dyn:1 /bin/ls /
    assert_match "$T_OUT" '^usr$' "host-$k: ls / lists usr"
    assert_match "$T_OUT" '^etc$' "host-$k: ls / lists etc"
done
# The host's own ls and cat are dynamic, so their libraries must resolve.
if [[ $(ldd /bin/ls 2>/dev/null) == *libc.so* ]]; then # no grep -q: SIGPIPE under pipefail
    pass "/bin/ls of this machine is dynamically linked (ldd lists libc)"
else
    fail "/bin/ls of this machine is dynamically linked (ldd lists libc)"
fi
expect_cmd 0 "attest-dyn:1: dynamic cat reads /etc/passwd" \
    "$RIG/host-1/podman" run --rm localhost/attest-dyn:1 /bin/cat /etc/passwd
assert_match "$T_OUT" '^root:x:0:0:' "the image's /etc/passwd has root"
expect_cmd 0 "attest-dyn:1: /usr/bin/env runs sh (dash) running sleep" \
    "$RIG/host-1/podman" run --rm localhost/attest-dyn:1 /usr/bin/env sh -c 'sleep 0; echo dash-$((6 * 7))'
assert_contains "$T_OUT" "dash-42"
libc=$(ldd /bin/ls | awk '$1 == "libc.so.6" { print $3 }')
expect_cmd 0 "attest-dyn:1 holds libc and the dynamic loader at their host paths" \
    "$RIG/host-2/podman" run --rm localhost/attest-dyn:1 /bin/ls -L "$libc" /lib64/ld-linux-x86-64.so.2
expect_cmd 0 "attest-dyn:2 has /usr/bin/id" "$RIG/host-2/podman" run --rm localhost/attest-dyn:2 /usr/bin/id -u
assert_match "$T_OUT" '^0$' "id -u in attest-dyn:2 is 0"
assert_fails "attest-dyn:1 has no /usr/bin/id" "$RIG/host-2/podman" run --rm localhost/attest-dyn:1 /usr/bin/id
layers1=$("$RIG/host-1/podman" image inspect --format '{{len .RootFS.Layers}}' localhost/attest-dyn:1 2>/dev/null)
layers2=$("$RIG/host-1/podman" image inspect --format '{{len .RootFS.Layers}}' localhost/attest-dyn:2 2>/dev/null)
assert_eq "$layers1/$layers2" "1/2" "attest-dyn:1 has one layer, attest-dyn:2 two"
for k in 1 2; do
    expect_cmd 0 "host-$k: attest-static:1 runs busybox" \
        "$RIG/host-$k/podman" run --rm localhost/attest-static:1 /bin/busybox echo static-ok
    assert_contains "$T_OUT" "static-ok"
done
expect_cmd 0 "attest-static:1: busybox sh and applet links" \
    "$RIG/host-1/podman" run --rm localhost/attest-static:1 sh -c 'ls /bin/cat && echo bb-$((6 * 7))'
assert_contains "$T_OUT" "bb-42"
expect_cmd 0 "containers have no network (netns none)" \
    "$RIG/host-1/podman" run --rm localhost/attest-static:1 cat /proc/net/dev
assert_not_contains "$T_OUT" "eth0" "no eth0 in the container"

# ------------------------------------------------------------------ hook
section "OCI hook"
mkdir -p "$HOOK_DIR"
cat >"$T_DIR/hook.sh" <<'EOF'
#!/bin/sh
# Test hook: record the OCI state (stdin) and argv; refuse if DIR/fail exists.
dir=$1
cat >"$dir/state-$$.json.tmp" && mv "$dir/state-$$.json.tmp" "$dir/state-$$.json"
printf '%s\n' "$*" >>"$dir/args"
if [ -e "$dir/fail" ]; then
    echo "test hook refuses this container" >&2
    exit 3
fi
exit 0
EOF
chmod +x "$T_DIR/hook.sh"

expect_cmd 0 "rig hook 1 --path hook.sh --arg DIR --arg extra" \
    "$T_RIG_CMD" hook "$RIG" 1 --path "$T_DIR/hook.sh" --arg "$HOOK_DIR" --arg extra
hook_json=$RIG/host-1/podman.d/hooks/attest.json
assert_eq "$(jget "$hook_json" '.hook.path + " " + (.hook.args | join(" ")) + " " + (.stages | join(","))')" \
    "$T_DIR/hook.sh hook.sh $HOOK_DIR extra prestart" "attest.json: path, args and stage"
assert_eq "$(jget "$hook_json" '.when.always')" true "attest.json: when always"

n0=$(hook_calls)
expect_cmd 0 "host-1: a container starts with the hook installed" \
    "$RIG/host-1/podman" run --name hooked localhost/attest-dyn:1 /bin/sh -c 'echo ran-$((1 + 1))'
assert_contains "$T_OUT" "ran-2" "the container ran"
assert_eq "$(hook_calls)" "$((n0 + 1))" "the hook ran once for that start"
state=$(newest_state)
cid=$("$RIG/host-1/podman" inspect --format '{{.Id}}' hooked 2>/dev/null)
assert_eq "$(jget "$state" '.id')" "$cid" "the hook's stdin is the OCI state of that container (id)"
spid=$(jget "$state" '.pid')
if [[ $spid =~ ^[1-9][0-9]*$ ]]; then
    pass "the OCI state has the container's pid ($spid)"
else
    fail "the OCI state has the container's pid" "pid: '$spid'"
    show_file "$state"
fi
bundle=$(jget "$state" '.bundle')
rootpath=$(jget "$bundle/config.json" '.root.path')
if [[ -n $rootpath && -d $rootpath ]]; then
    pass "bundle/config.json names the container's root ($rootpath)"
else
    fail "bundle/config.json names the container's root" "bundle '$bundle', root.path '$rootpath'"
fi
assert_eq "$(tail -n1 "$HOOK_DIR/args" 2>/dev/null)" "$HOOK_DIR extra" "the hook got its --arg values"
expect_cmd 0 "remove the hooked container" "$RIG/host-1/podman" rm -f hooked

n0=$(hook_calls)
expect_cmd 0 "host-2: a container starts" "$RIG/host-2/podman" run --rm localhost/attest-dyn:1 /bin/cat /etc/group
assert_eq "$(hook_calls)" "$n0" "host-1's hook does not run for host-2"

# A container started through the API service sees the hook too. Podman
# 4.3's Docker API ignores netns="none" from containers.conf and would put a
# container on its bridge network (refused by the rig: no CNI plugins), so
# API clients ask for no network themselves.
API_BODY='{"Image":"localhost/attest-dyn:1","Cmd":["/bin/cat","/etc/passwd"],"HostConfig":{"NetworkMode":"none"}}'
engine_post 1 "/v1.40/containers/create?name=via-api" \
    "$API_BODY"
expect_engine 201 "host-1 API: create a container"
api_id=$(jget "$ENGINE_OUT" '.Id')
n0=$(hook_calls)
engine_post 1 "/v1.40/containers/$api_id/start"
expect_engine 204 "host-1 API: start it"
assert_eq "$(hook_calls)" "$((n0 + 1))" "the hook ran for the API start"
assert_eq "$(jget "$(newest_state)" '.id')" "$api_id" "the hook saw the API container's id"
engine_post 1 "/v1.40/containers/$api_id/wait"
expect_engine 200 "host-1 API: wait for it"
assert_eq "$(jget "$ENGINE_OUT" '.StatusCode')" 0 "the API container exited 0"
engine_get 1 "/v1.40/containers/$api_id/json"
expect_engine 200 "host-1 API: inspect it"
assert_eq "$(jget "$ENGINE_OUT" '.HostConfig.NetworkMode + " " + (.NetworkSettings.Networks | length | tostring)')" \
    "none 0" "the API container had no network"

touch "$HOOK_DIR/fail"
n0=$(hook_calls)
expect_cmd 126 "host-1: a failing hook refuses the start" \
    "$RIG/host-1/podman" run --name refused localhost/attest-dyn:1 /bin/sh -c 'echo ran-$((1 + 1))'
assert_not_contains "$T_OUT" "ran-2" "the refused container's command never ran"
assert_contains "$T_OUT" "test hook refuses this container" "podman shows the hook's stderr"
assert_eq "$(hook_calls)" "$((n0 + 1))" "the hook ran and refused"
# podman says "OCI runtime error:", which lib.sh's sanitizer scan of out/
# would take for UBSan's "runtime error:"; keep that output elsewhere.
mkdir -p "$T_DIR/podman-errors"
mv -- "$T_OUT" "$T_DIR/podman-errors/refused.txt"
st=$("$RIG/host-1/podman" inspect --format '{{.State.Status}} {{.State.Pid}} {{.State.StartedAt.IsZero}}' refused 2>&1)
assert_eq "$st" "created 0 true" "the refused container never started (status, pid, StartedAt)"
engine_post 1 "/v1.40/containers/create?name=refused-api" \
    "$API_BODY"
expect_engine 201 "host-1 API: create another container"
engine_post 1 "/v1.40/containers/$(jget "$ENGINE_OUT" '.Id')/start"
expect_engine 500 "host-1 API: the failing hook refuses its start"
assert_contains "$ENGINE_OUT" "test hook refuses this container" "the API error has the hook's stderr"

expect_cmd 0 "rig hook 1 --remove" "$T_RIG_CMD" hook "$RIG" 1 --remove
if [[ ! -e $hook_json ]]; then
    pass "--remove deleted attest.json"
else
    fail "--remove deleted attest.json"
fi
n0=$(hook_calls)
expect_cmd 0 "host-1: containers start again after --remove (fail marker still there)" \
    "$RIG/host-1/podman" run --rm localhost/attest-dyn:1 /bin/sh -c 'echo ran-$((1 + 1))'
assert_contains "$T_OUT" "ran-2"
assert_eq "$(hook_calls)" "$n0" "no hook ran after --remove"
expect_cmd 0 "rig hook --remove again is OK" "$T_RIG_CMD" hook "$RIG" 1 --remove

# ------------------------------------------------------- separate storages
section "separate storages"
g1=$("$RIG/host-1/podman" info --format '{{.Store.GraphRoot}}' 2>/dev/null)
g2=$("$RIG/host-2/podman" info --format '{{.Store.GraphRoot}}' 2>/dev/null)
assert_eq "$g1 $g2" "$RIG/host-1/podman.d/root $RIG/host-2/podman.d/root" "each host has its own graphroot"
r1=$("$RIG/host-1/podman" info --format '{{.Store.RunRoot}}' 2>/dev/null)
r2=$("$RIG/host-2/podman" info --format '{{.Store.RunRoot}}' 2>/dev/null)
if [[ -n $r1 && -n $r2 && $r1 != "$r2" && ${#r1} -le 50 && $(readlink "$RIG/host-1/podman.d/run") == "$r1" ]]; then
    pass "each host has its own runroot of at most 50 characters, linked from podman.d/run ($r1, $r2)"
else
    fail "each host has its own runroot of at most 50 characters, linked from podman.d/run" "$r1 $r2"
fi
d1=$("$RIG/host-1/podman" info --format '{{.Store.GraphDriverName}} {{.Host.OCIRuntime.Name}} {{.Host.CgroupManager}}' 2>/dev/null)
assert_eq "$d1" "vfs runc cgroupfs" "host-1 podman: vfs, runc, cgroupfs"
expect_cmd 0 "host-1: tag an image only there" "$RIG/host-1/podman" tag localhost/attest-dyn:1 localhost/only-on-1:1
expect_cmd 0 "host-1: create a container only there" \
    "$RIG/host-1/podman" create --name only-on-1 localhost/attest-dyn:1 /bin/sleep 1
expect_cmd 0 "host-1 has that image" "$RIG/host-1/podman" image exists localhost/only-on-1:1
expect_cmd 1 "host-2 does not have that image" "$RIG/host-2/podman" image exists localhost/only-on-1:1
expect_cmd 0 "host-1 has that container" "$RIG/host-1/podman" container exists only-on-1
expect_cmd 1 "host-2 does not have that container" "$RIG/host-2/podman" container exists only-on-1
engine_get 2 "/v1.40/containers/json?all=true"
expect_engine 200 "host-2 API: all containers"
assert_not_contains "$ENGINE_OUT" "only-on-1" "host-2's API does not list host-1's container"
engine_get 1 "/v1.40/containers/json?all=true"
assert_contains "$ENGINE_OUT" "only-on-1" "host-1's API lists it"

# ------------------------------------------------------ reproducible images
section "reproducible images"
cp -- "$RIG/images/ids" "$T_DIR/out/ids-before"
t0=$SECONDS
expect_cmd 0 "rig images rebuilds and reloads" "$T_RIG_CMD" images "$RIG"
log "rig images took $((SECONDS - t0))s"
if cmp -s "$T_DIR/out/ids-before" "$RIG/images/ids"; then
    pass "a rebuild gives the same image IDs"
else
    fail "a rebuild gives the same image IDs"
    show_file "$T_DIR/out/ids-before"
    show_file "$RIG/images/ids"
fi
for img in "${IMAGES[@]}"; do
    want=$(awk -v n="$img" '$1 == n { print $2 }' "$RIG/images/ids")
    assert_match "$T_OUT" "^$img $want [0-9]+$" "rig images prints $img ${want:0:12}"
    assert_eq "$("$RIG/host-2/podman" image inspect --format '{{.Id}}' "$img" 2>/dev/null)" "$want" \
        "host-2 has $img as $want"
done

# -------------------------------------------------------------- bad args
section "bad arguments"
expect_cmd 2 "hook with a relative --path" "$T_RIG_CMD" hook "$RIG" 1 --path hook.sh
expect_cmd 2 "hook without --path or --remove" "$T_RIG_CMD" hook "$RIG" 1
expect_cmd 2 "hook with an unknown stage" "$T_RIG_CMD" hook "$RIG" 1 --path "$T_DIR/hook.sh" --stage nope
expect_cmd 1 "hook with a path that is not executable" \
    "$T_RIG_CMD" hook "$RIG" 1 --path "$RIG/images/ids"
expect_cmd 1 "hook on a host beyond the rig" "$T_RIG_CMD" hook "$RIG" 3 --remove
expect_cmd 2 "hook without K" "$T_RIG_CMD" hook "$RIG"
expect_cmd 1 "up on a rig whose podman is up" "$T_RIG_CMD" up "$RIG" --hosts 2 --podman
expect_cmd 1 "images on a directory that is not a rig" "$T_RIG_CMD" images "$T_DIR/out"

# ------------------------------------------------------------------ down
section "down"
for k in 1 2; do
    expect_cmd 0 "host-$k: a container keeps running in the background" \
        "$RIG/host-$k/podman" run -d --name busy-$k localhost/attest-dyn:1 /bin/sleep 600
done
RUNROOTS=("$(readlink "$RIG/host-1/podman.d/run")" "$(readlink "$RIG/host-2/podman.d/run")")
svc1=$(cat "$RIG/host-1/podman-service.pid" 2>/dev/null)
svc2=$(cat "$RIG/host-2/podman-service.pid" 2>/dev/null)
if [[ -n $(mounts_under "$RIG") ]]; then
    pass "running containers have mounts under the rig (shm)"
else
    log "no mounts under the rig while containers run"
fi
t0=$SECONDS
expect_cmd 0 "rig down" "$T_RIG_CMD" down "$RIG"
log "rig down took $((SECONDS - t0))s"
left=""
for p in $svc1 $svc2; do
    _t_is_live "$p" && left+="$p "
done
assert_eq "$left" "" "the API services are gone"
assert_eq "$(podman_procs_under "$RIG")" "" "no podman or conmon process of the rig is left"
assert_eq "$(mounts_under "$RIG")" "" "nothing is mounted under the rig"
for rr in "${RUNROOTS[@]}"; do
    if [[ ! -e $rr ]]; then
        pass "down removed the runroot $rr"
    else
        fail "down removed the runroot $rr"
    fi
done
expect_cmd 0 "rig status after down" "$T_RIG_CMD" status "$RIG"
for k in 1 2; do
    assert_match "$T_OUT" "^host-$k/podman .* down$" "status: host-$k/podman is down"
done
assert_eq "$("$RIG/host-1/podman" ps -a --format '{{.Names}}' 2>&1)" "" "host-1 has no containers left"
expect_cmd 0 "rig down again is OK" "$T_RIG_CMD" down "$RIG"
expect_cmd 0 "rm -rf of the rig works after down" rm -rf -- "$RIG"
if [[ ! -e $RIG ]]; then
    pass "the rig directory is gone"
else
    fail "the rig directory is gone"
fi

finish
