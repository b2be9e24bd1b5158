import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMnsQueue } from '../../lib/adapters/mns/index.js';
import type { Queue } from '../../lib/ports/queue.js';
import { startMnsEmulator, type MnsEmulator } from '../../local/mns-emulator/index.js';
import { mnsControl } from './support/mns-control.js';
import { TEST_KEY } from './support/queue-fixtures.js';

/** What the OpenAPI client's read timeout is set to here; the real one (infra/queues.ts) is 15 s. */
const FOREIGN_READ_TIMEOUT_MS = 300;

/**
 * The OpenAPI SDK and the MNS SDK both send through `httpx`, which keeps a request's read timer on
 * its socket and clears it only when the answer is read with `httpx.read`. The OpenAPI SDK reads
 * its answers otherwise, so its timer stays armed on a socket that goes back to the keep-alive pool;
 * when it fires it disarms the timer of whatever request holds that socket by then, and that
 * request's answer is refused as a read timeout the moment it arrives. A receive refused so has
 * already taken its messages: they stay invisible for the queue's visibility timeout (5 minutes for
 * the job queue), which is how a job in cloud mode lost its next message.
 */
describe('MNS adapter: its connections are its own', () => {
  let emulator: MnsEmulator;
  let queue: Queue;

  beforeAll(async () => {
    emulator = await startMnsEmulator(TEST_KEY);
    queue = createMnsQueue({
      endpoint: emulator.endpoint,
      ...TEST_KEY,
      name: 'shared-host',
      settings: { visibilityTimeoutSeconds: 300, maxReceiveCount: 5 },
    });
  });
  afterAll(async () => {
    await queue.close();
    await emulator.close();
  });

  it('a receive answered after another SDK’s read timer fired on the same host still gets its message', async () => {
    const control = mnsControl(emulator.endpoint, TEST_KEY, {
      readTimeout: FOREIGN_READ_TIMEOUT_MS,
      connectTimeout: FOREIGN_READ_TIMEOUT_MS,
    });
    // The queue is created over the OpenAPI, as `provisionQueues` does: its socket keeps the armed timer.
    await control('CreateQueue', { QueueName: 'shared-host', VisibilityTimeout: '300' });
    // A long poll on the same host that is still waiting when that timer fires, answered after it.
    const received = queue.receive({ max: 10, waitSeconds: 3 });
    await new Promise((r) => setTimeout(r, FOREIGN_READ_TIMEOUT_MS * 2));
    const sender = createMnsQueue({
      endpoint: emulator.endpoint,
      ...TEST_KEY,
      name: 'shared-host',
      settings: { visibilityTimeoutSeconds: 300, maxReceiveCount: 5 },
    });
    await sender.send('the next step of a job');
    await sender.close();
    const messages = await received;
    expect(messages.map((m) => m.body)).toEqual(['the next step of a job']);
  });
});
