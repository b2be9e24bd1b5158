import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandler as createRetention } from '../../../functions/retention/index.js';
import { createHandler as createScheduler } from '../../../functions/scheduler/index.js';
import { mnsTriggerEventSchema, timerEventSchema } from '../../../functions/shared/events.js';
import { createHandler as createWorker } from '../../../functions/worker/index.js';
import { encodeMnsBody } from '../../../lib/adapters/mns/codec.js';
import { newJob } from '../../../lib/domain/job.js';
import { InvocationCredentials } from '../../../lib/runtime/credentials.js';
import type { FcContext } from '../../../lib/runtime/fc.js';
import { backupParams, harness, type Harness } from '../usecases/harness.js';

const sample = (name: string) => readFileSync(new URL(`../../../events/${name}`, import.meta.url));
const context: FcContext = { requestId: 'req-test-1', function: { name: 'test', timeout: 60 } };

let h: Harness;
let worker: ReturnType<typeof createWorker>;
let scheduler: ReturnType<typeof createScheduler>;
let retention: ReturnType<typeof createRetention>;
beforeEach(() => {
  h = harness();
  worker = createWorker(h.deps);
  scheduler = createScheduler(h.deps);
  retention = createRetention(h.deps);
});
afterEach(async () => {
  await h.close();
});

async function storeJob(id: string, instanceId: string) {
  await h.deps.store.jobs.create(
    newJob(
      { id, type: 'backup', instanceId, params: backupParams() as unknown as Record<string, unknown> },
      h.clock.now(),
    ),
  );
}

describe('event samples', () => {
  it('every sample in events/ matches the schema its function validates with', () => {
    expect(timerEventSchema.safeParse(JSON.parse(sample('timer-scheduler.json').toString())).success).toBe(
      true,
    );
    expect(timerEventSchema.safeParse(JSON.parse(sample('timer-retention.json').toString())).success).toBe(
      true,
    );
    expect(mnsTriggerEventSchema.safeParse(JSON.parse(sample('mns-single.json').toString())).success).toBe(
      true,
    );
    const batch = mnsTriggerEventSchema.safeParse(JSON.parse(sample('mns-batch.json').toString()));
    expect(batch.success && Array.isArray(batch.data) && batch.data.length).toBe(3);
  });
});

describe('worker function', () => {
  it('decodes a single MNS CloudEvent (base64 body) and advances its job', async () => {
    const { instanceId } = h.ecs.addInstance();
    await storeJob('job-plan-example-tq3xk0', instanceId);

    const result = await worker(sample('mns-single.json'), context);

    expect(result.batchItemFailures).toEqual([]);
    expect(result.outcomes).toEqual([
      { kind: 'waiting', jobId: 'job-plan-example-tq3xk0', delaySeconds: 10 },
    ]);
    expect((await h.deps.store.jobs.get('job-plan-example-tq3xk0'))!.step).toBe('poll');
  });

  it('handles a batch and retries only the message that failed', async () => {
    const a = h.ecs.addInstance().instanceId;
    const b = h.ecs.addInstance().instanceId;
    await storeJob('job-plan-example-tq3xk0', a);
    await storeJob('job-plan-other-tq3xl8', b);
    // The second message names a job that is not stored (seq 4 of job-manual-example-000001): dead-lettered.
    h.ecs.failNext('describeInstanceDisks', new TypeError('boom'), 1);

    const result = await worker(sample('mns-batch.json'), context);

    expect(result.outcomes).toHaveLength(3);
    expect(result.batchItemFailures).toHaveLength(1);
    expect(result.batchItemFailures[0]!.error).toBe('boom');
    expect(result.outcomes).toContainEqual({
      kind: 'dead-lettered',
      jobId: 'job-manual-example-000001',
      reason: 'unknown job',
    });
    // The failed one was sent again on its own, with its delivery count.
    const resent = (await h.queue.receive({ max: 16, waitSeconds: 0 })).map((m) => JSON.parse(m.body));
    h.clock.advance(5_000);
    resent.push(...(await h.queue.receive({ max: 16 })).map((m) => JSON.parse(m.body)));
    expect(resent.filter((m) => m.attempt !== undefined)).toHaveLength(1);
  });

  it('accepts a plain JSON body (IsBase64Decode on the trigger)', async () => {
    const { instanceId } = h.ecs.addInstance();
    await storeJob('job-plain1', instanceId);
    const event = JSON.parse(sample('mns-single.json').toString());
    event.data.messageBody = JSON.stringify({ v: 1, jobId: 'job-plain1' });

    const result = await worker(Buffer.from(JSON.stringify(event)), context);

    expect(result.outcomes[0]).toMatchObject({ kind: 'waiting', jobId: 'job-plain1' });
  });

  it('decodes a deflated (z:) body as the trigger passes it, undecoded', async () => {
    const { instanceId } = h.ecs.addInstance();
    await storeJob('job-deflated1', instanceId);
    const event = JSON.parse(sample('mns-single.json').toString());
    // A body that only fits MNS's limit deflated: it travels as `z:` + base64, which is not base64.
    const body = JSON.stringify({ v: 1, jobId: 'job-deflated1', pad: 'x'.repeat(60_000) });
    event.data.messageBody = encodeMnsBody(body);
    expect(event.data.messageBody.startsWith('z:')).toBe(true);

    const result = await worker(Buffer.from(JSON.stringify(event)), context);

    expect(result.outcomes[0]).toMatchObject({ kind: 'waiting', jobId: 'job-deflated1' });
  });

  it('answers a malformed event instead of throwing (a retry would fail the same way)', async () => {
    const notJson = (await worker(Buffer.from('{nope'), context)) as unknown as {
      ok: boolean;
      error: string;
    };
    const wrongShape = (await worker(Buffer.from(JSON.stringify({ data: {} })), context)) as unknown as {
      ok: boolean;
      issues: { path: string }[];
    };

    expect(notJson).toMatchObject({ ok: false });
    expect(notJson.error).toContain('not JSON');
    expect(wrongShape.ok).toBe(false);
    expect(wrongShape.issues.length).toBeGreaterThan(0);
  });
});

