#!/usr/bin/env bash
# test.sh: installs the build dependencies, builds consentry with the `default` preset and runs
# the whole test suite. The last lines printed are ctest's summary; the exit code is ctest's.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake --preset default
cmake --build --preset default -j2
exec ctest --preset default
