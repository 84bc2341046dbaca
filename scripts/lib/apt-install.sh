# Shared by the scripts/install-*.sh scripts (source it): install Debian packages with
# apt, as root or through sudo, quietly; update the package lists once when the first
# try fails (they may be missing or stale on a fresh machine). Never downloads anything
# outside the package manager.
#
#   apt_install <who> <package>...   (who: the calling script's name, for messages)

apt_install() {
  local who=$1
  shift
  local as_root
  if [ "$(id -u)" -eq 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo -n)
  else
    echo "$who: $* missing and neither root nor sudo is available;" >&2
    echo "install with: apt-get install -y $*" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  echo "$who: installing $* from Debian's packages..." >&2
  if ! "${as_root[@]}" apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1; then
    "${as_root[@]}" apt-get update -q >/dev/null
    "${as_root[@]}" apt-get install -y -q --no-install-recommends "$@" >/dev/null
  fi
}
