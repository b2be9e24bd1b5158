import type { Job } from '../../domain/model.js';
import type { EcsInstance } from '../../ports/ecs.js';
import type { CancelDecision, StepContext, StepResult } from '../jobs/job-kind.js';
import { next, pollSeconds, record, stepTimedOut, waitFor } from '../jobs/job-writes.js';
import { windDown } from '../jobs/wind-down.js';
import { readDisk } from './disk-steps.js';
import { completeRecovery } from './held-resources.js';
import { recoveryState, restoreParams, type RecoveryState } from './state.js';

/**
 * Rollback (disk or instance): stop-instance → wait-stopped → reset → wait-reset →
 * [start-instance → wait-started, when the job stopped it] → COMPLETE.
 */

async function readInstance(ctx: StepContext, job: Job): Promise<EcsInstance | undefined> {
  const [instance] = await ctx.deps.ecs.describeInstances([job.instanceId]);
  return instance;
}

const gone = (job: Job) => `instance ${job.instanceId} no longer exists`;

const fail = (ctx: StepContext, job: Job, reason: string) => windDown(ctx, job, 'FAILED', reason);

/** A rollback whose disks are being reset cannot be undone: it completes and says the cancel came too late. */
export function cancelRollback(_ctx: StepContext, job: Job): CancelDecision {
  return (recoveryState(job).resetIssued ?? []).length > 0
    ? {
        action: 'too-late',
        note: 'cancel arrived after the disks were being reset; the rollback was completed',
      }
    : { action: 'wind-down' };
}

export async function stopInstanceStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const instance = await readInstance(ctx, job);
  if (!instance) return fail(ctx, job, gone(job));
  const st = recoveryState(job);
  const allowed = restoreParams(job).stopInstance || st.stoppedByUs === true;
  switch (instance.status) {
    case 'Stopped':
      return next(ctx, job, 'reset', {}, 30);
    case 'Stopping':
      return next(ctx, job, 'wait-stopped', {}, 20);
    case 'Running': {
      if (!allowed) {
        return fail(
          ctx,
          job,
          `instance ${job.instanceId} is Running; a rollback needs it Stopped: stop it first, or send stopInstance: true`,
        );
      }
      // Recorded before the call: if the worker dies right after StopInstance, the retry still knows
      // the instance has to be started again at the end.
      const current = st.stoppedByUs ? job : await record<RecoveryState>(ctx, job, { stoppedByUs: true });
      await ctx.deps.ecs.stopInstance(job.instanceId);
      return next(ctx, current, 'wait-stopped', {}, 20);
    }
    default:
      if (stepTimedOut(ctx, job))
        return fail(ctx, job, `instance ${job.instanceId} stayed ${instance.status}`);
      return waitFor(ctx, job, pollSeconds(ctx));
  }
}

export async function waitStoppedStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const instance = await readInstance(ctx, job);
  if (!instance) return fail(ctx, job, gone(job));
  if (instance.status === 'Stopped') return next(ctx, job, 'reset', {}, 30);
  if (instance.status === 'Running' && !recoveryState(job).stoppedByUs) {
    return fail(ctx, job, `instance ${job.instanceId} was started again before the rollback`);
  }
  if (stepTimedOut(ctx, job)) {
    return fail(ctx, job, `instance ${job.instanceId} did not stop (it is ${instance.status})`);
  }
  if (instance.status === 'Running') return next(ctx, job, 'stop-instance');
  return waitFor(ctx, job, pollSeconds(ctx));
}

/**
 * ResetDisk per disk. Which disks are being reset is recorded before the first call, so a cancel
 * arriving at any moment after can tell that the rollback has begun. Sending ResetDisk again for a
 * disk already reset from the same snapshot (a retry after a crash) changes nothing.
 */
export async function resetStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const st = recoveryState(job);
  const targets = st.targets ?? [];
  const issued = st.resetIssued ?? [];
  const instance = await readInstance(ctx, job);
  if (!instance) return fail(ctx, job, gone(job));
  if (instance.status !== 'Stopped') {
    if (st.stoppedByUs && issued.length === 0) return next(ctx, job, 'stop-instance');
    return fail(
      ctx,
      job,
      `instance ${job.instanceId} was started (${instance.status}) while its disks were to be reset`,
    );
  }
  const backups = await ctx.deps.store.jobs.list(
    { type: 'backup', instanceId: job.instanceId, status: ['RUNNING', 'CANCELING'] },
    { limit: 1 },
  );
  const backup = backups.items[0];
  if (backup && issued.length === 0) {
    if (stepTimedOut(ctx, job)) {
      return fail(ctx, job, `backup job ${backup.id} of ${job.instanceId} did not finish in time`);
    }
    return waitFor(ctx, job, pollSeconds(ctx));
  }
  let current = job;
  if (issued.length < targets.length) {
    current = await record<RecoveryState>(ctx, job, { resetIssued: targets.map((t) => t.diskId) });
  }
  const resumed = !ctx.entered.has('reset');
  for (const t of targets) {
    if (resumed && (await readDisk(ctx, t.diskId))?.status === 'ReIniting') continue;
    await ctx.deps.ecs.resetDisk(t.diskId, t.snapshotId);
  }
  return next(ctx, current, 'wait-reset', {}, 50);
}

export async function waitResetStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const st = recoveryState(job);
  const ids = (st.targets ?? []).map((t) => t.diskId);
  const disks = await ctx.deps.ecs.describeDisks(ids);
  const busy = disks.filter((d) => d.status === 'ReIniting');
  if (busy.length > 0 || disks.length < ids.length) {
    if (stepTimedOut(ctx, job)) {
      return fail(ctx, job, `disk(s) ${busy.map((d) => d.diskId).join(', ')} stayed ReIniting`);
    }
    return waitFor(ctx, job, pollSeconds(ctx));
  }
  if (st.stoppedByUs) return next(ctx, job, 'start-instance', {}, 80);
  return rolledBack(ctx, job);
}

export async function startInstanceStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const instance = await readInstance(ctx, job);
  if (!instance) return fail(ctx, job, gone(job));
  if (instance.status === 'Stopped') await ctx.deps.ecs.startInstance(job.instanceId);
  else if (instance.status === 'Stopping') return waitFor(ctx, job, pollSeconds(ctx));
  return next<RecoveryState>(ctx, job, 'wait-started', { instanceRestarted: true }, 90);
}

export async function waitStartedStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const instance = await readInstance(ctx, job);
  if (!instance) return fail(ctx, job, gone(job));
  if (instance.status === 'Running') return rolledBack(ctx, job);
  if (instance.status === 'Stopped') return next(ctx, job, 'start-instance');
  if (stepTimedOut(ctx, job)) {
    // The disks are rolled back; only the start is missing, and a person can do that.
    const reason = `rolled back, but ${job.instanceId} did not start (${instance.status}): start it`;
    return completeRecovery(ctx, job, reason, { release: job.id });
  }
  return waitFor(ctx, job, pollSeconds(ctx));
}

async function rolledBack(ctx: StepContext, job: Job): Promise<StepResult> {
  const st = recoveryState(job);
  const disks = (st.targets ?? []).map((t) => `${t.diskId} from ${t.snapshotId}`).join(', ');
  const restarted = st.stoppedByUs ? `; ${job.instanceId} stopped for it and started again` : '';
  const reason = [`rolled back ${disks}${restarted}`, ...(st.notes ?? [])].join('; ');
  return completeRecovery(ctx, job, reason, { release: job.id, progress: 100 });
}
