// Package deploy tests statussync's deployment artefacts: the release build
// (build.sh, Containerfile), the Kubernetes manifests (kubernetes/), the
// alerting rules (prometheus/) and the Grafana dashboard (grafana/).
//
// It is a Go module of its own so that what only these tests need - the
// Kubernetes and Prometheus Operator API types, kustomize, Prometheus's rule
// parser - stays out of statussync's module. It talks to no cluster and no
// network: kustomize runs in-process on the local files, and statussync is
// built from the parent directory with deploy/build.sh.
//
//	cd deploy && go test ./...                    # everything
//	cd deploy && go test -run TestPrometheusRule -update   # regenerate kubernetes/prometheusrule.yaml
package deploy
