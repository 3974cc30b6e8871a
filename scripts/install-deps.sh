#!/usr/bin/env bash
# Install the Debian packages attest needs to build, test and demo, if any are
# missing. Idempotent and non-interactive; does nothing when all are present.
# Usage: scripts/install-deps.sh [build|test|all]   (default all)
set -euo pipefail

# make fuzz / check-fuzz: clang's libFuzzer runtime is in compiler-rt;
# libclang-rt-dev follows Debian's default clang.

build_pkgs=(cmake make gcc pkg-config libc6-dev
    libtss2-dev libssl-dev libcbor-dev libjansson-dev libmicrohttpd-dev
    libcurl4-openssl-dev libinih-dev libcmocka-dev libsqlite3-dev libgnutls28-dev libzip-dev libnftables-dev)
test_pkgs=(swtpm swtpm-tools tpm2-tools ima-evm-utils openssl curl procps iproute2 jq
    podman runc containernetworking-plugins busybox-static nftables zip
    cppcheck clang-tidy clang libclang-rt-dev faketime sqlite3)

case "${1:-all}" in
    build) want=("${build_pkgs[@]}") ;;
    test|all) want=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
    *) echo "install-deps: unknown set '$1' (build|test|all)" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "install-deps: not root and no sudo; please install: ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
