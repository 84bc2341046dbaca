#!/usr/bin/env bash
# Installs the gateways the forward-auth tests (test/gateways/) run in front of the
# service: nginx (auth_request) and Caddy (forward_auth), from Debian's packages.
# Quiet and quick when both are present. Needs root or sudo and apt.
#
# Debian's packages would start system services on install; the tests never use them
# (each test runs its own nginx / caddy on a free loopback port with its own config),
# so the services are stopped again when the install started them.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt-install.sh"

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v caddy >/dev/null 2>&1 || missing+=(caddy)
[ "${#missing[@]}" -eq 0 ] && exit 0

apt_install install-gateways "${missing[@]}"
# A package's post-install may have started its daemon (no systemd here: through
# invoke-rc.d); the tests need none of them on the default ports.
for pkg in "${missing[@]}"; do
  if [ "$pkg" = nginx ] && [ -f /run/nginx.pid ]; then /usr/sbin/nginx -s quit 2>/dev/null || true; fi
done
{ command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; } && command -v caddy >/dev/null 2>&1 \
  || { echo "install-gateways: apt succeeded but a gateway is still missing" >&2; exit 1; }
echo "install-gateways: $(/usr/sbin/nginx -v 2>&1), caddy $(caddy version 2>/dev/null | cut -d' ' -f1)" >&2
