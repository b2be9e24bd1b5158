import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createEcsAdapter } from '../../lib/adapters/ecs/index.js';
import { openEmbeddedQueue } from '../../lib/adapters/embedded-queue/index.js';
import { openSqliteStore } from '../../lib/adapters/sqlite/index.js';
import { SystemClock } from '../../lib/adapters/system.js';
import { loadSettings } from '../../lib/config.js';
import { silentLogger } from '../../lib/runtime/logger.js';
import type { Deps } from '../../lib/usecases/deps.js';
import { reconcileProtectionRules } from '../../lib/usecases/protection-rules/reconcile.js';
import { createRule } from '../../lib/usecases/protection-rules/rules.js';
import { startEcsEmulator } from '../../local/ecs-emulator/index.js';
import { SequentialIds } from '../support/clock.js';

/**
 * ECS calls and time of one protection-rule reconciliation with 10,000 instances in the emulator,
 * N of them carrying the rule's tag. The first tick protects the N (one plan each); later ticks find
 * nothing to do. Profile: the emulator in this process (seeded through its HTTP admin API), the real
 * ECS adapter with its client-side limit raised out of the way, SQLite on a temporary file
 * (synchronous NORMAL), the embedded queue; one rule `env=prod`, a daily plan.
 */

interface BenchResult {
  name: string;
  value: number;
  unit: string;
  target?: string;
  pass?: boolean;
}

const INSTANCES = 10_000;
const STEADY_TICKS = 5;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

async function oneSize(matching: number): Promise<BenchResult[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ecsb-fleet-bench-'));
  const emu = await startEcsEmulator({ dataDir: path.join(dir, 'ecs'), seed: {} });
  try {
    const seed = async (instances: number, tags: Record<string, string>) => {
      const res = await fetch(`${emu.url}/__admin/bulkSeed`, {
        method: 'POST',
        body: JSON.stringify({ instances, snapshots: 0, disksPerInstance: 1, tags }),
      });
      if (!res.ok) throw new Error(`bulkSeed answered ${res.status}`);
    };
    await seed(INSTANCES - matching, { env: 'dev' });
    await seed(matching, { env: 'prod', app: 'web' });
    const clock = new SystemClock();
    const file = path.join(dir, 'state.db');
    const store = openSqliteStore(file, { synchronous: 'NORMAL' });
    const queue = openEmbeddedQueue(
      file,
      'jobs',
      { visibilityTimeoutSeconds: 60, maxReceiveCount: 5 },
      clock,
    );
    const dlq = openEmbeddedQueue(
      file,
      'dlq',
      { visibilityTimeoutSeconds: 60, maxReceiveCount: 1000 },
      clock,
    );
    const deps: Deps = {
      store,
      jobQueue: queue,
      deadLetterQueue: dlq,
      ecs: createEcsAdapter({
        endpoint: emu.url,
        regionId: emu.regionId,
        credentials: { accessKeyId: emu.accessKeyId, accessKeySecret: emu.accessKeySecret },
        defaultRatePerSecond: 100_000,
        burst: 1000,
      }),
      clock,
      ids: new SequentialIds(),
      settings: loadSettings({ DATA_DIR: dir }),
      log: silentLogger,
    };
    const created = await createRule(deps, {
      name: 'prod-web',
      priority: 10,
      match: { tags: { env: 'prod' } },
      disks: 'all',
      plan: {
        schedule: { startAt: '2027-01-01T02:00:00+08:00', every: { value: 1, unit: 'days' } },
        retention: { value: 30, unit: 'days' },
        longTerm: [],
        consistency: {
          applicationConsistent: false,
          fsFreeze: true,
          windowsWriters: true,
          timeoutSeconds: 30,
          onPreScriptFailure: 'continue',
          onAgentUnavailable: 'continue',
        },
        timeZone: 'UTC',
        keepLatest: true,
      },
      onUnmatch: 'keep',
    });
    if (!created.ok) throw new Error('rule refused');

    const tick = async () => {
      await emu.admin.clearCalls();
      const started = performance.now();
      const report = await reconcileProtectionRules(deps);
      const ms = performance.now() - started;
      const calls = (await emu.admin.stats()).calls;
      return { report, ms, calls };
    };
    const first = await tick();
    if (first.report.protected !== matching) {
      throw new Error(`first tick protected ${first.report.protected} of ${matching}`);
    }
    const steady: { ms: number; calls: number }[] = [];
    for (let i = 0; i < STEADY_TICKS; i += 1) {
      const t = await tick();
      if (t.report.protected + t.report.updated + t.report.released !== 0)
        throw new Error('steady tick changed');
      steady.push(t);
    }
    const pages = Math.max(1, Math.ceil(matching / 100));
    console.log(
      `  fleet, N=${matching}: first tick ${first.calls} ECS calls, ${round(first.ms)} ms; ` +
        `steady ticks ${steady.map((s) => s.calls).join('/')} calls, ${steady.map((s) => round(s.ms)).join('/')} ms`,
    );
    await queue.close();
    await dlq.close();
    await store.close();
    const steadyCalls = median(steady.map((s) => s.calls));
    return [
      {
        name: `fleet: ECS calls per tick, ${INSTANCES} instances, ${matching} matching (steady)`,
        value: steadyCalls,
        unit: 'calls',
        target: `= ceil(N/100) = ${pages}`,
        pass: steadyCalls === pages,
      },
      {
        name: `fleet: first tick protecting ${matching} (ECS calls / time)`,
        value: first.calls,
        unit: `calls, ${round(first.ms)} ms`,
      },
      {
        name: `fleet: steady tick time, median of ${STEADY_TICKS}, ${matching} matching`,
        value: round(median(steady.map((s) => s.ms))),
        unit: 'ms',
        target: '≤ 2000 ms',
        pass: median(steady.map((s) => s.ms)) <= 2000,
      },
    ];
  } finally {
    await emu.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export default async function bench(): Promise<BenchResult[]> {
  console.log(
    `  profile: ${INSTANCES} emulated instances (in process, seeded by its admin API), real ECS adapter, ` +
      'SQLite file (synchronous NORMAL), embedded queue, one rule env=prod',
  );
  const rows: BenchResult[] = [];
  for (const n of [100, 1000]) rows.push(...(await oneSize(n)));
  return rows;
}
