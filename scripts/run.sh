#!/usr/bin/env bash
# The README's main command: installs what is missing, builds, and runs the main job against
# evstore's embedded default, a SQLite file evstore.db in the working directory (no server
# needed): applies the migrations, loads the `small` seed profile (a second run adds nothing),
# then serves the health check and the metrics on http://127.0.0.1:8080 (EVSTORE_LISTEN to
# change it) until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake --preset default
cmake --build --preset default

evstore=build/bin/evstore
set -x
"$evstore" --version
"$evstore" migrate up
"$evstore" seed --profile small
exec "$evstore" serve
