import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FcHttpEvent } from '../../lib/runtime/fc.js';
import { startHarness, type Harness } from './harness.js';

/** The sample FC HTTP trigger events in events/ go through the handler as FC would send them. */

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    apiToken: 'example-token-0123456789abcdef',
    seed: {
      instances: [{ instanceId: 'i-bp1example0001', disks: [{ type: 'system', category: 'cloud_essd' }] }],
    },
  });
});
afterAll(async () => h?.close());

async function sample(name: string): Promise<FcHttpEvent> {
  return JSON.parse(await readFile(new URL(`../../events/${name}`, import.meta.url), 'utf8')) as FcHttpEvent;
}

describe('sample FC HTTP events', () => {
  it('http-get-healthz.json answers 200 without a credential', async () => {
    const r = await h.invoke(await sample('http-get-healthz.json'));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok' });
  });

  it('http-post-protected-instance.json protects the instance; the same event again replays the answer', async () => {
    const event = await sample('http-post-protected-instance.json');
    const r = await h.invoke(event);
    expect(r.status, r.text).toBe(201);
    expect(r.headers['x-request-id']).toBe(event.requestContext.requestId);
    expect(r.body.plan).toMatchObject({ name: 'web-daily', instanceId: 'i-bp1example0001' });
    const again = await h.invoke(event);
    expect(again.status).toBe(201);
    expect(again.text).toBe(r.text);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect((await h.store.plans.list({}, {})).items).toHaveLength(1);
  });
});
