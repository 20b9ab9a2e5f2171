#!/usr/bin/env bash
# Installs what is missing, builds and runs the whole test suite:
#   1. gcc build, every test (ctest)
#   2. clang build (warnings as errors) with ASan + UBSan, every test but those
#      labelled nosan (which build whole projects or are timed by valgrind)
#   3. valgrind memcheck of the end-to-end tests (label memcheck, gcc build)
#   4. libFuzzer targets, each for a bounded time
# MOOSE_TEST_QUICK=1 runs step 1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=$(nproc)

bash scripts/deps.sh test

step() { printf '\n==> %s\n' "$*"; }

step "gcc build and tests"
# Tests ON explicitly: scripts/demo.sh may have configured build/ without them (no cmocka yet).
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc -DMOOSE_BUILD_TESTS=ON >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs" -LE memcheck

if [ "${MOOSE_TEST_QUICK:-0}" = 1 ]; then
  exit 0
fi

step "clang build (warnings are errors) with ASan + UBSan, and tests"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DMOOSE_SANITIZE=ON \
  -DMOOSE_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE nosan

step "valgrind memcheck (no leaks, no invalid accesses)"
ctest --test-dir build --output-on-failure -L memcheck

step "fuzz targets (bounded runs)"
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DMOOSE_FUZZ=ON \
  -DMOOSE_BUILD_BENCH=OFF -DMOOSE_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz_targets
ctest --test-dir build-fuzz --output-on-failure -j"$jobs" -L fuzz
