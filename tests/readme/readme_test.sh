#!/usr/bin/env bash
# Installs this build of moose-c into a prefix under WORK_DIR, the way the
# README's install step does (cmake --install), then runs the README's
# tutorial against it in WORK_DIR/tutorial.
#   readme_test.sh SOURCE_DIR BUILD_DIR WORK_DIR
set -euo pipefail
src=$1 build=$2 work=$3
prefix=$work/prefix
rm -rf "$prefix"
mkdir -p "$work"
cmake --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1 ||
  { cat "$work/install.log" >&2; echo "readme_test: cmake --install $build failed" >&2; exit 1; }
export PATH="$prefix/bin:$PATH"
export CMAKE_PREFIX_PATH="$prefix"
# The tutorial's own build must not fight the suite for the machine's cores.
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}
exec python3 "$src/tests/readme/run_tutorial.py" "$src/README.md" "$work/tutorial"
