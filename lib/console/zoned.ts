/** Wall-clock times in an IANA zone ↔ instants, for the schedule's start time. */

function offsetMs(instant: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(instant));
  const n = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const asUtc = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/** `2027-01-01T09:00:00` read in `timeZone` → ISO 8601 with that zone's offset, to the second. */
export function wallTimeToIso(wall: string, timeZone: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(wall);
  if (m === null) return wall;
  const guess = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +(m[6] ?? 0));
  let offset = offsetMs(guess - offsetMs(guess, timeZone), timeZone);
  if (!Number.isFinite(offset)) offset = 0;
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset) / 60_000;
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}${sign}${hh}:${mm}`;
}

/** An instant as the wall time `YYYY-MM-DDTHH:MM:SS` in `timeZone` (for a datetime-local input). */
export function isoToWallTime(iso: string, timeZone: string): string {
  const t = Date.parse(iso);
  const local = new Date(t + offsetMs(t, timeZone));
  return local.toISOString().slice(0, 19);
}
