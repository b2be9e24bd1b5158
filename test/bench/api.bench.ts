import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openEmbeddedQueue } from '../../lib/adapters/embedded-queue/index.js';
import { openSqliteStore } from '../../lib/adapters/sqlite/index.js';
import { RandomIds, SystemClock } from '../../lib/adapters/system.js';
import { loadSettings } from '../../lib/config.js';
import type { BackupPoint, Job } from '../../lib/domain/model.js';
import { createHandler } from '../../functions/api/index.js';
import { startHttpBridge } from '../../local/http-bridge.js';
import { createEcsAdapter } from '../../lib/adapters/ecs/index.js';
import { startEcsEmulator } from '../../local/ecs-emulator/index.js';

/**
 * p99 latency of the two busiest reads, GET /jobs and GET /backups (a page of 50), with 100,000 jobs
 * and 100,000 backup points stored, through the HTTP bridge that plays FC's HTTP trigger on
 * loopback. Each round sends REQUESTS sequential requests per query; the reported value is the median
 * of the rounds' p99s.
 */

const ROWS = 100_000;
const INSTANCES = 200;
const REQUESTS = 400;
const ROUNDS = 3;
const TARGET_MS = 20;
const TOKEN = 'bench-token-0123456789abcdef';
const DAY = 86_400_000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function instanceOf(n: number): string {
  return `i-bench${String(n % INSTANCES).padStart(5, '0')}`;
}

function job(n: number, now: number): Job {
  const createdAt = now - 90 * DAY + n * 77;
  const statuses = ['COMPLETE', 'COMPLETE', 'COMPLETE', 'PARTIAL_COMPLETE', 'FAILED', 'SKIPPED'] as const;
  return {
    id: `job-bench-${String(n).padStart(7, '0')}`,
    type: 'backup',
    status: statuses[n % statuses.length]!,
    instanceId: instanceOf(n),
    planId: `plan-bench-${n % INSTANCES}`,
    scheduledAt: createdAt,
    step: 'done',
    progress: 100,
    cancelRequested: false,
    reason: null,
    params: {
      disks: 'all',
      retention: { value: 30, unit: 'days' },
      longTerm: [],
      consistency: { applicationConsistent: true, fsFreeze: true, windowsWriters: true, timeoutSeconds: 30 },
      timeZone: 'UTC',
      keepLatest: true,
      trigger: 'schedule',
    },
    state: {
      snapshotGroupId: `ssg-bench-${n}`,
      pointId: `pt-bench-${String(n).padStart(7, '0')}`,
      notes: [],
    },
    errors: [],
    attempts: 1,
    createdAt,
    updatedAt: createdAt + 60_000,
    startedAt: createdAt,
    finishedAt: createdAt + 60_000,
    version: 4,
  };
}

function point(n: number, now: number): BackupPoint {
  const completedAt = now - 90 * DAY + n * 77 + 60_000;
  return {
    id: `pt-bench-${String(n).padStart(7, '0')}`,
    instanceId: instanceOf(n),
    planId: `plan-bench-${n % INSTANCES}`,
    jobId: `job-bench-${String(n).padStart(7, '0')}`,
    kind: 'group',
    snapshotGroupId: `ssg-bench-${n}`,
    snapshots: [
      {
        diskId: `d-bench${n % INSTANCES}a`,
        snapshotId: `s-bench-${n}a`,
        diskType: 'system',
        category: 'cloud_essd',
        sizeGiB: 40,
      },
      {
        diskId: `d-bench${n % INSTANCES}b`,
        snapshotId: `s-bench-${n}b`,
        diskType: 'data',
        category: 'cloud_essd',
        sizeGiB: 200,
      },
    ],
    consistency: { requested: 'application', achieved: 'application', reason: null, freezeWindowMs: 850 },
    createdAt: completedAt - 60_000,
    completedAt,
    expireAt: completedAt + 30 * DAY,
    longTermUntil: null,
    longTermRule: null,
    effectiveExpireAt: completedAt + 30 * DAY,
    status: 'AVAILABLE',
    ours: true,
    inUseBy: [],
    lastError: null,
    version: 1,
  };
}

