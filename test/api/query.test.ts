import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toFcHttpEvent } from '../../local/http-bridge.js';
import { aJob, aPoint, dailyPlan } from './fixtures.js';
import { fcEvent, startHarness, T0, type CallResult, type Harness } from './harness.js';

/**
 * Query strings as a careless or hostile client writes them: cursors carried from one list to
 * another, filters changed under a cursor, cursors edited by hand, parameters given twice.
 */

const I = 'i-query0001';
const J = 'i-query0002';
let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    seed: {
      instances: [I, J].map((instanceId, n) => ({
        instanceId,
        disks: [{ diskId: `d-query000${n + 1}`, type: 'system' as const, category: 'cloud_essd' }],
      })),
    },
  });
  for (const instanceId of [I, J]) {
    const r = await h.call('POST', '/api/v1/plans', { body: { instanceId, plan: dailyPlan } });
    expect(r.status).toBe(201);
  }
  // Jobs and points share their ids' time positions, so a cursor of one list names a real position
  // in the other: accepted there, it would silently skip rows.
  await h.store.jobs.createMany(
    Array.from({ length: 6 }, (_, n) =>
      aJob({
        id: `job-q${n}`,
        instanceId: I,
        status: n % 2 === 0 ? 'COMPLETE' : 'FAILED',
        createdAt: T0 - 100_000 + n * 1000,
      }),
    ),
  );
  await h.store.points.createMany(
    Array.from({ length: 6 }, (_, n) =>
      aPoint({
        id: `pt-q${n}`,
        instanceId: I,
        completedAt: T0 - 100_000 + n * 1000,
        // Two of them are mounted, so that /mounts has more than one page too.
        inUseBy: n < 2 ? [`job-qmount${n}`] : [],
      }),
    ),
  );
  for (const n of [0, 1]) {
    await h.store.jobs.create(
      aJob({
        id: `job-qmount${n}`,
        type: 'mount',
        instanceId: J,
        createdAt: T0 - 50_000 + n * 1000,
        state: { pointId: `pt-q${n}`, diskId: `d-qmount0${n}`, mountedAt: T0, expiresAt: T0 + 86_400_000 },
      }),
    );
  }
}, 60_000);
afterAll(async () => h?.close());

const paths = (r: CallResult): string[] => (r.body.errors ?? []).map((e: { path: string }) => e.path);

async function firstCursor(path: string, query: Record<string, string> = {}): Promise<string> {
  const r = await h.call('GET', path, { query: { limit: '1', ...query } });
  expect(r.status, r.text).toBe(200);
  expect(typeof r.body.nextCursor).toBe('string');
  return r.body.nextCursor as string;
}

function expectCursorRefused(r: CallResult): void {
  expect(r.status, r.text).toBe(400);
  expect(r.headers['content-type']).toBe('application/problem+json');
  expect(paths(r)).toEqual(['query.cursor']);
}

