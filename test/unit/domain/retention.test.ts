import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BackupPoint, LongTermRule, Retention } from '../../../lib/domain/model.js';
import {
  describeRetention,
  expireAt,
  latestAvailableByInstance,
  longTermKeep,
  periodStart,
  pointExpiry,
  preview,
  selectExpired,
} from '../../../lib/domain/retention.js';
import { aPoint } from './builders.js';

const H = 3_600_000;
const D = 24 * H;
const at = (iso: string): number => Date.parse(iso);
const iso = (t: number): string => new Date(t).toISOString();

describe('expireAt', () => {
  it.each<{ name: string; completed: string; keep: Retention; zone: string; expected: string }>([
    {
      name: '7 days is exactly 168 h',
      completed: '2024-01-10T02:00:00Z',
      keep: { value: 7, unit: 'days' },
      zone: 'UTC',
      expected: '2024-01-17T02:00:00.000Z',
    },
    {
      name: '2 weeks',
      completed: '2024-01-10T02:00:00Z',
      keep: { value: 2, unit: 'weeks' },
      zone: 'UTC',
      expected: '2024-01-24T02:00:00.000Z',
    },
    {
      name: 'days stay exact across DST (New York, 7 days = 168 h)',
      completed: '2024-03-05T12:00:00Z',
      keep: { value: 7, unit: 'days' },
      zone: 'America/New_York',
      expected: '2024-03-12T12:00:00.000Z',
    },
    {
      name: '31 Jan + 1 month = 29 Feb in a leap year',
      completed: '2024-01-31T10:00:00Z',
      keep: { value: 1, unit: 'months' },
      zone: 'UTC',
      expected: '2024-02-29T10:00:00.000Z',
    },
    {
      name: '31 Jan + 1 month = 28 Feb otherwise',
      completed: '2023-01-31T10:00:00Z',
      keep: { value: 1, unit: 'months' },
      zone: 'UTC',
      expected: '2023-02-28T10:00:00.000Z',
    },
    {
      name: '31 Mar + 1 month = 30 Apr',
      completed: '2024-03-31T00:00:00Z',
      keep: { value: 1, unit: 'months' },
      zone: 'UTC',
      expected: '2024-04-30T00:00:00.000Z',
    },
    {
      name: '15 Dec + 1 month crosses the year',
      completed: '2024-12-15T08:00:00Z',
      keep: { value: 1, unit: 'months' },
      zone: 'UTC',
      expected: '2025-01-15T08:00:00.000Z',
    },
    {
      name: '31 Dec + 2 months = 28 Feb next year',
      completed: '2024-12-31T23:59:59Z',
      keep: { value: 2, unit: 'months' },
      zone: 'UTC',
      expected: '2025-02-28T23:59:59.000Z',
    },
    {
      name: '29 Feb + 1 year = 28 Feb',
      completed: '2024-02-29T12:00:00Z',
      keep: { value: 1, unit: 'years' },
      zone: 'UTC',
      expected: '2025-02-28T12:00:00.000Z',
    },
    {
      name: '29 Feb + 4 years = 29 Feb',
      completed: '2024-02-29T12:00:00Z',
      keep: { value: 4, unit: 'years' },
      zone: 'UTC',
      expected: '2028-02-29T12:00:00.000Z',
    },
    {
      name: '12 months = 1 year',
      completed: '2024-02-29T12:00:00Z',
      keep: { value: 12, unit: 'months' },
      zone: 'UTC',
      expected: '2025-02-28T12:00:00.000Z',
    },
    {
      name: 'months count in the plan zone (Shanghai: 31 Jan local + 1 month = 29 Feb local)',
      completed: '2024-01-30T20:00:00Z',
      keep: { value: 1, unit: 'months' },
      zone: 'Asia/Shanghai',
      expected: '2024-02-28T20:00:00.000Z',
    },
    {
      name: 'same wall time across DST (Berlin, 12:00 CET -> 12:00 CEST)',
      completed: '2024-02-15T11:00:00Z',
      keep: { value: 2, unit: 'months' },
      zone: 'Europe/Berlin',
      expected: '2024-04-15T10:00:00.000Z',
    },
    {
      name: 'wall time inside the spring-forward gap moves past it (New York 02:30 -> 03:30)',
      completed: '2024-02-10T07:30:00Z',
      keep: { value: 1, unit: 'months' },
      zone: 'America/New_York',
      expected: '2024-03-10T07:30:00.000Z',
    },
    {
      name: 'wall time in the fall-back overlap takes the earlier instant (New York 01:30 EDT)',
      completed: '2024-10-03T05:30:00Z',
      keep: { value: 1, unit: 'months' },
      zone: 'America/New_York',
      expected: '2024-11-03T05:30:00.000Z',
    },
    {
      name: 'half-hour DST zone (Lord Howe)',
      completed: '2024-09-06T13:00:00Z',
      keep: { value: 1, unit: 'months' },
      zone: 'Australia/Lord_Howe',
      expected: '2024-10-06T12:30:00.000Z',
    },
  ])('$name', ({ completed, keep, zone, expected }) => {
    expect(iso(expireAt(at(completed), keep, zone))).toBe(expected);
  });

  it('keeps milliseconds', () => {
    expect(
      expireAt(at('2024-01-01T00:00:00.123Z'), { value: 1, unit: 'months' }, 'Europe/Paris') % 1000,
    ).toBe(123);
  });
});

