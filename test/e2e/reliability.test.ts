import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../lib/domain/model.js';
import type { Queue } from '../../lib/ports/queue.js';
import { decodeJobMessage } from '../../lib/usecases/jobs/job-message.js';
import {
  E2E_TIMEOUT_MS,
  addLinuxInstance,
  backupNow,
  finished,
  groupsOfJob,
  planBody,
  pointOf,
  protect,
  startTestCloud,
  type TestCloud,
} from './support.js';

const FAR_FUTURE = { startAt: '2099-01-01T00:00:00Z', every: { value: 1, unit: 'days' } };
const app = { consistency: { applicationConsistent: true, fsFreeze: true, timeoutSeconds: 30 } };

/** Every send goes out twice: at-least-once delivery at its worst. */
function duplicating(inner: Queue): Queue {
  return {
    name: inner.name,
    async send(body, options) {
      await inner.send(body, options);
      return inner.send(body, options);
    },
    receive: (o) => inner.receive(o),
    delete: (h) => inner.delete(h),
    changeVisibility: (h, s) => inner.changeVisibility(h, s),
    close: () => inner.close(),
  };
}

/** Asserts what "nothing left behind" means for one finished backup job. */
async function assertClean(cloud: TestCloud, job: Job): Promise<void> {
  const groups = await groupsOfJob(cloud, job);
  if (job.status === 'COMPLETE') {
    const point = await pointOf(cloud, job);
    expect(
      groups.map((g) => g.snapshotGroupId),
      job.id,
    ).toEqual([point.snapshotGroupId]);
  } else {
    expect(groups, job.id).toEqual([]);
  }
  expect(await cloud.emulator.admin.frozen({ instanceId: job.instanceId })).toEqual([]);
}

describe('reliability on the local cloud', { timeout: E2E_TIMEOUT_MS }, () => {
  let cloud: TestCloud;
  let original: Queue;

  beforeAll(async () => {
    cloud = await startTestCloud({ timers: false, settings: { MAX_RECEIVE_COUNT: '3' } });
    original = cloud.deps.jobQueue;
  });
  afterEach(async () => {
    cloud.deps.jobQueue = original;
    cloud.deps.hooks = undefined;
    await cloud.emulator.admin.clearFaults();
  });
  afterAll(async () => {
    await cloud?.dispose();
  });

  it('every message delivered twice: no duplicate job, no duplicate snapshot group', async () => {
    cloud.deps.jobQueue = duplicating(original);
    const instances = await Promise.all([
      addLinuxInstance(cloud),
      addLinuxInstance(cloud, { scripts: 'valid' }),
    ]);
    const jobIds: string[] = [];
    for (const [i, { instanceId }] of instances.entries()) {
      const { jobId } = await protect(cloud, instanceId, planBody(i === 1 ? app : {}));
      jobIds.push(jobId!);
    }

    const jobs = await Promise.all(jobIds.map((id) => finished(cloud, id)));

    for (const job of jobs) {
      expect(job.status).toBe('COMPLETE');
      await assertClean(cloud, job);
      const all = await cloud.deps.store.jobs.list({ instanceId: job.instanceId });
      expect(all.items).toHaveLength(1);
      expect((await cloud.deps.store.points.list({ instanceId: job.instanceId })).items).toHaveLength(1);
    }
  });

  it('the worker killed after each persisted step and restarted: terminal, no orphan snapshot, nothing frozen', async () => {
    // One instance per boundary, crash-consistent and application-consistent (guest script) flows.
    const boundaries = [1, 2, 3, 4, 5, 6, 7, 8];
    const plans: { instanceId: string; crashAt: number; app: boolean }[] = [];
    for (const crashAt of boundaries) {
      plans.push({ instanceId: (await addLinuxInstance(cloud)).instanceId, crashAt, app: false });
      plans.push({
        instanceId: (await addLinuxInstance(cloud, { scripts: 'valid' })).instanceId,
        crashAt,
        app: true,
      });
    }
    const writes = new Map<string, number>();
    const crashed = new Set<string>();
    cloud.deps.hooks = {
      afterJobStep: (job) => {
        const plan = plans.find((p) => p.instanceId === job.instanceId);
        if (!plan || crashed.has(job.instanceId)) return;
        const n = (writes.get(job.instanceId) ?? 0) + 1;
        writes.set(job.instanceId, n);
        if (n === plan.crashAt) {
          crashed.add(job.instanceId);
          throw new Error(`worker killed after persisted step ${n} (${job.step})`);
        }
      },
    };
    const jobIds: string[] = [];
    for (const p of plans)
      jobIds.push((await protect(cloud, p.instanceId, planBody(p.app ? app : {}))).jobId!);

    const jobs = await Promise.all(jobIds.map((id) => finished(cloud, id, 90_000)));

    expect(crashed.size).toBeGreaterThanOrEqual(boundaries.length);
    for (const job of jobs) {
      expect(job.status, `${job.id}: ${job.reason}`).toBe('COMPLETE');
      await assertClean(cloud, job);
    }
  });

  it('half of all ECS calls throttled: every backup completes, none fails for throttling', async () => {
    const instances = await Promise.all([0, 1, 2, 3].map(() => addLinuxInstance(cloud)));
    const planIds: string[] = [];
    for (const { instanceId } of instances) {
      planIds.push((await protect(cloud, instanceId, planBody({ schedule: FAR_FUTURE }))).planId!);
    }
    await cloud.emulator.admin.clearCalls();
    await cloud.emulator.admin.throttle({ fraction: 0.5 });
    const jobIds: string[] = [];
    // Running a plan touches only the store and the queue; everything after is the worker's.
    for (const planId of planIds)
      jobIds.push((await cloud.api.post<{ id: string }>(`/plans/${planId}/run`)).body.id);

    const jobs = await Promise.all(jobIds.map((id) => finished(cloud, id, 90_000)));
    const throttled = (await cloud.emulator.admin.calls()).filter((c) => c.code?.startsWith('Throttling'));
    await cloud.emulator.admin.clearFaults();

    expect(throttled.length).toBeGreaterThan(0);
    for (const job of jobs) {
      expect(job.status, `${job.id}: ${job.reason}`).toBe('COMPLETE');
      await assertClean(cloud, job);
    }
  });

  it('a poison message is dead-lettered after MAX_RECEIVE_COUNT deliveries and its job FAILED', async () => {
    const { instanceId } = await addLinuxInstance(cloud);
    await protect(cloud, instanceId, planBody({ schedule: FAR_FUTURE }));
    cloud.deps.hooks = {
      afterJobStep: (job) => {
        if (job.instanceId === instanceId) throw new Error('this job always breaks the worker');
      },
    };

    const job = await finished(cloud, await backupNow(cloud, instanceId), 60_000);

    expect(job.status).toBe('FAILED');
    expect(job.reason).toContain('always breaks');
    const dead = await cloud.deps.deadLetterQueue.receive({ max: 16 });
    expect(dead.map((m) => decodeJobMessage(m.body)?.jobId)).toContain(job.id);
  });
});
