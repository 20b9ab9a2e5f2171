#!/usr/bin/env bash
# The first command of the README: installs what is missing, builds the two
# example apps, and runs each on the embedded defaults (an in-process Kafka
# cluster, SQLite tables): records written, transformed, delivered; then it
# prints the rows in every table, the dead letter queue and the metrics.
#
#   scripts/demo.sh [--build-dir DIR] [--work-dir DIR] [--no-build] [--quiet]
#
#   --build-dir DIR  where to build (default: build)
#   --work-dir DIR   where the apps run; emptied first (default: BUILD-DIR/demo)
#   --no-build       use the apps already built in BUILD-DIR (installs nothing)
#   --quiet          print only failures (the files are still written)
#
# Each app runs in WORK-DIR/<example>/, which keeps what was printed:
# run.log (the app's log), writer.txt (user_events_writer), write.txt, dlq.txt,
# metrics.txt, health.txt and rows-<Table>.txt; the tables stay in moose.db there.
# MOOSE_JOBS sets the build's parallelism (default: every core).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

build_dir=build
work_dir=
do_build=1
quiet=0
while [ $# -gt 0 ]; do
  case $1 in
    --build-dir) build_dir=${2:?--build-dir needs a directory}; shift 2 ;;
    --work-dir) work_dir=${2:?--work-dir needs a directory}; shift 2 ;;
    --no-build) do_build=0; shift ;;
    --quiet) quiet=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "demo: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done
case $build_dir in /*) ;; *) build_dir=$root/$build_dir ;; esac
work_dir=${work_dir:-$build_dir/demo}
case $work_dir in /*) ;; *) work_dir=$root/$work_dir ;; esac

# Seconds each wait may take before the demo gives up and says what it saw.
START_TIMEOUT=20
DELIVERY_TIMEOUT=40
STOP_TIMEOUT=20

started=$SECONDS
say() { [ "$quiet" = 1 ] || printf '%s\n' "$*"; }
show() { [ "$quiet" = 1 ] || cat "$1"; }
heading() { say ""; say "==> $*"; }

# The app started in the background, stopped on any exit so no process outlives the demo.
app_pid=
app_log=
stop_app() {
  [ -n "$app_pid" ] || return 0
  if kill -0 "$app_pid" 2>/dev/null; then
    kill -TERM "$app_pid" 2>/dev/null || true
    local waited=0
    while kill -0 "$app_pid" 2>/dev/null && [ $waited -lt $((STOP_TIMEOUT * 10)) ]; do
      sleep 0.1; waited=$((waited + 1))
    done
    if kill -0 "$app_pid" 2>/dev/null; then
      echo "demo: the app (pid $app_pid) did not stop within ${STOP_TIMEOUT}s of SIGTERM; killing it" >&2
      kill -KILL "$app_pid" 2>/dev/null || true
      app_pid=
      return 1
    fi
  fi
  local status=0
  wait "$app_pid" 2>/dev/null || status=$?
  app_pid=
  if [ $status -ne 0 ]; then
    echo "demo: the app exited with status $status after SIGTERM; its log: $app_log" >&2
    return 1
  fi
}
trap 'stop_app || true' EXIT
trap 'exit 130' INT TERM

fail() {
  echo "demo: $*" >&2
  if [ -n "$app_log" ] && [ -f "$app_log" ]; then
    echo "demo: the last lines of $app_log:" >&2
    tail -n 15 "$app_log" >&2
  fi
  exit 1
}

if [ "$do_build" = 1 ]; then
  bash scripts/deps.sh build
  heading "building the examples in $build_dir"
  # The test suite needs cmocka, which `deps.sh build` does not install: without it the
  # demo configures no tests (scripts/test.sh turns them back on after installing it).
  tests_opt=()
  pkg-config --exists cmocka 2>/dev/null || tests_opt=(-DMOOSE_BUILD_TESTS=OFF)
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${tests_opt[@]}" >/dev/null
  cmake --build "$build_dir" -j"${MOOSE_JOBS:-$(nproc)}" \
    --target user_events user_events_writer raw_to_processed >/dev/null
fi
examples_bin=$build_dir/examples
for exe in user_events/user_events user_events/writer/user_events_writer \
           raw_to_processed/raw_to_processed; do
  [ -x "$examples_bin/$exe" ] || fail "$examples_bin/$exe is not built (run without --no-build)"
done
command -v sqlite3 >/dev/null || fail "the sqlite3 command is missing (scripts/deps.sh build installs it)"

rm -rf "$work_dir"
mkdir -p "$work_dir"
pipelines_started=$SECONDS

# start_app EXE: runs `EXE run` in the current directory, with metrics on a free
# port, and waits until it says it is running; sets app_pid and http_addr.
http_addr=
start_app() {
  app_log=$PWD/run.log
  "$1" run --http 127.0.0.1:0 >"$app_log" 2>&1 &
  app_pid=$!
  local waited=0
  until grep -q 'running app=' "$app_log" 2>/dev/null; do
    kill -0 "$app_pid" 2>/dev/null || { wait "$app_pid" || true; app_pid=; fail "'$(basename "$1") run' exited at start"; }
    [ $waited -lt $((START_TIMEOUT * 10)) ] || fail "'$(basename "$1") run' was not running after ${START_TIMEOUT}s"
    sleep 0.1; waited=$((waited + 1))
  done
  http_addr=$(sed -n 's|.*metrics and health at http://\([^/]*\)/.*|\1|p' "$app_log" | head -n 1)
  [ -n "$http_addr" ] || fail "'$(basename "$1") run' did not say where its metrics are served"
  say "$(basename "$1") run: pid $app_pid, embedded broker, tables in $PWD/moose.db, metrics at http://$http_addr/metrics"
}

# Fails at once when the app died: waiting longer would show nothing new.
app_alive() {
  [ -z "$app_pid" ] || kill -0 "$app_pid" 2>/dev/null && return 0
  local status=0
  wait "$app_pid" 2>/dev/null || status=$?
  app_pid=
  fail "the app exited (status $status) while the demo waited for its records"
}

# row_count TABLE: the rows TABLE holds now (0 while the sink has not created it).
row_count() {
  sqlite3 -batch moose.db "SELECT count(*) FROM \"$1\";" 2>/dev/null || echo 0
}

# wait_rows TABLE N: waits until TABLE holds N rows, or fails saying how many it holds.
wait_rows() {
  local waited=0 n
  while n=$(row_count "$1"); [ "$n" != "$2" ]; do
    app_alive
    [ $waited -lt $((DELIVERY_TIMEOUT * 10)) ] ||
      fail "table $1 holds $n rows after ${DELIVERY_TIMEOUT}s, $2 expected (see $PWD/moose.db)"
    sleep 0.1; waited=$((waited + 1))
  done
}

# dlq_count EXE STREAM: the entries in STREAM's dead letter queue now.
dlq_count() {
  "$1" dlq "$2" 2>/dev/null | sed -n 's/^\([0-9][0-9]*\) entr.* in the dead letter queue of .*/\1/p'
}