describe('periodStart', () => {
  it.each<{ name: string; t: string; period: 'week' | 'month' | 'year'; zone: string; expected: string }>([
    {
      name: 'week: Wednesday -> Sunday 00:00',
      t: '2024-01-10T15:00:00Z',
      period: 'week',
      zone: 'UTC',
      expected: '2024-01-07T00:00:00.000Z',
    },
    {
      name: 'week: Sunday 00:00 is its own start',
      t: '2024-01-07T00:00:00Z',
      period: 'week',
      zone: 'UTC',
      expected: '2024-01-07T00:00:00.000Z',
    },
    {
      name: 'week: Saturday 23:59:59 belongs to the week before',
      t: '2024-01-06T23:59:59Z',
      period: 'week',
      zone: 'UTC',
      expected: '2023-12-31T00:00:00.000Z',
    },
    {
      name: 'week across the year boundary',
      t: '2026-01-01T09:00:00Z',
      period: 'week',
      zone: 'UTC',
      expected: '2025-12-28T00:00:00.000Z',
    },
    {
      name: 'week in the plan zone (Shanghai Sunday 01:00 = UTC Saturday)',
      t: '2024-01-06T17:00:00Z',
      period: 'week',
      zone: 'Asia/Shanghai',
      expected: '2024-01-06T16:00:00.000Z',
    },
    {
      name: 'week containing a DST start (New York)',
      t: '2024-03-12T12:00:00Z',
      period: 'week',
      zone: 'America/New_York',
      expected: '2024-03-10T05:00:00.000Z',
    },
    {
      name: 'week whose Sunday midnight does not exist (Santiago 2023-09-03)',
      t: '2023-09-05T12:00:00Z',
      period: 'week',
      zone: 'America/Santiago',
      expected: '2023-09-03T04:00:00.000Z',
    },
    {
      name: 'month in the plan zone (New York 29 Feb 22:00)',
      t: '2024-03-01T03:00:00Z',
      period: 'month',
      zone: 'America/New_York',
      expected: '2024-02-01T05:00:00.000Z',
    },
    {
      name: 'month after DST (Berlin April starts at CEST)',
      t: '2024-04-20T00:00:00Z',
      period: 'month',
      zone: 'Europe/Berlin',
      expected: '2024-03-31T22:00:00.000Z',
    },
    {
      name: 'year in the plan zone (Tokyo 1 Jan 01:00)',
      t: '2024-12-31T16:00:00Z',
      period: 'year',
      zone: 'Asia/Tokyo',
      expected: '2024-12-31T15:00:00.000Z',
    },
    {
      name: 'year: last second of the year',
      t: '2024-12-31T23:59:59Z',
      period: 'year',
      zone: 'UTC',
      expected: '2024-01-01T00:00:00.000Z',
    },
  ])('$name', ({ t, period, zone, expected }) => {
    expect(iso(periodStart(at(t), period, zone))).toBe(expected);
  });
});

