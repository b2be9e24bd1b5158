/**
 * Bash pieces of the guest sandbox. They run as root (or as root of a user namespace) inside a
 * private mount namespace, so every mount they make disappears with the script; the real fsfreeze,
 * mount, umount, stat and chown are covered by these shims.
 */

/**
 * First process of the namespace: makes it look like the instance, then runs the user script.
 * Each covered command's real binary is kept under the support folder before its shim covers it.
 */
export function sandboxSetupScript(): string {
  return `#!/bin/bash
fail() { echo "ecs-emulator sandbox: $*" >&2; exit 250; }
S="$ECSB_SUPPORT"
REAL_MOUNT="\${ECSB_BINS_mount%% *}"
[ -x "$REAL_MOUNT" ] || fail "mount(8) is not installed"
for c in $ECSB_COVERED; do
  v="ECSB_BINS_$c"; real="\${!v%% *}"
  [ -n "$real" ] || continue
  "$REAL_MOUNT" --bind "$real" "$S/real-$c" || fail "cannot keep $c"
done
"$REAL_MOUNT" --bind "$ECSB_DISKS_DIR" "$S/disks" || fail "cannot reach the disk trees"
"$REAL_MOUNT" --bind "$ECSB_TMP_DIR" /tmp || fail "cannot mount the instance's /tmp"
"$REAL_MOUNT" -t tmpfs -o mode=0755 ecsb-mnt /mnt || fail "cannot mount a private /mnt"
while read -r src dst mode; do
  [ -n "$src" ] || continue
  mkdir -p "$dst" 2>/dev/null
  if [ "$mode" = ro ]; then "$S/real-mount" --bind -o ro "$src" "$dst"; else "$S/real-mount" --bind "$src" "$dst"; fi \\
    || echo "ecs-emulator sandbox: cannot restore the mount on $dst" >&2
done < "$S/remount"
for c in $ECSB_COVERED; do
  v="ECSB_BINS_$c"
  for f in \${!v}; do "$S/real-mount" --bind "$ECSB_SHIMS/$c" "$f" || fail "cannot cover $f"; done
done
cd "$ECSB_WORKDIR" 2>/dev/null || cd /
unset ECSB_TMP_DIR ECSB_DISKS_DIR ECSB_WORKDIR ECSB_COVERED \${!ECSB_BINS_@}
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

export function statShim(): string {
  return `#!/bin/bash
# stat of the emulated instance: owners under /tmp are the emulator's data (the host files belong to
# whoever runs the emulator), so %u %U %g %G of a file with a recorded owner show that owner.
real="$ECSB_SUPPORT/real-stat"; flag=""; fmt=""; opts=(); files=()
while [ $# -gt 0 ]; do
  case "$1" in
    -c|--format|--printf) flag="$1"; fmt="$2"; shift ;;
    --format=*) flag=--format; fmt="\${1#--format=}" ;;
    --printf=*) flag=--printf; fmt="\${1#--printf=}" ;;
    -c*) flag=-c; fmt="\${1#-c}" ;;
    --) shift; files+=("$@"); break ;;
    -*) opts+=("$1") ;;
    *) files+=("$1") ;;
  esac
  shift
done
[ -n "$flag" ] && [ -s "$ECSB_SUPPORT/owners" ] || exec "$real" "\${opts[@]}" \${flag:+"$flag" "$fmt"} -- "\${files[@]}"
rc=0
for f in "\${files[@]}"; do
  abs="$(cd "$(dirname -- "$f")" 2>/dev/null && pwd -P)/$(basename -- "$f")"
  uid=""
  while IFS=$'\\t' read -r u p; do [ "$p" = "$abs" ] && uid="$u"; done < "$ECSB_SUPPORT/owners"
  g="$fmt"
  if [ -n "$uid" ]; then
    name=$(getent passwd "$uid" 2>/dev/null | cut -d: -f1)
    g="\${g//%u/$uid}"; g="\${g//%U/\${name:-UNKNOWN}}"; g="\${g//%g/$uid}"; g="\${g//%G/\${name:-UNKNOWN}}"
  fi
  "$real" "\${opts[@]}" "$flag" "$g" -- "$f" || rc=$?
done
exit $rc
`;
}

export function chownShim(): string {
  return `#!/bin/bash
# chown of the emulated instance: under /tmp the emulator records the owner (no chown(2), so it works
# for an ordinary user too); elsewhere the real chown runs.
opts=(); spec=""; files=()
for a in "$@"; do
  case "$a" in
    -*) opts+=("$a") ;;
    *) if [ -z "$spec" ]; then spec="$a"; else files+=("$a"); fi ;;
  esac
done
[ -n "$spec" ] && [ \${#files[@]} -gt 0 ] || { echo "chown: missing operand" >&2; exit 1; }
user="\${spec%%[:.]*}"
if [ -z "$user" ]; then uid=""; elif [[ "$user" =~ ^[0-9]+$ ]]; then uid="$user"; else uid=$(id -u "$user" 2>/dev/null) || { echo "chown: invalid user: '$spec'" >&2; exit 1; }; fi
rc=0
for f in "\${files[@]}"; do
  abs="$(cd "$(dirname -- "$f")" 2>/dev/null && pwd -P)/$(basename -- "$f")"
  case "$abs" in
    /tmp/?*) [ -z "$uid" ] || "$ECSB_SHIMS/guest-call" chown "path=\${abs#/tmp/}" "uid=$uid" >/dev/null || rc=1 ;;
    *) "$ECSB_SUPPORT/real-chown" "\${opts[@]}" "$spec" "$f" || rc=$? ;;
  esac
done
exit $rc
`;
}