# wait_dlq EXE STREAM N: waits until STREAM's dead letter queue holds at least N entries.
wait_dlq() {
  local waited=0 n
  while n=$(dlq_count "$1" "$2"); [ "${n:-0}" -lt "$3" ]; do
    app_alive
    [ $waited -lt $((DELIVERY_TIMEOUT * 2)) ] ||
      fail "the dead letter queue of $2 holds ${n:-0} entries after ${DELIVERY_TIMEOUT}s, $3 expected"
    sleep 0.5; waited=$((waited + 1))
  done
}

# print_table TABLE ORDER: every row of TABLE, also kept in rows-TABLE.txt.
print_table() {
  sqlite3 -batch -header -column moose.db "SELECT * FROM \"$1\" ORDER BY $2;" >"rows-$1.txt"
  say ""
  say "$1 ($(row_count "$1") rows):"
  show "rows-$1.txt"
}

# report EXE STREAM: the dead letter queue of STREAM, the metrics and the health.
report() {
  "$1" dlq "$2" >dlq.txt || fail "'$(basename "$1") dlq $2' failed"
  heading "$(basename "$1") dlq $2"
  show dlq.txt
  "$1" metrics --http "$http_addr" >metrics.txt || fail "'$(basename "$1") metrics' failed"
  heading "$(basename "$1") metrics"
  show metrics.txt
  local status=0
  "$1" health --http "$http_addr" >health.txt || status=$?
  [ $status -le 1 ] || fail "'$(basename "$1") health' could not reach the app"
  heading "$(basename "$1") health"
  show health.txt
}

# write_file EXE STREAM FILE: `EXE write STREAM FILE`, where FILE holds bad
# lines on purpose: exit status 1 (some refused) is expected, anything else is not.
write_file() {
  local status=0
  "$1" write "$2" "$3" >write.txt 2>&1 || status=$?
  show write.txt
  [ $status -le 1 ] || fail "'$(basename "$1") write $2' failed with status $status"
}

# ---- user_events: typed writes from C, and a file of JSON lines ----
heading "user_events: UserEvent records into UserEventTable"
mkdir -p "$work_dir/user_events"
cd "$work_dir/user_events"
app=$examples_bin/user_events/user_events
start_app "$app"
say ""
say "\$ user_events_writer      # typed writes: user_event_stream_write(app, &event, &errs)"
"$examples_bin/user_events/writer/user_events_writer" >writer.txt 2>&1 ||
  { cat writer.txt >&2; fail "user_events_writer failed"; }
show writer.txt
say ""
say "\$ user_events write user_event_stream user_events.jsonl"
write_file "$app" user_event_stream "$root/examples/user_events/user_events.jsonl"
wait_rows UserEventTable 6
wait_dlq "$app" user_event_stream 2
print_table UserEventTable id
report "$app" user_event_stream
stop_app || fail "user_events did not stop cleanly"

# ---- raw_to_processed: three transforms, four tables, and the DLQ ----
heading "raw_to_processed: RawEvent -> three transforms -> ProcessedEvent tables"
mkdir -p "$work_dir/raw_to_processed"
cd "$work_dir/raw_to_processed"
app=$examples_bin/raw_to_processed/raw_to_processed
start_app "$app"
say ""
say "\$ raw_to_processed write raw_stream raw_events.jsonl"
write_file "$app" raw_stream "$root/examples/raw_to_processed/raw_events.jsonl"
# r1..r6 are stored raw; r4 and r6 are not numbers (each fails all three
# transforms); r5 is 100, not above it; r7 breaks two rules and is refused.
wait_rows RawTable 6
wait_rows ProcessedTable 4
wait_rows MultipliedTable 8
wait_rows FilteredTable 2
wait_dlq "$app" raw_stream 7
for table in RawTable ProcessedTable MultipliedTable FilteredTable; do
  print_table "$table" id
done
report "$app" raw_stream
stop_app || fail "raw_to_processed did not stop cleanly"

heading "done in $((SECONDS - started))s ($((SECONDS - pipelines_started))s running the examples); everything printed is kept in $work_dir"
