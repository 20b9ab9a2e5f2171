#!/usr/bin/env bash
# Installs what is missing, builds and runs the whole test suite:
#   1. gcc build, every test (ctest)
#   2. clang build (warnings as errors) with ASan + UBSan, every test but those
#      labelled nosan (which build whole projects or are timed by valgrind)
#   3. valgrind memcheck of the end-to-end tests (label memcheck, gcc build)
#   4. libFuzzer targets, each for a bounded time
# MOOSE_TEST_QUICK=1 runs step 1 only. Each step's time is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=$(nproc)
# Most tests wait rather than compute (group joins on the embedded broker,
# faults held for seconds, servers stopped and resumed): the gcc run of the
# whole suite uses about a sixth of its wall time in CPU. So ctest runs six
# tests per core (docs/testing.md has the figures); MOOSE_TEST_JOBS
# overrides. valgrind computes far more: two per core.
test_jobs=${MOOSE_TEST_JOBS:-$((jobs * 6))}
memcheck_jobs=$((jobs * 2))

bash scripts/deps.sh test

times=()
step_name=
step_start=$SECONDS
step_end() {
  [ -n "$step_name" ] && times+=("$(printf '%4d s  %s' $((SECONDS - step_start)) "$step_name")")
  step_start=$SECONDS
}
step() {
  step_end
  step_name=$*
  printf '\n==> %s\n' "$*"
}
summary() {
  step_end
  printf '\n==> time per step\n'
  printf '%s\n' "${times[@]}"
  printf '%4d s  in all\n' "$SECONDS"
}
trap 'summary' EXIT

step "gcc build"
# Tests ON explicitly: scripts/demo.sh may have configured build/ without them (no cmocka yet).
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc -DMOOSE_BUILD_TESTS=ON >/dev/null
cmake --build build -j"$jobs"
step "gcc: tests"
ctest --test-dir build --output-on-failure -j"$test_jobs" -LE memcheck

if [ "${MOOSE_TEST_QUICK:-0}" = 1 ]; then
  exit 0
fi

step "clang build (warnings are errors) with ASan + UBSan"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DMOOSE_SANITIZE=ON \
  -DMOOSE_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j"$jobs"
step "ASan + UBSan: tests"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$test_jobs" -LE nosan

step "valgrind memcheck (no leaks, no invalid accesses)"
ctest --test-dir build --output-on-failure -j"$memcheck_jobs" -L memcheck

step "fuzz build"
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DMOOSE_FUZZ=ON \
  -DMOOSE_BUILD_BENCH=OFF -DMOOSE_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz_targets
step "fuzz targets (bounded runs)"
ctest --test-dir build-fuzz --output-on-failure -j"$jobs" -L fuzz
