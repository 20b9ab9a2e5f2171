#!/usr/bin/env bash
# Installs what is missing, builds, and runs the example pipelines on the
# embedded defaults, printing what they declare.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
for schema in examples/*/*.moose; do
  ./build/compiler/moosec check --summary "$schema"
done
