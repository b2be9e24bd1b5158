import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BackupPoint, Job } from '../../lib/domain/model.js';
import { TAG_JOB, TAG_MANAGED_BY } from '../../lib/usecases/backup/ownership.js';
import type { RecoveryState } from '../../lib/usecases/restore/state.js';
import {
  addLinuxInstance,
  finished,
  planBody,
  pointOf,
  protect,
  startTestCloud,
  until,
  type TestCloud,
} from './support.js';

/**
 * Restore, mount and unmount on the local cloud, checked by the bytes on the emulator's disks: a
 * snapshot's file tree must come back exactly (path, size, sha256) where the job says it put it.
 */

const HOUR = 3_600_000;

let cloud: TestCloud;

beforeAll(async () => {
  cloud = await startTestCloud({ timers: false, settings: { MAX_RECEIVE_COUNT: '3' } });
});
afterEach(async () => {
  cloud.deps.hooks = undefined;
  await cloud.emulator.admin.clearFaults();
  await cloud.emulator.admin.setAsyncOperationMs({ ms: 100 });
});
afterAll(async () => {
  await cloud?.dispose();
});

const stateOf = (job: Job) => job.state as RecoveryState;

/** A running Linux instance with a fresh backup; returns the instance, its disks and the point. */
async function backedUp(
  plan: Record<string, unknown> = planBody(),
): Promise<{ instanceId: string; diskIds: [string, string]; point: BackupPoint }> {
  const { instanceId, diskIds } = await addLinuxInstance(cloud);
  const { jobId } = await protect(cloud, instanceId, plan);
  const job = await finished(cloud, jobId!);
  expect(job.status, `${job.id}: ${job.reason}`).toBe('COMPLETE');
  return { instanceId, diskIds: diskIds as [string, string], point: await pointOf(cloud, job) };
}

const snapshotOf = (point: BackupPoint, diskId: string) =>
  point.snapshots.find((s) => s.diskId === diskId)!.snapshotId;

