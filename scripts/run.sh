#!/usr/bin/env bash
# The README's main command: installs what is missing, builds, and runs evstore against its
# embedded default, a SQLite file evstore.db in the working directory (no server needed):
# applies the migrations, loads the `small` seed profile (a second run adds nothing), pings.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake --preset default
cmake --build --preset default

evstore=build/bin/evstore
set -x
"$evstore" --version
"$evstore" plugins
"$evstore" migrate up
"$evstore" migrate status
"$evstore" seed --profile small
"$evstore" ping
