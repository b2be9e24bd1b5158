import type { Ctx } from './context.js';
import { EcsApiError, notFound } from './errors.js';
import type { DiskRecord, InstanceRecord } from './records.js';

export function requireInstance(ctx: Ctx, id: string): InstanceRecord {
  const r = ctx.state.instance(id, ctx.now);
  if (!r) throw notFound('InvalidInstanceId.NotFound', 'InstanceId');
  return r;
}

export function requireDisk(ctx: Ctx, id: string): DiskRecord {
  const r = ctx.state.disk(id, ctx.now);
  if (!r) throw notFound('InvalidDiskId.NotFound', 'disk');
  return r;
}

/** An instance locked for security takes no change, nor a snapshot of its disks. */
export function checkLock(r: InstanceRecord): void {
  if (r.lockReason === 'security') {
    throw new EcsApiError(
      'InstanceLockedForSecurity',
      'The specified operation is denied as your instance is locked for security reasons.',
      403,
    );
  }
}

/** ECS refuses to change or snapshot a disk while one of its snapshots is still being created. */
export function checkNoSnapshotInProgress(ctx: Ctx, d: DiskRecord): void {
  for (const sid of ctx.state.snapshotsByDisk.get(d.diskId) ?? []) {
    const s = ctx.state.snapshots.get(sid);
    if (s && ctx.state.snapshotView(s, ctx.now).status === 'progressing') {
      throw new EcsApiError(
        'IncorrectDiskStatus.CreatingSnapshot',
        'A previous snapshot creation is in process.',
        403,
      );
    }
  }
}
