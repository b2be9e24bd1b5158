import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dailyPlan } from './fixtures.js';
import { startHarness, type CallResult, type Harness } from './harness.js';

const I = 'i-verify0001';
const SAME_ZONE = 'i-verify0002';
const OTHER_ZONE = 'i-verify0003';
const WIN = 'i-verify0004';

let h: Harness;

const disk = (n: string) => [{ diskId: `d-verify${n}`, type: 'system' as const, category: 'cloud_essd' }];

beforeAll(async () => {
  h = await startHarness({
    seed: {
      instances: [
        { instanceId: I, zoneId: 'cn-hangzhou-h', disks: disk('0001') },
        { instanceId: SAME_ZONE, zoneId: 'cn-hangzhou-h', disks: disk('0002') },
        { instanceId: OTHER_ZONE, zoneId: 'cn-hangzhou-k', disks: disk('0003') },
        { instanceId: WIN, zoneId: 'cn-hangzhou-h', osType: 'windows', disks: disk('0004') },
      ],
    },
  });
});
afterAll(async () => h?.close());

function errors(r: CallResult): { path: string; message: string }[] {
  return r.body.errors as { path: string; message: string }[];
}

/** Refused with a 400 problem naming exactly `paths`, and nothing stored changed. */
async function refused(method: string, path: string, body: unknown, paths: string[]): Promise<CallResult> {
  const before = h.dump();
  const r = await h.call(method, `/api/v1${path}`, { body });
  expect(r.status).toBe(400);
  expect(errors(r).map((e) => e.path)).toEqual(paths);
  expect(h.dump()).toEqual(before);
  return r;
}

const protect = (instanceId: string, verify: unknown) => ({
  instanceId,
  disks: 'all',
  plan: { ...dailyPlan, verify },
});

describe('plan restore tests: bad input names the field and changes nothing', () => {
  it.each([
    ['every: 0', { every: 0 }, 'plan.verify.every', /at least 1/],
    ['every over 100', { every: 101 }, 'plan.verify.every', /at most 100/],
    ['an unknown field', { every: 1, daily: true }, 'plan.verify.daily', /./],
  ])('%s', async (_name, verify, path, message) => {
    const r = await refused('POST', '/protected-instances', protect(I, verify), [path]);
    expect(errors(r)[0]!.message).toMatch(message);
  });

  it('a helper in another zone', async () => {
    const r = await refused(
      'POST',
      '/protected-instances',
      protect(I, { every: 1, helperInstanceId: OTHER_ZONE }),
      ['plan.verify.helperInstanceId'],
    );
    expect(errors(r)[0]!.message).toMatch(/is in zone cn-hangzhou-k.*same zone/);
  });

  it('a helper that does not exist', async () => {
    const r = await refused(
      'POST',
      '/protected-instances',
      protect(I, { every: 1, helperInstanceId: 'i-verify9999' }),
      ['plan.verify.helperInstanceId'],
    );
    expect(errors(r)[0]!.message).toMatch(/was not found/);
  });

  it('a Windows instance', async () => {
    const r = await refused('POST', '/protected-instances', protect(WIN, { every: 1 }), ['plan.verify']);
    expect(errors(r)[0]!.message).toMatch(/only Linux backups can be verified/);
  });
});

describe('plan restore tests: stored, shown, changed', () => {
  it('a plan keeps verify; PATCH changes it, refuses a helper elsewhere and removes it with null', async () => {
    const created = await h.call('POST', '/api/v1/protected-instances', {
      body: protect(I, { every: 2, helperInstanceId: SAME_ZONE }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const plan = created.body.plan as { id: string; verify: unknown };
    expect(plan.verify).toEqual({ every: 2, helperInstanceId: SAME_ZONE });

    await refused('PATCH', `/plans/${plan.id}`, { verify: { every: 1, helperInstanceId: OTHER_ZONE } }, [
      'verify.helperInstanceId',
    ]);
    await refused('PATCH', `/plans/${plan.id}`, { verify: { every: 0 } }, ['verify.every']);
    const changed = await h.call('PATCH', `/api/v1/plans/${plan.id}`, { body: { verify: { every: 5 } } });
    expect(changed.status).toBe(200);
    expect(changed.body.verify).toEqual({ every: 5 });
    const removed = await h.call('PATCH', `/api/v1/plans/${plan.id}`, { body: { verify: null } });
    expect(removed.body.verify).toBeNull();
  });
});
