#!/usr/bin/env bash
# A throw-away PostgreSQL 15 high-availability cluster for the tests, on free loopback ports:
# a pg_auto_failover monitor and two data nodes with synchronous streaming replication.
#
#   pg-ha-cluster.sh start DIR          create the monitor, node1 (the first primary) and node2
#                                       (its standby) in DIR (created, must not exist), start them,
#                                       and write DIR/env: the EVSTORE_TEST_HA_* variables
#   pg-ha-cluster.sh primary DIR        print the port of the current primary, as the monitor
#                                       sees it (fails while no node is a settled primary,
#                                       e.g. during a failover)
#   pg-ha-cluster.sh kill-primary DIR   the primary's machine dies: SIGKILL its pg_autoctl
#                                       processes and its postgres processes, and print its port.
#                                       The monitor then promotes the standby; the dead node is
#                                       not restarted
#   pg-ha-cluster.sh rejoin DIR PORT    run pg_autoctl again for the node on PORT that
#                                       kill-primary killed: it rewinds its data to the new
#                                       primary's (pg_rewind) and follows it; returns once it is
#                                       a synchronous standby again
#   pg-ha-cluster.sh stop DIR           stop every process started in DIR (by their pids) and
#                                       remove DIR
#
# Each node is one `pg_autoctl run` supervisor (pid in DIR/NAME.pid) with a child that starts
# postgres and a child that reports to the monitor; its postmaster pid is in
# DIR/NAME/postmaster.pid. pg_autoctl, initdb and postgres refuse to run as root: as root, they
# run as the postgres user. pg_autoctl keeps its configuration, state and pid files under the
# XDG directories, pointed into DIR; the unix sockets of the three servers are in DIR too.
#
# The evstore user is a superuser, as in pg-test-server.sh (where it is the bootstrap user), and
# owns the database evstore; both are created on the primary once replication runs.
#
# Authentication, loopback only: the evstore user needs its password (scram-sha-256), as with
# pg-test-server.sh. pg_autoctl's internal users (autoctl_node on the monitor,
# pgautofailover_replicator and pgautofailover_monitor on the nodes) are trusted from 127.0.0.1,
# as pg_auto_failover's own tests and tutorial do (--auth trust); postgres connects only through
# the unix socket (peer). The pg_hba.conf files are written here (pg_autoctl --skip-pg-hba);
# node2 copies node1's with its base backup. No TLS (--no-ssl): loopback only.
#
# Failover is tuned for tests, not for production (see monitor_settings): the monitor declares
# the primary dead about 2 s after it stops answering and gives it 1 s to demote itself before
# it promotes the standby. With two nodes, the formation has number_sync_standbys = 0: while
# both run, the primary has synchronous_standby_names = 'ANY 1 (...)' and a commit waits for
# the standby; once the monitor sees one node gone, the other runs as wait_primary with
# synchronous_standby_names = '' and takes writes alone (a write that was waiting for the lost
# standby completes then, about 2 s later). These short timeouts are safe here only because
# kill-primary really kills the old primary; a primary that was merely slow could still accept
# writes for a moment (split brain).
set -euo pipefail

bindir=${EVSTORE_PG_BINDIR:-/usr/lib/postgresql/15/bin}
pg_autoctl=${EVSTORE_PG_AUTOCTL:-/usr/bin/pg_autoctl}
password='evs-c4n@ry:/%pw'
password_encoded='evs-c4n%40ry%3A%2F%25pw'
user=evstore
database=evstore

# shellcheck source=scripts/test-server-lib.sh
source "$(dirname "$0")/test-server-lib.sh"

# a command in pg_autoctl's environment: its configuration, state and pid files in DIR, not in
# the postgres user's home, and the unix sockets of DIR
autoctl_env() {
  local dir=$1
  shift
  as_server_user env XDG_CONFIG_HOME="$dir/config" XDG_DATA_HOME="$dir/share" \
    XDG_RUNTIME_DIR="$dir/run" PGHOST="$dir" "$@"
}

autoctl() {
  local dir=$1
  shift
  autoctl_env "$dir" "$pg_autoctl" "$@"
}

# SQL on the monitor as pg_autoctl's own user, which the monitor trusts on 127.0.0.1
monitor_sql() {
  local dir=$1 sql=$2
  "$bindir/psql" -h 127.0.0.1 -p "$(cat "$dir/monitor.port")" -U autoctl_node -d pg_auto_failover \
    -v ON_ERROR_STOP=1 -qAt -c "$sql"
}

# "node1 primary/primary node2 secondary/secondary": each node's reported and goal states
node_states() {
  monitor_sql "$1" "SELECT string_agg(nodename || ' ' || reportedstate || '/' || goalstate, ' '
                      ORDER BY nodeid) FROM pgautofailover.node" 2>/dev/null || true
}

