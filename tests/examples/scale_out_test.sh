#!/usr/bin/env bash
# The README's production set-up with the example binaries as built: a Kafka
# reached by its bootstrap address (MOOSE_BROKERS), tables in ClickHouse
# (MOOSE_TABLES), and two copies of raw_to_processed sharing the partitions.
# Then the exact rows of the four ClickHouse tables and the distinct entries
# of the dead letter queue.
#
#   scale_out_test.sh SOURCE_DIR BUILD_DIR WORK_DIR
#   environment: MOOSE_TEST_CLICKHOUSE=HOST:PORT (a server the test may use)
#
# The Kafka is `raw_to_processed broker`, the standalone embedded broker:
# librdkafka's mock cluster speaking the Kafka protocol, which the copies
# reach only through its address, as they would a real cluster.
set -euo pipefail
src=${1:?usage: scale_out_test.sh SOURCE_DIR BUILD_DIR WORK_DIR}
build=${2:?usage: scale_out_test.sh SOURCE_DIR BUILD_DIR WORK_DIR}
work=${3:?usage: scale_out_test.sh SOURCE_DIR BUILD_DIR WORK_DIR}
ch_addr=${MOOSE_TEST_CLICKHOUSE:?MOOSE_TEST_CLICKHOUSE=HOST:PORT names the ClickHouse server}
app=$build/examples/raw_to_processed/raw_to_processed
db=moose_scale_out
TIMEOUT=60

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

fail() {
  echo "scale_out_test: $*" >&2
  for log in "$work"/*/*.log; do
    [ -f "$log" ] && { echo "--- $log" >&2; tail -n 20 "$log" >&2; }
  done
  exit 1
}

ch() {
  curl -sS --fail-with-body "http://$ch_addr/" --data-binary "$1" ||
    fail "ClickHouse at $ch_addr refused: $1"
}

rm -rf "$work"
mkdir -p "$work/broker" "$work/copy1" "$work/copy2" "$work/client"
ch "DROP DATABASE IF EXISTS $db" >/dev/null
ch "CREATE DATABASE $db" >/dev/null

# The broker, in a directory of its own; the copies only get its address.
(cd "$work/broker" && exec "$app" broker >broker.log 2>&1) &
pids+=($!)
for _ in $(seq $((TIMEOUT * 10))); do
  [ -s "$work/broker/.moose-broker" ] && break
  sleep 0.1
done
brokers=$(sed -n 's/^bootstrap=//p' "$work/broker/.moose-broker" 2>/dev/null || true)
[ -n "$brokers" ] || fail "the broker did not publish its address within ${TIMEOUT}s"

export MOOSE_BROKERS=$brokers
export MOOSE_TABLES=clickhouse://moose:s3cret-pw@$ch_addr/$db

# A rebalance waits for every member up to session.timeout.ms; the mock broker
# behind the address makes that wait whole, so keep it short (as embedded mode does).
for copy in copy1 copy2; do
  (cd "$work/$copy" && exec "$app" run -X session.timeout.ms=6000 >run.log 2>&1) &
  pids+=($!)
done
for copy in copy1 copy2; do
  for _ in $(seq $((TIMEOUT * 10))); do
    grep -q 'running app=' "$work/$copy/run.log" 2>/dev/null && break
    sleep 0.1
  done
  grep -q 'running app=' "$work/$copy/run.log" || fail "$copy is not running after ${TIMEOUT}s"
done

cd "$work/client"
status=0
"$app" write raw_stream "$src/examples/raw_to_processed/raw_events.jsonl" >write.txt 2>&1 || status=$?
[ $status -eq 1 ] || fail "write: exit status $status, 1 expected (one record is refused): $(cat write.txt)"

# rows TABLE: the table's rows, one key each (FINAL folds what a redelivery wrote twice).
rows() {
  ch "SELECT id, value FROM $db.$1 FINAL ORDER BY id FORMAT TabSeparated"
}
expect_rows() {
  local table=$1 expected=$2 got=
  for _ in $(seq $((TIMEOUT * 5))); do
    got=$(rows "$table" 2>/dev/null || true)
    [ "$got" = "$expected" ] && return 0
    sleep 0.2
  done
  fail "$table holds, after ${TIMEOUT}s:
$got
expected:
$expected"
}

expect_rows ProcessedTable "$(printf 'r1\t42\nr2\t150.5\nr3\t1000\nr5\t100')"
expect_rows MultipliedTable "$(printf 'r1-1\t84\nr1-2\t126\nr2-1\t301\nr2-2\t451.5\nr3-1\t2000\nr3-2\t3000\nr5-1\t200\nr5-2\t300')"
expect_rows FilteredTable "$(printf 'r2\t150.5\nr3\t1000')"
# RawTable's sink is a group of its own: its partitions may still be moving
# between the copies when the other tables are complete, so it gets its own wait.
want_raw=$(printf 'r1\t42\tweb\nr2\t150.5\tios\nr3\t1000\tandroid\nr4\tabc\tweb\nr5\t100\tweb\nr6\t12,5\tios')
raw=
for _ in $(seq $((TIMEOUT * 5))); do
  raw=$(ch "SELECT id, data, source FROM $db.RawTable FINAL ORDER BY id FORMAT TabSeparated" 2>/dev/null || true)
  [ "$raw" = "$want_raw" ] && break
  sleep 0.2
done
[ "$raw" = "$want_raw" ] || fail "RawTable holds, after ${TIMEOUT}s:
$raw
expected:
$want_raw"

# Both copies joined every transform's group (which copy got which partition is Kafka's choice).
for copy in copy1 copy2; do
  grep -q 'transform started transform=transform_record' "$work/$copy/run.log" ||
    fail "$copy did not start its transforms"
done

# The DLQ: the refused record and the two that are not numbers, once per transform.
want_dlq='TransformError transform_filter r4
TransformError transform_filter r6
TransformError transform_multiple r4
TransformError transform_multiple r6
TransformError transform_record r4
TransformError transform_record r6
ValidationError - r7'
got_dlq=
for _ in $(seq $((TIMEOUT * 2))); do
  "$app" dlq raw_stream >dlq.txt 2>&1 || fail "dlq: $(cat dlq.txt)"
  got_dlq=$(awk '
    / from /  { type = $2; t = ($4 == "transform") ? $5 : "-" }
    /^  key:/ { print type, t, $2 }' dlq.txt | sort -u)
  [ "$got_dlq" = "$want_dlq" ] && break
  sleep 0.5
done
[ "$got_dlq" = "$want_dlq" ] || fail "the dead letter queue holds:
$got_dlq
expected:
$want_dlq"

# Both copies stop cleanly on SIGTERM.
for i in 1 2; do
  kill -TERM "${pids[$i]}"
  wait "${pids[$i]}" || fail "copy$i exited with status $? after SIGTERM"
done
echo "scale_out_test: two copies over $brokers into ClickHouse $ch_addr/$db: every row and DLQ entry as expected"
