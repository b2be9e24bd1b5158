#!/bin/bash
# ecs-backup guest script for Linux, run as root through Cloud Assistant (RunShellScript).
# Pre-script, file-system freeze, snapshot group request, thaw, post-script; then one
# `ECSB key=value` line per result on stdout for the backup engine.
#
# Nothing may write to a frozen file system while it is frozen, or that write blocks until the
# thaw: between freeze and thaw this script only forks, execs and talks to pipes (no temp files,
# no here-documents, which older bash versions back with a file in /tmp).
#
# The parameter block below is replaced by lib/guest/render.ts; keep its markers.
#--- ecsb parameters ---
ECSB_SNAPSHOT_URL=''
ECSB_APP_CONSISTENT=0
ECSB_FS_FREEZE=1
ECSB_FREEZE_TIMEOUT=30
ECSB_PRE_TIMEOUT=30
ECSB_POST_TIMEOUT=30
ECSB_REQUEST_TIMEOUT=10
ECSB_ON_PRE_FAILURE=continue
#--- end ecsb parameters ---

export LC_ALL=C
umask 077

PRE=/tmp/prescript.sh
POST=/tmp/postscript.sh
MOUNTS_FILE=${ECSB_MOUNTS_FILE:-/proc/self/mounts}

consistency=crash
reason=''
freeze_ms=none
pre_exit=none
post_exit=none
group_id=''
snap_error=''
printed=0
hook_log=/dev/null
watchdog_pid=''
watchdog_deadline=0
freezing=''
frozen=()
mounts=()
skipped=()

now_ms() {
  # EPOCHREALTIME (bash >= 5) avoids a fork; `date` is the fallback for older bash.
  if [ -n "${EPOCHREALTIME:-}" ]; then
    local s=${EPOCHREALTIME%[.,]*} f=${EPOCHREALTIME#*[.,]}000
    printf -v NOW_MS '%d' "$((s * 1000 + 10#${f:0:3}))"
  else
    NOW_MS=$(date +%s%3N)
  fi
}

oneline() {
  local s=${1//[$'\r\n\t']/ }
  printf '%s' "${s:0:${2:-400}}"
}

log() {
  printf 'ecsb: %s\n' "$*" >&2
}

# A script is trusted only as a regular file (never a symlink: /tmp is world-writable, so a link
# could point anywhere) owned by root with mode exactly 0700. In the sticky /tmp no other user can
# replace a root-owned entry afterwards, so the check still holds when the script runs.
check_script() {
  local f=$1 meta owner mode
  if [ -L "$f" ]; then
    CHECK_MSG="$f is a symbolic link"
    return 2
  fi
  if [ ! -e "$f" ]; then
    CHECK_MSG="$f is missing"
    return 1
  fi
  if [ ! -f "$f" ]; then
    CHECK_MSG="$f is not a regular file"
    return 2
  fi
  if ! meta=$(stat -c '%u %a' "$f" 2>/dev/null); then
    CHECK_MSG="cannot stat $f"
    return 2
  fi
  owner=${meta%% *}
  mode=${meta#* }
  if [ "$owner" != 0 ]; then
    CHECK_MSG="$f is owned by uid $owner, not root"
    return 2
  fi
  if [ "$mode" != 700 ]; then
    CHECK_MSG="$f has mode 0$mode, not 0700"
    return 2
  fi
  return 0
}

# Hook output goes to a private file, not a pipe: a hook that starts a daemon would keep a pipe
# open and hang this script. It is echoed with a prefix so it can never pass for a result line.
run_hook() {
  local name=$1 path=$2 limit=$3 rc
  timeout -k 5 "$limit" "$path" </dev/null >"$hook_log" 2>&1
  rc=$?
  if [ "$hook_log" != /dev/null ] && [ -s "$hook_log" ]; then
    tail -c 2000 "$hook_log" | while IFS= read -r line || [ -n "$line" ]; do printf '[%s] %s\n' "$name" "$line"; done
    : >"$hook_log"
  fi
  HOOK_RC=$rc
}

hook_failure() {
  case $2 in
  124 | 137) printf '%s timed out after %ss' "$1" "$3" ;;
  126) printf '%s could not be executed (exit 126)' "$1" ;;
  *) printf '%s exited %s' "$1" "$2" ;;
  esac
}

