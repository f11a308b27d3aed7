#!/usr/bin/env bash
# A throw-away MariaDB 10.11 server for the tests, on a free loopback port.
#
#   mariadb-test-server.sh start DIR   mariadb-install-db into DIR/data (DIR created, must not
#                                      exist), start mariadbd, create the evstore database and
#                                      user, and write DIR/env: the EVSTORE_TEST_MARIADB_*
#                                      variables, and DIR/client.cnf: a client option file
#                                      (mode 0600) to connect as that user over TCP
#                                      (mariadb --defaults-file=DIR/client.cnf)
#   mariadb-test-server.sh stop DIR    stop the server started in DIR (by its pid) and remove DIR
#
# The server reads no option file (--no-defaults): nothing of /etc/mysql applies, and nothing
# outside DIR is written. As root, it runs as the mysql user (mariadbd --user), which owns DIR.
# It listens on 127.0.0.1 and on DIR/sock, in utf8mb4 (a fresh data folder would be latin1).
# The password is a canary with URL-special characters (@ : / %); the tests search every output
# for it. It is on no command line: the SQL that sets it goes to the client on stdin, and the
# client reads it from DIR/client.cnf.
set -euo pipefail

password='evs-m4r1@db:/%pw'
password_encoded='evs-m4r1%40db%3A%2F%25pw'
user=evstore
database=evstore

# shellcheck source=scripts/test-server-lib.sh
source "$(dirname "$0")/test-server-lib.sh"

# The administrator mariadb-install-db creates, authenticated by the unix socket's peer: root, or
# the user who ran it.
admin=$(id -un)

# The client as the administrator, through DIR $1's socket; further arguments are the client's.
admin_client() {
  local dir=$1
  shift
  mariadb --no-defaults --socket="$dir/sock" --user="$admin" "$@"
}

start() {
  local dir=$1
  [ ! -e "$dir" ] || { echo "mariadb-test-server: $dir exists already" >&2; exit 1; }
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local as_user=()
  if [ "$(id -u)" -eq 0 ]; then
    chown mysql: "$dir"
    as_user=(--user=mysql)
  fi
  local port pid
  port=$(free_port mariadb-test-server)
  mariadb-install-db --no-defaults "${as_user[@]}" --datadir="$dir/data" \
    --auth-root-authentication-method=socket --skip-test-db \
    >"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; exit 1; }
  mariadbd --no-defaults "${as_user[@]}" --datadir="$dir/data" --socket="$dir/sock" \
    --port="$port" --bind-address=127.0.0.1 --skip-networking=0 --skip-name-resolve \
    --pid-file="$dir/mariadbd.pid" --log-error="$dir/server.log" \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    --innodb-flush-log-at-trx-commit=2 --max-connections=200 \
    </dev/null >"$dir/stdout.log" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/pid"
  # Up to 60 s to accept connections, unless it exits first.
  local ready=0
  for _ in $(seq 1 600); do
    kill -0 "$pid" 2>/dev/null || break
    if admin_client "$dir" --batch -e 'SELECT 1' >/dev/null 2>&1; then
      ready=1
      break
    fi
    sleep 0.1
  done
  if [ "$ready" -ne 1 ]; then
    echo "mariadb-test-server: the server did not start:" >&2
    tail -n 40 "$dir/server.log" "$dir/stdout.log" >&2 || true
    stop_pid "$pid" TERM
    exit 1
  fi
  # The evstore user from the loopback address (TCP) and from localhost (the socket), allowed
  # everything: the tests create and drop databases of their own.
  admin_client "$dir" --batch <<SQL
CREATE DATABASE $database;
CREATE USER '$user'@'127.0.0.1' IDENTIFIED BY '$password';
CREATE USER '$user'@'localhost' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON *.* TO '$user'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO '$user'@'localhost';
SQL
  (
    umask 077
    cat >"$dir/client.cnf" <<CNF
[client]
user=$user
password=$password
host=127.0.0.1
port=$port
protocol=TCP
database=$database
CNF
  )
  cat >"$dir/env" <<ENV
export EVSTORE_TEST_MARIADB_URL='mariadb://$user:$password_encoded@127.0.0.1:$port/$database'
export EVSTORE_TEST_MARIADB_PASSWORD='$password'
export EVSTORE_TEST_MARIADB_PASSWORD_ENCODED='$password_encoded'
export EVSTORE_TEST_MARIADB_PORT='$port'
export EVSTORE_TEST_MARIADB_SOCKET='$dir/sock'
ENV
  local version
  version=$(mariadb --defaults-file="$dir/client.cnf" --batch --skip-column-names -e 'SELECT VERSION()') \
    || { echo "mariadb-test-server: the evstore user cannot connect over TCP" >&2; stop_pid "$pid" TERM; exit 1; }
  echo "mariadb-test-server: MariaDB $version on 127.0.0.1:$port (pid $pid)"
}

stop() {
  local dir=$1
  if [ -f "$dir/pid" ]; then
    # TERM: a clean shutdown (mariadbd ignores SIGINT).
    stop_pid "$(cat "$dir/pid")" TERM
  fi
  rm -rf "$dir"
}

case ${1:-} in
  start) start "${2:?usage: $0 start DIR}" ;;
  stop) stop "${2:?usage: $0 stop DIR}" ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
