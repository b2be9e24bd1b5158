#!/bin/bash
# Export: mounts one disk of a backup read-only, walks the requested paths and uploads every regular
# file and a manifest through the signed URLs of its work list. Nothing but short-lived URLs enters
# the instance, and the output is a few summary lines (Cloud Assistant keeps only 24 KB of it).
set -u
export LC_ALL=C
DEVICES=__DEVICES__
WORK_URL=__WORK_URL__
MANIFEST_URL=__MANIFEST_URL__
CANCEL_URL=__CANCEL_URL__
MAX_FILES=__MAX_FILES__
MAX_BYTES=__MAX_BYTES__
MOUNT_BASE=__MOUNT_BASE__
# Files below PACK_FILE_BYTES are appended to packs of up to PACK_BYTES / PACK_FILES (0: no packs).
PACK_FILE_BYTES=__PACK_FILE_BYTES__
PACK_BYTES=__PACK_BYTES__
PACK_FILES=__PACK_FILES__

work=$(mktemp -d) || exit 3
mnt="$MOUNT_BASE/ecsb-export-$$"
mounted=""
finish() {
  if [ -n "$mounted" ]; then umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null; fi
  rmdir "$mnt" 2>/dev/null
  rm -rf "$work"
}
trap finish EXIT
fail() { echo "ECSB export_error=$1"; exit "${2:-1}"; }
# -H 'Content-Type:' sends none: a signed URL signs the content type, and it was signed without one.
put_file() { curl -fsS --retry 3 --max-time 3600 -H 'Content-Type:' -T "$2" -o /dev/null "$1"; }
# The job writes the cancel marker; its signed URL answers 200 once it exists.
canceled() { curl -fs --max-time 10 -o /dev/null "$CANCEL_URL" 2>/dev/null; }

curl -fsS --retry 3 --max-time 300 -o "$work/list" "$WORK_URL" || fail "the work list could not be fetched" 4
# Lists are read from files, not pipes: bash reads a pipe one byte per system call.
sed -n 's/^U //p' "$work/list" >"$work/urls"
sed -n 's/^P //p' "$work/list" >"$work/wanted"
sed -n 's/^K //p' "$work/list" >"$work/packs"
mapfile -t urls <"$work/urls"
mapfile -t wanted <"$work/wanted"
mapfile -t packs <"$work/packs"

mkdir -p "$mnt" || fail "cannot create $mnt" 3
# ext4 without replaying its journal, xfs without log recovery and with a duplicate UUID allowed (the
# instance's own disk has the same one): nothing is written to the disk.
for dev in $DEVICES; do
  for spec in "ext4 ro,noload" "xfs ro,norecovery,nouuid"; do
    read -r fstype opts <<<"$spec"
    if mount -t "$fstype" -o "$opts" "$dev" "$mnt" 2>>"$work/mount.err"; then
      mounted="$dev"
      break 2
    fi
  done
done
[ -n "$mounted" ] || fail "the disk could not be mounted read-only: $(tail -n1 "$work/mount.err" | tr -d '\t')" 5
root=$(cd "$mnt" && pwd -P) && [ -n "$root" ] || fail "the mounted disk cannot be entered" 5

manifest="$work/manifest"
# Opened once: a redirection per record would open and close the file for each one.
exec 5>"$manifest"
files=0
bytes=0
skipped=0
declare -A seen=()
# Files wait in a batch: one sha256sum and one curl (reusing its connection) per batch, since a
# process per file costs more than the upload of a small file.
BATCH=200
bpath=()
bfull=()
bmeta=()
# Per-file objects used so far, and the pack being filled: its files, their offsets, its size.
blobs=0
npacks=0
kpath=()
kfull=()
kmeta=()
kbytes=0

