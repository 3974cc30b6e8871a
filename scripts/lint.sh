#!/usr/bin/env bash
# Source checks run by `make check`: banned C functions (shared/STYLE.md §9)
# and shell syntax of the project's scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
banned=$(git grep -n -E '\b(sprintf|strcpy|strcat|atoi|atol|gets|strtok|rand|system|alloca)\s*\(' \
    -- '*.c' '*.h' | grep -v -E 'snprintf|vsnprintf' || true)
if [ -n "$banned" ]; then
    echo "lint: banned functions (use snprintf, strtoul with end check, RAND_bytes):"
    echo "$banned"
    fail=1
fi
for f in swtpm-setup/rig scripts/*.sh tests/integration/*.sh demo/*.sh .ci/run; do
    [ -f "$f" ] || continue
    bash -n "$f" || { echo "lint: syntax error in $f"; fail=1; }
done
[ $fail -eq 0 ] && echo "lint: ok"
exit $fail
