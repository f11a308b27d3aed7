#!/usr/bin/env bash
# A throw-away streaming standby (a read-only hot standby) of the server that pg-test-server.sh
# started, for the replica tests, on a free loopback port.
#
#   pg-standby-test-server.sh start DIR PGDIR
#                                 make a standby, in DIR (created, must not exist), of the server
#                                 whose DIR/env pg-test-server.sh wrote in PGDIR: a base backup
#                                 (pg_basebackup -R) through a replication slot of its own on
#                                 the primary, started; returns once it accepts connections and
#                                 has replayed the primary's WAL up to where the primary was when
#                                 it looked, and writes DIR/env: EVSTORE_TEST_STANDBY_URL (the
#                                 primary's user, password and database, the standby's port),
#                                 EVSTORE_TEST_STANDBY_PORT and EVSTORE_TEST_STANDBY_DIR
#   pg-standby-test-server.sh down DIR
#                                 stop the standby (a fast shutdown), keeping its data: an outage
#   pg-standby-test-server.sh up DIR
#                                 start it again after down, on the same port; returns once it
#                                 accepts connections (it then catches up on its own)
#   pg-standby-test-server.sh stop DIR
#                                 stop the standby (by its pid), drop its slot on the primary if
#                                 the primary still runs, and remove DIR
#
# The slot keeps the primary from recycling WAL the standby has not received, however long it is
# down. The password is read from a passfile, DIR/pgpass (mode 0600, owned by the server user),
# by pg_basebackup, by the standby's WAL receiver (primary_conninfo names the file, not the
# password) and by this script's psql: it is on no command line and in no log.
# pg_basebackup and postgres refuse to run as root: as root, they run as the postgres user.
set -euo pipefail

bindir=${EVSTORE_PG_BINDIR:-/usr/lib/postgresql/15/bin}
user=evstore
database=evstore

# shellcheck source=scripts/test-server-lib.sh
source "$(dirname "$0")/test-server-lib.sh"

# SQL $3 on 127.0.0.1:$2 as the evstore user, the password from DIR $1's passfile; prints the
# rows unaligned, without headers
sql() {
  local dir=$1 port=$2 statement=$3
  PGPASSFILE=$dir/pgpass "$bindir/psql" -h 127.0.0.1 -p "$port" -U "$user" -d "$database" -w \
    -v ON_ERROR_STOP=1 -qAt -c "$statement"
}

# succeeds once the standby of DIR $1, on port $2, has replayed the WAL up to LSN $3
replayed_up_to() {
  [ "$(sql "$1" "$2" "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '$3') >= 0")" = t ]
}

# the standby's folder and state: data, log, and the ports and slot start wrote
load() {
  local dir=$1
  [ -f "$dir/state" ] || { echo "pg-standby-test-server: no standby in $dir" >&2; exit 1; }
  # shellcheck disable=SC1091
  . "$dir/state"
}

