import { randomBytes } from 'node:crypto';
import MnsClient from '@alicloud/mns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionQueues } from '../../infra/queues.js';
import { createMnsQueue, decodeMnsBody, encodeMnsBody } from '../../lib/adapters/mns/index.js';
import { QueueError, type Queue, type QueueSettings } from '../../lib/ports/queue.js';
import { startMnsEmulator, type MnsEmulator } from '../../local/mns-emulator/index.js';
import { awkwardBody, describeQueueContract } from './queue.contract.js';
import { definitionFor, mnsQueueFixture, TEST_KEY } from './support/queue-fixtures.js';

describeQueueContract('MNS (official SDK against the MNS emulator)', mnsQueueFixture);

describe('MNS adapter specifics', () => {
  let emulator: MnsEmulator;
  let sdk: MnsClient;
  const opened: Queue[] = [];
  const connection = () => ({ endpoint: emulator.endpoint, ...TEST_KEY });
  const open = async (name: string, settings: QueueSettings, provision = true) => {
    if (provision)
      await provisionQueues({ ...connection(), dryRun: false, queues: [definitionFor(name, settings)] });
    const q = createMnsQueue({ ...connection(), name, settings });
    opened.push(q);
    return q;
  };

  beforeAll(async () => {
    emulator = await startMnsEmulator(TEST_KEY);
    sdk = new MnsClient(emulator.accountId, { endpoint: emulator.endpoint, ...TEST_KEY });
  });
  afterAll(async () => {
    for (const q of opened) await q.close();
    await emulator.close();
  });

  it('needs base64 because the SDK writes bodies into its XML unescaped', async () => {
    await sdk.createQueue('raw-sdk');
    await expect(sdk.sendMessage('raw-sdk', { MessageBody: '<b>&</b>' })).rejects.toMatchObject({
      name: 'MNSMalformedXMLError',
    });
    const q = await open('raw-sdk', { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 }, false);
    await q.send('<b>&</b>');
    const [peeked] = (await sdk.batchPeekMessage('raw-sdk', 1)).body;
    expect(peeked?.MessageBody).toBe(Buffer.from('<b>&</b>').toString('base64'));
  });

  it('dead-letters by itself on a queue provisioned without the server-side policy', async () => {
    await open('fallback-dlq', { visibilityTimeoutSeconds: 30, maxReceiveCount: 1000 });
    await sdk.createQueue('fallback', { VisibilityTimeout: 1 });
    const settings = { visibilityTimeoutSeconds: 1, maxReceiveCount: 1, deadLetterQueue: 'fallback-dlq' };
    const q = await open('fallback', settings, false);
    const dlq = await open('fallback-dlq', { visibilityTimeoutSeconds: 30, maxReceiveCount: 1000 }, false);
    await q.send('poison');
    const [first] = await q.receive({ waitSeconds: 5 });
    expect(first?.receiveCount).toBe(1);
    expect(await q.receive({ waitSeconds: 3 })).toEqual([]);
    const [dead] = await dlq.receive({ waitSeconds: 5 });
    expect(dead?.body).toBe('poison');
    // Nothing is left behind in the source queue.
    await expect(sdk.peekMessage('fallback')).rejects.toMatchObject({ name: 'MNSMessageNotExistError' });
  });

  it('deflates a body whose base64 would pass 64 KB and refuses one that still does not fit', async () => {
    const q = await open(`big-${randomBytes(3).toString('hex')}`, {
      visibilityTimeoutSeconds: 30,
      maxReceiveCount: 5,
    });
    const largestPlain = randomBytes(24_576).toString('hex'); // 49,152 bytes: base64 is exactly 65,536
    await q.send(largestPlain);
    const [m] = await q.receive({ waitSeconds: 5 });
    expect(m?.body).toBe(largestPlain);
    // Random 7-bit characters: deflate saves an eighth at best, base64 adds a third.
    const noise = Buffer.from(randomBytes(60_000).map((b) => b & 0x7f)).toString('latin1');
    await expect(q.send(noise)).rejects.toThrow(
      /does not fit MNS's 65536-byte limit once base64-encoded, even deflated/,
    );
    expect(encodeMnsBody(awkwardBody(65_536)).startsWith('z:')).toBe(true);
    expect(decodeMnsBody(encodeMnsBody(awkwardBody(65_536)))).toBe(awkwardBody(65_536));
  });

  it('hands over a body that another producer sent without base64 as it came', () => {
    expect(decodeMnsBody('plain text, not base64!')).toBe('plain text, not base64!');
    expect(decodeMnsBody(Buffer.from('{"v":1}').toString('base64'))).toBe('{"v":1}');
  });

  it('translates MNS errors: wrong secret, missing queue', async () => {
    const wrong = createMnsQueue({
      ...connection(),
      accessKeySecret: 'not-the-secret',
      name: 'raw-sdk',
      settings: { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 },
    });
    await expect(wrong.send('x')).rejects.toThrow(/SignatureDoesNotMatch/);
    await expect(wrong.receive()).rejects.toBeInstanceOf(QueueError);
    const missing = createMnsQueue({
      ...connection(),
      name: 'no-such-queue',
      settings: { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 },
    });
    await expect(missing.send('x')).rejects.toThrow(/QueueNotExist/);
    await expect(missing.receive({ waitSeconds: 1 })).rejects.toThrow(/QueueNotExist/);
  });

  it('reports a transport failure as a QueueError', async () => {
    const down = createMnsQueue({
      endpoint: 'http://127.0.0.1:1',
      ...TEST_KEY,
      name: 'jobs',
      settings: { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 },
    });
    await expect(down.send('x')).rejects.toBeInstanceOf(QueueError);
  });
});
