#!/usr/bin/env bash
# Installs what the deploy tests (test/deploy/) run: curl (compose's load-policies.sh)
# and kubectl (`kubectl kustomize` renders the k8s overlays), from Debian's packages.
# Quiet and quick when both are present. Needs root or sudo and apt.
set -euo pipefail

missing=()
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  as_root() { "$@"; }
elif command -v sudo >/dev/null 2>&1; then
  as_root() { sudo -n "$@"; }
else
  echo "install-deploy-tools: ${missing[*]} missing and neither root nor sudo is available;" >&2
  echo "install with: apt-get install -y ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
install() { as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
echo "install-deploy-tools: installing ${missing[*]} from Debian's packages..." >&2
# The package lists may be missing or stale on a fresh machine: update once, then retry.
if ! install 2>/dev/null; then
  as_root apt-get update -q >/dev/null
  install
fi
command -v curl >/dev/null && command -v kubectl >/dev/null || { echo "install-deploy-tools: apt succeeded but a tool is still missing" >&2; exit 1; }