describe('longTermKeep (first backup of each period, longest keep wins)', () => {
  const week4: LongTermRule = { period: 'week', keep: { value: 4, unit: 'weeks' } };
  const month12: LongTermRule = { period: 'month', keep: { value: 12, unit: 'months' } };
  const week100: LongTermRule = { period: 'week', keep: { value: 100, unit: 'weeks' } };
  const year3: LongTermRule = { period: 'year', keep: { value: 3, unit: 'years' } };
  const wed = at('2024-01-10T02:00:00Z');

  it.each<{
    name: string;
    completed: number;
    earlier: number[];
    rules: LongTermRule[];
    zone?: string;
    expected: { until: string; rule: string } | null;
  }>([
    { name: 'no rules: nothing kept', completed: wed, earlier: [], rules: [], expected: null },
    {
      name: 'first backup of the week is kept',
      completed: wed,
      earlier: [],
      rules: [week4],
      expected: { until: '2024-02-07T02:00:00.000Z', rule: 'week' },
    },
    {
      name: 'the first backup being the only earlier one in the previous week still counts',
      completed: wed,
      earlier: [at('2024-01-06T23:00:00Z')],
      rules: [week4],
      expected: { until: '2024-02-07T02:00:00.000Z', rule: 'week' },
    },
    {
      name: 'second backup of the week is not kept',
      completed: wed,
      earlier: [at('2024-01-07T00:00:00Z')],
      rules: [week4],
      expected: null,
    },
    {
      name: 'a later backup does not make this one second',
      completed: wed,
      earlier: [wed + D],
      rules: [week4],
      expected: { until: '2024-02-07T02:00:00.000Z', rule: 'week' },
    },
    {
      name: 'a backup at the same instant is a tie: both kept',
      completed: wed,
      earlier: [wed],
      rules: [week4],
      expected: { until: '2024-02-07T02:00:00.000Z', rule: 'week' },
    },
    {
      name: 'week and month both apply: the longer month keep wins',
      completed: wed,
      earlier: [],
      rules: [week4, month12],
      expected: { until: '2025-01-10T02:00:00.000Z', rule: 'month' },
    },
    {
      name: 'a longer week keep beats a shorter month keep',
      completed: wed,
      earlier: [],
      rules: [month12, week100],
      expected: { until: '2025-12-10T02:00:00.000Z', rule: 'week' },
    },
    {
      name: 'a shorter rule listed later does not shorten the keep',
      completed: wed,
      earlier: [],
      rules: [month12, week4],
      expected: { until: '2025-01-10T02:00:00.000Z', rule: 'month' },
    },
    {
      name: 'first of the week but not of the month: the week rule alone',
      completed: wed,
      earlier: [at('2024-01-02T00:00:00Z')],
      rules: [week4, month12],
      expected: { until: '2024-02-07T02:00:00.000Z', rule: 'week' },
    },
    {
      name: 'first of the year across the year boundary',
      completed: at('2025-01-01T00:00:00Z'),
      earlier: [at('2024-12-31T23:59:59Z')],
      rules: [year3],
      expected: { until: '2028-01-01T00:00:00.000Z', rule: 'year' },
    },
    {
      name: 'the week is in the plan zone: Shanghai Sunday 01:00 is first of its week',
      completed: at('2024-01-06T17:00:00Z'),
      earlier: [at('2024-01-06T10:00:00Z')],
      rules: [week4],
      zone: 'Asia/Shanghai',
      expected: { until: '2024-02-03T17:00:00.000Z', rule: 'week' },
    },
    {
      name: 'the same two backups in UTC share a week',
      completed: at('2024-01-06T17:00:00Z'),
      earlier: [at('2024-01-06T10:00:00Z')],
      rules: [week4],
      zone: 'UTC',
      expected: null,
    },
  ])('$name', ({ completed, earlier, rules, zone, expected }) => {
    const got = longTermKeep(completed, earlier, rules, zone ?? 'UTC');
    expect(got === null ? null : { until: iso(got.until), rule: got.rule }).toEqual(expected);
  });

  it('pointExpiry: effective expiry is the later of retention and long-term', () => {
    const policy = { retention: { value: 7, unit: 'days' as const }, longTerm: [week4], timeZone: 'UTC' };
    expect(pointExpiry(wed, [], policy)).toEqual({
      expireAt: wed + 7 * D,
      longTermUntil: wed + 28 * D,
      longTermRule: 'week',
      effectiveExpireAt: wed + 28 * D,
    });
    expect(pointExpiry(wed, [wed - H], policy)).toEqual({
      expireAt: wed + 7 * D,
      longTermUntil: null,
      longTermRule: null,
      effectiveExpireAt: wed + 7 * D,
    });
    // A long-term keep shorter than retention never shortens the point's life.
    const short = { ...policy, retention: { value: 1, unit: 'years' as const } };
    expect(pointExpiry(wed, [], short).effectiveExpireAt).toBe(at('2025-01-10T02:00:00Z'));
  });
});

