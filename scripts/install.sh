#!/bin/sh
# Installs a mackerel-agent binary with its systemd unit, environment file and sample config, or
# removes them.
#
#   scripts/install.sh [--binary] PATH [--unit-dir DIR]
#   scripts/install.sh --uninstall [--purge] [--unit-dir DIR]
#   DESTDIR=/tmp/root scripts/install.sh dist/mackerel-agent-0.1.0-x86_64-unknown-linux-gnu
#
# Installs (under $DESTDIR when set):
#   /usr/bin/mackerel-agent                      the binary, mode 0755, replaced on every run
#   /etc/systemd/system/mackerel-agent.service   the unit, mode 0644, replaced on every run
#   /etc/default/mackerel-agent                  environment file, kept when present
#   /etc/mackerel-agent/mackerel-agent.conf      config, mode 0640, kept when present
#   /etc/mackerel-agent/conf.d/                  drop-in directory for included configs
#   /var/lib/mackerel-agent/                     the agent's root (host id file)
# The unit goes to /etc/systemd/system, the administrator's place, because this is an install by
# hand: /lib/systemd/system belongs to the package manager.
# --uninstall stops and disables the service, removes the binary and the unit, and keeps the
# config, the environment file and the host id (a reinstall is the same host); --purge removes
# those too. Neither retires the host from Mackerel: run `mackerel-agent retire` first for that.
# Without DESTDIR and with systemd running it runs systemctl; with DESTDIR it never does.
set -eu

usage() {
  echo "usage: $0 [--binary] PATH [--unit-dir DIR]   (install or upgrade)"
  echo "       $0 --uninstall [--purge] [--unit-dir DIR]"
  echo "       DESTDIR=/prefix $0 ...   (work under a staging root; systemctl is not run)"
}

usage_error() {
  usage >&2
  exit 2
}

binary=""
unit_dir="/etc/systemd/system"
uninstall=false
purge=false
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) [ $# -ge 2 ] || usage_error; binary="$2"; shift 2 ;;
    --binary=*) binary="${1#--binary=}"; shift ;;
    --unit-dir) [ $# -ge 2 ] || usage_error; unit_dir="$2"; shift 2 ;;
    --unit-dir=*) unit_dir="${1#--unit-dir=}"; shift ;;
    --uninstall) uninstall=true; shift ;;
    --purge) purge=true; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "$0: unknown option $1" >&2; usage_error ;;
    *) [ -z "$binary" ] || usage_error; binary="$1"; shift ;;
  esac
done

dest="${DESTDIR:-}"

# systemctl only on the live system: never under DESTDIR, never without a running systemd.
live_systemd() {
  [ -z "$dest" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1
}

if $uninstall; then
  [ -z "$binary" ] || usage_error
  if live_systemd; then
    systemctl disable --now mackerel-agent.service >/dev/null 2>&1 || true
    echo "stopped and disabled mackerel-agent.service"
  fi
  for f in "$dest/usr/bin/mackerel-agent" "$dest$unit_dir/mackerel-agent.service"; do
    if [ -e "$f" ]; then
      rm -f "$f"
      echo "removed $f"
    fi
  done
  for f in "$dest/etc/mackerel-agent" "$dest/etc/default/mackerel-agent" "$dest/var/lib/mackerel-agent"; do
    [ -e "$f" ] || continue
    if $purge; then
      rm -rf "$f"
      echo "removed $f"
    else
      echo "kept $f (--purge removes it)"
    fi
  done
  if [ -n "$dest" ]; then
    echo "DESTDIR is set: systemctl not run"
  elif live_systemd; then
    systemctl daemon-reload
    echo "ran systemctl daemon-reload"
  fi
  echo "the host stays registered in Mackerel: retire it there, or run \"mackerel-agent retire\"" \
    "before uninstalling"
  exit 0
fi
$purge && usage_error
[ -n "$binary" ] || usage_error
if [ ! -f "$binary" ]; then
  echo "$0: no such file: $binary" >&2
  exit 1
fi

here="$(cd "$(dirname "$0")" && pwd)"
packaging="$here/../packaging"
for f in mackerel-agent.service mackerel-agent.env mackerel-agent.conf; do
  if [ ! -f "$packaging/$f" ]; then
    echo "$0: missing $packaging/$f (run the script from a checkout or the packaging archive)" >&2
    exit 1
  fi
done

# Copies $1 to $2 with mode $3 through a temporary file and a rename, so a running binary is
# replaced, never overwritten in place.
put() {
  mkdir -p "$(dirname "$2")"
  cp "$1" "$2.tmp.$$"
  chmod "$3" "$2.tmp.$$"
  mv -f "$2.tmp.$$" "$2"
  echo "installed $2 (mode $3)"
}

# Like put, but keeps an existing file: it holds the operator's settings.
put_once() {
  if [ -e "$2" ]; then
    echo "kept existing $2"
  else
    put "$1" "$2" "$3"
  fi
}

mkdir_p() {
  if [ -d "$1" ]; then
    echo "kept existing $1/"
  else
    mkdir -p "$1"
    chmod 0755 "$1"
    echo "created $1/"
  fi
}

# A package's files are the package manager's: say so rather than silently fight it.
if [ -z "$dest" ] && { dpkg-query -W -f='${Status}' mackerel-agent 2>/dev/null | grep -q "ok installed" \
  || rpm -q mackerel-agent >/dev/null 2>&1; }; then
  echo "note: the mackerel-agent package is installed and owns /usr/bin/mackerel-agent; remove it" \
    "first (apt-get remove / dnf remove, not purge: that deletes the host id), or install the" \
    "release's .deb or .rpm instead" >&2
fi
put "$binary" "$dest/usr/bin/mackerel-agent" 0755
put "$packaging/mackerel-agent.service" "$dest$unit_dir/mackerel-agent.service" 0644
put_once "$packaging/mackerel-agent.env" "$dest/etc/default/mackerel-agent" 0644
# The config holds the API key: readable by root (and its group) only.
put_once "$packaging/mackerel-agent.conf" "$dest/etc/mackerel-agent/mackerel-agent.conf" 0640
mkdir_p "$dest/etc/mackerel-agent/conf.d"
mkdir_p "$dest/var/lib/mackerel-agent"

if [ -n "$dest" ]; then
  echo "DESTDIR is set: systemctl not run"
elif live_systemd; then
  systemctl daemon-reload
  echo "ran systemctl daemon-reload"
fi
echo "next: set apikey in /etc/mackerel-agent/mackerel-agent.conf, then" \
  "systemctl enable --now mackerel-agent"
