import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/domain/errors.js';
import type { Schedule } from '../../../lib/domain/model.js';
import {
  DEFAULT_START_WINDOW_MS,
  decideMissedRun,
  decideOverlap,
  firstOccurrenceAtOrAfter,
  intervalMs,
  latestOccurrenceAtOrBefore,
  nextOccurrence,
  occurrencesIn,
  parseStartAt,
  planCatchUp,
  startAtProblem,
} from '../../../lib/domain/schedule.js';

const S = 1_000;
const MIN = 60 * S;
const H = 60 * MIN;
const D = 24 * H;
const at = (iso: string): number => Date.parse(iso);

function every(startAt: string, value: number, unit: Schedule['every']['unit']): Schedule {
  return { startAt, every: { value, unit } };
}

const daily = every('2026-01-01T02:00:00+08:00', 1, 'days'); // 2025-12-31T18:00:00Z
const start = at('2025-12-31T18:00:00Z');

describe('parseStartAt', () => {
  it.each([
    { name: 'UTC with Z', input: '2026-01-01T00:00:00Z', expected: '2026-01-01T00:00:00.000Z' },
    { name: 'positive offset', input: '2026-01-01T02:00:00+08:00', expected: '2025-12-31T18:00:00.000Z' },
    { name: 'negative offset', input: '2026-01-01T02:00:00-05:30', expected: '2026-01-01T07:30:00.000Z' },
    {
      name: 'zero fraction is whole seconds',
      input: '2026-01-01T00:00:00.000Z',
      expected: '2026-01-01T00:00:00.000Z',
    },
    { name: 'leap day', input: '2028-02-29T23:59:59+14:00', expected: '2028-02-29T09:59:59.000Z' },
  ])('$name', ({ input, expected }) => {
    expect(new Date(parseStartAt(input)).toISOString()).toBe(expected);
  });

  it.each([
    { name: 'no offset (local time is a guess)', input: '2026-01-01T00:00:00', reason: 'offset' },
    { name: 'no seconds', input: '2026-01-01T00:00+08:00', reason: 'seconds' },
    { name: 'date only', input: '2026-01-01', reason: 'ISO 8601' },
    { name: 'sub-second start', input: '2026-01-01T00:00:00.5Z', reason: 'whole second' },
    { name: 'February 30', input: '2026-02-30T00:00:00Z', reason: 'not a valid calendar date' },
    { name: 'month 13', input: '2026-13-01T00:00:00Z', reason: 'not a valid calendar date' },
    { name: 'month 0', input: '2026-00-01T00:00:00Z', reason: 'not a valid calendar date' },
    { name: 'day 0', input: '2026-01-00T00:00:00Z', reason: 'not a valid calendar date' },
    { name: 'hour 24', input: '2026-01-01T24:00:00Z', reason: 'not a valid calendar date' },
    { name: 'minute 60', input: '2026-01-01T00:60:00Z', reason: 'not a valid calendar date' },
    { name: 'leap second', input: '2026-01-01T00:00:60Z', reason: 'not a valid calendar date' },
    { name: 'offset beyond +14:00', input: '2026-01-01T00:00:00+15:00', reason: 'offset outside' },
    { name: 'offset minutes 60', input: '2026-01-01T00:00:00+01:60', reason: 'offset outside' },
  ])('refuses $name', ({ input, reason }) => {
    let caught: unknown;
    try {
      parseStartAt(input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    const issue = (caught as ValidationError).issues[0];
    expect(issue?.path).toBe('startAt');
    expect(issue?.message).toContain(reason);
  });

  it('startAtProblem says why, or null', () => {
    expect(startAtProblem('2026-01-01T00:00:00Z')).toBeNull();
    expect(startAtProblem('2026-02-29T00:00:00Z')).toBe(
      '"2026-02-29T00:00:00Z" is not a valid calendar date and time',
    );
    expect(startAtProblem('2028-02-29T00:00:00Z')).toBeNull();
  });

  it('keeps years 0-99 literal instead of mapping them to the 1900s', () => {
    expect(new Date(parseStartAt('0050-06-01T00:00:00Z')).getUTCFullYear()).toBe(50);
  });
});

describe('intervalMs', () => {
  it.each([
    { name: '1 hour', every: { value: 1, unit: 'hours' as const }, ms: H },
    { name: '36 hours', every: { value: 36, unit: 'hours' as const }, ms: 36 * H },
    { name: '1 day is exactly 24 h', every: { value: 1, unit: 'days' as const }, ms: D },
    { name: '2 weeks', every: { value: 2, unit: 'weeks' as const }, ms: 14 * D },
  ])('$name', ({ every: e, ms }) => {
    expect(intervalMs(e)).toBe(ms);
  });
});

describe('occurrences', () => {
  it.each([
    { name: 'first run exactly at start', after: start - 1, next: start },
    { name: 'one second before start', after: start - S, next: start },
    { name: 'exactly at start, the next one is a day later', after: start, next: start + D },
    { name: 'one second after start', after: start + S, next: start + D },
    { name: 'one second before the second run', after: start + D - S, next: start + D },
    { name: 'long before start (year before)', after: start - 365 * D, next: start },
    {
      name: 'after a long suspension: next after now, aligned',
      after: start + 400 * D + 5 * H,
      next: start + 401 * D,
    },
  ])('nextOccurrence: $name', ({ after, next }) => {
    expect(nextOccurrence(daily, after)).toBe(next);
  });

  it.each([
    { name: 'at start is the start', t: start, first: start },
    { name: 'before start is the start', t: start - 3 * D, first: start },
    { name: 'exactly on an occurrence', t: start + 3 * D, first: start + 3 * D },
    { name: 'between occurrences', t: start + 3 * D + 1, first: start + 4 * D },
  ])('firstOccurrenceAtOrAfter: $name', ({ t, first }) => {
    expect(firstOccurrenceAtOrAfter(daily, t)).toBe(first);
  });

  it.each([
    { name: 'before start: none', t: start - 1, latest: null },
    { name: 'at start: start', t: start, latest: start },
    { name: 'several runs missed', t: start + 3 * D + 5 * H, latest: start + 3 * D },
  ])('latestOccurrenceAtOrBefore: $name', ({ t, latest }) => {
    expect(latestOccurrenceAtOrBefore(daily, t)).toBe(latest);
  });

  it.each([
    {
      name: 'window ending at start is empty (occurrences before startAt never run)',
      from: start - 10 * D,
      to: start,
      expected: [],
    },
    { name: 'window [start, start+1ms) holds the start', from: start, to: start + 1, expected: [start] },
    { name: 'to is exclusive', from: start, to: start + D, expected: [start] },
    {
      name: 'three days from before the start',
      from: start - D,
      to: start + 3 * D,
      expected: [start, start + D, start + 2 * D],
    },
    { name: 'empty when from >= to', from: start + 5 * D, to: start + 5 * D, expected: [] },
  ])('occurrencesIn: $name', ({ from, to, expected }) => {
    expect(occurrencesIn(daily, from, to)).toEqual(expected);
  });

  it('crosses a year boundary without drift (every 6 hours from Dec 31 20:00 +08:00)', () => {
    const s = every('2026-12-31T20:00:00+08:00', 6, 'hours');
    const got = occurrencesIn(s, at('2026-12-31T00:00:00Z'), at('2027-01-01T12:00:01Z')).map((t) =>
      new Date(t).toISOString(),
    );
    expect(got).toEqual([
      '2026-12-31T12:00:00.000Z',
      '2026-12-31T18:00:00.000Z',
      '2027-01-01T00:00:00.000Z',
      '2027-01-01T06:00:00.000Z',
      '2027-01-01T12:00:00.000Z',
    ]);
  });

  it('crosses a leap day: weekly from 2028-02-26 lands on 2028-03-04', () => {
    const s = every('2028-02-26T00:00:00Z', 1, 'weeks');
    expect(new Date(nextOccurrence(s, at('2028-02-26T00:00:00Z'))).toISOString()).toBe(
      '2028-03-04T00:00:00.000Z',
    );
  });

  it('keeps a fixed UTC time across a DST change (the interval knows no zone)', () => {
    const s = every('2026-03-07T02:00:00-05:00', 1, 'days'); // New York, the day before DST starts
    expect(new Date(nextOccurrence(s, at('2026-03-08T07:00:00Z'))).toISOString()).toBe(
      '2026-03-09T07:00:00.000Z',
    );
  });

  it('refuses a non-positive interval', () => {
    expect(() => nextOccurrence(every('2026-01-01T00:00:00Z', 0, 'hours'), 0)).toThrow(
      /interval must be positive/,
    );
  });

  it('refuses an invalid startAt', () => {
    expect(() => nextOccurrence(every('tomorrow', 1, 'hours'), 0)).toThrow(ValidationError);
  });
});

const W = DEFAULT_START_WINDOW_MS;
const due = at('2026-05-01T10:00:00Z');

describe('decideMissedRun (window 1 h)', () => {
  it.each([
    { name: 'not yet due: one second before', now: due - S, expected: { action: 'wait' } },
    { name: 'exactly on time', now: due, expected: { action: 'run' } },
    { name: 'within the scheduled second is on time', now: due + 999, expected: { action: 'run' } },
    { name: 'one second late runs late', now: due + S, expected: { action: 'run-late', lateByMs: S } },
    {
      name: 'just inside the start window',
      now: due + W - S,
      expected: { action: 'run-late', lateByMs: W - S },
    },
    {
      name: 'one millisecond inside the window',
      now: due + W - 1,
      expected: { action: 'run-late', lateByMs: W - 1 },
    },
  ])('$name', ({ now, expected }) => {
    expect(decideMissedRun(due, now, W)).toEqual(expected);
  });

  it.each([
    { name: 'exactly at the end of the start window', now: due + W, ago: '1h' },
    { name: 'just outside the start window', now: due + W + S, ago: '1h 1s' },
    { name: 'resume after a long suspension (40 days)', now: due + 40 * D + 3 * H, ago: '40d 3h' },
  ])('skips $name, with the reason', ({ now, ago }) => {
    const decision = decideMissedRun(due, now, W);
    expect(decision).toEqual({
      action: 'skip',
      reason: `missed: due at 2026-05-01T10:00:00Z, ${ago} ago, outside the 1h start window`,
    });
  });

  it('a zero window runs only within the scheduled second', () => {
    expect(decideMissedRun(due, due, 0)).toEqual({ action: 'run' });
    expect(decideMissedRun(due, due + S, 0).action).toBe('skip');
  });

  it('refuses a negative or NaN window', () => {
    expect(() => decideMissedRun(due, due, -1)).toThrow(ValidationError);
    expect(() => decideMissedRun(due, due, Number.NaN)).toThrow(/startWindowMs/);
  });
});

describe('decideOverlap (one backup per instance at a time)', () => {
  it.each([
    { name: 'nothing running, on time', running: false, now: due, expected: { action: 'run' } },
    {
      name: 'nothing running, 10 min late',
      running: false,
      now: due + 10 * MIN,
      expected: { action: 'run-late', lateByMs: 10 * MIN },
    },
    { name: 'previous still running, waits', running: true, now: due, expected: { action: 'wait' } },
    {
      name: 'previous still running, waits just inside the window',
      running: true,
      now: due + W - S,
      expected: { action: 'wait' },
    },
    {
      name: 'previous still running, not due yet, waits',
      running: true,
      now: due - H,
      expected: { action: 'wait' },
    },
    {
      name: 'previous finished 59 min in: runs late',
      running: false,
      now: due + 59 * MIN,
      expected: { action: 'run-late', lateByMs: 59 * MIN },
    },
  ])('$name', ({ running, now, expected }) => {
    expect(decideOverlap(due, now, running, W)).toEqual(expected);
  });

  it('previous still running after the whole window: skipped with the reason', () => {
    expect(decideOverlap(due, due + W, true, W)).toEqual({
      action: 'skip',
      reason: 'previous backup still running: due at 2026-05-01T10:00:00Z, waited the whole 1h start window',
    });
  });

  it('nothing running but the window passed: the missed-run reason', () => {
    const d = decideOverlap(due, due + 2 * H, false, W);
    expect(d.action === 'skip' && d.reason.startsWith('missed:')).toBe(true);
  });

  it('refuses a negative window while waiting too', () => {
    expect(() => decideOverlap(due, due, true, -5)).toThrow(ValidationError);
  });
});

describe('planCatchUp (missed runs are never replayed in a burst)', () => {
  const hourly = every('2026-05-01T00:00:00Z', 1, 'hours');
  const t0 = at('2026-05-01T00:00:00Z');

  it('nothing due yet: no run, no skips, next run unchanged', () => {
    expect(planCatchUp(hourly, t0, t0 - MIN, W)).toEqual({
      due: null,
      skipped: [],
      omitted: 0,
      nextRunAt: t0,
    });
  });

  it('nothing pending before now (already handed out): no run', () => {
    expect(planCatchUp(hourly, t0 + H, t0 + 30 * MIN, W)).toEqual({
      due: null,
      skipped: [],
      omitted: 0,
      nextRunAt: t0 + H,
    });
  });

  it('one occurrence due now runs on time', () => {
    const plan = planCatchUp(hourly, t0, t0, W);
    expect(plan.due).toEqual({ scheduledAt: t0, decision: { action: 'run' } });
    expect(plan.skipped).toEqual([]);
    expect(plan.nextRunAt).toBe(t0 + H);
  });

  it('several runs missed: only the latest runs late, each older one is skipped with a reason', () => {
    const now = t0 + 3 * H + 20 * MIN;
    const plan = planCatchUp(hourly, t0, now, W);
    expect(plan.due).toEqual({
      scheduledAt: t0 + 3 * H,
      decision: { action: 'run-late', lateByMs: 20 * MIN },
    });
    expect(plan.skipped.map((s) => s.scheduledAt)).toEqual([t0, t0 + H, t0 + 2 * H]);
    expect(plan.skipped[0]?.reason).toBe(
      'missed: due at 2026-05-01T00:00:00Z; missed runs are not replayed, only the latest (2026-05-01T03:00:00Z) may run',
    );
    expect(plan.omitted).toBe(0);
    expect(plan.nextRunAt).toBe(t0 + 4 * H);
  });

  it('latest missed is older than the window: it is skipped as well', () => {
    const daysLater = planCatchUp(daily, start, start + 2 * D + 2 * H, W);
    expect(daysLater.due?.decision.action).toBe('skip');
    expect(daysLater.skipped).toHaveLength(2);
  });

  it('resume after a long suspension: skip records are capped, the cap is stated', () => {
    const now = t0 + 30 * D + 10 * MIN;
    const plan = planCatchUp(hourly, t0, now, W, 5);
    expect(plan.due?.decision).toEqual({ action: 'run-late', lateByMs: 10 * MIN });
    expect(plan.skipped).toHaveLength(5);
    expect(plan.omitted).toBe(30 * 24 - 5);
    expect(plan.skipped[4]?.scheduledAt).toBe(t0 + 30 * D - H);
    expect(plan.skipped[4]?.reason).toContain(
      '715 older missed occurrence(s) since 2026-05-01T00:00:00Z not recorded',
    );
    expect(plan.skipped[0]?.reason).not.toContain('not recorded');
  });

  it('uses the default window and cap', () => {
    const plan = planCatchUp(hourly, t0, t0 + 100 * H + 30 * MIN);
    expect(plan.due?.decision.action).toBe('run-late');
    expect(plan.skipped).toHaveLength(50);
    expect(plan.omitted).toBe(50);
  });
});

const scheduleArb = fc.record({
  startAt: fc
    .integer({ min: Date.UTC(2000, 0, 1) / 1000, max: Date.UTC(2090, 0, 1) / 1000 })
    .map((s) => new Date(s * 1000).toISOString().replace('.000Z', 'Z')),
  every: fc.record({
    value: fc.integer({ min: 1, max: 72 }),
    unit: fc.constantFrom('hours' as const, 'days' as const, 'weeks' as const),
  }),
});
const timeArb = fc.integer({ min: Date.UTC(1999, 0, 1), max: Date.UTC(2095, 0, 1) });
const windowArb = fc.integer({ min: 0, max: 400 * D });

describe('schedule properties', () => {
  it('occurrences are strictly increasing, aligned to startAt + k·interval and never before startAt', () => {
    fc.assert(
      fc.property(scheduleArb, timeArb, windowArb, (s, from, span) => {
        const got = occurrencesIn(s, from, from + span);
        const base = parseStartAt(s.startAt);
        const step = intervalMs(s.every);
        got.forEach((t, i) => {
          expect(t).toBeGreaterThanOrEqual(base);
          expect(t).toBeGreaterThanOrEqual(from);
          expect(t).toBeLessThan(from + span);
          expect((t - base) % step).toBe(0);
          if (i > 0) expect(t).toBeGreaterThan(got[i - 1] as number);
        });
      }),
    );
  });

  it('consecutive windows [a,b) and [b,c) yield exactly the occurrences of [a,c)', () => {
    fc.assert(
      fc.property(scheduleArb, timeArb, windowArb, windowArb, (s, a, x, y) => {
        const b = a + x;
        const c = b + y;
        expect([...occurrencesIn(s, a, b), ...occurrencesIn(s, b, c)]).toEqual(occurrencesIn(s, a, c));
      }),
    );
  });

  it('nextOccurrence(t) is the first occurrence of (t, ∞) and nothing lies between', () => {
    fc.assert(
      fc.property(scheduleArb, timeArb, (s, t) => {
        const next = nextOccurrence(s, t);
        expect(next).toBeGreaterThan(t);
        expect(occurrencesIn(s, t + 1, next)).toEqual([]);
        expect(firstOccurrenceAtOrAfter(s, t + 1)).toBe(next);
        const latest = latestOccurrenceAtOrBefore(s, t);
        if (latest !== null) expect(nextOccurrence(s, latest)).toBe(next);
      }),
    );
  });

  it('planCatchUp: at most one run, skipped + run + omitted = every pending occurrence up to now', () => {
    fc.assert(
      fc.property(scheduleArb, timeArb, fc.integer({ min: 0, max: 60 * D }), (s, pendingFrom, gap) => {
        const now = pendingFrom + gap;
        const plan = planCatchUp(s, pendingFrom, now, W, 20);
        const pending = occurrencesIn(s, pendingFrom, now + 1);
        expect(plan.skipped.length + (plan.due === null ? 0 : 1) + plan.omitted).toBe(pending.length);
        if (plan.due !== null) expect(plan.due.scheduledAt).toBe(pending[pending.length - 1]);
        expect(plan.nextRunAt).toBeGreaterThan(now);
      }),
    );
  });
});
