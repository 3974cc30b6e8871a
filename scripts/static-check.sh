#!/usr/bin/env bash
# Static analysis run by `make check` (shared/STYLE.md §9). Both tools must be clean:
#   clang-tidy  .clang-tidy (and tests/.clang-tidy) over every C file of the
#               compile database: libraries, daemons, CLI, tests, fuzz targets
#               and bench, which all build with -Werror in make check too.
#   cppcheck    agent/ common/ proto/ verifier/, suppressions in
#               scripts/cppcheck.supp or inline: /* cppcheck-suppress id ; why */
# Usage: scripts/static-check.sh [BUILD_DIR [CMAKE_ARG...]]
#   BUILD_DIR (default build-static) is configured, never built: its
#   compile_commands.json drives both tools and it keeps their caches. A file
#   whose preprocessed text (comments kept), flags, .clang-tidy files, tool
#   version and this script are unchanged since a clean clang-tidy run is not
#   analysed again; cppcheck keeps its own --cppcheck-build-dir.
# Environment: JOBS (default 2) parallel runs; ATT_STATIC_NOCACHE=1 analyses all.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${1:-build-static}
[ $# -gt 0 ] && shift
jobs=${JOBS:-2}

for t in cmake python3 clang-tidy cppcheck; do
    command -v "$t" >/dev/null || { echo "static: $t not found (scripts/install-deps.sh)"; exit 1; }
done
mkdir -p "$build"
build=$(cd "$build" && pwd)
if ! cmake -S . -B "$build" -DATT_WERROR=ON "$@" >"$build/static-cmake.log" 2>&1; then
    cat "$build/static-cmake.log"
    echo "static: cmake configure failed"
    exit 1
fi
db=$build/compile_commands.json
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0

# ---- clang-tidy -------------------------------------------------------------
# The database's compiler is gcc: clang 14 refuses -ftrivial-auto-var-init=zero
# without an opt-in flag, so analyse with the default (no effect on findings).
tidy_one() {
    local key=${1%% *} file=${1#* }
    if clang-tidy --quiet -p="$build" --extra-arg=-ftrivial-auto-var-init=uninitialized \
        "$file" >"$work/tidy.$key" 2>&1; then
        : >"$cache/$key"
    else
        mv "$work/tidy.$key" "$work/fail.$key"
    fi
}
export -f tidy_one
export build work
export cache=$build/static-cache/clang-tidy
mkdir -p "$cache"
start=$SECONDS
python3 - "$db" "$root" "$cache" "$jobs" "${ATT_STATIC_NOCACHE:-0}" "$root/scripts/static-check.sh" \
    >"$work/todo" <<'PY'
import concurrent.futures, hashlib, json, os, shlex, subprocess, sys

db, root, cache, jobs, nocache, script = sys.argv[1:]
entries = {}
for e in json.load(open(db)):
    f = os.path.normpath(os.path.join(e["directory"], e["file"]))
    if f.startswith(root + os.sep):
        entries.setdefault(f, e)  # a file built into several targets: once
common = hashlib.sha256()
common.update(subprocess.run(["clang-tidy", "--version"], capture_output=True).stdout)
common.update(open(script, "rb").read())  # the clang-tidy flags are in there


def key(item):
    f, e = item
    args = shlex.split(e["command"]) if "command" in e else list(e["arguments"])
    cmd, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a == "-o":
            skip = True
        elif a != "-c":
            cmd.append(a)
    h = common.copy()
    h.update(repr(cmd).encode())
    d = os.path.dirname(f)
    while d.startswith(root):  # every .clang-tidy that applies to f
        p = os.path.join(d, ".clang-tidy")
        if os.path.exists(p):
            h.update(open(p, "rb").read())
        d = os.path.dirname(d)
    pp = subprocess.run(cmd[:1] + ["-E", "-C"] + cmd[1:], cwd=e["directory"],
                        capture_output=True)
    h.update(pp.stdout if pp.returncode == 0 else os.urandom(16))
    return h.hexdigest(), f


with concurrent.futures.ThreadPoolExecutor(int(jobs)) as ex:
    keyed = list(ex.map(key, sorted(entries.items())))
keys = {h for h, _ in keyed}
for name in os.listdir(cache):  # results for files that no longer look like that
    if name not in keys:
        os.remove(os.path.join(cache, name))
print(len(keyed))  # then the files to analyse, "key path" per line, largest first
for h, f in sorted(keyed, key=lambda kf: -os.path.getsize(kf[1])):
    if nocache == "1" or not os.path.exists(os.path.join(cache, h)):
        print(h, f)
PY
total=$(head -n 1 "$work/todo")
todo=$(($(wc -l <"$work/todo") - 1))
tail -n +2 "$work/todo" | xargs -d '\n' -r -P "$jobs" -I{} bash -c 'tidy_one "$1"' _ {}
tidy_s=$((SECONDS - start))
if compgen -G "$work/fail.*" >/dev/null; then
    cat "$work"/fail.* | grep -v -E '^[0-9]+ (warning|error)s? (and [0-9]+ errors? )?generated\.$'
    nfind=$(cat "$work"/fail.* | grep -E ': (warning|error): .*\[[^]]+\]$' | sort -u | wc -l)
    nfail=$(find "$work" -name 'fail.*' | wc -l)
    echo "static: clang-tidy: FAILED, $nfind findings in $nfail of $total files, ${tidy_s}s"
    fail=1
else
    echo "static: clang-tidy: clean, $total files ($todo analysed, $((total - todo)) unchanged" \
         "since a clean run), ${tidy_s}s"
fi

# ---- cppcheck ---------------------------------------------------------------
# The libraries, daemons and CLI; posix/openssl/libcurl/sqlite3 tell cppcheck
# what those APIs allocate, free and refuse.
start=$SECONDS
dirs=(agent common proto verifier)
filters=()
for d in "${dirs[@]}"; do
    filters+=("--file-filter=$root/$d/*")
done
ncpp=$(python3 -c 'import json, sys; print(len({e["file"] for e in json.load(open(sys.argv[1]))
    if any(e["file"].startswith(sys.argv[2] + "/" + d + "/") for d in sys.argv[3:])}))' \
    "$db" "$root" "${dirs[@]}")
mkdir -p "$build/static-cache/cppcheck"
if cppcheck --project="$db" "${filters[@]}" \
    --enable=warning,performance,portability \
    --library=posix --library=openssl --library=libcurl --library=sqlite3 \
    --inline-suppr --suppressions-list=scripts/cppcheck.supp --error-exitcode=1 \
    --cppcheck-build-dir="$build/static-cache/cppcheck" -j "$jobs" --quiet \
    --template='{file}:{line}:{column}: {severity}: {message} [{id}]\n{code}' \
    2>"$work/cppcheck.log"; then
    echo "static: cppcheck: clean, $ncpp files, $((SECONDS - start))s"
else
    cat "$work/cppcheck.log"
    nfind=$(grep -c -E '^[^ ].*:[0-9]+:[0-9]+: [a-z]+: .*\[[A-Za-z0-9_]+\]$' "$work/cppcheck.log" || true)
    echo "static: cppcheck: FAILED, $nfind findings in $ncpp files, $((SECONDS - start))s"
    fail=1
fi
exit $fail
