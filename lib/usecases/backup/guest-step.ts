import type { ConsistencyDecision } from '../../domain/consistency.js';
import { classifyGuestRun, UNFINISHED_INVOCATION } from '../../domain/guest-outcome.js';
import type { Job } from '../../domain/model.js';
import { EcsTokenReusedError } from '../../ports/ecs.js';
import type { StepContext, StepResult } from '../jobs/job-kind.js';
import { goTo, next, noted, pollSeconds, record, waitFor } from '../jobs/job-writes.js';
import { windDown } from '../jobs/wind-down.js';
import { buildGuestCommand, readGuestOutcome } from './guest.js';
import { partToken, snapshotName } from './ownership.js';
import { findOwnGroup, groupRequest } from './snapshot-group.js';
import {
  backupParams,
  backupState,
  type BackupJobState,
  type GuestOutcome,
  type ResolvedDisk,
} from './state.js';

function crashOutcome(reason: string | null, preExit: number | null = null): GuestOutcome {
  return { achieved: 'crash', reason, freezeMs: null, preExit, postExit: null };
}

/** A group exists whose guest result never reached the record: keep it, claim no more than crash. */
function adoptGroup(ctx: StepContext, job: Job, groupId: string, reason: string): Promise<StepResult> {
  return next<BackupJobState>(ctx, job, 'poll', {
    snapshotGroupId: groupId,
    guest: crashOutcome(reason),
    notes: noted(job, reason),
  });
}

/** Sends the guest script that freezes, requests the group through a pre-signed URL and thaws. */
export async function startGuest(
  ctx: StepContext,
  job: Job,
  disks: ResolvedDisk[],
  decision: ConsistencyDecision,
  resumed: boolean,
): Promise<StepResult> {
  const { deps } = ctx;
  const st = backupState(job);
  if (resumed) {
    const group = await findOwnGroup(ctx, job);
    if (group) {
      const reason =
        'the guest script result was lost; the snapshot group it created is kept as crash-consistent';
      return adoptGroup(ctx, job, group.snapshotGroupId, reason);
    }
    if (st.guestLost) return awaitLostGuest(ctx, job);
  }
  const snapshotUrl = await deps.ecs.presignCreateSnapshotGroup(groupRequest(job, disks));
  const command = buildGuestCommand(decision.method === 'guest-windows' ? 'windows' : 'linux', {
    snapshotUrl,
    options: backupParams(job).consistency,
  });
  let invokeId: string;
  try {
    ({ invokeId } = await deps.ecs.runCommand({
      instanceId: job.instanceId,
      type: command.type,
      content: command.content,
      timeoutSeconds: command.timeoutSeconds,
      name: snapshotName(job.id, '-guest'),
      // One token per job: the script carries a fresh pre-signed URL, so ECS refusing the token as
      // reused proves a script was sent before a crash kept its id from the record.
      clientToken: partToken(job.id, 'guest'),
    }));
  } catch (err) {
    if (!(err instanceof EcsTokenReusedError)) throw err;
    // Never start a second script beside the first, which may hold file systems frozen.
    const saved = await record<BackupJobState>(ctx, job, {
      guestLost: true,
      guestTimeoutSeconds: command.timeoutSeconds,
    });
    return awaitLostGuest(ctx, saved);
  }
  ctx.readers.invocations.watch(invokeId);
  const saved = await goTo<BackupJobState>(ctx, job, 'guest-wait', { invokeId }, 12);
  return { next: 'wait', job: saved, delaySeconds: pollSeconds(ctx) };
}

/** Until when a script sent at the snapshot step may still run (its timeout, plus Cloud Assistant's start-up). */
export function lostGuestDeadline(job: Job): number {
  const st = backupState(job);
  return (st.stepSince ?? job.startedAt ?? job.createdAt) + ((st.guestTimeoutSeconds ?? 0) + 60) * 1000;
}

/**
 * A script was sent but a crash kept its id from the record: its group is looked for by the job tag
 * (on each resume) until the script's own timeout has passed; after that it made none, and the
 * backup is taken crash-consistent directly.
 */
async function awaitLostGuest(ctx: StepContext, job: Job): Promise<StepResult> {
  if (ctx.deps.clock.now() < lostGuestDeadline(job)) return waitFor(ctx, job, pollSeconds(ctx));
  return fallBackToDirect(
    ctx,
    job,
    'the guest script sent before a restart made no snapshot group in its time',
    null,
  );
}

/** Falls back to a crash-consistent group taken directly, so the occurrence still has a backup. */
function fallBackToDirect(
  ctx: StepContext,
  job: Job,
  why: string,
  preExit: number | null,
): Promise<StepResult> {
  const reason = `${why}; took a crash-consistent snapshot group instead`;
  const fallback: ConsistencyDecision = {
    requested: backupState(job).decision?.requested ?? 'application',
    expected: 'crash',
    snapshot: 'group',
    method: 'direct',
    installAgent: false,
    reason,
  };
  return next<BackupJobState>(ctx, job, 'snapshot', {
    decision: fallback,
    guest: crashOutcome(reason, preExit),
    notes: noted(job, reason),
  });
}

/** Waits for the guest script, then polls the group it requested or falls back as the plan says. */
export async function guestWaitStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const st = backupState(job);
  if (!st.invokeId) return next(ctx, job, 'snapshot');
  const result = await ctx.readers.invocations.get(st.invokeId);
  if (result && UNFINISHED_INVOCATION.includes(result.status)) {
    return waitFor(ctx, job, pollSeconds(ctx), { progress: Math.min(40, job.progress + 2) });
  }
  ctx.readers.invocations.unwatch(st.invokeId);
  const outcome = result ? readGuestOutcome(result.output) : null;
  const params = backupParams(job);
  const verdict = classifyGuestRun(
    {
      status: result?.status ?? null,
      errorCode: result?.errorCode ?? null,
      errorInfo: result?.errorInfo ?? null,
      report: outcome && {
        snapshotGroupId: outcome.snapshotGroupId,
        snapshotError: outcome.snapshotError,
        preExit: outcome.guest.preExit,
        reason: outcome.guest.reason,
      },
    },
    params.consistency,
  );
  if (verdict.kind === 'ok') {
    const guest = outcome?.guest ?? crashOutcome(null);
    ctx.readers.groups.watch(verdict.snapshotGroupId);
    const saved = await goTo<BackupJobState>(
      ctx,
      job,
      'poll',
      { snapshotGroupId: verdict.snapshotGroupId, guest, notes: noted(job, guest.reason) },
      40,
    );
    return { next: 'wait', job: saved, delaySeconds: pollSeconds(ctx) };
  }
  // The request may have reached ECS even though its answer never came back to us.
  const existing = await findOwnGroup(ctx, job);
  if (existing) {
    const reason =
      'the guest script did not report its result; the snapshot group it created is kept as crash-consistent';
    return adoptGroup(ctx, job, existing.snapshotGroupId, reason);
  }
  if (verdict.kind === 'pre-script-failed') {
    // The guest failed closed as the plan asks: no freeze, no snapshot, and no fallback either.
    return windDown(ctx, job, 'FAILED', verdict.why);
  }
  if (verdict.kind === 'agent-down' && params.consistency.onAgentUnavailable === 'fail') {
    return windDown(
      ctx,
      job,
      'FAILED',
      `${verdict.why} and the plan says fail when the agent is unavailable`,
    );
  }
  return fallBackToDirect(ctx, job, verdict.why, outcome?.guest.preExit ?? null);
}
