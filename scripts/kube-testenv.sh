#!/usr/bin/env bash
# kube-testenv.sh: a real kube-apiserver for statussync's tests (issue #9).
#
# kube-apiserver is built from the Go module proxy (k8s.io/kubernetes, with
# every k8s.io staging module pinned to the matching v0.x release) into a
# cache directory outside the repository; etcd is Debian's etcd-server.
# Everything listens on 127.0.0.1 only.
#
#   scripts/kube-testenv.sh build         build kube-apiserver (skipped when cached),
#                                         install etcd-server if etcd is missing
#   scripts/kube-testenv.sh env           print KUBE_TESTENV_APISERVER and
#                                         KUBE_TESTENV_ETCD as shell assignments
#   scripts/kube-testenv.sh start [DIR]   start etcd and kube-apiserver with their
#                                         state in DIR (default: a new temp dir),
#                                         wait for /readyz, print KUBECONFIG=...,
#                                         KUBE_TESTENV_DIR=... and the pids
#   scripts/kube-testenv.sh stop DIR      stop what start started in DIR, remove DIR
#
# Environment:
#   KUBE_TESTENV_VERSION   k8s.io/kubernetes version (default v1.34.12, the newest
#                          v1.34 the module proxy serves with its staging modules)
#   KUBE_TESTENV_CACHE     cache dir (default
#                          ${XDG_CACHE_HOME:-$HOME/.cache}/statussync/kube-testenv/<version>)
#   KUBE_TESTENV_AUTHZ     --authorization-mode for start (default RBAC)
#
# The Go tests (internal/ha/kubetest) start their own instances from the
# same binaries; they find them through KUBE_TESTENV_APISERVER and
# KUBE_TESTENV_ETCD, or by running "env" here.
set -euo pipefail

VERSION=${KUBE_TESTENV_VERSION:-v1.34.12}
CACHE=${KUBE_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/statussync/kube-testenv/$VERSION}
APISERVER=$CACHE/bin/kube-apiserver
ADMIN_TOKEN=statussync-testenv-admin

