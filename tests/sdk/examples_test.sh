#!/usr/bin/env bash
# The SDK as a third party uses it: install evstore into a temporary prefix, copy the two
# examples out of the source tree, configure and build each as a separate CMake project
# against that prefix only, run their tests (the template plugin's are evstore's conformance
# suites), and load the template plugin through the installed evstore command.
set -euo pipefail
source_dir=$1
build_dir=$2
work=$(mktemp -d /tmp/evstore-sdk-XXXXXX)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
# With ccache (CMAKE_CXX_COMPILER_LAUNCHER), paths below $work hash as relative ones, so a
# rerun in another temporary folder hits the cache.
export CCACHE_BASEDIR=$work

cmake --install "$build_dir" --prefix "$prefix" >/dev/null
cp -r "$source_dir/examples/app" "$source_dir/examples/plugin-template" "$work/"

# What a plugin author includes is the SDK: no Boost.DLL, no internal headers.
if [ -d "$prefix/include/evstore/detail" ] || grep -rq 'boost/' "$prefix/include/evstore"; then
  echo "the installed headers expose evstore's internals or Boost" >&2
  exit 1
fi

# pkg-config: a program compiled, linked and run with nothing but evstore.pc: no -std flag, no
# run-time path of its own, no LD_LIBRARY_PATH.
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
test "$(pkg-config --modversion evstore)" = "$(sed -n 's/.*"\(.*\)"$/\1/p' \
  "$prefix/include/evstore/version.hpp" | head -n1)"
cat >"$work/version.cpp" <<'CPP'
#include <evstore/config.hpp>
#include <evstore/store.hpp>
#include <evstore/version.hpp>
#include <iostream>
int main() {
  std::cout << EVSTORE_VERSION_STRING << ' '
            << evstore::parse_database_url("postgresql://u:secret@h/d").redacted() << '\n';
}
CPP
# shellcheck disable=SC2046
c++ "$work/version.cpp" -o "$work/version" $(pkg-config --cflags --libs evstore)
env -u LD_LIBRARY_PATH "$work/version" | grep -v secret | grep -q "postgresql://u"

# Each example: configured with only the prefix to find evstore in, built, tested.
build_example() {
  local name=$1
  cmake -S "$work/$name" -B "$work/$name-build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$work/$name-configure.log" ||
    { cat "$work/$name-configure.log"; return 1; }
  cmake --build "$work/$name-build"
  if grep -rlF -e "$source_dir" -e "$build_dir" "$work/$name-build/CMakeCache.txt" \
    "$work/$name-build/build.ninja"; then
    echo "$name was built with a path into evstore's source or build tree" >&2
    return 1
  fi
  ctest --test-dir "$work/$name-build" --output-on-failure -j 2
}
build_example app
build_example plugin-template

# The installed evstore loads the template plugin from EVSTORE_PLUGIN_PATH.
plugin_dir="$work/plugin-template-build/lib/evstore/plugins"
output=$(env -i PATH=/usr/bin:/bin EVSTORE_PLUGIN_PATH="$plugin_dir" "$prefix/bin/evstore" plugins)
echo "$output"
grep -q "^templatedb .* $plugin_dir/evstore_templatedb.so" <<<"$output"
doctor=$(env -i PATH=/usr/bin:/bin EVSTORE_PLUGIN_PATH="$plugin_dir" \
  "$prefix/bin/evstore" plugins doctor)
echo "$doctor"
grep -q "$plugin_dir/evstore_templatedb.so" <<<"$doctor"
echo "sdk examples: ok"
