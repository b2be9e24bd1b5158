import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../../lib/adapters/sqlite/index.js';
import { scheduledJobId } from '../../lib/domain/job.js';
import type { BackupPoint, Plan } from '../../lib/domain/model.js';
import { newPlan } from '../../lib/domain/plan.js';
import type { Ecs } from '../../lib/ports/ecs.js';
import type { Deps } from '../../lib/runtime/deps.js';
import { silentLogger } from '../../lib/runtime/logger.js';
import { enforceRetention } from '../../lib/usecases/retention.js';
import { startLocalCloud, type LocalCloud } from '../../local/cloud.js';
import { SequentialIds } from '../support/clock.js';
import { ACTION_OF, auditEngine, type EngineAuditReport } from './engine-audit.js';

/**
 * The engine's numbers, on the local cloud: the real ECS emulator through the SDK, SQLite, the
 * embedded queue and the worker function. Two profiles, each printed before it runs:
 * - fast: snapshots of ~0.5 s and a 1 s poll, 10,000 scheduled backups (schedule accuracy,
 *   throughput, retention);
 * - realistic: snapshots of 60-300 s and the production 10 s poll interval, 1,000 backups in flight,
 *   on an accelerated clock (ENGINE_BENCH_TIME_SCALE simulated seconds per wall second, for the
 *   emulator's snapshot durations and the poll interval alike) so it runs in minutes.
 * ENGINE_BENCH_ONLY=schedule|rate|retention|realistic runs one part. Sizes can be scaled down with
 * ENGINE_BENCH_PLANS, ENGINE_BENCH_RATE_JOBS, ENGINE_BENCH_POINTS and ENGINE_BENCH_REALISTIC_JOBS.
 */
interface Row {
  name: string;
  value: number;
  unit: string;
  target?: string;
  pass?: boolean;
}

const PLANS = Number(process.env.ENGINE_BENCH_PLANS ?? 10_000);
const RATE_JOBS = Number(process.env.ENGINE_BENCH_RATE_JOBS ?? 300);
const POINTS = Number(process.env.ENGINE_BENCH_POINTS ?? 1_000_000);
const EXPIRED = Number(process.env.ENGINE_BENCH_EXPIRED ?? 10_000);
const REALISTIC_JOBS = Number(process.env.ENGINE_BENCH_REALISTIC_JOBS ?? 1_000);
const TIME_SCALE = Number(process.env.ENGINE_BENCH_TIME_SCALE ?? 2);
const MANAGED_BY = { 'ecs-backup:managed-by': 'ecs-backup' };

