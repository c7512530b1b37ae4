# Shortcuts for building, testing and packaging statussync. The build flags
# live in deploy/build.sh, which the container image runs too.

VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION   ?= $(shell git rev-parse HEAD 2>/dev/null)
# The commit's date, not the wall clock, so that a rebuild of the same
# commit is byte-for-byte the same.
BUILD_DATE ?= $(shell git log -1 --format=%cI 2>/dev/null)

CONTAINER_ENGINE ?= podman
IMAGE            ?= statussync
IMAGE_TAG        ?= $(VERSION)
# e.g. PLATFORMS=linux/amd64,linux/arm64: podman and buildah then build a
# manifest list named $(IMAGE):$(IMAGE_TAG) (docker needs buildx for this).
PLATFORMS        ?=

export VERSION REVISION BUILD_DATE

.PHONY: all build test test-deploy check-rules image check-config help

all: build

help:
	@echo 'make build        bin/statussync, built with the image'\''s flags'
	@echo 'make test         the whole suite (scripts/test.sh)'
	@echo 'make test-deploy  manifests, image flags, alerts and dashboard (deploy/ module)'
	@echo 'make check-rules  promtool check rules and test rules on the alert rules'
	@echo 'make image        the container image with $$CONTAINER_ENGINE (podman, buildah or docker)'
	@echo 'make check-config statussync check on the Kubernetes configuration'

build:
	deploy/build.sh bin/statussync

test:
	./scripts/test.sh

test-deploy:
	cd deploy && go vet ./... && go test -race -count=1 ./...

# promtool is built from deploy/tools.mod, pinned; the first run compiles it
# (several minutes), later runs use the Go build cache.
PROMTOOL = cd deploy && go tool -modfile=tools.mod promtool
check-rules:
	$(PROMTOOL) check rules prometheus/statussync.rules.yml
	$(PROMTOOL) test rules prometheus/statussync.rules.test.yml
	$(PROMTOOL) test rules prometheus/blackbox-compat.test.yml

# Offline: the secrets are stand-ins, the lease namespace is what the
# Deployment sets, and ClouDNS is a closed local port, so check's look-up of
# the cloudns checks only warns. With real credentials at hand, run
# bin/statussync check with them to have the check names verified too.
check-config: build
	STATUSSYNC_HA__LEASE_NAMESPACE=statussync \
	STATUSSYNC_CACHET__TOKEN=unused STATUSSYNC_CACHET__TOKEN_FILE= \
	STATUSSYNC_CLOUDNS__PASSWORD=unused STATUSSYNC_CLOUDNS__PASSWORD_FILE= \
		bin/statussync check --offline --config.file deploy/kubernetes/config.yaml

# buildah's subcommand is "bud"; podman and docker say "build". The ignore
# file keeps .git and build output out of the context.
IMAGE_BUILD = $(if $(filter buildah,$(notdir $(CONTAINER_ENGINE))),bud,build)
IGNOREFILE  = $(if $(filter docker,$(notdir $(CONTAINER_ENGINE))),,--ignorefile deploy/Containerfile.dockerignore)

image:
	$(CONTAINER_ENGINE) $(IMAGE_BUILD) \
		-f deploy/Containerfile $(IGNOREFILE) \
		--build-arg VERSION=$(VERSION) \
		--build-arg REVISION=$(REVISION) \
		--build-arg BUILD_DATE=$(BUILD_DATE) \
		$(if $(PLATFORMS),--platform $(PLATFORMS) --manifest,-t) $(IMAGE):$(IMAGE_TAG) \
		.
