import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { openSqliteStore, type SqliteStore } from '../../lib/adapters/sqlite/index.js';
import type { BackupPoint, Plan } from '../../lib/domain/model.js';
import { DAY, MINUTE, T0, aPlan, aPoint } from '../contract/support/store-fixtures.js';

/**
 * SQLite hot queries at scale: plans due in the next minute and expired backup points, each on a
 * large table and on one ten times smaller with the same number of results. Equal times mean the
 * cost follows the result, not the table. `npm run bench -- store`.
 */

interface BenchRow {
  name: string;
  value: number;
  unit: string;
  target?: string;
  pass?: boolean;
}

const NOW = T0 + 30 * DAY;
const DUE_PLANS = 100;
const EXPIRED_POINTS = 10_000;
const SEED_CHUNK = 25_000;

/** Deterministic PRNG (mulberry32) so every run seeds the same rows. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * One timed call in a frame of its own. Awaited directly in the loop below, a result stays reachable
 * from the suspended loop until the next await completes, so every run would also pay for the GC
 * copying the previous run's 10,000 points, which no caller holds on to.
 */
async function timeOnce(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function timeMedian(runs: number, warmup: number, fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < warmup; i += 1) await timeOnce(fn);
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) times.push(await timeOnce(fn));
  return median(times);
}

/** `due` of `total` plans fall in the next minute, spread randomly through the insert order. */
async function seedPlans(store: SqliteStore, total: number, due: number): Promise<number> {
  const rnd = prng(total);
  const dueAt = new Set<number>();
  while (dueAt.size < due) dueAt.add(Math.floor(rnd() * total));
  const started = performance.now();
  for (let base = 0; base < total; base += SEED_CHUNK) {
    const chunk: Plan[] = [];
    for (let n = base; n < Math.min(total, base + SEED_CHUNK); n += 1) {
      const suspended = !dueAt.has(n) && rnd() < 0.1;
      chunk.push(
        aPlan({
          id: `plan-${n.toString(36).padStart(8, '0')}`,
          instanceId: `i-${(n % 50_000).toString(36).padStart(8, '0')}`,
          createdAt: T0 + n,
          state: suspended ? 'SUSPENDED' : 'ACTIVE',
          nextRunAt: suspended
            ? null
            : dueAt.has(n)
              ? NOW + Math.floor(rnd() * MINUTE)
              : NOW + 2 * MINUTE + Math.floor(rnd() * 7 * DAY),
        }),
      );
    }
    await store.plans.createMany(chunk);
  }
  return (total / (performance.now() - started)) * 1000;
}

/** `expired` of `total` points are past their expiry; a tenth of the rest are already deleted. */
async function seedPoints(store: SqliteStore, total: number, expired: number): Promise<number> {
  const rnd = prng(total + 1);
  const expiredAt = new Set<number>();
  while (expiredAt.size < expired) expiredAt.add(Math.floor(rnd() * total));
  const started = performance.now();
  for (let base = 0; base < total; base += SEED_CHUNK) {
    const chunk: BackupPoint[] = [];
    for (let n = base; n < Math.min(total, base + SEED_CHUNK); n += 1) {
      const isExpired = expiredAt.has(n);
      const completedAt = T0 + Math.floor(rnd() * 30 * DAY);
      const deleted = !isExpired && rnd() < 0.1;
      chunk.push(
        aPoint({
          id: `bp-${n.toString(36).padStart(8, '0')}`,
          instanceId: `i-${(n % 50_000).toString(36).padStart(8, '0')}`,
          completedAt,
          status: deleted ? 'DELETED' : 'AVAILABLE',
          effectiveExpireAt:
            isExpired || deleted ? NOW - 1 - Math.floor(rnd() * DAY) : NOW + 1 + Math.floor(rnd() * 90 * DAY),
        }),
      );
    }
    await store.points.createMany(chunk);
  }
  return (total / (performance.now() - started)) * 1000;
}