async function filesOf(where: { diskId: string } | { snapshotId: string }) {
  const files = await cloud.emulator.admin.listFiles(where);
  return files
    .map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

async function instanceStatus(instanceId: string): Promise<string | undefined> {
  return (await cloud.deps.ecs.describeInstances([instanceId]))[0]?.status;
}

async function inUseBy(pointId: string): Promise<string[]> {
  return (await cloud.deps.store.points.get(pointId))!.inUseBy;
}

async function diskCount(): Promise<number> {
  return (await cloud.emulator.admin.stats()).disks;
}

async function start(path: string, body: Record<string, unknown>): Promise<string> {
  const answer = await cloud.api.post<{ id: string; type: string }>(path, body);
  if (answer.status !== 202) throw new Error(`${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.id;
}

describe('restore', () => {
  it('rollback-disk brings back the backed-up bytes; a running instance is refused, stopInstance stops and restarts it', async () => {
    const { instanceId, diskIds, point } = await backedUp();
    const data = diskIds[1];
    const before = await filesOf({ snapshotId: snapshotOf(point, data) });
    await cloud.emulator.admin.writeFile({
      diskId: data,
      path: 'srv/data.txt',
      content: 'changed after the backup',
    });
    await cloud.emulator.admin.writeFile({ diskId: data, path: 'srv/new.txt', content: 'new' });
    const jobsBefore = (await cloud.deps.store.jobs.list({ instanceId })).items.length;

    const refused = await cloud.api.post<{ detail: string }>(`/backups/${point.id}/restore`, {
      mode: 'rollback-disk',
      diskId: data,
    });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/is Running.*stopInstance/);
    expect((await cloud.deps.store.jobs.list({ instanceId })).items).toHaveLength(jobsBefore);

    const jobId = await start(`/backups/${point.id}/restore`, {
      mode: 'rollback-disk',
      diskId: data,
      stopInstance: true,
    });
    const listed = await cloud.api.get<{ items: { id: string; type: string }[] }>(
      `/jobs?type=restore&instanceId=${instanceId}`,
    );
    expect(listed.body.items.map((j) => [j.id, j.type])).toEqual([[jobId, 'restore']]);
    const job = await finished(cloud, jobId);

    expect(job.status, job.reason ?? '').toBe('COMPLETE');
    expect(job.reason).toContain('started again');
    expect(await filesOf({ diskId: data })).toEqual(before);
    expect(await cloud.emulator.admin.readFile({ diskId: data, path: 'srv/data.txt' })).toBe('x');
    expect(await instanceStatus(instanceId)).toBe('Running');
    expect(await inUseBy(point.id)).toEqual([]);
  });

  it('rollback-instance resets every disk of the point on a stopped instance', async () => {
    const { instanceId, diskIds, point } = await backedUp();
    const expected = await Promise.all(diskIds.map((d) => filesOf({ snapshotId: snapshotOf(point, d) })));
    await cloud.emulator.admin.writeFile({ diskId: diskIds[0], path: 'etc/hostname', content: 'other\n' });
    await cloud.emulator.admin.removeFile({ diskId: diskIds[1], path: 'srv/data.txt' });
    await cloud.emulator.admin.updateInstance({ instanceId, status: 'Stopped' });

    const job = await finished(
      cloud,
      await start(`/backups/${point.id}/restore`, { mode: 'rollback-instance' }),
    );

    expect(job.status, job.reason ?? '').toBe('COMPLETE');
    for (const [i, d] of diskIds.entries()) expect(await filesOf({ diskId: d })).toEqual(expected[i]);
    expect(await instanceStatus(instanceId)).toBe('Stopped');
    expect(await inUseBy(point.id)).toEqual([]);
  });

  it('clone-disk attaches a new disk holding the snapshot tree to another instance, tagged as ours', async () => {
    const { diskIds, point } = await backedUp();
    const target = await addLinuxInstance(cloud);
    await cloud.emulator.admin.writeFile({ diskId: diskIds[1], path: 'srv/data.txt', content: 'later' });

    const job = await finished(
      cloud,
      await start(`/backups/${point.id}/restore`, {
        mode: 'clone-disk',
        diskId: diskIds[1],
        targetInstanceId: target.instanceId,
      }),
    );

    expect(job.status, job.reason ?? '').toBe('COMPLETE');
    const { diskId, device } = stateOf(job);
    const [disk] = await cloud.deps.ecs.describeDisks([diskId!]);
    expect(disk).toMatchObject({ instanceId: target.instanceId, status: 'In_use', device });
    expect(disk!.tags).toEqual(
      expect.arrayContaining([
        { key: TAG_MANAGED_BY, value: 'ecs-backup' },
        { key: TAG_JOB, value: job.id },
      ]),
    );
    expect(await filesOf({ diskId: diskId! })).toEqual(
      await filesOf({ snapshotId: snapshotOf(point, diskIds[1]) }),
    );
    expect(await cloud.emulator.admin.readFile({ diskId: diskId!, path: 'srv/data.txt' })).toBe('x');
    expect(await inUseBy(point.id)).toEqual([]);
  });

  it('cancel while the cloned disk is being created: CANCELED, the disk deleted, the point released', async () => {
    const { diskIds, point } = await backedUp();
    const target = await addLinuxInstance(cloud);
    const disks = await diskCount();
    await cloud.emulator.admin.setAsyncOperationMs({ ms: 4000 });
    const jobId = await start(`/backups/${point.id}/restore`, {
      mode: 'clone-disk',
      diskId: diskIds[0],
      targetInstanceId: target.instanceId,
    });
    await until(
      'the disk being created',
      async () => (await cloud.deps.store.jobs.get(jobId))?.step === 'wait-disk',
    );
    expect(await inUseBy(point.id)).toEqual([jobId]);

    const cancel = await cloud.api.post(`/jobs/${jobId}/cancel`);
    const job = await finished(cloud, jobId);

    expect(cancel.status).toBe(202);
    expect(job.status, job.reason ?? '').toBe('CANCELED');
    expect(job.reason).toMatch(/canceled by request.*disk d-\w+ deleted/);
    expect(await diskCount()).toBe(disks);
    expect(await inUseBy(point.id)).toEqual([]);
  });

  it('cancel once the disks are being reset: the rollback completes and says the cancel came too late', async () => {
    const { instanceId, diskIds, point } = await backedUp();
    const expected = await filesOf({ snapshotId: snapshotOf(point, diskIds[0]) });
    await cloud.emulator.admin.writeFile({ diskId: diskIds[0], path: 'etc/hostname', content: 'changed\n' });
    await cloud.emulator.admin.updateInstance({ instanceId, status: 'Stopped' });
    await cloud.emulator.admin.setAsyncOperationMs({ ms: 4000 });
    const jobId = await start(`/backups/${point.id}/restore`, { mode: 'rollback-instance' });
    await until(
      'the reset under way',
      async () => (await cloud.deps.store.jobs.get(jobId))?.step === 'wait-reset',
    );

    expect((await cloud.api.post(`/jobs/${jobId}/cancel`)).status).toBe(202);
    const job = await finished(cloud, jobId);

    expect(job.status, job.reason ?? '').toBe('COMPLETE');
    expect(job.reason).toContain('cancel arrived after the disks were being reset');
    expect(await filesOf({ diskId: diskIds[0] })).toEqual(expected);
    expect(await inUseBy(point.id)).toEqual([]);
  });
});

describe('mount', () => {
  it('mount attaches the snapshot tree, holds the point against delete and retention; unmount removes the disk and frees it', async () => {
    const { diskIds, point } = await backedUp(
      planBody({ retention: { value: 1, unit: 'days' }, keepLatest: false }),
    );
    const target = await addLinuxInstance(cloud);
    const disks = await diskCount();

    const mountId = await start(`/backups/${point.id}/mount`, {
      diskId: diskIds[1],
      targetInstanceId: target.instanceId,
    });
    const mount = await finished(cloud, mountId);

    expect(mount.status, mount.reason ?? '').toBe('COMPLETE');
    const { diskId, device, expiresAt, mountedAt } = stateOf(mount);
    expect(expiresAt! - mountedAt!).toBe(24 * HOUR);
    expect(await filesOf({ diskId: diskId! })).toEqual(
      await filesOf({ snapshotId: snapshotOf(point, diskIds[1]) }),
    );
    const mounts = await cloud.api.get<{ items: Record<string, unknown>[] }>('/mounts');
    expect(mounts.body.items).toContainEqual(
      expect.objectContaining({
        jobId: mountId,
        backupId: point.id,
        diskId,
        device,
        instanceId: target.instanceId,
      }),
    );
    expect(await inUseBy(point.id)).toEqual([mountId]);

    const refused = await cloud.api.del<{ detail: string }>(`/backups/${point.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toContain(mountId);
    await cloud.runRetention(Date.now() + 3 * 24 * HOUR);
    expect((await cloud.deps.store.points.get(point.id))!.status).toBe('AVAILABLE');

    const unmountId = await start(`/mounts/${mountId}/unmount`, {});
    const again = await cloud.api.post<{ id: string }>(`/mounts/${mountId}/unmount`);
    const unmount = await finished(cloud, unmountId);

    expect(again.body.id === unmountId || again.status === 409).toBe(true);
    expect(unmount.status, unmount.reason ?? '').toBe('COMPLETE');
    expect(await cloud.deps.ecs.describeDisks([diskId!])).toEqual([]);
    expect(await diskCount()).toBe(disks);
    expect(await inUseBy(point.id)).toEqual([]);
    const after = await cloud.api.get<{ items: { jobId: string }[] }>('/mounts');
    expect(after.body.items.map((m) => m.jobId)).not.toContain(mountId);
    expect((await cloud.api.post(`/mounts/${mountId}/unmount`)).status).toBe(409);
    // The instance's only good backup: deleted only when the request says so.
    expect((await cloud.api.del(`/backups/${point.id}`)).status).toBe(409);
    expect((await cloud.api.del(`/backups/${point.id}?confirm=last-good-backup`)).status).toBe(200);
  });

  it('a mount past its TTL is unmounted by the scheduler tick', async () => {
    const { diskIds, point } = await backedUp();
    const target = await addLinuxInstance(cloud);
    const mountId = await start(`/backups/${point.id}/mount`, {
      diskId: diskIds[0],
      targetInstanceId: target.instanceId,
      ttlHours: 1,
    });
    const mount = await finished(cloud, mountId);
    expect(mount.status, mount.reason ?? '').toBe('COMPLETE');

    await cloud.tickScheduler();
    expect(await cloud.deps.store.jobs.get(`unmount-${mountId}`)).toBeUndefined();
    await cloud.tickScheduler(Date.now() + 2 * HOUR);
    const unmount = await finished(cloud, `unmount-${mountId}`);

    expect(unmount.status, unmount.reason ?? '').toBe('COMPLETE');
    expect(unmount.params).toMatchObject({ mountJobId: mountId, trigger: 'ttl' });
    expect(await cloud.deps.ecs.describeDisks([stateOf(mount).diskId!])).toEqual([]);
    expect(await inUseBy(point.id)).toEqual([]);
  });

  it('a mount that cannot attach deletes the disk it created and releases the point', async () => {
    const { diskIds, point } = await backedUp();
    const target = await addLinuxInstance(cloud);
    const disks = await diskCount();
    await cloud.emulator.admin.failNext({
      action: 'AttachDisk',
      code: 'InstanceDiskLimitExceeded',
      status: 403,
    });

    const mount = await finished(
      cloud,
      await start(`/backups/${point.id}/mount`, { diskId: diskIds[0], targetInstanceId: target.instanceId }),
    );

    expect(mount.status).toBe('FAILED');
    expect(mount.reason).toMatch(/InstanceDiskLimitExceeded.*no free disk slot.*disk d-\w+ deleted/);
    expect(await diskCount()).toBe(disks);
    expect(await inUseBy(point.id)).toEqual([]);
  });
});

