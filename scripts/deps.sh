#!/usr/bin/env bash
# Installs the Debian packages moose-c needs that are not installed yet.
#   scripts/deps.sh build   what building and running the examples needs
#   scripts/deps.sh test    that, plus what the test suite needs (servers, clients, fuzzing)
set -euo pipefail

profile=${1:-build}
build_pkgs=(cmake make gcc pkg-config flex bison libfl-dev
            libjansson-dev librdkafka-dev libsqlite3-dev sqlite3 libcurl4-openssl-dev
            libmicrohttpd-dev libpcre2-dev)
test_pkgs=(clang libclang-rt-14-dev llvm libcmocka-dev kcat valgrind curl
           clickhouse-server clickhouse-client prometheus python3)

pkgs=("${build_pkgs[@]}")
[ "$profile" = test ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  sudo=sudo
else
  sudo=
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# clickhouse-server's postinst must not start a system-wide server: tests start their own.
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
