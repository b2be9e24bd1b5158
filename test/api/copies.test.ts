import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dailyPlan } from './fixtures.js';
import { startHarness, type CallResult, type Harness } from './harness.js';

const I = 'i-copies0001';
const ONE_MONTH = { value: 1, unit: 'months' };

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    seed: {
      instances: [
        { instanceId: I, disks: [{ diskId: 'd-copies0001', type: 'system', category: 'cloud_essd' }] },
      ],
    },
    env: { COPY_REGIONS: 'cn-hangzhou,cn-shanghai,cn-beijing,cn-shenzhen,ap-southeast-1' },
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
  expect(r.headers['content-type']).toBe('application/problem+json');
  expect(errors(r).map((e) => e.path)).toEqual(paths);
  expect(h.dump()).toEqual(before);
  return r;
}

const protect = (copies: unknown) => ({ instanceId: I, disks: 'all', plan: { ...dailyPlan, copies } });

describe('plan copies to other regions: bad input names the field and changes nothing', () => {
  it('an unknown region', async () => {
    const r = await refused(
      'POST',
      '/protected-instances',
      protect([{ regionId: 'cn-nowhere', retention: ONE_MONTH }]),
      ['plan.copies[0].regionId'],
    );
    expect(errors(r)[0]!.message).toMatch(/unknown region cn-nowhere/);
  });

  it("the plan's own region", async () => {
    const r = await refused(
      'POST',
      '/protected-instances',
      protect([
        { regionId: 'cn-shanghai', retention: ONE_MONTH },
        { regionId: 'cn-hangzhou', retention: ONE_MONTH },
      ]),
      ['plan.copies[1].regionId'],
    );
    expect(errors(r)[0]!.message).toMatch(/must differ from the plan's own region cn-hangzhou/);
  });

  it('more than 3 regions', async () => {
    const four = ['cn-shanghai', 'cn-beijing', 'cn-shenzhen', 'ap-southeast-1'].map((regionId) => ({
      regionId,
      retention: ONE_MONTH,
    }));
    const r = await refused('POST', '/protected-instances', protect(four), ['plan.copies']);
    expect(errors(r)[0]!.message).toMatch(/at most 3 regions/);
  });

  it('a region twice', async () => {
    const r = await refused(
      'POST',
      '/protected-instances',
      protect([
        { regionId: 'cn-shanghai', retention: ONE_MONTH },
        { regionId: 'cn-beijing', retention: ONE_MONTH },
        { regionId: 'cn-shanghai', retention: { value: 1, unit: 'years' } },
      ]),
      ['plan.copies[2].regionId'],
    );
    expect(errors(r)[0]!.message).toMatch(/listed twice/);
  });

  it('a malformed region id and retention', async () => {
    await refused(
      'POST',
      '/protected-instances',
      protect([{ regionId: 'Shanghai!', retention: { value: 0, unit: 'days' } }]),
      ['plan.copies[0].regionId', 'plan.copies[0].retention.value'],
    );
  });
});

describe('plan copies: stored, shown, changed', () => {
  it('a plan keeps its copies; PATCH changes or removes them and refuses bad ones naming the field', async () => {
    const created = await h.call('POST', '/api/v1/protected-instances', {
      body: protect([{ regionId: 'cn-shanghai', retention: ONE_MONTH }]),
    });
    expect(created.status).toBe(201);
    const plan = created.body.plan as { id: string; copies: unknown };
    expect(plan.copies).toEqual([{ regionId: 'cn-shanghai', retention: ONE_MONTH }]);

    await refused(
      'PATCH',
      `/plans/${plan.id}`,
      { copies: [{ regionId: 'cn-nowhere', retention: ONE_MONTH }] },
      ['copies[0].regionId'],
    );
    const changed = await h.call('PATCH', `/api/v1/plans/${plan.id}`, {
      body: { copies: [{ regionId: 'cn-beijing', retention: { value: 2, unit: 'years' } }] },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.copies).toEqual([{ regionId: 'cn-beijing', retention: { value: 2, unit: 'years' } }]);
    const removed = await h.call('PATCH', `/api/v1/plans/${plan.id}`, { body: { copies: null } });
    expect(removed.body.copies).toEqual([]);
  });
});