describe('selectExpired', () => {
  const now = at('2024-06-01T00:00:00Z');
  const old = (id: string, daysAgo: number, instance = 'i-aaaa1111') =>
    aPoint(id)
      .of(instance)
      .completedAt(now - (daysAgo + 7) * D)
      .expiring(now - daysAgo * D);

  it.each<{ name: string; points: BackupPoint[]; keepLatest?: boolean; selected: string[] }>([
    {
      name: 'expired point that is not the newest: deleted',
      points: [old('p1', 3).build(), old('p2', 1).build()],
      selected: ['p1'],
    },
    {
      name: 'expiry exactly now counts as expired',
      points: [
        aPoint('p1')
          .completedAt(now - 8 * D)
          .expiring(now)
          .build(),
        old('p2', -1).build(),
      ],
      selected: ['p1'],
    },
    {
      name: 'expiry one millisecond ahead is kept',
      points: [
        aPoint('p1')
          .completedAt(now - 8 * D)
          .expiring(now + 1)
          .build(),
        old('p2', -1).build(),
      ],
      selected: [],
    },
    {
      name: 'long-term keep beyond now keeps an expired point',
      points: [
        old('p1', 3)
          .keptLongTerm('week', now + D)
          .build(),
        old('p2', -1).build(),
      ],
      selected: [],
    },
    {
      name: 'long-term keep that ended: deleted',
      points: [
        old('p1', 3)
          .keptLongTerm('month', now - D)
          .build(),
        old('p2', -1).build(),
      ],
      selected: ['p1'],
    },
    {
      name: 'not ours: never deleted',
      points: [old('p1', 3).notOurs().build(), old('p2', -1).build()],
      selected: [],
    },
    {
      name: 'in use by a mount: not deleted',
      points: [old('p1', 3).usedBy('job-mount-1').build(), old('p2', -1).build()],
      selected: [],
    },
    {
      name: 'the newest good backup survives with keepLatest',
      points: [old('p1', 3).build(), old('p2', 2).build()],
      selected: ['p1'],
    },
    {
      name: 'keepLatest off: even the newest expires',
      points: [old('p1', 3).build(), old('p2', 2).build()],
      keepLatest: false,
      selected: ['p1', 'p2'],
    },
    {
      name: 'newest is a failed delete: the newest AVAILABLE one is protected',
      points: [old('p1', 3).build(), old('p2', 2).status('DELETE_FAILED').build()],
      selected: ['p2'],
    },
    {
      name: 'DELETING and DELETE_FAILED are retried',
      points: [
        old('p1', 5).status('DELETING').build(),
        old('p2', 4).status('DELETE_FAILED').build(),
        old('p3', -1).build(),
      ],
      selected: ['p1', 'p2'],
    },
    {
      name: 'CREATING and DELETED are never picked',
      points: [
        old('p1', 5).status('CREATING').build(),
        old('p2', 4).status('DELETED').build(),
        old('p3', -1).build(),
      ],
      selected: [],
    },
    {
      name: 'keepLatest is per instance',
      points: [
        old('a1', 3, 'i-aaaa1111').build(),
        old('b1', 3, 'i-bbbb2222').build(),
        old('b2', 2, 'i-bbbb2222').build(),
      ],
      selected: ['b1'],
    },
    {
      name: 'oldest expiry first',
      points: [old('p2', 1).build(), old('p1', 9).build(), old('p3', 5).build(), old('p4', -1).build()],
      selected: ['p1', 'p3', 'p2'],
    },
    {
      name: 'same expiry: ordered by id',
      points: [old('p2', 3).build(), old('p1', 3).build(), old('p3', 4).build(), old('p9', -1).build()],
      selected: ['p3', 'p1', 'p2'],
    },
    {
      name: 'same completion: the larger id counts as newest',
      points: [
        aPoint('p1')
          .completedAt(now - 9 * D)
          .expiring(now - D)
          .build(),
        aPoint('p2')
          .completedAt(now - 9 * D)
          .expiring(now - D)
          .build(),
      ],
      selected: ['p1'],
    },
  ])('$name', ({ points, keepLatest, selected }) => {
    const got = selectExpired(points, now, { keepLatest: keepLatest ?? true });
    expect(got.map((e) => e.point.id)).toEqual(selected);
  });

  it('the same point listed twice is returned twice, not lost or crashed on', () => {
    const p = old('p1', 3).build();
    const got = selectExpired([p, { ...p }, old('p2', -1).build()], now, { keepLatest: true });
    expect(got.map((e) => e.point.id)).toEqual(['p1', 'p1']);
  });

  it('keepLatest may be decided per instance (the plan of each instance)', () => {
    const points = [old('a1', 3, 'i-aaaa1111').build(), old('b1', 3, 'i-bbbb2222').build()];
    const got = selectExpired(points, now, { keepLatest: (instanceId) => instanceId === 'i-aaaa1111' });
    expect(got.map((e) => e.point.id)).toEqual(['b1']);
  });

  it('every pick has a reason naming the rule and the instant', () => {
    const points = [
      old('p1', 3).build(),
      old('p2', 2)
        .keptLongTerm('month', now - 2 * D)
        .build(),
      old('p3', 1).status('DELETE_FAILED').build(),
    ];
    const reasons = selectExpired(points, now, { keepLatest: false }).map((e) => e.reason);
    expect(reasons).toEqual([
      'retention ended at 2024-05-29T00:00:00Z',
      'long-term month keep ended at 2024-05-30T00:00:00Z',
      'retention ended at 2024-05-31T00:00:00Z (retrying, point is DELETE_FAILED)',
    ]);
  });

  it('latestAvailableByInstance ignores points that are not AVAILABLE', () => {
    const latest = latestAvailableByInstance([old('p1', 3).build(), old('p2', 1).status('CREATING').build()]);
    expect(latest.get('i-aaaa1111')?.id).toBe('p1');
  });
});