describe('crash safety', () => {
  it('the worker killed after each persisted step: every job terminal, clones exactly once, no leftover disk', async () => {
    const crashPoints = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const source = await backedUp();
    const rollbacks = await Promise.all(crashPoints.map(() => backedUp()));
    const crashAt = new Map<string, number>();
    const writes = new Map<string, number>();
    const crashed = new Set<string>();
    cloud.deps.hooks = {
      afterJobStep: (job) => {
        if (job.type === 'backup') return;
        const n = crashAt.get(job.instanceId);
        if (n === undefined || crashed.has(job.instanceId)) return;
        const w = (writes.get(job.instanceId) ?? 0) + 1;
        writes.set(job.instanceId, w);
        if (w === n) {
          crashed.add(job.instanceId);
          throw new Error(`worker killed after persisted step ${w} (${job.type} ${job.step})`);
        }
      },
    };
    const disks = await diskCount();
    const cloneTargets: string[] = [];
    const mountTargets: string[] = [];
    for (const n of crashPoints) {
      const clone = (await addLinuxInstance(cloud)).instanceId;
      const mount = (await addLinuxInstance(cloud)).instanceId;
      crashAt.set(clone, n);
      crashAt.set(mount, n);
      cloneTargets.push(clone);
      mountTargets.push(mount);
    }
    rollbacks.forEach((r, i) => crashAt.set(r.instanceId, crashPoints[i]!));
    const data = source.diskIds[1];
    const disksAfterAdd = await diskCount();

    const ids = await Promise.all([
      ...cloneTargets.map((t) =>
        start(`/backups/${source.point.id}/restore`, {
          mode: 'clone-disk',
          diskId: data,
          targetInstanceId: t,
        }),
      ),
      ...mountTargets.map((t) =>
        start(`/backups/${source.point.id}/mount`, { diskId: data, targetInstanceId: t }),
      ),
      ...rollbacks.map((r) =>
        start(`/backups/${r.point.id}/restore`, {
          mode: 'rollback-disk',
          diskId: r.diskIds[1],
          stopInstance: true,
        }),
      ),
    ]);
    const jobs = await Promise.all(ids.map((id) => finished(cloud, id, 60_000)));
    const mounts = jobs.filter((j) => j.type === 'mount');
    const unmounts = await Promise.all(
      mounts.map(async (m) => finished(cloud, await start(`/mounts/${m.id}/unmount`, {}), 60_000)),
    );

    expect(crashed.size).toBeGreaterThanOrEqual(crashPoints.length * 2);
    for (const job of [...jobs, ...unmounts])
      expect(job.status, `${job.id} ${job.type}: ${job.reason}`).toBe('COMPLETE');
    const clones = jobs.filter(
      (j) => j.type === 'restore' && (j.params as { mode: string }).mode === 'clone-disk',
    );
    // Each clone made exactly one disk (the CreateDisk ClientToken held across crashes); mounts left none.
    expect(await diskCount()).toBe(disksAfterAdd + clones.length);
    expect(disksAfterAdd).toBeGreaterThan(disks);
    for (const c of clones) {
      const [disk] = await cloud.deps.ecs.describeDisks([stateOf(c).diskId!]);
      expect(disk?.instanceId).toBe(c.instanceId);
    }
    for (const r of rollbacks) {
      expect(await instanceStatus(r.instanceId)).toBe('Running');
      expect(await inUseBy(r.point.id)).toEqual([]);
    }
    expect(await inUseBy(source.point.id)).toEqual([]);
  }, 90_000);

  it('a mount dead-lettered after creating its disk is cleaned up by the next scheduler tick', async () => {
    const { diskIds, point } = await backedUp();
    const target = await addLinuxInstance(cloud);
    const disks = await diskCount();
    cloud.deps.hooks = {
      afterJobStep: (job) => {
        if (job.type === 'mount' && stateOf(job).diskId)
          throw new Error('this mount always breaks the worker');
      },
    };

    const mount = await finished(
      cloud,
      await start(`/backups/${point.id}/mount`, { diskId: diskIds[0], targetInstanceId: target.instanceId }),
      60_000,
    );
    cloud.deps.hooks = undefined;
    expect(mount.status).toBe('FAILED');
    expect(await inUseBy(point.id)).toEqual([mount.id]);

    // A tick detaches a disk still attached and deletes it once Available, then releases the point.
    await until(
      'the next ticks to clean up',
      async () => {
        await cloud.tickScheduler();
        return (await inUseBy(point.id)).length === 0;
      },
      10_000,
    );

    expect(await diskCount()).toBe(disks);
    expect(await inUseBy(point.id)).toEqual([]);
  }, 60_000);
});
