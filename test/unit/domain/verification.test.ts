import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/domain/errors.js';
import type { BackupPoint } from '../../../lib/domain/model.js';
import { applyPlanPatch, newPlan, parsePlanPatch, parsePlanSpec } from '../../../lib/domain/plan.js';
import { preview, selectExpired } from '../../../lib/domain/retention.js';
import {
  countBackup,
  helperRefusal,
  newestVerifiedByInstance,
  verdictFromGuest,
  verificationDue,
  type PointVerification,
  type VerifyCounter,
} from '../../../lib/domain/verification.js';
import { aPoint } from './builders.js';

const H = 3_600_000;
const RETENTION = { value: 7, unit: 'days' } as const;

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err.issues;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

function verified(p: BackupPoint, status: PointVerification['status']): BackupPoint {
  return {
    ...p,
    verification: { status, at: p.completedAt + H, reason: null, durationSeconds: 60, jobId: `v-${p.id}` },
  };
}

describe('the plan field verify', () => {
  it('is kept as written, and dropped by a patch of null', () => {
    const spec = {
      retention: RETENTION,
      verify: { every: 3, helperInstanceId: 'i-helper01', script: false },
    };
    expect(parsePlanSpec(spec).verify).toEqual({ every: 3, helperInstanceId: 'i-helper01', script: false });
    const plan = newPlan(
      { ...spec, instanceId: 'i-source01', disks: 'all' },
      { next: (p) => `${p}1` },
      0,
      () => 0.5,
    );
    expect(plan.verify?.every).toBe(3);
    expect(applyPlanPatch(plan, parsePlanPatch({ verify: null }), 1).verify).toBeUndefined();
    expect(applyPlanPatch(plan, parsePlanPatch({ verify: { every: 5 } }), 1).verify).toEqual({ every: 5 });
  });

  it.each([
    ['zero', { every: 0 }, 'verify.every', 'must be at least 1'],
    ['over 100', { every: 101 }, 'verify.every', 'must be at most 100'],
    ['a fraction', { every: 1.5 }, 'verify.every', 'must be a whole number'],
    [
      'a helper that is not an instance id',
      { every: 1, helperInstanceId: 'web-1' },
      'verify.helperInstanceId',
      'ECS instance id',
    ],
    ['an unknown field', { every: 1, often: true }, 'verify.often', ''],
  ])('refuses %s, naming the field', (_name, verify, path, message) => {
    const issues = issuesOf(() => parsePlanSpec({ retention: RETENTION, verify }));
    expect(issues.map((i) => i.path)).toContain(path);
    expect(issues.find((i) => i.path === path)?.message).toContain(message);
  });
});

describe('counting backups toward verify.every', () => {
  it.each([
    ['the first backup with every 1', 1, 1, true],
    ['the first backup with every 3', 1, 3, false],
    ['the third backup with every 3', 3, 3, true],
    ['the fourth backup with every 3', 4, 3, false],
    ['the sixth backup with every 3', 6, 3, true],
    ['nothing counted yet', 0, 1, false],
  ])('%s', (_name, count, every, due) => {
    expect(verificationDue(count, every)).toBe(due);
  });

  it('counts a point once, however often its record step runs', () => {
    const first = countBackup(undefined, 'bp-1');
    expect(first).toEqual({ counter: { count: 1, lastPointId: 'bp-1' }, changed: true });
    const again = countBackup(first.counter, 'bp-1');
    expect(again).toEqual({ counter: first.counter, changed: false });
    expect(countBackup(first.counter, 'bp-2').counter).toEqual({ count: 2, lastPointId: 'bp-2' });
  });

  it('verifies exactly the multiples of N, with each record step run one to three times', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 40 }),
        (every, runs) => {
          let counter: VerifyCounter | undefined;
          const verifiedBackups = new Set<number>();
          runs.forEach((times, i) => {
            for (let r = 0; r < times; r += 1) {
              counter = countBackup(counter, `bp-${i}`).counter;
              if (verificationDue(counter.count, every)) verifiedBackups.add(i);
            }
          });
          const expected = runs.map((_, i) => i).filter((i) => (i + 1) % every === 0);
          expect([...verifiedBackups].sort((a, b) => a - b)).toEqual(expected);
        },
      ),
    );
  });
});

