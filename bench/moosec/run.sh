#!/usr/bin/env bash
# Times `moosec check` on generated schemas of 1,000, 5,000 and 10,000 models
# (20 fields each) and writes the figures into docs/BENCHMARKS.md under the
# "## moosec check" heading (only that section is replaced).
#   bench/moosec/run.sh            BUILD_DIR=build-x RUNS=7 SIZES="1000 5000" bench/moosec/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD_DIR:-build}
runs=${RUNS:-5}
sizes=${SIZES:-"1000 5000 10000"}

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
# NO_BUILD=1 times the binaries already in BUILD_DIR as they are
if [ "${NO_BUILD:-0}" != 1 ]; then
  cmake --build "$build" -j2 --target moosec gen_schema >/dev/null
fi
moosec=$build/compiler/moosec
gen=$build/bench/moosec/gen_schema

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

rows=""
for n in $sizes; do
  schema=$tmp/models_$n.moose
  "$gen" "$n" > "$schema"
  bytes=$(wc -c < "$schema")
  lines=$(wc -l < "$schema")
  : > "$tmp/times"
  for _ in $(seq "$runs"); do
    # real, user and system seconds of one run (bash's own timer: no extra package)
    { TIMEFORMAT='%R %U %S'; time "$moosec" check "$schema" >/dev/null 2>"$tmp/err"; } 2>> "$tmp/times"
    if [ -s "$tmp/err" ]; then
      echo "moosec check reported diagnostics on the generated schema:" >&2
      head -20 "$tmp/err" >&2
      exit 1
    fi
  done
  # best of the runs: the least disturbed by other work on the machine
  read -r real cpu < <(awk 'NR == 1 || $1 < r { r = $1 } NR == 1 || $2 + $3 < c { c = $2 + $3 }
                            END { printf "%.3f %.3f\n", r, c }' "$tmp/times")
  per_model=$(awk -v c="$cpu" -v n="$n" 'BEGIN { printf "%.1f", c / n * 1e6 }')
  rows+="| $n | $((n * 20)) | $lines | $((bytes / 1024)) KiB | $real s | $cpu s | $per_model µs |"$'\n'
  echo "$n models: best real $real s, best CPU $cpu s ($per_model µs per model)"
done

cpu_model=$(lscpu | awk -F: '/Model name/ { sub(/^[ \t]+/, "", $2); print $2; exit }')
compiler=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
compiler_version=$("$compiler" --version | head -1)
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")

section=$tmp/section.md
cat > "$section" <<MD
## moosec check

\`moosec check\` on generated schemas: N models of 20 fields each (every type, \`@length\`,
\`@range\`, \`@pattern\`, \`@default\`, a nested reference to the previous model), a stream per
model, a table for every fourth and a transform for every second. Best of $runs runs;
"CPU" is user + system time, which other work on a shared machine disturbs less than the
wall clock.

| models | fields | lines | size | real | CPU | CPU per model |
|-------:|-------:|------:|-----:|-----:|----:|--------------:|
${rows}
- Machine: $(nproc) CPUs, ${cpu_model}; $(uname -sr)
- Compiler: ${compiler_version}, CMAKE_BUILD_TYPE=${build_type}
- Command: \`bench/moosec/run.sh\` (BUILD_DIR=${build}, RUNS=${runs}); it runs
  \`${build}/bench/moosec/gen_schema N > models_N.moose\` then \`moosec check models_N.moose\`.
- Measured: $(date -u +%Y-%m-%d), load average $(cut -d' ' -f1-3 /proc/loadavg) on the machine

MD

doc=docs/BENCHMARKS.md
[ -f "$doc" ] || printf '# Benchmarks\n' > "$doc"
# replace our section (from its heading to the next "## "), or append it
awk -v section="$section" '
  function emit() { while ((getline line < section) > 0) print line; done = 1 }
  /^## moosec check[ \t]*$/ { emit(); skip = 1; next }
  skip && /^## / { skip = 0 }
  !skip { print }
  END { if (!done) { print ""; emit() } }
' "$doc" > "$tmp/doc" && cat "$tmp/doc" > "$doc"
echo "wrote the \"moosec check\" section of $doc"
