#!/usr/bin/env bash
# run.sh: fuzzes targets built with libFuzzer (the clang-asan preset) for a bounded time each,
# starting from fuzz/corpus/<target>/. New inputs go to BUILD/fuzz/work/<target>/ (the committed
# corpus is only read); a crash, leak, timeout or broken property is saved as
# BUILD/fuzz/artifacts/<target>-crash-<sha1> and fails the run once every target has run.
#
#   bash fuzz/run.sh                      every target, 20 s each, build-clang-asan/
#   bash fuzz/run.sh --seconds 600 policy one target for ten minutes
#   options: --build-dir DIR   build tree of a CONSENTRY_LIBFUZZER build (default build-clang-asan/)
#            --seconds N       time per target (default 20; CONSENTRY_FUZZ_SECONDS)
#            --max-len N       longest input the fuzzer makes (default 8192)
#            -- ARGS           passed to every fuzzer (e.g. -jobs=2, -dict=FILE)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

build="$root/build-clang-asan"
seconds="${CONSENTRY_FUZZ_SECONDS:-20}"
max_len=8192
targets=()
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build="$(cd "$2" && pwd)"; shift ;;
    --seconds) seconds="$2"; shift ;;
    --max-len) max_len="$2"; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 1 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
if [ "${#targets[@]}" -eq 0 ]; then
  for dir in "$root"/fuzz/corpus/*/; do targets+=("$(basename "$dir")"); done
fi

# Reports name source lines, stop at the first error, and a leak fails like a crash.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=()
for target in "${targets[@]}"; do
  binary="$build/fuzz/${target}_fuzzer"
  if [ ! -x "$binary" ]; then
    echo "run.sh: $binary is missing: build the clang-asan preset first" >&2
    exit 1
  fi
  help="$("$binary" -help=1 2>&1 || true)"
  if [[ "$help" != *libFuzzer* ]]; then
    echo "run.sh: $binary replays but does not fuzz: configure with -DCONSENTRY_LIBFUZZER=ON (clang)" >&2
    exit 1
  fi
  work="$build/fuzz/work/$target"
  artifacts="$build/fuzz/artifacts"
  mkdir -p "$work" "$artifacts"
  echo "== fuzz $target: ${seconds}s"
  log="$build/fuzz/work/$target.log"
  if "$binary" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$artifacts/$target-" -print_final_stats=1 "${extra[@]}" \
      "$work" "$root/fuzz/corpus/$target" >"$log" 2>&1; then
    grep -E '^(stat::number_of_executed_units|stat::new_units_added):' "$log" | tr '\n' ' '
    echo
  else
    tail -n 60 "$log"
    echo "run.sh: $target failed; the input is in $artifacts/ (whole log: $log)"
    failed+=("$target")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "run.sh: failed: ${failed[*]}. Reproduce with: $build/fuzz/<target>_fuzzer <artifact>;"
  echo "then add the artifact to fuzz/corpus/<target>/ and fix the code (see fuzz/README.md)."
  exit 1
fi
echo "run.sh: ${#targets[@]} targets fuzzed for ${seconds}s each, no failure"
