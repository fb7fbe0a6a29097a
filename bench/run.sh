#!/usr/bin/env bash
# run.sh: builds the benchmark suite (Release, in build-bench/) and runs all of it: every workload
# of issue 4 beside its baseline in the same process. Prints a table of workloads, baselines,
# ratios and goals, and writes JSON (Google Benchmark's own, plus summary.json).
#
#   bash bench/run.sh                 full sizes (the first run builds and caches the 1M vault)
#   bash bench/run.sh --tiny          tiny datasets and short runs (what CI runs)
#   options: --build-dir DIR   build tree (default build-bench/)
#            --no-build        use the binaries already in the build tree
#            --out DIR         results (default BUILD/bench-results)
#            --data DIR        dataset cache (default BUILD/bench-data; CONSENTRY_BENCH_DATA)
#            -- ARGS           passed to both benchmark binaries (e.g. --benchmark_filter=W3)
#
# The PostgreSQL workloads (PG3-PG5, PGB3R, PGR, PGT, PGA, PGC; built with CONSENTRY_BUILD_POSTGRESQL) run on the
# server CONSENTRY_PG_URL names; when it is not set, on a throwaway cluster with fsync on that this
# script starts in /tmp (scripts/pg-cluster.sh start DIR --durable; PG_BINDIR, default
# /usr/lib/postgresql/15/bin) and removes when it ends, also on failure. Without a server they are
# left out, with a message.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

build="$root/build-bench"
out=""
data="${CONSENTRY_BENCH_DATA:-}"
scale="${CONSENTRY_BENCH_SCALE:-full}"
do_build=1
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --tiny) scale=tiny ;;
    --build-dir) build="$2"; shift ;;
    --no-build) do_build=0 ;;
    --out) out="$2"; shift ;;
    --data) data="$2"; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done
out="${out:-$build/bench-results}"
data="${data:-$build/bench-data}"
mkdir -p "$out" "$data"

if [ "$do_build" -eq 1 ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCONSENTRY_BUILD_BENCHMARKS=ON >/dev/null
  targets=(--target consentry_bench)
  # B1's Python side reads through the module (bindings/python), when it is built.
  if grep -q '^CONSENTRY_BUILD_PYTHON:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
    targets+=(--target consentry_python_package)
  fi
  if grep -q '^sqlcipher_FOUND:INTERNAL=1' "$build/CMakeCache.txt" 2>/dev/null; then
    targets+=(--target consentry_bench_sqlcipher)
  fi
  cmake --build "$build" -j2 "${targets[@]}"
fi

# The cluster's directory is under /tmp: a Unix socket's path is short, and run as root the server
# runs as the user consentry-pg, who must be able to reach it (as ctest's postgres fixture does).
if grep -q '^CONSENTRY_BUILD_POSTGRESQL:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null && [ -z "${CONSENTRY_PG_URL:-}" ]; then
  if [ -x "${PG_BINDIR:-/usr/lib/postgresql/15/bin}/initdb" ]; then
    pg_dir="/tmp/consentry-bench-pg-$(realpath -m "$build" | sha1sum | cut -c1-12)"
    trap 'bash "$root/scripts/pg-cluster.sh" stop "$pg_dir" >/dev/null 2>&1 || true' EXIT
    if pg_url=$(bash "$root/scripts/pg-cluster.sh" start "$pg_dir" --durable); then
      export CONSENTRY_PG_URL="$pg_url"
    else
      echo "run.sh: the PostgreSQL cluster did not start: the PostgreSQL workloads are left out" >&2
    fi
  else
    echo "run.sh: no PostgreSQL server in ${PG_BINDIR:-/usr/lib/postgresql/15/bin} (Debian: postgresql):" \
      "the PostgreSQL workloads are left out" >&2
  fi
fi

export CONSENTRY_BENCH_SCALE="$scale" CONSENTRY_BENCH_DATA="$data"
args=(--benchmark_out_format=json)
if [ "$scale" = tiny ]; then
  args+=(--benchmark_min_time=0.001)
fi

bin="$build/bench"
rm -f "$out/consentry.json" "$out/sqlcipher.json" "$out/python.json"
"$bin/consentry_bench" "${args[@]}" --benchmark_out="$out/consentry.json" "${extra[@]}"
# B1 from Python, on the read vault consentry_bench cached (skipped when a filter left out W3).
package="$build/bindings/python/package"
if [ -d "$package/consentry" ] && [ -x /usr/bin/python3 ]; then
  if grep -q '"W3_read/' "$out/consentry.json" 2>/dev/null; then
    PYTHONPATH="$package" /usr/bin/python3 "$root/bench/bindings_read.py" --data "$data" --out "$out/python.json"
  fi
else
  echo "run.sh: the Python module was not built: B1's Python side is left out" >&2
fi
if [ -x "$bin/consentry_bench_sqlcipher" ]; then
  "$bin/consentry_bench_sqlcipher" "${args[@]}" --benchmark_out="$out/sqlcipher.json" "${extra[@]}"
else
  echo "run.sh: consentry_bench_sqlcipher was not built (no SQLCipher): W8 is left out" >&2
fi
echo
python3 "$root/bench/report.py" "$out"