describe('choosing the helper', () => {
  const running = { instanceId: 'i-helper01', zoneId: 'cn-a', status: 'Running', osType: 'linux' };
  it.each([
    ['a running Linux instance in the zone', running, null],
    ['an instance in another zone', { ...running, zoneId: 'cn-b' }, 'is in zone cn-b'],
    ['a stopped instance', { ...running, status: 'Stopped' }, 'is Stopped, not Running'],
    ['a Windows instance', { ...running, osType: 'windows' }, 'runs windows'],
    ['no instance', undefined, 'was not found'],
  ])('%s', (_name, helper, refusal) => {
    const said = helperRefusal(helper, { instanceId: 'i-helper01', zoneId: 'cn-a', chosen: true });
    if (refusal === null) expect(said).toBeNull();
    else expect(said).toContain(refusal);
  });

  it('tells how to choose a helper when the instance itself cannot be one', () => {
    const said = helperRefusal(
      { instanceId: 'i-source01', zoneId: 'cn-a', status: 'Stopped', osType: 'linux' },
      { instanceId: 'i-source01', zoneId: 'cn-a', chosen: false },
    );
    expect(said).toContain('verify.helperInstanceId');
  });
});

describe('the verdict of the guest script', () => {
  it.each([
    ['passed', 'Success', { verify_result: 'passed', verify_reason: '2 disks' }, null, 'passed', '2 disks'],
    [
      'fsck errors',
      'Failed',
      { verify_result: 'failed', verify_reason: 'fsck exit 4' },
      'exit 1',
      'failed',
      'fsck exit 4',
    ],
    [
      'a timeout without a result',
      'Timeout',
      {},
      'the command execution has been timeout',
      'failed',
      'timeout',
    ],
    ['success without a result', 'Success', {}, null, 'failed', 'without a result'],
  ] as const)('%s', (_name, status, said, errorInfo, want, reason) => {
    const v = verdictFromGuest(status, said, errorInfo);
    expect(v.status).toBe(want);
    expect(v.reason ?? '').toContain(reason);
  });
});

describe('retention keeps the newest verified backup', () => {
  const old = aPoint('p1')
    .completedAt(0)
    .expiring(10 * H)
    .build();
  const newer = aPoint('p2')
    .completedAt(H)
    .expiring(10 * H)
    .build();
  const newest = aPoint('p3')
    .completedAt(2 * H)
    .expiring(100 * H)
    .build();

  it('keeps the newest passed point of an instance whose plan verifies, though it expired', () => {
    const points = [verified(old, 'passed'), verified(newer, 'failed'), newest];
    const chosen = selectExpired(points, 20 * H, { keepLatest: true, keepVerified: () => true });
    expect(chosen.map((c) => c.point.id)).toEqual(['p2']);
  });

  it('the preview keeps it and says why', () => {
    const points = [verified(old, 'passed'), verified(newer, 'failed'), newest];
    const policy = {
      retention: { value: 1, unit: 'days' as const },
      longTerm: [],
      timeZone: 'UTC',
      keepLatest: true,
    };
    const rows = preview({ ...policy, keepVerified: true }, points, 30 * 24 * H);
    expect(rows.map((r) => [r.pointId, r.decision, r.reason])).toEqual([
      ['p1', 'keep', 'expired but the newest verified backup of the instance (verify)'],
      ['p2', 'delete', expect.stringContaining('retention 1 day')],
      ['p3', 'keep', 'expired but the newest good backup of the instance (keepLatest)'],
    ]);
    expect(preview(policy, points, 30 * 24 * H).find((r) => r.pointId === 'p1')?.decision).toBe('delete');
  });

  it('lets it go when the plan does not verify', () => {
    const points = [verified(old, 'passed'), verified(newer, 'failed'), newest];
    const chosen = selectExpired(points, 20 * H, { keepLatest: true });
    expect(chosen.map((c) => c.point.id)).toEqual(['p1', 'p2']);
  });

  it('never selects the newest passed point of a verifying instance (property)', () => {
    const arb = fc.array(
      fc.record({
        instance: fc.constantFrom('i-aaaa1111', 'i-bbbb2222'),
        completed: fc.integer({ min: 0, max: 100 }),
        life: fc.integer({ min: 0, max: 200 }),
        verdict: fc.constantFrom('passed', 'failed', 'none'),
        status: fc.constantFrom<BackupPoint['status']>('AVAILABLE', 'AVAILABLE', 'DELETE_FAILED'),
      }),
      { maxLength: 20 },
    );
    fc.assert(
      fc.property(arb, fc.integer({ min: 0, max: 400 }), (rows, now) => {
        const points = rows.map((r, i) => {
          const p = {
            ...aPoint(`p${i}`)
              .of(r.instance)
              .completedAt(r.completed * H)
              .expiring((r.completed + r.life) * H)
              .build(),
            status: r.status,
          };
          return r.verdict === 'none' ? p : verified(p, r.verdict as 'passed' | 'failed');
        });
        const chosen = new Set(
          selectExpired(points, now * H, { keepLatest: false, keepVerified: () => true }).map(
            (c) => c.point.id,
          ),
        );
        for (const p of newestVerifiedByInstance(points).values()) expect(chosen.has(p.id)).toBe(false);
      }),
    );
  });
});
