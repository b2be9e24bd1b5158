/**
 * Schedule math: a start instant plus a fixed-length interval (HBR's `I|start|P1D`).
 * Occurrences are startAt + k·interval for k >= 0; nothing runs before startAt. Intervals are
 * exact durations, so a daily schedule keeps its UTC time and moves by an hour in local time across
 * a DST change (the start carries its own offset, the interval knows no time zone).
 *
 * Catch-up policy (design §3): missed occurrences are never replayed in a burst. Only the latest
 * missed occurrence runs, and only while it is younger than the start window; every older one is
 * recorded as skipped with its reason. A backup that finds the previous backup of its instance
 * still running waits up to the start window, then is skipped.
 */
import { daysInMonth } from './calendar.js';
import { ValidationError } from './errors.js';
import type { Interval, Schedule } from './model.js';
import { DAY_MS, HOUR_MS, SECOND_MS, WEEK_MS, formatDuration, isoSeconds } from './time.js';

/** How long an occurrence may wait (outage, running predecessor) before it is skipped. */
export const DEFAULT_START_WINDOW_MS = 3_600_000;

/**
 * Starting within the scheduled second counts as on time: startAt has second precision, and the
 * queue's delay is in whole seconds.
 */
export const ON_TIME_TOLERANCE_MS = SECOND_MS;

export type RunDecision =
  | { action: 'run' }
  | { action: 'run-late'; lateByMs: number }
  | { action: 'wait' }
  | { action: 'skip'; reason: string };

const START_AT_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parses an ISO 8601 instant that names its seconds and its offset (`2026-12-01T02:00:00+08:00`).
 * A bare local time is refused: which zone it meant would be a guess.
 */
export function parseStartAt(iso: string): number {
  const parsed = readStartAt(iso);
  if (typeof parsed === 'string') {
    throw new ValidationError([{ path: 'startAt', message: `${JSON.stringify(iso)} ${parsed}` }]);
  }
  return parsed;
}

/** Why `iso` is not a valid startAt, or null when it is. */
export function startAtProblem(iso: string): string | null {
  const parsed = readStartAt(iso);
  return typeof parsed === 'string' ? `${JSON.stringify(iso)} ${parsed}` : null;
}

/** Epoch ms, or the reason the text is refused. */
function readStartAt(iso: string): number | string {
  const m = START_AT_PATTERN.exec(iso);
  if (m === null) return 'must be ISO 8601 with seconds and an offset, e.g. 2026-12-01T02:00:00+08:00';
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const fraction = m[7];
  if (fraction !== undefined && !/^0+$/.test(fraction)) return 'must be a whole second (second precision)';
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    return 'is not a valid calendar date and time';
  }
  let offsetMinutes = 0;
  if (m[8] === undefined) {
    const offH = Number(m[10]);
    const offM = Number(m[11]);
    if (offH > 14 || offM > 59) return 'has an offset outside -14:00..+14:00';
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offH * 60 + offM);
  }
  const utc = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, 0);
  return utc.getTime() - offsetMinutes * 60_000;
}

export function intervalMs(every: Interval): number {
  const unit = every.unit === 'hours' ? HOUR_MS : every.unit === 'days' ? DAY_MS : WEEK_MS;
  return every.value * unit;
}

function scheduleBase(schedule: Schedule): { start: number; step: number } {
  const step = intervalMs(schedule.every);
  if (!(step > 0)) {
    throw new ValidationError([{ path: 'every', message: 'interval must be positive' }]);
  }
  return { start: parseStartAt(schedule.startAt), step };
}

/** The smallest occurrence t with t >= `t`. */
export function firstOccurrenceAtOrAfter(schedule: Schedule, t: number): number {
  const { start, step } = scheduleBase(schedule);
  if (t <= start) return start;
  return start + Math.ceil((t - start) / step) * step;
}

/** The smallest occurrence t with t > `after`. */
export function nextOccurrence(schedule: Schedule, after: number): number {
  const { start, step } = scheduleBase(schedule);
  if (after < start) return start;
  return start + (Math.floor((after - start) / step) + 1) * step;
}

/** The largest occurrence t with t <= `at`, or null when `at` is before the first occurrence. */
export function latestOccurrenceAtOrBefore(schedule: Schedule, at: number): number | null {
  const { start, step } = scheduleBase(schedule);
  if (at < start) return null;
  return start + Math.floor((at - start) / step) * step;
}

