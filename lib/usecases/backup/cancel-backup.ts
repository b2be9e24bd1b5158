import { UNFINISHED_INVOCATION } from '../../domain/guest-outcome.js';
import { decideLock } from '../../domain/lock.js';
import type { Job } from '../../domain/model.js';
import { deleteBackupPoint } from '../delete-point.js';
import type { CancelDecision, Resource, StepContext } from '../jobs/job-kind.js';
import { lostGuestDeadline } from './guest-step.js';
import { TAG_JOB } from './ownership.js';
import { observeGroup, observeSnapshots } from './poll-step.js';
import { backupPointId } from './record-point.js';
import { backupState } from './state.js';

const TOO_LATE = 'cancel arrived after the snapshot had completed: the backup is kept';

async function snapshotsComplete(ctx: StepContext, job: Job): Promise<boolean> {
  const st = backupState(job);
  if (st.snapshotGroupId) return (await observeGroup(ctx, st.snapshotGroupId, 0)).state === 'done';
  const ids = Object.values(st.snapshots ?? {});
  if (ids.length === 0) return false;
  return (await observeSnapshots(ctx, ids, 0)).every((s) => s?.status === 'accomplished');
}

/**
 * Cancel while snapshots exist: a completed backup is kept (reporting CANCELED would hide a backup
 * that exists); one still being created is deleted by the clean-up, which cancels it in ECS.
 */
export async function cancelWithSnapshots(ctx: StepContext, job: Job): Promise<CancelDecision> {
  return (await snapshotsComplete(ctx, job))
    ? { action: 'too-late', note: TOO_LATE }
    : { action: 'wind-down' };
}

/**
 * Never cut a guest script short: it may hold file systems frozen. Its watchdog and trap thaw, and
 * the group it requests is deleted once it has ended. A script sent before a crash kept its id from
 * the record is given its timeout.
 */
export async function cancelWhileGuestRuns(ctx: StepContext, job: Job): Promise<CancelDecision> {
  const { invokeId, guestLost } = backupState(job);
  if (invokeId) {
    const inv = await ctx.readers.invocations.get(invokeId, 0);
    if (inv && UNFINISHED_INVOCATION.includes(inv.status)) return { action: 'wait' };
  } else if (guestLost && ctx.deps.clock.now() < lostGuestDeadline(job)) {
    return { action: 'wait' };
  }
  return cancelWithSnapshots(ctx, job);
}

/**
 * What a backup job created in ECS: its snapshot group (or per-disk snapshots), including what a
 * crash kept it from recording, found by the job tag; and a point recorded for it. Deleting a
 * snapshot still being created cancels it.
 */
export const createdSnapshots: Resource = {
  name: 'snapshots',
  async release(ctx, job) {
    const { ecs } = ctx.deps;
    const st = backupState(job);
    // A point already recorded with a lock is a backup that exists: a later failure of its job (a
    // crash after the record, then dead-lettering) must not take its snapshots with it.
    const recorded = await ctx.deps.store.points.get(backupPointId(job.id));
    if (recorded && !decideLock(recorded, { kind: 'delete' }, ctx.deps.clock.now(), false).allowed) {
      return { state: 'released', note: `backup ${recorded.id} is locked and kept` };
    }
    const done: string[] = [];
    const groupIds = new Set<string>(st.snapshotGroupId ? [st.snapshotGroupId] : []);
    for (const g of await ecs.findSnapshotGroupsByTag({ key: TAG_JOB, value: job.id }, job.instanceId)) {
      groupIds.add(g.snapshotGroupId);
    }
    for (const id of groupIds) {
      await ecs.deleteSnapshotGroup(id);
      ctx.readers.groups.unwatch(id);
      done.push(`snapshot group ${id} deleted`);
    }
    const snapshotIds = new Set(Object.values(st.snapshots ?? {}));
    if (st.decision?.snapshot === 'per-disk') {
      for (const s of await ecs.findSnapshotsByTag({ key: TAG_JOB, value: job.id }))
        snapshotIds.add(s.snapshotId);
    }
    for (const id of snapshotIds) {
      await ecs.deleteSnapshot(id);
      ctx.readers.snapshots.unwatch(id);
      done.push(`snapshot ${id} deleted`);
    }
    const point = await ctx.deps.store.points.get(backupPointId(job.id));
    if (point && point.status !== 'DELETED') {
      await deleteBackupPoint(ctx.deps, point.id, 'its job was canceled or failed');
    }
    if (st.invokeId) ctx.readers.invocations.unwatch(st.invokeId);
    return { state: 'released', note: done.length > 0 ? done.join(', ') : null };
  },
  leftover(job) {
    const st = backupState(job);
    const ids = [st.snapshotGroupId, ...Object.values(st.snapshots ?? {})].filter(Boolean);
    return ids.length > 0
      ? `delete ${ids.join(', ')} by hand`
      : `delete the snapshots tagged ${TAG_JOB}=${job.id} by hand`;
  },
};
