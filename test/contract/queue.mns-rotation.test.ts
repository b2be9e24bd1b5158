import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionQueues } from '../../infra/queues.js';
import { createMnsQueue, type MnsCredentials } from '../../lib/adapters/mns/index.js';
import { startMnsEmulator, type MnsEmulator } from '../../local/mns-emulator/index.js';
import { KeyRing } from '../../local/sts-keys.js';
import { definitionFor, TEST_KEY } from './support/queue-fixtures.js';

/** FC rotates a function role's STS set while an instance lives: the queue must sign with the new one. */
describe('MNS adapter with rotating STS credentials', () => {
  const first = { accessKeyId: 'STS.first', accessKeySecret: 'first-secret', securityToken: 'tok-1' };
  const second = { accessKeyId: 'STS.second', accessKeySecret: 'second-secret', securityToken: 'tok-2' };
  const ring = new KeyRing([first]);
  let emulator: MnsEmulator;

  beforeAll(async () => {
    emulator = await startMnsEmulator({ ...TEST_KEY, keys: ring });
  });
  afterAll(async () => emulator?.close());

  it('reads the credentials on every call, so an expired set is never used again', async () => {
    const settings = { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 };
    await provisionQueues({
      endpoint: emulator.endpoint,
      ...TEST_KEY,
      dryRun: false,
      queues: [definitionFor('rotating', settings)],
    });
    let current: MnsCredentials = first;
    const queue = createMnsQueue({
      endpoint: emulator.endpoint,
      credentials: () => current,
      name: 'rotating',
      settings,
    });
    await queue.send('signed with the first set');

    ring.issue(second);
    current = second;
    ring.expire(first.accessKeyId);
    await queue.send('signed with the second set');
    const bodies = (await queue.receive({ max: 10, waitSeconds: 0 })).map((m) => m.body).sort();

    expect(bodies).toEqual(['signed with the first set', 'signed with the second set']);
    // The expired set is refused: a client that kept it would fail here.
    const stale = createMnsQueue({ endpoint: emulator.endpoint, ...first, name: 'rotating', settings });
    await expect(stale.send('x')).rejects.toThrow(/InvalidAccessKeyId/);
  });
});
