import { decideConsistency, type AgentStatus, type ConsistencyDecision } from '../../domain/consistency.js';
import { transition } from '../../domain/job.js';
import type { Job, OsType } from '../../domain/model.js';
import { decideOverlap } from '../../domain/schedule.js';
import { EcsError, type EcsDisk, type EcsSnapshot, type EcsSnapshotGroup } from '../../ports/ecs.js';
import type { Deps } from '../../runtime/deps.js';
import { deleteBackupPoint } from '../delete-point.js';
import type { EcsReaders } from './ecs-readers.js';
import { buildGuestCommand, readGuestOutcome } from './guest.js';
import { ownershipTags, partToken, snapshotName, TAG_JOB } from './ownership.js';
import { backupPointId, recordBackupPoint } from './record-point.js';
import { backupParams, backupState, withState, type BackupJobState, type ResolvedDisk } from './state.js';

export type StepResult =
  | { next: 'continue'; job: Job }
  | { next: 'wait'; job: Job; delaySeconds: number }
  | { next: 'stop'; job: Job };

/** Another writer changed the job first: this delivery stops, the winner carries on. */
export class LostRace extends Error {
  constructor(jobId: string, reason: string) {
    super(`job ${jobId}: write lost (${reason})`);
    this.name = 'LostRace';
  }
}

export interface StepContext {
  deps: Deps;
  readers: EcsReaders;
  /** Steps this delivery entered itself; a step found in the record but not entered here is being resumed. */
  entered: Set<string>;
}

/** Steps after which ECS may hold something this job created. */
const SNAPSHOT_STEPS = new Set(['snapshot', 'guest-wait', 'poll', 'record']);
const MAX_NOTES = 20;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function pollSeconds(deps: Deps): number {
  return deps.settings.POLL_INTERVAL_SECONDS;
}

function windowMs(deps: Deps): number {
  return deps.settings.START_WINDOW_SECONDS * 1000;
}

export async function save(ctx: StepContext, before: Job, after: Job): Promise<Job> {
  const written = await ctx.deps.store.jobs.update(after, before.version);
  if (!written.ok) throw new LostRace(before.id, written.reason);
  await ctx.deps.hooks?.afterJobStep?.(written.value);
  return written.value;
}

/** Move to another step in the same status. */
async function goTo(
  ctx: StepContext,
  job: Job,
  step: string,
  patch: Partial<BackupJobState>,
  progress?: number,
) {
  const now = ctx.deps.clock.now();
  const next: Job = {
    ...job,
    step,
    state: withState(job, { ...patch, retries: 0 }),
    progress: progress ?? job.progress,
    updatedAt: now,
  };
  ctx.entered.add(step);
  return save(ctx, job, next);
}

function note(job: Job, text: string | null | undefined): string[] {
  const notes = [...(backupState(job).notes ?? [])];
  if (text && !notes.includes(text)) notes.push(text);
  return notes.slice(-MAX_NOTES);
}

export async function finish(
  ctx: StepContext,
  job: Job,
  status: 'FAILED' | 'SKIPPED' | 'CANCELED' | 'COMPLETE' | 'PARTIAL_COMPLETE',
  reason: string | null,
  patch: Partial<Job> = {},
): Promise<StepResult> {
  const now = ctx.deps.clock.now();
  const done = await save(ctx, job, transition(job, status, now, { ...patch, reason }));
  forget(ctx, done);
  return { next: 'stop', job: done };
}

function forget(ctx: StepContext, job: Job): void {
  const st = backupState(job);
  if (st.snapshotGroupId) ctx.readers.groups.unwatch(st.snapshotGroupId);
  for (const id of Object.values(st.snapshots ?? {})) ctx.readers.snapshots.unwatch(id);
  if (st.invokeId) ctx.readers.invocations.unwatch(st.invokeId);
}

/** Re-deliver later: throttling, a busy disk, or simply waiting for progress. */
export async function waitFor(
  ctx: StepContext,
  job: Job,
  delaySeconds: number,
  patch: Partial<Job> = {},
): Promise<StepResult> {
  const now = ctx.deps.clock.now();
  const saved = await save(ctx, job, { ...job, ...patch, updatedAt: now });
  return { next: 'wait', job: saved, delaySeconds: Math.max(1, Math.round(delaySeconds)) };
}

