#!/usr/bin/env bash
# Runs bench_codec and writes its figures into docs/BENCHMARKS.md as the
# "## Codecs" section (the rest of the file belongs to other benchmarks).
#   bench/codec/run.sh [BUILD_DIR] [SECONDS_PER_CASE]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
seconds=${2:-3}
bin=$build/bench/codec/bench_codec
[ -x "$bin" ] || { echo "run.sh: $bin not found; build first (cmake --build $build)" >&2; exit 2; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
tables=$("$bin" "$seconds")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
type=$(grep -m1 '^CMAKE_BUILD_TYPE' "$build/CMakeCache.txt" | cut -d= -f2)
cc=$(grep -m1 '^CMAKE_C_COMPILER:' "$build/CMakeCache.txt" | cut -d= -f2)
cc_version=$("$cc" --version | head -1)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/section" <<MD
## Codecs

Generated per-model JSON codecs (\`moosec gen\`) against jansson for the same
models, in the same run: RawEvent (the seed example's model: a Key, a
String with @length, an Enum, an optional Float64 with @range, a String
array, a DateTime) and UserEvent (a Key, two Strings, a DateTime), from
\`bench/codec/events.moose\`. 4096 distinct records each, encoded compactly.

- *decode + validate*: \`<Model>_from_json()\` into an arena that is reset per
  record, then \`<Model>_validate()\` (every constraint, UTF-8 of every string).
- *parse + field extraction*: \`json_loadb()\` (duplicate keys refused),
  \`json_object_get()\` and a type check per field, the DateTime parsed with the
  same RFC 3339 routine; no validation.
- *encode*: \`<Model>_to_json()\` into a reused buffer.
- *pack + dump*: \`json_pack()\` of the same record, then \`json_dumpb()\` into a
  reused buffer.
- *memcpy*: the same bytes copied, the ceiling of any codec.

MB/s counts the JSON text of the records. Time is the benchmark thread's CPU
time (\`CLOCK_THREAD_CPUTIME_ID\`), not the wall clock, which on a shared
machine also counts the time other processes held the CPU. The cases take
turns in ten slices and each keeps its best slice, so both codecs see the
same conditions.

$tables

- Machine: $(nproc) CPUs, ${cpu}; $(uname -sr); load average ${load_before} before, ${load_after} after.
  The machine is shared with other builds and tests while this runs: absolute
  figures move with the load; the ratios, measured in the same slices, move less.
- Compiler: ${cc_version}, CMAKE_BUILD_TYPE=${type}
- Command: \`bench/codec/run.sh $build $seconds\` (runs \`$bin $seconds\`)
- Measured: $(date -u +%Y-%m-%d)

MD

doc=docs/BENCHMARKS.md
[ -f "$doc" ] || printf '# Benchmarks\n\n' > "$doc"
awk -v section="$tmp/section" '
  function emit() { while ((getline line < section) > 0) print line; done = 1 }
  /^## Codecs[ \t]*$/ { emit(); skip = 1; next }
  skip && /^## / { skip = 0 }
  !skip { print }
  END { if (!done) { print ""; emit() } }' "$doc" > "$doc.tmp"
mv "$doc.tmp" "$doc"
echo "run.sh: wrote the Codecs section of $doc" >&2
