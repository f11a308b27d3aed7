#!/usr/bin/env bash
# A throw-away PostgreSQL 15 server for the tests, on a free loopback port.
#
#   pg-test-server.sh start DIR   initdb into DIR (created, must not exist), start the server,
#                                 and write DIR/env: the EVSTORE_TEST_POSTGRESQL_* variables
#   pg-test-server.sh stop DIR    stop the server started in DIR (by its pid) and remove DIR
#   pg-test-server.sh restart DIR MODE
#                                 stop the server in DIR with pg_ctl's MODE (fast: sessions end
#                                 cleanly; immediate: a crash, recovered at start) and start it
#                                 again with the same options, on the same port
#
# initdb and postgres refuse to run as root: as root, they run as the postgres user.
# The password is a canary with URL-special characters (@ : / %); the tests search every
# output for it.
set -euo pipefail

bindir=${EVSTORE_PG_BINDIR:-/usr/lib/postgresql/15/bin}
password='evs-c4n@ry:/%pw'
password_encoded='evs-c4n%40ry%3A%2F%25pw'
user=evstore
database=evstore

# shellcheck source=scripts/test-server-lib.sh
source "$(dirname "$0")/test-server-lib.sh"

start() {
  local dir=$1
  [ ! -e "$dir" ] || { echo "pg-test-server: $dir exists already" >&2; exit 1; }
  mkdir -p "$dir"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
  local data=$dir/data port
  port=$(free_port pg-test-server)
  printf '%s\n' "$password" >"$dir/pwfile"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$dir/pwfile"
  as_server_user "$bindir/initdb" -D "$data" -U "$user" --pwfile="$dir/pwfile" \
    --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  rm -f "$dir/pwfile"
  start_postmaster pg-test-server "$data" "$dir/server.log" \
    "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir \
     -c fsync=off -c shared_preload_libraries=pg_stat_statements -c max_connections=200"
  PGPASSWORD=$password "$bindir/psql" -h 127.0.0.1 -p "$port" -U "$user" -d postgres \
    -v ON_ERROR_STOP=1 -q -c "CREATE DATABASE $database" >/dev/null
  cat >"$dir/env" <<ENV
export EVSTORE_TEST_POSTGRESQL_URL='postgresql://$user:$password_encoded@127.0.0.1:$port/$database'
export EVSTORE_TEST_POSTGRESQL_PASSWORD='$password'
export EVSTORE_TEST_POSTGRESQL_PASSWORD_ENCODED='$password_encoded'
export EVSTORE_TEST_POSTGRESQL_SOCKET_DIR='$dir'
export EVSTORE_TEST_POSTGRESQL_PORT='$port'
export EVSTORE_TEST_POSTGRESQL_DATA='$data'
ENV
  echo "pg-test-server: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (pid $(head -n1 "$data/postmaster.pid"))"
}

stop() {
  local dir=$1
  stop_postmaster "$dir/data"
  rm -rf "$dir"
}

restart() {
  local dir=$1 mode=$2
  as_server_user "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m "$mode" -w -t 60 restart \
    >/dev/null || { echo "pg-test-server: the server did not restart:" >&2; tail -n 20 "$dir/server.log" >&2; exit 1; }
}

case ${1:-} in
  start) start "${2:?usage: $0 start DIR}" ;;
  stop) stop "${2:?usage: $0 stop DIR}" ;;
  restart) restart "${2:?usage: $0 restart DIR MODE}" "${3:?usage: $0 restart DIR fast|immediate}" ;;
  *) echo "usage: $0 start|stop DIR, or restart DIR fast|immediate" >&2; exit 2 ;;
esac
