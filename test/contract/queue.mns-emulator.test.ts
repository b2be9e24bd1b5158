import { createHash } from 'node:crypto';
import MnsClient from '@alicloud/mns';
import { mnsControl } from './support/mns-control.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMnsEmulator, type MnsEmulator } from '../../local/mns-emulator/index.js';
import { childText, escapeXml, MalformedXmlError, parseXml } from '../../local/mns-emulator/xml.js';
import { TEST_KEY } from './support/queue-fixtures.js';

/** The emulator's wire protocol, spoken by the official SDK itself (no adapter in between). */
describe('MNS emulator, through @alicloud/mns', () => {
  let emulator: MnsEmulator;
  let sdk: MnsClient;

  beforeAll(async () => {
    emulator = await startMnsEmulator(TEST_KEY);
    sdk = new MnsClient(emulator.accountId, { endpoint: emulator.endpoint, ...TEST_KEY });
  });
  afterAll(() => emulator.close());

  it('creates queues idempotently, refuses changed attributes, and reports them', async () => {
    expect((await sdk.createQueue('attrs', { VisibilityTimeout: 45, PollingWaitSeconds: 3 })).code).toBe(201);
    expect((await sdk.createQueue('attrs', { VisibilityTimeout: 45, PollingWaitSeconds: 3 })).code).toBe(204);
    await expect(sdk.createQueue('attrs', { VisibilityTimeout: 46 })).rejects.toMatchObject({
      name: 'MNSQueueAlreadyExistError',
    });
    await sdk.setQueueAttributes('attrs', { MaximumMessageSize: 2048 });
    const { body } = await sdk.getQueueAttributes('attrs');
    expect(body).toMatchObject({
      QueueName: 'attrs',
      VisibilityTimeout: '45',
      PollingWaitSeconds: '3',
      MaximumMessageSize: '2048',
      DelaySeconds: '0',
      MessageRetentionPeriod: '345600',
      ActiveMessages: '0',
    });
    await expect(sdk.createQueue('bad', { VisibilityTimeout: 0 })).rejects.toMatchObject({
      name: 'MNSInvalidArgumentError',
    });
  });

  it('lists queues by prefix, pages them and deletes them', async () => {
    for (const n of ['list-a', 'list-b', 'list-c']) await sdk.createQueue(n);
    const all = await sdk.listQueue(undefined, 1000, 'list-');
    expect(all.body?.map((q) => q.QueueURL)).toEqual(
      ['list-a', 'list-b', 'list-c'].map((n) => `${emulator.endpoint}/queues/${n}`),
    );
    const page = await sdk.listQueue(undefined, 2, 'list-');
    expect(page.body).toHaveLength(2);
    await sdk.deleteQueue('list-b');
    expect((await sdk.listQueue(undefined, 1000, 'list-')).body).toHaveLength(2);
    await expect(sdk.getQueueAttributes('list-b')).rejects.toMatchObject({ name: 'MNSQueueNotExistError' });
  });

  it('sends and receives in batches, peeks without taking, and counts dequeues', async () => {
    await sdk.createQueue('batch', { VisibilityTimeout: 30 });
    const sent = await sdk.batchSendMessage('batch', [
      { MessageBody: 'b25l' },
      { MessageBody: 'dHdv', Priority: 1 },
      { MessageBody: 'dGhyZWU=', DelaySeconds: 60 },
    ]);
    expect(sent.code).toBe(201);
    expect(sent.body).toHaveLength(3);
    const peeked = await sdk.batchPeekMessage('batch', 16);
    // Priority 1 comes before the default 8; the delayed one is not visible.
    expect(peeked.body.map((m) => m.MessageBody)).toEqual(['dHdv', 'b25l']);
    expect(peeked.body[0]?.ReceiptHandle).toBeUndefined();
    const got = await sdk.batchReceiveMessage('batch', 16);
    expect(got.body.map((m) => [m.MessageBody, m.DequeueCount])).toEqual([
      ['dHdv', '1'],
      ['b25l', '1'],
    ]);
    expect(got.body[0]?.MessageBodyMD5).toBe(createHash('md5').update('dHdv').digest('hex').toUpperCase());
    const attrs = await sdk.getQueueAttributes('batch');
    expect(attrs.body).toMatchObject({ ActiveMessages: '0', InactiveMessages: '2', DelayMessages: '1' });
    const stale = `${got.body[0]!.ReceiptHandle!.split('-')[0]}-${'0'.repeat(24)}`;
    const deleted = await sdk.batchDeleteMessage('batch', [got.body[0]!.ReceiptHandle!, stale]);
    expect(deleted.body).toEqual([
      expect.objectContaining({ ErrorCode: 'MessageNotExist', ReceiptHandle: stale }),
    ]);
    expect((await sdk.batchDeleteMessage('batch', [got.body[1]!.ReceiptHandle!])).code).toBe(204);
    await expect(sdk.receiveMessage('batch')).rejects.toMatchObject({ name: 'MNSMessageNotExistError' });
  });

  it("long-polls for the queue's PollingWaitSeconds when a receive names no wait", async () => {
    await sdk.createQueue('default-wait', { PollingWaitSeconds: 1 });
    const started = performance.now();
    await expect(sdk.receiveMessage('default-wait')).rejects.toMatchObject({
      name: 'MNSMessageNotExistError',
    });
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('changes visibility and answers the new handle', async () => {
    await sdk.createQueue('vis', { VisibilityTimeout: 30 });
    await sdk.sendMessage('vis', { MessageBody: 'eA==' });
    const { body: m } = await sdk.receiveMessage('vis', 1);
    const changed = await sdk.changeMessageVisibility('vis', m.ReceiptHandle!, 5);
    expect(changed.body.ReceiptHandle).not.toBe(m.ReceiptHandle);
    expect(Number(changed.body.NextVisibleTime)).toBeGreaterThan(Date.now());
    await expect(sdk.deleteMessage('vis', m.ReceiptHandle!)).rejects.toMatchObject({
      name: 'MNSMessageNotExistError',
    });
    await expect(sdk.deleteMessage('vis', 'garbage')).rejects.toMatchObject({
      name: 'MNSReceiptHandleErrorError',
    });
    expect((await sdk.deleteMessage('vis', changed.body.ReceiptHandle)).code).toBe(204);
  });

  it('refuses a message larger than the queue allows, and malformed XML', async () => {
    await sdk.createQueue('small', { MaximumMessageSize: 1024 });
    await expect(sdk.sendMessage('small', { MessageBody: 'x'.repeat(1025) })).rejects.toMatchObject({
      name: 'MNSInvalidArgumentError',
    });
    await expect(sdk.sendMessage('small', { MessageBody: 'a & b' })).rejects.toMatchObject({
      name: 'MNSMalformedXMLError',
    });
    await expect(sdk.sendMessage('small', { MessageBody: 'x', DelaySeconds: 604_801 })).rejects.toMatchObject(
      {
        name: 'MNSInvalidArgumentError',
      },
    );
  });

  it('checks the signature against the configured key', async () => {
    await sdk.createQueue('signed');
    const wrongSecret = new MnsClient(emulator.accountId, {
      endpoint: emulator.endpoint,
      ...TEST_KEY,
      accessKeySecret: 'x',
    });
    await expect(wrongSecret.sendMessage('signed', { MessageBody: 'eA==' })).rejects.toMatchObject({
      name: 'MNSSignatureDoesNotMatchError',
    });
    const wrongId = new MnsClient(emulator.accountId, {
      endpoint: emulator.endpoint,
      ...TEST_KEY,
      accessKeyId: 'other',
    });
    await expect(wrongId.getQueueAttributes('signed')).rejects.toMatchObject({
      name: 'MNSInvalidAccessKeyIdError',
    });
    const unsigned = await fetch(`${emulator.endpoint}/queues/signed`);
    expect(unsigned.status).toBe(403);
    expect(await unsigned.text()).toContain('<Code>AccessDenied</Code>');
  });

  it('sets and reports the dead-letter policy through the queue OpenAPI', async () => {
    await sdk.createQueue('src');
    await sdk.createQueue('src-dlq');
    const call = mnsControl(emulator.endpoint, TEST_KEY);
    await call('SetQueueAttributes', {
      QueueName: 'src',
      DlqPolicy: JSON.stringify({ Enabled: true, DeadLetterTargetQueue: 'src-dlq', MaxReceiveCount: 1 }),
    });
    const got = await call('GetQueueAttributes', { QueueName: 'src' });
    expect(got.body.Data.DlqPolicy).toEqual({
      Enabled: true,
      DeadLetterTargetQueue: 'src-dlq',
      MaxReceiveCount: '1',
    });
    await expect(
      call('SetQueueAttributes', {
        QueueName: 'src',
        DlqPolicy: JSON.stringify({ Enabled: true, DeadLetterTargetQueue: 'nowhere', MaxReceiveCount: 1 }),
      }),
    ).rejects.toMatchObject({ code: 'QueueNotExist' });

    // The policy acts on the data path: the second receive finds the message dead-lettered.
    await sdk.setQueueAttributes('src', { VisibilityTimeout: 1 });
    await sdk.sendMessage('src', { MessageBody: 'cG9pc29u' });
    await sdk.receiveMessage('src', 1);
    await expect(sdk.receiveMessage('src', 2)).rejects.toMatchObject({ name: 'MNSMessageNotExistError' });
    const { body: dead } = await sdk.receiveMessage('src-dlq', 1);
    expect(dead).toMatchObject({ MessageBody: 'cG9pc29u', DequeueCount: '1' });
  });
});

describe('MNS emulator XML reader', () => {
  it('reads entities, character references and CDATA', () => {
    const root = parseXml(
      '<?xml version="1.0"?><!-- c --><Message xmlns="x"><MessageBody>&lt;a&gt; &amp; &#233;&#x1F600; <![CDATA[<raw & ]]></MessageBody><Empty/></Message>',
    );
    expect(root.name).toBe('Message');
    expect(childText(root, 'MessageBody')).toBe('<a> & é😀 <raw & ');
    expect(childText(root, 'Empty')).toBe('');
    expect(childText(root, 'Missing')).toBeUndefined();
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });

  it.each([
    ['a bare ampersand', '<M>a & b</M>'],
    ['an unknown entity', '<M>&nbsp;</M>'],
    ['a mismatched closing tag', '<M><B></M></B>'],
    ['two roots', '<M></M><N></N>'],
    ['text outside the root', 'x<M></M>'],
    ['an unclosed root', '<M>'],
    ["']]>' in text", '<M>a ]]> b</M>'],
  ])('refuses %s', (_, xml) => {
    expect(() => parseXml(xml)).toThrow(MalformedXmlError);
  });

  it('refuses markup where text is expected', () => {
    expect(() => childText(parseXml('<M><MessageBody><b>x</b></MessageBody></M>'), 'MessageBody')).toThrow(
      MalformedXmlError,
    );
  });
});
