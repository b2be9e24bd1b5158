import type { Job } from '../../domain/model.js';
import { EcsError } from '../../ports/ecs.js';
import { giveUpCleanup } from './disk-steps.js';
import { backoff, end, stepTimedOut, windDown, type StepContext, type StepResult } from './kit.js';
import { recoveryState } from './state.js';

/** ECS answers meaning "not now": wait and retry, bounded by the start window. */
const BUSY_CODES = new Set([
  'IncorrectDiskStatus',
  'IncorrectDiskStatus.CreatingSnapshot',
  'IncorrectDiskStatus.Initializing',
  'IncorrectInstanceStatus',
  'IdempotentProcessing',
  'LastTokenProcessing',
  'Operation.Conflict',
  'InvalidSnapshot.NotReady',
]);

const ADVICE: Record<string, string> = {
  'InvalidInstanceId.NotFound': 'the instance no longer exists',
  'InvalidDiskId.NotFound': 'the disk no longer exists',
  'InvalidSnapshotId.NotFound': 'the snapshot of this backup no longer exists; choose another backup',
  'InvalidSnapshotId.NotBelongToDisk': 'the snapshot does not come from this disk; use clone-disk instead',
  InstanceDiskZoneMismatch: 'the disk and the instance are in different zones',
  InstanceDiskLimitExceeded: 'the instance has no free disk slot: detach a disk first',
  'QuotaExceed.DiskCapacity': 'the disk quota of the account is used up',
  DiskInArrears: 'the account is in arrears: settle it',
  InstanceLockedForSecurity: 'the instance is locked for security reasons',
  'Forbidden.RAM': 'the function role lacks an ECS permission: check the RAM policy in infra/',
  Forbidden: 'the function role lacks an ECS permission: check the RAM policy in infra/',
};

type Step = (ctx: StepContext, job: Job) => Promise<StepResult>;

/**
 * Wraps a restore, mount or unmount runner so that ECS refusals never reach the backup engine's
 * generic handler (which knows nothing of disks to delete or points to release): transient ones are
 * retried with backoff, the rest wind the job down through its own clean-up.
 */
export function guarded(
  run: Step,
  onCancel: (ctx: StepContext, job: Job) => Promise<StepResult | null>,
): Step {
  return async (ctx, job) => {
    try {
      const st = recoveryState(job);
      if ((job.cancelRequested || job.status === 'CANCELING') && !st.ending && !st.cancelTooLate) {
        const handled = await onCancel(ctx, job);
        if (handled) return handled;
      }
      return await run(ctx, job);
    } catch (err) {
      if (!(err instanceof EcsError)) throw err;
      return onEcsError(ctx, job, err);
    }
  };
}

async function onEcsError(ctx: StepContext, job: Job, err: EcsError): Promise<StepResult> {
  if (err.retryable || BUSY_CODES.has(err.code)) {
    if (!stepTimedOut(ctx, job)) return backoff(ctx, job, err);
    return giveUp(ctx, job, `ECS kept answering ${err.code} at the ${job.step} step: ${err.message}`);
  }
  const advice = ADVICE[err.code];
  return giveUp(
    ctx,
    job,
    `ECS refused the ${job.step} step: ${err.code}: ${err.message}${advice ? ` (${advice})` : ''}`,
  );
}

async function giveUp(ctx: StepContext, job: Job, reason: string): Promise<StepResult> {
  if (job.step === 'cleanup') return giveUpCleanup(ctx, job, reason);
  if (job.type === 'unmount') {
    // The disk is still there, so the mount still holds the point; a new unmount can retry.
    return end(ctx, job, 'FAILED', `${reason}; the disk is still mounted: unmount again to retry`, {
      release: null,
    });
  }
  return windDown(ctx, job, 'FAILED', reason);
}
