#!/bin/sh
# Strip host identity and pacha state before an image is captured, so every instance
# launched from it starts as a first boot: pacha rebuilds it into the host its user data
# names, cloud-init runs again, and no two instances share keys or IDs. Run last by
# packer/pacha.pkr.hcl; usable by hand on a machine about to become a template.
#
#   cleanup.sh [--root DIR]
#
#   --root DIR   clean the image mounted at DIR instead of / (cloud-init's own `clean`
#                cannot take a root, so its state is removed by path there)
#
# Removes: pacha's state (the state dir is kept, empty, mode 0700), SSH host keys (cloud-
# init's ssh module makes new ones on first boot) and authorized_keys (the builder's
# temporary key; cloud-init installs the instance's), cloud-init's instance state and logs,
# the machine ID (emptied: systemd makes a new one at boot), DHCP leases, shell histories.
set -eu

say() { printf 'cleanup.sh: %s\n' "$*"; }
die() { printf 'cleanup.sh: error: %s\n' "$*" >&2; exit 1; }

ROOT=
while [ $# -gt 0 ]; do
  case $1 in
    --root) [ $# -ge 2 ] || die "--root needs a directory"; ROOT=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -eu/{/^set -eu/d;s/^# \{0,1\}//;p;}' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (usage: cleanup.sh [--root DIR])" ;;
  esac
done
if [ -n "$ROOT" ]; then
  [ -d "$ROOT" ] || die "--root $ROOT is not a directory"
  ROOT=$(CDPATH='' cd -- "$ROOT" && pwd)
  [ "$ROOT" != / ] || ROOT=
fi

# remove PATH...: delete what exists (files, links, directories), naming each.
remove() {
  for target in "$@"; do
    if [ -e "$target" ] || [ -L "$target" ]; then
      rm -rf -- "$target"
      say "removed $target"
    fi
  done
}

# pacha: no state at all, so the first boot of every instance decides "rebuild" (or "new
# host"), never "reboot". Dotfiles too (.git dirs, .lock files).
state="$ROOT/var/lib/pacha"
mkdir -p -- "$state"
chmod 0700 -- "$state"
remove "$state"/* "$state"/.[!.]* "$state"/..?*

# SSH: host keys and every authorized_keys (root's and each user's).
remove "$ROOT"/etc/ssh/ssh_host_*
remove "$ROOT"/root/.ssh/authorized_keys "$ROOT"/home/*/.ssh/authorized_keys

# cloud-init: forget this instance so the next boot runs every per-instance module again.
if [ -z "$ROOT" ] && command -v cloud-init >/dev/null 2>&1; then
  cloud-init clean --logs --seed
  say "cloud-init clean --logs --seed"
else
  remove "$ROOT"/var/lib/cloud/* "$ROOT"/var/log/cloud-init.log "$ROOT"/var/log/cloud-init-output.log
fi

# Machine ID: empty, not absent (an absent file makes some systemd versions boot with a
# read-only /etc unable to store the new one). D-Bus's copy goes if it is a file of its own.
if [ -f "$ROOT/etc/machine-id" ]; then
  : >"$ROOT/etc/machine-id"
  say "emptied $ROOT/etc/machine-id"
fi
if [ -f "$ROOT/var/lib/dbus/machine-id" ] && [ ! -L "$ROOT/var/lib/dbus/machine-id" ]; then
  remove "$ROOT/var/lib/dbus/machine-id"
fi

# Leases and histories name the build machine.
remove "$ROOT"/var/lib/dhcp/*.leases "$ROOT"/root/.bash_history "$ROOT"/home/*/.bash_history
