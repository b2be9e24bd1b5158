#!/bin/bash
# Export: mounts one disk of a backup read-only, walks the requested paths and uploads every regular
# file and a manifest through the signed URLs of its work list. Nothing but short-lived URLs enters
# the instance, and the output is a few summary lines (Cloud Assistant keeps only 24 KB of it).
# Nothing is done per file in bash: find walks, awk decides, tar/curl/sha256sum move the bytes, each
# one process for many files (a process or a bash loop turn per file cost more than a small file's
# upload). Small files travel in packs and are hashed by the job from the store, sparing this
# instance's CPU; larger files are hashed here while they upload.
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

# Names travel NUL-ended, so awk must read NUL-separated records (gawk does; mawk from 1.3.4).
AWK=""
for a in awk gawk; do
  [ "$(printf 'a\0b\0' | "$a" 'BEGIN { RS = "\0" } END { print NR }' 2>/dev/null)" = 2 ] && AWK=$a && break
done
[ -n "$AWK" ] || fail "this instance's awk cannot read NUL-separated records: install gawk" 8
# A pack is a tar stream where GNU tar writes it (one process reads many small files faster than
# cat), each file's bytes at the offset its header layout gives; elsewhere the files concatenated.
TARPACKS=0
tar --version 2>/dev/null | grep -q 'GNU tar' && TARPACKS=1

curl -fsS --retry 3 --max-time 300 -o "$work/list" "$WORK_URL" || fail "the work list could not be fetched" 4
sed -n 's/^U //p' "$work/list" >"$work/urls"
sed -n 's/^K //p' "$work/list" >"$work/packs"
mapfile -t wanted < <(sed -n 's/^P //p' "$work/list")
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

# Every entry as seven NUL-ended fields: type, size, mode, owner and group numbers, mtime, path on
# the instance, symlink target. find's own %u:%g looks each file's owner up, which cost half its time.
FIELDS='%y\0%s\0%m\0%U:%G\0%T@\0%p\0%l\0'
# An entry that cannot be exported, in the same layout (type X, the reason as its target).
missing() { printf 'X\0\0\0\0\0%s\0%s\0' "$root$1" "$2"; }
entries() {
for p in "${wanted[@]}"; do
  p=$(printf '%s' "$p" | base64 -d)
  parent=$(dirname -- "$root$p")
  # Symlinks on the way are resolved inside the mounted disk only: one that leads off it is refused.
  real_parent=$(realpath -e -- "$parent" 2>/dev/null) || { missing "$p" "does not exist on the disk"; continue; }
  case "$real_parent/" in "$root"/*) ;; *) missing "$p" "a symlink on the way leads off the disk"; continue ;; esac
  start="$real_parent/$(basename -- "$p")"
  [ "$p" = "/" ] && start="$root"
  [ -e "$start" ] || [ -L "$start" ] || { missing "$p" "does not exist on the disk"; continue; }
  # The directories above it, so the tree can be browsed from /.
  acc=$root
  rest=${start#"$root"}
  while [[ "$rest" == /*/* ]]; do
    rest=${rest#/}
    acc="$acc/${rest%%/*}"
    rest="/${rest#*/}"
    find "$acc" -maxdepth 0 -type d -printf "$FIELDS"
  done
  find "$start" -xdev -printf "$FIELDS"
done
}

# A pack streams up as its files are read one after the other (no copy on the instance's disk), fed
# the names of its files while the walk goes on. Its offsets come from the sizes found, which a
# read-only disk keeps; a pack of another size than they add up to is refused below, and the job
# checks each pack again. The commands run under sh with the pack number in K.
if [ "$TARPACKS" = 1 ]; then
  PACK_CMD='tar c -C "$ROOT" --format=gnu --numeric-owner --hard-dereference --no-recursion --totals --null -T - 2>"$WORK/totals.$K"'
else
  # cat allocates its 128 KB buffer per file; from the heap (these glibc settings) instead of a
  # fresh mapping, since mapping and unmapping it for each small file cost several times their reading.
  PACK_CMD='MALLOC_MMAP_THRESHOLD_=4194304 MALLOC_TRIM_THRESHOLD_=67108864 xargs -0 cat --'
fi
SEND_CMD='curl -fsS --max-time 3600 -H Content-Type: -T - -o /dev/null "$(sed -n "$((K + 1))p" "$WORK/packs")"'
export PACK_CMD SEND_CMD CANCEL_URL

# The plan, in one pass over the entries as find lists them: the manifest's records (owner and sha256
# filled in later), which files go into which pack at which offset (each pack sent as it fills),
# which go up one by one (as curl configs of up to 200 uploads, one connection each), the list of
# files to hash, and one sample path per owner. A pack closes before it would pass PACK_BYTES or
# PACK_FILES; once the pack URLs run out, small files go up one by one too.
entries | ROOT=$root WORK=$work "$AWK" -v maxfiles="$MAX_FILES" -v maxbytes="$MAX_BYTES" \
  -v packfile="$PACK_FILE_BYTES" -v packbytes="$PACK_BYTES" -v packfiles="$PACK_FILES" \
  -v npackurls="${#packs[@]}" -v tarpacks="$TARPACKS" '