log() { printf 'kube-testenv: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

etcd_path() {
  if command -v etcd >/dev/null 2>&1; then
    command -v etcd
  else
    echo /usr/bin/etcd
  fi
}

# staging_version maps v1.34.12 to v0.34.12, the tag of the staging modules.
staging_version() {
  local v=${VERSION#v1.}
  echo "v0.$v"
}

build_apiserver() {
  if [ -x "$APISERVER" ]; then
    log "kube-apiserver $VERSION already built: $APISERVER"
    return
  fi
  command -v go >/dev/null 2>&1 || die "go not found on PATH"
  mkdir -p "$CACHE/src" "$CACHE/bin"
  local start=$SECONDS
  (
    cd "$CACHE/src"
    export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0
    local gomod
    gomod=$(go mod download -json "k8s.io/kubernetes@$VERSION" |
      sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
    [ -f "$gomod" ] || die "cannot download k8s.io/kubernetes@$VERSION go.mod"
    # Every module that kubernetes' own go.mod replaces with a staging
    # directory is published separately as k8s.io/<name> at v0.<minor>.<patch>.
    local staging
    staging=$(sed -n '/^replace (/,/^)/p' "$gomod" |
      awk '$2 == "=>" && $3 ~ /^\.\/staging\// { print $1 }')
    [ -n "$staging" ] || die "no staging replace block in $gomod"
    local sv
    sv=$(staging_version)
    {
      echo "module statussync.local/kube-testenv"
      echo
      echo "go $(sed -n 's/^go //p' "$gomod")"
      echo
      echo "require k8s.io/kubernetes $VERSION"
      echo
      echo "replace ("
      for m in $staging; do
        printf '\t%s => %s %s\n' "$m" "$m" "$sv"
      done
      echo ")"
    } >go.mod
    : >go.sum
    log "resolving k8s.io/kubernetes/cmd/kube-apiserver@$VERSION ($(wc -w <<<"$staging") staging modules at $sv)"
    go get "k8s.io/kubernetes/cmd/kube-apiserver@$VERSION"
    log "building kube-apiserver"
    go build -trimpath -o "$APISERVER.tmp" \
      -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$VERSION -X k8s.io/component-base/version.gitTreeState=clean" \
      k8s.io/kubernetes/cmd/kube-apiserver
    mv "$APISERVER.tmp" "$APISERVER"
  )
  log "built $APISERVER in $((SECONDS - start))s"
}

install_etcd() {
  if command -v etcd >/dev/null 2>&1 || [ -x /usr/bin/etcd ]; then
    return
  fi
  command -v apt-get >/dev/null 2>&1 || die "etcd not found and no apt-get to install etcd-server"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  # Update the package lists only when apt does not know the package yet.
  if ! apt-cache show etcd-server >/dev/null 2>&1; then
    log "apt-get update"
    "${sudo[@]}" apt-get update -qq
  fi
  log "installing etcd-server"
  # The package's service is not wanted; policy-rc.d keeps it from starting
  # where an init system is present.
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends etcd-server >/dev/null
}

cmd_build() {
  mkdir -p "$CACHE"
  (
    # One build at a time per cache dir; a second caller waits, then finds
    # the binary.
    flock 9
    build_apiserver
    install_etcd
  ) 9>"$CACHE/.lock"
}

cmd_env() {
  printf 'KUBE_TESTENV_APISERVER=%s\n' "$APISERVER"
  printf 'KUBE_TESTENV_ETCD=%s\n' "$(etcd_path)"
}

# free_port prints a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 40000))
    if [ -z "$(ss -Htln "sport = :$p" 2>/dev/null)" ]; then
      echo "$p"
      return
    fi
  done
  die "no free port found"
}

cmd_start() {
  [ -x "$APISERVER" ] || die "kube-apiserver not built: run $0 build"
  local etcd
  etcd=$(etcd_path)
  [ -x "$etcd" ] || die "etcd not found: run $0 build"
  local dir=${1:-}
  if [ -z "$dir" ]; then
    dir=$(mktemp -d "${TMPDIR:-/tmp}/kube-testenv.XXXXXX")
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local start=$SECONDS

  openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
  openssl rsa -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null
  # token,user,uid,"group1,group2"
  printf '%s,admin,admin,"system:masters"\n' "$ADMIN_TOKEN" >"$dir/tokens.csv"

  local client_port peer_port secure_port
  client_port=$(free_port)
  peer_port=$(free_port)
  secure_port=$(free_port)

  setsid "$etcd" \
    --name testenv \
    --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$client_port" \
    --advertise-client-urls "http://127.0.0.1:$client_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "testenv=http://127.0.0.1:$peer_port" \
    --unsafe-no-fsync \
    >"$dir/etcd.log" 2>&1 </dev/null &
  echo $! >"$dir/etcd.pid"

  setsid "$APISERVER" \
    --etcd-servers "http://127.0.0.1:$client_port" \
    --storage-backend etcd3 \
    --bind-address 127.0.0.1 \
    --advertise-address 127.0.0.1 \
    --secure-port "$secure_port" \
    --cert-dir "$dir/certs" \
    --service-cluster-ip-range 10.0.0.0/24 \
    --service-account-issuer https://kubernetes.default.svc \
    --api-audiences https://kubernetes.default.svc \
    --service-account-key-file "$dir/sa.pub" \
    --service-account-signing-key-file "$dir/sa.key" \
    --token-auth-file "$dir/tokens.csv" \
    --authorization-mode "${KUBE_TESTENV_AUTHZ:-RBAC}" \
    --endpoint-reconciler-type none \
    --enable-priority-and-fairness=false \
    >"$dir/kube-apiserver.log" 2>&1 </dev/null &
  echo $! >"$dir/kube-apiserver.pid"

  cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: testenv
  cluster:
    server: https://127.0.0.1:$secure_port
    certificate-authority: $dir/certs/apiserver.crt
users:
- name: admin
  user:
    token: $ADMIN_TOKEN
contexts:
- name: testenv
  context:
    cluster: testenv
    user: admin
current-context: testenv
EOF

  local deadline=$((SECONDS + 60))
  until curl -ksf -H "Authorization: Bearer $ADMIN_TOKEN" \
    "https://127.0.0.1:$secure_port/readyz" >/dev/null 2>&1; do
    if ! kill -0 "$(cat "$dir/kube-apiserver.pid")" 2>/dev/null ||
      ! kill -0 "$(cat "$dir/etcd.pid")" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      tail -n 20 "$dir/etcd.log" "$dir/kube-apiserver.log" >&2 || true
      cmd_stop "$dir" || true
      die "kube-apiserver did not become ready"
    fi
    sleep 0.2
  done
  log "ready in $((SECONDS - start))s"
  printf 'KUBECONFIG=%s\n' "$dir/kubeconfig"
  printf 'KUBE_TESTENV_DIR=%s\n' "$dir"
  printf 'KUBE_TESTENV_SERVER=https://127.0.0.1:%s\n' "$secure_port"
  printf 'KUBE_TESTENV_ADMIN_TOKEN=%s\n' "$ADMIN_TOKEN"
  printf 'ETCD_PID=%s\n' "$(cat "$dir/etcd.pid")"
  printf 'KUBE_APISERVER_PID=%s\n' "$(cat "$dir/kube-apiserver.pid")"
}

stop_pid() {
  local pidfile=$1 pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

cmd_stop() {
  local dir=${1:-${KUBE_TESTENV_DIR:-}}
  [ -n "$dir" ] || die "usage: $0 stop DIR"
  [ -d "$dir" ] || return 0
  # Refuse to remove a directory that start did not make.
  [ -f "$dir/kubeconfig" ] || [ -f "$dir/etcd.pid" ] || die "$dir is not a kube-testenv dir"
  stop_pid "$dir/kube-apiserver.pid"
  stop_pid "$dir/etcd.pid"
  rm -rf "$dir"
}

case ${1:-} in
build) cmd_build ;;
env) cmd_env ;;
start) shift; cmd_start "$@" ;;
stop) shift; cmd_stop "$@" ;;
*)
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
  ;;
esac
