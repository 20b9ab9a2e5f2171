#!/usr/bin/env bash
# End to end through a real app (the raw_to_processed example): `APP broker`,
# `APP run`, `APP write`, and the tables read back from the outside.
#   e2e.sh APP CLICKHOUSE_SCRIPT PORT WORKDIR clickhouse-stop
#       ClickHouse is stopped for 10 s while records keep coming; the sink
#       reports the table down, holds its offsets, and once the server is back
#       ProcessedTable holds every record exactly once.
#   e2e.sh APP CLICKHOUSE_SCRIPT PORT WORKDIR kill9 sqlite|clickhouse
#       `APP run` is killed with SIGKILL mid-run and started again; the table
#       then holds each key exactly once with nothing missing.
# Every row is compared with what the transform must make of the input.
set -euo pipefail
app=$1 ch=$2 port=$3 work=$4 mode=$5 store=${6:-clickhouse}
n=${E2E_RECORDS:-6000}

rm -rf "$work"
mkdir -p "$work"
cd "$work"
pids=()
cleanup() {
  # The apps first, then the broker they use (the first pid): an app stopping
  # while its broker goes away waits out its commit and close bounds.
  local i
  for ((i = ${#pids[@]} - 1; i >= 1; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
  for ((i = ${#pids[@]} - 1; i >= 1; i--)); do wait "${pids[i]}" 2>/dev/null || true; done
  if [ ${#pids[@]} -gt 0 ]; then
    kill -TERM "${pids[0]}" 2>/dev/null || true
    wait "${pids[0]}" 2>/dev/null || true
  fi
  "$ch" stop "$work/clickhouse" >/dev/null 2>&1 || true
}
trap cleanup EXIT
fail() { echo "e2e.sh: $*" >&2; tail -n 20 run*.log >&2 || true; exit 1; }

if [ "$store" = clickhouse ]; then
  "$ch" start "$work/clickhouse" "$port"
  tables="clickhouse://127.0.0.1:$port/default"
  count() {
    curl -sf "http://127.0.0.1:$port/" --data-binary \
      "SELECT count(), uniqExact(id) FROM ProcessedTable FINAL FORMAT TSV" 2>/dev/null | tr '\t' ' ' ||
      true # the table may not exist yet
  }
  rows() {
    curl -sf "http://127.0.0.1:$port/" --data-binary \
      "SELECT id, value, toUnixTimestamp(timestamp) FROM ProcessedTable FINAL ORDER BY id FORMAT TSV"
  }
else
  tables="sqlite:$work/moose.db"
  count() { sqlite3 "$work/moose.db" "SELECT count(*) || ' ' || count(DISTINCT id) FROM ProcessedTable" 2>/dev/null || true; }
  rows() {
    sqlite3 -separator $'\t' "$work/moose.db" \
      "SELECT id, value, CAST(strftime('%s', timestamp) AS INTEGER) FROM ProcessedTable ORDER BY id"
  }
fi

# Record i: data "i.5", so the transform makes value i + 0.5; time 2024-03-20T00:00:00Z + i s.
gen() {
  awk -v from="$1" -v to="$2" 'BEGIN {
    for (i = from; i < to; i++) {
      s = 1710892800 + i
      printf "{\"id\":\"k%06d\",\"data\":\"%d.5\",\"source\":\"web\",\"tags\":[],\"timestamp\":\"2024-03-20T%02d:%02d:%02dZ\"}\n", i, i, int((s % 86400) / 3600), int((s % 3600) / 60), s % 60
    }
  }'
}
gen 0 $((n / 2)) > part1.jsonl
gen $((n / 2)) "$n" > part2.jsonl
awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "k%06d\t%s\t%d\n", i, (i + 0.5) "", 1710892800 + i }' > expected.tsv

"$app" broker > broker.log 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -s .moose-broker ] && break; sleep 0.1; done
[ -s .moose-broker ] || fail "APP broker did not start"

start_run() {
  "$app" run --tables "$tables" > "run$1.log" 2>&1 &
  run_pid=$!
  pids+=("$run_pid")
}

wait_rows() {
  local got=""
  for _ in $(seq 1 1200); do
    got=$(count)
    [ "$got" = "$n $n" ] && return 0
    sleep 0.1
  done
  fail "ProcessedTable holds '$got' (rows, distinct keys), expected '$n $n'"
}

case "$mode" in
clickhouse-stop)
  start_run 1
  "$app" write raw_stream part1.jsonl > write1.log 2>&1 || fail "APP write failed"
  "$ch" stop "$work/clickhouse"
  stopped_at=$(date +%s)
  "$app" write raw_stream part2.jsonl > write2.log 2>&1 || fail "APP write failed"
  for _ in $(seq 1 300); do grep -q "table ProcessedTable is down, holding" run1.log && break; sleep 0.1; done
  grep -q "table ProcessedTable is down, holding the batch and its offsets" run1.log ||
    fail "the sink never said the table was down"
  sleep $(( 10 - ($(date +%s) - stopped_at) > 0 ? 10 - ($(date +%s) - stopped_at) : 0 ))
  "$ch" resume "$work/clickhouse" "$port"
  wait_rows
  for _ in $(seq 1 100); do grep -q "table ProcessedTable is back" run1.log && break; sleep 0.1; done
  grep -q "table ProcessedTable is back: delivery goes on" run1.log ||
    fail "the sink never said the table was back"
  ;;
kill9)
  start_run 1
  "$app" write raw_stream part1.jsonl > write1.log 2>&1 || fail "APP write failed"
  # Mid-run: some batches delivered and committed, others in flight.
  for _ in $(seq 1 200); do
    got=$(count); [ -n "$got" ] && [ "${got%% *}" -gt 0 ] && break; sleep 0.05
  done
  kill -KILL "$run_pid"
  wait "$run_pid" 2>/dev/null || true
  start_run 2
  "$app" write raw_stream part2.jsonl > write2.log 2>&1 || fail "APP write failed"
  wait_rows
  ;;
*)
  fail "unknown mode $mode"
  ;;
esac

rows > got.tsv
if ! diff -q expected.tsv got.tsv >/dev/null; then
  diff expected.tsv got.tsv | head -n 10 >&2
  fail "the rows of ProcessedTable differ from the expected ones"
fi
echo "e2e.sh $mode $store: $n rows, each key once, every row as expected"
