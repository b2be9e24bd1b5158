import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  E2E_TIMEOUT_MS,
  addLinuxInstance,
  addWindowsInstance,
  backupNow,
  finished,
  planBody,
  pointOf,
  protect,
  startTestCloud,
  type TestCloud,
} from './support.js';

const app = { consistency: { applicationConsistent: true, fsFreeze: true, timeoutSeconds: 30 } };

/** Consistency as design §4 says, through the real guest scripts run by the emulator's Cloud Assistant. */
describe('consistency on the local cloud', { timeout: E2E_TIMEOUT_MS }, () => {
  let cloud: TestCloud;

  beforeAll(async () => {
    cloud = await startTestCloud({ timers: false });
  });
  afterAll(async () => {
    await cloud?.dispose();
  });

  async function backupWith(instanceId: string, plan: Record<string, unknown>) {
    const { jobId } = await protect(cloud, instanceId, planBody(plan));
    const job = await finished(cloud, jobId!, 60_000);
    return { job, point: job.status === 'FAILED' ? null : await pointOf(cloud, job) };
  }

  it('Linux with valid scripts: application-consistent, freeze window recorded, nothing left frozen', async () => {
    const { instanceId } = await addLinuxInstance(cloud, { scripts: 'valid' });

    const { job, point } = await backupWith(instanceId, app);

    expect(job.status).toBe('COMPLETE');
    expect(point!.consistency).toMatchObject({
      requested: 'application',
      achieved: 'application',
      reason: null,
    });
    expect(point!.consistency.freezeWindowMs).toBeGreaterThanOrEqual(0);
    const log = await cloud.emulator.admin.freezeLog({ instanceId });
    expect(log.filter((e) => e.action === 'freeze' && e.ok).length).toBeGreaterThan(0);
    expect(log.filter((e) => e.action === 'thaw' && e.ok).length).toBe(
      log.filter((e) => e.action === 'freeze' && e.ok).length,
    );
    expect(await cloud.emulator.admin.frozen({ instanceId })).toEqual([]);
    // The guest sent the snapshot request itself, with a pre-signed URL.
    const signed = await cloud.emulator.admin.calls({ action: 'CreateSnapshotGroup' });
    expect(signed.some((c) => c.signing === 'v2-get' && c.ok)).toBe(true);
  });

  it('Linux with an invalid (world-writable) pre-script: file-system-consistent with the reason', async () => {
    const { instanceId } = await addLinuxInstance(cloud, { scripts: 'world-writable' });

    const { job, point } = await backupWith(instanceId, app);

    expect(job.status).toBe('COMPLETE');
    expect(point!.consistency.achieved).toBe('filesystem');
    expect(point!.consistency.reason).toMatch(/0777|mode/);
    expect(await cloud.emulator.admin.frozen({ instanceId })).toEqual([]);
  });

  it('Linux with a symlinked pre-script: file-system-consistent with the reason', async () => {
    const { instanceId } = await addLinuxInstance(cloud, { scripts: 'symlink' });

    const { point } = await backupWith(instanceId, app);

    expect(point!.consistency.achieved).toBe('filesystem');
    expect(point!.consistency.reason).toMatch(/symlink|symbolic|link/i);
  });

  it('Windows with writers: application-consistent (VSS with writers)', async () => {
    const { instanceId } = await addWindowsInstance(cloud);

    const { point } = await backupWith(instanceId, app);

    expect(point!.consistency).toMatchObject({ requested: 'application', achieved: 'application' });
    const vss = await cloud.emulator.admin.freezeLog({ instanceId });
    expect(vss.some((e) => e.source === 'vss' && e.writers === true)).toBe(true);
    expect(await cloud.emulator.admin.frozen({ instanceId })).toEqual([]);
  });

  it('Windows without writers: file-system-consistent', async () => {
    const { instanceId } = await addWindowsInstance(cloud);

    const { point } = await backupWith(instanceId, {
      consistency: { applicationConsistent: true, windowsWriters: false },
    });

    expect(point!.consistency.achieved).toBe('filesystem');
    const vss = await cloud.emulator.admin.freezeLog({ instanceId });
    expect(vss.some((e) => e.source === 'vss' && e.writers === false)).toBe(true);
  });

  it('non-ESSD disks: per-disk crash-consistent snapshots, said on the point', async () => {
    const { instanceId, diskIds } = await addLinuxInstance(cloud, {
      disks: [
        { type: 'system', category: 'cloud_essd', sizeGiB: 40 },
        { type: 'data', category: 'cloud_efficiency', sizeGiB: 100 },
      ],
    });

    const { job, point } = await backupWith(instanceId, app);

    expect(job.status).toBe('COMPLETE');
    expect(point!.kind).toBe('per-disk');
    expect(point!.snapshotGroupId).toBeNull();
    expect(point!.snapshots.map((s) => s.diskId).sort()).toEqual([...diskIds].sort());
    expect(point!.consistency.achieved).toBe('crash');
    expect(point!.consistency.reason).toContain('cloud_efficiency');
    const snaps = await cloud.deps.ecs.describeSnapshots(point!.snapshots.map((s) => s.snapshotId));
    expect(snaps.every((s) => s.status === 'accomplished')).toBe(true);
  });

  it('a disk attached after protection is in the next backup', async () => {
    const { instanceId, diskIds } = await addLinuxInstance(cloud);
    const first = await backupWith(instanceId, {});
    const { diskId } = await cloud.emulator.admin.addDisk({
      instanceId,
      category: 'cloud_essd',
      type: 'data',
      sizeGiB: 20,
    });

    const job = await finished(cloud, await backupNow(cloud, instanceId));
    const point = await pointOf(cloud, job);

    expect(first.point!.snapshots.map((s) => s.diskId).sort()).toEqual([...diskIds].sort());
    expect(point.snapshots.map((s) => s.diskId).sort()).toEqual([...diskIds, diskId].sort());
  });

  it('agent missing: installs it and takes this backup crash-consistent', async () => {
    const { instanceId } = await addLinuxInstance(cloud, { scripts: 'valid', agent: false });

    const { job, point } = await backupWith(instanceId, app);

    expect(job.status).toBe('COMPLETE');
    expect(point!.consistency.achieved).toBe('crash');
    expect(point!.consistency.reason).toContain('agent');
    expect((await cloud.emulator.admin.calls({ action: 'InstallCloudAssistant' })).length).toBeGreaterThan(0);
  });
});
