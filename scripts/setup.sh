#!/usr/bin/env bash
# Installs every Debian 12 package that evstore's build, tests, benchmarks and CLI need.
# Idempotent: packages already installed are skipped; nothing is installed when all are present.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build pkgconf git clang-format
  # libraries we build against
  libsoci-dev libboost-dev libpq-dev libsqlite3-dev libspdlog-dev libfmt-dev
  nlohmann-json3-dev libcpp-httplib-dev libcli11-dev libssl-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # the throw-away PostgreSQL 15 server the tests start, and its client tools
  postgresql-15 postgresql-client-15 sqlite3
  # used by the test scripts: runuser (util-linux), ss (iproute2), procps
  util-linux iproute2 procps
  # the network-partition fault test: ip netns (iproute2) and iptables to drop traffic
  iptables
  # the transaction-mode pooler and the HA cluster the production-topology tests run
  pgbouncer postgresql-15-auto-failover
  # the throw-away MariaDB 10.11 server the MariaDB tests start, its client, and the client
  # library the MariaDB plugin builds against (SOCI's mysql backend comes with libsoci-dev)
  mariadb-server mariadb-client libmariadb-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages are installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: not root; run as root, or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# The server packages (PostgreSQL, PgBouncer, MariaDB) would start a system-wide service on
# install; the tests run throw-away servers of their own, so no package may start one: a
# policy-rc.d that refuses every start, for the time of the install, unless one is there.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# evstore setup.sh: no service starts during package installation\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Nor at the next boot, where systemd runs: MariaDB's service is disabled when it was just
# installed (the PostgreSQL and PgBouncer ones are left as they were before).
if [ -d /run/systemd/system ] && [[ " ${missing[*]} " == *" mariadb-server "* ]]; then
  systemctl disable --now --quiet mariadb 2>/dev/null || true
fi
echo "setup: installed ${#missing[@]} package(s)"
