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
# after a failure and exits non-zero if any failed. A fuzzer that fails
# with nothing but Go's coordinator race (see coordinator_race) is run once
# more, and listed at the end.
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

# coordinator_race LOG: the run failed only because of a race in Go's own
# fuzzing coordinator (golang/go#75804, fixed in Go 1.27, present in the
# go1.26.x this module builds with): when the -fuzztime deadline fires, the
# coordinator can read the parent context's DeadlineExceeded before the
# workers' child context is cancelled, and reports it as the target failing.
# Its signature is a bare "context deadline exceeded" as the only failure
# line and no input written. A real finding always writes an input (and says
# "Failing input written to"), a hang says "fuzzing process hung", so
# neither matches.
coordinator_race() {
  local log=$1
  grep -q '^    context deadline exceeded$' "$log" || return 1
  grep -q -e 'Failing input written to' -e 'fuzzing process hung' -e 'panic:' "$log" && return 1
  [ "$(grep -c -e '^--- FAIL' -e '^    --- FAIL' "$log")" -eq 1 ] || return 1
  return 0
}

# corpus_state PKG: the git status of the package's fuzz corpus, to see
# whether a run wrote an input.
corpus_state() {
  git status --porcelain --untracked-files=all -- "$(go list -f '{{.Dir}}' "$1")/testdata/fuzz" 2>/dev/null
}

# fuzz_once PKG FUZZER LOG: one run, its output in LOG and its last lines
# printed; the status is go test's.
fuzz_once() {
  local rc=0
  go test -run '^$' -fuzz "^$2\$" -fuzztime "$FUZZTIME" "$1" >"$3" 2>&1 || rc=$?
  tail -n 30 "$3"
  return $rc
}

failed=()
retried=()
count=0
start=$(date +%s)
while read -r pkg fuzzers; do
  [ -n "$filter" ] && [[ "$pkg" != *"$filter"* ]] && continue
  for fz in $fuzzers; do
    count=$((count + 1))
    printf '\n== %s %s (%s)\n' "$pkg" "$fz" "$FUZZTIME"
    before=$(corpus_state "$pkg")
    log=$(mktemp)
    ok=1
    fuzz_once "$pkg" "$fz" "$log" || ok=0
    if [ $ok = 0 ] && [ "$before" = "$(corpus_state "$pkg")" ] && coordinator_race "$log"; then
      # Once, not in a loop: a second failure is reported as a failure.
      printf '\nfuzz-smoke: %s failed with the Go coordinator race (golang/go#75804, no input written); running it once more\n' "$fz"
      retried+=("$pkg $fz")
      ok=1
      fuzz_once "$pkg" "$fz" "$log" || ok=0
    fi
    rm -f "$log"
    if [ $ok = 0 ]; then
      failed+=("$pkg $fz")
      after=$(corpus_state "$pkg")
      if [ "$before" != "$after" ]; then
        printf 'new failing input(s):\n%s\n' "$(comm -13 <(echo "$before") <(echo "$after"))"
      fi
    fi
  done
done <<<"$targets"

printf '\nfuzz-smoke: %d fuzzers, %ds\n' "$count" $(( $(date +%s) - start ))
if [ ${#retried[@]} -gt 0 ]; then
  printf 'run twice after the Go coordinator race (golang/go#75804):\n'
  printf '  %s\n' "${retried[@]}"
fi
if [ ${#failed[@]} -gt 0 ]; then
  printf 'FAILED:\n'
  printf '  %s\n' "${failed[@]}"
  exit 1
fi
