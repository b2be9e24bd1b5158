import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduledJobId } from '../../lib/domain/job.js';
import { parseStartAt } from '../../lib/domain/schedule.js';
import {
  E2E_TIMEOUT_MS,
  addLinuxInstance,
  finished,
  isoIn,
  planBody,
  protect,
  startTestCloud,
  until,
  type TestCloud,
} from './support.js';

/**
 * A plan whose first run falls before the scheduler's next tick still starts on its second: creating
 * (or resuming) it hands the occurrence to the queue at once. The scheduler ticks once a minute here,
 * as FC's timer does, so a first run a few seconds away can only be on time through that hand-off.
 */
describe('the first run of a new plan is on its second', { timeout: E2E_TIMEOUT_MS }, () => {
  let cloud: TestCloud;

  beforeAll(async () => {
    cloud = await startTestCloud({ settings: { SCHEDULER_TICK_SECONDS: '60' } });
    // The timer fires once at start; the next tick is a minute away, after both tests.
    await until('the tick at start', async () => cloud.lastTick());
  });
  afterAll(async () => {
    await cloud?.dispose();
  });

  /** When ECS received the snapshot request of this backup: the first one since `since`. */
  async function snapshotRequestedAt(since: number): Promise<number> {
    const calls = await cloud.emulator.admin.calls({ action: 'CreateSnapshotGroup', since });
    expect(calls.length).toBeGreaterThanOrEqual(1);
    return calls[0]!.at;
  }

  it('a plan created 5 s before its start: the snapshot request is made within 1 s of it', async () => {
    // Prepare
    const { instanceId } = await addLinuxInstance(cloud);
    const since = Date.now();
    const startAt = isoIn(5);
    const tickBefore = cloud.lastTick();

    // Act
    const { planId } = await protect(
      cloud,
      instanceId,
      planBody({ schedule: { startAt, every: { value: 1, unit: 'days' } } }),
    );
    const jobId = scheduledJobId(planId!, parseStartAt(startAt));
    const done = await finished(
      cloud,
      (await until('the scheduled job', () => cloud.deps.store.jobs.get(jobId))).id,
    );

    // Assess
    expect(done.status).toBe('COMPLETE');
    const late = (await snapshotRequestedAt(since)) - parseStartAt(startAt);
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(1000);
    // No tick ran in between: the job came from the plan's creation alone, once.
    expect(cloud.lastTick()).toBe(tickBefore);
    const jobs = await cloud.deps.store.jobs.list({ planId: planId! }, { limit: 10 });
    expect(jobs.items.map((j) => j.id)).toEqual([jobId]);
  });

  it('a plan resumed 5 s before an occurrence: the same', async () => {
    const { instanceId } = await addLinuxInstance(cloud);
    const { planId } = await protect(
      cloud,
      instanceId,
      planBody({ schedule: { startAt: isoIn(86_400), every: { value: 1, unit: 'days' } } }),
    );
    expect((await cloud.api.post(`/plans/${planId}/suspend`)).status).toBe(200);
    const startAt = isoIn(5);
    const since = Date.now();
    expect(
      (
        await cloud.api.patch(`/plans/${planId}`, {
          schedule: { startAt, every: { value: 1, unit: 'days' } },
        })
      ).status,
    ).toBe(200);
    expect((await cloud.api.post(`/plans/${planId}/resume`)).status).toBe(200);
    const jobId = scheduledJobId(planId!, parseStartAt(startAt));
    const done = await finished(
      cloud,
      (await until('the resumed job', () => cloud.deps.store.jobs.get(jobId))).id,
    );

    expect(done.status).toBe('COMPLETE');
    const late = (await snapshotRequestedAt(since)) - parseStartAt(startAt);
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(1000);
  });
});
