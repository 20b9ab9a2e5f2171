#!/usr/bin/env bash
# ThreadSanitizer over the suites whose threads share state: the engine, the
# pipeline, the transport, the DLQ, the SQLite tables and the rebalance test.
# Usage: tests/tsan/run.sh [BUILD_DIR] (default build-tsan). Reports land in
# BUILD_DIR/tsan-reports; the script fails when one has a frame of runtime/.
# librdkafka is not instrumented: reports inside its frames alone are noise.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-tsan}
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_FLAGS="-fsanitize=thread -g -O1" -DMOOSE_BUILD_BENCH=OFF \
    -DMOOSE_BUILD_EXAMPLES=OFF >/dev/null
targets="test_linereader test_transform_ctx test_cli engine_app test_pipeline test_processes
  test_kcat test_cli_broker test_transport_basic test_transport_groups test_transport_kcat
  test_write_errors test_dlq test_sqlite_table test_sink test_rebalance"
# shellcheck disable=SC2086
nice -n 10 cmake --build "$build" -j2 --target $targets
cc -shared -fPIC -O1 -o "$build/libc11_threads_shim.so" "$root/tests/tsan/c11_threads_shim.c" -lpthread
reports=$build/tsan-reports
rm -rf "$reports" && mkdir -p "$reports"
# test_steady_state is left out: it interposes malloc, which ThreadSanitizer owns.
LD_PRELOAD=$build/libc11_threads_shim.so \
    TSAN_OPTIONS="log_path=$reports/tsan exitcode=0 report_signal_unsafe=0" \
    nice -n 10 ctest --test-dir "$build" --timeout 900 --output-on-failure \
    -R '^(engine_test_(linereader|transform_ctx|cli)|pipeline_|transport\.|dlq\.|tables\.sqlite|tables\.sink|rebalance_)'
# Ours: both racing accesses have a frame of this project. A race with one side only in
# librdkafka is its own synchronization, invisible to ThreadSanitizer.
ours=$(awk -v root="$root" '
    /^WARNING: ThreadSanitizer/ { inrep = 1; blk = 1; n = 0; a1 = a2 = 0; start = NR; next }
    !inrep { next }
    /^  (Location is|Mutex M|Thread T)/ { blk = 0 }
    blk && / of size [0-9]+ at / { n++ }
    blk && n > 0 && (index($0, root "/runtime/") || index($0, root "/tests/")) {
        if (n == 1) a1 = 1; else a2 = 1
    }
    /^SUMMARY/ { if (a1 && a2) print FILENAME ": " $0; inrep = 0 }
' "$reports"/tsan.* 2>/dev/null || true)
total=$(cat "$reports"/tsan.* 2>/dev/null | grep -c '^WARNING' || true)
echo "ThreadSanitizer reports: $total, between two accesses of this project: $(echo -n "$ours" | grep -c . || true)"
if [ -n "$ours" ]; then
    echo "$ours"
    exit 1
fi
