import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { scheduledJobId } from '../../lib/domain/job.js';
import { schedulerTick } from '../../lib/usecases/scheduler-tick.js';
import { aJob, dailyPlan } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';

/**
 * What a plan's life does to its jobs: Run Now on a suspended plan, jobs still queued when the plan
 * is deleted, suspended or re-scheduled, and a first run that falls before the next scheduler tick.
 */

const I = 'i-pjobs0001';
let h: Harness;
let planId = '';

beforeEach(async () => {
  h = await startHarness({
    seed: {
      instances: [
        { instanceId: I, disks: [{ diskId: 'd-pjobs0001', type: 'system', category: 'cloud_essd' }] },
      ],
    },
  });
  const r = await h.call('POST', '/api/v1/protected-instances', { body: { instanceId: I, plan: dailyPlan } });
  expect(r.status).toBe(201);
  planId = r.body.plan.id;
}, 60_000);
afterEach(async () => h?.close());

const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

async function queuedMessages(): Promise<{ jobId: string; visibleAfterSeconds: number }[]> {
  const out: { jobId: string; visibleAfterSeconds: number }[] = [];
  const start = h.clock.now();
  for (let s = 0; s <= 120; s += 1) {
    for (const m of await h.queue.receive({ max: 16 })) {
      out.push({ jobId: (JSON.parse(m.body) as { jobId: string }).jobId, visibleAfterSeconds: s });
      await h.queue.delete(m.receiptHandle);
    }
    h.clock.advance(1000);
  }
  h.clock.set(start);
  return out;
}

async function jobsOfPlan(): Promise<{ id: string; status: string; reason: string | null }[]> {
  const page = await h.store.jobs.list({ planId }, { limit: 100, order: 'asc' });
  return page.items.map((j) => ({ id: j.id, status: j.status, reason: j.reason }));
}

describe('Run Now and a suspended plan', () => {
  it('is refused with 409 and starts nothing: a suspended plan performs no backup', async () => {
    expect((await h.call('POST', `/api/v1/plans/${planId}/suspend`)).status).toBe(200);
    const before = h.dump();
    const r = await h.call('POST', `/api/v1/plans/${planId}/run`);
    expect(r.status, r.text).toBe(409);
    expect(r.headers['content-type']).toBe('application/problem+json');
    expect(r.body.detail).toMatch(/suspended/);
    expect(r.body.detail).toContain(`/plans/${planId}/resume`);
    expect(h.dump()).toEqual(before);
    expect(await queuedMessages()).toEqual([]);
  });

  it('runs once the plan is resumed, and an on-demand backup of the instance is not refused', async () => {
    await h.call('POST', `/api/v1/plans/${planId}/suspend`);
    expect((await h.call('POST', `/api/v1/protected-instances/${I}/backups`)).status).toBe(202);
    await h.call('POST', `/api/v1/plans/${planId}/resume`);
    const r = await h.call('POST', `/api/v1/plans/${planId}/run`);
    expect(r.status, r.text).toBe(202);
    expect(r.body).toMatchObject({ status: 'QUEUED', planId });
  });
});

describe('Run Now racing a suspend or a delete', () => {
  /** The plan changes after Run Now read it ACTIVE and before its job is written. */
  async function runNowWhile(change: () => Promise<void>) {
    const create = h.store.jobs.create.bind(h.store.jobs);
    const spy = vi.spyOn(h.store.jobs, 'create').mockImplementationOnce(async (job) => {
      await change();
      return create(job);
    });
    try {
      return await h.call('POST', `/api/v1/plans/${planId}/run`);
    } finally {
      spy.mockRestore();
    }
  }

  it('suspended in between: the job is CANCELED, never left to run', async () => {
    const r = await runNowWhile(async () => {
      const plan = (await h.store.plans.get(planId))!;
      const written = await h.store.plans.update(
        { ...plan, state: 'SUSPENDED', nextRunAt: null },
        plan.version,
      );
      expect(written.ok).toBe(true);
    });
    expect(r.status, r.text).toBe(202);
    expect(r.body).toMatchObject({ status: 'CANCELED', reason: 'plan suspended' });
    expect((await h.store.jobs.get(r.body.id))?.status).toBe('CANCELED');
  });

  it('deleted in between: the job is CANCELED with reason "plan deleted"', async () => {
    const r = await runNowWhile(async () => {
      expect((await h.store.plans.delete(planId)).ok).toBe(true);
    });
    expect(r.status, r.text).toBe(202);
    expect(r.body).toMatchObject({ status: 'CANCELED', reason: 'plan deleted' });
  });
});

