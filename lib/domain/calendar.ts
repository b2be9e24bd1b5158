/**
 * Wall-clock arithmetic in an IANA time zone, with nothing but `Intl` (no zone database of our own).
 * Ambiguous or missing local times resolve like Temporal's `compatible` mode: in a backward jump the
 * earlier instant, in a forward jump (a local time that does not exist) the instant after the gap.
 */
import { DAY_MS } from './time.js';

export interface WallTime {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when `Intl` knows the zone by that IANA name (offset strings like `+08:00` are refused). */
export function isValidTimeZone(timeZone: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/.test(timeZone)) return false;
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

function floorTo(t: number, unit: number): number {
  return t - (((t % unit) + unit) % unit);
}

export function wallTimeAt(t: number, timeZone: string): WallTime {
  const parts: Record<string, string> = {};
  for (const p of formatterFor(timeZone).formatToParts(new Date(t))) parts[p.type] = p.value;
  return {
    // Years before 1 AD would need the era; no backup is that old.
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    millisecond: t - floorTo(t, 1000),
  };
}

/** The wall time read as if it were UTC: the arithmetic space for calendar fields. */
export function wallAsUtc(w: WallTime): number {
  const d = new Date(0);
  d.setUTCFullYear(w.year, w.month - 1, w.day);
  d.setUTCHours(w.hour, w.minute, w.second, w.millisecond);
  return d.getTime();
}

/** Offset of the zone at instant t (local minus UTC), in ms. */
export function offsetAt(t: number, timeZone: string): number {
  const whole = floorTo(t, 1000);
  return wallAsUtc({ ...wallTimeAt(whole, timeZone), millisecond: 0 }) - whole;
}

/** The instant a wall time in the zone stands for (see the file comment for gaps and overlaps). */
export function wallTimeToEpoch(w: WallTime, timeZone: string): number {
  const local = wallAsUtc(w);
  // Zone transitions are far more than two days apart, so the offsets a day either side bracket
  // every candidate.
  const before = offsetAt(local - DAY_MS, timeZone);
  const after = offsetAt(local + DAY_MS, timeZone);
  if (before === after) return local - before;
  const candidates = [local - before, local - after].filter((t) => offsetAt(t, timeZone) === local - t);
  if (candidates.length > 0) return Math.min(...candidates);
  return local - before;
}

export function daysInMonth(year: number, month: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month, 0);
  return d.getUTCDate();
}

/** Adds calendar months, clamping the day to the target month's length (31 Jan + 1 month = 28/29 Feb). */
export function addMonths(w: WallTime, months: number): WallTime {
  const index = w.year * 12 + (w.month - 1) + months;
  const year = Math.floor(index / 12);
  const month = index - year * 12 + 1;
  return { ...w, year, month, day: Math.min(w.day, daysInMonth(year, month)) };
}

/** 0 = Sunday. */
export function weekday(w: WallTime): number {
  return new Date(wallAsUtc({ ...w, hour: 0, minute: 0, second: 0, millisecond: 0 })).getUTCDay();
}

/** The civil date `days` away, time of day unchanged. */
export function addDays(w: WallTime, days: number): WallTime {
  const d = new Date(wallAsUtc(w) + days * DAY_MS);
  return {
    ...w,
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
  };
}
