import type { Job } from '../../domain/model.js';
import type { EcsSnapshot } from '../../ports/ecs.js';
import type { StepContext, StepResult } from '../jobs/job-kind.js';
import { next, pollSeconds, waitFor, withState } from '../jobs/job-writes.js';
import { windDown } from '../jobs/wind-down.js';
import { isOurs } from './ownership.js';
import { backupState, type BackupJobState } from './state.js';

/** ECS lists a new resource shortly after creating it; this many empty polls mean it is really gone. */
const MAX_MISSING_POLLS = 5;

export type Observed =
  | { state: 'done' }
  | { state: 'progress'; percent: number; members: string[]; ours: boolean }
  | { state: 'failed'; reason: string }
  | { state: 'missing' };

function average(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

export async function observeGroup(ctx: StepContext, groupId: string, maxAgeMs?: number): Promise<Observed> {
  const group = await ctx.readers.groups.get(groupId, maxAgeMs);
  if (!group) return { state: 'missing' };
  if (group.status === 'accomplished') return { state: 'done' };
  if (group.status === 'failed')
    return { state: 'failed', reason: `ECS reports snapshot group ${groupId} failed` };
  return {
    state: 'progress',
    percent: average(group.snapshots.map((s) => s.progress)),
    members: group.snapshots.map((s) => s.snapshotId),
    ours: isOurs(group.tags),
  };
}

export async function observeSnapshots(
  ctx: StepContext,
  ids: string[],
  maxAgeMs?: number,
): Promise<(EcsSnapshot | null | undefined)[]> {
  return Promise.all(ids.map((id) => ctx.readers.snapshots.get(id, maxAgeMs)));
}

async function missingResource(ctx: StepContext, job: Job, what: string): Promise<StepResult> {
  const misses = (backupState(job).missingPolls ?? 0) + 1;
  if (misses > MAX_MISSING_POLLS) {
    return windDown(ctx, job, 'FAILED', `${what} vanished from ECS before completing; run the backup again`);
  }
  return waitFor(ctx, job, pollSeconds(ctx), {
    state: withState<BackupJobState>(job, { missingPolls: misses }),
  });
}

/**
 * Polls the group (or the per-disk snapshots) through the batched readers until they complete. A
 * group is read once to learn its member snapshots; after that the job polls those snapshots, since
 * DescribeSnapshots takes 100 ids a call and DescribeSnapshotGroups only 10: with a thousand backups
 * in flight, polling groups would cost a call for every ten jobs on every round.
 */
export async function pollStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const st = backupState(job);
  if (!st.snapshotGroupId) return pollSnapshots(ctx, job);
  const members = st.groupSnapshotIds ?? [];
  if (members.length > 0) {
    const seen = await observeSnapshots(ctx, members);
    const settled = seen.every((s) => s && s.status !== 'progressing');
    // Every member done: the group is done (ECS derives its status from them).
    if (settled && seen.every((s) => s?.status === 'accomplished')) return next(ctx, job, 'record', {}, 95);
    if (!settled && seen.every((s) => s)) {
      const percent = average(seen.map((s) => (s!.status === 'accomplished' ? 100 : s!.progress)));
      return waitFor(ctx, job, pollSeconds(ctx), {
        progress: Math.max(job.progress, Math.round(15 + percent * 0.8)),
        state: withState<BackupJobState>(job, { missingPolls: 0 }),
      });
    }
    // A member failed or vanished: the group's own status says what happened to the whole.
  }
  return pollGroup(ctx, job, st.snapshotGroupId);
}

async function pollGroup(ctx: StepContext, job: Job, groupId: string): Promise<StepResult> {
  const seen = await observeGroup(ctx, groupId);
  // Still cached: the record step reads the snapshot list from this observation.
  if (seen.state === 'done') return next(ctx, job, 'record', {}, 95);
  if (seen.state === 'failed') return windDown(ctx, job, 'FAILED', `${seen.reason}; run the backup again`);
  if (seen.state === 'missing') return missingResource(ctx, job, `snapshot group ${groupId}`);
  const progress = Math.max(job.progress, Math.round(15 + seen.percent * 0.8));
  const fields: Partial<BackupJobState> = { missingPolls: 0 };
  if (seen.members.length > 0 && !backupState(job).groupSnapshotIds?.length) {
    fields.groupSnapshotIds = seen.members;
    fields.groupOurs = seen.ours;
    for (const id of seen.members) ctx.readers.snapshots.watch(id);
    // Its members answer from now on: refreshing the group on the side of other reads would be waste.
    ctx.readers.groups.unwatch(groupId);
  }
  return waitFor(ctx, job, pollSeconds(ctx), { progress, state: withState<BackupJobState>(job, fields) });
}

/** Per-disk snapshots: one that fails makes the job partial; all failing fails it. */
async function pollSnapshots(ctx: StepContext, job: Job): Promise<StepResult> {
  const st = backupState(job);
  const entries = Object.entries(st.snapshots ?? {});
  if (entries.length === 0) return windDown(ctx, job, 'FAILED', 'no snapshot was recorded for this job');
  const seen = await observeSnapshots(
    ctx,
    entries.map(([, id]) => id),
  );
  const failedDisks: Record<string, string> = { ...(st.failedDisks ?? {}) };
  const snapshots: Record<string, string> = {};
  let pending = 0;
  let percent = 0;
  let missing = 0;
  entries.forEach(([diskId, id], i) => {
    const s = seen[i];
    if (!s) {
      missing += 1;
      snapshots[diskId] = id;
    } else if (s.status === 'failed') failedDisks[diskId] = `snapshot ${id} of ${diskId} failed in ECS`;
    else {
      snapshots[diskId] = id;
      if (s.status === 'progressing') pending += 1;
      percent += s.status === 'accomplished' ? 100 : s.progress;
    }
  });
  if (missing > 0) return missingResource(ctx, job, `${missing} snapshot(s)`);
  if (Object.keys(snapshots).length === 0) {
    const reason = `every snapshot failed: ${Object.values(failedDisks).join('; ')}; run the backup again`;
    return windDown(ctx, job, 'FAILED', reason);
  }
  if (pending > 0) {
    const progress = Math.max(job.progress, Math.round(15 + (percent / entries.length) * 0.8));
    return waitFor(ctx, job, pollSeconds(ctx), {
      progress,
      state: withState<BackupJobState>(job, { snapshots, failedDisks, missingPolls: 0 }),
    });
  }
  return next<BackupJobState>(ctx, job, 'record', { snapshots, failedDisks }, 95);
}
