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
#            --parallel N      targets fuzzed at once (default: the number of CPUs; each fuzzer
#                              is one process), their results printed in order as they finish
#            -- ARGS           passed to every fuzzer (e.g. -jobs=2, -dict=FILE)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

build="$root/build-clang-asan"
seconds="${CONSENTRY_FUZZ_SECONDS:-20}"
max_len=8192
parallel="$(nproc 2>/dev/null || echo 1)"
targets=()
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build="$(cd "$2" && pwd)"; shift ;;
    --seconds) seconds="$2"; shift ;;
    --max-len) max_len="$2"; shift ;;
    --parallel) parallel="$2"; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 1 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
if ! [[ "$parallel" =~ ^[1-9][0-9]*$ ]]; then
  echo "run.sh: --parallel needs a positive whole number, not '$parallel'" >&2
  exit 1
fi
if [ "${#targets[@]}" -eq 0 ]; then
  for dir in "$root"/fuzz/corpus/*/; do targets+=("$(basename "$dir")"); done
fi

# Reports name source lines, stop at the first error, and a leak fails like a crash.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# Every target is checked before any fuzzing starts.
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
done

artifacts="$build/fuzz/artifacts"
mkdir -p "$artifacts"
# fuzz TARGET: fuzzes one target, its whole log in work/TARGET.log; the exit code is the fuzzer's.
fuzz() {
  local target="$1"
  local work="$build/fuzz/work/$target"
  mkdir -p "$work"
  "$build/fuzz/${target}_fuzzer" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="$artifacts/$target-" -print_final_stats=1 "${extra[@]}" \
    "$work" "$root/fuzz/corpus/$target" >"$build/fuzz/work/$target.log" 2>&1
}
# report TARGET STATUS: what one target's run printed, and whether it failed.
failed=()
report() {
  local target="$1" log="$build/fuzz/work/$1.log"
  echo "== fuzz $target: ${seconds}s"
  if [ "$2" -eq 0 ]; then
    grep -E '^(stat::number_of_executed_units|stat::new_units_added):' "$log" | tr '\n' ' '
    echo
  else
    tail -n 60 "$log"
    echo "run.sh: $target failed; the input is in $artifacts/ (whole log: $log)"
    failed+=("$target")
  fi
}

# Up to `parallel` fuzzers at once; each target's result is reported in the order given, once it
# and every target before it have finished.
pids=()
next=0
started=0
while [ "$next" -lt "${#targets[@]}" ]; do
  while [ "$started" -lt "${#targets[@]}" ] && [ $((started - next)) -lt "$parallel" ]; do
    fuzz "${targets[$started]}" &
    pids[$started]=$!
    started=$((started + 1))
  done
  status=0
  wait "${pids[$next]}" || status=$?
  report "${targets[$next]}" "$status"
  next=$((next + 1))
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "run.sh: failed: ${failed[*]}. Reproduce with: $build/fuzz/<target>_fuzzer <artifact>;"
  echo "then add the artifact to fuzz/corpus/<target>/ and fix the code (see fuzz/README.md)."
  exit 1
fi
echo "run.sh: ${#targets[@]} targets fuzzed for ${seconds}s each, no failure"
