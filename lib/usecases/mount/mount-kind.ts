import type { Job } from '../../domain/model.js';
import type { CancelDecision, JobKind, StepContext, StepResult } from '../jobs/job-kind.js';
import { begin, finish, pollSeconds, stepTimedOut, waitFor } from '../jobs/job-writes.js';
import { windDown } from '../jobs/wind-down.js';
import { checkMount, refusalReason } from '../restore/check.js';
import { attachStep, createDiskStep, waitAttachStep, waitDiskStep } from '../restore/disk-steps.js';
import { completeRecovery, createdDisk, pointClaim, removeDisk } from '../restore/held-resources.js';
import { claimStep, enterClaim } from '../restore/restore-kind.js';
import { mountParams, recoveryState, unmountParams, type RecoveryState } from '../restore/state.js';

const HOUR_MS = 3_600_000;

async function startMount(ctx: StepContext, job: Job): Promise<StepResult> {
  const checked = await checkMount(ctx.deps, mountParams(job));
  if (!checked.ok) return windDown(ctx, job, 'FAILED', refusalReason(checked));
  return enterClaim(ctx, job, checked.value);
}

/** The TTL runs from the moment the disk is usable, not from the request. */
async function mounted(ctx: StepContext, job: Job, device: string | null): Promise<StepResult> {
  const st = recoveryState(job);
  const now = ctx.deps.clock.now();
  const expiresAt = now + mountParams(job).ttlHours * HOUR_MS;
  const reason = `disk ${st.diskId} (from ${st.targets?.[0]?.snapshotId}) attached to ${job.instanceId} as ${
    device ?? 'a device'
  } until ${new Date(expiresAt).toISOString()}`;
  // The point stays claimed by the mount until its unmount job releases it.
  return completeRecovery(ctx, job, reason, {
    release: null,
    patch: { device, mountedAt: now, expiresAt },
    progress: 100,
  });
}

/**
 * A mount job: start → claim → create-disk → wait-disk → attach → wait-attach → COMPLETE, the disk
 * attached to the chosen instance and the point still claimed. A mount that cannot attach cleans up:
 * the disk it created is deleted and the point released.
 */
export const mountKind: JobKind = {
  type: 'mount',
  firstStep: 'start',
  steps: {
    start: startMount,
    claim: claimStep(() => 'create-disk'),
    'create-disk': createDiskStep,
    'wait-disk': waitDiskStep,
    attach: attachStep,
    'wait-attach': waitAttachStep(mounted),
  },
  holds: [createdDisk, pointClaim],
};

const STILL_MOUNTED = 'the disk is still mounted: unmount again to retry';

async function startUnmount(ctx: StepContext, job: Job): Promise<StepResult> {
  const { mountJobId } = unmountParams(job);
  const mount = await ctx.deps.store.jobs.get(mountJobId);
  const refuse = (reason: string) => finish(ctx, job, 'FAILED', reason);
  if (!mount || mount.type !== 'mount') return refuse(`mount job ${mountJobId} does not exist`);
  if (mount.status !== 'COMPLETE')
    return refuse(`mount job ${mountJobId} is ${mount.status}; nothing is mounted`);
  const ms = recoveryState(mount);
  if (!ms.diskId || !ms.pointId) return refuse(`mount job ${mountJobId} recorded no disk`);
  const patch: Partial<RecoveryState> = {
    mountJobId,
    pointId: ms.pointId,
    diskId: ms.diskId,
    diskOwnerJobId: mount.id,
    device: ms.device ?? null,
  };
  return begin(ctx, job, 'remove-disk', patch, 10);
}

async function removeDiskStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const st = recoveryState(job);
  const mountJobId = st.mountJobId ?? unmountParams(job).mountJobId;
  const removal = await removeDisk(ctx, st.diskId ?? '', st.diskOwnerJobId ?? mountJobId);
  if (removal.state === 'wait') {
    if (stepTimedOut(ctx, job)) {
      return windDown(
        ctx,
        job,
        'FAILED',
        `disk ${st.diskId} could not be detached and deleted in time; ${STILL_MOUNTED}`,
      );
    }
    return waitFor(ctx, job, pollSeconds(ctx));
  }
  const text =
    removal.state === 'released'
      ? (removal.note ?? `disk ${st.diskId} deleted`)
      : `${removal.note}; the backup is released`;
  const reason = [text, ...(st.notes ?? [])].join('; ');
  return completeRecovery(ctx, job, reason, { release: mountJobId, progress: 100 });
}

/** Once the detach is under way a cancel cannot put the disk back: it is noted and the unmount completes. */
function cancelUnmount(): CancelDecision {
  return {
    action: 'too-late',
    note: 'cancel arrived after the disk was being detached; the unmount was completed',
  };
}

/**
 * An unmount job: start → remove-disk (detach, wait for Available, delete) → COMPLETE, and the
 * mount's claim on the point is released. It holds nothing of its own: a failed unmount leaves the
 * mount as it was.
 */
export const unmountKind: JobKind = {
  type: 'unmount',
  firstStep: 'start',
  steps: { start: startUnmount, 'remove-disk': removeDiskStep },
  cancel: { 'remove-disk': cancelUnmount },
  holds: [],
  failureHint: STILL_MOUNTED,
};
