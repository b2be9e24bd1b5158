import { transition } from '../../domain/job.js';
import type { Job } from '../../domain/model.js';
import type { EcsInstance } from '../../ports/ecs.js';
import { save } from '../backup/backup-steps.js';
import { checkRestore, refusalReason, type ResolvedRecovery } from './check.js';
import {
  attachStep,
  cleanupStep,
  createDiskStep,
  readDisk,
  waitAttachStep,
  waitDiskStep,
} from './disk-steps.js';
import { guarded } from './guard.js';
import {
  end,
  next,
  noted,
  pollSeconds,
  record,
  stepTimedOut,
  waitHere,
  windDown,
  withState,
  type StepContext,
  type StepResult,
} from './kit.js';
import { claimPoint } from './point-use.js';
import { recoveryState, restoreParams, type RecoveryState } from './state.js';

/**
 * A restore job (design §2, HBR's restore types):
 * - rollback-disk / rollback-instance: start → claim → stop-instance → wait-stopped → reset →
 *   wait-reset → [start-instance → wait-started, when the job stopped it] → COMPLETE
 * - clone-disk: start → claim → create-disk → wait-disk → attach → wait-attach → COMPLETE
 * Every step is one conditional write on the job; failures and cancels go through `cleanup`,
 * which deletes a disk the job created, starts an instance it stopped and releases the point.
 */
export const runRestoreStep = guarded(async (ctx, job) => {
  switch (job.step) {
    case 'start':
      return startStep(ctx, job);
    case 'claim':
      return claimStep(ctx, job, restoreParams(job).mode === 'clone-disk' ? 'create-disk' : 'stop-instance');
    case 'stop-instance':
      return stopInstanceStep(ctx, job);
    case 'wait-stopped':
      return waitStoppedStep(ctx, job);
    case 'reset':
      return resetStep(ctx, job);
    case 'wait-reset':
      return waitResetStep(ctx, job);
    case 'start-instance':
      return startInstanceStep(ctx, job);
    case 'wait-started':
      return waitStartedStep(ctx, job);
    case 'create-disk':
      return createDiskStep(ctx, job);
    case 'wait-disk':
      return waitDiskStep(ctx, job);
    case 'attach':
      return attachStep(ctx, job);
    case 'wait-attach':
      return waitAttachStep(ctx, job, (current, device) => cloned(ctx, current, device));
    case 'cleanup':
      return cleanupStep(ctx, job);
    default:
      return windDown(ctx, job, 'FAILED', `unknown restore step "${job.step}"`);
  }
}, onCancel);

/** A rollback whose disks are being reset cannot be undone: it completes and says the cancel came too late. */
async function onCancel(ctx: StepContext, job: Job): Promise<StepResult | null> {
  if ((recoveryState(job).resetIssued ?? []).length > 0) {
    const saved = await record(ctx, job, {
      cancelTooLate: true,
      notes: noted(job, 'cancel arrived after the disks were being reset; the rollback was completed'),
    });
    return { next: 'continue', job: saved };
  }
  return windDown(ctx, job, 'CANCELED', 'canceled by request');
}

/** Re-checks what the API checked (the world may have changed while the job was queued), then runs. */
async function startStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const params = restoreParams(job);
  const checked = await checkRestore(ctx.deps, params, { selfJobId: job.id, requireStopped: false });
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
  const now = ctx.deps.clock.now();
  ctx.entered.add('claim');
  const patch: Partial<RecoveryState> = {
    pointId: point.id,
    targets,
    zoneId: instance.zoneId,
    stepSince: now,
  };
  const started = transition(job, 'RUNNING', now, {
    step: 'claim',
    progress: 5,
    state: withState(job, patch),
  });
  return { next: 'continue', job: await save(ctx, job, started) };
}

export async function claimStep(ctx: StepContext, job: Job, first: string): Promise<StepResult> {
  const pointId = recoveryState(job).pointId ?? '';
  const claimed = await claimPoint(ctx.deps, pointId, job.id);
  if (!claimed.ok) return windDown(ctx, job, 'FAILED', claimed.reason);
  return next(ctx, job, first, {}, 10);
}

async function readInstance(ctx: StepContext, job: Job): Promise<EcsInstance | undefined> {
  const [instance] = await ctx.deps.ecs.describeInstances([job.instanceId]);
  return instance;
}

const gone = (job: Job) => `instance ${job.instanceId} no longer exists`;

async function stopInstanceStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const instance = await readInstance(ctx, job);
  if (!instance) return windDown(ctx, job, 'FAILED', gone(job));
  const st = recoveryState(job);
  const allowed = restoreParams(job).stopInstance || st.stoppedByUs === true;
  switch (instance.status) {
    case 'Stopped':
      return next(ctx, job, 'reset', {}, 30);
    case 'Stopping':
      return next(ctx, job, 'wait-stopped', {}, 20);
    case 'Running': {
      if (!allowed) {
        return windDown(
          ctx,
          job,
          'FAILED',
          `instance ${job.instanceId} is Running; a rollback needs it Stopped: stop it first, or send stopInstance: true`,
        );
      }
      // Recorded before the call: if the worker dies right after StopInstance, the retry still knows
      // the instance has to be started again at the end.
      const current = st.stoppedByUs ? job : await record(ctx, job, { stoppedByUs: true });
      await ctx.deps.ecs.stopInstance(job.instanceId);
      return next(ctx, current, 'wait-stopped', {}, 20);
    }
    default:
      if (stepTimedOut(ctx, job)) {
        return windDown(ctx, job, 'FAILED', `instance ${job.instanceId} stayed ${instance.status}`);
      }
      return waitHere(ctx, job, pollSeconds(ctx));
  }
}