/** The timed query must hand back whole, usable points, not a cheaper projection of them. */
function assertFullPoints(points: BackupPoint[]): void {
  let previous = -Infinity;
  for (const p of points) {
    const whole =
      p.version === 1 &&
      p.status === 'AVAILABLE' &&
      p.effectiveExpireAt <= NOW &&
      p.effectiveExpireAt >= previous &&
      p.snapshots[0]?.snapshotId === `s-${p.id}` &&
      p.consistency.achieved === 'crash' &&
      p.jobId === `job-${p.id}` &&
      Array.isArray(p.inUseBy);
    if (!whole) throw new Error(`expired() returned an incomplete or misordered point: ${JSON.stringify(p)}`);
    previous = p.effectiveExpireAt;
  }
}

async function withStore<T>(fn: (store: SqliteStore) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ecsb-store-bench-'));
  const store = openSqliteStore(path.join(dir, 'state.db'), { synchronous: 'NORMAL' });
  try {
    return await fn(store);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function plansDue(total: number): Promise<{ ms: number; seedRate: number }> {
  return withStore(async (store) => {
    const seedRate = await seedPlans(store, total, DUE_PLANS);
    const check = await store.plans.dueBefore(NOW + MINUTE, 1000);
    if (check.length !== DUE_PLANS) throw new Error(`expected ${DUE_PLANS} due plans, got ${check.length}`);
    const ms = await timeMedian(201, 20, () => store.plans.dueBefore(NOW + MINUTE, 1000));
    return { ms, seedRate };
  });
}

async function expiredPoints(total: number): Promise<{ ms: number; ms1k: number; seedRate: number }> {
  return withStore(async (store) => {
    const seedRate = await seedPoints(store, total, EXPIRED_POINTS);
    const check = await store.points.expired(NOW, EXPIRED_POINTS);
    if (check.items.length !== EXPIRED_POINTS || check.cursor !== undefined) {
      throw new Error(`expected ${EXPIRED_POINTS} expired points, got ${check.items.length}`);
    }
    assertFullPoints(check.items);
    const ms = await timeMedian(41, 3, () => store.points.expired(NOW, EXPIRED_POINTS));
    const ms1k = await timeMedian(51, 5, () => store.points.expired(NOW, 1000));
    return { ms, ms1k, seedRate };
  });
}

export default async function storeBench(): Promise<BenchRow[]> {
  const bigPlans = await plansDue(100_000);
  const smallPlans = await plansDue(10_000);
  const bigPoints = await expiredPoints(1_000_000);
  const smallPoints = await expiredPoints(100_000);
  const ratio = (a: number, b: number) => a / b;
  return [
    {
      name: `sqlite: ${DUE_PLANS} plans due in the next minute, of 100,000 (median)`,
      value: bigPlans.ms,
      unit: 'ms',
      target: '< 10 ms',
      pass: bigPlans.ms < 10,
    },
    { name: `sqlite: ${DUE_PLANS} plans due, of 10,000 (median)`, value: smallPlans.ms, unit: 'ms' },
    {
      name: 'sqlite: plans due, 100,000 / 10,000 table time ratio',
      value: ratio(bigPlans.ms, smallPlans.ms),
      unit: 'x',
      target: '< 2 (cost follows the result)',
      pass: ratio(bigPlans.ms, smallPlans.ms) < 2,
    },
    {
      name: `sqlite: ${EXPIRED_POINTS.toLocaleString('en')} expired points, of 1,000,000 (median)`,
      value: bigPoints.ms,
      unit: 'ms',
      target: '< 50 ms',
      pass: bigPoints.ms < 50,
    },
    {
      name: `sqlite: ${EXPIRED_POINTS.toLocaleString('en')} expired points, of 100,000 (median)`,
      value: smallPoints.ms,
      unit: 'ms',
    },
    {
      name: 'sqlite: expired points, 1,000,000 / 100,000 table time ratio',
      value: ratio(bigPoints.ms, smallPoints.ms),
      unit: 'x',
      target: '< 2 (cost follows the result)',
      pass: ratio(bigPoints.ms, smallPoints.ms) < 2,
    },
    { name: 'sqlite: first 1,000 expired points, of 1,000,000 (median)', value: bigPoints.ms1k, unit: 'ms' },
    {
      name: 'sqlite: bulk create (createMany, one transaction per 25,000), points',
      value: bigPoints.seedRate,
      unit: 'rows/s',
    },
    // A 2-core machine shared with other work: read the wall times against this.
    { name: 'machine load average (1 min) after the store benchmark', value: loadavg()[0] ?? 0, unit: '' },
  ];
}
