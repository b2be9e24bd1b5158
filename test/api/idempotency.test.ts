import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LEASE_TTL_MS, TWIN_WAIT_MS } from '../../lib/api/idempotency.js';
import { dailyPlan } from './fixtures.js';
import { ECS_ATTEMPTS, startHarness, type Harness } from './harness.js';

const INSTANCES = ['i-idem00001', 'i-idem00002', 'i-idem00003', 'i-idem00004', 'i-idem00005'];

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    seed: {
      instances: INSTANCES.map((instanceId, n) => ({
        instanceId,
        disks: [{ diskId: `d-idem0000${n + 1}`, type: 'system' as const, category: 'cloud_essd' }],
      })),
    },
  });
});
afterAll(async () => h?.close());
// A failed assertion must not leave a held call or a pending failure for the next test.
afterEach(async () => h.emulator.admin.clearFaults());

/** Resolves once `n` calls are waiting on a hold in the emulator. */
async function heldInCloud(n: number): Promise<void> {
  await vi.waitFor(
    async () => {
      expect(await h.emulator.admin.held({ action: 'DescribeInstances' })).toBe(n);
    },
    { timeout: 10_000, interval: 10 },
  );
}

/** How often the answer record of `key` was read. */
function answerReads(calls: unknown[][], key: string): number {
  return calls.filter(([k]) => k === `answer:${key}`).length;
}

async function jobCount(): Promise<number> {
  return (await h.store.jobs.list({}, { limit: 1000 })).items.length;
}

