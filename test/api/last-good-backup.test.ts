import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { aPoint, DAY } from './fixtures.js';
import { startHarness, T0, type Harness } from './harness.js';

/** Deleting an instance's only good backup by hand needs `?confirm=last-good-backup`. */

const A = 'i-lastg0001';
const B = 'i-lastg0002';
let h: Harness;

beforeEach(async () => {
  h = await startHarness({ seed: { instances: [] } });
}, 60_000);
afterEach(async () => h?.close());

const del = (id: string, query?: Record<string, string>) =>
  h.call('DELETE', `/api/v1/backups/${id}`, query === undefined ? {} : { query });

describe('the only good backup of an instance', () => {
  it('is not deleted without confirmation: 409 saying why and how, nothing changed', async () => {
    await h.store.points.create(aPoint({ id: 'pt-a1', instanceId: A }));
    // Another instance's backup and this instance's broken ones do not count as good ones.
    await h.store.points.create(aPoint({ id: 'pt-b1', instanceId: B }));
    await h.store.points.create(aPoint({ id: 'pt-a0', instanceId: A, status: 'DELETE_FAILED' }));
    await h.store.points.create(aPoint({ id: 'pt-ax', instanceId: A, status: 'DELETED' }));
    const before = h.dump();
    const r = await del('pt-a1');
    expect(r.status, r.text).toBe(409);
    expect(r.headers['content-type']).toBe('application/problem+json');
    expect(r.body.detail).toMatch(/only good backup of instance i-lastg0001/);
    expect(r.body.detail).toContain('?confirm=last-good-backup');
    expect(h.dump()).toEqual(before);
  });

  it('is deleted with ?confirm=last-good-backup', async () => {
    await h.store.points.create(aPoint({ id: 'pt-a1', instanceId: A }));
    const r = await del('pt-a1', { confirm: 'last-good-backup' });
    expect(r.status, r.text).toBe(200);
    expect(r.body.status).toBe('DELETED');
  });

  it('one of two good backups goes without confirmation; then the last one needs it', async () => {
    await h.store.points.create(aPoint({ id: 'pt-a1', instanceId: A, completedAt: T0 - 2 * DAY }));
    await h.store.points.create(aPoint({ id: 'pt-a2', instanceId: A, completedAt: T0 - DAY }));
    expect((await del('pt-a2')).status).toBe(200);
    expect((await del('pt-a1')).status).toBe(409);
    expect((await h.store.points.get('pt-a1'))?.status).toBe('AVAILABLE');
  });

  it('two deletes of the last two good backups sent together: one good backup is always left', async () => {
    let refusedTogether = 0;
    for (let round = 0; round < 10; round += 1) {
      const [x, y] = [`pt-r${round}a`, `pt-r${round}b`];
      const instanceId = `i-race${String(round).padStart(4, '0')}`;
      await h.store.points.create(aPoint({ id: x, instanceId, completedAt: T0 - 2 * DAY }));
      await h.store.points.create(aPoint({ id: y, instanceId, completedAt: T0 - DAY }));
      const answers = await Promise.all([del(x), del(y)]);
      expect(answers.every((a) => a.status === 200 || a.status === 409)).toBe(true);
      const left = await Promise.all([x, y].map(async (id) => (await h.store.points.get(id))!.status));
      expect(
        left.filter((st) => st === 'AVAILABLE').length,
        `round ${round}: ${left.join(', ')}`,
      ).toBeGreaterThan(0);
      if (answers.every((a) => a.status === 409)) refusedTogether += 1;
    }
    // The race really happened (both passed the first check and met at the second) at least once.
    expect(refusedTogether).toBeGreaterThan(0);
  });

  it('a broken backup (DELETE_FAILED) is not a good one and is deleted without confirmation', async () => {
    await h.store.points.create(aPoint({ id: 'pt-a0', instanceId: A, status: 'DELETE_FAILED' }));
    const r = await del('pt-a0');
    expect(r.status, r.text).toBe(200);
  });

  it('any other confirm value is a 400 naming query.confirm', async () => {
    await h.store.points.create(aPoint({ id: 'pt-a1', instanceId: A }));
    const r = await del('pt-a1', { confirm: 'yes' });
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([{ path: 'query.confirm', message: 'must be last-good-backup' }]);
  });
});
