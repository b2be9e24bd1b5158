import { newJob, scheduledJobId } from '../domain/job.js';
import type { Plan, PointSource } from '../domain/model.js';
import { firstOccurrenceAtOrAfter, occurrencesIn, planCatchUp } from '../domain/schedule.js';
import type { Deps } from './deps.js';
import { encodeJobMessage, enqueueJob } from './enqueue-job.js';
import { redispatchUndelivered } from './jobs/undelivered.js';
import { pointSources } from './backup/source.js';
import { paramsFromPlan } from './management/job-params.js';
import { sweepRecovery } from './mount/expiry.js';

export interface TickReport {
  plans: number;
  enqueued: number;
  skipped: number;
  /** Jobs whose record had not moved for JOB_STALL_SECONDS and whose message was sent again. */
  resumed: number;
  /** Queued jobs never picked up whose first message was re-sent (their creator died before sending it). */
  redispatched: number;
  /** True when the time budget ran out; the plans left are due again on the next tick. */
  truncated: boolean;
}

export interface TickOptions {
  pageSize?: number;
  /** Stop taking new pages after this long (the timer function has a timeout). */
  budgetMs?: number;
  /** Plans worked on at once (each is a few store writes and one queue send). */
  concurrency?: number;
}

/** Missed occurrences recorded one by one before the rest are only counted (design §3). */
const MAX_SKIP_RECORDS = 50;

/**
 * One scheduler tick (design §2). FC timers fire at most once a minute, so each tick hands every
 * occurrence due before `now + lookahead` to the queue with a delay to its second; the job id is
 * derived from plan and occurrence, so overlapping ticks, a retried timer or two schedulers
 * collapse onto one job. Occurrences already past follow the missed-run policy.
 */
