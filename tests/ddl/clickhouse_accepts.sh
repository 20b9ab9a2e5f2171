#!/usr/bin/env bash
# Feeds the golden ClickHouse DDL to a real clickhouse-server (MOOSE_TEST_CLICKHOUSE
# = host:port of its HTTP interface) and checks that every statement is accepted,
# with the engine and the columns it names.
#   clickhouse_accepts.sh GOLDEN.clickhouse.sql...
# The DDL is written for a current server; on an older one the same rewrites the
# table sink makes are applied first (DateTime64 before 20.1, Bool before 21.12,
# Date32 before 21.9).
set -euo pipefail
server=${MOOSE_TEST_CLICKHOUSE:?MOOSE_TEST_CLICKHOUSE=host:port is not set}
db=moose_ddl_test

query() { # SQL on stdin; prints the answer; fails with the server's message
  local out
  if ! out=$(curl -sS --fail-with-body --data-binary @- "http://$server/" 2>&1); then
    echo "clickhouse refused: $out" >&2
    return 1
  fi
  printf '%s' "$out"
}

version=$(echo "SELECT version()" | query)
IFS=. read -r major minor _ <<<"$version"
before() { [ "$major" -lt "$1" ] || { [ "$major" -eq "$1" ] && [ "$minor" -lt "$2" ]; }; }
adapt=()
before 20 1 && adapt+=(-e "s/DateTime64(6, 'UTC')/DateTime('UTC')/g")
before 21 12 && adapt+=(-e 's/\bBool\b/UInt8/g')
before 21 9 && adapt+=(-e 's/\bDate32\b/Date/g')

echo "DROP DATABASE IF EXISTS $db" | query
echo "CREATE DATABASE $db" | query
failures=0
for golden in "$@"; do
  # one statement per paragraph, each ending in ';'
  while IFS= read -r -d $'\x1e' stmt; do
    [ -n "${stmt//[[:space:]]/}" ] || continue
    table=$(printf '%s' "$stmt" | sed -n 's/^CREATE TABLE IF NOT EXISTS `\(.*\)`$/\1/p')
    sql=$(printf '%s' "$stmt" | sed "${adapt[@]:-s/^//}" | sed '$ s/;$//')
    if ! answer=$(printf '%s' "$sql" |
        curl -sS --fail-with-body --data-binary @- "http://$server/?database=$db" 2>&1); then
      echo "FAIL $golden: $table: the server (ClickHouse $version) refused:" >&2
      printf '%s\n%s\n' "$sql" "$answer" >&2
      failures=$((failures + 1))
      continue
    fi
    want_engine=$(printf '%s' "$stmt" | sed -n 's/^ENGINE = \([A-Za-z]*\)().*/\1/p')
    engine=$(echo "SELECT engine FROM system.tables WHERE database = '$db' AND name = '$table'" | query)
    want_cols=$(printf '%s' "$stmt" | sed -n 's/^    `\(.*\)` .*/\1/p' | tr '\n' ' ' | sed 's/ *$//')
    cols=$(echo "SELECT name FROM system.columns WHERE database = '$db' AND table = '$table'" | query | tr '\n' ' ' | sed 's/ *$//')
    if [ "$engine" != "$want_engine" ] || [ "$cols" != "$want_cols" ]; then
      echo "FAIL $golden: $table: engine '$engine' columns '$cols'," \
           "expected engine '$want_engine' columns '$want_cols'" >&2
      failures=$((failures + 1))
      continue
    fi
    echo "ok $table ($engine, ClickHouse $version)"
  done < <(awk 'BEGIN { RS = ""; ORS = "\x1e" } { print }' "$golden")
done
echo "DROP DATABASE IF EXISTS $db" | query
[ "$failures" -eq 0 ]
