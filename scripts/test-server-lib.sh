# Shared by the scripts that start throw-away servers for the tests (pg-test-server.sh,
# pg-standby-test-server.sh, pgbouncer-test-server.sh, pg-ha-cluster.sh,
# mariadb-test-server.sh): sourced, not run.
# The PostgreSQL helpers run the binaries of $bindir, which the sourcing script sets.
# shellcheck shell=bash

# Runs a command as the postgres user when root: initdb, postgres, pg_autoctl and PgBouncer
# refuse to run as root.
as_server_user() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# Prints a loopback TCP port nobody listens on; $1 names the caller in the error.
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 30000))
    if ! ss -Htln "sport = :$port" | grep -q .; then
      echo "$port"
      return 0
    fi
  done
  echo "$1: no free port found" >&2
  return 1
}

# Stops the process $1 started by the calling script: the signal $2, SIGINT when none
# (PostgreSQL's fast shutdown, PgBouncer's safe one; MariaDB ignores SIGINT and shuts down on
# TERM), up to 10 s to exit, then SIGKILL.
stop_pid() {
  kill "-${2:-INT}" "$1" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$1" 2>/dev/null || true
}

# Runs the command $2... every 0.1 s until it succeeds, at most $1 times, its output discarded;
# fails when it never did.
retry() {
  local tries=$1
  shift
  for _ in $(seq 1 "$tries"); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# Starts the PostgreSQL server of data folder $2 with pg_ctl, as the server user, its log in $3,
# with the server options $4 (none when empty), and waits up to 60 s for it to accept
# connections; $1 names the caller in the error, which shows the end of the log.
start_postmaster() {
  local caller=$1 data=$2 log=$3 options=${4:-}
  local args=(-D "$data" -l "$log" -w -t 60 start)
  [ -z "$options" ] || args+=(-o "$options")
  # shellcheck disable=SC2154 # $bindir is the sourcing script's
  as_server_user "$bindir/pg_ctl" "${args[@]}" >/dev/null \
    || { echo "$caller: the server did not start:" >&2; tail -n 40 "$log" >&2; return 1; }
}

# Stops the PostgreSQL server of data folder $1 by its postmaster's pid (stop_pid: a fast
# shutdown), if it runs; the data stays.
stop_postmaster() {
  if [ -f "$1/postmaster.pid" ]; then
    stop_pid "$(head -n1 "$1/postmaster.pid")"
  fi
}

# The URL $1 of a server on 127.0.0.1:$2 with the port $3 instead: the same user, password,
# database and parameters; $4 names the caller in the error.
url_with_port() {
  local url=${1/@127.0.0.1:$2\//@127.0.0.1:$3/}
  [ "$url" != "$1" ] || { echo "$4: unexpected server URL form" >&2; return 1; }
  echo "$url"
}
