import { expect } from 'vitest';
import type { BackupPoint, Job } from '../../lib/domain/model.js';
import { addLinuxInstance, finished, planBody, pointOf, protect, type TestCloud } from './support.js';

/** The files of a disk or a snapshot in `region`: path, size and digest each, in path order. */
export async function filesIn(
  cloud: TestCloud,
  region: string,
  where: { diskId: string } | { snapshotId: string },
) {
  const listed = await cloud.emulator.admin.inRegion(region).listFiles(where);
  return listed
    .map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * A Linux instance with `file` on its data disk, protected by a plan that copies each backup to
 * `region` for 30 days; answers its first backup, complete (the copy job may still be running).
 */
export async function backupCopiedTo(
  cloud: TestCloud,
  region: string,
  file: { path: string; content: string },
): Promise<{ instanceId: string; dataDiskId: string; backup: Job; point: BackupPoint }> {
  const { instanceId, diskIds } = await addLinuxInstance(cloud);
  const dataDiskId = diskIds[1]!;
  await cloud.emulator.admin.writeFile({ diskId: dataDiskId, ...file });
  const { jobId } = await protect(
    cloud,
    instanceId,
    planBody({ copies: [{ regionId: region, retention: { value: 30, unit: 'days' } }] }),
  );
  const backup = await finished(cloud, jobId!);
  expect(backup.status, backup.reason ?? '').toBe('COMPLETE');
  return { instanceId, dataDiskId, backup, point: await pointOf(cloud, backup) };
}

/** Restores the point's `diskId` from its copy in `region` as a new disk of `targetInstanceId` there. */
export async function cloneDiskFromCopy(
  cloud: TestCloud,
  pointId: string,
  diskId: string,
  targetInstanceId: string,
  region: string,
): Promise<string> {
  const restore = await cloud.api.post<{ id: string }>(`/backups/${pointId}/restore`, {
    mode: 'clone-disk',
    diskId,
    targetInstanceId,
    regionId: region,
  });
  expect(restore.status, JSON.stringify(restore.body)).toBe(202);
  const restored = await finished(cloud, restore.body.id);
  expect(restored.status, restored.reason ?? '').toBe('COMPLETE');
  return (restored.state as { diskId: string }).diskId;
}