export async function schedulerTick(deps: Deps, now: number, options: TickOptions = {}): Promise<TickReport> {
  const report: TickReport = {
    plans: 0,
    enqueued: 0,
    skipped: 0,
    resumed: 0,
    redispatched: 0,
    truncated: false,
  };
  const horizon = now + deps.settings.SCHEDULER_LOOKAHEAD_SECONDS * 1000;
  const pageSize = options.pageSize ?? 500;
  const budgetMs = options.budgetMs ?? Number.POSITIVE_INFINITY;
  const concurrency = options.concurrency ?? 8;
  const started = deps.clock.now();
  const seen = new Set<string>();
  for (;;) {
    if (deps.clock.now() - started > budgetMs) {
      report.truncated = true;
      break;
    }
    const due = await deps.store.plans.dueBefore(horizon - 1, pageSize);
    const fresh = due.filter((p) => !seen.has(p.id));
    if (fresh.length === 0) break;
    for (const p of fresh) seen.add(p.id);
    const sources = await pointSources(
      deps,
      fresh.filter((p) => p.state === 'ACTIVE').map((p) => p.instanceId),
    );
    await inParallel(fresh, concurrency, async (plan) => {
      try {
        const handed = await scheduleAhead(deps, plan, now, sources.get(plan.instanceId));
        if (handed === null) return;
        report.plans += 1;
        report.enqueued += handed.enqueued;
        report.skipped += handed.skipped;
      } catch (err) {
        deps.log.error('scheduling a plan failed; the next tick retries', {
          planId: plan.id,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    });
    if (due.length < pageSize) break;
  }
  report.resumed = await resumeStalledJobs(deps, now);
  report.redispatched = await redispatchUndelivered(deps, now);
  await sweepRecovery(deps, now);
  return report;
}

async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

export interface HandedToQueue {
  enqueued: number;
  skipped: number;
}

/**
 * Hands every occurrence of one plan due before the look-ahead horizon to the queue, applies the
 * missed-run policy to those already past, and advances `nextRunAt` beyond the horizon. The tick
 * runs it for every due plan; creating, changing or resuming a plan runs it at once, so a first run
 * that falls before the next tick still starts on its second. Both hand over the same deterministic
 * job ids, so whichever comes second collapses onto the jobs the first wrote. Null: the plan has
 * nothing to schedule (no schedule, or suspended).
 */
export async function scheduleAhead(
  deps: Deps,
  plan: Plan,
  now: number,
  source?: PointSource,
): Promise<HandedToQueue | null> {
  const schedule = plan.schedule;
  if (!schedule || plan.nextRunAt === null || plan.state !== 'ACTIVE') return null;
  const horizon = now + deps.settings.SCHEDULER_LOOKAHEAD_SECONDS * 1000;
  const report: HandedToQueue = { enqueued: 0, skipped: 0 };
  // Nothing inside the look-ahead: the plan is left as it is (no write, no version bump).
  if (plan.nextRunAt >= horizon) return report;
  const params = {
    ...paramsFromPlan(plan, 'schedule'),
    ...(source ? { source } : {}),
  } as unknown as Record<string, unknown>;
  const base = { type: 'backup' as const, instanceId: plan.instanceId, planId: plan.id, params };
  let from = plan.nextRunAt;
  if (plan.nextRunAt <= now) {
    const catchUp = planCatchUp(
      schedule,
      plan.nextRunAt,
      now,
      deps.settings.START_WINDOW_SECONDS * 1000,
      MAX_SKIP_RECORDS,
    );
    for (const s of catchUp.skipped) {
      const id = scheduledJobId(plan.id, s.scheduledAt);
      await deps.store.jobs.create(
        newJob({ ...base, id, scheduledAt: s.scheduledAt, status: 'SKIPPED', reason: s.reason }, now),
      );
      report.skipped += 1;
    }
    if (catchUp.due) {
      const { scheduledAt, decision } = catchUp.due;
      const id = scheduledJobId(plan.id, scheduledAt);
      if (decision.action === 'skip') {
        await deps.store.jobs.create(
          newJob({ ...base, id, scheduledAt, status: 'SKIPPED', reason: decision.reason }, now),
        );
        report.skipped += 1;
      } else {
        await enqueueJob(deps, newJob({ ...base, id, scheduledAt }, now), 0);
        report.enqueued += 1;
      }
    }
    from = catchUp.nextRunAt;
  }
  for (const scheduledAt of occurrencesIn(schedule, from, horizon)) {
    const id = scheduledJobId(plan.id, scheduledAt);
    // Early by the lead (and rounded down to whole seconds): the worker prepares, then holds the job
    // until its second, so the snapshot request goes out on time rather than after the preparation.
    const lead = deps.settings.SCHEDULE_LEAD_SECONDS;
    const delaySeconds = Math.max(0, Math.floor((scheduledAt - now) / 1000) - lead);
    await enqueueJob(deps, newJob({ ...base, id, scheduledAt }, now), delaySeconds);
    report.enqueued += 1;
  }
  await advancePlan(deps, plan, firstOccurrenceAtOrAfter(schedule, Math.max(horizon, from)), now);
  return report;
}

/** Conditional write; a concurrent change that left the schedule alone (a rename) does not stop the advance. */
async function advancePlan(deps: Deps, plan: Plan, nextRunAt: number, now: number): Promise<void> {
  let current: Plan | undefined = plan;
  for (let i = 0; i < 3 && current; i += 1) {
    const written = await deps.store.plans.update({ ...current, nextRunAt, updatedAt: now }, current.version);
    if (written.ok) return;
    current = written.current ?? (await deps.store.plans.get(plan.id));
    const untouched =
      current?.state === 'ACTIVE' &&
      current.nextRunAt === plan.nextRunAt &&
      JSON.stringify(current.schedule) === JSON.stringify(plan.schedule);
    if (!untouched) return;
  }
}

/**
 * A job whose record has not changed for JOB_STALL_SECONDS lost its message (a crash between the
 * write and the send, a message dead-lettered by the queue itself): touch it and send it again.
 */
async function resumeStalledJobs(deps: Deps, now: number): Promise<number> {
  const stallMs = deps.settings.JOB_STALL_SECONDS * 1000;
  let resumed = 0;
  let cursor: string | undefined;
  for (let page = 0; page < 10; page += 1) {
    const jobs = await deps.store.jobs.list(
      { status: ['QUEUED', 'RUNNING', 'CANCELING'], to: now - stallMs },
      { limit: 500, cursor, order: 'asc' },
    );
    for (const job of jobs.items) {
      if (now - job.updatedAt <= stallMs) continue;
      if (job.status === 'QUEUED' && job.scheduledAt !== null && job.scheduledAt > now) continue;
      const touched = await deps.store.jobs.update({ ...job, updatedAt: now }, job.version);
      if (!touched.ok) continue;
      await deps.jobQueue.send(encodeJobMessage(job.id));
      deps.log.warn('stalled job resumed', { jobId: job.id, step: job.step, idleMs: now - job.updatedAt });
      resumed += 1;
    }
    cursor = jobs.cursor;
    if (!cursor) break;
  }
  return resumed;
}
