#!/usr/bin/env bash
# Builds and caches the test control plane (kube-apiserver, kubectl, etcd, helm) from the Go module
# proxy. Idempotent: a version already in the cache is not rebuilt. The last line printed is the
# directory holding all four binaries.
#
# KUBEBUILDER_ASSETS (a setup-envtest directory) supplies kube-apiserver, etcd and kubectl when set;
# helm is then taken from it or PATH if present, otherwise built.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=test-bins.env
. "$here/test-bins.env"
CACHE="${VCD_OPERATOR_CACHE:-$HOME/.cache/vcd-operator}/bin"
K8S_DIR="$CACHE/kubernetes-v$K8S_VERSION"
ETCD_DIR="$CACHE/etcd-v$ETCD_VERSION"
HELM_DIR="$CACHE/helm-v$HELM_VERSION"
ASSETS="$CACHE/assets-k8s$K8S_VERSION-etcd$ETCD_VERSION-helm$HELM_VERSION"

say() { printf '[test-bins] %s\n' "$*" >&2; }
elapsed() { printf '%ss' "$((SECONDS - $1))"; }

need_go() {
  if ! command -v go >/dev/null 2>&1; then
    if [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; return; fi
    say "Go is needed to build the test control plane and was not found on PATH."
    say "Install Go 1.26 or newer (https://go.dev/doc/install, or your distribution's golang package),"
    say "or point KUBEBUILDER_ASSETS at a directory holding kube-apiserver, etcd and kubectl."
    exit 3
  fi
}

go_env() {
  export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-modcacherw
}

build_kubernetes() {
  if [ -x "$K8S_DIR/kube-apiserver" ] && [ -x "$K8S_DIR/kubectl" ]; then
    say "kube-apiserver and kubectl v$K8S_VERSION: cached in $K8S_DIR"; return
  fi
  need_go; go_env
  local t0=$SECONDS work minor staging
  minor="$(echo "$K8S_VERSION" | cut -d. -f2)"
  staging="v0.${K8S_VERSION#1.}"
  work="$(mktemp -d)"; trap 'rm -rf "$work"' RETURN
  say "building kube-apiserver and kubectl v$K8S_VERSION (cold: about 4 minutes on 2 cores; 6.5 minutes for all four tools)"
  (
    cd "$work"
    # k8s.io/kubernetes replaces its staging modules with local paths; a wrapper module maps each
    # of them to its published version instead. The list is read from the real go.mod.
    info="$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" || true)"
    if grep -q '"Error"' <<<"$info"; then
      say "the module proxy did not serve k8s.io/kubernetes@v$K8S_VERSION:"; grep '"Error"' <<<"$info" >&2; exit 1
    fi
    modfile="$(sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' <<<"$info")"
    go mod init local/vcd-operator-k8s-bins >/dev/null 2>&1
    for m in $(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/.*#\1#p' "$modfile"); do
      go mod edit -replace="$m=$m@$staging"
    done
    gd="$(sed -n 's/^godebug \(.*\)$/\1/p' "$modfile")"
    [ -z "$gd" ] || go mod edit -godebug="$gd"
    say "resolving modules"
    go get "k8s.io/kubernetes/cmd/kube-apiserver@v$K8S_VERSION" "k8s.io/kubernetes/cmd/kubectl@v$K8S_VERSION" 2>&1 | tail -n 3 >&2
    date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"; ldf="-s -w"
    # Stamp the version so /version (read by helm and kubectl) tells the truth.
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldf="$ldf -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
      ldf="$ldf -X $p.gitTreeState=clean -X $p.buildDate=$date"
    done
    mkdir -p "$K8S_DIR.tmp"
    say "compiling kube-apiserver"
    go build -trimpath -ldflags "$ldf" -o "$K8S_DIR.tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
    say "compiling kubectl"
    go build -trimpath -ldflags "$ldf" -o "$K8S_DIR.tmp/kubectl" k8s.io/kubernetes/cmd/kubectl
  )
  rm -rf "$K8S_DIR"; mv "$K8S_DIR.tmp" "$K8S_DIR"
  say "kube-apiserver and kubectl v$K8S_VERSION built in $(elapsed $t0)"
}

build_etcd() {
  if [ -x "$ETCD_DIR/etcd" ]; then say "etcd v$ETCD_VERSION: cached in $ETCD_DIR"; return; fi
  need_go; go_env
  local t0=$SECONDS work
  work="$(mktemp -d)"; trap 'rm -rf "$work"' RETURN
  say "building etcd v$ETCD_VERSION"
  (
    cd "$work"
    # etcd's server module replaces its siblings with local paths; a wrapper module uses the
    # published versions its require lines already name.
    go mod init local/vcd-operator-etcd-bin >/dev/null 2>&1
    go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" 2>&1 | tail -n 3 >&2
    mkdir -p "$ETCD_DIR.tmp"
    go build -trimpath -ldflags "-s -w" -o "$ETCD_DIR.tmp/etcd" go.etcd.io/etcd/server/v3
  )
  rm -rf "$ETCD_DIR"; mv "$ETCD_DIR.tmp" "$ETCD_DIR"
  say "etcd v$ETCD_VERSION built in $(elapsed $t0)"
}

build_helm() {
  if [ -x "$HELM_DIR/helm" ]; then say "helm v$HELM_VERSION: cached in $HELM_DIR"; return; fi
  need_go; go_env
  local t0=$SECONDS minor ldf
  minor="$(echo "$K8S_VERSION" | cut -d. -f2)"
  say "building helm v$HELM_VERSION"
  ldf="-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  ldf="$ldf -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$minor"
  ldf="$ldf -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$minor"
  mkdir -p "$HELM_DIR.tmp"
  GOBIN="$HELM_DIR.tmp" go install -trimpath -ldflags "$ldf" "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION"
  rm -rf "$HELM_DIR"; mv "$HELM_DIR.tmp" "$HELM_DIR"
  say "helm v$HELM_VERSION built in $(elapsed $t0)"
}

link_assets() {
  # One directory holding all four, whatever their source, so tools need one path.
  local src
  mkdir -p "$ASSETS"
  for b in kube-apiserver kubectl etcd helm; do
    src="$1/$b"; [ "$b" = etcd ] && src="$2/$b"; [ "$b" = helm ] && src="$3/$b"
    ln -sfn "$src" "$ASSETS/$b"
  done
}

mkdir -p "$CACHE"
t_all=$SECONDS
if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
  for b in kube-apiserver kubectl etcd; do
    [ -x "$KUBEBUILDER_ASSETS/$b" ] || { say "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS has no executable $b"; exit 2; }
  done
  say "using kube-apiserver, kubectl and etcd from KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
  helm_dir=""
  if [ -x "$KUBEBUILDER_ASSETS/helm" ]; then helm_dir="$KUBEBUILDER_ASSETS"
  elif command -v helm >/dev/null 2>&1; then helm_dir="$(dirname "$(command -v helm)")"
  else build_helm; helm_dir="$HELM_DIR"; fi
  ASSETS="$CACHE/assets-kubebuilder"
  link_assets "$KUBEBUILDER_ASSETS" "$KUBEBUILDER_ASSETS" "$helm_dir"
else
  build_etcd
  build_helm
  build_kubernetes
  link_assets "$K8S_DIR" "$ETCD_DIR" "$HELM_DIR"
fi
say "$("$ASSETS/kube-apiserver" --version) | etcd $("$ASSETS/etcd" --version | sed -n 's/^etcd Version: //p') | helm $("$ASSETS/helm" version --short) ($(elapsed $t_all))"
echo "$ASSETS"
