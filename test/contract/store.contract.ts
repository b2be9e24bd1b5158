import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BackupPoint, Job } from '../../lib/domain/model.js';
import type { Page, PageRequest } from '../../lib/ports/store.js';
import {
  DAY,
  HOUR,
  MINUTE,
  T0,
  aJob,
  aPlan,
  aDelivery,
  aPoint,
  aRule,
  aSubscription,
  anExport,
  anIdempotencyRecord,
  anInstance,
  expectOk,
  ids,
  seq,
  type StoreHarness,
  type StoreUnderTest,
} from './support/store-fixtures.js';

/**
 * The Store contract: every adapter must pass exactly these assertions.
 * `factory` returns a fresh, empty store (and a way to reopen it on the same data).
 */
export function describeStoreContract(name: string, factory: () => Promise<StoreHarness>): void {
  describe(`Store contract: ${name}`, () => {
    let h: StoreHarness;
    let store: StoreUnderTest;

    beforeEach(async () => {
      h = await factory();
      store = h.store;
    });

    afterEach(async () => {
      await h.cleanup();
    });

    async function collect<T>(
      list: (page: PageRequest) => Promise<Page<T>>,
      page: Omit<PageRequest, 'cursor'>,
      between?: () => Promise<void>,
    ): Promise<T[][]> {
      const pages: T[][] = [];
      let cursor: string | undefined;
      for (let guard = 0; guard < 1000; guard += 1) {
        const res = await list({ ...page, cursor });
        pages.push(res.items);
        if (res.cursor === undefined) return pages;
        cursor = res.cursor;
        if (between) await between();
      }
      throw new Error('paging did not end');
    }

    describe('create-if-absent', () => {
      it('creates with version 1 whatever version the item carries', async () => {
        const res = await store.plans.create(aPlan({ id: 'plan-1', version: 7 }));
        expect(res).toEqual({ ok: true, value: expect.objectContaining({ id: 'plan-1', version: 1 }) });
        expect(await store.plans.get('plan-1')).toEqual(aPlan({ id: 'plan-1', version: 1 }));
      });

      it('refuses a second create of the same id with `exists` and the stored row', async () => {
        await store.jobs.create(aJob({ id: 'job-1', step: 'first' }));
        const res = await store.jobs.create(aJob({ id: 'job-1', step: 'second' }));
        expect(res.ok).toBe(false);
        if (res.ok) return;
        expect(res.reason).toBe('exists');
        expect(res.current?.step).toBe('first');
        expect((await store.jobs.get('job-1'))?.step).toBe('first');
      });

      it('lets exactly one of many concurrent creates of one id win', async () => {
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, n) =>
            store.points.create(aPoint({ id: 'bp-race', lastError: `w${n}` })),
          ),
        );
        const winners = results.filter((r) => r.ok);
        expect(winners).toHaveLength(1);
        expect(results.filter((r) => !r.ok && r.reason === 'exists')).toHaveLength(11);
        const winner = winners[0];
        if (winner === undefined || !winner.ok) throw new Error('no winner');
        expect((await store.points.get('bp-race'))?.lastError).toBe(winner.value.lastError);
      });

      it('keys protected instances by instanceId', async () => {
        expectOk(await store.instances.create(anInstance({ instanceId: 'i-abcd0001' })));
        const again = await store.instances.create(
          anInstance({ instanceId: 'i-abcd0001', planId: 'plan-x' }),
        );
        expect(again).toMatchObject({ ok: false, reason: 'exists', current: { planId: null, version: 1 } });
      });

      it('creates many at once, one result per item, `exists` for the ones already there', async () => {
        await store.plans.create(aPlan({ id: seq('plan-', 5) }));
        const items = Array.from({ length: 450 }, (_, n) =>
          aPlan({ id: seq('plan-', n), createdAt: T0 + n }),
        );
        const results = await store.plans.createMany(items);
        expect(results).toHaveLength(450);
        expect(results.filter((r) => r.ok)).toHaveLength(449);
        expect(results[5]).toMatchObject({ ok: false, reason: 'exists' });
        expect(results[6]).toMatchObject({ ok: true, value: { id: seq('plan-', 6), version: 1 } });
        const all = await collect((p) => store.plans.list({}, p), { limit: 1000 });
        expect(all.flat()).toHaveLength(450);
      });
    });

    describe('get', () => {
      it('answers undefined for an unknown id', async () => {
        expect(await store.plans.get('plan-none')).toBeUndefined();
        expect(await store.jobs.get('job-none')).toBeUndefined();
        expect(await store.points.get('bp-none')).toBeUndefined();
        expect(await store.instances.get('i-none0000')).toBeUndefined();
        expect(await store.exports.get('exp-none')).toBeUndefined();
        expect(await store.idempotency.get('none')).toBeUndefined();
      });

      it('getMany returns the found rows in the order asked, without duplicates', async () => {
        await store.jobs.createMany([aJob({ id: 'job-a' }), aJob({ id: 'job-b' }), aJob({ id: 'job-c' })]);
        const got = await store.jobs.getMany(['job-c', 'job-x', 'job-a', 'job-c']);
        expect(ids(got)).toEqual(['job-c', 'job-a']);
        expect(await store.jobs.getMany([])).toEqual([]);
      });

      it('getMany handles more ids than one batch read takes', async () => {
        const items = Array.from({ length: 250 }, (_, n) => anExport({ id: seq('exp-', n) }));
        await store.exports.createMany(items);
        const wanted = items.map((e) => e.id).reverse();
        const got = await store.exports.getMany(wanted);
        expect(ids(got)).toEqual(wanted);
      });

      it('existing names the ids that have a row, past one batch read, and nothing for none', async () => {
        const items = Array.from({ length: 250 }, (_, n) =>
          aPlan({ id: seq('plan-', n), createdAt: T0 + n }),
        );
        await store.plans.createMany(items);
        const asked = [...items.filter((_, n) => n % 3 === 0).map((p) => p.id), 'plan-gone', 'plan-gone'];
        const found = await store.plans.existing(asked);
        expect([...found].sort()).toEqual(
          items
            .filter((_, n) => n % 3 === 0)
            .map((p) => p.id)
            .sort(),
        );
        expect(found.has('plan-gone')).toBe(false);
        expect((await store.plans.existing([])).size).toBe(0);
      });
    });

    describe('conditional update', () => {
      it('replaces the row when the version matches and increments it', async () => {
        const created = expectOk(await store.jobs.create(aJob({ id: 'job-1' })));
        const res = await store.jobs.update({ ...created, status: 'RUNNING', step: 'snapshot' }, 1);
        expect(res).toMatchObject({ ok: true, value: { status: 'RUNNING', version: 2 } });
        expect(await store.jobs.get('job-1')).toMatchObject({
          status: 'RUNNING',
          step: 'snapshot',
          version: 2,
        });
      });

      it('answers `conflict` with the stored row when the version is stale', async () => {
        const created = expectOk(await store.jobs.create(aJob({ id: 'job-1' })));
        expectOk(await store.jobs.update({ ...created, step: 'a' }, 1));
        const res = await store.jobs.update({ ...created, step: 'b' }, 1);
        expect(res).toMatchObject({ ok: false, reason: 'conflict', current: { step: 'a', version: 2 } });
        expect((await store.jobs.get('job-1'))?.step).toBe('a');
      });

      it('answers `not_found` for a missing row', async () => {
        const res = await store.plans.update(aPlan({ id: 'plan-missing', version: 1 }), 1);
        expect(res).toEqual({ ok: false, reason: 'not_found' });
        expect(await store.plans.get('plan-missing')).toBeUndefined();
      });

      it('two writers from the same version: exactly one wins', async () => {
        const base = expectOk(await store.plans.create(aPlan({ id: 'plan-1' })));
        const [a, b] = await Promise.all([
          store.plans.update({ ...base, name: 'writer-a' }, base.version),
          store.plans.update({ ...base, name: 'writer-b' }, base.version),
        ]);
        expect([a?.ok, b?.ok].filter(Boolean)).toHaveLength(1);
        const loser = a?.ok ? b : a;
        expect(loser).toMatchObject({ ok: false, reason: 'conflict', current: { version: 2 } });
        const stored = await store.plans.get('plan-1');
        expect(stored?.version).toBe(2);
        expect(stored?.name).toBe(a?.ok ? 'writer-a' : 'writer-b');
      });

      it('many concurrent writers from the same version: exactly one wins, the rest see the winner', async () => {
        const base = expectOk(await store.points.create(aPoint({ id: 'bp-1' })));
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, n) =>
            store.points.update({ ...base, inUseBy: [`job-${n}`] }, base.version),
          ),
        );
        const wins = results.filter((r) => r.ok);
        expect(wins).toHaveLength(1);
        const win = wins[0];
        if (win === undefined || !win.ok) throw new Error('no winner');
        for (const r of results) {
          if (!r.ok) expect(r).toMatchObject({ reason: 'conflict', current: { inUseBy: win.value.inUseBy } });
        }
        expect((await store.points.get('bp-1'))?.inUseBy).toEqual(win.value.inUseBy);
      });

      it('a chain of read-modify-write loops under contention loses no increment', async () => {
        await store.jobs.create(aJob({ id: 'job-counter' }));
        const bump = async (): Promise<void> => {
          for (;;) {
            const cur = await store.jobs.get('job-counter');
            if (cur === undefined) throw new Error('gone');
            const res = await store.jobs.update({ ...cur, attempts: cur.attempts + 1 }, cur.version);
            if (res.ok) return;
          }
        };
        await Promise.all(Array.from({ length: 8 }, bump));
        expect(await store.jobs.get('job-counter')).toMatchObject({ attempts: 8, version: 9 });
      });
    });

    describe('delete', () => {
      it('deletes a present row; the row is gone', async () => {
        await store.exports.create(anExport({ id: 'exp-1' }));
        expect(await store.exports.delete('exp-1')).toEqual({ ok: true, value: undefined });
        expect(await store.exports.get('exp-1')).toBeUndefined();
      });

      it('answers `not_found` for a missing row', async () => {
        expect(await store.exports.delete('exp-none')).toMatchObject({ ok: false, reason: 'not_found' });
        expect(await store.exports.delete('exp-none', 3)).toMatchObject({ ok: false, reason: 'not_found' });
      });

      it('with a version: refuses a stale one with `conflict`, accepts the current one', async () => {
        const created = expectOk(await store.instances.create(anInstance({ instanceId: 'i-abcd0001' })));
        expectOk(await store.instances.update({ ...created, planId: 'plan-1' }, 1));
        expect(await store.instances.delete('i-abcd0001', 1)).toMatchObject({
          ok: false,
          reason: 'conflict',
        });
        expect(await store.instances.get('i-abcd0001')).toMatchObject({ planId: 'plan-1', version: 2 });
        expect(await store.instances.delete('i-abcd0001', 2)).toEqual({ ok: true, value: undefined });
        expect(await store.instances.get('i-abcd0001')).toBeUndefined();
      });

      it('a deleted row leaves every list and hot query', async () => {
        await store.plans.create(aPlan({ id: 'plan-1', nextRunAt: T0 }));
        await store.points.create(aPoint({ id: 'bp-1', effectiveExpireAt: T0 }));
        await store.plans.delete('plan-1');
        await store.points.delete('bp-1');
        expect(await store.plans.dueBefore(T0 + DAY, 10)).toEqual([]);
        expect((await store.plans.list({})).items).toEqual([]);
        expect((await store.points.expired(T0 + DAY, 10)).items).toEqual([]);
        expect((await store.points.list({ instanceId: 'i-abcd0001' })).items).toEqual([]);
      });
    });

    describe('plans', () => {
      beforeEach(async () => {
        await store.plans.createMany([
          aPlan({ id: 'plan-a', instanceId: 'i-aaaa0001', createdAt: T0 + 1, nextRunAt: T0 + 30 * MINUTE }),
          aPlan({ id: 'plan-b', instanceId: 'i-aaaa0001', createdAt: T0 + 2, nextRunAt: T0 + 10 * MINUTE }),
          aPlan({ id: 'plan-c', instanceId: 'i-bbbb0001', createdAt: T0 + 3, nextRunAt: T0 + 20 * MINUTE }),
          aPlan({
            id: 'plan-d',
            instanceId: 'i-bbbb0001',
            createdAt: T0 + 4,
            state: 'SUSPENDED',
            nextRunAt: null,
          }),
          aPlan({
            id: 'plan-e',
            instanceId: 'i-cccc0001',
            createdAt: T0 + 5,
            schedule: undefined,
            nextRunAt: null,
          }),
          aPlan({ id: 'plan-f', instanceId: 'i-cccc0001', createdAt: T0 + 6, nextRunAt: T0 + 2 * HOUR }),
          // Suspended with a stale nextRunAt: must never be due.
          aPlan({
            id: 'plan-g',
            instanceId: 'i-cccc0001',
            createdAt: T0 + 7,
            state: 'SUSPENDED',
            nextRunAt: T0,
          }),
        ]);
      });

      it("keeps a plan's restore tests and their count as written", async () => {
        const p = await store.plans.get('plan-a');
        if (!p) throw new Error('fixture');
        const verify = { every: 3, helperInstanceId: 'i-helper0001', script: false };
        const verifyCounter = { count: 2, lastPointId: 'bp-07' };
        expectOk(await store.plans.update({ ...p, verify, verifyCounter }, p.version));
        expect(await store.plans.get('plan-a')).toMatchObject({ verify, verifyCounter });
        expect((await store.plans.getMany(['plan-a']))[0]).toMatchObject({ verify, verifyCounter });
      });

      it('dueBefore: ACTIVE plans with nextRunAt <= t, ascending, limited', async () => {
        expect(ids(await store.plans.dueBefore(T0 + 30 * MINUTE, 10))).toEqual([
          'plan-b',
          'plan-c',
          'plan-a',
        ]);
        expect(ids(await store.plans.dueBefore(T0 + 30 * MINUTE - 1, 10))).toEqual(['plan-b', 'plan-c']);
        expect(ids(await store.plans.dueBefore(T0 + 30 * MINUTE, 2))).toEqual(['plan-b', 'plan-c']);
        expect(ids(await store.plans.dueBefore(T0, 10))).toEqual([]);
      });

      it('dueBefore follows updates: advancing nextRunAt or suspending removes a plan', async () => {
        const b = await store.plans.get('plan-b');
        const c = await store.plans.get('plan-c');
        if (!b || !c) throw new Error('fixture');
        expectOk(await store.plans.update({ ...b, nextRunAt: T0 + DAY }, b.version));
        expectOk(await store.plans.update({ ...c, state: 'SUSPENDED', nextRunAt: null }, c.version));
        expect(ids(await store.plans.dueBefore(T0 + HOUR, 10))).toEqual(['plan-a']);
        const d = await store.plans.get('plan-d');
        if (!d) throw new Error('fixture');
        expectOk(await store.plans.update({ ...d, state: 'ACTIVE', nextRunAt: T0 + MINUTE }, d.version));
        expect(ids(await store.plans.dueBefore(T0 + HOUR, 10))).toEqual(['plan-d', 'plan-a']);
      });

      it('lists by instance, by state, by both and unfiltered, newest first', async () => {
        expect(ids((await store.plans.list({ instanceId: 'i-cccc0001' })).items)).toEqual([
          'plan-g',
          'plan-f',
          'plan-e',
        ]);
        expect(ids((await store.plans.list({ state: 'SUSPENDED' })).items)).toEqual(['plan-g', 'plan-d']);
        expect(ids((await store.plans.list({ instanceId: 'i-bbbb0001', state: 'ACTIVE' })).items)).toEqual([
          'plan-c',
        ]);
        expect(ids((await store.plans.list({})).items)).toEqual([
          'plan-g',
          'plan-f',
          'plan-e',
          'plan-d',
          'plan-c',
          'plan-b',
          'plan-a',
        ]);
        expect(ids((await store.plans.list({}, { order: 'asc', limit: 3 })).items)).toEqual([
          'plan-a',
          'plan-b',
          'plan-c',
        ]);
        expect((await store.plans.list({ instanceId: 'i-none0000' })).items).toEqual([]);
      });
    });

    describe('jobs', () => {
      const jobs: Job[] = [
        aJob({
          id: 'job-01',
          type: 'backup',
          status: 'COMPLETE',
          instanceId: 'i-1',
          planId: 'plan-1',
          createdAt: T0 + 1,
        }),
        aJob({
          id: 'job-02',
          type: 'backup',
          status: 'FAILED',
          instanceId: 'i-2',
          planId: 'plan-2',
          createdAt: T0 + 2,
        }),
        aJob({
          id: 'job-03',
          type: 'restore',
          status: 'RUNNING',
          instanceId: 'i-1',
          planId: null,
          createdAt: T0 + 3,
        }),
        aJob({
          id: 'job-04',
          type: 'backup',
          status: 'QUEUED',
          instanceId: 'i-1',
          planId: 'plan-1',
          createdAt: T0 + 4,
        }),
        aJob({
          id: 'job-05',
          type: 'export',
          status: 'RUNNING',
          instanceId: 'i-2',
          planId: null,
          createdAt: T0 + 5,
        }),
        aJob({
          id: 'job-06',
          type: 'backup',
          status: 'RUNNING',
          instanceId: 'i-2',
          planId: 'plan-2',
          createdAt: T0 + 6,
        }),
        aJob({
          id: 'job-07',
          type: 'mount',
          status: 'COMPLETE',
          instanceId: 'i-1',
          planId: null,
          createdAt: T0 + 7,
        }),
        aJob({
          id: 'job-08',
          type: 'backup',
          status: 'SKIPPED',
          instanceId: 'i-1',
          planId: 'plan-1',
          createdAt: T0 + 8,
        }),
      ];

      beforeEach(async () => {
        await store.jobs.createMany(jobs);
      });

      const listed = async (filter: Parameters<StoreUnderTest['jobs']['list']>[0], page?: PageRequest) =>
        ids((await store.jobs.list(filter, page)).items);

      it('lists newest first by createdAt, or oldest first when asked', async () => {
        expect(await listed({})).toEqual([
          'job-08',
          'job-07',
          'job-06',
          'job-05',
          'job-04',
          'job-03',
          'job-02',
          'job-01',
        ]);
        expect(await listed({}, { order: 'asc', limit: 3 })).toEqual(['job-01', 'job-02', 'job-03']);
      });

      it('filters by type, status, status list, instance and plan', async () => {
        expect(await listed({ type: 'backup' })).toEqual(['job-08', 'job-06', 'job-04', 'job-02', 'job-01']);
        expect(await listed({ status: 'RUNNING' })).toEqual(['job-06', 'job-05', 'job-03']);
        expect(await listed({ status: ['RUNNING', 'QUEUED'] })).toEqual([
          'job-06',
          'job-05',
          'job-04',
          'job-03',
        ]);
        expect(await listed({ status: ['RUNNING', 'QUEUED'] }, { order: 'asc' })).toEqual([
          'job-03',
          'job-04',
          'job-05',
          'job-06',
        ]);
        expect(await listed({ status: [] })).toEqual([]);
        expect(await listed({ instanceId: 'i-2' })).toEqual(['job-06', 'job-05', 'job-02']);
        expect(await listed({ planId: 'plan-1' })).toEqual(['job-08', 'job-04', 'job-01']);
      });

      it('combines filters and a createdAt range [from, to)', async () => {
        expect(await listed({ instanceId: 'i-1', type: 'backup' })).toEqual(['job-08', 'job-04', 'job-01']);
        expect(await listed({ instanceId: 'i-1', status: ['COMPLETE', 'RUNNING'] })).toEqual([
          'job-07',
          'job-03',
          'job-01',
        ]);
        expect(await listed({ planId: 'plan-2', status: 'RUNNING' })).toEqual(['job-06']);
        expect(await listed({ from: T0 + 3, to: T0 + 6 })).toEqual(['job-05', 'job-04', 'job-03']);
        expect(await listed({ type: 'backup', from: T0 + 2, to: T0 + 8 }, { order: 'asc' })).toEqual([
          'job-02',
          'job-04',
          'job-06',
        ]);
      });

      it('follows status changes', async () => {
        const j = await store.jobs.get('job-04');
        if (!j) throw new Error('fixture');
        expectOk(await store.jobs.update({ ...j, status: 'RUNNING' }, j.version));
        expect(await listed({ status: 'QUEUED' })).toEqual([]);
        expect(await listed({ status: 'RUNNING' })).toEqual(['job-06', 'job-05', 'job-04', 'job-03']);
      });
    });

    describe('points', () => {
      const points: BackupPoint[] = [
        aPoint({
          id: 'bp-01',
          instanceId: 'i-1',
          planId: 'plan-1',
          completedAt: T0 + 1 * HOUR,
          effectiveExpireAt: T0 + 5 * DAY,
        }),
        aPoint({
          id: 'bp-02',
          instanceId: 'i-2',
          planId: 'plan-2',
          completedAt: T0 + 2 * HOUR,
          effectiveExpireAt: T0 + 1 * DAY,
        }),
        aPoint({
          id: 'bp-03',
          instanceId: 'i-1',
          planId: null,
          completedAt: T0 + 3 * HOUR,
          effectiveExpireAt: T0 + 2 * DAY,
          status: 'DELETE_FAILED',
        }),
        aPoint({
          id: 'bp-04',
          instanceId: 'i-1',
          planId: 'plan-1',
          completedAt: T0 + 4 * HOUR,
          effectiveExpireAt: T0 + 1 * DAY,
          status: 'DELETING',
        }),
        aPoint({
          id: 'bp-05',
          instanceId: 'i-2',
          planId: 'plan-2',
          completedAt: T0 + 5 * HOUR,
          effectiveExpireAt: T0 + 3 * DAY,
        }),
        aPoint({
          id: 'bp-06',
          instanceId: 'i-1',
          planId: 'plan-1',
          completedAt: T0 + 6 * HOUR,
          effectiveExpireAt: T0 + 1 * DAY,
          status: 'DELETED',
        }),
        aPoint({
          id: 'bp-07',
          instanceId: 'i-1',
          planId: 'plan-1',
          completedAt: T0 + 7 * HOUR,
          effectiveExpireAt: T0 + 9 * DAY,
          status: 'CREATING',
        }),
        aPoint({
          id: 'bp-08',
          instanceId: 'i-2',
          planId: 'plan-2',
          completedAt: T0 + 8 * HOUR,
          effectiveExpireAt: T0 + 1 * DAY,
        }),
      ];

      beforeEach(async () => {
        await store.points.createMany(points);
      });

      const listed = async (filter: Parameters<StoreUnderTest['points']['list']>[0], page?: PageRequest) =>
        ids((await store.points.list(filter, page)).items);

      it("lists an instance's points in time order, newest first unless asked otherwise", async () => {
        expect(await listed({ instanceId: 'i-1' })).toEqual(['bp-07', 'bp-06', 'bp-04', 'bp-03', 'bp-01']);
        expect(await listed({ instanceId: 'i-1' }, { order: 'asc' })).toEqual([
          'bp-01',
          'bp-03',
          'bp-04',
          'bp-06',
          'bp-07',
        ]);
      });

      it('filters by plan, status, status list and a completedAt range [from, to)', async () => {
        expect(await listed({ planId: 'plan-2' })).toEqual(['bp-08', 'bp-05', 'bp-02']);
        expect(await listed({ status: 'AVAILABLE' })).toEqual(['bp-08', 'bp-05', 'bp-02', 'bp-01']);
        expect(await listed({ status: ['DELETING', 'DELETE_FAILED'] })).toEqual(['bp-04', 'bp-03']);
        expect(await listed({ instanceId: 'i-1', status: 'AVAILABLE' })).toEqual(['bp-01']);
        expect(await listed({ from: T0 + 2 * HOUR, to: T0 + 5 * HOUR })).toEqual(['bp-04', 'bp-03', 'bp-02']);
        expect(await listed({ instanceId: 'i-2', from: T0 + 5 * HOUR })).toEqual(['bp-08', 'bp-05']);
        expect(await listed({})).toHaveLength(8);
      });

      it('expired: AVAILABLE or DELETE_FAILED with effectiveExpireAt <= now, ascending', async () => {
        const page = await store.points.expired(T0 + 2 * DAY, 10);
        expect(ids(page.items)).toEqual(['bp-02', 'bp-08', 'bp-03']);
        expect(page.cursor).toBeUndefined();
        expect(ids((await store.points.expired(T0 + 1 * DAY - 1, 10)).items)).toEqual([]);
        expect(ids((await store.points.expired(T0 + 10 * DAY, 10)).items)).toEqual([
          'bp-02',
          'bp-08',
          'bp-03',
          'bp-05',
          'bp-01',
        ]);
      });

      it('expired pages with a cursor and follows status changes', async () => {
        const first = await store.points.expired(T0 + 10 * DAY, 2);
        expect(ids(first.items)).toEqual(['bp-02', 'bp-08']);
        expect(first.cursor).toBeDefined();
        // Retention marks what it is deleting; the next page must not be disturbed by it.
        const bp02 = first.items[0];
        if (!bp02) throw new Error('fixture');
        expectOk(await store.points.update({ ...bp02, status: 'DELETING' }, bp02.version));
        const second = await store.points.expired(T0 + 10 * DAY, 2, first.cursor);
        expect(ids(second.items)).toEqual(['bp-03', 'bp-05']);
        const third = await store.points.expired(T0 + 10 * DAY, 2, second.cursor);
        expect(ids(third.items)).toEqual(['bp-01']);
        expect(third.cursor).toBeUndefined();
        expect(ids((await store.points.expired(T0 + 10 * DAY, 10)).items)).not.toContain('bp-02');
      });

      it('a point kept longer by a long-term rule moves in the expiry order', async () => {
        const p = await store.points.get('bp-02');
        if (!p) throw new Error('fixture');
        expectOk(
          await store.points.update(
            { ...p, longTermUntil: T0 + 30 * DAY, longTermRule: 'month', effectiveExpireAt: T0 + 30 * DAY },
            p.version,
          ),
        );
        expect(ids((await store.points.expired(T0 + 2 * DAY, 10)).items)).toEqual(['bp-08', 'bp-03']);
      });

      it("keeps a point's copies in other regions as written", async () => {
        const p = await store.points.get('bp-02');
        if (!p) throw new Error('fixture');
        const copies: BackupPoint['copies'] = [
          {
            regionId: 'cn-shanghai',
            jobId: 'job-1.copy.cn-shanghai',
            snapshotIds: ['s-copy1', 's-copy2'],
            status: 'available',
            expireAt: T0 + 90 * DAY,
            reason: null,
          },
          {
            regionId: 'cn-beijing',
            jobId: 'job-1.copy.cn-beijing',
            snapshotIds: [],
            status: 'failed',
            expireAt: 0,
            reason: 'copy failed',
          },
        ];
        expectOk(await store.points.update({ ...p, copies }, p.version));
        expect((await store.points.get('bp-02'))?.copies).toEqual(copies);
        expect((await store.points.getMany(['bp-02']))[0]?.copies).toEqual(copies);
      });
      it("keeps a point's verification as written", async () => {
        const p = await store.points.get('bp-02');
        if (!p) throw new Error('fixture');
        const verification: BackupPoint['verification'] = {
          status: 'failed',
          at: T0 + DAY,
          reason: 'file-system check of disk d-1 (/dev/vdb1) found errors (fsck exit 4)',
          durationSeconds: 75,
          jobId: 'bp-02.verify',
        };
        expectOk(await store.points.update({ ...p, verification }, p.version));
        expect((await store.points.get('bp-02'))?.verification).toEqual(verification);
        expect((await store.points.getMany(['bp-02']))[0]?.verification).toEqual(verification);
        const listed = (await store.points.list({ instanceId: p.instanceId })).items.find(
          (x) => x.id === 'bp-02',
        );
        expect(listed?.verification).toEqual(verification);
      });
    });

    describe('instances and exports', () => {
      it('lists protected instances newest first, oldest first when asked', async () => {
        await store.instances.createMany([
          anInstance({ instanceId: 'i-0002', createdAt: T0 + 2 }),
          anInstance({ instanceId: 'i-0001', createdAt: T0 + 1 }),
          anInstance({ instanceId: 'i-0003', createdAt: T0 + 3 }),
        ]);
        const desc = (await store.instances.list()).items.map((i) => i.instanceId);
        expect(desc).toEqual(['i-0003', 'i-0002', 'i-0001']);
        const asc = (await store.instances.list({ order: 'asc' })).items.map((i) => i.instanceId);
        expect(asc).toEqual(['i-0001', 'i-0002', 'i-0003']);
      });

      it('lists exports by backup and by instance', async () => {
        await store.exports.createMany([
          anExport({ id: 'exp-1', backupId: 'bp-1', instanceId: 'i-1', createdAt: T0 + 1 }),
          anExport({ id: 'exp-2', backupId: 'bp-2', instanceId: 'i-1', createdAt: T0 + 2 }),
          anExport({ id: 'exp-3', backupId: 'bp-1', instanceId: 'i-2', createdAt: T0 + 3 }),
        ]);
        expect(ids((await store.exports.list({ backupId: 'bp-1' })).items)).toEqual(['exp-3', 'exp-1']);
        expect(ids((await store.exports.list({ instanceId: 'i-1' })).items)).toEqual(['exp-2', 'exp-1']);
        expect(ids((await store.exports.list({ backupId: 'bp-1', instanceId: 'i-1' })).items)).toEqual([
          'exp-1',
        ]);
        expect(ids((await store.exports.list({}, { order: 'asc' })).items)).toEqual([
          'exp-1',
          'exp-2',
          'exp-3',
        ]);
      });
    });

    describe('idempotency records', () => {
      it('stores a record once; a second put answers `exists` with the first', async () => {
        const rec = anIdempotencyRecord({ key: 'key-1' });
        expect(await store.idempotency.put(rec)).toEqual({ ok: true, value: rec });
        const again = await store.idempotency.put({ ...rec, requestHash: 'sha256:bbbb', statusCode: 409 });
        expect(again).toEqual({ ok: false, reason: 'exists', current: rec });
        expect(await store.idempotency.get('key-1')).toEqual(rec);
      });

      it('treats a record past its expiry as absent when a new request reuses the key', async () => {
        const old = anIdempotencyRecord({ key: 'key-1', createdAt: T0, expireAt: T0 + DAY });
        await store.idempotency.put(old);
        const fresh = anIdempotencyRecord({
          key: 'key-1',
          createdAt: T0 + DAY,
          expireAt: T0 + 2 * DAY,
          body: 'new',
        });
        expect(await store.idempotency.put(fresh)).toEqual({ ok: true, value: fresh });
        expect(await store.idempotency.get('key-1')).toEqual(fresh);
      });

      it('lets exactly one of concurrent puts of one key win', async () => {
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, n) =>
            store.idempotency.put(anIdempotencyRecord({ key: 'k', body: `b${n}` })),
          ),
        );
        expect(results.filter((r) => r.ok)).toHaveLength(1);
      });
    });

    describe('cursor paging', () => {
      it('pages through every row exactly once in both orders', async () => {
        // Three jobs share each createdAt, so the id must break ties.
        await store.jobs.createMany(
          Array.from({ length: 31 }, (_, n) =>
            aJob({ id: seq('job-', n), createdAt: T0 + Math.floor(n / 3) }),
          ),
        );
        for (const order of ['asc', 'desc'] as const) {
          const pages = await collect((p) => store.jobs.list({}, p), { limit: 7, order });
          expect(pages.map((p) => p.length)).toEqual([7, 7, 7, 7, 3]);
          const seen = pages.flat();
          const expected = Array.from({ length: 31 }, (_, n) => seq('job-', n));
          expect(ids(seen)).toEqual(order === 'asc' ? expected : [...expected].reverse());
        }
      });

      it('ends without a cursor when the last page is exactly full', async () => {
        await store.exports.createMany(
          Array.from({ length: 6 }, (_, n) => anExport({ id: seq('exp-', n), createdAt: T0 + n })),
        );
        const pages = await collect((p) => store.exports.list({}, p), { limit: 3 });
        expect(pages.map((p) => p.length)).toEqual([3, 3]);
      });

      it('neither skips nor repeats rows while others are inserted between and during pages', async () => {
        const original = Array.from({ length: 40 }, (_, n) =>
          aPoint({ id: seq('bp-a', n), completedAt: T0 + Math.floor(n / 4) * MINUTE }),
        );
        await store.points.createMany(original);
        let extra = 0;
        const insertSome = async (): Promise<void> => {
          // Newer, older, and equal sort keys with ids on both sides of existing ones.
          const t = T0 + (extra % 10) * MINUTE;
          extra += 1;
          await Promise.all([
            store.points.create(aPoint({ id: seq('bp-z', extra), completedAt: t })),
            store.points.create(aPoint({ id: seq('bp-0', extra), completedAt: t })),
            store.points.create(aPoint({ id: seq('bp-n', extra), completedAt: T0 + DAY + extra })),
            store.points.create(aPoint({ id: seq('bp-o', extra), completedAt: T0 - DAY - extra })),
          ]);
        };
        for (const order of ['desc', 'asc'] as const) {
          const seen: BackupPoint[] = [];
          let cursor: string | undefined;
          do {
            const [page] = await Promise.all([
              store.points.list({ instanceId: 'i-abcd0001' }, { limit: 6, order, cursor }),
              insertSome(),
            ]);
            seen.push(...page.items);
            cursor = page.cursor;
            await insertSome();
          } while (cursor !== undefined);
          const seenIds = ids(seen);
          expect(new Set(seenIds).size).toBe(seenIds.length);
          for (const p of original) expect(seenIds).toContain(p.id);
          // Strictly monotonic in (completedAt, id): nothing went backwards.
          for (let n = 1; n < seen.length; n += 1) {
            const a = seen[n - 1];
            const b = seen[n];
            if (!a || !b) throw new Error('unreachable');
            const cmp = a.completedAt - b.completedAt || (a.id < b.id ? -1 : 1);
            expect(order === 'asc' ? cmp < 0 : cmp > 0).toBe(true);
          }
        }
      });

      it('expired() paging neither skips nor repeats while points are added', async () => {
        await store.points.createMany(
          Array.from({ length: 25 }, (_, n) =>
            aPoint({ id: seq('bp-', n), effectiveExpireAt: T0 + Math.floor(n / 5) }),
          ),
        );
        const seen: string[] = [];
        let cursor: string | undefined;
        let round = 0;
        do {
          round += 1;
          const page = await store.points.expired(T0 + DAY, 4, cursor);
          seen.push(...ids(page.items));
          cursor = page.cursor;
          // One behind the cursor (must not appear), one ahead of it (may appear, once).
          await Promise.all([
            store.points.create(aPoint({ id: seq('bp-early', round), effectiveExpireAt: T0 - round })),
            store.points.create(aPoint({ id: seq('bp-late', round), effectiveExpireAt: T0 + 10 + round })),
          ]);
        } while (cursor !== undefined);
        expect(new Set(seen).size).toBe(seen.length);
        expect(seen.filter((id) => !id.startsWith('bp-early') && !id.startsWith('bp-late'))).toEqual(
          Array.from({ length: 25 }, (_, n) => seq('bp-', n)),
        );
        expect(seen.some((id) => id.startsWith('bp-late'))).toBe(true);
      });

      it('clamps the limit and refuses a cursor it did not make', async () => {
        await store.jobs.createMany([aJob({ id: 'job-1' }), aJob({ id: 'job-2' })]);
        expect((await store.jobs.list({}, { limit: 0 })).items).toHaveLength(1);
        expect((await store.jobs.list({}, { limit: -5 })).items).toHaveLength(1);
        await expect(store.jobs.list({}, { cursor: 'not-a-cursor' })).rejects.toMatchObject({
          name: 'ValidationError',
        });
      });
    });

    describe('subscriptions and deliveries', () => {
      it("lists subscriptions newest first and a subscription's deliveries only, in pages", async () => {
        for (let n = 0; n < 3; n += 1) {
          expectOk(
            await store.subscriptions.create(aSubscription({ id: seq('sub-', n), createdAt: T0 + n })),
          );
        }
        for (let n = 0; n < 5; n += 1) {
          await store.deliveries.create(
            aDelivery({ id: seq('dl-a-', n), subscriptionId: 'sub-a', createdAt: T0 + n }),
          );
        }
        await store.deliveries.create(aDelivery({ id: 'dl-b-0', subscriptionId: 'sub-b', createdAt: T0 }));

        expect(ids((await store.subscriptions.list()).items)).toEqual([
          seq('sub-', 2),
          seq('sub-', 1),
          seq('sub-', 0),
        ]);
        const pages = await collect((p) => store.deliveries.list('sub-a', p), { limit: 2, order: 'asc' });
        expect(pages.map(ids)).toEqual([
          [seq('dl-a-', 0), seq('dl-a-', 1)],
          [seq('dl-a-', 2), seq('dl-a-', 3)],
          [seq('dl-a-', 4)],
        ]);
        expect(ids((await store.deliveries.list('sub-b')).items)).toEqual(['dl-b-0']);
      });

      it('keeps a delivery once per id and updates it on its version', async () => {
        const first = expectOk(
          await store.deliveries.create(aDelivery({ id: 'dl-1', subscriptionId: 'sub-a' })),
        );
        const again = await store.deliveries.create(
          aDelivery({ id: 'dl-1', subscriptionId: 'sub-a', status: 'DEAD' }),
        );
        expect(again).toMatchObject({ ok: false, reason: 'exists', current: { status: 'PENDING' } });
        expectOk(await store.deliveries.update({ ...first, status: 'DELIVERED', nextAttemptAt: null }, 1));
        expect(await store.deliveries.update({ ...first, status: 'DEAD' }, 1)).toMatchObject({
          reason: 'conflict',
        });
        expect(await store.deliveries.get('dl-1')).toMatchObject({ status: 'DELIVERED', version: 2 });
        expectOk(await store.subscriptions.create(aSubscription({ id: 'sub-x' })));
        expect(await store.subscriptions.delete('sub-x')).toEqual({ ok: true, value: undefined });
        expect(await store.subscriptions.get('sub-x')).toBeUndefined();
      });
    });

    describe('protection rules and the instances a rule protects', () => {
      it('lists rules newest first, updates them on their version, deletes them', async () => {
        for (let n = 0; n < 3; n += 1) {
          expectOk(await store.protectionRules.create(aRule({ id: seq('rule-', n), createdAt: T0 + n })));
        }
        expect(ids((await store.protectionRules.list()).items)).toEqual([
          seq('rule-', 2),
          seq('rule-', 1),
          seq('rule-', 0),
        ]);
        const pages = await collect((p) => store.protectionRules.list(p), { limit: 2, order: 'asc' });
        expect(pages.map(ids)).toEqual([[seq('rule-', 0), seq('rule-', 1)], [seq('rule-', 2)]]);
        const first = (await store.protectionRules.get(seq('rule-', 0)))!;
        const changed = { ...first, status: { ...first.status, matched: 7 } };
        expectOk(await store.protectionRules.update(changed, 1));
        expect(await store.protectionRules.update(changed, 1)).toMatchObject({
          ok: false,
          reason: 'conflict',
        });
        expect(await store.protectionRules.get(seq('rule-', 0))).toMatchObject({
          status: { matched: 7 },
          match: { tags: { env: 'prod' } },
          version: 2,
        });
        expect(await store.protectionRules.delete(seq('rule-', 0), 2)).toEqual({
          ok: true,
          value: undefined,
        });
        expect(await store.protectionRules.get(seq('rule-', 0))).toBeUndefined();
      });

      it("lists a rule's instances only, in pages, and drops an instance from the list when the rule lets go", async () => {
        await store.instances.createMany([
          anInstance({ instanceId: 'i-r001', createdAt: T0 + 1, ruleId: 'rule-a', ruleRevision: 1 }),
          anInstance({ instanceId: 'i-r002', createdAt: T0 + 2, ruleId: 'rule-b', ruleRevision: 1 }),
          anInstance({ instanceId: 'i-r003', createdAt: T0 + 3, ruleId: 'rule-a', ruleRevision: 1 }),
          anInstance({ instanceId: 'i-r004', createdAt: T0 + 4 }),
          anInstance({ instanceId: 'i-r005', createdAt: T0 + 5, ruleId: 'rule-a', ruleRevision: 1 }),
        ]);
        const byId = (items: { instanceId: string }[]) => items.map((i) => i.instanceId);
        const pages = await collect((p) => store.instances.listByRule('rule-a', p), {
          limit: 2,
          order: 'asc',
        });
        expect(pages.map(byId)).toEqual([['i-r001', 'i-r003'], ['i-r005']]);
        expect(byId((await store.instances.listByRule('rule-b')).items)).toEqual(['i-r002']);
        const row = (await store.instances.get('i-r003'))!;
        const { ruleId: _r, ruleRevision: _v, ...byHand } = row;
        expectOk(await store.instances.update(byHand, row.version));
        expect(byId((await store.instances.listByRule('rule-a')).items)).toEqual(['i-r005', 'i-r001']);
        expect((await store.instances.get('i-r003'))?.ruleId).toBeUndefined();
        expect((await store.instances.list()).items).toHaveLength(5);
      });
    });

    describe('locked points and copy expiries (the sweeps read only what they act on)', () => {
      const lock = { mode: 'compliance' as const, lockedAt: T0, overrides: [] };

      it('locked: AVAILABLE or DELETE_FAILED points with a lock still in force, ascending, in pages', async () => {
        await store.points.createMany([
          aPoint({ id: 'bp-l1', effectiveExpireAt: T0 + 3 * DAY, lock }),
          aPoint({ id: 'bp-l2', effectiveExpireAt: T0 + 1 * DAY, lock }),
          aPoint({ id: 'bp-l3', effectiveExpireAt: T0 + 2 * DAY, lock, status: 'DELETE_FAILED' }),
          aPoint({ id: 'bp-l4', effectiveExpireAt: T0 + 2 * DAY, lock, status: 'DELETED' }),
          aPoint({ id: 'bp-u1', effectiveExpireAt: T0 + 2 * DAY }),
          aPoint({ id: 'bp-u2', effectiveExpireAt: T0 + 4 * DAY }),
        ]);
        const pages = await collect((p) => store.points.locked(T0, p.limit ?? 10, p.cursor), { limit: 2 });
        expect(pages.map(ids)).toEqual([['bp-l2', 'bp-l3'], ['bp-l1']]);
        // A lock whose expiry has passed no longer binds: the drift check leaves it to retention.
        expect(ids((await store.points.locked(T0 + 2 * DAY, 10)).items)).toEqual(['bp-l1']);
        // Retention still finds locked points once they expire, merged in order with the others.
        expect(ids((await store.points.expired(T0 + 3 * DAY, 10)).items)).toEqual([
          'bp-l2',
          'bp-l3',
          'bp-u1',
          'bp-l1',
        ]);
        const first = await store.points.expired(T0 + 3 * DAY, 3);
        expect(ids(first.items)).toEqual(['bp-l2', 'bp-l3', 'bp-u1']);
        expect(ids((await store.points.expired(T0 + 3 * DAY, 3, first.cursor)).items)).toEqual(['bp-l1']);
        const l1 = (await store.points.get('bp-l1'))!;
        expectOk(await store.points.update({ ...l1, status: 'DELETED' }, l1.version));
        expect(ids((await store.points.locked(T0, 10)).items)).toEqual(['bp-l2', 'bp-l3']);
      });

      it('copy expiries: due rows ascending by expireAt, in pages, moved and deleted on their version', async () => {
        const row = (id: string, expireAt: number) => ({
          id,
          pointId: id.split('@')[0] as string,
          regionId: id.split('@')[1] as string,
          expireAt,
          version: 0,
        });
        for (const [id, at] of [
          ['bp-1@cn-shanghai', T0 + 3 * DAY],
          ['bp-1@cn-beijing', T0 + 1 * DAY],
          ['bp-2@cn-shanghai', T0 + 2 * DAY],
          ['bp-3@cn-shanghai', T0 + 9 * DAY],
        ] as const) {
          expectOk(await store.copyExpiries.create(row(id, at)));
        }
        expect(await store.copyExpiries.create(row('bp-1@cn-beijing', T0))).toMatchObject({
          ok: false,
          reason: 'exists',
        });
        const pages = await collect((p) => store.copyExpiries.due(T0 + 3 * DAY, p.limit ?? 10, p.cursor), {
          limit: 2,
        });
        expect(pages.map(ids)).toEqual([['bp-1@cn-beijing', 'bp-2@cn-shanghai'], ['bp-1@cn-shanghai']]);
        expect(ids((await store.copyExpiries.due(T0 + DAY - 1, 10)).items)).toEqual([]);
        const moved = (await store.copyExpiries.get('bp-1@cn-beijing'))!;
        expectOk(await store.copyExpiries.update({ ...moved, expireAt: T0 + 5 * DAY }, moved.version));
        expect(await store.copyExpiries.update({ ...moved, expireAt: T0 }, moved.version)).toMatchObject({
          reason: 'conflict',
        });
        expectOk(await store.copyExpiries.delete('bp-2@cn-shanghai'));
        expect(ids((await store.copyExpiries.due(T0 + 5 * DAY, 10)).items)).toEqual([
          'bp-1@cn-shanghai',
          'bp-1@cn-beijing',
        ]);
      });
    });

    describe('restart', () => {
      it('loses nothing when the store is closed and opened again', async () => {
        const plan = expectOk(await store.plans.create(aPlan({ id: 'plan-1', nextRunAt: T0 })));
        expectOk(await store.plans.update({ ...plan, name: 'renamed' }, plan.version));
        await store.jobs.createMany(
          Array.from({ length: 30 }, (_, n) => aJob({ id: seq('job-', n), createdAt: T0 + n })),
        );
        await store.points.create(aPoint({ id: 'bp-1', effectiveExpireAt: T0 }));
        await store.instances.create(anInstance({ instanceId: 'i-abcd0001' }));
        await store.exports.create(anExport({ id: 'exp-1' }));
        await store.idempotency.put(anIdempotencyRecord({ key: 'key-1' }));
        await store.jobs.delete(seq('job-', 3));

        store = await h.reopen();

        expect(await store.plans.get('plan-1')).toMatchObject({ name: 'renamed', version: 2 });
        expect(ids(await store.plans.dueBefore(T0, 10))).toEqual(['plan-1']);
        const jobs = (await collect((p) => store.jobs.list({}, p), { limit: 1000 })).flat();
        expect(jobs).toHaveLength(29);
        expect(ids(jobs)).not.toContain(seq('job-', 3));
        expect(ids((await store.points.expired(T0, 10)).items)).toEqual(['bp-1']);
        expect(await store.instances.get('i-abcd0001')).toMatchObject({ version: 1 });
        expect(await store.exports.get('exp-1')).toMatchObject({ version: 1 });
        expect(await store.idempotency.get('key-1')).toMatchObject({ statusCode: 201 });
        // Versions continue where they were: a stale writer still loses after the restart.
        expect(await store.plans.update({ ...plan, name: 'stale' }, 1)).toMatchObject({ reason: 'conflict' });
      });
    });
  });
}
