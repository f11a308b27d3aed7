#!/usr/bin/env bash
# Fails, listing file:line of each, when a file of the source tree cites a document that is not
# part of the repository: the project's working notes (PITFALLS.md, DESIGN.md, STYLE.md,
# user-story.md) live outside it, in a ../shared folder that a reader of the repository never
# sees. What a comment needs from them is stated in the comment itself or in a file under docs/
# (facts about our dependencies: docs/dependencies.md). Needs no build and no git.
# Usage: no_file_cites_a_document_outside_the_repository.sh SOURCE_DIR
set -euo pipefail
source_dir=${1:?usage: $0 SOURCE_DIR}
cd "$source_dir"

pattern='PITFALLS|DESIGN\.md|STYLE\.md|user-story\.md|\.\./shared'
searched=(README.md CMakeLists.txt CMakePresets.json .ci apps bench cmake docs examples framework
  migrations plugins scripts seeds tests)
excluded=(
  # This script names what it looks for.
  tests/unit/no_file_cites_a_document_outside_the_repository.sh
)

present=()
for path in "${searched[@]}"; do
  [ -e "$path" ] && present+=("$path")
done
status=0
found=$(grep -rnIE -- "$pattern" "${present[@]}") || status=$?
if [ "$status" -gt 1 ]; then
  echo "no_file_cites_a_document_outside_the_repository: grep failed in $source_dir" >&2
  exit 2
fi
hits=()
while IFS= read -r line; do
  [ -n "$line" ] || continue
  file=${line%%:*}
  keep=1
  for skip in "${excluded[@]}"; do
    [ "$file" = "$skip" ] && keep=0
  done
  [ "$keep" -eq 1 ] && hits+=("$line")
done <<<"$found"

if [ ${#hits[@]} -gt 0 ]; then
  echo "These cite a document outside the repository; state what they need from it in the" >&2
  echo "comment itself or in docs/ (see docs/dependencies.md):" >&2
  printf '  %s\n' "${hits[@]}" >&2
  exit 1
fi
echo "no file cites a document outside the repository (${#present[@]} paths searched)"
