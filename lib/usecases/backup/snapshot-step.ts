import type { Job } from '../../domain/model.js';
import { EcsNotFoundError, EcsTokenReusedError, EcsUnsupportedError } from '../../ports/ecs.js';
import type { StepContext, StepResult } from '../jobs/job-kind.js';
import { goTo, next, noted, pollSeconds } from '../jobs/job-writes.js';
import { windDown } from '../jobs/wind-down.js';
import { startGuest } from './guest-step.js';
import { ownershipTags, partToken, snapshotName, TAG_JOB } from './ownership.js';
import { findOwnGroup, groupRequest } from './snapshot-group.js';
import { prepareStep } from './start-step.js';
import { backupState, type BackupJobState, type ResolvedDisk } from './state.js';

/**
 * Takes the snapshot the decision asks for: a group directly, per-disk snapshots, or a guest script
 * that requests the group while file systems are frozen. A step found in the record but not entered
 * by this delivery is a resume after a crash: what was created before it is adopted, never repeated.
 */
export async function snapshotStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const st = backupState(job);
  const decision = st.decision;
  const disks = st.disks ?? [];
  if (!decision) return prepareStep(ctx, job);
  const resumed = !ctx.entered.has('snapshot');
  if (decision.snapshot === 'per-disk') return perDiskSnapshots(ctx, job, disks, resumed);
  if (decision.method === 'guest-linux' || decision.method === 'guest-windows') {
    return startGuest(ctx, job, disks, decision, resumed);
  }
  let groupId = resumed ? (await findOwnGroup(ctx, job))?.snapshotGroupId : undefined;
  if (!groupId) {
    try {
      groupId = await ctx.deps.ecs.createSnapshotGroup(groupRequest(job, disks));
    } catch (err) {
      if (err instanceof EcsUnsupportedError) {
        const reason = `ECS refused a snapshot group (${err.message}); per-disk crash-consistent snapshots`;
        return next<BackupJobState>(ctx, job, 'snapshot', {
          decision: { ...decision, snapshot: 'per-disk', expected: 'crash', method: 'direct', reason },
          notes: noted(job, reason),
        });
      }
      if (!(err instanceof EcsTokenReusedError)) throw err;
      // The token already made a group (another request shape after a change of disks): adopt it.
      groupId = (await findOwnGroup(ctx, job))?.snapshotGroupId;
      if (!groupId) throw err;
    }
  }
  ctx.readers.groups.watch(groupId);
  const saved = await goTo<BackupJobState>(ctx, job, 'poll', { snapshotGroupId: groupId }, 15);
  return { next: 'wait', job: saved, delaySeconds: pollSeconds(ctx) };
}

/** Non-ESSD disks cannot form a group: one crash-consistent snapshot per disk, each with its own token. */
async function perDiskSnapshots(
  ctx: StepContext,
  job: Job,
  disks: ResolvedDisk[],
  resumed: boolean,
): Promise<StepResult> {
  const st = backupState(job);
  const snapshots: Record<string, string> = { ...(st.snapshots ?? {}) };
  const failedDisks: Record<string, string> = { ...(st.failedDisks ?? {}) };
  if (resumed) {
    for (const s of await ctx.deps.ecs.findSnapshotsByTag({ key: TAG_JOB, value: job.id })) {
      snapshots[s.sourceDiskId] ??= s.snapshotId;
    }
  }
  for (const disk of disks) {
    if (snapshots[disk.diskId] || failedDisks[disk.diskId]) continue;
    try {
      snapshots[disk.diskId] = await ctx.deps.ecs.createSnapshot({
        diskId: disk.diskId,
        name: snapshotName(job.id, `-${disk.diskId}`),
        description: `ecs-backup job ${job.id} disk ${disk.diskId}`,
        tags: ownershipTags(job),
        clientToken: partToken(job.id, disk.diskId),
      });
    } catch (err) {
      if (!(err instanceof EcsNotFoundError)) throw err;
      // The retry adopts what was created so far (job tag, per-disk ClientToken) and goes on.
      failedDisks[disk.diskId] = `disk ${disk.diskId} disappeared before its snapshot: ${err.code}`;
    }
  }
  if (Object.keys(snapshots).length === 0) {
    return windDown(
      ctx,
      job,
      'FAILED',
      `no snapshot could be taken: ${Object.values(failedDisks).join('; ')}`,
    );
  }
  for (const id of Object.values(snapshots)) ctx.readers.snapshots.watch(id);
  const saved = await goTo<BackupJobState>(ctx, job, 'poll', { snapshots, failedDisks }, 15);
  return { next: 'wait', job: saved, delaySeconds: pollSeconds(ctx) };
}
