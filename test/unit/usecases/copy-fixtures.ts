import { expect } from 'vitest';
import type { PointCopy } from '../../../lib/domain/copies.js';
import type { BackupPoint, Job } from '../../../lib/domain/model.js';
import { copyJobId } from '../../../lib/usecases/copy/state.js';
import { finished, startBackup, type Harness } from './harness.js';

/** The region backups are copied to; the fake ECS serves it beside the home region. */
export const OTHER = 'cn-other';
export const DAY = 86_400_000;
/** A plan's copies: to OTHER, kept 90 days (the backup itself is kept 7). */
export const COPIES = [{ regionId: OTHER, retention: { value: 90, unit: 'days' as const } }];

export interface BackupWithCopy {
  instanceId: string;
  /** The backup job, complete. */
  backup: Job;
  pointId: string;
  point: BackupPoint;
  /** The id of the copy job the backup announced; it has not been run yet. */
  copyId: string;
}

/** A complete backup of a fresh instance whose plan copies it to OTHER; its copy job not yet run. */
export async function backupWithCopy(h: Harness): Promise<BackupWithCopy> {
  const { instanceId } = h.ecs.addInstance();
  const started = await startBackup(h, instanceId, { copies: COPIES });
  const backup = await finished(h, started.id);
  expect(backup.status, backup.reason ?? '').toBe('COMPLETE');
  const pointId = (backup.state as { pointId: string }).pointId;
  const point = (await h.deps.store.points.get(pointId))!;
  return { instanceId, backup, pointId, point, copyId: copyJobId(started.id, OTHER) };
}

/**
 * A backup copied to OTHER, the copy complete, and a later backup of the instance a day on, so that
 * retention may expire the first while its copy stays.
 */
export async function copiedBackup(h: Harness): Promise<BackupWithCopy & { copy: PointCopy }> {
  const made = await backupWithCopy(h);
  expect((await finished(h, made.copyId)).status).toBe('COMPLETE');
  h.clock.advance(DAY);
  expect((await finished(h, (await startBackup(h, made.instanceId)).id)).status).toBe('COMPLETE');
  const point = (await h.deps.store.points.get(made.pointId))!;
  return { ...made, point, copy: point.copies![0]! };
}
