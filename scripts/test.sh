#!/usr/bin/env bash
# The README's test command: installs what is missing, checks formatting, builds with
# warnings as errors, starts a throw-away PostgreSQL 15 server, a streaming standby of it, a
# PgBouncer in transaction mode in front of it, a pg_auto_failover cluster and a throw-away
# MariaDB 10.11 server, runs every test once: the PostgreSQL, PgBouncer, failover, replica,
# MariaDB, SDK and benchmark smoke tests (labels postgresql, pgbouncer, failover, replica,
# mariadb, sdk, bench) in that Debug build, the unit, SQLite and fault tests under ASan and
# UBSan, and the pool tests under TSan as well (scripts/test-sanitizers.sh); searches all
# output for the servers' canary passwords, and stops the servers, also on failure or
# interruption. Running the sanitized tests a second time in the plain build would add minutes
# and find nothing the sanitized run does not.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/check-format.sh
cmake --preset default
cmake --build --preset default

# The servers: PostgreSQL, a streaming standby of it for the replica tests, a transaction-mode
# PgBouncer in front of it, and a pg_auto_failover cluster (a monitor and two nodes) for the
# failover test, and MariaDB; each stopped on exit by its pid, the standby before its primary, so
# that its stop can drop its replication slot there.
pgdir=$(mktemp -d /tmp/evstore-pg-XXXXXX)
standbydir=$(mktemp -d /tmp/evstore-standby-XXXXXX)
bouncerdir=$(mktemp -d /tmp/evstore-pgbouncer-XXXXXX)
hadir=$(mktemp -d /tmp/evstore-ha-XXXXXX)
mariadbdir=$(mktemp -d /tmp/evstore-mariadb-XXXXXX)
rmdir "$pgdir" "$standbydir" "$bouncerdir" "$hadir" "$mariadbdir"
stop_servers() {
  bash scripts/mariadb-test-server.sh stop "$mariadbdir" || true
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
bash scripts/mariadb-test-server.sh start "$mariadbdir"
# shellcheck source=/dev/null
source "$pgdir/env"
# shellcheck source=/dev/null
source "$standbydir/env"
# shellcheck source=/dev/null
source "$bouncerdir/env"
# shellcheck source=/dev/null
source "$hadir/env"
# shellcheck source=/dev/null
source "$mariadbdir/env"

ctest --preset default -L "postgresql|pgbouncer|failover|replica|mariadb|sdk|bench" 2>&1 | tee build/ctest-output.log

# The unit, SQLite and fault tests under ASan and UBSan, the pool tests under TSan.
sanitizers=0
bash scripts/test-sanitizers.sh || sanitizers=1

# The test servers' passwords are canaries: they must appear in no output of the run, raw or
# URL-encoded. Only file names are printed, never the matching lines.
leaks=$(grep -rlsF -e "$EVSTORE_TEST_POSTGRESQL_PASSWORD" -e "$EVSTORE_TEST_POSTGRESQL_PASSWORD_ENCODED" \
  -e "$EVSTORE_TEST_MARIADB_PASSWORD" -e "$EVSTORE_TEST_MARIADB_PASSWORD_ENCODED" \
  build/ctest-output.log build/Testing \
  build-asan/ctest-output.log build-asan/Testing build-asan/sanitizer-reports \
  build-tsan/ctest-output.log build-tsan/Testing build-tsan/sanitizer-reports \
  "$pgdir"/*.log "$standbydir"/*.log "$bouncerdir"/*.log "$hadir"/*.log "$mariadbdir"/*.log || true)
if [ -n "$leaks" ]; then
  echo "test: a canary password appears in: $leaks" >&2
  exit 1
fi
echo "test: the canary passwords appear in no output of the run"
if [ "$sanitizers" -ne 0 ]; then
  echo "test: the sanitizer step failed (above)" >&2
  exit 1
fi
