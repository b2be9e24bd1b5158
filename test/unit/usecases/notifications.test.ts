import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../../lib/adapters/sqlite/index.js';
import { createWebhookNotifier } from '../../../lib/adapters/webhook/index.js';
import { loadSettings } from '../../../lib/config.js';
import type { BackupPoint, Job } from '../../../lib/domain/model.js';
import type { Ecs } from '../../../lib/ports/ecs.js';
import type { Queue, SendOptions } from '../../../lib/ports/queue.js';
import type { Deps } from '../../../lib/usecases/deps.js';
import { JOB_KINDS } from '../../../lib/usecases/job-kinds.js';
import { handleJobMessage } from '../../../lib/usecases/jobs/handle-job-message.js';
import { encodeJobMessage } from '../../../lib/usecases/jobs/job-message.js';
import { raiseBackupEvent } from '../../../lib/usecases/notify/backup-events.js';
import { handleDeliveryMessage } from '../../../lib/usecases/notify/deliver.js';
import { decodeDeliveryMessage } from '../../../lib/usecases/notify/delivery-message.js';
import { raiseJobEvent } from '../../../lib/usecases/notify/raise-event.js';
import { createSubscription } from '../../../lib/usecases/notify/subscriptions.js';
import { ManualClock, SequentialIds } from '../../support/clock.js';

/** A webhook receiver on loopback (port 0) that answers with the status it is told. */
interface Receiver {
  url: string;
  got: { headers: http.IncomingHttpHeaders; body: string }[];
  answer: number;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const r = { got: [], answer: 204 } as unknown as Receiver;
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      r.got.push({ headers: req.headers, body });
      res.writeHead(r.answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  r.close = () => new Promise((resolve) => server.close(() => resolve()));
  return r;
}

/** The job queue as the worker sees it: what was sent, and a send that can be made to fail (a crash). */
class RecordingQueue {
  sent: { body: string; delaySeconds: number }[] = [];
  failSends = 0;
  async send(body: string, options?: SendOptions) {
    if (this.failSends > 0) {
      this.failSends -= 1;
      throw new Error('process died before the message was sent');
    }
    this.sent.push({ body, delaySeconds: options?.delaySeconds ?? 0 });
    return { messageId: `m-${this.sent.length}` };
  }
  /** Takes every delivery message sent so far. */
  takeDeliveries() {
    const out = this.sent.flatMap((m) => {
      const d = decodeDeliveryMessage(m.body);
      return d === null ? [] : [{ message: d, delaySeconds: m.delaySeconds }];
    });
    this.sent = [];
    return out;
  }
}

const failedJob = (now: number): Job => ({
  id: 'job-7',
  type: 'backup',
  status: 'FAILED',
  instanceId: 'i-abc',
  planId: 'plan-1',
  scheduledAt: null,
  step: 'cleanup',
  progress: 0,
  cancelRequested: false,
  reason: 'disk d-1 is gone',
  params: {},
  state: {},
  errors: [],
  attempts: 1,
  createdAt: now - 60_000,
  updatedAt: now,
  startedAt: now - 60_000,
  finishedAt: now,
  version: 5,
});

describe('notifications', () => {
  let dir: string;
  let store: SqliteStore;
  let queue: RecordingQueue;
  let clock: ManualClock;
  let receiver: Receiver;
  let deps: Deps;
  let logs: string[];

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ecsb-notify-'));
    // The standard verifier checks the timestamp against the real time, so the clock starts there.
    clock = new ManualClock(Date.now());
    store = openSqliteStore(path.join(dir, 'state.db'), { synchronous: 'NORMAL', clock });
    queue = new RecordingQueue();
    receiver = await startReceiver();
    logs = [];
    const log = (level: string) => (message: string) => logs.push(`${level}: ${message}`);
    deps = {
      store,
      jobQueue: queue as unknown as Queue,
      deadLetterQueue: queue as unknown as Queue,
      // No ECS call is made on these paths; a call would throw here and fail the test.
      ecs: new Proxy({}, { get: () => () => Promise.reject(new Error('no ECS here')) }) as Ecs,
      clock,
      ids: new SequentialIds(),
      notifier: createWebhookNotifier(),
      settings: loadSettings({
        DATA_DIR: dir,
        WEBHOOK_ALLOW_PRIVATE: 'true',
        NOTIFY_FIRST_RETRY_SECONDS: '30',
        NOTIFY_RETRY_WINDOW_SECONDS: '300',
      }),
      log: { info: log('info'), warn: log('warn'), error: log('error') },
    };
  });

