#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# with-swtpm.sh CMD [ARGS...]: run CMD against a private swtpm.
#
# Brings up a one-host rig (swtpm-setup/rig) in a fresh temporary directory,
# exports ATT_TEST_TCTI (the TCTI config string of host-1), ATT_TEST_RIG (the
# rig directory) and ATT_TEST_CA (its CA directory: root.pem, intermediate.pem,
# chain.pem), runs CMD, then always stops the swtpm and removes the directory.
# Exits with CMD's exit status. ctest runs the test_tpm* unit tests through it.
set -euo pipefail

if (($# == 0)) || [[ $1 == -h || $1 == --help ]]; then
    echo "usage: with-swtpm.sh CMD [ARGS...]" >&2
    exit 2
fi

rig="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/swtpm-setup/rig"
dir=$(mktemp -d "${TMPDIR:-/tmp}/att-swtpm.XXXXXX")

# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
    "$rig" down "$dir" || echo "with-swtpm.sh: warning: 'rig down $dir' failed" >&2
    rm -rf -- "$dir"
}
trap cleanup EXIT
# Turn signals into an ordinary exit so that the EXIT trap runs.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

if ! "$rig" up "$dir" >&2; then
    echo "with-swtpm.sh: could not bring up a swtpm in $dir" >&2
    exit 1
fi
ATT_TEST_TCTI=$(cat -- "$dir/host-1/tcti")
export ATT_TEST_TCTI ATT_TEST_RIG="$dir" ATT_TEST_CA="$dir/ca"

status=0
"$@" || status=$?
exit "$status"
