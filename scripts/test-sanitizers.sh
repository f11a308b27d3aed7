#!/usr/bin/env bash
# The sanitizer step of the test command (scripts/test.sh): builds only what the tests need
# and runs the unit, SQLite and fault tests under AddressSanitizer and UndefinedBehaviorSanitizer
# (build-asan/), and the pool tests under ThreadSanitizer (build-tsan/). The presets
# (CMakePresets.json) make every process, the evstore commands the tests start included, write
# its sanitizer reports to build-*/sanitizer-reports/ and stop at the first one: any report,
# or any failing test, fails this script. Needs the test PostgreSQL server's environment
# (scripts/pg-test-server.sh), as scripts/test.sh gives it.
set -euo pipefail
cd "$(dirname "$0")/.."

failed=0
for preset in asan tsan; do
  build=build-$preset
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
  rm -rf "$build/sanitizer-reports"
  mkdir -p "$build/sanitizer-reports"
  ctest --preset "$preset" 2>&1 | tee "$build/ctest-output.log" || failed=1
  for report in "$build"/sanitizer-reports/*; do
    [ -e "$report" ] || continue
    echo "test-sanitizers: report in $report:" >&2
    cat "$report" >&2
    failed=1
  done
done
if [ "$failed" -ne 0 ]; then
  echo "test-sanitizers: a test failed or a sanitizer reported an error (above)" >&2
  exit 1
fi
echo "test-sanitizers: no sanitizer report"
