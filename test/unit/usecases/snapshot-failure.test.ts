import { afterEach, describe, expect, it } from 'vitest';
import { requestCancel } from '../../../lib/usecases/cancel-job.js';
import { harness, jobOf, startBackup, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('a snapshot that fails part-way', () => {
  it('fails a group backup with the reason and deletes the group it created', async () => {
    h = harness();
    const { instanceId, diskIds } = h.ecs.addInstance();
    h.ecs.failingDisks.add(diskIds[1]!);
    const started = await startBackup(h, instanceId);

    await h.drain();

    const job = await jobOf(h, started.id);
    expect(job.status).toBe('FAILED');
    expect(job.reason).toMatch(/ECS reports snapshot group ssg-\S+ failed; run the backup again/);
    expect(job.reason).toMatch(/snapshot group ssg-\S+ deleted/);
    expect(h.ecs.groups.size).toBe(0);
    expect(h.ecs.snapshots.size).toBe(0);
    expect((await h.deps.store.points.list({ instanceId })).items).toHaveLength(0);
  });

  it('makes a per-disk backup PARTIAL_COMPLETE, naming the disk, and records the snapshot that succeeded', async () => {
    h = harness();
    const { instanceId, diskIds } = h.ecs.addInstance({ categories: ['cloud_efficiency', 'cloud_ssd'] });
    h.ecs.failingDisks.add(diskIds[1]!);
    const started = await startBackup(h, instanceId);

    await h.drain();

    const job = await jobOf(h, started.id);
    expect(job.status).toBe('PARTIAL_COMPLETE');
    expect(job.reason).toMatch(new RegExp(`snapshot s-\\S+ of ${diskIds[1]} failed in ECS`));
    const [point] = (await h.deps.store.points.list({ instanceId })).items;
    expect(point?.snapshots.map((s) => s.diskId)).toEqual([diskIds[0]]);
  });

  it('fails a per-disk backup whose every snapshot failed and deletes them', async () => {
    h = harness();
    const { instanceId, diskIds } = h.ecs.addInstance({ categories: ['cloud_efficiency', 'cloud_ssd'] });
    for (const d of diskIds) h.ecs.failingDisks.add(d);
    const started = await startBackup(h, instanceId);

    await h.drain();

    const job = await jobOf(h, started.id);
    expect(job.status).toBe('FAILED');
    expect(job.reason).toMatch(/every snapshot failed/);
    expect(job.reason).toMatch(/snapshot s-\S+ deleted/);
    expect(h.ecs.snapshots.size).toBe(0);
  });
});

describe('cancel and clean-up through the engine', () => {
  it('a cancel while polling deletes the group; the clean-up step ends the job CANCELED', async () => {
    h = harness();
    h.ecs.describesToComplete = 50;
    const { instanceId } = h.ecs.addInstance();
    const started = await startBackup(h, instanceId);
    await h.drain({ until: async () => (await jobOf(h, started.id)).step === 'poll' });

    await requestCancel(h.deps, started.id);
    await h.drain();

    const job = await jobOf(h, started.id);
    expect(job.status).toBe('CANCELED');
    expect(job.reason).toMatch(/^canceled by request; snapshot group ssg-\S+ deleted$/);
    expect(h.ecs.groups.size).toBe(0);
  });

  it('a clean-up ECS keeps refusing ends the job anyway, naming what is left to delete by hand', async () => {
    h = harness();
    h.ecs.describesToComplete = 50;
    const { instanceId } = h.ecs.addInstance();
    const started = await startBackup(h, instanceId);
    await h.drain({ until: async () => (await jobOf(h, started.id)).step === 'poll' });
    h.ecs.failNext('deleteSnapshotGroup', 'Forbidden.RAM', 10);

    await requestCancel(h.deps, started.id);
    await h.drain();

    const job = await jobOf(h, started.id);
    expect(job.status).toBe('CANCELED');
    expect(job.reason).toMatch(/clean-up failed: ECS refused the cleanup step: Forbidden.RAM/);
    expect(job.reason).toMatch(/delete ssg-\S+ by hand/);
  });
});
