#!/usr/bin/env bash
# The throw-away MariaDB server of scripts/mariadb-test-server.sh is the one the MariaDB tests
# need: 10.11, utf8mb4 throughout (an emoji, 4 bytes of UTF-8, round-trips), the evstore user may
# create and drop databases, and it listens on the loopback address only. Reads the
# EVSTORE_TEST_MARIADB_* variables of the server's DIR/env and fails when they are unset: a
# test run without the server is a failed run, not a skipped one.
# The client connects over TCP to 127.0.0.1 with the password in an option file (mode 0600),
# never on its command line.
set -euo pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

for variable in URL PASSWORD PASSWORD_ENCODED PORT SOCKET; do
  name=EVSTORE_TEST_MARIADB_$variable
  [ -n "${!name:-}" ] || fail "$name is unset: start scripts/mariadb-test-server.sh and source its DIR/env"
done
port=$EVSTORE_TEST_MARIADB_PORT

# The URL names the user, the encoded password, the loopback address, the port and the database.
[ "$EVSTORE_TEST_MARIADB_URL" = "mariadb://evstore:$EVSTORE_TEST_MARIADB_PASSWORD_ENCODED@127.0.0.1:$port/evstore" ] \
  || fail "EVSTORE_TEST_MARIADB_URL is not mariadb://evstore:<encoded password>@127.0.0.1:$port/evstore"
[ "$(printf '%b' "${EVSTORE_TEST_MARIADB_PASSWORD_ENCODED//%/\\x}")" = "$EVSTORE_TEST_MARIADB_PASSWORD" ] \
  || fail "EVSTORE_TEST_MARIADB_PASSWORD_ENCODED does not decode to EVSTORE_TEST_MARIADB_PASSWORD"

work=$(mktemp -d /tmp/evstore-mariadb-test-XXXXXX)
scratch=evstore_server_test_$$
cleanup() {
  sql -e "DROP DATABASE IF EXISTS $scratch" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
(
  umask 077
  cat >"$work/client.cnf" <<CNF
[client]
user=evstore
password=$EVSTORE_TEST_MARIADB_PASSWORD
host=127.0.0.1
port=$port
protocol=TCP
database=evstore
default-character-set=utf8mb4
CNF
)

# The client with the option file; further arguments are the client's. Prints rows tab-separated,
# without column names.
sql() {
  mariadb --defaults-file="$work/client.cnf" --batch --skip-column-names "$@"
}

# Over TCP, to the loopback address, as evstore.
connection=$(sql -e "SELECT USER(), CURRENT_USER(), @@port")
[ "$connection" = "$(printf 'evstore@127.0.0.1\tevstore@127.0.0.1\t%s' "$port")" ] \
  || fail "expected evstore@127.0.0.1 over TCP on port $port, got: $connection"

version=$(sql -e 'SELECT VERSION()')
[[ $version == 10.11.* ]] || fail "expected MariaDB 10.11.x, got $version"
echo "version: $version"

charset=$(sql -e 'SELECT @@character_set_server, @@collation_server, @@character_set_database')
[ "$charset" = "$(printf 'utf8mb4\tutf8mb4_unicode_ci\tutf8mb4')" ] \
  || fail "expected utf8mb4 / utf8mb4_unicode_ci for the server and the evstore database, got: $charset"

# The loopback address only: a listener on the port, none on a wildcard or another address.
listeners=$(ss -Hltn "sport = :$port" | awk '{print $4}')
[ -n "$listeners" ] || fail "nothing listens on port $port"
while read -r address; do
  [ "$address" = "127.0.0.1:$port" ] || fail "the server listens on $address, not on 127.0.0.1 only"
done <<<"$listeners"

# The user creates a database of its own, a table in it of the default character set, and drops
# the database. In the table, a 4-byte UTF-8 character (U+1F600, an emoji) and a 2-byte one
# (U+00E9) round-trip, byte for byte and as one character each. Bytes, not \u escapes: the test
# may run in the C locale.
text=$'caf\xc3\xa9 \xf0\x9f\x98\x80'
sql -e "CREATE DATABASE $scratch" || fail "evstore cannot CREATE DATABASE"
[ "$(sql -e "SHOW DATABASES LIKE '$scratch'")" = "$scratch" ] || fail "$scratch was not created"
sql -e "CREATE TABLE $scratch.t (id INT PRIMARY KEY, body VARCHAR(20)); \
        INSERT INTO $scratch.t VALUES (1, '$text');" || fail "the emoji row was not inserted"
row=$(sql -e "SELECT body, CHAR_LENGTH(body), HEX(body), CHARSET(body) FROM $scratch.t WHERE id = 1")
[ "$row" = "$(printf '%s\t6\t636166C3A920F09F9880\tutf8mb4' "$text")" ] \
  || fail "the emoji row came back as: $row (expected: $text, 6 characters, 636166C3A920F09F9880, utf8mb4)"
sql -e "DROP DATABASE $scratch" || fail "evstore cannot DROP DATABASE"
[ -z "$(sql -e "SHOW DATABASES LIKE '$scratch'")" ] || fail "$scratch is still there after DROP DATABASE"

echo "mariadb server: ok"