# ext3/ext4/xfs only: network (nfs, cifs, fuse...) and pseudo file systems (proc, tmpfs, overlay...)
# cannot be frozen meaningfully, and read-only ones need no freeze. A file system mounted twice
# (bind mounts) is frozen once: a second freeze of the same superblock fails with EBUSY.
collect_mounts() {
  local dev mp fs opts rest depth slashes i j
  local -A seen_dev=() seen_mp=()
  local -a found=() depths=()
  [ -r "$MOUNTS_FILE" ] || return 0
  while read -r dev mp fs opts rest; do
    [ -n "$mp" ] || continue
    # /proc/mounts escapes space, tab, newline and backslash as \ooo.
    printf -v mp '%b' "${mp//\\/\\0}"
    case $fs in
    ext3 | ext4 | xfs) ;;
    *) continue ;;
    esac
    case ",$opts," in
    *,ro,*)
      skipped+=("$mp (read-only)")
      continue
      ;;
    esac
    if [ -n "${seen_dev[$dev]:-}" ] || [ -n "${seen_mp[$mp]:-}" ]; then
      continue
    fi
    seen_dev[$dev]=1
    seen_mp[$mp]=1
    slashes=${mp//[!\/]/}
    depth=${#slashes}
    [ "$mp" = / ] && depth=0
    found+=("$mp")
    depths+=("$depth")
  done <"$MOUNTS_FILE"
  # Deepest first, / last: the root file system, which the agent and sshd need, is frozen for the
  # shortest time and thawed first. Stable, so equal depths keep the mount table order.
  local max=0
  for depth in "${depths[@]}"; do [ "$depth" -gt "$max" ] && max=$depth; done
  for ((j = max; j >= 0; j--)); do
    for ((i = 0; i < ${#found[@]}; i++)); do
      [ "${depths[i]}" = "$j" ] && mounts+=("${found[i]}")
    done
  done
  return 0
}

# Started before the first freeze in its own session (setsid), so it survives the agent killing
# this script's process group on timeout, or a SIGKILL: whatever happens here, everything is
# thawed after the freeze timeout.
start_watchdog() {
  local rev=() i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do rev+=("${mounts[i]}"); done
  now_ms
  watchdog_deadline=$((NOW_MS + ECSB_FREEZE_TIMEOUT * 1000))
  setsid bash -c 'sleep "$1"; shift; for mp in "$@"; do fsfreeze -u "$mp"; done' ecsb-watchdog \
    "$ECSB_FREEZE_TIMEOUT" "${rev[@]}" </dev/null >/dev/null 2>&1 &
  watchdog_pid=$!
}

stop_watchdog() {
  if [ -n "$watchdog_pid" ]; then
    # The watchdog leads its own process group: end it and its sleep, so a later backup's freeze
    # is never thawed early by a stale timer.
    kill -TERM -- "-$watchdog_pid" 2>/dev/null || kill -TERM "$watchdog_pid" 2>/dev/null
    watchdog_pid=''
  fi
}

freeze_all() {
  local mp err
  for mp in "${mounts[@]}"; do
    freezing=$mp
    if ! err=$(fsfreeze -f "$mp" 2>&1); then
      freezing=''
      FREEZE_ERR="fsfreeze -f $mp failed: $(oneline "$err" 200)"
      return 1
    fi
    frozen+=("$mp")
    freezing=''
  done
  return 0
}

thaw_all() {
  local i mp err
  if [ -n "$freezing" ]; then
    # Interrupted inside a freeze call that may have completed.
    fsfreeze -u "$freezing" >/dev/null 2>&1
    freezing=''
  fi
  for ((i = ${#frozen[@]} - 1; i >= 0; i--)); do
    mp=${frozen[i]}
    if ! err=$(fsfreeze -u "$mp" 2>&1); then
      log "thaw of $mp failed: $(oneline "$err" 200)"
    fi
  done
  frozen=()
}

# Sends the pre-signed CreateSnapshotGroup request once. The URL goes to curl on stdin (-K -), not
# on its command line where any local user could read it; -q ignores ~/.curlrc.
trigger_snapshot() {
  local out rc status body code msg
  if [ -z "$ECSB_SNAPSHOT_URL" ]; then
    snap_error='NoSnapshotRequest: the script carries no snapshot request'
    return 1
  fi
  out=$(printf 'url = "%s"\n' "$ECSB_SNAPSHOT_URL" |
    curl -q -sS --max-time "$ECSB_REQUEST_TIMEOUT" -w '\n%{http_code}' -K - 2>&1)
  rc=$?
  status=${out##*$'\n'}
  body=${out%$'\n'*}
  [ "$body" = "$out" ] && status=000
  if [ $rc -ne 0 ]; then
    snap_error="NetworkError: curl exit $rc: $(oneline "$body" 300)"
    return 1
  fi
  if [[ $body =~ \"SnapshotGroupId\"[[:space:]]*:[[:space:]]*\"([^\"]+)\" ]] && [[ $status == 2* ]]; then
    group_id=${BASH_REMATCH[1]}
    return 0
  fi
  code="HTTP$status"
  msg='unexpected answer'
  [[ $body =~ \"Code\"[[:space:]]*:[[:space:]]*\"([^\"]*)\" ]] && code=${BASH_REMATCH[1]}
  [[ $body =~ \"Message\"[[:space:]]*:[[:space:]]*\"(([^\"\\]|\\.)*)\" ]] && msg=${BASH_REMATCH[1]}
  snap_error="$(oneline "$code" 100): $(oneline "$msg" 300)"
  return 1
}

finish() {
  [ "$printed" = 1 ] && return
  printed=1
  printf 'ECSB consistency=%s\n' "$consistency"
  printf 'ECSB reason=%s\n' "$(oneline "$reason" 600)"
  printf 'ECSB freeze_ms=%s\n' "$freeze_ms"
  printf 'ECSB pre_exit=%s\n' "$pre_exit"
  printf 'ECSB post_exit=%s\n' "$post_exit"
  if [ -n "$group_id" ]; then
    printf 'ECSB snapshot_group_id=%s\n' "$group_id"
  else
    printf 'ECSB snapshot_error=%s\n' "$(oneline "${snap_error:-Unknown: no snapshot request was made}" 500)"
  fi
}

on_exit() {
  thaw_all
  stop_watchdog
  [ "$hook_log" != /dev/null ] && rm -f "$hook_log"
  if [ "$printed" != 1 ]; then
    consistency=crash
    reason="guest script interrupted${SIGNAL:+ by SIG$SIGNAL}${reason:+; $reason}"
    freeze_ms=none
    [ -z "$group_id" ] && [ -z "$snap_error" ] && snap_error='Interrupted: the guest script stopped before the snapshot request completed'
    finish
  fi
}

trap on_exit EXIT
trap 'SIGNAL=INT; exit 130' INT
trap 'SIGNAL=TERM; exit 143' TERM
trap 'SIGNAL=HUP; exit 129' HUP

main() {
  local requested=crash scripts=none script_reason='' pre_reason='' post_reason='' freeze_ok=0 freeze_reason=''
  local rc freeze_start snap_end
  [ "$ECSB_FS_FREEZE" = 1 ] && requested=filesystem
  [ "$ECSB_APP_CONSISTENT" = 1 ] && requested=application

  if [ "$ECSB_APP_CONSISTENT" = 1 ]; then
    scripts=valid
    check_script "$PRE"
    rc=$?
    if [ $rc -ne 0 ]; then
      script_reason="pre-script: $CHECK_MSG"
      [ $rc = 1 ] && scripts=missing || scripts=invalid
    fi
    check_script "$POST"
    rc=$?
    if [ $rc -ne 0 ]; then
      script_reason="${script_reason:+$script_reason; }post-script: $CHECK_MSG"
      if [ $rc = 2 ]; then scripts=invalid; elif [ $scripts = valid ]; then scripts=missing; fi
    fi
  fi

  if [ $scripts = valid ]; then
    hook_log=$(mktemp /tmp/ecsb-hook.XXXXXX 2>/dev/null) || hook_log=/dev/null
    run_hook prescript "$PRE" "$ECSB_PRE_TIMEOUT"
    pre_exit=$HOOK_RC
    if [ "$pre_exit" != 0 ]; then
      pre_reason=$(hook_failure pre-script "$pre_exit" "$ECSB_PRE_TIMEOUT")
      if [ "$ECSB_ON_PRE_FAILURE" = fail ]; then
        # The plan fails closed: no freeze, no snapshot. The post-script still runs so that an
        # application the pre-script half-quiesced is resumed.
        run_hook postscript "$POST" "$ECSB_POST_TIMEOUT"
        post_exit=$HOOK_RC
        consistency=crash
        reason="$pre_reason; the plan fails the backup when the pre-script fails"
        snap_error="PreScriptFailed: $pre_reason"
        finish
        return
      fi
    fi
  fi

  if [ "$ECSB_FS_FREEZE" = 1 ]; then
    if ! command -v fsfreeze >/dev/null 2>&1; then
      freeze_reason='fsfreeze is not installed'
    else
      collect_mounts
      if [ ${#mounts[@]} -eq 0 ]; then
        freeze_reason='no freezable local file system (ext3, ext4 or xfs mounted read-write)'
      else
        start_watchdog
        now_ms
        freeze_start=$NOW_MS
        if freeze_all; then
          freeze_ok=1
        else
          freeze_reason=$FREEZE_ERR
          # A partial freeze is no consistency at all: thaw now and take a crash-consistent snapshot.
          thaw_all
          stop_watchdog
        fi
      fi
    fi
  elif [ "$requested" != crash ]; then
    freeze_reason='file-system freeze is disabled'
  fi

  trigger_snapshot
  if [ $freeze_ok = 1 ]; then
    now_ms
    snap_end=$NOW_MS
    thaw_all
    now_ms
    freeze_ms=$((NOW_MS - freeze_start))
    stop_watchdog
    if [ "$snap_end" -ge "$watchdog_deadline" ]; then
      # The watchdog may have thawed before the snapshot point: do not claim a frozen snapshot.
      freeze_ok=0
      freeze_ms=none
      freeze_reason="the snapshot request outlasted the ${ECSB_FREEZE_TIMEOUT}s freeze timeout"
    fi
    log "froze and thawed: ${mounts[*]}"
  fi
  [ ${#skipped[@]} -gt 0 ] && log "not frozen: ${skipped[*]}"

  if [ $scripts = valid ]; then
    run_hook postscript "$POST" "$ECSB_POST_TIMEOUT"
    post_exit=$HOOK_RC
    # After the thaw: the snapshot keeps its consistency, but the operator must hear that the
    # application may not have resumed.
    [ "$post_exit" != 0 ] && post_reason="$(hook_failure post-script "$post_exit" "$ECSB_POST_TIMEOUT") after the thaw; the snapshot is unaffected"
  fi

  if [ $freeze_ok = 1 ]; then
    if [ "$requested" = application ] && [ $scripts = valid ] && [ "$pre_exit" = 0 ]; then
      consistency=application
    else
      consistency=filesystem
      [ "$requested" = application ] && reason=${script_reason:-$pre_reason}
    fi
  else
    consistency=crash
    [ "$requested" != crash ] && reason=$freeze_reason
    if [ -n "$script_reason$pre_reason" ]; then
      reason="${reason:+$reason; }${script_reason:-$pre_reason}"
    fi
  fi
  [ -n "$post_reason" ] && reason="${reason:+$reason; }$post_reason"
  finish
}

main
