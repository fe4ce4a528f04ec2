#!/bin/sh
# Install pacha into a system or an image: the bundle, a launcher, the systemd unit
# (enabled), image-wide defaults in /etc/pacha.conf and an empty state dir. Idempotent:
# a second run changes nothing. Used by packer/pacha.pkr.hcl; usable by hand.
#
#   install.sh [--root DIR] [--bundle FILE] [--unit FILE] [--config FILE] [--no-enable]
#
#   --root DIR     install under DIR (an image's mounted root, a chroot) instead of /;
#                  the unit is then enabled by symlink, without systemctl
#   --bundle FILE  the one-file build (npm run bundle); default: pacha.mjs beside this
#                  script, else ../dist/pacha.mjs
#   --unit FILE    default: pacha.service beside this script, else ../systemd/pacha.service
#   --config FILE  /etc/pacha.conf to install when none exists; default: pacha.conf
#                  beside this script
#   --no-enable    install the unit but do not enable it
#
# Needs node >= 20.19 on the target (checked on /, only looked for under --root).
set -eu

# Directories this script creates are world-readable; files get explicit modes below.
umask 022

script_dir=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
NODE_MIN_MAJOR=20
NODE_MIN_MINOR=19
UNIT_NAME=pacha.service

say() { printf 'install.sh: %s\n' "$*"; }
warn() { printf 'install.sh: warning: %s\n' "$*" >&2; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -eu/{/^set -eu/d;s/^# \{0,1\}//;p;}' "$0"; }

# The first of the given files that exists, or nothing.
first_existing() {
  for candidate in "$@"; do
    if [ -f "$candidate" ]; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
}

ROOT=
BUNDLE=
UNIT=
CONFIG=
ENABLE=yes
while [ $# -gt 0 ]; do
  case $1 in
    --root) [ $# -ge 2 ] || die "--root needs a directory"; ROOT=$2; shift 2 ;;
    --bundle) [ $# -ge 2 ] || die "--bundle needs a file"; BUNDLE=$2; shift 2 ;;
    --unit) [ $# -ge 2 ] || die "--unit needs a file"; UNIT=$2; shift 2 ;;
    --config) [ $# -ge 2 ] || die "--config needs a file"; CONFIG=$2; shift 2 ;;
    --no-enable) ENABLE=no; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

[ -n "$BUNDLE" ] || BUNDLE=$(first_existing "$script_dir/pacha.mjs" "$script_dir/../dist/pacha.mjs")
[ -n "$UNIT" ] || UNIT=$(first_existing "$script_dir/pacha.service" "$script_dir/../systemd/pacha.service")
[ -n "$CONFIG" ] || CONFIG=$(first_existing "$script_dir/pacha.conf")
[ -f "$BUNDLE" ] || die "no bundle (pass --bundle FILE; build it with \`npm run bundle\`)"
[ -f "$UNIT" ] || die "no unit file (pass --unit FILE)"
[ -f "$CONFIG" ] || die "no default config (pass --config FILE)"
if [ -n "$ROOT" ]; then
  [ -d "$ROOT" ] || die "--root $ROOT is not a directory"
  ROOT=$(CDPATH='' cd -- "$ROOT" && pwd)
  [ "$ROOT" != / ] || ROOT=
fi

# node >= 20.19: pacha's bundle targets it. On / a missing or older node is an error; under
# --root the target's node cannot be run from here, so only its presence is checked.
node_is_recent() {
  "$1" -e "const [a, b] = process.versions.node.split('.').map(Number);
process.exit(a > $NODE_MIN_MAJOR || (a === $NODE_MIN_MAJOR && b >= $NODE_MIN_MINOR) ? 0 : 1)" 2>/dev/null
}
if [ -n "$ROOT" ]; then
  if [ ! -x "$ROOT/usr/bin/node" ] && [ ! -x "$ROOT/usr/local/bin/node" ]; then
    warn "no node under $ROOT (/usr/bin/node, /usr/local/bin/node): pacha needs node >= $NODE_MIN_MAJOR.$NODE_MIN_MINOR there"
  fi
else
  node_bin=$(command -v node || true)
  [ -n "$node_bin" ] || die "node not found: install node >= $NODE_MIN_MAJOR.$NODE_MIN_MINOR (e.g. apt-get install nodejs on Debian 13)"
  node_is_recent "$node_bin" || die "$node_bin is $("$node_bin" --version 2>/dev/null || echo unusable); pacha needs node >= $NODE_MIN_MAJOR.$NODE_MIN_MINOR"
fi

# mode_of FILE: its permission bits in octal, e.g. 644 (GNU stat; -L: not a symlink's own).
mode_of() { stat -c %a -- "$1"; }

# put SRC DEST MODE: install SRC as DEST with MODE, atomically (a temporary file beside
# DEST, then rename) and only when content or mode differ, so a rerun touches nothing.
put() {
  src=$1 dest=$2 mode=$3
  if [ -f "$dest" ] && [ ! -L "$dest" ] && cmp -s -- "$src" "$dest" && [ "$(mode_of "$dest")" = "${mode#0}" ]; then
    say "unchanged $dest"
    return 0
  fi
  mkdir -p -- "$(dirname -- "$dest")"
  tmp="$dest.install.$$"
  cp -- "$src" "$tmp"
  chmod "$mode" -- "$tmp"
  mv -f -- "$tmp" "$dest"
  say "installed $dest (mode $mode)"
}

work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

# 1. The bundle and its launcher.
put "$BUNDLE" "$ROOT/usr/local/lib/pacha/pacha.mjs" 0644
printf '#!/bin/sh\nexec node /usr/local/lib/pacha/pacha.mjs "$@"\n' >"$work/launcher"
put "$work/launcher" "$ROOT/usr/local/bin/pacha" 0755

# 2. The unit, enabled for every target in its WantedBy=.
unit_path="$ROOT/etc/systemd/system/$UNIT_NAME"
put "$UNIT" "$unit_path" 0644
if [ "$ENABLE" = yes ]; then
  if [ -n "$ROOT" ]; then
    # What `systemctl enable` does for a unit in /etc/systemd/system, without a running
    # systemd: <target>.wants/<unit> -> /etc/systemd/system/<unit>.
    targets=$(sed -n 's/^WantedBy=//p' "$unit_path")
    [ -n "$targets" ] || die "$UNIT has no WantedBy=: nothing to enable it in"
    for target in $targets; do
      link="$ROOT/etc/systemd/system/$target.wants/$UNIT_NAME"
      if [ -L "$link" ] && [ "$(readlink -- "$link")" = "/etc/systemd/system/$UNIT_NAME" ]; then
        say "unchanged $link"
      else
        mkdir -p -- "$(dirname -- "$link")"
        ln -sfn -- "/etc/systemd/system/$UNIT_NAME" "$link"
        say "enabled $UNIT_NAME in $target"
      fi
    done
  else
    # Pick up a changed unit file when systemd runs (not in a chroot).
    if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
    systemctl enable "$UNIT_NAME"
    say "enabled $UNIT_NAME"
  fi
fi

# 3. Image-wide defaults, only when there is no config yet: a host's own file is kept.
conf="$ROOT/etc/pacha.conf"
if [ -e "$conf" ]; then
  say "kept existing $conf"
else
  put "$CONFIG" "$conf" 0600
fi

# 4. The state dir: mode 0700; its content (a live host's history and keys) is never touched.
state="$ROOT/var/lib/pacha"
if [ -d "$state" ] && [ "$(mode_of "$state")" = 700 ]; then
  say "unchanged $state"
else
  mkdir -p -- "$state"
  chmod 0700 -- "$state"
  say "created $state (mode 0700)"
fi
