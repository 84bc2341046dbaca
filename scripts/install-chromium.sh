#!/usr/bin/env bash
# Installs Debian's Chromium for the playground's browser tests (test/ui/), once:
# quiet and quick when /usr/bin/chromium is already there. Needs root or sudo and apt.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/apt-install.sh"

CHROMIUM=/usr/bin/chromium
[ -x "$CHROMIUM" ] && exit 0

apt_install install-chromium chromium
[ -x "$CHROMIUM" ] || { echo "install-chromium: apt succeeded but $CHROMIUM is missing" >&2; exit 1; }
echo "install-chromium: $("$CHROMIUM" --version 2>/dev/null || echo chromium installed)" >&2
