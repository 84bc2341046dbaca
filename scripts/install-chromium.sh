#!/usr/bin/env bash
# Installs Debian's Chromium for the playground's browser tests (test/ui/), once:
# quiet and quick when /usr/bin/chromium is already there. Needs root or sudo and apt.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
[ -x "$CHROMIUM" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  as_root() { "$@"; }
elif command -v sudo >/dev/null 2>&1; then
  as_root() { sudo -n "$@"; }
else
  echo "install-chromium: $CHROMIUM is missing and neither root nor sudo is available;" >&2
  echo "install it with: apt-get install -y chromium" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
install() { as_root apt-get install -y -q --no-install-recommends chromium >/dev/null; }
echo "install-chromium: installing Debian's chromium package..." >&2
# The package lists may be missing or stale on a fresh machine: update once, then retry.
if ! install 2>/dev/null; then
  as_root apt-get update -q >/dev/null
  install
fi
[ -x "$CHROMIUM" ] || { echo "install-chromium: apt succeeded but $CHROMIUM is missing" >&2; exit 1; }
echo "install-chromium: $("$CHROMIUM" --version 2>/dev/null || echo chromium installed)" >&2
