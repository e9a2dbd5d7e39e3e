#!/usr/bin/env bash
# Runs each libFuzzer target of awsgw-fuzz for FUZZ_RUNS executions and prints the
# executions and speed of each. A crash stops the run with libFuzzer's report and the
# input that caused it (crash-*), which replays with: AWSGW_FUZZ_TARGET=T BINARY crash-...
set -euo pipefail
binary="$(realpath "$1")"
runs="${FUZZ_RUNS:-2000000}"
targets="${FUZZ_TARGETS:-json envelope request response config framing http1 timestamp xml cbor resp sigv4 route}"
# Without this the Swift runtime's backtracer catches a trap and libFuzzer writes no crash file.
export SWIFT_BACKTRACE=enable=no
work="$(mktemp -d)"
# Crash inputs are written here, not into the checkout.
cd "$work"
total=0
for target in $targets; do
  mkdir -p "$work/$target"
  log="$work/$target.log"
  start=$(date +%s)
  # Framing runs a whole connection per input: fewer, bounded by time too.
  extra=()
  [ "$target" = framing ] && extra=(-max_total_time=600)
  AWSGW_FUZZ_TARGET="$target" "$binary" -runs="$runs" -max_len=4096 -print_final_stats=1 "${extra[@]}" "$work/$target" >"$log" 2>&1 || {
    tail -40 "$log"; echo "fuzz: $target crashed; inputs in $work" >&2; exit 1; }
  done_runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  seconds=$(( $(date +%s) - start ))
  echo "fuzz: $target: $done_runs executions in ${seconds}s, no crash ($(grep -o 'cov: [0-9]*' "$log" | tail -1))"
  total=$((total + done_runs))
done
echo "fuzz: $total executions in all, no crash"
rm -rf "$work"
