#!/usr/bin/env bash
# Builds scripts/argocd-health (Argo CD's Lua health check semantics on gopher-lua, from the Go
# module proxy) once per source version and caches it outside the clone, like test-bins.sh.
# Prints the binary's path.
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/argocd-health" && pwd)"
sum="$(cat "$src/main.go" "$src/go.mod" "$src/go.sum" | sha256sum | cut -c1-12)"
dir="${VCD_OPERATOR_CACHE:-$HOME/.cache/vcd-operator}/bin/argocd-health-$sum"
if [ ! -x "$dir/argocd-health" ]; then
  if ! command -v go >/dev/null 2>&1; then
    if [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; else
      echo "[argocd-health] Go is needed to build the Lua test runner (https://go.dev/doc/install)" >&2; exit 3
    fi
  fi
  echo "[argocd-health] building the Lua health check runner (gopher-lua) into $dir" >&2
  mkdir -p "$dir.tmp"
  (cd "$src" && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-modcacherw go build -trimpath -ldflags "-s -w" -o "$dir.tmp/argocd-health" .)
  rm -rf "$dir"; mv "$dir.tmp" "$dir"
fi
echo "$dir/argocd-health"
