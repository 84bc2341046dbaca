#!/usr/bin/env bash
# Installs what the deploy tests (test/deploy/) run: curl (compose's load-policies.sh)
# and kubectl (`kubectl kustomize` renders the k8s overlays), from Debian's packages.
# Quiet and quick when both are present. Needs root or sudo and apt.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/apt-install.sh"

missing=()
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
[ "${#missing[@]}" -eq 0 ] && exit 0

apt_install install-deploy-tools "${missing[@]}"
command -v curl >/dev/null && command -v kubectl >/dev/null || { echo "install-deploy-tools: apt succeeded but a tool is still missing" >&2; exit 1; }
