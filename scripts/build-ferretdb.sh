#!/usr/bin/env bash
# Builds the test database (FerretDB v1, SQLite backend; see scripts/ferretdb/main.go)
# into .cache/ferretdb/ferretdb, only when that binary is missing or older than
# scripts/ferretdb/{main.go,go.mod,go.sum}. Idempotent; quick when up to date.
#
# Needs Go >= 1.24 and the Go module proxy (GOPROXY) for the first build; the
# modules are pinned by scripts/ferretdb/go.sum.
#
# Usage: bash scripts/build-ferretdb.sh [--force] [--quiet]
# Prints the binary's path on the last line of stdout; exits non-zero on failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/scripts/ferretdb"
OUT_DIR="$ROOT/.cache/ferretdb"
OUT="$OUT_DIR/ferretdb"

force=0
quiet=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --quiet) quiet=1 ;;
    *) echo "build-ferretdb: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

say() { if [ "$quiet" = 0 ]; then echo "build-ferretdb: $*" >&2; fi; }
die() { echo "build-ferretdb: ERROR: $*" >&2; exit 1; }

up_to_date() {
  [ "$force" = 0 ] && [ -x "$OUT" ] &&
    [ "$OUT" -nt "$SRC/main.go" ] && [ "$OUT" -nt "$SRC/go.mod" ] && [ "$OUT" -nt "$SRC/go.sum" ]
}

for f in main.go go.mod go.sum; do
  [ -f "$SRC/$f" ] || die "missing $SRC/$f"
done

if up_to_date; then
  echo "$OUT"
  exit 0
fi

mkdir -p "$OUT_DIR"

# Several test processes may ask for the binary at once: build it only once.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$OUT_DIR/.build.lock"
  flock 9
  if up_to_date; then
    echo "$OUT"
    exit 0
  fi
fi

command -v go >/dev/null 2>&1 ||
  die "the 'go' command was not found on PATH; install Go >= 1.24 (https://go.dev/dl/) or set MONGO_URL to an existing MongoDB to skip FerretDB"

say "building $OUT with $(go version | awk '{print $3}') (first build downloads modules from ${GOPROXY:-$(go env GOPROXY)} and takes about a minute)..."
start=$(date +%s)
tmp="$OUT.tmp.$$"
trap 'rm -f "$tmp"' EXIT

# -mod=readonly: never rewrite the committed go.mod/go.sum; a missing go.sum
# entry is an error here (run `go mod tidy` in scripts/ferretdb to fix it).
# CGO_ENABLED=0: the SQLite driver (modernc.org/sqlite) is pure Go, no C compiler needed.
if ! (cd "$SRC" && CGO_ENABLED=0 go build -mod=readonly -buildvcs=false -trimpath -ldflags='-s -w' -o "$tmp" .); then
  die "'go build' in scripts/ferretdb failed (see the messages above). Check that Go >= 1.24 is installed and that the Go module proxy ($(go env GOPROXY)) is reachable."
fi

[ -x "$tmp" ] || die "'go build' reported success but produced no binary at $tmp"
mv -f "$tmp" "$OUT"
trap - EXIT
say "built $OUT in $(( $(date +%s) - start ))s"
echo "$OUT"