describe('jobs a plan no longer wants are canceled; running ones finish', () => {
  async function runNowAndARunningJob(): Promise<{ queued: string; running: string }> {
    const r = await h.call('POST', `/api/v1/plans/${planId}/run`);
    expect(r.status).toBe(202);
    await h.store.jobs.create(
      aJob({ id: 'job-running', instanceId: I, planId, status: 'RUNNING', step: 'poll', finishedAt: null }),
    );
    return { queued: r.body.id, running: 'job-running' };
  }

  it('DELETE /plans/{id}: a queued Run Now job is CANCELED with reason "plan deleted"', async () => {
    const { queued, running } = await runNowAndARunningJob();
    expect((await h.call('DELETE', `/api/v1/plans/${planId}`)).status).toBe(204);
    const jobs = await jobsOfPlan();
    expect(jobs).toContainEqual({ id: queued, status: 'CANCELED', reason: 'plan deleted' });
    expect(jobs.find((j) => j.id === running)?.status).toBe('RUNNING');
  });

  it('DELETE /protected-instances/{id}: the same for every plan of the instance', async () => {
    const { queued, running } = await runNowAndARunningJob();
    expect((await h.call('DELETE', `/api/v1/protected-instances/${I}`)).status).toBe(200);
    const jobs = await jobsOfPlan();
    expect(jobs).toContainEqual({ id: queued, status: 'CANCELED', reason: 'plan deleted' });
    expect(jobs.find((j) => j.id === running)?.status).toBe('RUNNING');
  });

  it('suspend: a queued Run Now job is CANCELED with reason "plan suspended"', async () => {
    const { queued, running } = await runNowAndARunningJob();
    expect((await h.call('POST', `/api/v1/plans/${planId}/suspend`)).status).toBe(200);
    const jobs = await jobsOfPlan();
    expect(jobs).toContainEqual({ id: queued, status: 'CANCELED', reason: 'plan suspended' });
    expect(jobs.find((j) => j.id === running)?.status).toBe('RUNNING');
  });

  it('suspend then resume before a queued occurrence: the occurrence is kept and runs', async () => {
    const soon = Math.floor(h.clock.now() / 1000) * 1000 + 30_000;
    await h.call('PATCH', `/api/v1/plans/${planId}`, {
      body: { schedule: { startAt: iso(soon), every: { value: 1, unit: 'hours' } } },
    });
    const occurrence = scheduledJobId(planId, soon);
    expect((await h.call('POST', `/api/v1/plans/${planId}/suspend`)).status).toBe(200);
    // Left for its start step, which skips it if the plan is still suspended at its second.
    expect((await h.store.jobs.get(occurrence))?.status).toBe('QUEUED');
    expect((await h.call('POST', `/api/v1/plans/${planId}/resume`)).status).toBe(200);
    expect(await jobsOfPlan()).toEqual([{ id: occurrence, status: 'QUEUED', reason: null }]);
  });

  it('a changed schedule cancels occurrences of the old one already queued, and keeps Run Now', async () => {
    const soon = Math.floor(h.clock.now() / 1000) * 1000 + 30_000;
    const p = await h.call('PATCH', `/api/v1/plans/${planId}`, {
      body: { schedule: { startAt: iso(soon), every: { value: 1, unit: 'hours' } } },
    });
    expect(p.status, p.text).toBe(200);
    const run = await h.call('POST', `/api/v1/plans/${planId}/run`);
    const moved = await h.call('PATCH', `/api/v1/plans/${planId}`, {
      body: { schedule: { startAt: iso(soon + 10_000), every: { value: 1, unit: 'hours' } } },
    });
    expect(moved.status, moved.text).toBe(200);
    const jobs = await jobsOfPlan();
    expect(jobs).toContainEqual({
      id: scheduledJobId(planId, soon),
      status: 'CANCELED',
      reason: 'plan schedule changed',
    });
    expect(jobs).toContainEqual({
      id: scheduledJobId(planId, soon + 10_000),
      status: 'QUEUED',
      reason: null,
    });
    expect(jobs.find((j) => j.id === run.body.id)?.status).toBe('QUEUED');
  });
});

