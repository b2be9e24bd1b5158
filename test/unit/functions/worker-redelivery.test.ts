import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandler as createWorker } from '../../../functions/worker/index.js';
import { encodeMnsBody } from '../../../lib/adapters/mns/codec.js';
import { QueueError, type Queue, type ReceivedMessage } from '../../../lib/ports/queue.js';
import type { FcContext } from '../../../lib/runtime/fc.js';
import { harness, startBackup, type Harness } from '../usecases/harness.js';

const context: FcContext = { requestId: 'req-redelivery', function: { name: 'test', timeout: 60 } };
const sample = JSON.parse(readFileSync(new URL('../../../events/mns-single.json', import.meta.url), 'utf8'));

/** The CloudEvent EventBridge pushes for a queue message: its id and body, no delivery count. */
const pushOf = (m: ReceivedMessage) =>
  Buffer.from(
    JSON.stringify([
      { ...sample, data: { ...sample.data, messageId: m.messageId, messageBody: encodeMnsBody(m.body) } },
    ]),
  );

/** The job queue as a worker sees it while MNS refuses every send (the follow-up and its retry). */
function refusingSends(queue: Queue): Queue {
  return new Proxy(queue, {
    get(target, prop) {
      if (prop === 'send')
        return async () => Promise.reject(new QueueError('MNS SendMessage failed: timeout'));
      const member: unknown = Reflect.get(target, prop, target);
      return typeof member === 'function' ? (member as () => unknown).bind(target) : member;
    },
  });
}

let h: Harness;
beforeEach(() => {
  h = harness();
});
afterEach(async () => {
  await h.close();
});

/** What EventBridge reads next from the job queue (it deletes what it read), time moved on to it. */
async function consumeNext(): Promise<ReceivedMessage> {
  for (let waited = 0; waited < 120; waited += 1) {
    const [m] = await h.queue.receive({ max: 1 });
    if (m) {
      await h.queue.delete(m.receiptHandle);
      return m;
    }
    h.clock.advance(1000);
  }
  throw new Error('no message came');
}

/** A backup whose first delivery ran, and the poll message it sent, read by EventBridge. */
async function backupAtItsFirstPoll() {
  h.ecs.describesToComplete = 4;
  const { instanceId } = h.ecs.addInstance();
  const job = await startBackup(h, instanceId);
  const worker = createWorker(h.deps);
  await worker(pushOf(await consumeNext()), context);
  return { job, worker, polling: await consumeNext() };
}

describe('worker: a message pushed again by EventBridge after a failed invocation', () => {
  it('carries on where its own first delivery wrote the job and sent nothing', async () => {
    const { job, worker, polling } = await backupAtItsFirstPoll();
    const before = (await h.deps.store.jobs.get(job.id))!;

    // The poll writes the job, then neither its follow-up nor the retry of the message can be sent:
    // the invocation fails, and EventBridge pushes the same event again.
    const cutOff = createWorker({ ...h.deps, jobQueue: refusingSends(h.deps.jobQueue) });
    await expect(cutOff(pushOf(polling), context)).rejects.toThrow(/SendMessage/);
    const written = (await h.deps.store.jobs.get(job.id))!;
    expect(written.version).toBeGreaterThan(before.version);
    expect(await h.queue.receive({ max: 16 })).toEqual([]);

    const again = await worker(pushOf(polling), context);

    expect(again.outcomes[0]).toMatchObject({ kind: 'waiting', jobId: job.id });
    expect((await h.deps.store.jobs.get(job.id))!.version).toBeGreaterThan(written.version);
    expect(await consumeNext()).toMatchObject({ body: expect.stringContaining(job.id) });
  });

  it('still drops a duplicate: another message of a version the job has left', async () => {
    const { job, worker, polling } = await backupAtItsFirstPoll();
    await worker(pushOf(polling), context);

    const twin = { ...polling, messageId: `${polling.messageId}-twin` };
    const result = await worker(pushOf(twin), context);

    expect(result.outcomes[0]).toMatchObject({ kind: 'ignored', jobId: job.id, why: 'stale message' });
  });
});
