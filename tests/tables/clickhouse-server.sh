#!/usr/bin/env bash
# Starts or stops a throwaway clickhouse-server for the table tests.
#   clickhouse-server.sh start DIR PORT   HTTP on 127.0.0.1:PORT, native on PORT+1,
#                                         every file under DIR; returns once /ping says Ok.
#   clickhouse-server.sh resume DIR PORT  the same, keeping the data a stopped server left in DIR.
#   clickhouse-server.sh stop DIR         SIGTERM to the server started in DIR, waits for it.
# The server's --pid-file writes nothing on 18.16, so the PID this script
# started is kept in DIR/server.pid.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:?usage: clickhouse-server.sh start|stop DIR [PORT]}
dir=${2:?usage: clickhouse-server.sh start|stop DIR [PORT]}

# The server of DIR: the one whose command line names DIR's config (unique to DIR).
server_pid() {
  pgrep -f -- "--config-file=$dir/config.xml" | head -n 1 || true
}

stop() {
  local pid=""
  [ -f "$dir/server.pid" ] && pid=$(cat "$dir/server.pid")
  if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
    pid=$(server_pid)
  fi
  if [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; then
    for _ in $(seq 1 150); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "clickhouse-server.sh: server $pid ignored SIGTERM for 15 s, killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$dir/server.pid"
}

case "$cmd" in
start | resume)
  port=${3:?usage: clickhouse-server.sh start|resume DIR PORT}
  command -v clickhouse-server >/dev/null || {
    echo "clickhouse-server.sh: clickhouse-server is not installed (scripts/deps.sh test)" >&2
    exit 1
  }
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  stop
  # /ping answering now would be another server's, and it would pass for ours.
  if curl -s -m 2 "http://127.0.0.1:$port/ping" >/dev/null 2>&1; then
    echo "clickhouse-server.sh: 127.0.0.1:$port is taken by another server" >&2
    exit 1
  fi
  [ "$cmd" = start ] && rm -rf "$dir/data" "$dir/tmp" "$dir/log"
  mkdir -p "$dir/log" "$dir/data" "$dir/tmp" "$dir/user_files" "$dir/format_schemas"
  sed -e "s|@DIR@|$dir|g" -e "s|@HTTP_PORT@|$port|g" -e "s|@TCP_PORT@|$((port + 1))|g" \
    "$here/clickhouse-config.xml.in" >"$dir/config.xml"
  cp "$here/clickhouse-users.xml" "$dir/users.xml"
  : >"$dir/log/clickhouse-server.err.log"
  # Its own session, so a Ctrl-C meant for the tests does not reach it; setsid may
  # fork, so the PID to keep is looked up by the config path, not taken from $!.
  setsid clickhouse-server --config-file="$dir/config.xml" >"$dir/log/stdout.log" 2>&1 </dev/null &
  echo $! >"$dir/server.pid"
  for _ in $(seq 1 300); do
    pid=$(server_pid)
    [ -n "$pid" ] && echo "$pid" >"$dir/server.pid"
    if [ -n "$pid" ] && [ "$(curl -s "http://127.0.0.1:$port/ping" 2>/dev/null)" = "Ok." ]; then
      exit 0
    fi
    if [ -z "$(server_pid)" ]; then
      echo "clickhouse-server.sh: server exited at start; see $dir/log/" >&2
      tail -n 20 "$dir/log/clickhouse-server.err.log" >&2 || true
      rm -f "$dir/server.pid"
      exit 1
    fi
    sleep 0.1
  done
  echo "clickhouse-server.sh: no answer on 127.0.0.1:$port/ping after 30 s" >&2
  stop
  exit 1
  ;;
stop)
  stop
  ;;
*)
  echo "usage: clickhouse-server.sh start|resume|stop DIR [PORT]" >&2
  exit 2
  ;;
esac