async function latencies(url: string, requests: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < requests; i += 1) {
    const started = performance.now();
    const r = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    const body = (await r.json()) as { items?: unknown[] };
    out.push(performance.now() - started);
    if (r.status !== 200 || body.items?.length !== 50)
      throw new Error(`unexpected answer ${r.status} from ${url}`);
  }
  return out;
}

export default async function apiBench() {
  const dir = await mkdtemp(path.join(tmpdir(), 'ecsb-api-bench-'));
  const file = path.join(dir, 'state.db');
  const clock = new SystemClock();
  const store = openSqliteStore(file, { synchronous: 'NORMAL' });
  const queue = openEmbeddedQueue(file, 'ecs-backup-jobs', {
    visibilityTimeoutSeconds: 60,
    maxReceiveCount: 5,
  });
  const dlq = openEmbeddedQueue(file, 'ecs-backup-jobs-dlq', {
    visibilityTimeoutSeconds: 60,
    maxReceiveCount: 1000,
  });
  let bridge: Awaited<ReturnType<typeof startHttpBridge>> | undefined;
  const emulator = await startEcsEmulator({
    dataDir: path.join(dir, 'ecs'),
    seed: {
      instances: [{ instanceId: 'i-bench00000', disks: [{ diskId: 'd-bench0a', category: 'cloud_essd' }] }],
    },
  });
  try {
    const now = clock.now();
    const seedStarted = performance.now();
    for (let start = 0; start < ROWS; start += 10_000) {
      const n = Array.from({ length: 10_000 }, (_, i) => start + i);
      await store.jobs.createMany(n.map((i) => job(i, now)));
      await store.points.createMany(n.map((i) => point(i, now)));
    }
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    const handler = createHandler({
      store,
      jobQueue: queue,
      deadLetterQueue: dlq,
      ecs: createEcsAdapter({
        endpoint: emulator.url,
        regionId: emulator.regionId,
        credentials: { accessKeyId: emulator.accessKeyId, accessKeySecret: emulator.accessKeySecret },
      }),
      clock,
      ids: new RandomIds(),
      settings: loadSettings({ API_TOKEN: TOKEN, DATA_DIR: dir }),
      log: { info: () => undefined, warn: () => undefined, error: (m, f) => console.error(m, f) },
    });
    bridge = await startHttpBridge({ handler });
    const queries: [string, string][] = [
      ['GET /jobs?limit=50', `${bridge.url}/api/v1/jobs?limit=50`],
      ['GET /backups?limit=50', `${bridge.url}/api/v1/backups?limit=50`],
      [
        'GET /jobs?limit=50&instanceId=…&status=COMPLETE',
        `${bridge.url}/api/v1/jobs?limit=50&instanceId=${instanceOf(7)}&status=COMPLETE`,
      ],
    ];
    // A deep page: the cursor of page 1,000 (50,000 rows in), to show keyset paging does not slow down.
    let cursor: string | null = null;
    for (let page = 0; page < 1000; page += 1) {
      const r: Response = await fetch(
        `${bridge.url}/api/v1/backups?limit=50${cursor === null ? '' : `&cursor=${cursor}`}`,
        {
          headers: { authorization: `Bearer ${TOKEN}` },
        },
      );
      cursor = ((await r.json()) as { nextCursor: string }).nextCursor;
      if (page % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    queries.push([
      'GET /backups?limit=50&cursor=<page 1000>',
      `${bridge.url}/api/v1/backups?limit=50&cursor=${cursor}`,
    ]);

    const rows = [];
    for (const [name, url] of queries) {
      await latencies(url, 50);
      const p99s: number[] = [];
      const p50s: number[] = [];
      for (let round = 0; round < ROUNDS; round += 1) {
        const l = await latencies(url, REQUESTS);
        p99s.push(percentile(l, 99));
        p50s.push(percentile(l, 50));
      }
      const p99 = median(p99s);
      rows.push({
        name: `api ${name} p99 (100k rows)`,
        value: p99,
        unit: 'ms',
        target: `<= ${TARGET_MS} ms`,
        pass: p99 <= TARGET_MS,
      });
      rows.push({ name: `api ${name} p50 (100k rows)`, value: median(p50s), unit: 'ms' });
    }
    rows.push({ name: 'api bench seed 100k jobs + 100k points', value: seedSeconds, unit: 's' });
    return rows;
  } finally {
    await bridge?.close();
    await queue.close();
    await dlq.close();
    await store.close();
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  }
}
