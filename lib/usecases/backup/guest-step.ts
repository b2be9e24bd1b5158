import type { ConsistencyDecision } from '../../domain/consistency.js';
import { classifyGuestRun, UNFINISHED_INVOCATION } from '../../domain/guest-outcome.js';
import type { Job } from '../../domain/model.js';
import type { StepContext, StepResult } from '../jobs/job-kind.js';
import { goTo, next, noted, pollSeconds, waitFor } from '../jobs/job-writes.js';
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
  if (resumed) {
    const group = await findOwnGroup(ctx, job);
    if (group) {
      const reason =
        'the guest script result was lost; the snapshot group it created is kept as crash-consistent';
      return adoptGroup(ctx, job, group.snapshotGroupId, reason);
    }
  }
  const snapshotUrl = await deps.ecs.presignCreateSnapshotGroup(groupRequest(job, disks));
  const command = buildGuestCommand(decision.method === 'guest-windows' ? 'windows' : 'linux', {
    snapshotUrl,
    options: backupParams(job).consistency,
  });
  const { invokeId } = await deps.ecs.runCommand({
    instanceId: job.instanceId,
    type: command.type,
    content: command.content,
    timeoutSeconds: command.timeoutSeconds,
    name: snapshotName(job.id, '-guest'),
    // The script holds a fresh pre-signed URL, so a retry after a crash is another command; its
    // snapshot request still carries the job's ClientToken, so both runs name one group.
    clientToken: partToken(job.id, `guest\n${command.content}`),
  });
  ctx.readers.invocations.watch(invokeId);
  const saved = await goTo<BackupJobState>(ctx, job, 'guest-wait', { invokeId }, 12);
  return { next: 'wait', job: saved, delaySeconds: pollSeconds(ctx) };
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
  // Fall back to a crash-consistent group taken directly, so the occurrence still has a backup.
  const reason = `${verdict.why}; took a crash-consistent snapshot group instead`;
  const fallback: ConsistencyDecision = {
    requested: st.decision?.requested ?? 'application',
    expected: 'crash',
    snapshot: 'group',
    method: 'direct',
    installAgent: false,
    reason,
  };
  return next<BackupJobState>(ctx, job, 'snapshot', {
    decision: fallback,
    guest: crashOutcome(reason, outcome?.guest.preExit ?? null),
    notes: noted(job, reason),
  });
}
