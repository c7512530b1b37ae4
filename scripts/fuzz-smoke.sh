#!/usr/bin/env bash
# Runs every fuzzer in the module for a short fixed time, one per
# invocation (go test -fuzz accepts one target per package at a time).
# The fuzzers are discovered with `go test -list`, so a new Fuzz* function
# is picked up without editing this script.
#
#   scripts/fuzz-smoke.sh            every fuzzer, FUZZTIME each (default 15s)
#   FUZZTIME=2m scripts/fuzz-smoke.sh cachet   only packages matching "cachet"
#
# A failing input is written by go test to <package>/testdata/fuzz/<Fuzzer>/
# and printed below; commit it (it becomes a regression seed that plain
# `go test` runs) together with the fix. The script runs every fuzzer even
# after a failure and exits non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-15s}
filter=${1:-}

# Seed-corpus runs of every fuzzer are part of the normal suite; here only
# the mutation phase matters, so -run matches nothing.
targets=$(go test -list '^Fuzz' ./... 2>/dev/null | awk '
  /^Fuzz/ { names = names " " $1; next }
  /^ok / && names != "" { print $2 names; names = "" }
  /^ok / { names = "" }')
if [ -z "$targets" ]; then
  echo "fuzz-smoke: no fuzzers found (does the module build?)" >&2
  exit 1
fi

failed=()
count=0
start=$(date +%s)
while read -r pkg fuzzers; do
  [ -n "$filter" ] && [[ "$pkg" != *"$filter"* ]] && continue
  for fz in $fuzzers; do
    count=$((count + 1))
    printf '\n== %s %s (%s)\n' "$pkg" "$fz" "$FUZZTIME"
    before=$(git status --porcelain --untracked-files=all -- "$(go list -f '{{.Dir}}' "$pkg")/testdata/fuzz" 2>/dev/null)
    if ! go test -run '^$' -fuzz "^${fz}\$" -fuzztime "$FUZZTIME" "$pkg" 2>&1 | tail -n 30; then
      failed+=("$pkg $fz")
      after=$(git status --porcelain --untracked-files=all -- "$(go list -f '{{.Dir}}' "$pkg")/testdata/fuzz" 2>/dev/null)
      if [ "$before" != "$after" ]; then
        printf 'new failing input(s):\n%s\n' "$(comm -13 <(echo "$before") <(echo "$after"))"
      fi
    fi
  done
done <<<"$targets"

printf '\nfuzz-smoke: %d fuzzers, %ds\n' "$count" $(( $(date +%s) - start ))
if [ ${#failed[@]} -gt 0 ]; then
  printf 'FAILED:\n'
  printf '  %s\n' "${failed[@]}"
  exit 1
fi
