#!/usr/bin/env bash
# An installed evstore finds the installed plugins with no environment variable, and not the
# build tree's: install into a temporary prefix, run the installed command with an empty
# environment from an unrelated folder, and check where every plugin it lists came from.
set -euo pipefail
build_dir=$1
prefix=$(mktemp -d /tmp/evstore-install-XXXXXX)
work=$(mktemp -d /tmp/evstore-work-XXXXXX)
trap 'rm -rf "$prefix" "$work"' EXIT

cmake --install "$build_dir" --prefix "$prefix" >/dev/null
cd "$work"
output=$(env -i PATH=/usr/bin:/bin "$prefix/bin/evstore" plugins)
echo "$output"
libdir=$(dirname "$(find "$prefix" -name 'evstore_sqlite.so' -print -quit)")
grep -q "sqlite .* $libdir/evstore_sqlite.so" <<<"$output"
grep -q "postgresql .* $libdir/evstore_postgresql.so" <<<"$output"
if grep -q "$build_dir" <<<"$output"; then
  echo "installed evstore loaded plugins from the build tree" >&2
  exit 1
fi
env -i PATH=/usr/bin:/bin "$prefix/bin/evstore" ping | grep -q '^ok: sqlite'
test -f "$work/evstore.db"
# The core version and the plugin ABI that plugins must match.
version=$(env -i PATH=/usr/bin:/bin "$prefix/bin/evstore" --version)
echo "$version"
grep -Eq '^evstore [0-9]+\.[0-9]+\.[0-9]+ \(plugin ABI [0-9]+, [a-z]+-[0-9]+;cxx11abi=[01];soci=[0-9.]+\)$' \
  <<<"$version"
echo "installed evstore: ok"
