#!/usr/bin/env bash
# test.sh: installs the build dependencies, builds consentry with the `default` preset and runs
# the whole test suite. The last lines printed are ctest's summary; the exit code is ctest's.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
# Everything on, whatever an earlier configure of build/ left in its cache.
cmake --preset default -DCONSENTRY_BUILD_TESTS=ON -DCONSENTRY_BUILD_CLI=ON -DCONSENTRY_BUILD_EXAMPLES=ON -DCONSENTRY_BUILD_BENCHMARKS=ON -DCONSENTRY_BUILD_POSTGRESQL=ON \
  -DCONSENTRY_TEST_GLOB='*_test.cpp'
cmake --build --preset default -j2
exec ctest --preset default