  afterEach(async () => {
    await receiver.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function subscribe(events: Parameters<typeof createSubscription>[1]['events'] = ['job.failed']) {
    const res = await createSubscription(deps, { url: receiver.url, events });
    if (!res.ok) throw new Error(JSON.stringify(res));
    return res.value;
  }

  async function runDeliveries() {
    const outcomes = [];
    for (const { message } of queue.takeDeliveries())
      outcomes.push(await handleDeliveryMessage(deps, message));
    return outcomes;
  }

  it('delivers a CloudEvent signed so that an independent Standard Webhooks verifier accepts it', async () => {
    // Prepare
    const sub = await subscribe();
    await store.jobs.create(failedJob(clock.now()));
    // Act: the message that finished the job is delivered again; the engine raises the event.
    await handleJobMessage(deps, JOB_KINDS, encodeJobMessage('job-7'), 1);
    expect(receiver.got).toHaveLength(0); // never inline: only a queue message so far
    const outcomes = await runDeliveries();
    // Assess
    expect(outcomes).toEqual([expect.objectContaining({ kind: 'delivered', status: 204 })]);
    expect(receiver.got).toHaveLength(1);
    const { headers, body } = receiver.got[0]!;
    const verified = new Webhook(sub.secret).verify(body, {
      'webhook-id': String(headers['webhook-id']),
      'webhook-timestamp': String(headers['webhook-timestamp']),
      'webhook-signature': String(headers['webhook-signature']),
    });
    expect(verified).toMatchObject({
      specversion: '1.0',
      type: 'com.ecs-backup.job.failed',
      subject: 'job-7',
      data: { jobId: 'job-7', status: 'FAILED', reason: 'disk d-1 is gone', instanceId: 'i-abc' },
    });
    expect(headers['content-type']).toBe('application/cloudevents+json');
    // A tampered body fails the same verifier: the signature covers it.
    expect(() =>
      new Webhook(sub.secret).verify(body.replace('d-1', 'd-2'), {
        'webhook-id': String(headers['webhook-id']),
        'webhook-timestamp': String(headers['webhook-timestamp']),
        'webhook-signature': String(headers['webhook-signature']),
      }),
    ).toThrow();
    const delivery = (await store.deliveries.list(sub.id)).items[0];
    expect(delivery).toMatchObject({ status: 'DELIVERED', id: headers['webhook-id'] });
  });

  it('loses no event when the process dies between the delivery record and its queue message', async () => {
    await subscribe();
    const job = failedJob(clock.now());
    queue.failSends = 1;
    await expect(raiseJobEvent(deps, job)).rejects.toThrow('process died');
    expect(queue.sent).toHaveLength(0);
    // The job message comes back (it was never acknowledged) and raises the event again.
    await store.jobs.create(job);
    await handleJobMessage(deps, JOB_KINDS, encodeJobMessage(job.id), 2);
    await runDeliveries();
    expect(receiver.got).toHaveLength(1);
    // A duplicate of the job message afterwards sends nothing twice.
    await handleJobMessage(deps, JOB_KINDS, encodeJobMessage(job.id), 3);
    expect(await runDeliveries()).toEqual([]);
    expect(receiver.got).toHaveLength(1);
  });

  it('retries a failing receiver with doubling waits, then dead-letters the delivery', async () => {
    const sub = await subscribe();
    receiver.answer = 500;
    await raiseJobEvent(deps, failedJob(clock.now()));
    const waits: number[] = [];
    let last;
    for (let round = 0; round < 20; round += 1) {
      const pending = queue.takeDeliveries();
      if (pending.length === 0) break;
      const { message, delaySeconds } = pending[0]!;
      if (round > 0) waits.push(delaySeconds);
      clock.advance(delaySeconds * 1000);
      last = await handleDeliveryMessage(deps, message);
    }
    // 30 + 60 + 120 s fit in the 300 s window; the next wait (240 s) would not.
    expect(waits).toEqual([30, 60, 120]);
    expect(last).toMatchObject({ kind: 'dead' });
    expect(receiver.got).toHaveLength(4);
    // Every attempt carried the same webhook-id, so a receiver can drop repeats.
    expect(new Set(receiver.got.map((g) => g.headers['webhook-id'])).size).toBe(1);
    const [delivery] = (await store.deliveries.list(sub.id)).items;
    expect(delivery).toMatchObject({ status: 'DEAD', nextAttemptAt: null });
    expect(delivery?.attempts.map((a) => a.status)).toEqual([500, 500, 500, 500]);
    expect(delivery?.deadReason).toMatch(/gave up after 4 attempts.*receiver answered 500/);
  });

  it('drops a duplicate message of an attempt that already ran', async () => {
    await subscribe();
    receiver.answer = 503;
    await raiseJobEvent(deps, failedJob(clock.now()));
    const [first] = queue.takeDeliveries();
    await handleDeliveryMessage(deps, first!.message);
    expect(await handleDeliveryMessage(deps, first!.message)).toMatchObject({ kind: 'ignored' });
    expect(receiver.got).toHaveLength(1);
  });

  it('checks the address again at delivery time and refuses a private one', async () => {
    await subscribe();
    // The operator turns private targets off after the subscription was made.
    deps = { ...deps, settings: { ...deps.settings, WEBHOOK_ALLOW_PRIVATE: 'false' } };
    await raiseJobEvent(deps, failedJob(clock.now()));
    const [outcome] = await runDeliveries();
    expect(outcome).toMatchObject({ kind: 'retrying', error: expect.stringMatching(/private, loopback/) });
    expect(receiver.got).toHaveLength(0);
  });

  it('refuses a host name that resolves to loopback when private targets are not allowed', async () => {
    deps = { ...deps, settings: { ...deps.settings, WEBHOOK_ALLOW_PRIVATE: 'false' } };
    const res = await createSubscription(deps, {
      url: 'http://localhost.:8080/hook',
      events: ['job.failed'],
    });
    expect(res).toMatchObject({ ok: false, error: 'invalid', issues: [{ path: 'url' }] });
    expect((await store.subscriptions.list()).items).toEqual([]);
  });

  it('addresses only the subscriptions whose type and filter match', async () => {
    await subscribe(['job.completed']);
    const res = await createSubscription(deps, {
      url: receiver.url,
      events: ['job.failed'],
      filter: { instanceId: 'i-other' },
    });
    expect(res.ok).toBe(true);
    await raiseJobEvent(deps, failedJob(clock.now()));
    expect(queue.takeDeliveries()).toEqual([]);
  });
});

describe('backup events for other checks', () => {
  it('raises backup.lock-drift once per fact, to the subscriptions that asked for it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ecsb-notify-'));
    const store = openSqliteStore(path.join(dir, 'state.db'), { synchronous: 'NORMAL' });
    const queue = new RecordingQueue();
    const clock = new ManualClock(Date.parse('2026-06-01T00:00:00Z'));
    const deps = {
      store,
      jobQueue: queue as unknown as Queue,
      deadLetterQueue: queue as unknown as Queue,
      ecs: new Proxy({}, { get: () => () => Promise.reject(new Error('no ECS here')) }) as Ecs,
      clock,
      ids: new SequentialIds(),
      settings: loadSettings({ DATA_DIR: dir }),
      log: { info: () => {}, warn: () => {}, error: () => {} },
    } satisfies Deps;
    try {
      const sub = await createSubscription(deps, {
        url: 'https://hooks.example.com/x',
        events: ['backup.lock-drift'],
      });
      expect(sub.ok).toBe(true);
      const point = { id: 'bp-1', instanceId: 'i-abcd0001', planId: 'plan-1' } as BackupPoint;
      await raiseBackupEvent(deps, 'backup.lock-drift', point, 'lock-removed', { expected: 'locked' });
      await raiseBackupEvent(deps, 'backup.lock-drift', point, 'lock-removed', { expected: 'locked' });
      await raiseBackupEvent(deps, 'backup.verification-failed', point, 'v1', {});
      // Raising again re-sends the message of a never-tried delivery (it may have been lost); both
      // messages carry the same delivery and attempt number, so the receiver is sent it once.
      const sent = queue.takeDeliveries();
      expect(new Set(sent.map((m) => `${m.message.deliveryId}#${m.message.attempt}`)).size).toBe(1);
      if (!sub.ok) return;
      expect((await store.deliveries.list(sub.value.id)).items).toHaveLength(1);
      const delivery = await store.deliveries.get(sent[0]!.message.deliveryId);
      expect(delivery?.event).toMatchObject({
        type: 'com.ecs-backup.backup.lock-drift',
        subject: 'bp-1',
        data: { backupId: 'bp-1', expected: 'locked' },
      });
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