describe('timer functions', () => {
  it('the scheduler takes an FC timer event and returns its report', async () => {
    const report = await scheduler(sample('timer-scheduler.json'), context);

    expect(report).toEqual({
      plans: 0,
      enqueued: 0,
      skipped: 0,
      resumed: 0,
      redispatched: 0,
      // No protection rule: reconciliation reads the store and no ECS at all.
      rules: { rules: 0, matched: 0, protected: 0, rebound: 0, released: 0, updated: 0, raced: 0, failed: 0 },
      truncated: false,
      // The local cloud has no EventBridge to dead-letter crashed invocations.
      crashedDeliveries: { resent: 0, failed: 0 },
    });
  });

  it('the scheduler refuses an event without triggerTime', async () => {
    const answer = (await scheduler(
      Buffer.from(JSON.stringify({ triggerName: 'x' })),
      context,
    )) as unknown as {
      ok: boolean;
      issues: { path: string }[];
    };

    expect(answer.ok).toBe(false);
    expect(answer.issues.map((i) => i.path)).toContain('triggerTime');
  });

  it('retention runs from the hourly event, and for one instance from a payload', async () => {
    const all = await retention(sample('timer-retention.json'), context);
    const one = await retention(sample('timer-retention-instance.json'), context);
    const bad = (await retention(
      Buffer.from(JSON.stringify({ triggerTime: 'x', triggerName: 'y', payload: '{"instanceId":"nope"}' })),
      context,
    )) as unknown as { ok: boolean };

    expect(all).toMatchObject({ examined: 0, deleted: 0, truncated: false });
    expect(one).toMatchObject({ examined: 0, deleted: 0 });
    expect(bad.ok).toBe(false);
  });
});

describe('credentials', () => {
  it('prefers the STS set of the latest invocation over the environment', () => {
    const env = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'env-id', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'env-secret' };
    const credentials = new InvocationCredentials(env);
    expect(credentials.current().accessKeyId).toBe('env-id');

    credentials.remember({
      accessKeyId: 'sts-id',
      accessKeySecret: 'sts-secret',
      securityToken: 'sts-token',
    });
    credentials.remember(undefined);

    expect(credentials.current()).toEqual({
      accessKeyId: 'sts-id',
      accessKeySecret: 'sts-secret',
      securityToken: 'sts-token',
    });
  });

  it('names the missing keys when there is neither an invocation set nor an environment', () => {
    expect(() => new InvocationCredentials({}).current()).toThrow(/ALIBABA_CLOUD_ACCESS_KEY_ID/);
  });
});
