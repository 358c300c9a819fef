#!/usr/bin/env bash
# The recordkit command, as a shell session (run by examples/cli.ts).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$ROOT"
# In development the command is src/cli.ts run by tsx; installed, it is just "recordkit".
recordkit() { node --import tsx "$ROOT/src/cli.ts" "$@"; }

export RECORDKIT_URL="sqlite:$WORK/app.db"
recordkit migrate status --dir examples/migrations
recordkit migrate up --dir examples/migrations
recordkit migrate down --dir examples/migrations
recordkit migrate status --dir examples/migrations
recordkit introspect --out "$WORK/models.ts"
recordkit migrate new add_genres --dir "$WORK/migrations"
recordkit migrate up --help