async function waitStoppedStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const instance = await readInstance(ctx, job);
  if (!instance) return windDown(ctx, job, 'FAILED', gone(job));
  if (instance.status === 'Stopped') return next(ctx, job, 'reset', {}, 30);
  if (instance.status === 'Running' && !recoveryState(job).stoppedByUs) {
    return windDown(ctx, job, 'FAILED', `instance ${job.instanceId} was started again before the rollback`);
  }
  if (stepTimedOut(ctx, job)) {
    return windDown(ctx, job, 'FAILED', `instance ${job.instanceId} did not stop (it is ${instance.status})`);
  }
  if (instance.status === 'Running') return next(ctx, job, 'stop-instance');
  return waitHere(ctx, job, pollSeconds(ctx));
}

/**
 * ResetDisk per disk. Which disks are being reset is recorded before the first call, so a cancel
 * arriving at any moment after can tell that the rollback has begun. Sending ResetDisk again for a
 * disk already reset from the same snapshot (a retry after a crash) changes nothing.
 */
async function resetStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const st = recoveryState(job);
  const targets = st.targets ?? [];
  const instance = await readInstance(ctx, job);
  if (!instance) return windDown(ctx, job, 'FAILED', gone(job));
  if (instance.status !== 'Stopped') {
    if (st.stoppedByUs && (st.resetIssued ?? []).length === 0) return next(ctx, job, 'stop-instance');
    return windDown(
      ctx,
      job,
      'FAILED',
      `instance ${job.instanceId} was started (${instance.status}) while its disks were to be reset`,
    );
  }
  const backups = await ctx.deps.store.jobs.list(
    { type: 'backup', instanceId: job.instanceId, status: ['RUNNING', 'CANCELING'] },
    { limit: 1 },
  );
  const backup = backups.items[0];
  if (backup && (st.resetIssued ?? []).length === 0) {
    if (stepTimedOut(ctx, job)) {
      return windDown(
        ctx,
        job,
        'FAILED',
        `backup job ${backup.id} of ${job.instanceId} did not finish in time`,
      );
    }
    return waitHere(ctx, job, pollSeconds(ctx));
  }
  let current = job;
  if ((st.resetIssued ?? []).length < targets.length) {
    current = await record(ctx, job, { resetIssued: targets.map((t) => t.diskId) });
  }
  const resumed = !ctx.entered.has('reset');
  for (const t of targets) {
    if (resumed) {
      const disk = await readDisk(ctx, t.diskId);
      if (disk?.status === 'ReIniting') continue;
    }
    await ctx.deps.ecs.resetDisk(t.diskId, t.snapshotId);
  }
  return next(ctx, current, 'wait-reset', {}, 50);
}

async function waitResetStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const st = recoveryState(job);
  const ids = (st.targets ?? []).map((t) => t.diskId);
  const disks = await ctx.deps.ecs.describeDisks(ids);
  const busy = disks.filter((d) => d.status === 'ReIniting');
  if (busy.length > 0 || disks.length < ids.length) {
    if (stepTimedOut(ctx, job)) {
      return windDown(ctx, job, 'FAILED', `disk(s) ${busy.map((d) => d.diskId).join(', ')} stayed ReIniting`);
    }
    return waitHere(ctx, job, pollSeconds(ctx));
  }
  if (st.stoppedByUs) return next(ctx, job, 'start-instance', {}, 80);
  return rolledBack(ctx, job);
}

async function startInstanceStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const instance = await readInstance(ctx, job);
  if (!instance) return windDown(ctx, job, 'FAILED', gone(job));
  if (instance.status === 'Stopped') await ctx.deps.ecs.startInstance(job.instanceId);
  else if (instance.status === 'Stopping') return waitHere(ctx, job, pollSeconds(ctx));
  return next(ctx, job, 'wait-started', { instanceRestarted: true }, 90);
}

async function waitStartedStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const instance = await readInstance(ctx, job);
  if (!instance) return windDown(ctx, job, 'FAILED', gone(job));
  if (instance.status === 'Running') return rolledBack(ctx, job);
  if (instance.status === 'Stopped') return next(ctx, job, 'start-instance');
  if (stepTimedOut(ctx, job)) {
    // The disks are rolled back; only the start is missing, and a person can do that.
    return end(
      ctx,
      job,
      'COMPLETE',
      `rolled back, but ${job.instanceId} did not start (${instance.status}): start it`,
      {
        release: job.id,
      },
    );
  }
  return waitHere(ctx, job, pollSeconds(ctx));
}

async function rolledBack(ctx: StepContext, job: Job): Promise<StepResult> {
  const st = recoveryState(job);
  const disks = (st.targets ?? []).map((t) => `${t.diskId} from ${t.snapshotId}`).join(', ');
  const restarted = st.stoppedByUs ? `; ${job.instanceId} stopped for it and started again` : '';
  const reason = [`rolled back ${disks}${restarted}`, ...(st.notes ?? [])].join('; ');
  return end(ctx, job, 'COMPLETE', reason, { release: job.id, progress: 100 });
}

async function cloned(ctx: StepContext, job: Job, device: string | null): Promise<StepResult> {
  const st = recoveryState(job);
  const reason = [
    `disk ${st.diskId} created from ${st.targets?.[0]?.snapshotId} and attached to ${job.instanceId} as ${device ?? 'a device'}`,
    ...(st.notes ?? []),
  ].join('; ');
  return end(ctx, job, 'COMPLETE', reason, { release: job.id, patch: { device }, progress: 100 });
}
