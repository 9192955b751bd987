#!/usr/bin/env bash
# `make fuzz`: runs every libFuzzer target (the six readers and the differential engine target)
# for a fixed time from the committed seed corpus.
#
#   tests/fuzz/run.sh BUILD_DIR [SECONDS_PER_TARGET]     (default 30 s each)
#
# New interesting inputs go to BUILD_DIR/fuzz-corpus/<target> (the committed corpus is not
# touched); a crash, sanitizer report, leak-free OOM (> 2 GiB) or hang (> 10 s per input) stops
# that target and leaves its input in BUILD_DIR/fuzz-crashes/. Exit status 1 if any target
# found one: copy the input to tests/fuzz/regressions/<target>/, fix the reader (or the engines),
# and the unit suite replays it from then on (tests/unit/test_fuzz_replay.cpp,
# tests/unit/test_engine_properties.cpp).
set -uo pipefail
BUILD="${1:?usage: tests/fuzz/run.sh BUILD_DIR [SECONDS]}"
SECONDS_EACH="${2:-30}"
HERE="$(cd "$(dirname "$0")" && pwd)"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
# Leaks in a process that exits at once are not what we hunt; the readers run in a loop here.
export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
mkdir -p "$BUILD/fuzz-crashes"
failed=()
targets=(onnx campaign topology idx npy csv onnx_attrs engines)
for target in "${targets[@]}"; do
  bin="$BUILD/tests/fuzz/fuzz_$target"
  [ -x "$bin" ] || { echo "fuzz: $bin not built" >&2; exit 2; }
  work="$BUILD/fuzz-corpus/$target"
  mkdir -p "$work"
  dict=()
  [ -f "$HERE/dict/$target.dict" ] && dict=(-dict="$HERE/dict/$target.dict")
  echo "== fuzz_$target: ${SECONDS_EACH} s"
  if ! "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      "${dict[@]}" -artifact_prefix="$BUILD/fuzz-crashes/$target-" "$work" "$HERE/corpus/$target" \
      > "$BUILD/fuzz-$target.log" 2>&1; then
    failed+=("$target")
    grep -E "ERROR|SUMMARY|Test unit written|runtime error|uncaught" "$BUILD/fuzz-$target.log" | head -20
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$BUILD/fuzz-$target.log" | tr '\n' ' '
  echo
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes in: ${failed[*]} (inputs in $BUILD/fuzz-crashes/, logs in $BUILD/fuzz-<target>.log)" >&2
  exit 1
fi
echo "fuzz: no crash in $((SECONDS_EACH * ${#targets[@]})) s of fuzzing"