# A value quoted for a curl config file. Joined by hand: what a backslash means in the gsub
# replacement string differs between awks. A one-character separator of split is taken literally.
function swap(v, sep, by,   parts, n, i, out) {
  n = split(v, parts, sep); out = parts[1]
  for (i = 2; i <= n; i++) out = out by parts[i]
  return out
}
function quote(v) {
  v = swap(swap(swap(swap(swap(v, "\\", "\\\\"), "\"", "\\\""), "\n", "\\n"), "\r", "\\r"), "\t", "\\t")
  return "\"" v "\""
}
function blocks(n) { return int((n + 511) / 512) * 512 }
# A pack starts sending with its first file, unless the job asked to stop (its marker answers 200).
function openpack() {
  if (system("curl -fs --max-time 10 -o /dev/null \"$CANCEL_URL\" 2>/dev/null") == 0) { canceled = 1; exit }
  sending = "K=" pack "; { " ENVIRON["PACK_CMD"] "; echo $? >\"$WORK/read.$K\"; } | " ENVIRON["SEND_CMD"] "; echo $? >\"$WORK/sent.$K\""
}
# A tar pack ends with two zero blocks and is padded to a whole record of 20 blocks.
function closepack() {
  close(work "/pack." pack); close(sending)
  printf "%.0f\n", tarpacks ? int((offset + 1024 + 10239) / 10240) * 10240 : offset > (work "/packsizes")
  pack++; inpack = 0; kbytes = 0; offset = 0
}
function record(fields, path, extra) { print fields, path, extra > draft }
function skip(path, why) { record("x\t-\t-\t-\t-\t-\t-", path, why); skipped++ }
BEGIN {
  RS = ORS = OFS = "\0"; root = ENVIRON["ROOT"]; work = ENVIRON["WORK"]; draft = work "/draft"
  printf "" > draft; printf "" > (work "/hash.list"); printf "" > (work "/owners"); printf "" > (work "/packsizes")
  pack = 0; inpack = 0; kbytes = 0; offset = 0; blobs = 0; batches = 0
}
{
  v[n++] = $0
  if (n < 7) next
  n = 0
  y = v[0]; size = v[1] + 0; mode = v[2]; owner = v[3]; mtime = v[4]; full = v[5]; target = v[6]
  path = substr(full, length(root) + 1)
  if (path == "") path = "/"
  if (path in seen) next
  seen[path] = 1
  if (y == "X") { skip(path, target); next }
  sub(/\..*/, "", mtime)
  if (!(owner in owners)) { owners[owner] = 1; print owner, full > (work "/owners") }
  meta = size "\t" mode "\t" owner "\t" mtime
  if (y == "d") { record("d\t0\t" mode "\t" owner "\t" mtime "\t-\t-", path, ""); next }
  if (y == "l") { record("l\t" meta "\t-\t-", path, target); next }
  if (y == "s") { skip(path, "a socket is not exported"); next }
  if (y == "p") { skip(path, "a FIFO is not exported"); next }
  if (y == "b" || y == "c") { skip(path, "a device file is not exported"); next }
  if (y != "f") { skip(path, "a file of type " y " is not exported"); next }
  if (files >= maxfiles) { skip(path, "over the limit of " maxfiles " files per export"); next }
  if (bytes + size > maxbytes) { skip(path, "over the limit of " maxbytes " bytes per export"); next }
  files++; bytes += size
  if (size < packfile && pack < npackurls && inpack > 0 && (kbytes + size > packbytes || inpack >= packfiles)) {
    closepack()
  }
  if (size < packfile && pack < npackurls) {
    # In a tar pack the member is named ".<path>" (never read as an option), below the mount point;
    # GNU tar puts a name longer than 100 bytes in a header and blocks of its own before the file header.
    if (inpack == 0) openpack()
    member = tarpacks ? "." path : full
    print member > (work "/pack." pack)
    print member | sending
    if (tarpacks) offset += 512 + (length(path) + 1 > 100 ? 512 + blocks(length(path) + 2) : 0)
    record("f\t" meta "\t-\tp" pack "@" offset, path, "")
    inpack++; kbytes += size; offset += tarpacks ? blocks(size) : size
    next
  }
  if (blobs % 200 == 0) { if (blobs > 0) close(cfg); cfg = work "/blobs." batches++ }
  RS = "\n"; if ((getline url < (work "/urls")) <= 0) url = ""
  RS = "\0"
  sub(/\r$/, "", url)
  printf "upload-file = %s\nurl = %s\noutput = \"/dev/null\"\n", quote(full), quote(url) > cfg
  print full > (work "/hash.list")
  if (full ~ /\n/) oddnames = 1
  record("f\t" meta "\t#\t" blobs, path, "")
  blobs++
}
END {
  if (inpack > 0) closepack()
  printf "files=%d\nbytes=%.0f\nskipped=%d\nnpacks=%d\nbatches=%d\nblobs=%d\noddnames=%d\ncanceled=%d\n", files, bytes, skipped, pack, batches, blobs, oddnames, canceled > (work "/counts")
}' || fail "cannot plan the export" 6
# shellcheck disable=SC1091
. "$work/counts"
mapfile -t packsizes <"$work/packsizes"
[ "$canceled" = 0 ] || fail "canceled" 7
[ "$blobs" -le "$(wc -l <"$work/urls")" ] || fail "the work list holds fewer upload URLs than files" 6