/** Occurrences t with from <= t < to, ascending. */
export function occurrencesIn(schedule: Schedule, from: number, to: number): number[] {
  const { step } = scheduleBase(schedule);
  const out: number[] = [];
  for (let t = firstOccurrenceAtOrAfter(schedule, from); t < to; t += step) out.push(t);
  return out;
}

function assertWindow(startWindowMs: number): void {
  if (!(startWindowMs >= 0)) {
    throw new ValidationError([{ path: 'startWindowMs', message: 'must be a non-negative number' }]);
  }
}

/**
 * What to do with one occurrence at `now`: not due yet, on time, late but inside the start window,
 * or too old to run.
 */
export function decideMissedRun(scheduledAt: number, now: number, startWindowMs: number): RunDecision {
  assertWindow(startWindowMs);
  const lateByMs = now - scheduledAt;
  if (lateByMs < 0) return { action: 'wait' };
  if (lateByMs < ON_TIME_TOLERANCE_MS) return { action: 'run' };
  if (lateByMs < startWindowMs) return { action: 'run-late', lateByMs };
  return {
    action: 'skip',
    reason:
      `missed: due at ${isoSeconds(scheduledAt)}, ${formatDuration(lateByMs)} ago, ` +
      `outside the ${formatDuration(startWindowMs)} start window`,
  };
}

/**
 * One backup per instance at a time: while another backup of the instance runs, the occurrence
 * waits up to the start window, then is skipped. Without a running backup this is the missed-run
 * decision, so one call answers both questions.
 */
export function decideOverlap(
  scheduledAt: number,
  now: number,
  runningJobOfInstance: boolean,
  startWindowMs: number,
): RunDecision {
  if (!runningJobOfInstance) return decideMissedRun(scheduledAt, now, startWindowMs);
  assertWindow(startWindowMs);
  if (now - scheduledAt < startWindowMs) return { action: 'wait' };
  return {
    action: 'skip',
    reason:
      `previous backup still running: due at ${isoSeconds(scheduledAt)}, ` +
      `waited the whole ${formatDuration(startWindowMs)} start window`,
  };
}

export interface CatchUpPlan {
  /** The latest due occurrence and what to do with it; null when nothing is due. */
  due: { scheduledAt: number; decision: RunDecision } | null;
  /** Older missed occurrences to record as SKIPPED, oldest first, at most `maxSkipRecords`. */
  skipped: { scheduledAt: number; reason: string }[];
  /** Missed occurrences beyond `maxSkipRecords`, counted in the reason of the newest skipped record. */
  omitted: number;
  /** The plan's next occurrence after the catch-up: strictly after `now`. */
  nextRunAt: number;
}

/**
 * After an outage or a resume the plan's `nextRunAt` may lie in the past: pick the one occurrence
 * that may still run and turn every older one into a skip record, so a long outage neither bursts
 * nor disappears silently. Records are capped because an hourly plan down for a month would
 * otherwise write hundreds of rows; the cap is stated in the last record's reason.
 */
export function planCatchUp(
  schedule: Schedule,
  pendingFrom: number,
  now: number,
  startWindowMs: number = DEFAULT_START_WINDOW_MS,
  maxSkipRecords = 50,
): CatchUpPlan {
  const { step } = scheduleBase(schedule);
  const nextRunAt = nextOccurrence(schedule, now);
  const latest = latestOccurrenceAtOrBefore(schedule, now);
  const first = firstOccurrenceAtOrAfter(schedule, pendingFrom);
  if (latest === null || latest < first) return { due: null, skipped: [], omitted: 0, nextRunAt };

  const due = { scheduledAt: latest, decision: decideMissedRun(latest, now, startWindowMs) };
  const olderCount = Math.round((latest - first) / step);
  const recorded = Math.min(olderCount, Math.max(0, maxSkipRecords));
  const omitted = olderCount - recorded;
  const skipped: CatchUpPlan['skipped'] = [];
  // Keep the newest missed occurrences: they are the ones an operator looks for first.
  for (let i = recorded; i >= 1; i -= 1) {
    const scheduledAt = latest - i * step;
    skipped.push({
      scheduledAt,
      reason: `missed: due at ${isoSeconds(scheduledAt)}; missed runs are not replayed, only the latest (${isoSeconds(latest)}) may run`,
    });
  }
  const last = skipped[skipped.length - 1];
  if (last !== undefined && omitted > 0) {
    last.reason += `; ${omitted} older missed occurrence(s) since ${isoSeconds(first)} not recorded`;
  }
  return { due, skipped, omitted, nextRunAt };
}