describe('Idempotency-Key on POST', () => {
  it('a retry with the same key and request gets the first answer; the work runs once', async () => {
    const body = { instanceId: INSTANCES[0] };
    const first = await h.call('POST', '/api/v1/protected-instances', {
      body,
      headers: { 'idempotency-key': 'k-1' },
    });
    expect(first.status).toBe(201);
    const jobs = await jobCount();
    h.clock.advance(60_000);
    // Same body, keys in another order and other whitespace: still the same request.
    const retry = await h.call('POST', '/api/v1/protected-instances', {
      raw: `{ "instanceId" : "${INSTANCES[0]}" }`,
      headers: { 'idempotency-key': 'k-1' },
    });
    expect(retry.status).toBe(201);
    expect(retry.text).toBe(first.text);
    expect(retry.headers.location).toBe(first.headers.location);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(await jobCount()).toBe(jobs);
    // Without the key the same request is a new one, and conflicts.
    const fresh = await h.call('POST', '/api/v1/protected-instances', { body });
    expect(fresh.status).toBe(409);
  });

  it('the same key with another request is refused with 422 and changes nothing', async () => {
    const first = await h.call('POST', '/api/v1/protected-instances/' + INSTANCES[0] + '/backups', {
      headers: { 'idempotency-key': 'k-2' },
    });
    expect(first.status).toBe(202);
    const before = h.dump();
    const other = await h.call('POST', '/api/v1/protected-instances/' + INSTANCES[0] + '/backups', {
      body: { retention: { value: 1, unit: 'days' } },
      headers: { 'idempotency-key': 'k-2' },
    });
    expect(other.status).toBe(422);
    expect(other.body.type).toBe('urn:ecs-backup:problem:idempotency-key-reused');
    const otherPath = await h.call('POST', '/api/v1/protected-instances', {
      body: { instanceId: INSTANCES[1] },
      headers: { 'idempotency-key': 'k-2' },
    });
    expect(otherPath.status).toBe(422);
    expect(h.dump()).toEqual(before);
  });

  it('concurrent twins: the second waits for the first and gets its answer; the work runs once', async () => {
    await h.emulator.admin.hold({ action: 'DescribeInstances' });
    const body = { instanceId: INSTANCES[2], plan: { ...dailyPlan, schedule: undefined } };
    const jobsBefore = await jobCount();
    const reads = vi.spyOn(h.store.idempotency, 'get');
    try {
      const first = h.call('POST', '/api/v1/protected-instances', {
        body,
        headers: { 'idempotency-key': 'k-3' },
      });
      // The first request holds its lease while its DescribeInstances waits in the emulator.
      await heldInCloud(1);
      const readsBefore = answerReads(reads.mock.calls, 'k-3');
      const twin = h.call('POST', '/api/v1/protected-instances', {
        body,
        headers: { 'idempotency-key': 'k-3' },
      });
      // The twin is polling for the answer (several reads of it), not answered yet.
      await vi.waitFor(() => expect(answerReads(reads.mock.calls, 'k-3')).toBeGreaterThan(readsBefore + 2), {
        timeout: 2000,
        interval: 5,
      });
      expect(await h.emulator.admin.release({ action: 'DescribeInstances' })).toBe(1);
      const [a, b] = await Promise.all([first, twin]);
      expect(a.status).toBe(201);
      expect(b.status).toBe(201);
      expect(b.text).toBe(a.text);
      expect(b.headers['idempotent-replayed']).toBe('true');
      expect(a.headers['idempotent-replayed']).toBeUndefined();
      expect(await jobCount()).toBe(jobsBefore + 1);
    } finally {
      reads.mockRestore();
    }
  });

  it(`a twin still running after ${TWIN_WAIT_MS} ms is answered 409 in-progress with a short Retry-After`, async () => {
    await h.emulator.admin.hold({ action: 'DescribeInstances' });
    const since = Date.now();
    const first = h.call('POST', '/api/v1/protected-instances/' + INSTANCES[2] + '/backups', {
      body: {},
      headers: { 'idempotency-key': 'k-3b' },
    });
    await heldInCloud(1);
    const started = Date.now();
    const twin = await h.call('POST', '/api/v1/protected-instances/' + INSTANCES[2] + '/backups', {
      body: {},
      headers: { 'idempotency-key': 'k-3b' },
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(TWIN_WAIT_MS);
    expect(twin.status).toBe(409);
    expect(twin.body.type).toBe('urn:ecs-backup:problem:idempotency-in-progress');
    const retryAfter = Number(twin.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(5);
    // The twin was answered from the lease alone: it never reached ECS.
    expect(await h.emulator.admin.calls({ action: 'DescribeInstances', since })).toEqual([]);
    expect(await h.emulator.admin.release({ action: 'DescribeInstances' })).toBe(1);
    const answer = await first;
    expect(answer.status).toBe(202);
    const again = await h.call('POST', '/api/v1/protected-instances/' + INSTANCES[2] + '/backups', {
      body: {},
      headers: { 'idempotency-key': 'k-3b' },
    });
    expect(again.text).toBe(answer.text);
  }, 20_000);

  it('many twins at once: the work runs once and every twin gets the first answer', async () => {
    const body = { instanceId: INSTANCES[3] };
    const jobsBefore = await jobCount();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        h.call('POST', '/api/v1/protected-instances', { body, headers: { 'idempotency-key': 'k-4' } }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 8 }, () => 201));
    expect(new Set(answers.map((a) => a.text)).size).toBe(1);
    expect(answers.filter((a) => a.headers['idempotent-replayed'] === 'true')).toHaveLength(7);
    expect(await jobCount()).toBe(jobsBefore + 1);
  });

  it('a refusal after the lease (404, 409) is remembered; a validation failure is not', async () => {
    const missing = await h.call('POST', '/api/v1/plans/plan-none/run', {
      headers: { 'idempotency-key': 'k-5' },
    });
    expect(missing.status).toBe(404);
    const replay = await h.call('POST', '/api/v1/plans/plan-none/run', {
      headers: { 'idempotency-key': 'k-5' },
    });
    expect(replay.status).toBe(404);
    expect(replay.headers['idempotent-replayed']).toBe('true');

    const invalid = await h.call('POST', '/api/v1/protected-instances', {
      body: { instanceId: 'bad' },
      headers: { 'idempotency-key': 'k-6' },
    });
    expect(invalid.status).toBe(400);
    expect(await h.store.idempotency.get('lease:k-6')).toBeUndefined();
    expect(await h.store.idempotency.get('answer:k-6')).toBeUndefined();
    const fixed = await h.call('POST', '/api/v1/protected-instances', {
      body: { instanceId: INSTANCES[4] },
      headers: { 'idempotency-key': 'k-6' },
    });
    expect(fixed.status).toBe(201);
  });

  it('after a 5xx the key is locked only until its lease expires, then a retry runs the work', async () => {
    await h.call('DELETE', `/api/v1/protected-instances/${INSTANCES[4]}`);
    const body = { instanceId: INSTANCES[4] };
    // ECS fails every attempt the adapter makes, so the request itself fails (503: transient).
    await h.emulator.admin.failNext({
      action: 'DescribeInstances',
      count: ECS_ATTEMPTS,
      code: 'InternalError',
      status: 500,
    });
    const failed = await h.call('POST', '/api/v1/protected-instances', {
      body,
      headers: { 'idempotency-key': 'k-7' },
    });
    expect(failed.status).toBe(503);
    expect(failed.body.type).toBe('urn:ecs-backup:problem:upstream-unavailable');
    const soon = await h.call('POST', '/api/v1/protected-instances', {
      body,
      headers: { 'idempotency-key': 'k-7' },
    });
    expect(soon.status).toBe(409);
    h.clock.advance(LEASE_TTL_MS + 1);
    const later = await h.call('POST', '/api/v1/protected-instances', {
      body,
      headers: { 'idempotency-key': 'k-7' },
    });
    expect(later.status).toBe(201);
  });

  it('a malformed key is a 400 naming the header; GET ignores the header', async () => {
    const r = await h.call('POST', '/api/v1/plans/plan-x/run', {
      headers: { 'idempotency-key': 'has space' },
    });
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([
      { path: 'header.Idempotency-Key', message: 'must be 1-200 visible ASCII characters' },
    ]);
    const g = await h.call('GET', '/api/v1/jobs', { headers: { 'idempotency-key': 'has space' } });
    expect(g.status).toBe(200);
  });

  it('answers are kept 24 hours', async () => {
    const body = { retention: { value: 2, unit: 'days' } };
    const path = `/api/v1/protected-instances/${INSTANCES[0]}/backups`;
    const first = await h.call('POST', path, { body, headers: { 'idempotency-key': 'k-8' } });
    h.clock.advance(23 * 3_600_000);
    expect((await h.call('POST', path, { body, headers: { 'idempotency-key': 'k-8' } })).text).toBe(
      first.text,
    );
    h.clock.advance(2 * 3_600_000);
    const after = await h.call('POST', path, { body, headers: { 'idempotency-key': 'k-8' } });
    expect(after.status).toBe(202);
    expect(after.body.id).not.toBe(first.body.id);
  });
});
