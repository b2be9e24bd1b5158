import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';

/** Subscriptions to an MNS topic over HTTP: exactly one target, a valid topic name, an MNS configured. */

let h: Harness | undefined;
afterEach(async () => h?.close());

describe('POST /subscriptions with mnsTopic', () => {
  it.each([
    ['both a url and a topic', { url: 'https://hooks.example.com/a', mnsTopic: 'events' }, 'mnsTopic'],
    ['neither', {}, 'url'],
    ['a topic name with a dot', { mnsTopic: 'backup.events' }, 'mnsTopic'],
    ['a topic name starting with a digit', { mnsTopic: '1events' }, 'mnsTopic'],
  ])('%s: a 400 naming the field, nothing stored', async (_name, target, field) => {
    h = await startHarness({ env: { MNS_ENDPOINT: 'http://127.0.0.1:1' } });
    const before = h.dump();
    const r = await h.call('POST', '/api/v1/subscriptions', { body: { ...target, events: ['job.failed'] } });
    expect(r.status, r.text).toBe(400);
    expect(r.body.errors.map((e: { path: string }) => e.path)).toContain(field);
    expect(h.dump()).toEqual(before);
  });

  it('without an MNS endpoint a topic subscription is refused, naming mnsTopic', async () => {
    h = await startHarness({});
    const r = await h.call('POST', '/api/v1/subscriptions', {
      body: { mnsTopic: 'events', events: ['job.failed'] },
    });
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([{ path: 'mnsTopic', message: expect.stringContaining('MNS_ENDPOINT') }]);
  });

  it('with one, the subscription names its topic and no url', async () => {
    h = await startHarness({ env: { MNS_ENDPOINT: 'http://127.0.0.1:1' } });
    const r = await h.call('POST', '/api/v1/subscriptions', {
      body: { mnsTopic: 'backup-events', events: ['job.completed', 'protection.changed'] },
    });
    expect(r.status, r.text).toBe(201);
    const got = await h.call('GET', `/api/v1/subscriptions/${r.body.id}`);
    expect(got.body).toMatchObject({
      mnsTopic: 'backup-events',
      events: ['job.completed', 'protection.changed'],
    });
    expect(got.body.url).toBeUndefined();
  });
});
