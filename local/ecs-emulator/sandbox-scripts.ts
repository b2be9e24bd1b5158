/**
 * Bash pieces of the guest sandbox. They run as root inside a private mount namespace, so every
 * mount they make disappears with the script; the real fsfreeze is covered by the shim.
 */

/** First process of the namespace: makes it look like the instance, then runs the user script. */
export function sandboxSetupScript(): string {
  return `#!/bin/bash
fail() { echo "ecs-emulator sandbox: $*" >&2; exit 250; }
S="$ECSB_SUPPORT"
REAL_MOUNT="\${ECSB_MOUNT_BINS%% *}"
REAL_UMOUNT="\${ECSB_UMOUNT_BINS%% *}"
[ -x "$REAL_MOUNT" ] || fail "mount(8) is not installed"
"$REAL_MOUNT" --bind "$REAL_MOUNT" "$S/real-mount" || fail "cannot keep mount(8)"
"$REAL_MOUNT" --bind "$REAL_UMOUNT" "$S/real-umount" || fail "cannot keep umount(8)"
"$REAL_MOUNT" --bind "$ECSB_DISKS_DIR" "$S/disks" || fail "cannot reach the disk trees"
"$REAL_MOUNT" --bind "$ECSB_TMP_DIR" /tmp || fail "cannot mount the instance's /tmp"
"$REAL_MOUNT" -t tmpfs -o mode=0755 ecsb-mnt /mnt || fail "cannot mount a private /mnt"
while read -r src dst mode; do
  [ -n "$src" ] || continue
  mkdir -p "$dst" 2>/dev/null
  if [ "$mode" = ro ]; then "$S/real-mount" --bind -o ro "$src" "$dst"; else "$S/real-mount" --bind "$src" "$dst"; fi \\
    || echo "ecs-emulator sandbox: cannot restore the mount on $dst" >&2
done < "$S/remount"
for f in $ECSB_FREEZE_BINS; do "$S/real-mount" --bind "$ECSB_SHIMS/fsfreeze" "$f" || fail "cannot cover $f"; done
for f in $ECSB_MOUNT_BINS; do "$S/real-mount" --bind "$ECSB_SHIMS/mount" "$f" || fail "cannot cover $f"; done
for f in $ECSB_UMOUNT_BINS; do "$S/real-mount" --bind "$ECSB_SHIMS/umount" "$f" || fail "cannot cover $f"; done
cd "$ECSB_WORKDIR" 2>/dev/null || cd /
unset ECSB_TMP_DIR ECSB_DISKS_DIR ECSB_FREEZE_BINS ECSB_MOUNT_BINS ECSB_UMOUNT_BINS ECSB_WORKDIR
exec /bin/bash "$S/script.sh"
`;
}

/** Posts one guest event; prints the emulator's message on stderr and its action line on stdout. */
export function guestCallScript(curl: string): string {
  return `#!/bin/bash
endpoint="$1"; shift
args=()
for kv in "$@"; do args+=(--data-urlencode "$kv"); done
if ! resp=$(${curl} -sS -m 15 -X POST "$ECSB_ADMIN_URL/guest/$endpoint" \\
    --data-urlencode "instanceId=$ECSB_INSTANCE_ID" --data-urlencode "invokeId=$ECSB_INVOKE_ID" "\${args[@]}"); then
  echo "$endpoint: cannot reach the ECS emulator" >&2
  exit 1
fi
{ IFS= read -r code; IFS= read -r msg; IFS= read -r extra; } <<<"$resp"
[ -n "$msg" ] && echo "$msg" >&2
[ -n "$extra" ] && echo "$extra"
exit "\${code:-1}"
`;
}

export function fsfreezeShim(): string {
  return `#!/bin/bash
# fsfreeze of the emulated instance: the emulator records the freeze; no real file system is touched.
mode=""; target=""
while [ $# -gt 0 ]; do
  case "$1" in
    -f|--freeze) mode=freeze ;;
    -u|--unfreeze) mode=thaw ;;
    -h|--help) echo "Usage: fsfreeze [options] <mountpoint>"; exit 0 ;;
    -V|--version) echo "fsfreeze from util-linux (ECS emulator)"; exit 0 ;;
    -*) echo "fsfreeze: unrecognized option '$1'" >&2; exit 1 ;;
    *) target="$1" ;;
  esac
  shift
done
if [ -z "$mode" ]; then echo "fsfreeze: neither --freeze or --unfreeze specified" >&2; exit 1; fi
if [ -z "$target" ]; then echo "fsfreeze: no filename specified" >&2; exit 1; fi
exec "$ECSB_SHIMS/guest-call" fsfreeze "action=$mode" "mountPoint=$target" >/dev/null
`;
}

export function mountShim(): string {
  return `#!/bin/bash
# mount of the emulated instance: attached disks are bind-mounted from their real file trees.
opts=""; fstype=""; positional=()
while [ $# -gt 0 ]; do
  case "$1" in
    -o) opts="\${opts:+$opts,}$2"; shift ;;
    -o*) opts="\${opts:+$opts,}\${1#-o}" ;;
    --options=*) opts="\${opts:+$opts,}\${1#--options=}" ;;
    -t) fstype="$2"; shift ;;
    -t*) fstype="\${1#-t}" ;;
    --types=*) fstype="\${1#--types=}" ;;
    -r|--read-only) opts="\${opts:+$opts,}ro" ;;
    -w|--rw|--read-write) opts="\${opts:+$opts,}rw" ;;
    -v|--verbose|-n|--no-mtab) ;;
    -a|--all) exit 0 ;;
    -*) echo "mount: option $1 is not supported by the emulated instance" >&2; exit 1 ;;
    *) positional+=("$1") ;;
  esac
  shift
done
if [ \${#positional[@]} -eq 0 ]; then
  while read -r dev mp fs o _; do echo "$dev on $mp type $fs ($o)"; done < "$ECSB_MOUNTS_FILE"
  exit 0
fi
if [ \${#positional[@]} -ne 2 ]; then echo "mount: bad usage" >&2; exit 1; fi
device="\${positional[0]}"; target="\${positional[1]}"
[ -d "$target" ] || { echo "mount: $target: mount point does not exist." >&2; exit 32; }
target=$(cd "$target" && pwd -P)
extra=$("$ECSB_SHIMS/guest-call" mount "device=$device" "target=$target" "options=$opts" "fsType=$fstype") || exit $?
read -r verb disk mode <<<"$extra"
if [ "$verb" = bind ]; then
  src="$ECSB_SUPPORT/disks/$disk"
  if [ "$mode" = ro ]; then "$ECSB_SUPPORT/real-mount" --bind -o ro "$src" "$target"; else "$ECSB_SUPPORT/real-mount" --bind "$src" "$target"; fi \\
    || { "$ECSB_SHIMS/guest-call" umount "target=$target" >/dev/null 2>&1; exit 32; }
fi
exit 0
`;
}

export function umountShim(): string {
  return `#!/bin/bash
# umount of the emulated instance.
target=""
for a in "$@"; do case "$a" in -*) ;; *) target="$a" ;; esac; done
[ -n "$target" ] || { echo "umount: bad usage" >&2; exit 1; }
case "$target" in /dev/*) ;; *) [ -d "$target" ] && target=$(cd "$target" && pwd -P) ;; esac
extra=$("$ECSB_SHIMS/guest-call" umount "target=$target") || exit $?
read -r verb mp <<<"$extra"
if [ "$verb" = unbind ]; then "$ECSB_SUPPORT/real-umount" "$mp" || exit 32; fi
exit 0
`;
}
