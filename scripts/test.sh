#!/usr/bin/env bash
# The README's test command: installs what is missing, checks formatting, builds with
# warnings as errors, starts a throw-away PostgreSQL 15 server, a streaming standby of it, a
# PgBouncer in transaction mode in front of it and a pg_auto_failover cluster, runs every test
# once: the PostgreSQL, PgBouncer, failover, replica, SDK and benchmark smoke tests (labels
# postgresql, pgbouncer, failover, replica, sdk, bench) in that Debug build, the unit, SQLite
# and fault tests under ASan and UBSan, and the pool tests under TSan as well
# (scripts/test-sanitizers.sh); searches all output for the server's canary password,
# and stops the server, also on failure or interruption. Running the sanitized tests a second
# time in the plain build would add minutes and find nothing the sanitized run does not.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/check-format.sh
cmake --preset default
cmake --build --preset default

# The servers: PostgreSQL, a streaming standby of it for the replica tests, a transaction-mode
# PgBouncer in front of it, and a pg_auto_failover cluster (a monitor and two nodes) for the
# failover test; each stopped on exit by its pid, the standby before its primary, so that its
# stop can drop its replication slot there.
pgdir=$(mktemp -d /tmp/evstore-pg-XXXXXX)
standbydir=$(mktemp -d /tmp/evstore-standby-XXXXXX)
bouncerdir=$(mktemp -d /tmp/evstore-pgbouncer-XXXXXX)
hadir=$(mktemp -d /tmp/evstore-ha-XXXXXX)
rmdir "$pgdir" "$standbydir" "$bouncerdir" "$hadir"
stop_servers() {
  bash scripts/pg-ha-cluster.sh stop "$hadir" || true
  bash scripts/pgbouncer-test-server.sh stop "$bouncerdir" || true
  bash scripts/pg-standby-test-server.sh stop "$standbydir" || true
  bash scripts/pg-test-server.sh stop "$pgdir"
}
trap stop_servers EXIT
trap 'exit 130' INT TERM
bash scripts/pg-test-server.sh start "$pgdir"
bash scripts/pg-standby-test-server.sh start "$standbydir" "$pgdir"
bash scripts/pgbouncer-test-server.sh start "$bouncerdir" "$pgdir"
bash scripts/pg-ha-cluster.sh start "$hadir"
# shellcheck source=/dev/null
source "$pgdir/env"
# shellcheck source=/dev/null
source "$standbydir/env"
# shellcheck source=/dev/null
source "$bouncerdir/env"
# shellcheck source=/dev/null
source "$hadir/env"

ctest --preset default -L "postgresql|pgbouncer|failover|replica|sdk|bench" 2>&1 | tee build/ctest-output.log

# The unit, SQLite and fault tests under ASan and UBSan, the pool tests under TSan.
sanitizers=0
bash scripts/test-sanitizers.sh || sanitizers=1

# The test server's password is a canary: it must appear in no output of the run, raw or
# URL-encoded. Only file names are printed, never the matching lines.
leaks=$(grep -rlsF -e "$EVSTORE_TEST_POSTGRESQL_PASSWORD" -e "$EVSTORE_TEST_POSTGRESQL_PASSWORD_ENCODED" \
  build/ctest-output.log build/Testing \
  build-asan/ctest-output.log build-asan/Testing build-asan/sanitizer-reports \
  build-tsan/ctest-output.log build-tsan/Testing build-tsan/sanitizer-reports \
  "$pgdir"/*.log "$standbydir"/*.log "$bouncerdir"/*.log "$hadir"/*.log || true)
if [ -n "$leaks" ]; then
  echo "test: the canary password appears in: $leaks" >&2
  exit 1
fi
echo "test: the canary password appears in no output of the run"
if [ "$sanitizers" -ne 0 ]; then
  echo "test: the sanitizer step failed (above)" >&2
  exit 1
fi