describe('cursors are bound to their list and filters', () => {
  const LISTS = [
    '/api/v1/jobs',
    '/api/v1/backups',
    '/api/v1/plans',
    '/api/v1/protected-instances',
    '/api/v1/instances',
    '/api/v1/mounts',
  ];

  it('a cursor works on the list that issued it, also with another page size', async () => {
    const cursor = await firstCursor('/api/v1/jobs', { instanceId: I });
    const r = await h.call('GET', '/api/v1/jobs', { query: { limit: '3', cursor, instanceId: I } });
    expect(r.status, r.text).toBe(200);
    expect(r.body.items.map((j: { id: string }) => j.id)).toEqual(['job-q4', 'job-q3', 'job-q2']);
  });

  it('a cursor from any list is refused by every other list', async () => {
    let refusals = 0;
    for (const from of LISTS) {
      const cursor = await firstCursor(from);
      for (const to of LISTS.filter((l) => l !== from)) {
        expectCursorRefused(await h.call('GET', to, { query: { cursor } }));
        refusals += 1;
      }
    }
    expect(refusals).toBe(LISTS.length * (LISTS.length - 1));
  });

  it('the /backups cursor on /jobs: refused, not a page that starts at a foreign position', async () => {
    const cursor = await firstCursor('/api/v1/backups');
    expectCursorRefused(await h.call('GET', '/api/v1/jobs', { query: { cursor } }));
  });

  it('a cursor with other filters or another order is refused', async () => {
    const cursor = await firstCursor('/api/v1/jobs', { status: 'COMPLETE' });
    expect((await h.call('GET', '/api/v1/jobs', { query: { cursor, status: 'COMPLETE' } })).status).toBe(200);
    expectCursorRefused(await h.call('GET', '/api/v1/jobs', { query: { cursor, status: 'FAILED' } }));
    expectCursorRefused(await h.call('GET', '/api/v1/jobs', { query: { cursor } }));
    expectCursorRefused(
      await h.call('GET', '/api/v1/jobs', { query: { cursor, status: 'COMPLETE', order: 'asc' } }),
    );
    expectCursorRefused(
      await h.call('GET', '/api/v1/jobs', { query: { cursor, status: 'COMPLETE', instanceId: I } }),
    );
  });

  it('a cursor edited by hand is refused, in its position or in its seal', async () => {
    const cursor = await firstCursor('/api/v1/jobs');
    const [position, seal] = cursor.split('.') as [string, string];
    const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);
    const forged = Buffer.from(JSON.stringify([T0, 'job-q0']), 'utf8').toString('base64url');
    for (const bad of [
      `${flip(position, 2)}.${seal}`,
      `${position}.${flip(seal, seal.length - 1)}`,
      `${Buffer.from(forged).toString('base64url')}.${seal}`,
      position,
      `${position}.`,
      forged,
    ]) {
      expectCursorRefused(await h.call('GET', '/api/v1/jobs', { query: { cursor: bad } }));
    }
  });
});

describe('a repeated query parameter is never silently cut to one value', () => {
  /** Through the local HTTP bridge, which hands the handler what FC's HTTP trigger would. */
  async function viaBridge(url: string): Promise<CallResult> {
    const req = {
      url,
      method: 'GET',
      httpVersion: '1.1',
      headers: { authorization: 'Bearer test-token-0123456789abcdef' },
      socket: { remoteAddress: '127.0.0.1' },
    } as unknown as http.IncomingMessage;
    return h.invoke(toFcHttpEvent(req, Buffer.alloc(0), 'req-bridge'));
  }

  it('?type=backup&type=restore is a 400 naming type', async () => {
    const r = await viaBridge('/api/v1/jobs?type=backup&type=restore');
    expect(r.status, r.text).toBe(400);
    expect(paths(r)).toEqual(['query.type']);
    expect(r.body.errors[0].message).toMatch(/more than once/);
  });

  it('a repeat of any one-value parameter is refused by name, on every list', async () => {
    for (const [url, name] of [
      ['/api/v1/jobs?limit=1&limit=5', 'limit'],
      ['/api/v1/jobs?instanceId=i-query0001&instanceId=i-query0002', 'instanceId'],
      ['/api/v1/backups?order=asc&order=desc', 'order'],
      ['/api/v1/plans?state=ACTIVE&state=SUSPENDED', 'state'],
      ['/api/v1/instances?protected=true&protected=false', 'protected'],
      ['/api/v1/protected-instances?cursor=a&cursor=b', 'cursor'],
    ] as const) {
      const r = await viaBridge(url);
      expect(r.status, `${url}: ${r.text}`).toBe(400);
      expect(paths(r)).toEqual([`query.${name}`]);
    }
  });

  it('an event carrying a repeated parameter as a list is read the same way', async () => {
    const event = fcEvent('GET', '/api/v1/jobs');
    (event.queryParameters as Record<string, unknown>).type = ['backup', 'restore'];
    const r = await h.invoke(event);
    expect(r.status, r.text).toBe(400);
    expect(paths(r)).toEqual(['query.type']);
  });

  it('status, a list filter, takes every value given: repeated or comma-separated', async () => {
    const repeated = await viaBridge('/api/v1/jobs?status=COMPLETE&status=FAILED&instanceId=i-query0001');
    const listed = await viaBridge('/api/v1/jobs?status=COMPLETE,FAILED&instanceId=i-query0001');
    expect(repeated.status, repeated.text).toBe(200);
    const statuses = new Set(repeated.body.items.map((j: { status: string }) => j.status));
    expect(statuses).toEqual(new Set(['COMPLETE', 'FAILED']));
    expect(repeated.body.items).toEqual(listed.body.items);
  });
});
