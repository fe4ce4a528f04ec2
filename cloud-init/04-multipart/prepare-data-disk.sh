#!/bin/sh
# 04 (part 2 of 2): the shell part of a MIME multipart user data (text/x-shellscript).
#
# cloud-init runs this once per instance, in cloud-final (scripts_user), so before
# pacha.service starts (it is ordered After=cloud-init.target): whatever it prepares is in
# place when pacha rebuilds. Here: mount the instance's data disk on /srv so that bar's
# tracked /srv/www is restored onto it, not onto the root disk.
# Runs as root under `sh -e`-like rules: exit non-zero and cloud-init reports the failure
# (pacha still starts). Never call `cloud-init status --wait` here: it deadlocks.
set -eu

DEVICE=/dev/nvme1n1
MOUNTPOINT=/srv

if [ ! -b "$DEVICE" ]; then
  echo "prepare-data-disk: no $DEVICE; $MOUNTPOINT stays on the root disk" >&2
  exit 0
fi
# A new volume has no filesystem yet; never reformat one that has.
if ! blkid "$DEVICE" >/dev/null 2>&1; then
  mkfs.ext4 -q -L srv "$DEVICE"
fi
mkdir -p "$MOUNTPOINT"
if ! grep -q '^LABEL=srv ' /etc/fstab; then
  echo "LABEL=srv $MOUNTPOINT ext4 defaults,nofail 0 2" >>/etc/fstab
fi
mountpoint -q "$MOUNTPOINT" || mount "$MOUNTPOINT"
