#!/bin/sh
# build.sh OUTPUT: build the statussync binary the way the container image
# does. This file is the one place the release build flags live: the
# Containerfile, `make build` and the deploy module's tests all run it.
#
#   CGO_ENABLED=0   a static binary: no libc, runs on distroless/static or
#                   ubi-micro, and on any glibc or musl host.
#   -trimpath       no build-machine paths in the binary or its stack traces.
#   -buildvcs=false the revision is stamped below; the image build context
#                   has no .git, and a local build must not depend on one.
#   -s -w           no symbol table and no DWARF: a smaller image. Stack
#                   traces keep their function names and lines.
#   -X ...          the version, revision and build date that
#                   `statussync version` prints and statussync_build_info
#                   exports.
#
# The environment supplies VERSION (default "dev"), REVISION (default
# empty: statussync reports "unknown") and BUILD_DATE (RFC 3339, default
# empty), and GOOS/GOARCH to cross-compile.
set -eu

out=${1:?usage: deploy/build.sh OUTPUT}
case $out in
/*) ;;
*) out=$PWD/$out ;;
esac
cd "$(dirname "$0")/.."

pkg=github.com/statussync/statussync/internal/buildinfo
CGO_ENABLED=0 exec go build \
	-trimpath \
	-buildvcs=false \
	-ldflags "-s -w -X $pkg.Version=${VERSION:-dev} -X $pkg.Revision=${REVISION:-} -X $pkg.BuildDate=${BUILD_DATE:-}" \
	-o "$out" \
	./cmd/statussync
