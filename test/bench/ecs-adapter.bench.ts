import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { createEcsAdapter } from '../../lib/adapters/ecs/index.js';
import { startEcsEmulator } from '../../local/ecs-emulator/index.js';
import { cleanup, runGuest } from '../scripts/harness.js';

/**
 * ECS adapter numbers: SDK cold-start import cost (typed client vs the generic OpenAPI client the
 * adapter uses), adapter call rate and latency against the local emulator, and the freeze window
 * of the Linux guest script with stubbed fsfreeze/curl.
 */

interface Row {
  name: string;
  value: number;
  unit: string;
  target?: string;
  pass?: boolean;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

/** Time to require a module in a fresh Node process, measured inside it (process start excluded). */
function importMs(modules: string[]): number {
  const code = `const t=process.hrtime.bigint();${modules.map((m) => `require(${JSON.stringify(m)});`).join('')}process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  return Number(execFileSync(process.execPath, ['-e', code], { encoding: 'utf8' }));
}

export default async function bench(): Promise<Row[]> {
  const rows: Row[] = [];
  const runs = 7;
  const typed: number[] = [];
  const generic: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    typed.push(importMs(['@alicloud/ecs20140526']));
    generic.push(importMs(['@alicloud/openapi-client', '@alicloud/openapi-util']));
  }
  rows.push({ name: 'cold import @alicloud/ecs20140526 (typed client)', value: median(typed), unit: 'ms' });
  rows.push({
    name: 'cold import @alicloud/openapi-client + openapi-util (adapter)',
    value: median(generic),
    unit: 'ms',
    target: '< typed client',
    pass: median(generic) < median(typed),
  });

  const dataDir = await mkdtemp(path.join('/var/tmp', 'ecsb-bench-ecs-'));
  const emu = await startEcsEmulator({ dataDir, seed: { instances: [] } });
  try {
    const seeded = await emu.admin.bulkSeed({
      instances: 200,
      disksPerInstance: 2,
      snapshots: 400,
      category: 'cloud_essd',
    });
    const ecs = createEcsAdapter({
      endpoint: emu.endpoint,
      protocol: 'http',
      regionId: emu.regionId,
      credentials: { accessKeyId: emu.accessKeyId, accessKeySecret: emu.accessKeySecret },
      defaultRatePerSecond: 1e6,
    });
    const ids = seeded.snapshotGroupIds.slice(0, 10);
    for (let i = 0; i < 20; i += 1) await ecs.describeSnapshotGroups(ids);
    const latencies: number[] = [];
    const started = performance.now();
    while (performance.now() - started < 3000) {
      const t = performance.now();
      await ecs.describeSnapshotGroups(ids);
      latencies.push(performance.now() - t);
    }
    const seconds = (performance.now() - started) / 1000;
    rows.push({
      name: 'adapter DescribeSnapshotGroups (10 groups), sequential',
      value: latencies.length / seconds,
      unit: 'calls/s',
    });
    rows.push({ name: 'adapter DescribeSnapshotGroups latency p50', value: median(latencies), unit: 'ms' });
    rows.push({
      name: 'adapter DescribeSnapshotGroups latency p99',
      value: percentile(latencies, 99),
      unit: 'ms',
    });
  } finally {
    await emu.close();
    await rm(dataDir, { recursive: true, force: true });
  }

  const freeze: number[] = [];
  const total: number[] = [];
  for (let i = 0; i < 7; i += 1) {
    const r = await runGuest({});
    if (r.result.freezeMs !== null) freeze.push(r.result.freezeMs);
    total.push(r.elapsedMs);
    await cleanup(r.dir);
  }
  rows.push({
    name: 'linux guest script freeze window (3 file systems, stub fsfreeze/curl)',
    value: median(freeze),
    unit: 'ms',
    target: '< 1000',
    pass: median(freeze) < 1000,
  });
  rows.push({ name: 'linux guest script whole run (stubs)', value: median(total), unit: 'ms' });
  return rows;
}
