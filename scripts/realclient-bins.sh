#!/usr/bin/env bash
# Builds the real-client program (test/realclient) against VMware's go-vcloud-director v3 and v2
# and caches both binaries outside the clone, under
#   ${VCD_OPERATOR_CACHE:-~/.cache/vcd-operator}/realclient/<hash>/govcd-v3 and govcd-v2,
# where <hash> covers the program's sources, both module files, this script and the Go version, so
# any change rebuilds and an unchanged tree never does. The last line printed is that directory.
#
# The sources import govcd v3 (test/realclient/go.mod); the v2 build copies them to a scratch
# module, rewrites the import path to /v2 and uses go.v2.mod / go.v2.sum. Modules come from the Go
# module proxy at the exact versions pinned there.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/../test/realclient"
CACHE="${VCD_OPERATOR_CACHE:-$HOME/.cache/vcd-operator}/realclient"

say() { printf '[realclient-bins] %s\n' "$*" >&2; }

if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; else
    say "Go is needed to build the real-client test program (go-vcloud-director) and was not found on PATH."
    say "Install Go 1.24 or newer (https://go.dev/doc/install, or your distribution's golang package)."
    exit 3
  fi
fi
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-modcacherw -mod=readonly"

hash="$(
  cd "$src"
  { go version; cat "$here/realclient-bins.sh"; for f in go.mod go.sum go.v2.mod go.v2.sum $(ls ./*.go | sort); do echo "== $f"; cat "$f"; done; } | sha256sum | cut -c1-16
)"
dir="$CACHE/$hash"
if [ -x "$dir/govcd-v3" ] && [ -x "$dir/govcd-v2" ]; then
  say "cached in $dir"
  echo "$dir"
  exit 0
fi

t0=$SECONDS
mkdir -p "$CACHE"
tmp="$(mktemp -d "$CACHE/.build-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
say "building against go-vcloud-director v3 and v2 (with an empty Go cache: about a minute of CPU)"
(cd "$src" && go build -trimpath -o "$tmp/out/govcd-v3" .)
mkdir -p "$tmp/v2"
cp "$src"/*.go "$tmp/v2/"
cp "$src/go.v2.mod" "$tmp/v2/go.mod"
cp "$src/go.v2.sum" "$tmp/v2/go.sum"
sed -i 's#github.com/vmware/go-vcloud-director/v3/#github.com/vmware/go-vcloud-director/v2/#' "$tmp/v2"/*.go
(cd "$tmp/v2" && go build -trimpath -o "$tmp/out/govcd-v2" .)
# Another run may have finished the same build meanwhile; either copy is the same program.
if ! mv -T "$tmp/out" "$dir" 2>/dev/null; then say "another build put it in place first"; fi
say "built in $((SECONDS - t0))s into $dir"
echo "$dir"