start() {
  local dir=$1 pgdir=$2
  [ -f "$pgdir/env" ] || { echo "pg-standby-test-server: no $pgdir/env (start pg-test-server.sh first)" >&2; exit 1; }
  [ ! -e "$dir" ] || { echo "pg-standby-test-server: $dir exists already" >&2; exit 1; }
  # shellcheck disable=SC1091
  . "$pgdir/env"
  local primary_url=$EVSTORE_TEST_POSTGRESQL_URL primary_port=$EVSTORE_TEST_POSTGRESQL_PORT
  local port slot url limits lsn
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
  port=$(free_port pg-standby-test-server)
  slot=evstore_standby_$port
  # hostname:port:database:username:password, with ':' and '\' escaped; `*` matches the
  # replication pseudo-database and both servers' ports
  local escaped=${EVSTORE_TEST_POSTGRESQL_PASSWORD//\\/\\\\}
  escaped=${escaped//:/\\:}
  (
    umask 077
    printf '127.0.0.1:*:*:%s:%s\n' "$user" "$escaped" >"$dir/pgpass"
  )
  [ "$(id -u)" -ne 0 ] || chown postgres: "$dir/pgpass"
  cat >"$dir/state" <<STATE
port=$port
primary_port=$primary_port
slot=$slot
STATE

  # A hot standby refuses to start with less of these than its primary has: the primary's own,
  # whether set in its files (which the base backup copies) or on its command line (which it
  # does not).
  limits=$(sql "$dir" "$primary_port" "SELECT string_agg(name || ' = ' || setting, E'\n')
    FROM pg_settings WHERE name IN ('max_connections', 'max_worker_processes', 'max_wal_senders',
      'max_prepared_transactions', 'max_locks_per_transaction')")
  as_server_user env PGPASSFILE="$dir/pgpass" "$bindir/pg_basebackup" -D "$dir/data" \
    -h 127.0.0.1 -p "$primary_port" -U "$user" -w -R -C -S "$slot" -X stream -c fast --no-sync \
    >"$dir/basebackup.log" 2>&1 \
    || { echo "pg-standby-test-server: pg_basebackup failed:" >&2; cat "$dir/basebackup.log" >&2; exit 1; }
  # after primary_conninfo and primary_slot_name, which -R wrote here; read after postgresql.conf
  cat >>"$dir/data/postgresql.auto.conf" <<CONF
# pg-standby-test-server.sh: the standby's own address, and the primary's limits
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
$limits
CONF

  start_postmaster pg-standby-test-server "$dir/data" "$dir/server.log"
  retry 100 sql "$dir" "$port" 'SELECT 1' \
    || { echo "pg-standby-test-server: the standby does not accept connections:" >&2; tail -n 20 "$dir/server.log" >&2; exit 1; }
  lsn=$(sql "$dir" "$primary_port" 'SELECT pg_current_wal_lsn()')
  retry 600 replayed_up_to "$dir" "$port" "$lsn" \
    || { echo "pg-standby-test-server: the standby did not replay up to $lsn within 60 s:" >&2; tail -n 20 "$dir/server.log" >&2; exit 1; }

  url=$(url_with_port "$primary_url" "$primary_port" "$port" pg-standby-test-server)
  cat >"$dir/env" <<ENV
export EVSTORE_TEST_STANDBY_URL='$url'
export EVSTORE_TEST_STANDBY_PORT='$port'
export EVSTORE_TEST_STANDBY_DIR='$dir'
ENV
  echo "pg-standby-test-server: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') standby on 127.0.0.1:$port (pid $(head -n1 "$dir/data/postmaster.pid")) of 127.0.0.1:$primary_port, replayed up to $lsn"
}

down() {
  local dir=$1
  load "$dir"
  stop_postmaster "$dir/data"
}

up() {
  local dir=$1
  load "$dir"
  start_postmaster pg-standby-test-server "$dir/data" "$dir/server.log"
  # shellcheck disable=SC2154 # set by load
  retry 100 sql "$dir" "$port" 'SELECT 1' \
    || { echo "pg-standby-test-server: the standby does not accept connections:" >&2; tail -n 20 "$dir/server.log" >&2; exit 1; }
}

# the slot, once the primary's WAL sender for the stopped standby has let go of it
drop_slot() {
  local dir=$1
  # shellcheck disable=SC2154 # set by load
  sql "$dir" "$primary_port" \
    "SELECT pg_drop_replication_slot('$slot') FROM pg_replication_slots WHERE slot_name = '$slot'"
}

stop() {
  local dir=$1
  stop_postmaster "$dir/data"
  if [ -f "$dir/state" ]; then
    load "$dir"
    # fails for 3 s and gives up when the primary is stopped already, and its slots with it
    retry 30 drop_slot "$dir" || true
  fi
  rm -rf "$dir"
}

case ${1:-} in
  start) start "${2:?usage: $0 start DIR PGDIR}" "${3:?usage: $0 start DIR PGDIR}" ;;
  down) down "${2:?usage: $0 down DIR}" ;;
  up) up "${2:?usage: $0 up DIR}" ;;
  stop) stop "${2:?usage: $0 stop DIR}" ;;
  *) echo "usage: $0 start DIR PGDIR, or down|up|stop DIR" >&2; exit 2 ;;
esac