describe('preview', () => {
  const policy = {
    retention: { value: 7, unit: 'days' as const },
    longTerm: [{ period: 'week' as const, keep: { value: 4, unit: 'weeks' as const } }],
    timeZone: 'UTC',
    keepLatest: true,
  };
  const now = at('2024-01-31T00:00:00Z');
  // Daily backups at 02:00 from Monday 1 Jan to Tuesday 30 Jan 2024. Their stored expiry is
  // irrelevant: the preview recomputes it from the policy.
  const daily = Array.from({ length: 30 }, (_, i) =>
    aPoint(`d${String(i + 1).padStart(2, '0')}`)
      .completedAt(at('2024-01-01T02:00:00Z') + i * D)
      .build(),
  );

  it('keeps retention, keeps the first of each week for 4 weeks, deletes the rest', () => {
    const rows = preview(policy, daily, now);
    const kept = rows.filter((r) => r.decision === 'keep').map((r) => r.pointId);
    expect(kept).toEqual(['d07', 'd14', 'd21', 'd24', 'd25', 'd26', 'd27', 'd28', 'd29', 'd30']);
    const byId = new Map(rows.map((r) => [r.pointId, r]));
    expect(byId.get('d01')).toEqual({
      pointId: 'd01',
      decision: 'delete',
      reason: 'long-term rule: first backup of its week ended at 2024-01-29T02:00:00Z',
      expireAt: at('2024-01-29T02:00:00Z'),
    });
    expect(byId.get('d02')?.reason).toBe('retention 7 days ended at 2024-01-09T02:00:00Z');
    expect(byId.get('d07')?.reason).toBe(
      'long-term rule: first backup of its week keeps it until 2024-02-04T02:00:00Z',
    );
    expect(byId.get('d30')?.reason).toBe('retention 7 days keeps it until 2024-02-06T02:00:00Z');
  });

  it('explains every point it will not delete', () => {
    const points = [
      aPoint('foreign').completedAt(at('2023-01-01T00:00:00Z')).notOurs().build(),
      aPoint('mounted').completedAt(at('2023-01-02T00:00:00Z')).usedBy('job-m1').build(),
      aPoint('gone').completedAt(at('2023-01-03T00:00:00Z')).status('DELETED').build(),
      aPoint('making').completedAt(at('2023-01-04T00:00:00Z')).status('CREATING').build(),
      aPoint('only').of('i-bbbb2222').completedAt(at('2023-01-01T00:00:00Z')).build(),
    ];
    const rows = preview({ ...policy, longTerm: [] }, points, now);
    expect(rows.map((r) => [r.pointId, r.decision, r.reason])).toEqual([
      ['foreign', 'keep', 'not created by ecs-backup (no managed-by tag): never deleted'],
      ['mounted', 'keep', 'expired but in use by job-m1'],
      ['gone', 'delete', 'already deleted'],
      ['making', 'keep', 'still being created'],
      ['only', 'keep', 'expired but the newest good backup of the instance (keepLatest)'],
    ]);
  });

  it('a plan that opts out of keepLatest lets the last backup go', () => {
    const rows = preview({ ...policy, longTerm: [], keepLatest: false }, [daily[0] as BackupPoint], now);
    expect(rows[0]?.decision).toBe('delete');
  });

  it('describeRetention uses the singular for one unit', () => {
    expect(describeRetention({ value: 1, unit: 'months' })).toBe('1 month');
    expect(describeRetention({ value: 3, unit: 'years' })).toBe('3 years');
  });
});