# A manifest record: tab-separated fields, then the path and the symlink target (or the reason an
# entry was skipped) raw, each ended by NUL, so any byte of a name survives without encoding.
emit() { printf '%s\0%s\0%s\0' "$1" "$2" "$3" >&5; }
skip() {
  emit $'x\t-\t-\t-\t-\t-\t-' "$1" "$2"
  skipped=$((skipped + 1))
}
# A value quoted for a curl config file. No command substitution here or in the per-file path:
# a fork per file costs more than a small file's upload.
curl_quote() {
  local v=${2//\\/\\\\}
  v=${v//\"/\\\"}
  printf -v "$1" '"%s"' "$v"
}

flush() {
  local n=${#bfull[@]} i sum
  [ "$n" -gt 0 ] || return 0
  if canceled; then fail "canceled" 7; fi
  # The hashes are taken while the batch uploads, not before it: one pass after the other made a
  # large file cost a hash's time on top of its upload's, and the second read comes from the page cache.
  sha256sum -- "${bfull[@]}" >"$work/sums" &
  local hashing=$! cfg="" qfile qurl
  for ((i = 0; i < n; i++)); do
    curl_quote qfile "${bfull[$i]}"
    curl_quote qurl "${urls[$((blobs - n + i))]}"
    cfg+="upload-file = $qfile"$'\n'"url = $qurl"$'\n''output = "/dev/null"'$'\n'
  done
  printf '%s' "$cfg" >"$work/curl.cfg"
  curl -fsS --fail-early --retry 3 --max-time 3600 -H 'Content-Type:' -K "$work/curl.cfg" ||
    fail "an upload failed" 6
  wait "$hashing" || fail "cannot read the files to export" 6
  mapfile -t sums <"$work/sums"
  [ "${#sums[@]}" -eq "$n" ] || fail "cannot read the files to export" 6
  for ((i = 0; i < n; i++)); do
    sum=${sums[$i]#\\}
    emit "f${bmeta[$i]}"$'\t'"${sum:0:64}"$'\t'"$((blobs - n + i))" "${bpath[$i]}" ""
  done
  bpath=()
  bfull=()
  bmeta=()
}

# The pack streams up as the files are read one after the other (no copy on the instance's disk),
# hashed meanwhile. The offsets come from the sizes found, which a read-only disk keeps; the job
# checks each pack's size against them. A failed try is sent again whole: a stream cannot rewind.
flush_pack() {
  local n=${#kfull[@]} i sum sent="" try offset=0
  [ "$n" -gt 0 ] || return 0
  if canceled; then fail "canceled" 7; fi
  printf '%s\0' "${kfull[@]}" >"$work/pack.list"
  xargs -0 sha256sum -- <"$work/pack.list" >"$work/sums" &
  local hashing=$!
  # cat allocates its 128 KB buffer per file; from the heap (these glibc settings) instead of a fresh
  # mapping, since mapping and unmapping it for each small file cost several times their reading.
  for try in 1 2 3; do
    MALLOC_MMAP_THRESHOLD_=4194304 MALLOC_TRIM_THRESHOLD_=67108864 xargs -0 cat -- <"$work/pack.list" |
      curl -fsS --max-time 3600 -H 'Content-Type:' -T - -o /dev/null "${packs[$npacks]}" && sent=1 && break
  done
  [ -n "$sent" ] || fail "a pack upload failed" 6
  wait "$hashing" || fail "cannot read the files to export" 6
  mapfile -t sums <"$work/sums"
  [ "${#sums[@]}" -eq "$n" ] || fail "cannot read the files to export" 6
  # The pack's records in one write: printf repeats its format over the arguments.
  local recs=()
  for ((i = 0; i < n; i++)); do
    sum=${sums[$i]#\\}
    recs+=("f"$'\t'"${kmeta[$i]}"$'\t'"${sum:0:64}"$'\t'"p$npacks@$offset" "${kpath[$i]}" "")
    offset=$((offset + ${kmeta[$i]%%$'\t'*}))
  done
  printf '%s\0' "${recs[@]}" >&5
  npacks=$((npacks + 1))
  kpath=()
  kfull=()
  kmeta=()
  kbytes=0
}

# One manifest record for the entry at disk path $1 (found at $2), described by find's or stat's fields.
record() {
  local path=$1 full=$2 y=$3 size=$4 mode=$5 owner=$6 mtime=$7 target=$8
  [ -n "${seen[$path]+x}" ] && return 0
  seen[$path]=1
  case "$y" in
  d) emit "d"$'\t'"0"$'\t'"$mode"$'\t'"$owner"$'\t'"$mtime"$'\t-\t-' "$path" "" ;;
  l) emit "l"$'\t'"$size"$'\t'"$mode"$'\t'"$owner"$'\t'"$mtime"$'\t-\t-' "$path" "$target" ;;
  f)
    if [ "$files" -ge "$MAX_FILES" ]; then skip "$path" "over the limit of $MAX_FILES files per export"; return 0; fi
    if [ $((bytes + size)) -gt "$MAX_BYTES" ]; then skip "$path" "over the limit of $MAX_BYTES bytes per export"; return 0; fi
    files=$((files + 1))
    bytes=$((bytes + size))
    if [ "$size" -lt "$PACK_FILE_BYTES" ] && [ "$npacks" -lt "${#packs[@]}" ]; then
      if [ $((kbytes + size)) -gt "$PACK_BYTES" ] || [ "${#kfull[@]}" -ge "$PACK_FILES" ]; then flush_pack; fi
    fi
    # Checked again: the pack just sent may have been the last one there is a URL for.
    if [ "$size" -lt "$PACK_FILE_BYTES" ] && [ "$npacks" -lt "${#packs[@]}" ]; then
      kpath+=("$path")
      kfull+=("$full")
      kmeta+=("$size"$'\t'"$mode"$'\t'"$owner"$'\t'"$mtime")
      kbytes=$((kbytes + size))
      return 0
    fi
    bpath+=("$path")
    bfull+=("$full")
    bmeta+=($'\t'"$size"$'\t'"$mode"$'\t'"$owner"$'\t'"$mtime")
    blobs=$((blobs + 1))
    [ "${#bfull[@]}" -lt "$BATCH" ] || flush
    ;;
  s) skip "$path" "a socket is not exported" ;;
  p) skip "$path" "a FIFO is not exported" ;;
  b | c) skip "$path" "a device file is not exported" ;;
  *) skip "$path" "a file of type $y is not exported" ;;
  esac
}

