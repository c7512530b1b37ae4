#!/usr/bin/env bash
# The whole test suite: formatting, vet, staticcheck and the race-enabled
# tests. CI runs exactly this (.ci/run). Tools come through the Go module
# proxy at pinned versions, so a fresh machine needs only Go.
set -euo pipefail
cd "$(dirname "$0")/.."

STATICCHECK_VERSION=v0.8.2

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
go run "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION" ./...

step "go test -race"
go test -race -count=1 -timeout 15m ./...
