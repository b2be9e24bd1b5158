import type { Job } from '../../domain/model.js';
import type { JobKind, StepContext, StepResult } from '../jobs/job-kind.js';
import { begin, next } from '../jobs/job-writes.js';
import { windDown } from '../jobs/wind-down.js';
import { checkRestore, refusalReason, type ResolvedRecovery } from './check.js';
import { attachStep, createDiskStep, waitAttachStep, waitDiskStep } from './disk-steps.js';
import { completeRecovery, createdDisk, pointClaim, stoppedInstance } from './held-resources.js';
import { claimPoint } from './point-use.js';
import {
  cancelRollback,
  resetStep,
  startInstanceStep,
  stopInstanceStep,
  waitResetStep,
  waitStartedStep,
  waitStoppedStep,
} from './rollback-steps.js';
import { recoveryState, restoreParams, type RecoveryState } from './state.js';

/** Re-checks what the API checked (the world may have changed while the job was queued), then runs. */
async function startStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const checked = await checkRestore(ctx.deps, restoreParams(job), {
    selfJobId: job.id,
    requireStopped: false,
  });
  if (!checked.ok) return windDown(ctx, job, 'FAILED', refusalReason(checked));
  return enterClaim(ctx, job, checked.value);
}

/** A checked restore or mount becomes RUNNING at step `claim`, remembering what it will work on. */
export async function enterClaim(
  ctx: StepContext,
  job: Job,
  resolved: ResolvedRecovery,
): Promise<StepResult> {
  const { point, targets, instance } = resolved;
  const patch: Partial<RecoveryState> = { pointId: point.id, targets, zoneId: instance.zoneId };
  return begin(ctx, job, 'claim', patch, 5);
}

/** Adds the job to the point's `inUseBy`, so the point cannot be deleted while the job uses it. */
export function claimStep(first: (job: Job) => string) {
  return async (ctx: StepContext, job: Job): Promise<StepResult> => {
    const claimed = await claimPoint(ctx.deps, recoveryState(job).pointId ?? '', job.id, {
      fromCopy: typeof job.params.regionId === 'string',
    });
    if (!claimed.ok) return windDown(ctx, job, 'FAILED', claimed.reason);
    return next(ctx, job, first(job), {}, 10);
  };
}

async function cloned(ctx: StepContext, job: Job, device: string | null): Promise<StepResult> {
  const st = recoveryState(job);
  const reason = [
    `disk ${st.diskId} created from ${st.targets?.[0]?.snapshotId} and attached to ${job.instanceId} as ${device ?? 'a device'}`,
    ...(st.notes ?? []),
  ].join('; ');
  return completeRecovery(ctx, job, reason, { release: job.id, patch: { device }, progress: 100 });
}

/**
 * A restore job (design §2, HBR's restore types):
 * - rollback-disk / rollback-instance: start → claim → the rollback steps → COMPLETE
 * - clone-disk: start → claim → create-disk → wait-disk → attach → wait-attach → COMPLETE
 * Failures and cancels clean up: the disk it created is deleted, an instance it stopped started
 * again, the point released.
 */
export const restoreKind: JobKind = {
  type: 'restore',
  firstStep: 'start',
  steps: {
    start: startStep,
    claim: claimStep((job) => (restoreParams(job).mode === 'clone-disk' ? 'create-disk' : 'stop-instance')),
    'stop-instance': stopInstanceStep,
    'wait-stopped': waitStoppedStep,
    reset: resetStep,
    'wait-reset': waitResetStep,
    'start-instance': startInstanceStep,
    'wait-started': waitStartedStep,
    'create-disk': createDiskStep,
    'wait-disk': waitDiskStep,
    attach: attachStep,
    'wait-attach': waitAttachStep(cloned),
  },
  cancel: {
    reset: cancelRollback,
    'wait-reset': cancelRollback,
    'start-instance': cancelRollback,
    'wait-started': cancelRollback,
  },
  holds: [createdDisk, stoppedInstance, pointClaim],
};
