import { afterEach, describe, expect, it } from 'vitest';
import type { PointCopy } from '../../../lib/domain/copies.js';
import type { Store } from '../../../lib/ports/store.js';
import { enforceCopyRetention } from '../../../lib/usecases/copy/copy-retention.js';
import type { Deps } from '../../../lib/usecases/deps.js';
import { checkLockDrift } from '../../../lib/usecases/lock-drift.js';
import { DAY, T0, aJob, aPoint } from '../../contract/support/store-fixtures.js';
import { harness, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const REGION = 'cn-other';
const NOW = T0 + 10 * DAY;
const lock = { mode: 'compliance' as const, lockedAt: T0, overrides: [] };

/** The store with every row it hands out counted, per collection. */
function counting(store: Store): { store: Store; rows: Map<string, number> } {
  const rows = new Map<string, number>();
  const count = (name: string, answer: unknown) => {
    const n =
      answer === undefined
        ? 0
        : Array.isArray(answer)
          ? answer.length
          : typeof answer === 'object' && answer !== null && 'items' in answer
            ? (answer as { items: unknown[] }).items.length
            : 1;
    rows.set(name, (rows.get(name) ?? 0) + n);
  };
  const wrapped = new Proxy(store, {
    get(target, name, receiver) {
      const collection = Reflect.get(target, name, receiver) as unknown;
      if (typeof collection !== 'object' || collection === null) return collection;
      return new Proxy(collection, {
        get(c, method, r) {
          const fn = Reflect.get(c, method, r) as unknown;
          if (typeof fn !== 'function') return fn;
          return async (...args: unknown[]) => {
            const answer = (await (fn as (...a: unknown[]) => Promise<unknown>).apply(c, args)) as unknown;
            if (/^(get|getMany|list|due|locked|expired)$/.test(String(method))) count(String(name), answer);
            return answer;
          };
        },
      });
    },
  });
  return { store: wrapped, rows };
}

const copyOf = (pointId: string, expireAt: number): PointCopy => ({
  regionId: REGION,
  jobId: `job-${pointId}.copy`,
  snapshotIds: [`s-copy-${pointId}`],
  status: 'available',
  expireAt,
  reason: null,
});

/**
 * `unrelated` backups that neither sweep acts on (unlocked, copies not yet due) with their completed
 * copy jobs, plus the same few the sweeps do act on: 3 locked backups, 2 copies due.
 */
async function seed(unrelated: number): Promise<void> {
  const points = h.deps.store.points as Store['points'] & { createMany(items: unknown[]): Promise<unknown> };
  const jobs = h.deps.store.jobs as Store['jobs'] & { createMany(items: unknown[]): Promise<unknown> };
  const later = NOW + 30 * DAY;
  const items = [
    ...Array.from({ length: unrelated }, (_, n) =>
      aPoint({ id: `bp-u${n}`, effectiveExpireAt: later, copies: [copyOf(`bp-u${n}`, later)] }),
    ),
    ...Array.from({ length: 3 }, (_, n) => aPoint({ id: `bp-l${n}`, effectiveExpireAt: later, lock })),
    ...Array.from({ length: 2 }, (_, n) =>
      aPoint({ id: `bp-c${n}`, effectiveExpireAt: later, copies: [copyOf(`bp-c${n}`, NOW - DAY)] }),
    ),
  ];
  await points.createMany(items);
  for (const p of items) {
    for (const c of p.copies ?? []) {
      await h.deps.store.copyExpiries.create({
        id: `${p.id}@${c.regionId}`,
        pointId: p.id,
        regionId: c.regionId,
        expireAt: c.expireAt,
        version: 0,
      });
    }
  }
  await jobs.createMany(
    Array.from({ length: unrelated }, (_, n) =>
      aJob({ id: `job-bp-u${n}.copy`, type: 'copy', status: 'COMPLETE', createdAt: T0 + n }),
    ),
  );
  // The copies due exist in their region, tagged as ours, so the sweep deletes them.
  const region = h.ecs.forRegion(REGION);
  for (let n = 0; n < 2; n += 1) {
    region.snapshots.set(`s-copy-bp-c${n}`, {
      snapshotId: `s-copy-bp-c${n}`,
      snapshotName: `copy-${n}`,
      sourceDiskId: 'd-sys0001',
      sourceDiskType: 'system',
      sourceDiskSizeGiB: 40,
      status: 'accomplished',
      progress: 100,
      createdAt: T0,
      tags: [{ key: 'ecs-backup:managed-by', value: 'ecs-backup' }],
      usage: 'none',
    });
  }
}

async function rowsReadBySweeps(unrelated: number): Promise<Map<string, number>> {
  h = harness();
  await seed(unrelated);
  const { store, rows } = counting(h.deps.store);
  const deps: Deps = { ...h.deps, store };
  const copies = await enforceCopyRetention(deps, NOW);
  expect(copies).toEqual({ deleted: 2, failed: [] });
  const drift = await checkLockDrift(deps, NOW);
  expect(drift.checked).toBe(3);
  expect(drift.drift.map((d) => d.pointId).sort()).toEqual(['bp-l0', 'bp-l1', 'bp-l2']);
  await h.close();
  return rows;
}

describe('retention sweeps read what they act on, not what is stored', () => {
  it('copy retention and the lock drift check read the same rows with 10 or 2,000 unrelated backups and copy jobs', async () => {
    const small = await rowsReadBySweeps(10);
    const large = await rowsReadBySweeps(2_000);
    expect(large).toEqual(small);
    // What is read: the 2 due copy rows, their points (read again to record each deletion), the
    // 3 locked points; no job at all.
    expect(small.get('copyExpiries')).toBe(2);
    expect(small.get('points')).toBeLessThan(20);
    expect(small.get('jobs') ?? 0).toBe(0);
  });
});
