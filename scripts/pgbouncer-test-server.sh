#!/usr/bin/env bash
# A throw-away PgBouncer 1.18 for the tests, on a free loopback port, in front of a server that
# pg-test-server.sh started.
#
#   pgbouncer-test-server.sh start DIR PGDIR
#                                 start PgBouncer in DIR (created, must not exist) in front of the
#                                 server whose DIR/env pg-test-server.sh wrote in PGDIR, and write
#                                 DIR/env: EVSTORE_TEST_PGBOUNCER_URL, _PORT and _DIR
#   pgbouncer-test-server.sh stop DIR
#                                 stop the PgBouncer started in DIR (by its pid) and remove DIR
#
# The pooler is set up the way the production topology uses it, to catch what breaks there:
# - pool_mode = transaction with default_pool_size = 2, fewer server connections than evstore's
#   pool, so that consecutive transactions of one client land on different server connections
#   and session state (named prepared statements, SET, session advisory locks) does not survive.
#   EVSTORE_PGBOUNCER_POOL_SIZE sets another size: the benchmark (docs/performance.md) uses 4,
#   the pool of its W5, so that the pooler does not queue what the direct run does not.
# - ignore_startup_parameters is not set: like a production PgBouncer, it refuses a client that
#   sends the startup parameter `options` (FATAL: unsupported startup parameter: options).
# - auth_type = scram-sha-256 with an auth_file holding the server's SCRAM secret of the evstore
#   user, copied from pg_authid (the password itself is not stored). PgBouncer logs in to the
#   server with the proof from the client's own SCRAM exchange, which works because the secret
#   (salt and iterations) is identical on both sides.
# - database evstore plus a `*` fallback, so databases the tests create on the server with
#   random names are reachable through the pooler too.
# PgBouncer refuses to run as root: as root, it runs as the postgres user.
set -euo pipefail

bindir=${EVSTORE_PG_BINDIR:-/usr/lib/postgresql/15/bin}
pgbouncer=${EVSTORE_PGBOUNCER:-/usr/sbin/pgbouncer}
pool_size=${EVSTORE_PGBOUNCER_POOL_SIZE:-2}

# shellcheck source=scripts/test-server-lib.sh
source "$(dirname "$0")/test-server-lib.sh"

start() {
  local dir=$1 pgdir=$2
  [ -f "$pgdir/env" ] || { echo "pgbouncer-test-server: no $pgdir/env (start pg-test-server.sh first)" >&2; exit 1; }
  [ ! -e "$dir" ] || { echo "pgbouncer-test-server: $dir exists already" >&2; exit 1; }
  case $pool_size in
    '' | *[!0-9]* | 0*) echo "pgbouncer-test-server: EVSTORE_PGBOUNCER_POOL_SIZE must be a positive whole number" >&2; exit 1 ;;
  esac
  # shellcheck disable=SC1091
  . "$pgdir/env"
  local server_url=$EVSTORE_TEST_POSTGRESQL_URL server_port=$EVSTORE_TEST_POSTGRESQL_PORT
  local password=$EVSTORE_TEST_POSTGRESQL_PASSWORD user=evstore database=evstore
  local port secret
  secret=$(PGPASSWORD=$password "$bindir/psql" -h 127.0.0.1 -p "$server_port" -U "$user" -d postgres \
    -v ON_ERROR_STOP=1 -qAt -c "SELECT rolpassword FROM pg_authid WHERE rolname = '$user'")
  case $secret in
    SCRAM-SHA-256\$*) ;;
    *) echo "pgbouncer-test-server: the server has no SCRAM secret for $user" >&2; exit 1 ;;
  esac
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  port=$(free_port pgbouncer-test-server)
  printf '"%s" "%s"\n' "$user" "$secret" >"$dir/userlist.txt"
  chmod 600 "$dir/userlist.txt"

  cat >"$dir/pgbouncer.ini" <<INI
[databases]
$database = host=127.0.0.1 port=$server_port dbname=$database
* = host=127.0.0.1 port=$server_port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir = $dir
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
admin_users = $user
pool_mode = transaction
default_pool_size = $pool_size
max_client_conn = 400
; after the server restarts, fail the next login only briefly (the default is 15 s)
server_login_retry = 1
INI
  [ "$(id -u)" -ne 0 ] || chown -R postgres: "$dir"

  as_server_user "$pgbouncer" -d "$dir/pgbouncer.ini" >"$dir/start.log" 2>&1 \
    || { echo "pgbouncer-test-server: PgBouncer did not start:" >&2; cat "$dir/start.log" "$dir/pgbouncer.log" >&2 2>/dev/null; exit 1; }
  PGPASSWORD=$password retry 100 "$bindir/psql" -h 127.0.0.1 -p "$port" -U "$user" \
    -d "$database" -qAt -c 'SELECT 1' \
    || { echo "pgbouncer-test-server: PgBouncer does not accept connections:" >&2; tail -n 20 "$dir/pgbouncer.log" >&2; exit 1; }

  local url
  url=$(url_with_port "$server_url" "$server_port" "$port" pgbouncer-test-server)
  cat >"$dir/env" <<ENV
export EVSTORE_TEST_PGBOUNCER_URL='$url'
export EVSTORE_TEST_PGBOUNCER_PORT='$port'
export EVSTORE_TEST_PGBOUNCER_DIR='$dir'
ENV
  echo "pgbouncer-test-server: $("$pgbouncer" --version | head -n1) on 127.0.0.1:$port (pid $(cat "$dir/pgbouncer.pid"), default_pool_size $pool_size) in front of 127.0.0.1:$server_port"
}

stop() {
  local dir=$1
  if [ -f "$dir/pgbouncer.pid" ]; then
    stop_pid "$(cat "$dir/pgbouncer.pid")"
  fi
  rm -rf "$dir"
}

case ${1:-} in
  start) start "${2:?usage: $0 start DIR PGDIR}" "${3:?usage: $0 start DIR PGDIR}" ;;
  stop) stop "${2:?usage: $0 stop DIR}" ;;
  *) echo "usage: $0 start DIR PGDIR, or stop DIR" >&2; exit 2 ;;
esac