/**
 * Throttling, 5xx, no answer or a busy resource: delay the job with jittered exponential backoff.
 * Never a failure for that alone; a busy resource (a snapshot of another job on the disk) gives up
 * only when the start window has passed.
 */
export async function backoff(ctx: StepContext, job: Job, err: EcsError, busy: boolean): Promise<StepResult> {
  const now = ctx.deps.clock.now();
  const started = job.startedAt ?? job.createdAt;
  if (busy && now - started > windowMs(ctx.deps)) {
    return fail(ctx, job, `ECS kept answering ${err.code} for the whole start window: ${err.message}`);
  }
  const retries = (backupState(job).retries ?? 0) + 1;
  const base = Math.max(1, pollSeconds(ctx.deps));
  const delay = Math.min(60, base * 2 ** Math.min(retries - 1, 6)) * (0.5 + Math.random() * 0.5);
  const errors = [...job.errors, { code: err.code, message: err.message, at: now }].slice(-MAX_NOTES);
  ctx.deps.log.warn('job delayed by ECS', { jobId: job.id, step: job.step, code: err.code, retries });
  return waitFor(ctx, job, delay, {
    attempts: job.attempts + 1,
    errors,
    state: withState(job, { retries }),
  });
}

/** A job that cannot succeed: fail it with a reason a person can act on, leaving no snapshot behind. */
export async function fail(ctx: StepContext, job: Job, reason: string): Promise<StepResult> {
  const cleanup = await removeCreatedSnapshots(ctx, job).catch(
    (err: unknown) => `clean-up failed: ${String(err)}`,
  );
  const full = cleanup ? `${reason}; ${cleanup}` : reason;
  return finish(ctx, job, 'FAILED', full);
}

export async function runStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const st = backupState(job);
  if ((job.cancelRequested || job.status === 'CANCELING') && !st.cancelTooLate) return cancelStep(ctx, job);
  switch (job.step) {
    case 'start':
      return startStep(ctx, job);
    case 'resolve-disks':
    case 'consistency':
      return prepareStep(ctx, job);
    case 'snapshot':
      return snapshotStep(ctx, job);
    case 'guest-wait':
      return guestWaitStep(ctx, job);
    case 'poll':
      return pollStep(ctx, job);
    case 'record':
      return recordStep(ctx, job);
    default:
      return fail(ctx, job, `unknown job step "${job.step}"`);
  }
}

/**
 * Start: everything that only reads (the plan, the disks attached now, the consistency decision)
 * happens before the occurrence's second, while the message is held; at the second one conditional
 * write makes the job RUNNING with all of it, and the snapshot request follows at once. The scheduler
 * delivers scheduled messages SCHEDULE_LEAD_SECONDS early for this, so a minute with thousands of
 * occurrences does not queue their preparation behind their start.
 */
async function startStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const { deps } = ctx;
  const early = job.scheduledAt === null ? 0 : job.scheduledAt - deps.clock.now();
  const maxHoldMs = (deps.settings.SCHEDULE_LEAD_SECONDS + 2) * 1000;
  if (early > maxHoldMs) return waitFor(ctx, job, Math.floor((early - maxHoldMs) / 1000) + 1);
  if (job.planId !== null && backupParams(job).trigger === 'schedule') {
    const plan = await deps.store.plans.get(job.planId);
    if (!plan) return finish(ctx, job, 'SKIPPED', 'the plan was deleted before this occurrence ran');
    if (plan.state !== 'ACTIVE')
      return finish(ctx, job, 'SKIPPED', 'the plan was suspended before this occurrence ran');
  }
  const prepared = await prepare(ctx, job);
  if ('result' in prepared) return prepared.result;
  if (job.scheduledAt !== null) {
    const remaining = job.scheduledAt - deps.clock.now();
    if (remaining > 0) await sleep(remaining);
  }
  const now = deps.clock.now();
  const running = await deps.store.jobs.list(
    { type: 'backup', instanceId: job.instanceId, status: ['RUNNING', 'CANCELING'] },
    { limit: 5 },
  );
  const other = running.items.find((j) => j.id !== job.id);
  const decision = decideOverlap(job.scheduledAt ?? job.createdAt, now, other !== undefined, windowMs(deps));
  if (decision.action === 'skip') return finish(ctx, job, 'SKIPPED', decision.reason);
  if (decision.action === 'wait') {
    const reason = `waiting for the previous backup of ${job.instanceId} (${other?.id ?? 'unknown'}) to finish`;
    return waitFor(ctx, job, Math.max(5, pollSeconds(deps)), { reason });
  }
  const late =
    decision.action === 'run-late'
      ? `started ${Math.round(decision.lateByMs / 1000)} s after its scheduled time`
      : null;
  ctx.entered.add('snapshot');
  const started = transition(job, 'RUNNING', now, {
    step: 'snapshot',
    progress: 8,
    reason: null,
    state: withState(job, {
      ...prepared.state,
      notes: [...(late ? [late] : []), ...(prepared.state.notes ?? [])],
    }),
  });
  return { next: 'continue', job: await save(ctx, job, started) };
}

