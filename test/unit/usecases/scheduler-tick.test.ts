import { afterEach, describe, expect, it } from 'vitest';
import { newJob, scheduledJobId } from '../../../lib/domain/job.js';
import type { Plan } from '../../../lib/domain/model.js';
import { newPlan } from '../../../lib/domain/plan.js';
import { suspendPlan } from '../../../lib/domain/plan.js';
import { decodeJobMessage } from '../../../lib/usecases/jobs/job-message.js';
import { scheduleAhead, schedulerTick } from '../../../lib/usecases/scheduler-tick.js';
import { SequentialIds } from '../../support/clock.js';
import { harness, T0, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const HOUR = 3_600_000;
const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

async function addPlan(startAt: number, everyHours = 1, overrides: Partial<Plan> = {}): Promise<Plan> {
  const plan = newPlan(
    {
      instanceId: 'i-sched0001',
      disks: 'all',
      schedule: { startAt: iso(startAt), every: { value: everyHours, unit: 'hours' } },
      retention: { value: 7, unit: 'days' },
    },
    new SequentialIds(),
    Math.min(startAt, h.clock.now()),
    () => 0.5,
  );
  const stored = {
    ...plan,
    ...overrides,
    id: overrides.id ?? `plan-s${Math.random().toString(36).slice(2, 8)}`,
  };
  const written = await h.deps.store.plans.create(stored);
  if (!written.ok) throw new Error('plan not created');
  return written.value;
}

async function sentMessages(): Promise<{ jobId: string; visibleAfter: number }[]> {
  const out: { jobId: string; visibleAfter: number }[] = [];
  // Look up to ten minutes ahead by moving the clock; the queue honours the delay on the clock.
  const start = h.clock.now();
  for (let s = 0; s <= 600; s += 1) {
    for (const m of await h.queue.receive({ max: 16 })) {
      out.push({ jobId: decodeJobMessage(m.body)!.jobId, visibleAfter: h.clock.now() - start });
      await h.queue.delete(m.receiptHandle);
    }
    h.clock.advance(1000);
  }
  h.clock.set(start);
  return out;
}

describe('scheduler tick', () => {
  it('hands an occurrence inside the look-ahead to the queue, delayed to its second, and advances the plan', async () => {
    h = harness();
    const plan = await addPlan(T0 + 30_500 - 500);

    const report = await schedulerTick(h.deps, T0);

    const jobId = scheduledJobId(plan.id, T0 + 30_000);
    const job = await h.deps.store.jobs.get(jobId);
    expect(job).toMatchObject({
      status: 'QUEUED',
      scheduledAt: T0 + 30_000,
      planId: plan.id,
      type: 'backup',
    });
    expect(job!.params).toMatchObject({
      trigger: 'schedule',
      disks: 'all',
      retention: { value: 7, unit: 'days' },
    });
    expect(report).toMatchObject({ plans: 1, enqueued: 1, skipped: 0 });
    expect((await h.deps.store.plans.get(plan.id))!.nextRunAt).toBe(T0 + 30_000 + HOUR);
    const sent = await sentMessages();
    // Delivered SCHEDULE_LEAD_SECONDS (3 s) early: the worker prepares, then holds it until its second.
    expect(sent).toEqual([{ jobId, visibleAfter: 27_000 }]);
  });

  it('leaves occurrences beyond the look-ahead for a later tick', async () => {
    h = harness();
    const plan = await addPlan(T0 + 5 * 60_000);

    const report = await schedulerTick(h.deps, T0);

    expect(report.enqueued).toBe(0);
    expect((await h.deps.store.plans.get(plan.id))!.nextRunAt).toBe(T0 + 5 * 60_000);
  });

  it('collapses repeated and racing ticks onto one job per occurrence', async () => {
    h = harness();
    const plan = await addPlan(T0 + 20_000);

    await Promise.all([
      schedulerTick(h.deps, T0),
      schedulerTick(h.deps, T0),
      schedulerTick(h.deps, T0 + 1000),
    ]);

    const jobs = await h.deps.store.jobs.list({ planId: plan.id });
    expect(jobs.items.map((j) => j.id)).toEqual([scheduledJobId(plan.id, T0 + 20_000)]);
  });

  it('scheduleAhead (what plan changes call) and a racing tick hand over the same job once', async () => {
    h = harness();
    const plan = await addPlan(T0 + 20_000);

    const [handed] = await Promise.all([scheduleAhead(h.deps, plan, T0), schedulerTick(h.deps, T0)]);
    await schedulerTick(h.deps, T0 + 1000);

    expect(handed).toEqual({ enqueued: 1, skipped: 0 });
    const jobs = await h.deps.store.jobs.list({ planId: plan.id });
    expect(jobs.items.map((j) => j.id)).toEqual([scheduledJobId(plan.id, T0 + 20_000)]);
    expect((await h.deps.store.plans.get(plan.id))!.nextRunAt).toBe(T0 + 20_000 + HOUR);
  });

  it('scheduleAhead leaves a plan with nothing inside the look-ahead unwritten, and a suspended one alone', async () => {
    h = harness();
    const far = await addPlan(T0 + 5 * 60_000);
    const suspended = await addPlan(T0 + 10_000, 1, { state: 'SUSPENDED' });

    expect(await scheduleAhead(h.deps, far, T0)).toEqual({ enqueued: 0, skipped: 0 });
    expect(await scheduleAhead(h.deps, suspended, T0)).toBeNull();

    expect((await h.deps.store.plans.get(far.id))!.version).toBe(far.version);
    expect((await h.deps.store.jobs.list({})).items).toEqual([]);
  });

  it('after an outage runs only the latest missed occurrence, late, and records the older ones as SKIPPED', async () => {
    h = harness();
    const plan = await addPlan(T0 - 5 * HOUR);
    // The scheduler was down: the plan still points five hours back; now is 10 minutes past the last occurrence.
    const now = T0 + 10 * 60_000;

    const report = await schedulerTick(h.deps, now);

    const jobs = (await h.deps.store.jobs.list({ planId: plan.id }, { limit: 100, order: 'asc' })).items;
    const skipped = jobs.filter((j) => j.status === 'SKIPPED');
    const queued = jobs.filter((j) => j.status === 'QUEUED');
    expect(queued.map((j) => j.scheduledAt)).toEqual([T0]);
    expect(skipped.map((j) => j.scheduledAt)).toEqual([
      T0 - 5 * HOUR,
      T0 - 4 * HOUR,
      T0 - 3 * HOUR,
      T0 - 2 * HOUR,
      T0 - HOUR,
    ]);
    expect(skipped[0]!.reason).toContain('missed');
    expect(report).toMatchObject({ enqueued: 1, skipped: 5 });
    expect((await h.deps.store.plans.get(plan.id))!.nextRunAt).toBe(T0 + HOUR);
    const sent = await sentMessages();
    expect(sent).toEqual([{ jobId: scheduledJobId(plan.id, T0), visibleAfter: 0 }]);
  });

  it('skips the latest missed occurrence too when it is older than the start window', async () => {
    h = harness({ START_WINDOW_SECONDS: '600' });
    const plan = await addPlan(T0 - 2 * HOUR, 2);
    const now = T0 + 30 * 60_000;

    await schedulerTick(h.deps, now);

    const job = await h.deps.store.jobs.get(scheduledJobId(plan.id, T0));
    expect(job?.status).toBe('SKIPPED');
    expect(job?.reason).toContain('start window');
    expect((await sentMessages()).length).toBe(0);
  });

  it('creates nothing for a suspended plan', async () => {
    h = harness();
    const plan = await addPlan(T0 + 10_000);
    await h.deps.store.plans.update(suspendPlan(plan, T0), plan.version);

    const report = await schedulerTick(h.deps, T0);

    expect(report.enqueued).toBe(0);
    expect((await h.deps.store.jobs.list({ planId: plan.id })).items).toHaveLength(0);
  });

  it('pages through many due plans', async () => {
    h = harness();
    for (let i = 0; i < 45; i += 1) await addPlan(T0 + 1000 * (i + 1));

    const report = await schedulerTick(h.deps, T0, { pageSize: 10 });

    expect(report.enqueued).toBe(45);
    expect((await h.deps.store.plans.dueBefore(T0 + 90_000, 100)).length).toBe(0);
  });

  it('re-sends the message of a job whose record has not moved for JOB_STALL_SECONDS', async () => {
    h = harness({ JOB_STALL_SECONDS: '60' });
    const stuck = newJob(
      { id: 'job-stuck1', type: 'backup', instanceId: 'i-sched0001', status: 'RUNNING', step: 'poll' },
      T0 - 10 * 60_000,
    );
    await h.deps.store.jobs.create(stuck);
    const fresh = newJob(
      { id: 'job-fresh1', type: 'backup', instanceId: 'i-sched0002', status: 'RUNNING', step: 'poll' },
      T0 - 30_000,
    );
    await h.deps.store.jobs.create(fresh);

    const report = await schedulerTick(h.deps, T0);

    expect(report.resumed).toBe(1);
    expect((await sentMessages()).map((m) => m.jobId)).toEqual(['job-stuck1']);
    expect((await h.deps.store.jobs.get('job-stuck1'))!.updatedAt).toBe(T0);
  });
});
