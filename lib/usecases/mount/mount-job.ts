import { transition } from '../../domain/job.js';
import type { Job } from '../../domain/model.js';
import { save } from '../backup/backup-steps.js';
import { checkMount, refusalReason } from '../restore/check.js';
import {
  attachStep,
  cleanupStep,
  createDiskStep,
  removeDisk,
  waitAttachStep,
  waitDiskStep,
} from '../restore/disk-steps.js';
import { guarded } from '../restore/guard.js';
import {
  end,
  noted,
  pollSeconds,
  record,
  stepTimedOut,
  waitHere,
  windDown,
  withState,
  type StepContext,
  type StepResult,
} from '../restore/kit.js';
import { claimStep, enterClaim } from '../restore/restore-job.js';
import { mountParams, recoveryState, unmountParams, type RecoveryState } from '../restore/state.js';

const HOUR_MS = 3_600_000;

/**
 * A mount job: start → claim → create-disk → wait-disk → attach → wait-attach → COMPLETE, the disk
 * attached to the chosen instance and the point still claimed (it stays in `inUseBy` until an
 * unmount job releases it). A mount that cannot attach winds down through `cleanup`, which deletes
 * the disk it created and releases the point.
 */
export const runMountStep = guarded(
  async (ctx, job) => {
    switch (job.step) {
      case 'start':
        return startMount(ctx, job);
      case 'claim':
        return claimStep(ctx, job, 'create-disk');
      case 'create-disk':
        return createDiskStep(ctx, job);
      case 'wait-disk':
        return waitDiskStep(ctx, job);
      case 'attach':
        return attachStep(ctx, job);
      case 'wait-attach':
        return waitAttachStep(ctx, job, (current, device) => mounted(ctx, current, device));
      case 'cleanup':
        return cleanupStep(ctx, job);
      default:
        return windDown(ctx, job, 'FAILED', `unknown mount step "${job.step}"`);
    }
  },
  (ctx, job) => windDown(ctx, job, 'CANCELED', 'canceled by request'),
);

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
  return end(ctx, job, 'COMPLETE', reason, {
    release: null,
    patch: { device, mountedAt: now, expiresAt },
    progress: 100,
  });
}

/**
 * An unmount job: start → remove-disk (detach, wait for Available, delete) → COMPLETE, and the
 * mount's claim on the point is released. Once the detach is under way a cancel cannot put the disk
 * back, so it is noted and the unmount completes.
 */
export const runUnmountStep = guarded(
  async (ctx, job) => {
    switch (job.step) {
      case 'start':
        return startUnmount(ctx, job);
      case 'remove-disk':
        return removeDiskStep(ctx, job);
      default:
        return end(ctx, job, 'FAILED', `unknown unmount step "${job.step}"`, { release: null });
    }
  },
  async (ctx, job) => {
    if (job.step === 'start') return windDown(ctx, job, 'CANCELED', 'canceled before it started');
    const saved = await record(ctx, job, {
      cancelTooLate: true,
      notes: noted(job, 'cancel arrived after the disk was being detached; the unmount was completed'),
    });
    return { next: 'continue', job: saved };
  },
);

async function startUnmount(ctx: StepContext, job: Job): Promise<StepResult> {
  const { mountJobId } = unmountParams(job);
  const mount = await ctx.deps.store.jobs.get(mountJobId);
  const refuse = (reason: string) => end(ctx, job, 'FAILED', reason, { release: null });
  if (!mount || mount.type !== 'mount') return refuse(`mount job ${mountJobId} does not exist`);
  if (mount.status !== 'COMPLETE')
    return refuse(`mount job ${mountJobId} is ${mount.status}; nothing is mounted`);
  const ms = recoveryState(mount);
  if (!ms.diskId || !ms.pointId) return refuse(`mount job ${mountJobId} recorded no disk`);
  const now = ctx.deps.clock.now();
  ctx.entered.add('remove-disk');
  const patch: Partial<RecoveryState> = {
    mountJobId,
    pointId: ms.pointId,
    diskId: ms.diskId,
    diskOwnerJobId: mount.id,
    device: ms.device ?? null,
    stepSince: now,
  };
  const started = transition(job, 'RUNNING', now, {
    step: 'remove-disk',
    progress: 10,
    state: withState(job, patch),
  });
  return { next: 'continue', job: await save(ctx, job, started) };
}

async function removeDiskStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const st = recoveryState(job);
  const mountJobId = st.mountJobId ?? unmountParams(job).mountJobId;
  const removal = await removeDisk(ctx, st.diskId ?? '', st.diskOwnerJobId ?? mountJobId);
  if (removal.state === 'wait') {
    if (stepTimedOut(ctx, job)) {
      return end(
        ctx,
        job,
        'FAILED',
        `disk ${st.diskId} could not be detached and deleted in time; it is still mounted: unmount again to retry`,
        { release: null },
      );
    }
    return waitHere(ctx, job, pollSeconds(ctx));
  }
  const text = removal.state === 'removed' ? removal.note : `${removal.why}; the backup is released`;
  const reason = [text, ...(st.notes ?? [])].join('; ');
  return end(ctx, job, 'COMPLETE', reason, { release: mountJobId, progress: 100 });
}