wait_for_states() {
  local dir=$1 want=$2 what=$3 states=
  for _ in $(seq 1 600); do
    states=$(node_states "$dir")
    [ "$states" != "$want" ] || return 0
    sleep 0.2
  done
  echo "pg-ha-cluster: $what: the nodes are \"$states\", not \"$want\"" >&2
  exit 1
}

# initdb with no trust anywhere; pg_autoctl adds its own settings in postgresql-auto-failover.conf,
# which postgresql.conf includes last, so ours go to postgresql.auto.conf, read after it
init_data() {
  local dir=$1 data=$2 hba=$3 settings=$4
  as_server_user "$bindir/initdb" -D "$data" -U postgres --auth-local=peer --auth-host=reject \
    --no-sync -E UTF8 --locale=C.UTF-8 >"$data.initdb.log" 2>&1 || { cat "$data.initdb.log" >&2; exit 1; }
  printf '%s\n' "$hba" >"$data/pg_hba.conf"
  printf '%s\n' "$settings" >>"$data/postgresql.auto.conf"
}

# `pg_autoctl run` in its own session, detached from the caller, its pid in DIR/NAME.pid
run_node() {
  local dir=$1 name=$2
  rm -f "$dir/$name.pid"
  # shellcheck disable=SC2016
  autoctl_env "$dir" setsid -f sh -c 'echo $$ >"$1"; exec "$2" run --pgdata "$3"' \
    sh "$dir/$name.pid" "$pg_autoctl" "$dir/$name" </dev/null >>"$dir/$name.log" 2>&1
  for _ in $(seq 1 50); do
    [ ! -s "$dir/$name.pid" ] || return 0
    sleep 0.1
  done
  echo "pg-ha-cluster: pg_autoctl run for $name did not start" >&2
  exit 1
}

monitor_settings() {
  local dir=$1
  cat <<CONF
unix_socket_directories = '$dir'
fsync = off
# the health check connects to each node every second; a node that refuses the connection is
# marked bad after one retry half a second later (defaults: every 5 s, 2 retries 2 s apart). The
# connect timeout stays at its default, 5 s: a killed server refuses at once, and a long timeout
# keeps a merely slow node (this machine's cores are shared) from being marked bad.
pgautofailover.health_check_period = 1000
pgautofailover.health_check_timeout = 5000
pgautofailover.health_check_max_retries = 1
pgautofailover.health_check_retry_delay = 500
# a bad node is unhealthy once its keeper (which reports every second) has been silent this long
# (default 20 s)
pgautofailover.node_considered_unhealthy_timeout = 2000
# how long the standby, once promoted but still read-only, waits for the old primary to demote
# itself before it takes writes (default 30 s); the old primary is dead in our tests
pgautofailover.primary_demote_timeout = 1000
# no failover in the first seconds after the monitor starts (default 10 s)
pgautofailover.startup_grace_period = 2000
CONF
}

# a start that fails stops what it started, and leaves DIR and its logs for a look
start_failed() {
  local dir=$1 status=$2
  [ "$status" -ne 0 ] || return 0
  stop_processes "$dir"
  echo "pg-ha-cluster: start failed, logs in $dir (remove it with: $0 stop $dir)" >&2
}

