#!/usr/bin/env bash
# Runs bench_metrics and writes its figures into docs/BENCHMARKS.md, between
# the "metrics" markers (the rest of the file belongs to other benchmarks).
#   bench/metrics/run.sh [BUILD_DIR] [OPS]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
ops=${2:-50000000}
bin=$build/bench/metrics/bench_metrics
[ -x "$bin" ] || { echo "run.sh: $bin not found; build first (cmake --build $build)" >&2; exit 2; }

table=$("$bin" "$ops")
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
load=$(cut -d' ' -f1-3 /proc/loadavg)
type=$(grep -m1 '^CMAKE_BUILD_TYPE' "$build/CMakeCache.txt" | cut -d= -f2)

section=$(cat <<MD
<!-- metrics:begin (written by bench/metrics/run.sh) -->
## Metrics: the cost of recording

What one call costs on the hot path, in nanoseconds, measured by
\`bench/metrics/bench_metrics $ops\` ($ops calls per thread) on $(date -u +%Y-%m-%d),
$cpu, $(nproc) cores, load average $load, build type $type.
"2 threads" runs two threads at once on the same component; each thread's figure is shown.

$table

How to read it:
- A counter increment is one relaxed atomic add into the calling thread's own
  stripe (cache line), so two threads never fight over a line; the
  "shared atomic" row is what a single counter would cost instead. On a
  machine whose cores are busy with other work, two threads share the cores
  and each thread's time per call grows for every row, the plain increment too.
- A latency record touches three atomics (bucket, sum, max) of a log-linear
  histogram; percentiles are computed only when someone reads them.
- Timing a latency needs two clock reads; on this machine a clock read costs
  more than the record itself, so per-record timers are the expensive part.
<!-- metrics:end -->
MD
)

doc=docs/BENCHMARKS.md
[ -f "$doc" ] || printf '# Benchmarks\n' > "$doc"
if grep -q '<!-- metrics:begin' "$doc"; then
  # Replace the old section, keep everything around it.
  awk -v new="$section" '
    /<!-- metrics:begin/ { print new; skip = 1; next }
    /<!-- metrics:end -->/ { skip = 0; next }
    !skip { print }' "$doc" > "$doc.tmp"
  mv "$doc.tmp" "$doc"
else
  printf '\n%s\n' "$section" >> "$doc"
fi
echo "run.sh: wrote the metrics section of $doc"
