#!/usr/bin/env bash
# The whole test suite: formatting, vet, staticcheck, the race-enabled tests
# of the root module (the fault-injection suite and, when a kube-apiserver is
# available, the HA tests included), the deploy module (manifests, image
# flags, alert rules, dashboard), promtool on the alert rules, and a short
# fuzz run of every fuzzer. CI runs exactly this (.ci/run). Tools come
# through the Go module proxy at pinned versions, so a fresh machine needs
# only Go.
#
#   ./scripts/test.sh          everything
#   QUICK=1 ./scripts/test.sh  skip promtool and the fuzz run (a few minutes)
set -euo pipefail
cd "$(dirname "$0")/.."

STATICCHECK_VERSION=v0.8.2
staticcheck() { go run "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION" "$@"; }

step() { printf '\n== %s\n' "$*"; }

step gofmt
unformatted=$(gofmt -l $(git ls-files --cached --others --exclude-standard '*.go'))
if [ -n "$unformatted" ]; then
  printf 'gofmt would change:\n%s\n' "$unformatted"
  exit 1
fi

step go vet
go vet ./...

step "staticcheck $STATICCHECK_VERSION"
staticcheck ./...

# The integration packages (real binaries, a real kube-apiserver, timing
# bounds on 2 cores) run one at a time, after the unit packages, so that
# their timing checks measure statussync rather than each other.
integration=$(go list ./... | grep -E '/(test/|internal/ha)' || true)
units=$(go list ./... | grep -vE '/(test/|internal/ha)')

step "go test -race (unit packages)"
go test -race -count=1 -timeout 20m $units

step "go test -race -p 1 (integration packages)"
go test -race -count=1 -p 1 -timeout 30m $integration

step "deploy module: go vet, staticcheck, go test -race"
(cd deploy && go vet ./... && staticcheck ./... && go test -race -count=1 -timeout 15m ./...)

if [ -n "${QUICK:-}" ]; then
  printf '\nQUICK set: promtool and the fuzz run skipped\n'
  exit 0
fi

step "promtool check rules, test rules (statussync's, and blackbox's alerts over /probe and blackbox)"
(cd deploy && go tool -modfile=tools.mod promtool check rules prometheus/statussync.rules.yml \
  && go tool -modfile=tools.mod promtool test rules prometheus/statussync.rules.test.yml \
  && go tool -modfile=tools.mod promtool test rules prometheus/blackbox-compat.test.yml)

step "fuzz smoke"
FUZZTIME=${FUZZTIME:-10s} ./scripts/fuzz-smoke.sh