const T0 = at('2024-01-01T00:00:00Z');
const pointsArb = fc
  .array(
    fc.record({
      instance: fc.constantFrom('i-aaaa1111', 'i-bbbb2222', 'i-cccc3333'),
      completed: fc.integer({ min: 0, max: 200 }).map((h) => T0 + h * H),
      life: fc.integer({ min: 0, max: 400 }).map((h) => h * H),
      longTerm: fc.option(fc.integer({ min: 0, max: 800 }).map((h) => h * H)),
      status: fc.constantFrom<BackupPoint['status']>(
        'AVAILABLE',
        'AVAILABLE',
        'AVAILABLE',
        'CREATING',
        'DELETING',
        'DELETED',
        'DELETE_FAILED',
      ),
      ours: fc.integer({ min: 0, max: 4 }).map((n) => n > 0),
      inUse: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
    }),
    { maxLength: 25 },
  )
  .map((rows) =>
    rows.map((r, i) => {
      const b = aPoint(`p${i}`)
        .of(r.instance)
        .completedAt(r.completed)
        .expiring(r.completed + r.life)
        .status(r.status);
      if (r.longTerm !== null) b.keptLongTerm('week', r.completed + r.longTerm);
      if (!r.ours) b.notOurs();
      if (r.inUse) b.usedBy('job-x');
      return b.build();
    }),
  );