start() {
  local dir=$1
  [ ! -e "$dir" ] || { echo "pg-ha-cluster: $dir exists already" >&2; exit 1; }
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  mkdir -p "$dir/config" "$dir/share" "$dir/run"
  [ "$(id -u)" -ne 0 ] || chown -R postgres: "$dir"
  # shellcheck disable=SC2064
  trap "start_failed '$dir' \$?" EXIT
  local monitor_port port1 port2
  monitor_port=$(free_port pg-ha-cluster)
  port1=$(free_port pg-ha-cluster)
  while [ "$port1" = "$monitor_port" ]; do port1=$(free_port pg-ha-cluster); done
  port2=$(free_port pg-ha-cluster)
  while [ "$port2" = "$monitor_port" ] || [ "$port2" = "$port1" ]; do port2=$(free_port pg-ha-cluster); done
  echo "$monitor_port" >"$dir/monitor.port"

  local common=(--pgctl "$bindir/pg_ctl" --hostname 127.0.0.1 --skip-pg-hba --no-ssl)

  init_data "$dir" "$dir/monitor" \
    "local all          postgres                peer
host  pg_auto_failover autoctl_node  127.0.0.1/32 trust" \
    "$(monitor_settings "$dir")"
  autoctl "$dir" create monitor --pgdata "$dir/monitor" --pgport "$monitor_port" --listen 127.0.0.1 \
    "${common[@]}" \
    >"$dir/monitor.create.log" 2>&1 \
    || { echo "pg-ha-cluster: the monitor was not created:" >&2; cat "$dir/monitor.create.log" >&2; exit 1; }
  run_node "$dir" monitor
  local ready=
  for _ in $(seq 1 300); do
    if monitor_sql "$dir" 'SELECT 1' >/dev/null 2>&1; then ready=1; break; fi
    sleep 0.1
  done
  [ -n "$ready" ] || { echo "pg-ha-cluster: the monitor does not answer:" >&2; tail -n 20 "$dir/monitor.log" >&2; exit 1; }
  local monitor_url="postgres://autoctl_node@127.0.0.1:$monitor_port/pg_auto_failover?sslmode=disable"

  # node2 is a base backup of node1 and inherits these files; the port and listen_addresses are
  # each node's own, in postgresql-auto-failover.conf
  init_data "$dir" "$dir/node1" \
    "local all          postgres                                 peer
host  all          $user                      127.0.0.1/32  scram-sha-256
host  replication  pgautofailover_replicator  127.0.0.1/32  trust
host  postgres     pgautofailover_replicator  127.0.0.1/32  trust
host  postgres     pgautofailover_monitor     127.0.0.1/32  trust" \
    "unix_socket_directories = '$dir'
fsync = off
max_connections = 200
password_encryption = 'scram-sha-256'"

  local node port
  for node in node1 node2; do
    port=$port1
    [ "$node" = node1 ] || port=$port2
    autoctl "$dir" create postgres --pgdata "$dir/$node" --pgport "$port" --listen 127.0.0.1 \
      --name "$node" --monitor "$monitor_url" "${common[@]}" >"$dir/$node.create.log" 2>&1 \
      || { echo "pg-ha-cluster: $node was not created:" >&2; cat "$dir/$node.create.log" >&2; exit 1; }
    run_node "$dir" "$node"
    if [ "$node" = node1 ]; then
      wait_for_states "$dir" "node1 single/single" "node1 did not start"
    fi
  done
  wait_for_states "$dir" "node1 primary/primary node2 secondary/secondary" "node2 did not join"

  as_server_user "$bindir/psql" -h "$dir" -p "$port1" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
    -v user="$user" -v password="$password" -v database="$database" >/dev/null <<'SQL'
SET password_encryption = 'scram-sha-256';
CREATE ROLE :"user" LOGIN SUPERUSER PASSWORD :'password';
CREATE DATABASE :"database" OWNER :"user";
SQL
  # the commit waited for the standby to flush the WAL, not to replay it
  local replayed=
  for _ in $(seq 1 100); do
    if PGPASSWORD=$password "$bindir/psql" -h 127.0.0.1 -p "$port2" -U "$user" -d "$database" \
      -qAt -c 'SELECT 1' >/dev/null 2>&1; then
      replayed=1
      break
    fi
    sleep 0.1
  done
  [ -n "$replayed" ] || { echo "pg-ha-cluster: $user cannot log in to the standby" >&2; exit 1; }

  cat >"$dir/env" <<ENV
export EVSTORE_TEST_HA_URL='postgresql://$user:$password_encoded@127.0.0.1:$port1,127.0.0.1:$port2/$database?target_session_attrs=read-write'
export EVSTORE_TEST_HA_PORTS='$port1 $port2'
export EVSTORE_TEST_HA_MONITOR_PORT='$monitor_port'
export EVSTORE_TEST_HA_DIR='$dir'
export EVSTORE_TEST_POSTGRESQL_PASSWORD='$password'
export EVSTORE_TEST_POSTGRESQL_PASSWORD_ENCODED='$password_encoded'
ENV
  trap - EXIT
  echo "pg-ha-cluster: pg_auto_failover $("$pg_autoctl" --version | awk 'NR == 1 {print $3}'), monitor on 127.0.0.1:$monitor_port, primary 127.0.0.1:$port1, standby 127.0.0.1:$port2"
}

# DIR as an absolute path, the form in which the pid checks compare it
cluster_dir() {
  [ -f "$1/monitor.port" ] || { echo "pg-ha-cluster: no cluster in $1" >&2; exit 1; }
  (cd "$1" && pwd)
}

