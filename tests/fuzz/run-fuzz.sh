#!/bin/bash
# Runs a libFuzzer target for LODGE_FUZZ_SECONDS (default 60) from a seed
# corpus of the examples and golden inputs; any crash, leak or abort fails.
# New corpus entries go to the build tree, never into the sources.
#   run-fuzz.sh FUZZER SOURCE_DIR WORK_DIR [env|app|guest]
set -eu
fuzzer=$1 src=$2 work=$3 kind=${4:-env}
seconds=${LODGE_FUZZ_SECONDS:-60}
if [ "$kind" = app ]; then
  seeds=("$src/tests/data/app" "$src/images/apps")
  dict=$src/tests/fuzz/app.dict
elif [ "$kind" = guest ]; then
  # The golden configuration blobs (*.guestconfig) and agent requests.
  seeds=("$src/tests/data/domain" "$src/tests/fuzz/guest")
  dict=$src/tests/fuzz/guest.dict
else
  seeds=("$src/examples" "$src/tests/data/env" "$src/tests/data/domain")
  dict=$src/tests/fuzz/env.dict
fi
mkdir -p "$work/corpus" "$work/artifacts"
log="$work/fuzz.log"
set +e
"$fuzzer" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -dict="$dict" -artifact_prefix="$work/artifacts/" \
  "$work/corpus" "${seeds[@]}" >"$log" 2>&1
rc=$?
set -e
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
echo "fuzz: $(basename "$fuzzer"): ${runs:-?} executions in ${seconds}s, ${rate:-?} exec/s, exit $rc"
if [ $rc -ne 0 ]; then
  tail -n 60 "$log"
  echo "fuzz: failing inputs are in $work/artifacts"
fi
exit $rc
