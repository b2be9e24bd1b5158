import { afterEach, describe, expect, it } from 'vitest';
import { isTerminal } from '../../../lib/domain/job.js';
import { schedulerTick } from '../../../lib/usecases/scheduler-tick.js';
import { harness, jobOf, startBackup, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const GRACE_S = 60;

/** The creating process dies after writing the job and before its first message leaves. */
function dieBeforeTheFirstSend(target: Harness): { reached: () => boolean } {
  const queue = target.deps.jobQueue;
  const send = queue.send.bind(queue);
  let reached = false;
  queue.send = async (...args) => {
    if (reached) return send(...args);
    reached = true;
    throw new Error('process killed between the job write and the send');
  };
  return { reached: () => reached };
}

/** Messages waiting in the job queue. */
async function queued(target: Harness): Promise<number> {
  const messages = await target.queue.receive({ max: 16 });
  // Counted, then visible again a second later, for the worker.
  for (const m of messages) await target.queue.changeVisibility(m.receiptHandle, 1);
  target.clock.advance(1000);
  return messages.length;
}

describe('a job whose creator died before announcing it', () => {
  it('is announced again by the first tick after the grace and completes once', async () => {
    h = harness({ JOB_DISPATCH_GRACE_SECONDS: String(GRACE_S) });
    const { instanceId } = h.ecs.addInstance();
    const crash = dieBeforeTheFirstSend(h);

    await expect(startBackup(h, instanceId, {}, { id: 'job-unsent1' })).rejects.toThrow(/killed/);

    expect(crash.reached()).toBe(true);
    expect(await queued(h)).toBe(0);
    expect(await jobOf(h, 'job-unsent1')).toMatchObject({ status: 'QUEUED', version: 1 });
    h.clock.advance((GRACE_S - 1) * 1000);
    expect((await schedulerTick(h.deps, h.clock.now())).redispatched).toBe(0);

    h.clock.advance(2000);
    const report = await schedulerTick(h.deps, h.clock.now());

    expect(report.redispatched).toBe(1);
    expect(report.resumed).toBe(0);
    await h.drain({ until: async () => isTerminal((await jobOf(h, 'job-unsent1')).status) });
    expect((await jobOf(h, 'job-unsent1')).status).toBe('COMPLETE');
    expect(h.ecs.calls.createSnapshotGroup).toBe(1);
    expect(h.ecs.groups.size).toBe(1);
    // Announced again at most once by this rule: a later tick leaves the finished job alone.
    h.clock.advance(10 * GRACE_S * 1000);
    expect((await schedulerTick(h.deps, h.clock.now())).redispatched).toBe(0);
  });

  it('a first message that was only late makes the re-send a harmless duplicate', async () => {
    h = harness({ JOB_DISPATCH_GRACE_SECONDS: String(GRACE_S) });
    const { instanceId } = h.ecs.addInstance();
    await startBackup(h, instanceId, {}, { id: 'job-late1' });
    // A backlog: the message waits in the queue past the grace, and the tick announces the job again.
    h.clock.advance((GRACE_S + 5) * 1000);

    expect((await schedulerTick(h.deps, h.clock.now())).redispatched).toBe(1);
    expect(await queued(h)).toBe(2);

    await h.drain({ deliverTwice: true });

    expect((await jobOf(h, 'job-late1')).status).toBe('COMPLETE');
    expect(h.ecs.calls.createSnapshotGroup).toBe(1);
    expect(h.ecs.groups.size).toBe(1);
    expect(await h.deps.store.points.list({ instanceId })).toMatchObject({ items: [{ jobId: 'job-late1' }] });
    expect(h.outcomes.some((o) => o.kind === 'ignored')).toBe(true);
    expect(h.outcomes.filter((o) => o.kind === 'dead-lettered')).toEqual([]);
  });

  it('leaves alone a job a worker has picked up and a job whose delayed message is not due', async () => {
    h = harness({ JOB_DISPATCH_GRACE_SECONDS: String(GRACE_S) });
    const { instanceId } = h.ecs.addInstance();
    const second = h.ecs.addInstance();
    await startBackup(h, instanceId, {}, { id: 'job-picked1' });
    await h.drain({ until: async () => (await jobOf(h, 'job-picked1')).status === 'RUNNING' });
    const crash = dieBeforeTheFirstSend(h);
    const future = h.clock.now() + 80_000;
    await expect(
      startBackup(h, second.instanceId, {}, { id: 'job-future1', scheduledAt: future }),
    ).rejects.toThrow(/killed/);
    expect(crash.reached()).toBe(true);
    h.clock.advance((GRACE_S + 5) * 1000);

    expect((await schedulerTick(h.deps, h.clock.now())).redispatched).toBe(0);

    h.clock.advance(80_000);
    expect((await schedulerTick(h.deps, h.clock.now())).redispatched).toBe(1);
  });
});
