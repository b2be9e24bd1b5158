import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aJob, aPoint } from './fixtures.js';
import { startHarness, T0, type Harness } from './harness.js';

/**
 * Cursor paging under writes: walking a list while rows are added never repeats or skips a row that
 * existed when the walk started, and keeps the order (newest first by default).
 */

const I = 'i-page00001';
let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    seed: {
      instances: [
        { instanceId: I, disks: [{ diskId: 'd-page00001', type: 'system', category: 'cloud_essd' }] },
      ],
    },
  });
  // Pairs of rows share a timestamp, so the id tie-breaker is exercised too.
  await h.store.jobs.createMany(
    Array.from({ length: 230 }, (_, n) =>
      aJob({
        id: `job-p${String(n).padStart(4, '0')}`,
        instanceId: I,
        createdAt: T0 - 1_000_000 + Math.floor(n / 2) * 1000,
      }),
    ),
  );
  await h.store.points.createMany(
    Array.from({ length: 230 }, (_, n) =>
      aPoint({
        id: `pt-p${String(n).padStart(4, '0')}`,
        instanceId: I,
        completedAt: T0 - 1_000_000 + Math.floor(n / 2) * 1000,
      }),
    ),
  );
});
afterAll(async () => h?.close());

type Row = { id: string; at: number };

async function walk(
  path: string,
  timeField: string,
  order: 'asc' | 'desc',
  between: (page: number) => Promise<void>,
): Promise<Row[][]> {
  const pages: Row[][] = [];
  let cursor: string | null = null;
  for (let n = 0; n < 100; n += 1) {
    const query: Record<string, string> = { limit: '50', order };
    if (cursor !== null) query.cursor = cursor;
    const r = await h.call('GET', path, { query });
    expect(r.status).toBe(200);
    pages.push(
      r.body.items.map((i: Record<string, string>) => ({ id: i.id!, at: Date.parse(i[timeField]!) })),
    );
    cursor = r.body.nextCursor;
    if (cursor === null) return pages;
    await between(n);
  }
  throw new Error('paging did not end');
}

function expectStableWalk(pages: Row[][], before: string[], order: 'asc' | 'desc'): void {
  const seen = pages.flat();
  const ids = seen.map((r) => r.id);
  expect(new Set(ids).size).toBe(ids.length);
  for (const id of before) expect(ids).toContain(id);
  for (let i = 1; i < seen.length; i += 1) {
    const [a, b] = [seen[i - 1]!, seen[i]!];
    const inOrder =
      order === 'desc'
        ? a.at > b.at || (a.at === b.at && a.id > b.id)
        : a.at < b.at || (a.at === b.at && a.id < b.id);
    expect(inOrder, `${a.id} then ${b.id}`).toBe(true);
  }
  expect(pages.every((p) => p.length <= 50)).toBe(true);
}

describe('cursor paging is stable under concurrent inserts', () => {
  it('GET /jobs, newest first, with newer and older jobs inserted between pages', async () => {
    const before = (await h.store.jobs.list({}, { limit: 1000 })).items.map((j) => j.id);
    let extra = 0;
    const pages = await walk('/api/v1/jobs', 'createdAt', 'desc', async () => {
      for (const createdAt of [T0 + extra * 10, T0 - 2_000_000 - extra * 10, T0 - 1_000_000 + 55_000]) {
        extra += 1;
        await h.store.jobs.create(
          aJob({ id: `job-new${String(extra).padStart(3, '0')}`, instanceId: I, createdAt }),
        );
      }
    });
    expectStableWalk(pages, before, 'desc');
    const ids = pages.flat().map((r) => r.id);
    // Rows newer than the walk's position are behind it and never show up; older ones are ahead and do.
    expect(ids.filter((id) => id.startsWith('job-new')).length).toBeGreaterThan(0);
    expect(ids).not.toContain('job-new001');
  });

  it('GET /backups, oldest first, with points inserted between pages', async () => {
    const before = (await h.store.points.list({}, { limit: 1000 })).items.map((p) => p.id);
    let extra = 0;
    const pages = await walk('/api/v1/backups', 'completedAt', 'asc', async () => {
      for (const completedAt of [T0 - 3_000_000 - extra, T0 + extra]) {
        extra += 1;
        await h.store.points.create(
          aPoint({ id: `pt-new${String(extra).padStart(3, '0')}`, instanceId: I, completedAt }),
        );
      }
    });
    expectStableWalk(pages, before, 'asc');
    expect(pages.flat().map((r) => r.id)).not.toContain('pt-new001');
  });

  it('concurrent writers through the API itself: protect-now jobs while a reader pages', async () => {
    await h.call('POST', '/api/v1/protected-instances', { body: { instanceId: I } });
    const before = (await h.store.jobs.list({}, { limit: 1000 })).items.map((j) => j.id);
    const writers = Promise.all(
      Array.from({ length: 20 }, async () => {
        h.clock.advance(1);
        const r = await h.call('POST', `/api/v1/protected-instances/${I}/backups`);
        expect(r.status).toBe(202);
      }),
    );
    const pages = await walk('/api/v1/jobs', 'createdAt', 'desc', async () => {
      await new Promise((resolve) => setImmediate(resolve));
    });
    await writers;
    expectStableWalk(pages, before, 'desc');
  });
});