const nowArb = fc.integer({ min: 0, max: 1000 }).map((h) => T0 + h * H);

describe('retention properties', () => {
  it('never selects a point whose effective expiry is in the future, nor one that is not ours', () => {
    fc.assert(
      fc.property(pointsArb, nowArb, fc.boolean(), (points, now, keepLatest) => {
        for (const { point } of selectExpired(points, now, { keepLatest })) {
          expect(point.effectiveExpireAt).toBeLessThanOrEqual(now);
          expect(point.ours).toBe(true);
        }
      }),
    );
  });

  it('never selects the newest good point of an instance when keepLatest is on', () => {
    fc.assert(
      fc.property(pointsArb, nowArb, (points, now) => {
        const selected = new Set(selectExpired(points, now, { keepLatest: true }).map((e) => e.point.id));
        for (const instanceId of new Set(points.map((p) => p.instanceId))) {
          const good = points.filter((p) => p.instanceId === instanceId && p.status === 'AVAILABLE');
          if (good.length === 0) continue;
          const newest = good.reduce((a, b) =>
            b.completedAt > a.completedAt || (b.completedAt === a.completedAt && b.id > a.id) ? b : a,
          );
          expect(selected.has(newest.id)).toBe(false);
          // ... and some good backup of the instance always survives.
          expect(good.some((p) => !selected.has(p.id))).toBe(true);
        }
      }),
    );
  });

  it('the result does not depend on input order', () => {
    fc.assert(
      fc.property(
        pointsArb.chain((points) =>
          fc.tuple(
            fc.constant(points),
            fc.shuffledSubarray(points, { minLength: points.length, maxLength: points.length }),
          ),
        ),
        nowArb,
        fc.boolean(),
        ([points, shuffled], now, keepLatest) => {
          const a = selectExpired(points, now, { keepLatest }).map((e) => [e.point.id, e.reason]);
          const b = selectExpired(shuffled, now, { keepLatest }).map((e) => [e.point.id, e.reason]);
          expect(b).toEqual(a);
        },
      ),
    );
  });

  it('preview deletes exactly what selectExpired would pick under the same policy', () => {
    const policy = {
      retention: { value: 2, unit: 'days' as const },
      longTerm: [{ period: 'week' as const, keep: { value: 2, unit: 'weeks' as const } }],
      timeZone: 'Europe/Berlin',
      keepLatest: true,
    };
    fc.assert(
      fc.property(pointsArb, nowArb, (points, now) => {
        const rows = preview(policy, points, now);
        expect(rows.map((r) => r.pointId)).toEqual(points.map((p) => p.id));
        for (const r of rows) {
          const p = points.find((x) => x.id === r.pointId) as BackupPoint;
          if (r.decision === 'delete' && p.status !== 'DELETED') {
            expect(p.ours).toBe(true);
            expect(r.expireAt).toBeLessThanOrEqual(now);
          }
          expect(r.reason.length).toBeGreaterThan(0);
        }
      }),
    );
  });

  it('calendar expiry is monotonic and never earlier than the completion (any zone, any month count)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: at('2000-01-01T00:00:00Z'), max: at('2080-01-01T00:00:00Z') }),
        fc.integer({ min: 1, max: 36 }),
        fc.constantFrom(
          'UTC',
          'Asia/Shanghai',
          'America/New_York',
          'Europe/Berlin',
          'Australia/Lord_Howe',
          'America/Santiago',
        ),
        (t, months, zone) => {
          const e1 = expireAt(t, { value: months, unit: 'months' }, zone);
          const e2 = expireAt(t, { value: months + 1, unit: 'months' }, zone);
          expect(e1).toBeGreaterThan(t);
          expect(e2).toBeGreaterThan(e1);
          expect(periodStart(t, 'week', zone)).toBeLessThanOrEqual(t);
          expect(t - periodStart(t, 'week', zone)).toBeLessThan(7 * D + 2 * H);
        },
      ),
    );
  });
});
