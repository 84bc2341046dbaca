# Sourced by the install-*.sh scripts: apt_install <who> <package>... installs Debian
# packages as root (directly, or with `sudo -n`), updating the package lists once if the
# first try fails (missing or stale on a fresh machine). Prints what it does on stderr.
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
  echo "$who: installing $* from Debian's packages..." >&2
  if ! DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -q --no-install-recommends "$@" >/dev/null
  fi
}