/** A job persisted at a preparation step (an older record): prepare again and go on to the snapshot. */
async function prepareStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const prepared = await prepare(ctx, job);
  if ('result' in prepared) return prepared.result;
  return { next: 'continue', job: await goTo(ctx, job, 'snapshot', prepared.state, 8) };
}

function toResolved(d: EcsDisk): ResolvedDisk {
  return { diskId: d.diskId, category: d.category, sizeGiB: d.sizeGiB, type: d.type, device: d.device };
}

type Prepared = { state: Partial<BackupJobState> } | { result: StepResult };

/**
 * Resolves the disks (protect-all = the disks attached now, so one attached after the plan was made
 * is included; a listed disk that is gone makes the job partial) and decides the consistency
 * (design §4). Reads only, apart from installing a missing agent, which is idempotent.
 */
async function prepare(ctx: StepContext, job: Job): Promise<Prepared> {
  const { deps } = ctx;
  const params = backupParams(job);
  let attached: EcsDisk[];
  try {
    attached = await deps.ecs.describeInstanceDisks(job.instanceId);
  } catch (err) {
    if (err instanceof EcsError && /NotFound/i.test(err.code)) attached = [];
    else throw err;
  }
  if (attached.length === 0) {
    const reason = `instance ${job.instanceId} has no attached disk or no longer exists; stop its protection or delete the plan`;
    return { result: await fail(ctx, job, reason) };
  }
  let disks: ResolvedDisk[];
  let missing: string[] = [];
  if (params.disks === 'all') {
    disks = attached.map(toResolved);
  } else {
    const byId = new Map(attached.map((d) => [d.diskId, d]));
    disks = params.disks.flatMap((id) => {
      const d = byId.get(id);
      return d ? [toResolved(d)] : [];
    });
    missing = params.disks.filter((id) => !byId.has(id));
  }
  if (disks.length === 0) {
    const reason = `none of the selected disks (${missing.join(', ')}) is attached to ${job.instanceId}; update the plan's disk list`;
    return { result: await fail(ctx, job, reason) };
  }
  const notes: string[] = [];
  if (missing.length > 0) {
    notes.push(`disk(s) ${missing.join(', ')} no longer attached to ${job.instanceId}; backed up the others`);
  }

  const options = params.consistency;
  const settings = { groupDiskLimit: deps.settings.GROUP_DISK_LIMIT };
  let os: OsType = 'linux';
  let agent: AgentStatus = 'running';
  let override: string | null = null;
  // Crash consistency needs nothing from the guest: skip the calls that ask about it.
  if (options.applicationConsistent) {
    const [instance] = await deps.ecs.describeInstances([job.instanceId]);
    if (!instance)
      return {
        result: await fail(ctx, job, `instance ${job.instanceId} no longer exists; stop its protection`),
      };
    os = instance.osType;
    if (instance.status !== 'Running') {
      // A stopped instance writes nothing, so its crash-consistent snapshot is as good as a frozen one.
      override = `instance is ${instance.status}: the guest script cannot run; crash-consistent snapshot of a quiet instance`;
    } else {
      const status = await deps.ecs.cloudAssistantStatus([job.instanceId]);
      agent = status[job.instanceId] ? 'running' : 'missing';
    }
  }
  let decision: ConsistencyDecision = decideConsistency(os, options, 'unknown', agent, disks, settings);
  if (override) {
    const shape = decideConsistency(
      os,
      { ...options, applicationConsistent: false },
      'unknown',
      agent,
      disks,
      settings,
    );
    decision = {
      requested: 'application',
      expected: 'crash',
      snapshot: shape.snapshot,
      method: 'direct',
      installAgent: false,
      reason: shape.snapshot === 'per-disk' ? shape.reason : override,
    };
  }
  if (decision.method === 'fail') {
    return { result: await fail(ctx, job, decision.reason ?? 'consistency requirements cannot be met') };
  }
  if (decision.expected !== decision.requested || decision.snapshot === 'per-disk') {
    if (decision.reason) notes.push(decision.reason);
  }
  if (decision.installAgent) {
    try {
      await deps.ecs.installCloudAssistant([job.instanceId]);
    } catch (err) {
      if (err instanceof EcsError && err.retryable) throw err;
      notes.push(
        `installing the Cloud Assistant agent failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
  return { state: { disks, missingDisks: missing, os, decision, notes: [...note(job, null), ...notes] } };
}

function groupRequest(job: Job, disks: ResolvedDisk[]) {
  return {
    instanceId: job.instanceId,
    diskIds: disks.map((d) => d.diskId),
    name: snapshotName(job.id),
    description: `ecs-backup ${job.planId ? `plan ${job.planId}` : 'on-demand'} job ${job.id}`,
    tags: ownershipTags(job),
    // The job id is the ClientToken: a retried or duplicated create returns the same group.
    clientToken: job.id,
  };
}

async function findOwnGroup(ctx: StepContext, job: Job): Promise<EcsSnapshotGroup | undefined> {
  const found = await ctx.deps.ecs.findSnapshotGroupsByTag({ key: TAG_JOB, value: job.id }, job.instanceId);
  return found[0];
}

async function snapshotStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const st = backupState(job);
  const decision = st.decision;
  const disks = st.disks ?? [];
  if (!decision) return prepareStep(ctx, job);
  const resumed = !ctx.entered.has('snapshot');
  if (decision.snapshot === 'per-disk') return perDiskSnapshots(ctx, job, disks, resumed);
  if (decision.method === 'guest-linux' || decision.method === 'guest-windows') {
    return startGuest(ctx, job, disks, decision, resumed);
  }
  let groupId: string | undefined;
  if (resumed) {
    // A crash may have come between the create and recording its id: adopt what exists.
    groupId = (await findOwnGroup(ctx, job))?.snapshotGroupId;
  }
  if (!groupId) {
    try {
      groupId = await ctx.deps.ecs.createSnapshotGroup(groupRequest(job, disks));
    } catch (err) {
      if (err instanceof EcsError && err.code === 'DiskCategory.OperationNotSupported') {
        const reason = `ECS refused a snapshot group (${err.message}); per-disk crash-consistent snapshots`;
        const next = await goTo(ctx, job, 'snapshot', {
          decision: { ...decision, snapshot: 'per-disk', expected: 'crash', method: 'direct', reason },
          notes: note(job, reason),
        });
        return { next: 'continue', job: next };
      }
      if (err instanceof EcsError && err.code === 'IdempotentParameterMismatch') {
        groupId = (await findOwnGroup(ctx, job))?.snapshotGroupId;
        if (!groupId) throw err;
      } else throw err;
    }
  }
  ctx.readers.groups.watch(groupId);
  const next = await goTo(ctx, job, 'poll', { snapshotGroupId: groupId }, 15);
  return { next: 'wait', job: next, delaySeconds: firstPollDelay(ctx, disks) };
}

/** Snapshots take time proportional to the data; the first poll waits one interval either way. */
function firstPollDelay(ctx: StepContext, _disks: ResolvedDisk[]): number {
  return pollSeconds(ctx.deps);
}

async function perDiskSnapshots(
  ctx: StepContext,
  job: Job,
  disks: ResolvedDisk[],
  resumed: boolean,
): Promise<StepResult> {
  const st = backupState(job);
  const snapshots: Record<string, string> = { ...(st.snapshots ?? {}) };
  const failedDisks: Record<string, string> = { ...(st.failedDisks ?? {}) };
  if (resumed) {
    for (const s of await ctx.deps.ecs.findSnapshotsByTag({ key: TAG_JOB, value: job.id })) {
      snapshots[s.sourceDiskId] ??= s.snapshotId;
    }
  }
  for (const disk of disks) {
    if (snapshots[disk.diskId] || failedDisks[disk.diskId]) continue;
    try {
      snapshots[disk.diskId] = await ctx.deps.ecs.createSnapshot({
        diskId: disk.diskId,
        name: snapshotName(job.id, `-${disk.diskId}`),
        description: `ecs-backup job ${job.id} disk ${disk.diskId}`,
        tags: ownershipTags(job),
        clientToken: partToken(job.id, disk.diskId),
      });
    } catch (err) {
      if (err instanceof EcsError && /NotFound/i.test(err.code)) {
        failedDisks[disk.diskId] = `disk ${disk.diskId} disappeared before its snapshot: ${err.code}`;
        continue;
      }
      // The retry adopts what was created so far (job tag, per-disk ClientToken) and goes on.
      throw err;
    }
  }
  if (Object.keys(snapshots).length === 0) {
    return fail(ctx, job, `no snapshot could be taken: ${Object.values(failedDisks).join('; ')}`);
  }
  for (const id of Object.values(snapshots)) ctx.readers.snapshots.watch(id);
  const next = await goTo(ctx, job, 'poll', { snapshots, failedDisks }, 15);
  return { next: 'wait', job: next, delaySeconds: firstPollDelay(ctx, disks) };
}

async function startGuest(
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
      // The guest ran and the snapshot exists, but its result was not recorded: keep it, claim nothing more.
      const reason =
        'the guest script result was lost; the snapshot group it created is kept as crash-consistent';
      const next = await goTo(ctx, job, 'poll', {
        snapshotGroupId: group.snapshotGroupId,
        guest: { achieved: 'crash', reason, freezeMs: null, preExit: null, postExit: null },
        notes: note(job, reason),
      });
      return { next: 'continue', job: next };
    }
  }
  const params = backupParams(job);
  const snapshotUrl = await deps.ecs.presignCreateSnapshotGroup(groupRequest(job, disks));
  const command = buildGuestCommand(decision.method === 'guest-windows' ? 'windows' : 'linux', {
    snapshotUrl,
    options: params.consistency,
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
  const next = await goTo(ctx, job, 'guest-wait', { invokeId }, 12);
  return { next: 'wait', job: next, delaySeconds: pollSeconds(deps) };
}

const UNFINISHED_INVOCATION = new Set(['Pending', 'Running', 'Scheduled', 'Stopping']);
const AGENT_UNREACHABLE = new Set([
  'ClientNotRunning',
  'ClientNetworkBlocked',
  'ClientNotResponse',
  'DeliveryTimeout',
]);

async function guestWaitStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const st = backupState(job);
  if (!st.invokeId)
    return goTo(ctx, job, 'snapshot', {}).then((j) => ({ next: 'continue' as const, job: j }));
  const result = await ctx.readers.invocations.get(st.invokeId);
  if (result && UNFINISHED_INVOCATION.has(result.status)) {
    return waitFor(ctx, job, pollSeconds(ctx.deps), { progress: Math.min(40, job.progress + 2) });
  }
  ctx.readers.invocations.unwatch(st.invokeId);
  const outcome = result ? readGuestOutcome(result.output) : null;
  if (outcome?.snapshotGroupId) {
    ctx.readers.groups.watch(outcome.snapshotGroupId);
    const next = await goTo(
      ctx,
      job,
      'poll',
      {
        snapshotGroupId: outcome.snapshotGroupId,
        guest: outcome.guest,
        notes: note(job, outcome.guest.reason),
      },
      40,
    );
    return { next: 'wait', job: next, delaySeconds: pollSeconds(ctx.deps) };
  }
  // The request may have reached ECS even though its answer never came back to us.
  const existing = await findOwnGroup(ctx, job);
  if (existing) {
    const reason =
      'the guest script did not report its result; the snapshot group it created is kept as crash-consistent';
    const next = await goTo(ctx, job, 'poll', {
      snapshotGroupId: existing.snapshotGroupId,
      guest: { achieved: 'crash', reason, freezeMs: null, preExit: null, postExit: null },
      notes: note(job, reason),
    });
    return { next: 'continue', job: next };
  }
  const decision = st.decision;
  const preExit = outcome?.guest.preExit ?? null;
  if (preExit !== null && preExit !== 0 && backupParams(job).consistency.onPreScriptFailure === 'fail') {
    // The guest failed closed as the plan asks: no freeze, no snapshot, and no fallback either.
    return fail(
      ctx,
      job,
      outcome?.guest.reason ?? `pre-script exited with ${preExit} and the plan says fail`,
    );
  }
  const agentDown =
    !result ||
    result.status === 'Aborted' ||
    (result.errorCode !== null && AGENT_UNREACHABLE.has(result.errorCode)) ||
    (result.status === 'Failed' && outcome === null);
  let why: string;
  if (agentDown)
    why = `Cloud Assistant did not run the script (${result?.errorCode ?? result?.status ?? 'no result'})`;
  else if (outcome?.snapshotError)
    why = `the snapshot request from the guest failed (${outcome.snapshotError})`;
  else
    why = `the guest script ended ${result?.status ?? 'without result'} without a snapshot (${result?.errorInfo ?? 'no detail'})`;
  if (agentDown && decision && backupParams(job).consistency.onAgentUnavailable === 'fail') {
    return fail(ctx, job, `${why} and the plan says fail when the agent is unavailable`);
  }
  // Fall back to a crash-consistent group taken directly, so the occurrence still has a backup.
  const reason = `${why}; took a crash-consistent snapshot group instead`;
  const fallback: ConsistencyDecision = {
    requested: decision?.requested ?? 'application',
    expected: 'crash',
    snapshot: 'group',
    method: 'direct',
    installAgent: false,
    reason,
  };
  const next = await goTo(ctx, job, 'snapshot', {
    decision: fallback,
    guest: {
      achieved: 'crash',
      reason,
      freezeMs: null,
      preExit: outcome?.guest.preExit ?? null,
      postExit: null,
    },
    notes: note(job, reason),
  });
  return { next: 'continue', job: next };
}

type Observed =
  | { state: 'done' }
  | { state: 'progress'; percent: number }
  | { state: 'failed'; reason: string }
  | {
      state: 'missing';
    };

async function observeGroup(ctx: StepContext, groupId: string, maxAgeMs?: number): Promise<Observed> {
  const group = await ctx.readers.groups.get(groupId, maxAgeMs);
  if (!group) return { state: 'missing' };
  if (group.status === 'accomplished') return { state: 'done' };
  if (group.status === 'failed') {
    return { state: 'failed', reason: `ECS reports snapshot group ${groupId} failed` };
  }
  const percent = average(group.snapshots.map((s) => s.progress));
  return { state: 'progress', percent };
}

function average(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

async function observeSnapshots(ctx: StepContext, ids: string[], maxAgeMs?: number) {
  const seen = await Promise.all(ids.map((id) => ctx.readers.snapshots.get(id, maxAgeMs)));
  return seen;
}

async function pollStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const st = backupState(job);
  const pollDelay = pollSeconds(ctx.deps);
  if (st.snapshotGroupId) {
    const seen = await observeGroup(ctx, st.snapshotGroupId);
    if (seen.state === 'done') {
      // Still cached: the record step reads the snapshot list from this observation.
      return { next: 'continue', job: await goTo(ctx, job, 'record', {}, 95) };
    }
    if (seen.state === 'failed') return fail(ctx, job, `${seen.reason}; run the backup again`);
    if (seen.state === 'missing') return missingResource(ctx, job, `snapshot group ${st.snapshotGroupId}`);
    const progress = Math.max(job.progress, Math.round(15 + seen.percent * 0.8));
    return waitFor(ctx, job, pollDelay, { progress, state: withState(job, { missingPolls: 0 }) });
  }
  const entries = Object.entries(st.snapshots ?? {});
  if (entries.length === 0) return fail(ctx, job, 'no snapshot was recorded for this job');
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
    const s: EcsSnapshot | null | undefined = seen[i];
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
    return fail(
      ctx,
      job,
      `every snapshot failed: ${Object.values(failedDisks).join('; ')}; run the backup again`,
    );
  }
  if (pending > 0) {
    const progress = Math.max(job.progress, Math.round(15 + (percent / entries.length) * 0.8));
    return waitFor(ctx, job, pollDelay, {
      progress,
      state: withState(job, { snapshots, failedDisks, missingPolls: 0 }),
    });
  }
  return { next: 'continue', job: await goTo(ctx, job, 'record', { snapshots, failedDisks }, 95) };
}

/** ECS lists a new resource shortly after creating it; give it a few polls before calling it lost. */
async function missingResource(ctx: StepContext, job: Job, what: string): Promise<StepResult> {
  const misses = (backupState(job).missingPolls ?? 0) + 1;
  if (misses > 5) return fail(ctx, job, `${what} vanished from ECS before completing; run the backup again`);
  return waitFor(ctx, job, pollSeconds(ctx.deps), { state: withState(job, { missingPolls: misses }) });
}

async function recordStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const recorded = await recordBackupPoint(ctx.deps, job, ctx.readers);
  if ('error' in recorded) return fail(ctx, job, recorded.error);
  const st = backupState(job);
  const partial = [...(st.missingDisks ?? []), ...Object.keys(st.failedDisks ?? {})];
  const status = partial.length > 0 ? 'PARTIAL_COMPLETE' : 'COMPLETE';
  const reasons = [...(st.notes ?? [])];
  for (const r of Object.values(st.failedDisks ?? {})) if (!reasons.includes(r)) reasons.push(r);
  if (st.cancelTooLate) reasons.push('cancel arrived after the snapshot had completed: the backup is kept');
  const reason = reasons.length > 0 ? reasons.join('; ') : null;
  return finish(ctx, job, status, reason, {
    progress: 100,
    state: withState(job, { notes: reasons, pointId: recorded.point.id }),
  });
}

async function cancelStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const { deps } = ctx;
  if (job.status === 'QUEUED' || job.status === 'CREATED') {
    return finish(ctx, job, 'CANCELED', 'canceled before it started');
  }
  let current = job;
  if (current.status === 'RUNNING') {
    current = await save(
      ctx,
      current,
      transition(current, 'CANCELING', deps.clock.now(), { cancelRequested: true }),
    );
  }
  const st = backupState(current);
  if (st.invokeId && !st.guest) {
    // Never cut a guest script short: it may hold file systems frozen. Its watchdog and trap thaw;
    // the snapshot it requested is removed once it has finished.
    const inv = await ctx.readers.invocations.get(st.invokeId, 0);
    if (inv && UNFINISHED_INVOCATION.has(inv.status)) return waitFor(ctx, current, pollSeconds(deps));
  }
  if (SNAPSHOT_STEPS.has(current.step)) {
    const completed = await snapshotsAlreadyComplete(ctx, current);
    if (completed) {
      // Reporting CANCELED would hide a backup that exists; keep it and complete (domain: CANCELING -> COMPLETE).
      const next = await goTo(ctx, current, 'record', { cancelTooLate: true }, 95);
      return { next: 'continue', job: next };
    }
  }
  const removed = await removeCreatedSnapshots(ctx, current);
  return finish(ctx, current, 'CANCELED', `canceled by request${removed ? `; ${removed}` : ''}`);
}

async function snapshotsAlreadyComplete(ctx: StepContext, job: Job): Promise<boolean> {
  const st = backupState(job);
  if (st.snapshotGroupId) return (await observeGroup(ctx, st.snapshotGroupId, 0)).state === 'done';
  const ids = Object.values(st.snapshots ?? {});
  if (ids.length === 0) return false;
  const seen = await observeSnapshots(ctx, ids, 0);
  return seen.every((s) => s?.status === 'accomplished');
}

/**
 * Deletes whatever this job created in ECS (deleting a snapshot still being created cancels it),
 * including what a crash kept it from recording, found by the job tag. Returns what it did.
 */
async function removeCreatedSnapshots(ctx: StepContext, job: Job): Promise<string | null> {
  if (!SNAPSHOT_STEPS.has(job.step)) return null;
  const { ecs } = ctx.deps;
  const st = backupState(job);
  const done: string[] = [];
  const groupIds = new Set<string>();
  if (st.snapshotGroupId) groupIds.add(st.snapshotGroupId);
  for (const g of await ecs.findSnapshotGroupsByTag({ key: TAG_JOB, value: job.id }, job.instanceId)) {
    groupIds.add(g.snapshotGroupId);
  }
  for (const id of groupIds) {
    await ecs.deleteSnapshotGroup(id);
    ctx.readers.groups.unwatch(id);
    done.push(`snapshot group ${id} deleted`);
  }
  const snapshotIds = new Set(Object.values(st.snapshots ?? {}));
  if (st.decision?.snapshot === 'per-disk') {
    for (const s of await ecs.findSnapshotsByTag({ key: TAG_JOB, value: job.id }))
      snapshotIds.add(s.snapshotId);
  }
  for (const id of snapshotIds) {
    await ecs.deleteSnapshot(id);
    ctx.readers.snapshots.unwatch(id);
    done.push(`snapshot ${id} deleted`);
  }
  const point = await ctx.deps.store.points.get(backupPointId(job.id));
  if (point && point.status !== 'DELETED') {
    await deleteBackupPoint(ctx.deps, point.id, 'its job was canceled or failed');
  }
  return done.length > 0 ? done.join(', ') : null;
}
