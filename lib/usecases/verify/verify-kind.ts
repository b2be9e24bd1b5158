import type { Job } from '../../domain/model.js';
import { helperRefusal } from '../../domain/verification.js';
import type { JobKind, StepContext, StepResult } from '../jobs/job-kind.js';
import { begin, finish, next, pollSeconds, stepTimedOut, waitFor } from '../jobs/job-writes.js';
import { windDown } from '../jobs/wind-down.js';
import { pointClaim } from '../restore/held-resources.js';
import { claimPoint, releasePoint } from '../restore/point-use.js';
import { attachStep, createDisksStep, waitDisksStep } from './disk-steps.js';
import { runGuestStep, waitGuestStep } from './guest-steps.js';
import { failedVerdict, verifyCommand, verifyDisks } from './held.js';
import { recordVerification } from './record.js';
import { verifyParams, verifyState, type VerifyDisk, type VerifyState } from './state.js';

/**
 * Picks the helper (the plan's, else the backed-up instance) in the backup's zone. A helper that
 * cannot take the disks is a failed verification with that reason, recorded on the point.
 */
async function startVerify(ctx: StepContext, job: Job): Promise<StepResult> {
  const p = verifyParams(job);
  const point = await ctx.deps.store.points.get(p.pointId);
  if (!point) return windDown(ctx, job, 'FAILED', `backup ${p.pointId} no longer exists`);
  if (point.status !== 'AVAILABLE') {
    return windDown(ctx, job, 'FAILED', `backup ${p.pointId} is ${point.status} and cannot be verified`);
  }
  const helperId = p.helperInstanceId ?? point.instanceId;
  const [helper] = await ctx.deps.ecs.describeInstances([helperId]);
  const zoneId = point.source?.zoneId ?? helper?.zoneId ?? '';
  const refusal = helperRefusal(helper?.instanceId === helperId ? helper : undefined, {
    instanceId: helperId,
    zoneId,
    chosen: p.helperInstanceId !== null,
  });
  if (refusal) {
    await recordVerification(ctx.deps, job, { status: 'failed', reason: `no helper: ${refusal}` });
    return windDown(ctx, job, 'FAILED', `no helper: ${refusal}`);
  }
  const disks: VerifyDisk[] = point.snapshots.map((s) => ({
    sourceDiskId: s.diskId,
    snapshotId: s.snapshotId,
    category: s.category,
  }));
  return begin<VerifyState>(ctx, job, 'claim', { pointId: point.id, zoneId, helperId, disks }, 5);
}

/** The job is in the point's `inUseBy` until it ends: the point cannot be deleted under it. */
async function claimStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const claimed = await claimPoint(ctx.deps, verifyState(job).pointId ?? '', job.id);
  if (!claimed.ok) return windDown(ctx, job, 'FAILED', claimed.reason);
  return next(ctx, job, 'create-disks', {}, 10);
}

/** The verdict is in the state: the disks go before it is recorded, so a recorded verdict means nothing is left. */
async function removeDisksStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const out = await verifyDisks.release(ctx, job);
  const current = ctx.current?.id === job.id && ctx.current.version > job.version ? ctx.current : job;
  if (out.state === 'wait') {
    if (stepTimedOut(ctx, current)) {
      return windDown(
        ctx,
        current,
        'FAILED',
        'the temporary disks could not be detached and deleted in time',
      );
    }
    return waitFor(ctx, current, pollSeconds(ctx));
  }
  return next(ctx, current, 'record', {}, 95);
}

async function recordStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const verdict = verifyState(job).verdict ?? {
    status: 'failed' as const,
    reason: 'no verdict was recorded',
  };
  await recordVerification(ctx.deps, job, verdict);
  await releasePoint(ctx.deps, verifyState(job).pointId ?? '', job.id);
  const reason = `verification ${verdict.status}${verdict.reason ? `: ${verdict.reason}` : ''}`;
  return finish(ctx, job, verdict.status === 'passed' ? 'COMPLETE' : 'FAILED', reason, { progress: 100 });
}

/**
 * A verify job (a restore test): start (helper) → claim → create-disks → wait-disks → attach →
 * run-guest → wait-guest (fsck, read-only mount, the operator's check script) → remove-disks →
 * record (the verdict on the point; `backup.verification-failed` when it failed). A job that cannot
 * finish records a failed verification with its reason; failure and cancel wait for the command,
 * then detach and delete the disks and release the point.
 */
export const verifyKind: JobKind = {
  type: 'verify',
  firstStep: 'start',
  steps: {
    start: startVerify,
    claim: claimStep,
    'create-disks': createDisksStep,
    'wait-disks': waitDisksStep,
    attach: attachStep,
    'run-guest': runGuestStep,
    'wait-guest': waitGuestStep,
    'remove-disks': removeDisksStep,
    record: recordStep,
  },
  holds: [verifyCommand, verifyDisks, failedVerdict, pointClaim],
  failureHint: 'check the helper instance (Running, Linux, the backup zone) and the disks of the backup',
};
