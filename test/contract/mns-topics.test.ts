import MnsClient from '@alicloud/mns';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMnsTopicPublisher } from '../../lib/adapters/mns/topic-publisher.js';
import type { Job } from '../../lib/domain/model.js';
import { handleDeliveryMessage } from '../../lib/usecases/notify/deliver.js';
import { decodeDeliveryMessage } from '../../lib/usecases/notify/delivery-message.js';
import { jobEvent, raiseEvent } from '../../lib/usecases/notify/raise-event.js';
import { createSubscription } from '../../lib/usecases/notify/subscriptions.js';
import { startMnsEmulator, type MnsEmulator } from '../../local/mns-emulator/index.js';
import { harness, type Harness } from '../unit/usecases/harness.js';
import { TEST_KEY } from './support/queue-fixtures.js';

/**
 * MNS topics: the emulator through the official SDK (topics, queue subscriptions, signatures
 * checked as for queues), the topic publisher adapter, and notification delivery to a topic with
 * the same records, retries and dead-letter as webhooks.
 */

let emulator: MnsEmulator;
let sdk: MnsClient;

beforeAll(async () => {
  emulator = await startMnsEmulator(TEST_KEY);
  sdk = new MnsClient(emulator.accountId, { endpoint: emulator.endpoint, ...TEST_KEY });
});
afterAll(() => emulator.close());

/** The SDK's `subscribe` is empty; its signed generic request creates the subscription. */
async function subscribeQueue(topic: string, name: string, queue: string, format = 'SIMPLIFIED') {
  const body =
    `<?xml version="1.0" encoding="UTF-8"?><Subscription xmlns="http://mns.aliyuncs.com/doc/v1/">` +
    `<Endpoint>acs:mns:cn-hangzhou:${emulator.accountId}:queues/${queue}</Endpoint>` +
    `<NotifyContentFormat>${format}</NotifyContentFormat></Subscription>`;
  return sdk.put(`/topics/${topic}/subscriptions/${name}`, 'Subscription', body);
}

describe('MNS emulator topics, through @alicloud/mns', () => {
  it('creates a topic, pushes each published message to subscribed queues and keeps a log', async () => {
    expect((await sdk.createTopic('events')).code).toBe(201);
    expect((await sdk.createTopic('events')).code).toBe(204);
    await sdk.createQueue('events-simple');
    await sdk.createQueue('events-json');
    expect((await subscribeQueue('events', 'to-simple', 'events-simple')).code).toBe(201);
    expect((await subscribeQueue('events', 'to-json', 'events-json', 'JSON')).code).toBe(201);
    const sent = await sdk.publishMessage('events', { MessageBody: 'aGVsbG8=' });
    expect(sent.code).toBe(201);
    expect(sent.body.MessageId).toMatch(/^[0-9A-F]{32}$/);
    expect(emulator.topicMessages('events').map((m) => m.body)).toEqual(['aGVsbG8=']);
    expect((await sdk.receiveMessage('events-simple', 1)).body.MessageBody).toBe('aGVsbG8=');
    const envelope = JSON.parse((await sdk.receiveMessage('events-json', 1)).body.MessageBody) as Record<
      string,
      unknown
    >;
    expect(envelope).toMatchObject({
      TopicName: 'events',
      Message: 'aGVsbG8=',
      MessageId: sent.body.MessageId,
    });
  });

  it('checks signatures as for queues, and refuses an unknown topic or a bad endpoint', async () => {
    const wrong = new MnsClient(emulator.accountId, {
      endpoint: emulator.endpoint,
      accessKeyId: TEST_KEY.accessKeyId,
      accessKeySecret: 'not-the-secret',
    });
    await expect(wrong.publishMessage('events', { MessageBody: 'eA==' })).rejects.toMatchObject({
      name: 'MNSSignatureDoesNotMatchError',
    });
    await expect(wrong.createTopic('other')).rejects.toMatchObject({ name: 'MNSSignatureDoesNotMatchError' });
    await expect(sdk.publishMessage('no-such-topic', { MessageBody: 'eA==' })).rejects.toMatchObject({
      name: 'MNSTopicNotExistError',
    });
    await sdk.createTopic('events2');
    await expect(
      sdk.put(
        '/topics/events2/subscriptions/bad',
        'Subscription',
        '<Subscription><Endpoint>http://x</Endpoint></Subscription>',
      ),
    ).rejects.toMatchObject({ name: 'MNSInvalidArgumentError' });
    expect(emulator.topicMessages('events').length).toBe(1);
  });
});