# "PORT NAME" of the node the monitor sees as a settled primary: its reported state is its goal
# state and a state that takes writes
primary_node() {
  local dir=$1 nodes
  nodes=$(monitor_sql "$dir" "SELECT nodeport || ' ' || nodename FROM pgautofailover.node
    WHERE reportedstate = goalstate
      AND goalstate IN ('single', 'wait_primary', 'primary', 'join_primary', 'apply_settings')")
  if [ -z "$nodes" ] || [ "$(echo "$nodes" | wc -l)" -ne 1 ]; then
    echo "pg-ha-cluster: no settled primary now: $(node_states "$dir")" >&2
    exit 1
  fi
  echo "$nodes"
}

primary() {
  local dir node
  dir=$(cluster_dir "$1")
  node=$(primary_node "$dir")
  echo "${node%% *}"
}

# pids of the children of $1
children() {
  ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' || true
}

# The processes of node NAME in DIR: its pg_autoctl supervisor (recorded by run_node) and that
# one's children, its postmaster (postmaster.pid, checked by its working directory, which is the
# data directory) and that one's children.
node_pids() {
  local dir=$1 name=$2 pid
  if [ -f "$dir/$name.pid" ]; then
    pid=$(cat "$dir/$name.pid")
    if [ "$(ps -o comm= -p "$pid" 2>/dev/null)" = pg_autoctl ]; then
      echo "$pid"
      children "$pid"
    fi
  fi
  if [ -f "$dir/$name/postmaster.pid" ]; then
    pid=$(head -n1 "$dir/$name/postmaster.pid")
    if [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$dir/$name" ]; then
      echo "$pid"
      children "$pid"
    fi
  fi
}

kill_primary() {
  local dir node pids
  dir=$(cluster_dir "$1")
  node=$(primary_node "$dir")
  pids=$(node_pids "$dir" "${node#* }" | sort -u)
  [ -n "$pids" ] || { echo "pg-ha-cluster: no process of ${node#* } found" >&2; exit 1; }
  # freeze them all first, so that none reacts to the death of another
  # shellcheck disable=SC2086
  kill -STOP $pids 2>/dev/null || true
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
  echo "${node%% *}"
}

rejoin() {
  local dir port=$2 name
  dir=$(cluster_dir "$1")
  [[ $port =~ ^[0-9]+$ ]] || { echo "pg-ha-cluster: $port is not a port" >&2; exit 2; }
  name=$(monitor_sql "$dir" "SELECT nodename FROM pgautofailover.node WHERE nodeport = $port")
  [ -n "$name" ] || { echo "pg-ha-cluster: no node on port $port" >&2; exit 1; }
  [ -z "$(node_pids "$dir" "$name")" ] || { echo "pg-ha-cluster: $name is running" >&2; exit 1; }
  run_node "$dir" "$name"
  local want="node1 primary/primary node2 secondary/secondary"
  [ "$name" = node2 ] || want="node1 secondary/secondary node2 primary/primary"
  wait_for_states "$dir" "$want" "$name did not rejoin"
  echo "pg-ha-cluster: $name (127.0.0.1:$port) is a synchronous standby again"
}

# "PID:START" for a running process, START being its start time (field 22 of /proc/PID/stat), so
# that a pid the kernel reuses for another process later is not mistaken for ours; nothing for
# a process that is gone or a zombie (this machine's init reaps orphans late). Builtins only:
# this runs in a polling loop.
proc_id() {
  local stat='' fields
  read -r stat 2>/dev/null <"/proc/$1/stat" || [ -n "$stat" ] || return 0  # no final newline
  read -ra fields <<<"${stat##*) }"  # the fields after the command name, from the third on
  [ "${fields[0]}" != Z ] || return 0
  echo "$1:${fields[19]}"
}

# those of the "PID:START" entries given whose process still runs
still_running() {
  local entry
  for entry in "$@"; do
    [ "$(proc_id "${entry%%:*}")" != "$entry" ] || echo "$entry"
  done
}

stop_processes() {
  local dir=$1 name pid entry procs=()
  for name in node2 node1 monitor; do
    for pid in $(node_pids "$dir" "$name"); do
      entry=$(proc_id "$pid")
      [ -z "$entry" ] || procs+=("$entry")
    done
    # on SIGTERM, pg_autoctl stops its postgres (fast shutdown) and exits
    if [ -f "$dir/$name.pid" ]; then
      pid=$(cat "$dir/$name.pid")
      [ "$(ps -o comm= -p "$pid" 2>/dev/null)" != pg_autoctl ] || kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  [ ${#procs[@]} -gt 0 ] || return 0
  for _ in $(seq 1 150); do
    [ -n "$(still_running "${procs[@]}")" ] || return 0
    sleep 0.1
  done
  for entry in $(still_running "${procs[@]}"); do
    kill -KILL "${entry%%:*}" 2>/dev/null || true
  done
}

stop() {
  local dir=$1
  [ -d "$dir" ] || return 0
  dir=$(cd "$dir" && pwd)
  stop_processes "$dir"
  rm -rf "$dir"
}

case ${1:-} in
  start) start "${2:?usage: $0 start DIR}" ;;
  primary) primary "${2:?usage: $0 primary DIR}" ;;
  kill-primary) kill_primary "${2:?usage: $0 kill-primary DIR}" ;;
  rejoin) rejoin "${2:?usage: $0 rejoin DIR PORT}" "${3:?usage: $0 rejoin DIR PORT}" ;;
  stop) stop "${2:?usage: $0 stop DIR}" ;;
  *) echo "usage: $0 start|primary|kill-primary|stop DIR, or rejoin DIR PORT" >&2; exit 2 ;;
esac
