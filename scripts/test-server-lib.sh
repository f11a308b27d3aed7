# Shared by the scripts that start throw-away servers for the tests (pg-test-server.sh,
# pgbouncer-test-server.sh, pg-ha-cluster.sh): sourced, not run.
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

# Stops the process $1 started by the calling script: SIGINT (PostgreSQL's fast shutdown,
# PgBouncer's safe one), up to 10 s to exit, then SIGKILL.
stop_pid() {
  kill -INT "$1" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$1" 2>/dev/null || true
}