# The next 1,000 entries of find's output (seven NUL-ended fields each, from fd 3) into f. mapfile
# takes them in one builtin call where bash has `mapfile -d` (4.4 on); a `read` per field costs
# more than the upload of a small file, so older bash is slower but gets the same fields.
if ((BASH_VERSINFO[0] * 100 + BASH_VERSINFO[1] >= 404)); then
  next_entries() { mapfile -d '' -t -n 7000 f <&3; }
else
  next_entries() {
    f=()
    local v k
    for ((k = 0; k < 7000; k++)); do IFS= read -r -d '' v <&3 || break; f+=("$v"); done
  }
fi

# find names owners by numbers: its own %u:%g looks each file's up in the user database, which cost
# half of find's time. The names of a pair of numbers are asked once, from find for the first file
# that has them, so they are the same as its %u:%g would give (the number where there is no name).
declare -A owners=()
owner_names() {
  local names
  names=$(find "$2" -maxdepth 0 -printf '%u:%g' 2>/dev/null)
  owners[$1]=${names:-$1}
}

# The directories above a requested path, so the tree can be browsed from /.
ancestors() {
  local p=$1 acc=""
  IFS='/' read -r -a parts <<<"${p#/}"
  for part in "${parts[@]:0:${#parts[@]}-1}"; do
    acc="$acc/$part"
    [ -d "$root$acc" ] && [ ! -L "$root$acc" ] || return 0
    read -r size mode owner mtime < <(stat -c '%s %a %U:%G %Y' -- "$root$acc")
    record "$acc" "$root$acc" d "$size" "$mode" "$owner" "$mtime" ""
  done
}

for p in "${wanted[@]}"; do
  p=$(printf '%s' "$p" | base64 -d)
  parent=$(dirname -- "$root$p")
  # Symlinks on the way are resolved inside the mounted disk only: one that leads off it is refused.
  real_parent=$(realpath -e -- "$parent" 2>/dev/null) || { skip "$p" "does not exist on the disk"; continue; }
  case "$real_parent/" in "$root"/*) ;; *) skip "$p" "a symlink on the way leads off the disk"; continue ;; esac
  start="$real_parent/$(basename -- "$p")"
  [ "$p" = "/" ] && start="$root"
  [ -e "$start" ] || [ -L "$start" ] || { skip "$p" "does not exist on the disk"; continue; }
  ancestors "$p"
  base="${real_parent#"$root"}"
  name=$(basename -- "$p")
  find "$start" -xdev -printf '%y\0%s\0%m\0%U:%G\0%T@\0%P\0%l\0' >"$work/found"
  exec 3<"$work/found"
  while next_entries && [ "${#f[@]}" -gt 0 ]; do
    for ((j = 0; j + 6 < ${#f[@]}; j += 7)); do
      rel=${f[j + 5]}
      if [ "$p" = "/" ]; then path="/$rel"; [ -z "$rel" ] && path="/"; else path="$base/$name${rel:+/$rel}"; fi
      [ -n "${owners[${f[j + 3]}]+x}" ] || owner_names "${f[j + 3]}" "$start${rel:+/$rel}"
      record "$path" "$start${rel:+/$rel}" "${f[j]}" "${f[j + 1]}" "${f[j + 2]}" "${owners[${f[j + 3]}]}" "${f[j + 4]%%.*}" "${f[j + 6]}"
    done
  done
  exec 3<&-
done
flush
flush_pack

exec 5>&-
# A cancel that came during the last uploads: no manifest, so nothing looks complete.
if canceled; then fail "canceled" 7; fi
put_file "$MANIFEST_URL" "$manifest" || fail "the manifest upload failed" 6
echo "ECSB files=$files"
echo "ECSB bytes=$bytes"
echo "ECSB skipped=$skipped"
echo "ECSB device=$mounted"
exit 0