# The larger files are hashed while they upload, not before: one pass after the other made a large
# file cost a hash's time on top of its upload's, and the second read comes from the page cache.
# OpenSSL's digest is the faster where it is installed; it does not escape a newline in a name, which
# would cut its line in two, so such names go to sha256sum.
hasher=(sha256sum --)
[ "$oddnames" = 0 ] && openssl dgst -sha256 -r /dev/null >/dev/null 2>&1 && hasher=(openssl dgst -sha256 -r)
xargs -0 -r "${hasher[@]}" <"$work/hash.list" >"$work/sums" &
hashing=$!
# A pack is sent again whole (a stream cannot rewind), twice at most, when its first sending failed:
# tar or cat could not read, curl could not send, or the pack is not the size its files add up to.
set -o pipefail
sent_whole() {
  local read_status="" sent_status="" line written=""
  read -r read_status 2>/dev/null <"$work/read.$1"
  read -r sent_status 2>/dev/null <"$work/sent.$1"
  [ "$read_status" = 0 ] && [ "$sent_status" = 0 ] || return 1
  [ "$TARPACKS" = 1 ] || return 0
  [ -f "$work/totals.$1" ] && while read -r line; do
    [[ "$line" == "Total bytes written: "* ]] && written=${line#Total bytes written: } && written=${written%% *}
  done <"$work/totals.$1"
  [ "$written" = "${packsizes[$1]}" ] && return 0
  echo "pack $1 held ${written:-no} bytes, not the ${packsizes[$1]} its files add up to" >"$work/why.$1"
  return 1
}
for ((k = 0; k < npacks; k++)); do
  for try in 2 3; do
    sent_whole "$k" && break
    if canceled; then fail "canceled" 7; fi
    (export K=$k ROOT=$root WORK=$work && { eval "$PACK_CMD" <"$work/pack.$k"; echo $? >"$work/read.$k"; } |
      eval "$SEND_CMD"; echo $? >"$work/sent.$k")
  done
  sent_whole "$k" || fail "$(cat "$work/why.$k" 2>/dev/null || echo "a pack upload failed")" 6
done
for ((b = 0; b < batches; b++)); do
  if canceled; then fail "canceled" 7; fi
  curl -fsS --fail-early --retry 3 --max-time 3600 -H 'Content-Type:' -K "$work/blobs.$b" || fail "an upload failed" 6
done
wait "$hashing" || fail "cannot read the files to export" 6

# Owner names as find gives them for the first file of each pair of numbers (the number where the
# instance has no name for it).
while IFS= read -r -d '' ids && IFS= read -r -d '' sample; do
  names=$(find "$sample" -maxdepth 0 -printf '%u:%g' 2>/dev/null)
  printf '%s\t%s\n' "$ids" "${names:-$ids}"
done <"$work/owners" >"$work/names"

# The manifest: the draft with owner names and, for each file sent alone, its sha256 (sha256sum starts
# a line with a backslash when it had to escape the name).
"$AWK" -v names="$work/names" -v sums="$work/sums" '
BEGIN {
  while ((getline line < names) > 0) { split(line, kv, "\t"); owner[kv[1]] = kv[2] }
  RS = ORS = "\0"; FS = OFS = "\t"
}
NR % 3 == 1 {
  if ($1 != "x") $4 = owner[$4]
  if ($6 == "#") {
    RS = "\n"; got = getline sum < sums; RS = "\0"
    if (got <= 0) exit 1
    sub(/^\\/, "", sum); $6 = substr(sum, 1, 64)
  }
}
{ print }' "$work/draft" >"$work/manifest" || fail "cannot read the files to export" 6

# A cancel that came during the last uploads: no manifest, so nothing looks complete.
if canceled; then fail "canceled" 7; fi
put_file "$MANIFEST_URL" "$work/manifest" || fail "the manifest upload failed" 6
echo "ECSB files=$files"
echo "ECSB bytes=$bytes"
echo "ECSB skipped=$skipped"
echo "ECSB device=$mounted"
exit 0
