import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduledJobId } from '../../lib/domain/job.js';
import { parseStartAt } from '../../lib/domain/schedule.js';
import { isOurs } from '../../lib/usecases/backup/ownership.js';
import {
  E2E_TIMEOUT_MS,
  addLinuxInstance,
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

/** The local cloud with its own timers: the scheduler function fires every second in fast mode. */
describe('scheduled backups on the local cloud', { timeout: E2E_TIMEOUT_MS }, () => {
  let cloud: TestCloud;

  beforeAll(async () => {
    cloud = await startTestCloud();
  });
  afterAll(async () => {
    await cloud?.dispose();
  });

  it('runs a backup scheduled a few seconds ahead: COMPLETE, snapshot group in ECS, point recorded', async () => {
    // Prepare
    const { instanceId, diskIds } = await addLinuxInstance(cloud);
    const startAt = isoIn(8);
    const { planId } = await protect(
      cloud,
      instanceId,
      planBody({ schedule: { startAt, every: { value: 1, unit: 'hours' } } }),
    );
    const jobId = scheduledJobId(planId!, parseStartAt(startAt));

    // Act: the timers hand the occurrence to the queue with a delay; nothing else is called.
    const job = await until('the scheduled job', () => cloud.deps.store.jobs.get(jobId));
    const done = await finished(cloud, job.id);

    // Assess
    expect(done.status).toBe('COMPLETE');
    expect(done.startedAt).toBeGreaterThanOrEqual(parseStartAt(startAt));
    const point = await pointOf(cloud, done);
    expect(point.kind).toBe('group');
    expect(point.snapshots.map((s) => s.diskId).sort()).toEqual([...diskIds].sort());
    expect(point.consistency).toMatchObject({ requested: 'crash', achieved: 'crash' });
    expect(point.expireAt - point.completedAt).toBe(7 * 86_400_000);
    const [group] = await cloud.deps.ecs.describeSnapshotGroups([point.snapshotGroupId!]);
    expect(group?.status).toBe('accomplished');
    expect(isOurs(group!.tags)).toBe(true);
    expect(group!.tags).toContainEqual({ key: 'ecs-backup:plan', value: planId });
    // The plan moved on to its next occurrence, an hour later.
    const plan = await cloud.deps.store.plans.get(planId!);
    expect(plan?.nextRunAt).toBe(parseStartAt(startAt) + 3_600_000);
  });

  it('runs a plan now, on demand', async () => {
    const { instanceId } = await addLinuxInstance(cloud);
    const { planId } = await protect(
      cloud,
      instanceId,
      planBody({ schedule: { startAt: isoIn(86_400), every: { value: 1, unit: 'days' } } }),
    );

    const run = await cloud.api.post<{ id: string }>(`/plans/${planId}/run`);
    expect(run.status).toBe(202);
    const done = await finished(cloud, run.body.id);

    expect(done.status).toBe('COMPLETE');
    expect(done.planId).toBe(planId);
    expect((await groupsOfJob(cloud, done)).length).toBe(1);
  });

  it('deleting a plan keeps its backups', async () => {
    const { instanceId } = await addLinuxInstance(cloud);
    const { planId } = await protect(
      cloud,
      instanceId,
      planBody({ schedule: { startAt: isoIn(86_400), every: { value: 1, unit: 'days' } } }),
    );
    const run = await cloud.api.post<{ id: string }>(`/plans/${planId}/run`);
    const point = await pointOf(cloud, await finished(cloud, run.body.id));

    const deleted = await cloud.api.del(`/plans/${planId}`);

    expect(deleted.status).toBeLessThan(300);
    expect(await cloud.deps.store.plans.get(planId!)).toBeUndefined();
    expect((await cloud.deps.store.points.get(point.id))?.status).toBe('AVAILABLE');
    const [group] = await cloud.deps.ecs.describeSnapshotGroups([point.snapshotGroupId!]);
    expect(group?.snapshotGroupId).toBe(point.snapshotGroupId);
  });

  it('stopping protection deletes the plans and keeps the backups', async () => {
    const { instanceId } = await addLinuxInstance(cloud);
    const { planId } = await protect(
      cloud,
      instanceId,
      planBody({ schedule: { startAt: isoIn(86_400), every: { value: 1, unit: 'days' } } }),
    );
    const run = await cloud.api.post<{ id: string }>(`/plans/${planId}/run`);
    const point = await pointOf(cloud, await finished(cloud, run.body.id));

    const stopped = await cloud.api.del(`/protected-instances/${instanceId}`);

    expect(stopped.status).toBe(200);
    expect(await cloud.deps.store.plans.get(planId!)).toBeUndefined();
    expect(await cloud.deps.store.instances.get(instanceId)).toBeUndefined();
    expect((await cloud.deps.store.points.get(point.id))?.status).toBe('AVAILABLE');
    const listed = await cloud.api.get<{ items: { id: string }[] }>(`/backups?instanceId=${instanceId}`);
    expect(listed.body.items.map((p) => p.id)).toContain(point.id);
  });
});
