import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type CallResult, type Harness } from './harness.js';

const paths = (r: CallResult): string[] => (r.body.errors as { path: string }[]).map((e) => e.path);

describe('subscriptions API', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({});
  });
  afterAll(async () => {
    await h.close();
  });

  it.each([
    ['a private address', { url: 'https://10.0.0.8/hook', events: ['job.failed'] }, 'url', /private/],
    ['a loopback address', { url: 'https://127.0.0.1:9/hook', events: ['job.failed'] }, 'url', /loopback/],
    [
      'the metadata service',
      { url: 'http://100.100.100.200/latest', events: ['job.failed'] },
      'url',
      /private/,
    ],
    ['not a URL', { url: 'hooks', events: ['job.failed'] }, 'url', /absolute URL/],
    ['no event type', { url: 'https://hooks.example.com/x', events: [] }, 'events', /at least one/],
    [
      'an unknown event type',
      { url: 'https://hooks.example.com/x', events: ['job.exploded'] },
      'events[0]',
      /one of/,
    ],
    [
      'an unknown field',
      { url: 'https://hooks.example.com/x', events: ['job.failed'], queue: 't' },
      'queue',
      /unknown/,
    ],
  ])(
    'refuses %s with a problem naming the field, and stores nothing',
    async (_name, body, field, message) => {
      const r = await h.call('POST', '/api/v1/subscriptions', { body });
      expect(r.status).toBe(400);
      expect(paths(r)).toEqual([field]);
      expect(r.body.errors[0].message).toMatch(message);
      expect((await h.store.subscriptions.list()).items).toEqual([]);
    },
  );

  it('shows the secret once, at creation, then lists, reads and deletes the subscription', async () => {
    const made = await h.call('POST', '/api/v1/subscriptions', {
      body: {
        url: 'https://hooks.example.com/backup',
        events: ['job.failed', 'backup.expired'],
        filter: { instanceId: 'i-abcd0001' },
      },
    });
    expect(made.status).toBe(201);
    expect(made.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(made.body.secret.slice(6), 'base64')).toHaveLength(32);
    const id = made.body.id as string;
    expect(made.headers.location).toBe(`/api/v1/subscriptions/${id}`);

    const one = await h.call('GET', `/api/v1/subscriptions/${id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      id,
      url: 'https://hooks.example.com/backup',
      filter: { instanceId: 'i-abcd0001' },
    });
    expect(one.text).not.toContain(made.body.secret);
    const list = await h.call('GET', '/api/v1/subscriptions');
    expect(list.body.items.map((s: { id: string }) => s.id)).toContain(id);
    expect(list.text).not.toContain('whsec_');

    const deliveries = await h.call('GET', `/api/v1/subscriptions/${id}/deliveries`);
    expect(deliveries.body).toEqual({ items: [], nextCursor: null });

    expect((await h.call('DELETE', `/api/v1/subscriptions/${id}`)).status).toBe(200);
    expect((await h.call('GET', `/api/v1/subscriptions/${id}`)).status).toBe(404);
    expect((await h.call('GET', `/api/v1/subscriptions/${id}/deliveries`)).status).toBe(404);
  });
});
