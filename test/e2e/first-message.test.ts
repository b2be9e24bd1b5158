import { afterAll, describe, expect, it } from 'vitest';
import type { Queue } from '../../lib/ports/queue.js';
import {
  E2E_TIMEOUT_MS,
  addLinuxInstance,
  finished,
  groupsOfJob,
  planBody,
  pointOf,
  protect,
  startTestCloud,
  until,
  type TestCloud,
} from './support.js';

const GRACE_S = 10;

/** The first send fails as if the API process died right after writing the job. */
function dyingOnFirstSend(inner: Queue): { queue: Queue; died: () => boolean } {
  let died = false;
  return {
    died: () => died,
    queue: {
      name: inner.name,
      async send(body, options) {
        if (!died) {
          died = true;
          throw new Error('process killed between the job write and the send');
        }
        return inner.send(body, options);
      },
      receive: (o) => inner.receive(o),
      delete: (h) => inner.delete(h),
      changeVisibility: (h, s) => inner.changeVisibility(h, s),
      close: () => inner.close(),
    },
  };
}

describe(
  'a backup whose first message was never sent, on the local cloud',
  { timeout: E2E_TIMEOUT_MS },
  () => {
    let cloud: TestCloud | undefined;
    afterAll(async () => {
      await cloud?.dispose();
    });

    it('is started by the scheduler timer after the grace, not after the stall timeout, and completes once', async () => {
      // Prepare: the stall sweep is out of reach, so only the first-message rule can rescue the job.
      cloud = await startTestCloud({
        settings: { JOB_DISPATCH_GRACE_SECONDS: String(GRACE_S), JOB_STALL_SECONDS: '3600' },
      });
      const { instanceId } = await addLinuxInstance(cloud);
      const { jobId: none } = await protect(
        cloud,
        instanceId,
        planBody({ schedule: { startAt: '2099-01-01T00:00:00Z', every: { value: 1, unit: 'days' } } }),
      );
      expect(none).toBeNull();
      const original = cloud.deps.jobQueue;
      const dying = dyingOnFirstSend(original);
      cloud.deps.jobQueue = dying.queue;

      // Act
      const answer = await cloud.api.post(`/protected-instances/${instanceId}/backups`, {});

      // Assess
      expect(dying.died()).toBe(true);
      expect(answer.status).toBeGreaterThanOrEqual(500);
      const c = cloud;
      const written = await until('the job record', async () => {
        const page = await c.deps.store.jobs.list({ instanceId });
        return page.items[0];
      });
      expect(written).toMatchObject({ status: 'QUEUED', version: 1 });
      const job = await finished(cloud, written.id, 60_000);
      expect(job.status).toBe('COMPLETE');
      expect(job.startedAt! - job.createdAt).toBeGreaterThanOrEqual(GRACE_S * 1000);
      expect(job.startedAt! - job.createdAt).toBeLessThan(40_000);
      const point = await pointOf(cloud, job);
      expect((await groupsOfJob(cloud, job)).map((g) => g.snapshotGroupId)).toEqual([point.snapshotGroupId]);
      expect((await cloud.deps.store.jobs.list({ instanceId })).items).toHaveLength(1);
    });
  },
);
