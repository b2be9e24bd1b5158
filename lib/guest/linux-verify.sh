#!/bin/bash
# Verification: for each temporary disk made from a backup, a file-system check that changes nothing
# (fsck -n), a read-only mount and, when the operator put one there, /tmp/verifyscript.sh run with the
# mount point. Nothing is written to the disks; the output is a few summary lines.
set -u
export LC_ALL=C
DISK_IDS=(__DISK_IDS__)
DISK_DEVICES=(__DISK_DEVICES__)
RUN_SCRIPT=__RUN_SCRIPT__
SCRIPT_TIMEOUT=__SCRIPT_TIMEOUT__
MOUNT_BASE=__MOUNT_BASE__
SCRIPT=/tmp/verifyscript.sh

work=$(mktemp -d) || exit 3
mnt="$MOUNT_BASE/ecsb-verify-$$"
mounted=""
finish() {
  if [ -n "$mounted" ]; then umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null; fi
  rmdir "$mnt" 2>/dev/null
  rm -rf "$work"
}
trap finish EXIT
verdict_failed() {
  echo "ECSB verify_result=failed"
  echo "ECSB verify_reason=$1"
  exit 1
}
last_line() { tail -n1 "$1" | tr -d '\t\r'; }
# e2fsck ends with a banner ("***** WARNING: Filesystem still has errors *****"): the line before says why.
fsck_said() { grep -v -e '^[[:space:]]*$' -e '\*\*\*\*\*' "$1" | tail -n1 | tr -d '\t\r'; }

# The same rule as the backup's pre/post scripts: a regular file (never a symlink: /tmp is
# world-writable) owned by root with mode exactly 0700.
check_script() {
  local f=$1 meta owner mode
  if [ -L "$f" ]; then CHECK_MSG="$f is a symbolic link"; return 2; fi
  if [ ! -e "$f" ]; then CHECK_MSG="$f is missing"; return 1; fi
  if [ ! -f "$f" ]; then CHECK_MSG="$f is not a regular file"; return 2; fi
  if ! meta=$(stat -c '%u %a' "$f" 2>/dev/null); then CHECK_MSG="cannot stat $f"; return 2; fi
  owner=${meta%% *}
  mode=${meta#* }
  if [ "$owner" != 0 ]; then CHECK_MSG="$f is owned by uid $owner, not root"; return 2; fi
  if [ "$mode" != 700 ]; then CHECK_MSG="$f has mode 0$mode, not 0700"; return 2; fi
  return 0
}

script_state=off
if [ "$RUN_SCRIPT" = 1 ]; then
  check_script "$SCRIPT"
  case $? in
  0) script_state=valid ;;
  1) script_state=missing ;;
  *) verdict_failed "$CHECK_MSG; the check script was not run" ;;
  esac
fi

mkdir -p "$mnt" || verdict_failed "cannot create $mnt on the helper"
checked=0
for i in "${!DISK_IDS[@]}"; do
  disk=${DISK_IDS[$i]}
  # fsck exit codes: 0 clean, 1 corrected (not with -n), 4 errors left, 8 and up cannot check this
  # name (no such device, no file system on a whole disk that holds a partition): try the next name.
  device=""
  for dev in ${DISK_DEVICES[$i]}; do
    fsck -n "$dev" >"$work/fsck.out" 2>&1
    rc=$?
    [ "$rc" -ge 8 ] && continue
    if [ $((rc & 4)) -ne 0 ] || [ $((rc & 2)) -ne 0 ]; then
      verdict_failed "file-system check of disk $disk ($dev) found errors (fsck exit $rc): $(fsck_said "$work/fsck.out")"
    fi
    device=$dev
    break
  done
  [ -n "$device" ] || verdict_failed "no device of disk $disk could be checked: $(last_line "$work/fsck.out")"
  # The export's options: ext4 without replaying its journal, xfs without log recovery and with a
  # duplicate UUID allowed (the helper's own disk may have the same one).
  for spec in "ext4 ro,noload" "xfs ro,norecovery,nouuid"; do
    read -r fstype opts <<<"$spec"
    if mount -t "$fstype" -o "$opts" "$device" "$mnt" 2>>"$work/mount.err"; then
      mounted=$device
      break
    fi
  done
  [ -n "$mounted" ] || verdict_failed "disk $disk could not be mounted read-only: $(last_line "$work/mount.err")"
  if [ "$script_state" = valid ]; then
    timeout -k 5 "$SCRIPT_TIMEOUT" "$SCRIPT" "$mnt" </dev/null >"$work/script.out" 2>&1
    rc=$?
    tail -c 2000 "$work/script.out" | while IFS= read -r line || [ -n "$line" ]; do printf '[verifyscript] %s\n' "$line"; done
    case $rc in
    0) ;;
    124 | 137) verdict_failed "$SCRIPT timed out after ${SCRIPT_TIMEOUT}s on disk $disk" ;;
    *) verdict_failed "$SCRIPT exited $rc on disk $disk: $(last_line "$work/script.out")" ;;
    esac
  fi
  umount "$mnt" || verdict_failed "disk $disk could not be unmounted"
  mounted=""
  checked=$((checked + 1))
done

case $script_state in
valid) said="$SCRIPT passed on each" ;;
missing) said="no $SCRIPT on the helper" ;;
*) said="no check script asked for" ;;
esac
echo "ECSB verify_result=passed"
echo "ECSB verify_reason=$checked disks checked clean and mounted read-only; $said"
exit 0
