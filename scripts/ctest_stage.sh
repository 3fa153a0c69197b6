#!/usr/bin/env bash
# Runs one stage's CTest in the current build directory: ctest_stage.sh NAME [ctest args].
# Tests that fail among the parallel ones are run once more, alone: one that passes then
# failed from the load of the parallel run (real processes on 2 cores) and is reported as
# flaky rather than failing the stage; one that fails again fails it. What happened is also
# appended to $S3HC_TEST_SUMMARY when set, for test.sh to tell again at the end of its log.
set -uo pipefail
stage=$1
shift
summarize() {
  echo "$1"
  [[ -n "${S3HC_TEST_SUMMARY:-}" ]] && echo "$1" >>"$S3HC_TEST_SUMMARY"
  return 0
}
rm -f Testing/Temporary/LastTestsFailed.log  # (a failure to run tests must not rerun old ones)
ctest --output-on-failure --timeout 900 -j "${S3HC_TEST_JOBS:-2}" "$@" && exit 0
failed=$(cat Testing/Temporary/LastTestsFailed.log 2>/dev/null)
if [[ -z "$failed" ]]; then
  summarize "$stage: ctest failed without failing a test (see above)"
  exit 1
fi
echo "$stage: failed in the parallel run, run again one at a time:"
echo "$failed"
if ctest --rerun-failed --output-on-failure --timeout 900 -j 1; then
  summarize "$stage: FLAKY: failed in the parallel run, passed alone (fix them): $(echo $failed)"
  exit 0
fi
summarize "$stage: FAILED (again when run alone; output above): $(echo $failed)"
exit 8