describe('the topic publisher adapter', () => {
  it('publishes the body base64-encoded and answers a failure as a value', async () => {
    await sdk.createTopic('adapter');
    const publisher = createMnsTopicPublisher({ endpoint: emulator.endpoint, credentials: () => TEST_KEY });
    const body = JSON.stringify({ a: '<b> & "c"' });
    const ok = await publisher.publish('adapter', body);
    expect(ok).toMatchObject({ ok: true, messageId: expect.any(String) });
    const logged = emulator.topicMessages('adapter');
    expect(Buffer.from(logged[0]!.body, 'base64').toString('utf8')).toBe(body);
    const missing = await publisher.publish('absent-topic', body);
    expect(missing).toMatchObject({ ok: false, error: expect.stringContaining('TopicNotExist') });
  });
});

describe('notifications to an MNS topic', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  function setUp(): Harness {
    h = harness({ MNS_ENDPOINT: emulator.endpoint });
    h.deps.topics = createMnsTopicPublisher({ endpoint: emulator.endpoint, credentials: () => TEST_KEY });
    return h;
  }

  const finished = (id: string): Job =>
    ({
      id,
      type: 'backup',
      status: 'COMPLETE',
      instanceId: 'i-topic0001',
      planId: null,
      scheduledAt: null,
      step: 'done',
      progress: 100,
      cancelRequested: false,
      reason: null,
      params: {},
      state: { pointId: `pt-${id}` },
      errors: [],
      attempts: 1,
      createdAt: h.clock.now(),
      updatedAt: h.clock.now(),
      startedAt: h.clock.now(),
      finishedAt: h.clock.now(),
      version: 3,
    }) as Job;

  async function nextDelivery() {
    const [m] = await h.queue.receive({ max: 1 });
    expect(m).toBeDefined();
    await h.queue.delete(m!.receiptHandle);
    return decodeDeliveryMessage(m!.body)!;
  }

  it('delivers job.completed through the queue: one delivery record, the CloudEvent on the topic', async () => {
    setUp();
    await sdk.createTopic('backup-events');
    const sub = await createSubscription(h.deps, { mnsTopic: 'backup-events', events: ['job.completed'] });
    expect(sub).toMatchObject({ ok: true, value: { target: { kind: 'mns-topic', topic: 'backup-events' } } });
    const event = jobEvent(finished('job-topic-1'))!;
    await raiseEvent(h.deps, event);
    await raiseEvent(h.deps, event); // raised again (a redelivered job message): the same delivery
    const outcome = await handleDeliveryMessage(h.deps, await nextDelivery());
    expect(outcome.kind).toBe('delivered');
    const published = emulator.topicMessages('backup-events');
    expect(published).toHaveLength(1);
    const cloudEvent = JSON.parse(Buffer.from(published[0]!.body, 'base64').toString('utf8'));
    expect(cloudEvent).toMatchObject({
      specversion: '1.0',
      type: 'com.ecs-backup.job.completed',
      id: 'job-topic-1/COMPLETE',
      data: { jobId: 'job-topic-1', backupId: 'pt-job-topic-1' },
    });
    const deliveries = await h.deps.store.deliveries.list(sub.ok ? sub.value.id : '');
    expect(deliveries.items.map((d) => d.status)).toEqual(['DELIVERED']);
  });

  it('a topic that fails is retried with backoff, then dead-lettered with the reason', async () => {
    setUp();
    const sub = await createSubscription(h.deps, { mnsTopic: 'missing-topic', events: ['job.completed'] });
    if (!sub.ok) throw new Error('refused');
    await raiseEvent(h.deps, jobEvent(finished('job-topic-2'))!);
    const first = await handleDeliveryMessage(h.deps, await nextDelivery());
    expect(first).toMatchObject({ kind: 'retrying', error: expect.stringContaining('TopicNotExist') });
    // The retry message waits its delay in the queue.
    expect(await h.queue.receive({ max: 1 })).toEqual([]);
    h.clock.advance(30_000);
    const second = await handleDeliveryMessage(h.deps, await nextDelivery());
    expect(second.kind).toBe('retrying');
    h.clock.advance(25 * 3_600_000);
    const last = await handleDeliveryMessage(h.deps, await nextDelivery());
    expect(last).toMatchObject({ kind: 'dead', reason: expect.stringContaining('TopicNotExist') });
    const [delivery] = (await h.deps.store.deliveries.list(sub.value.id)).items;
    expect(delivery).toMatchObject({ status: 'DEAD', attempts: [{}, {}, {}] });
  });

  it('refuses a topic subscription where no MNS is configured, naming mnsTopic', async () => {
    h = harness();
    const refused = await createSubscription(h.deps, { mnsTopic: 'backup-events', events: ['job.failed'] });
    expect(refused).toMatchObject({ ok: false, error: 'invalid', issues: [{ path: 'mnsTopic' }] });
    expect((await h.deps.store.subscriptions.list()).items).toEqual([]);
  });
});