describe('a first run inside the look-ahead is handed to the queue at once', () => {
  const LEAD = 3;

  for (const [how, makeDue] of [
    [
      'created',
      async (startAt: number) => {
        await h.call('DELETE', `/api/v1/plans/${planId}`);
        const r = await h.call('POST', '/api/v1/plans', {
          body: {
            instanceId: I,
            plan: { ...dailyPlan, schedule: { startAt: iso(startAt), every: { value: 1, unit: 'days' } } },
          },
        });
        expect(r.status, r.text).toBe(201);
        return r.body.id as string;
      },
    ],
    [
      'modified',
      async (startAt: number) => {
        const r = await h.call('PATCH', `/api/v1/plans/${planId}`, {
          body: { schedule: { startAt: iso(startAt), every: { value: 1, unit: 'days' } } },
        });
        expect(r.status, r.text).toBe(200);
        return planId;
      },
    ],
    [
      'resumed',
      async (startAt: number) => {
        await h.call('POST', `/api/v1/plans/${planId}/suspend`);
        // Changed while suspended: nothing is scheduled until the resume.
        await h.call('PATCH', `/api/v1/plans/${planId}`, {
          body: { schedule: { startAt: iso(startAt), every: { value: 1, unit: 'days' } } },
        });
        expect(await jobsOfPlan()).toEqual([]);
        const r = await h.call('POST', `/api/v1/plans/${planId}/resume`);
        expect(r.status, r.text).toBe(200);
        return planId;
      },
    ],
  ] as const) {
    it(`${how}: job written with the scheduler's id, message delayed to its second; the tick adds nothing`, async () => {
      const startAt = Math.floor(h.clock.now() / 1000) * 1000 + 20_000;
      planId = await makeDue(startAt);
      const jobId = scheduledJobId(planId, startAt);
      const job = await h.store.jobs.get(jobId);
      expect(job).toMatchObject({ status: 'QUEUED', planId, scheduledAt: startAt });
      const plan = await h.store.plans.get(planId);
      expect(plan!.nextRunAt).toBe(startAt + 86_400_000);

      // The scheduler's next tick (and a second one) collapse onto the same job.
      await schedulerTick(h.deps, h.clock.now());
      await schedulerTick(h.deps, h.clock.now() + 1000);
      expect((await jobsOfPlan()).filter((j) => j.status !== 'CANCELED').map((j) => j.id)).toEqual([jobId]);

      const messages = await queuedMessages();
      expect(messages.map((m) => m.jobId)).toEqual([jobId]);
      // Delayed to its second less the preparation lead, as the tick does.
      expect(messages[0]!.visibleAfterSeconds).toBe(20 - LEAD);
    });
  }

  it('an occurrence beyond the look-ahead is left to the tick: no job, no write', async () => {
    const startAt = Math.floor(h.clock.now() / 1000) * 1000 + 3_600_000;
    const r = await h.call('PATCH', `/api/v1/plans/${planId}`, {
      body: { schedule: { startAt: iso(startAt), every: { value: 1, unit: 'days' } } },
    });
    expect(r.body.nextRunAt).toBe(new Date(startAt).toISOString());
    expect(await jobsOfPlan()).toEqual([]);
  });
});
