import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Ecs, REGION, ecsError, startHarness, type Harness } from './helpers.js';

/** Held calls let a test act while a client's request is inside the cloud, then let it finish. */
describe('ECS emulator: holding calls until released', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ snapshotBaseMs: 0, snapshotSpeedBytesPerSec: 0 });
  });
  afterAll(async () => {
    await h.stop();
  });

  const describeInstances = () =>
    h.ecs.describeInstances(new Ecs.DescribeInstancesRequest({ regionId: REGION }));
  const waitHeld = (n: number, action?: string) =>
    vi.waitFor(
      async () => {
        expect(await h.emu.admin.held({ action })).toBe(n);
      },
      { timeout: 10_000, interval: 10 },
    );

  it('holds the next call of an action until released; other actions and later calls pass', async () => {
    await h.emu.admin.hold({ action: 'DescribeInstances' });
    let answered = false;
    const first = describeInstances().then((r) => {
      answered = true;
      return r;
    });
    await waitHeld(1, 'DescribeInstances');
    // Another action is not held, and the held call has not answered meanwhile.
    await h.ecs.describeRegions(new Ecs.DescribeRegionsRequest({}));
    expect(answered).toBe(false);
    expect(await h.emu.admin.calls({ action: 'DescribeInstances' })).toEqual([]);
    expect(await h.emu.admin.release({ action: 'DescribeInstances' })).toBe(1);
    expect((await first).body?.totalCount).toBe(5);
    expect(await h.emu.admin.held()).toBe(0);
    // The hold was for one call: the next one answers at once.
    expect((await describeInstances()).body?.totalCount).toBe(5);
  });

  it('holds `count` calls of any action, over the admin HTTP API too', async () => {
    const admin = async (method: string, arg: unknown): Promise<unknown> =>
      (await fetch(`${h.emu.url}/__admin/${method}`, { method: 'POST', body: JSON.stringify(arg) })).json();
    await admin('hold', { count: 2 });
    const a = describeInstances();
    const b = h.ecs.describeZones(new Ecs.DescribeZonesRequest({ regionId: REGION }));
    await waitHeld(2);
    expect(await admin('held', { action: 'DescribeZones' })).toBe(1);
    expect(await admin('release', {})).toBe(2);
    await Promise.all([a, b]);
    expect(await admin('held', {})).toBe(0);
  });

  it('a held call still meets the other faults first, and clearFaults releases held calls', async () => {
    await h.emu.admin.failNext({ action: 'DescribeInstances', code: 'ServiceUnavailable', status: 503 });
    await h.emu.admin.hold({ action: 'DescribeInstances' });
    // The injected failure answers at once: a refused call never waits on the hold.
    expect((await ecsError(describeInstances())).code).toBe('ServiceUnavailable');
    const held = describeInstances();
    await waitHeld(1);
    await h.emu.admin.clearFaults();
    expect((await held).body?.totalCount).toBe(5);
    // release drops holds not taken yet.
    await h.emu.admin.hold({ action: 'DescribeInstances', count: 3 });
    expect(await h.emu.admin.release({ action: 'DescribeInstances' })).toBe(0);
    expect((await describeInstances()).body?.totalCount).toBe(5);
  });
});