const log = (line: string) => process.stdout.write(`  [engine] ${line}\n`);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function benchCloud(settings: Record<string, string>, emulator: Record<string, unknown> = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsb-bench-'));
  const cloud = await startLocalCloud({
    dataDir,
    port: 0,
    fast: true,
    timers: false,
    settings: {
      WORKER_CONCURRENCY: '16',
      WORKER_BATCH_SIZE: '16',
      // Long enough that a worker waiting for its rate-limit slot is not redelivered meanwhile.
      QUEUE_VISIBILITY_TIMEOUT_SECONDS: '120',
      ...settings,
    },
    emulator: { snapshotBaseMs: 500, ...emulator },
  });
  return {
    cloud,
    async close() {
      await cloud.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function waitUntilIdle(cloud: LocalCloud, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await cloud.deps.store.jobs.list(
      { status: ['QUEUED', 'RUNNING', 'CANCELING'] },
      { limit: 1 },
    );
    if (open.items.length === 0) return true;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return false;
}

async function countJobs(deps: Deps, status: 'COMPLETE' | 'FAILED'): Promise<number> {
  let n = 0;
  let cursor: string | undefined;
  do {
    const page = await deps.store.jobs.list({ status }, { limit: 1000, cursor });
    n += page.items.length;
    cursor = page.cursor;
  } while (cursor);
  return n;
}

/** Numbers 1 and 2: schedule accuracy and ECS calls per backup, over PLANS scheduled backups. */
async function scheduleAccuracy(): Promise<Row[]> {
  // 10,000 backups in a minute is ~170 CreateSnapshotGroup/s: above the default client-side limit
  // (50/s per action), which would otherwise be what this measures.
  log(
    `profile fast: ${PLANS} plans over one minute, snapshots ~0.5 s (emulator snapshotBaseMs 500), ` +
      'poll interval 1 s, 48 worker invocations in flight, client ECS limit 1,000/s, 1,536 ECS requests open at most',
  );
  // 48 invocations stand for 48 FC instances, each with its own ECS client and in-flight cap; here
  // they share one client, so its cap is raised with them (the default 32 would cap the whole fleet).
  const { cloud, close } = await benchCloud({
    ECS_DEFAULT_RATE_PER_SECOND: '1000',
    ECS_MAX_IN_FLIGHT: String(48 * 32),
    WORKER_CONCURRENCY: '48',
  });
  try {
    const { deps, emulator } = cloud;
    log(`seeding ${PLANS} instances and plans`);
    const seeded = await emulator.admin.bulkSeed({ instances: PLANS, disksPerInstance: 2, snapshots: 0 });
    // Occurrences spread over one minute, starting 15 s out: one tick (look-ahead 90 s) hands them all over.
    const t0 = Math.ceil(Date.now() / 1000) * 1000 + 15_000;
    const ids = new SequentialIds();
    const plans: Plan[] = seeded.instanceIds.map((instanceId, i) => {
      const startAt = new Date(t0 + Math.floor((i * 60) / PLANS) * 1000)
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z');
      return newPlan(
        {
          instanceId,
          disks: 'all',
          schedule: { startAt, every: { value: 1, unit: 'days' } },
          retention: { value: 7, unit: 'days' },
        },
        ids,
        Date.now(),
        () => 0.5,
      );
    });
    const store = deps.store as typeof deps.store & { plans: { createMany?(p: Plan[]): Promise<unknown> } };
    for (let i = 0; i < plans.length; i += 1000) await store.plans.createMany!(plans.slice(i, i + 1000));
    const scheduledAtOf = new Map(plans.map((p) => [scheduledJobId(p.id, p.nextRunAt!), p.nextRunAt!]));

    // Time the snapshot request as the worker sees it answered: the emulator received it before that.
    const requested = new Map<string, number>();
    const inner = deps.ecs;
    deps.ecs = new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === 'createSnapshotGroup') {
          return async (request: Parameters<Ecs['createSnapshotGroup']>[0]) => {
            const id = await target.createSnapshotGroup(request);
            if (!requested.has(request.clientToken)) requested.set(request.clientToken, Date.now());
            return id;
          };
        }
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const callsBefore = (await emulator.admin.stats()).calls;

    // The scheduler timer as the local cloud fires it: every 10 s, each tick looking 90 s ahead.
    const tickStarted = Date.now();
    await cloud.tickScheduler();
    const tickMs = Date.now() - tickStarted;
    let enqueued = cloud.lastTick()?.enqueued ?? 0;
    log(`first scheduler tick handed ${enqueued} occurrences to the queue in ${tickMs} ms`);
    while (enqueued < PLANS && Date.now() < t0 + 120_000) {
      await new Promise((r) => setTimeout(r, 10_000));
      await cloud.tickScheduler();
      enqueued += cloud.lastTick()?.enqueued ?? 0;
    }
    const idle = await waitUntilIdle(cloud, 150_000);
    const completed = await countJobs(deps, 'COMPLETE');
    const failed = await countJobs(deps, 'FAILED');
    const stats = await emulator.admin.stats();
    const calls = stats.calls - callsBefore;
    log(`ECS calls by action: ${JSON.stringify(stats.callsByAction)}`);
    const delays = [...requested.entries()]
      .map(([jobId, at]) => at - (scheduledAtOf.get(jobId) ?? at))
      .sort((a, b) => a - b);
    log(
      `completed ${completed}/${PLANS} (failed ${failed}, idle=${idle}); delay p50 ${percentile(delays, 50)} ms`,
    );
    const p99 = percentile(delays, 99) / 1000;
    const perBackup = calls / Math.max(1, completed);
    return [
      {
        name: `schedule delay p99 (${PLANS} plans over 1 min)`,
        value: p99,
        unit: 's',
        target: '<= 1 s',
        pass: p99 <= 1 && completed === PLANS,
      },
      { name: 'schedule delay p50', value: percentile(delays, 50) / 1000, unit: 's' },
      { name: 'scheduler tick (first, look-ahead 90 s)', value: tickMs, unit: 'ms' },
      {
        name: `ECS calls per completed backup, fast profile (${completed} backups, 0.5 s snapshots, 1 s poll)`,
        value: perBackup,
        unit: 'calls',
        target: '<= 3',
        pass: perBackup <= 3 && failed === 0,
      },
    ];
  } finally {
    await close();
  }
}

/** Number 3: throughput under an emulator limit of 20 CreateSnapshotGroup per second. */
async function rateLimited(clientLimit: boolean): Promise<Row[]> {
  const limit = 20;
  const label = clientLimit ? 'client limit 20/s' : 'no client limit, server throttles';
  const { cloud, close } = await benchCloud(
    clientLimit ? { ECS_RATE_LIMITS: `CreateSnapshotGroup=${limit}` } : {},
  );
  try {
    const { deps, emulator } = cloud;
    const seeded = await emulator.admin.bulkSeed({ instances: RATE_JOBS, disksPerInstance: 2, snapshots: 0 });
    await emulator.admin.setRateLimit({ action: 'CreateSnapshotGroup', perSecond: limit });
    await emulator.admin.clearCalls();
    const { startBackupJob } = await import('../../lib/usecases/management/start-backup.js');
    const { onDemandParams } = await import('../../lib/usecases/management/job-params.js');
    log(`starting ${RATE_JOBS} backups at once against a limit of ${limit}/s`);
    for (const instanceId of seeded.instanceIds) {
      await startBackupJob(deps, { instanceId, planId: null, params: onDemandParams('all', null, {}) });
    }
    await waitUntilIdle(cloud, 150_000);
    const created = (await emulator.admin.calls({ action: 'CreateSnapshotGroup' }))
      .filter((c) => c.ok)
      .map((c) => c.at);
    created.sort((a, b) => a - b);
    const refused = (await emulator.admin.calls({ action: 'CreateSnapshotGroup' })).filter(
      (c) => !c.ok,
    ).length;
    const seconds = (created[created.length - 1]! - created[0]!) / 1000;
    const rate = (created.length - 1) / Math.max(seconds, 0.001);
    const failed = await countJobs(deps, 'FAILED');
    const completed = await countJobs(deps, 'COMPLETE');
    log(
      `${created.length} groups in ${seconds.toFixed(1)} s, ${refused} throttled answers, ${completed} complete, ${failed} failed`,
    );
    return [
      {
        name: `CreateSnapshotGroup sustained under a ${limit}/s limit (${RATE_JOBS} jobs, ${label})`,
        value: rate,
        unit: '/s',
        target: `>= ${limit * 0.9}/s`,
        pass: rate >= limit * 0.9,
      },
      {
        name: `failed jobs under the rate limit (${label})`,
        value: failed,
        unit: 'jobs',
        target: '0',
        pass: failed === 0 && completed === RATE_JOBS,
      },
    ];
  } finally {
    await close();
  }
}

/** Number 4: retention over `total` stored points of which EXPIRED have expired. */
async function retentionRun(total: number): Promise<{ ms: number; deleted: number }> {
  // ECS_DEFAULT_RATE_PER_SECOND (50/s) would make this a measure of the client-side limit alone.
  const { cloud, close } = await benchCloud({
    RETENTION_CONCURRENCY: '16',
    ECS_DEFAULT_RATE_PER_SECOND: '2000',
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsb-bench-points-'));
  const store = openSqliteStore(path.join(dir, 'points.sqlite'), { synchronous: 'NORMAL' });
  try {
    const instances = EXPIRED;
    const perInstance = Math.max(2, Math.floor(total / instances));
    // One real, tagged snapshot group per expired point; the live points never reach ECS.
    const seeded = await cloud.emulator.admin.bulkSeed({
      instances,
      disksPerInstance: 1,
      snapshots: instances,
      tags: MANAGED_BY,
    });
    const now = Date.now();
    const day = 86_400_000;
    const make = (instanceId: string, k: number, groupId: string | null): BackupPoint => {
      const expired = k === 0;
      const completedAt = expired ? now - 30 * day : now - (perInstance - k) * 3_600_000;
      const expireAt = expired ? now - 23 * day : now + 30 * day;
      return {
        id: `bk-${instanceId}-${k}`,
        instanceId,
        planId: null,
        jobId: `job-${instanceId}-${k}`,
        kind: 'group',
        snapshotGroupId: groupId ?? `ssg-live-${instanceId}-${k}`,
        snapshots: [
          {
            diskId: `d-${instanceId}`,
            snapshotId: `s-${instanceId}-${k}`,
            diskType: 'system',
            category: 'cloud_essd',
            sizeGiB: 40,
          },
        ],
        consistency: { requested: 'crash', achieved: 'crash', reason: null, freezeWindowMs: null },
        createdAt: completedAt - 1000,
        completedAt,
        expireAt,
        longTermUntil: null,
        longTermRule: null,
        effectiveExpireAt: expireAt,
        status: 'AVAILABLE',
        ours: true,
        inUseBy: [],
        lastError: null,
        version: 1,
      };
    };
    log(`storing ${instances * perInstance} points (${EXPIRED} expired)`);
    let batch: BackupPoint[] = [];
    for (let i = 0; i < instances; i += 1) {
      const instanceId = seeded.instanceIds[i]!;
      for (let k = 0; k < perInstance; k += 1) {
        batch.push(make(instanceId, k, k === 0 ? (seeded.snapshotGroupIds[i] ?? null) : null));
        if (batch.length >= 20_000) {
          await store.points.createMany(batch);
          batch = [];
        }
      }
    }
    if (batch.length > 0) await store.points.createMany(batch);
    const deps: Deps = { ...cloud.deps, store, log: silentLogger };
    const started = performance.now();
    const report = await enforceRetention(deps, Date.now());
    const ms = performance.now() - started;
    log(
      `retention over ${instances * perInstance} points: ${report.deleted} deleted in ${ms.toFixed(0)} ms (${report.failed.length} failed)`,
    );
    return { ms, deleted: report.deleted };
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
    await close();
  }
}

async function retentionScaling(): Promise<Row[]> {
  const large = await retentionRun(POINTS);
  const small = await retentionRun(Math.max(EXPIRED * 2, Math.floor(POINTS / 10)));
  const ratio = large.ms / small.ms;
  return [
    {
      name: `retention, ${POINTS} stored / ${EXPIRED} expired`,
      value: large.ms / 1000,
      unit: 's',
      pass: large.deleted === EXPIRED,
    },
    {
      name: `retention, ${Math.floor(POINTS / 10)} stored / ${EXPIRED} expired`,
      value: small.ms / 1000,
      unit: 's',
      pass: small.deleted === EXPIRED,
    },
    {
      name: 'retention time ratio (10x more stored)',
      value: ratio,
      unit: 'x',
      target: '<= 1.5x',
      pass: ratio <= 1.5,
    },
  ];
}

/** Per completed backup: ECS calls by action as the emulator received them, and where they came from. */
function logBreakdown(byAction: Record<string, number>, completed: number, report: EngineAuditReport): void {
  const per = (n: number) => (n / Math.max(1, completed)).toFixed(2);
  const rows = Object.entries(byAction).sort((a, b) => b[1] - a[1]);
  log(`ECS calls per completed backup, by action: ${rows.map(([a, n]) => `${a} ${per(n)}`).join(', ')}`);
  const asked: Record<string, number> = {};
  for (const [method, n] of Object.entries(report.byMethod)) {
    const action = ACTION_OF[method] ?? method;
    asked[action] = (asked[action] ?? 0) + n;
  }
  const retried = Object.fromEntries(
    rows.map(([a, n]) => [a, n - (asked[a] ?? 0)]).filter(([, n]) => n !== 0),
  );
  log(`adapter calls by method: ${JSON.stringify(report.byMethod)}`);
  log(`calls the emulator received beyond those asked (adapter retries): ${JSON.stringify(retried)}`);
  log(`instance-scoped calls by the job's state at the time: ${JSON.stringify(report.byJobState)}`);
  log(`instances by number of disk reads: ${JSON.stringify(report.diskReadsPerInstance)}`);
  log(
    `job writes lost to another delivery, by the step they tried to write: ${JSON.stringify(report.lostWrites)}`,
  );
}

/** Where many intervals overlap most: the peak number of backups in flight at once. */
function peakOverlap(intervals: [number, number][]): number {
  const edges = intervals.flatMap(([a, b]): [number, number][] => [
    [a, 1],
    [b, -1],
  ]);
  edges.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let open = 0;
  let peak = 0;
  for (const [, d] of edges) peak = Math.max(peak, (open += d));
  return peak;
}

/**
 * The realistic profile: snapshots of 60-300 s, the production poll interval of 10 s, and
 * REALISTIC_JOBS backups in flight together, so the batched status reads have to amortize. Wall time
 * runs TIME_SCALE times slower than simulated time for both sides: the emulator's snapshot durations
 * are divided by it and the poll interval is 10 s / TIME_SCALE, which keeps polls per snapshot and
 * the overlap between jobs as in production.
 */
async function realisticRun(): Promise<Row[]> {
  const productionPollSeconds = 10;
  const wallPollSeconds = productionPollSeconds / TIME_SCALE;
  if (!Number.isInteger(wallPollSeconds) || wallPollSeconds < 1)
    throw new Error(
      `ENGINE_BENCH_TIME_SCALE must divide 10 into whole seconds (1, 2, 5 or 10), not ${TIME_SCALE}`,
    );
  log(
    `profile realistic: ${REALISTIC_JOBS} backups started at once, snapshots 60-300 s, poll interval ` +
      `${productionPollSeconds} s (production), clock x${TIME_SCALE}: ${wallPollSeconds} s wall per poll, ` +
      '48 worker invocations in flight sharing one ECS client, at most 32 ECS requests open (the default)',
  );
  const { cloud, close } = await benchCloud({
    ECS_DEFAULT_RATE_PER_SECOND: '1000',
    WORKER_CONCURRENCY: '48',
    POLL_INTERVAL_SECONDS: String(wallPollSeconds),
  });
  try {
    const { deps, emulator } = cloud;
    const seeded = await emulator.admin.bulkSeed({
      instances: REALISTIC_JOBS,
      disksPerInstance: 2,
      snapshots: 0,
    });
    await emulator.admin.setSnapshotSpeed({
      baseMs: 60_000,
      spreadMs: 240_000,
      bytesPerSec: 0,
      timeScale: TIME_SCALE,
    });
    // Count the poll rounds the jobs make (each writes the job at its poll step), to show the poll
    // interval really held: an engine that falls behind polls less often and would flatter the ratio.
    // The audit also says which job state each instance-scoped call was made in.
    const audit = auditEngine(deps);
    const { startBackupJob } = await import('../../lib/usecases/management/start-backup.js');
    const { onDemandParams } = await import('../../lib/usecases/management/job-params.js');
    const callsBefore = (await emulator.admin.stats()).calls;
    const started = Date.now();
    for (let i = 0; i < seeded.instanceIds.length; i += 50) {
      await Promise.all(
        seeded.instanceIds
          .slice(i, i + 50)
          .map((instanceId) =>
            startBackupJob(deps, { instanceId, planId: null, params: onDemandParams('all', null, {}) }),
          ),
      );
    }
    log(`${REALISTIC_JOBS} backups queued in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const idle = await waitUntilIdle(cloud, 900_000);
    const stats = await emulator.admin.stats();
    const calls = stats.calls - callsBefore;
    const completed = await countJobs(deps, 'COMPLETE');
    const failed = await countJobs(deps, 'FAILED');
    const jobs = (await deps.store.jobs.list({ status: 'COMPLETE' }, { limit: REALISTIC_JOBS + 10 })).items;
    const spans = jobs
      .filter((j) => j.startedAt !== null && j.finishedAt !== null)
      .map((j): [number, number] => [j.startedAt!, j.finishedAt!]);
    const peak = peakOverlap(spans);
    const meanSimulatedS =
      (spans.reduce((a, [s, e]) => a + (e - s), 0) / Math.max(1, spans.length) / 1000) * TIME_SCALE;
    const report = audit.report();
    const pollsPerBackup = report.polls / Math.max(1, completed);
    const perBackup = calls / Math.max(1, completed);
    logBreakdown(stats.callsByAction, completed, report);
    const refused: Record<string, number> = {};
    for (const c of await emulator.admin.calls({ since: started })) {
      if (!c.ok)
        refused[`${c.action} ${c.code ?? c.status}`] =
          (refused[`${c.action} ${c.code ?? c.status}`] ?? 0) + 1;
    }
    log(`ECS calls refused: ${JSON.stringify(refused)}`);
    log(
      `completed ${completed}/${REALISTIC_JOBS} (failed ${failed}, idle=${idle}) in ${((Date.now() - started) / 1000).toFixed(0)} s wall; ` +
        `peak ${peak} in flight; mean job ${meanSimulatedS.toFixed(0)} s simulated; ${pollsPerBackup.toFixed(1)} polls per backup ` +
        `(one per ${(meanSimulatedS / Math.max(1, pollsPerBackup)).toFixed(1)} s simulated)`,
    );
    return [
      {
        name: `ECS calls per completed backup, realistic profile (${completed} backups, 60-300 s snapshots, 10 s poll, peak ${peak} in flight)`,
        value: perBackup,
        unit: 'calls',
        target: '<= 3',
        pass:
          perBackup <= 3 &&
          failed === 0 &&
          completed === REALISTIC_JOBS &&
          peak >= Math.min(1000, REALISTIC_JOBS),
      },
      { name: 'realistic profile: poll rounds per backup', value: pollsPerBackup, unit: 'polls' },
      { name: 'realistic profile: mean backup duration (simulated)', value: meanSimulatedS, unit: 's' },
    ];
  } finally {
    await close();
  }
}

export default async function engineBench(): Promise<Row[]> {
  const only = process.env.ENGINE_BENCH_ONLY;
  const rows: Row[] = [];
  if (!only || only === 'schedule') rows.push(...(await scheduleAccuracy()));
  if (!only || only === 'rate') rows.push(...(await rateLimited(true)), ...(await rateLimited(false)));
  if (!only || only === 'retention') rows.push(...(await retentionScaling()));
  if (!only || only === 'realistic') rows.push(...(await realisticRun()));
  return rows;
}
