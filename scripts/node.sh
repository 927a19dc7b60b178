#!/bin/sh
# Runs a command with Node 22+ first on PATH, so npm scripts work on a machine whose node is
# older (e.g. `npm ci && npm run demo` on Node 20): scripts/use-node.sh installs Node 24 once.
. "$(dirname "$0")/use-node.sh" || exit 1
exec "$@"
