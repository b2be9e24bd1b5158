import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduledJobId } from '../../lib/domain/job.js';
import { parseStartAt } from '../../lib/domain/schedule.js';
import {
  E2E_TIMEOUT_MS,
  addLinuxInstance,
  backupNow,
  finished,
  groupsOfJob,
  isoIn,
  planBody,
  pointOf,
  protect,
  startTestCloud,
  until,
  type TestCloud,
} from './support.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** Suspend/resume, retention and cancel, with the timers off so each tick happens when the test says. */
describe('plan lifecycle, retention and cancel on the local cloud', { timeout: E2E_TIMEOUT_MS }, () => {
  let cloud: TestCloud;

  beforeAll(async () => {
    cloud = await startTestCloud({ timers: false });
  });
  afterAll(async () => {
    await cloud?.dispose();
  });

  it('a suspended plan creates no jobs; resume continues with the next occurrence, no burst', async () => {
    // Prepare: an hourly plan whose occurrences started ten hours ago.
    const { instanceId } = await addLinuxInstance(cloud);
    const now = Date.now();
    const startAt = isoIn(-10 * 3600 + 60, now);
    const { planId } = await protect(
      cloud,
      instanceId,
      planBody({ schedule: { startAt, every: { value: 1, unit: 'hours' } } }),
    );
    expect((await cloud.api.post(`/plans/${planId}/suspend`)).status).toBe(200);
    // The next occurrence (a minute ahead) was queued when the plan was created.
    const atSuspend = await cloud.deps.store.jobs.list({ planId: planId! });

    // Act: five hours of ticks while suspended.
    for (let t = now; t < now + 5 * HOUR; t += HOUR / 2) await cloud.tickScheduler(t);
    const whileSuspended = await cloud.deps.store.jobs.list({ planId: planId! });
    const resumed = await cloud.api.post<{ nextRunAt: string | number | null }>(`/plans/${planId}/resume`);
    await cloud.tickScheduler();
    const afterResume = await cloud.deps.store.jobs.list({ planId: planId! });

    // Assess
    expect(whileSuspended.items.map((j) => j.id)).toEqual(atSuspend.items.map((j) => j.id));
    expect(resumed.status).toBe(200);
    const plan = await cloud.deps.store.plans.get(planId!);
    const expectedNext = parseStartAt(startAt) + 10 * HOUR;
    expect(plan!.state).toBe('ACTIVE');
    expect(plan!.nextRunAt! >= Date.now() - 1000).toBe(true);
    // Only the next occurrence (a minute ahead, inside the look-ahead) is queued; nothing missed is replayed.
    expect(afterResume.items.map((j) => j.id)).toEqual([scheduledJobId(planId!, expectedNext)]);
    expect(afterResume.items.every((j) => j.status !== 'SKIPPED')).toBe(true);
  });

  it('retention deletes expired points and their snapshots, keeps the latest good one and the long-term one', async () => {
    const { instanceId } = await addLinuxInstance(cloud);
    const { planId } = await protect(
      cloud,
      instanceId,
      planBody({
        schedule: { startAt: isoIn(30 * 86_400), every: { value: 1, unit: 'days' } },
        retention: { value: 1, unit: 'days' },
        longTerm: [{ period: 'year', keep: { value: 2, unit: 'years' } }],
      }),
    );
    const points = [];
    for (let i = 0; i < 3; i += 1) {
      const run = await cloud.api.post<{ id: string }>(`/plans/${planId}/run`);
      points.push(await pointOf(cloud, await finished(cloud, run.body.id)));
    }
    const [first, middle, last] = points;
    expect(first!.longTermRule).toBe('year');
    expect(middle!.longTermRule).toBeNull();

    await cloud.runRetention(Date.now() + 3 * DAY);

    const status = async (id: string) => (await cloud.deps.store.points.get(id))!.status;
    expect(await status(middle!.id)).toBe('DELETED');
    expect(await cloud.deps.ecs.describeSnapshotGroups([middle!.snapshotGroupId!])).toEqual([]);
    expect(await status(first!.id)).toBe('AVAILABLE');
    expect(await status(last!.id)).toBe('AVAILABLE');
    expect((await cloud.deps.ecs.describeSnapshotGroups([last!.snapshotGroupId!])).length).toBe(1);
    expect(cloud.lastRetention()).toMatchObject({ deleted: 1, failed: [] });
  });

  it('cancel a running backup: snapshot creation cancelled, job CANCELED', async () => {
    const { instanceId } = await addLinuxInstance(cloud);
    await protect(
      cloud,
      instanceId,
      planBody({ schedule: { startAt: isoIn(86_400), every: { value: 1, unit: 'days' } } }),
    );
    await cloud.emulator.admin.setSnapshotSpeed({ baseMs: 120_000 });
    try {
      const jobId = await backupNow(cloud, instanceId);
      const polling = await until('the job to poll its snapshot', async () => {
        const j = await cloud.deps.store.jobs.get(jobId);
        return j?.step === 'poll' ? j : undefined;
      });
      const groupId = (polling.state as { snapshotGroupId: string }).snapshotGroupId;
      expect((await cloud.deps.ecs.describeSnapshotGroups([groupId]))[0]?.status).toBe('progressing');

      const cancel = await cloud.api.post<{ status: string }>(`/jobs/${jobId}/cancel`);
      const job = await finished(cloud, jobId);

      expect(cancel.status).toBeLessThan(300);
      expect(job.status).toBe('CANCELED');
      expect(job.reason).toContain(groupId);
      expect(await cloud.deps.ecs.describeSnapshotGroups([groupId])).toEqual([]);
      expect(await groupsOfJob(cloud, job)).toEqual([]);
      expect((await cloud.deps.store.points.list({ instanceId })).items).toHaveLength(0);
    } finally {
      await cloud.emulator.admin.setSnapshotSpeed({ baseMs: 300 });
    }
  });
});
