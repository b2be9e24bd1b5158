import EcsDefault, * as Ecs from '@alicloud/ecs20140526';
import * as $OpenApi from '@alicloud/openapi-client';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_ACCESS_KEY_ID,
  DEFAULT_ACCESS_KEY_SECRET,
  percentEncode,
  rpcSignature,
  startEcsEmulator,
  type BulkSeedSpec,
} from '../../local/ecs-emulator/index.js';

interface BenchResult {
  name: string;
  value: number;
  unit: string;
  target?: string;
  pass?: boolean;
}

type ClientClass = typeof EcsDefault.default;
const Client = (typeof EcsDefault === 'function' ? EcsDefault : EcsDefault.default) as ClientClass;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
};
const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Runs `total` calls with `concurrency` in flight; returns calls per second. */
async function throughput(
  total: number,
  concurrency: number,
  call: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        await call(i);
      }
    }),
  );
  return (total * 1000) / (performance.now() - started);
}

async function latencies(n: number, call: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await call(i);
    out.push(performance.now() - t);
  }
  return out;
}

interface Target {
  endpoint: string;
  url: string;
  regionId: string;
  close(): Promise<void>;
}

const SEED: BulkSeedSpec = {
  instances: 10_000,
  disksPerInstance: 2,
  snapshots: 100_000,
  tags: { 'ecs-backup:managed-by': 'ecs-backup' },
};

/** `npm run emulator` in its own process, as a separate emulator runs beside the engine. */
async function startChild(dataDir: string): Promise<Target> {
  const main = fileURLToPath(new URL('../../local/ecs-emulator/main.ts', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', main, '--reset'], {
    env: { ...process.env, ECS_EMULATOR_PORT: '0', ECS_EMULATOR_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /endpoint\s+(127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
  });
  child.stdout?.resume();
  return {
    endpoint,
    url: `http://${endpoint}`,
    regionId: 'cn-hangzhou',
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** A minimal v2-signing client: shows what the emulator serves when the SDK's own cost is left out. */
function rawDescribeGroups(target: Target, agent: http.Agent, ids: string[]): Promise<void> {
  const params: Record<string, string> = {
    Action: 'DescribeSnapshotGroups',
    Version: '2014-05-26',
    Format: 'JSON',
    AccessKeyId: DEFAULT_ACCESS_KEY_ID,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: randomUUID(),
    Timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    RegionId: target.regionId,
  };
  ids.forEach((id, i) => (params[`SnapshotGroupId.${i + 1}`] = id));
  params['Signature'] = rpcSignature('GET', params, DEFAULT_ACCESS_KEY_SECRET);
  const query = Object.entries(params)
    .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
    .join('&');
  const [host, port] = target.endpoint.split(':');
  return new Promise((resolve, reject) => {
    http
      .get({ host, port: Number(port), path: `/?${query}`, agent }, (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
        );
      })
      .on('error', reject);
  });
}

async function measure(target: Target, label: string, withLatency: boolean): Promise<BenchResult[]> {
  const region = target.regionId;
  const ecs = new Client(
    new $OpenApi.Config({
      accessKeyId: DEFAULT_ACCESS_KEY_ID,
      accessKeySecret: DEFAULT_ACCESS_KEY_SECRET,
      endpoint: target.endpoint,
      protocol: 'http',
      regionId: region,
    }),
  );
  const seedStarted = performance.now();
  const res = await fetch(`${target.url}/__admin/bulkSeed`, { method: 'POST', body: JSON.stringify(SEED) });
  const seeded = (await res.json()) as {
    instanceIds: string[];
    diskIds: string[];
    snapshotGroupIds: string[];
  };
  const seedMs = performance.now() - seedStarted;
  const groups = seeded.snapshotGroupIds;
  const tenGroups = (i: number): string[] =>
    Array.from({ length: 10 }, (_, k) => groups[(i * 10 + k) % groups.length] as string);
  const describeGroups = (i: number): Promise<unknown> =>
    ecs.describeSnapshotGroups(
      new Ecs.DescribeSnapshotGroupsRequest({ regionId: region, snapshotGroupId: tenGroups(i) }),
    );

  // Warm up the SDK and the server, and let the collector clear the bulk seed garbage, before measuring.
  await throughput(2000, 8, describeGroups);
  const rates: number[] = [];
  for (let run = 0; run < 5; run++) rates.push(await throughput(3000, 8, describeGroups));
  const rate = median(rates);
  const agent = new http.Agent({ keepAlive: true });
  const rawRates: number[] = [];
  for (let run = 0; run < 3; run++)
    rawRates.push(await throughput(3000, 8, (i) => rawDescribeGroups(target, agent, tenGroups(i))));
  agent.destroy();
  const out: BenchResult[] = [
    {
      name: `ecs-emulator (${label}): DescribeSnapshotGroups through the SDK, 10 ids, 8 in flight`,
      value: round(rate, 0),
      unit: 'req/s',
      ...(withLatency ? { target: '>= 2000', pass: rate >= 2000 } : {}),
    },
    {
      name: `ecs-emulator (${label}): DescribeSnapshotGroups, minimal signing client, 10 ids, 8 in flight`,
      value: round(median(rawRates), 0),
      unit: 'req/s',
    },
  ];
  if (!withLatency) return out;

  const byGroupIds = await latencies(300, describeGroups);
  const byInstance = await latencies(200, (i) =>
    ecs.describeSnapshotGroups(
      new Ecs.DescribeSnapshotGroupsRequest({
        regionId: region,
        instanceId: seeded.instanceIds[(i * 37) % seeded.instanceIds.length],
        maxResults: 100,
      }),
    ),
  );
  const byDiskAndTag = await latencies(200, (i) =>
    ecs.describeSnapshots(
      new Ecs.DescribeSnapshotsRequest({
        regionId: region,
        diskId: seeded.diskIds[(i * 53) % seeded.diskIds.length],
        tag: [{ key: 'ecs-backup:managed-by', value: 'ecs-backup' }],
        maxResults: 100,
      }),
    ),
  );
  const hundredInstances = await latencies(100, (i) =>
    ecs.describeInstances(
      new Ecs.DescribeInstancesRequest({
        regionId: region,
        instanceIds: JSON.stringify(
          Array.from(
            { length: 100 },
            (_, k) => seeded.instanceIds[(i * 100 + k) % seeded.instanceIds.length],
          ),
        ),
        pageSize: 100,
      }),
    ),
  );
  const fullScan = await latencies(20, () =>
    ecs.describeSnapshots(
      new Ecs.DescribeSnapshotsRequest({ regionId: region, status: 'accomplished', pageSize: 100 }),
    ),
  );
  out.push(
    {
      name: 'ecs-emulator: bulk seed 10,000 instances / 20,000 disks / 100,000 snapshots (admin API)',
      value: round(seedMs / 1000),
      unit: 's',
    },
    {
      name: 'ecs-emulator: DescribeSnapshotGroups by 10 ids, median latency (100k snapshots)',
      value: round(median(byGroupIds)),
      unit: 'ms',
    },
    {
      name: 'ecs-emulator: DescribeSnapshotGroups by 10 ids, p95 latency (100k snapshots)',
      value: round(percentile(byGroupIds, 95)),
      unit: 'ms',
    },
    {
      name: 'ecs-emulator: DescribeSnapshotGroups by instance, median latency',
      value: round(median(byInstance)),
      unit: 'ms',
    },
    {
      name: 'ecs-emulator: DescribeSnapshots by disk + tag, median latency',
      value: round(median(byDiskAndTag)),
      unit: 'ms',
    },
    {
      name: 'ecs-emulator: DescribeInstances by 100 ids, median latency (10k instances)',
      value: round(median(hundredInstances)),
      unit: 'ms',
    },
    {
      name: 'ecs-emulator: DescribeSnapshots status filter over 100k (full scan), median latency',
      value: round(median(fullScan)),
      unit: 'ms',
    },
  );
  return out;
}

/**
 * DescribeSnapshotGroups throughput through the official SDK and lookup latency with
 * 10,000 instances and 100,000 snapshots (bulk-seeded through the admin API, not the API).
 * The target applies in one process, as `npm start` and the engine's benchmarks run the emulator
 * beside the engine; the separate-process figure (`npm run emulator`) is for comparison.
 */
export default async function benchEcsEmulator(): Promise<BenchResult[]> {
  const inProcDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecs-emu-bench-'));
  const childDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecs-emu-bench-'));
  const results: BenchResult[] = [];
  const emu = await startEcsEmulator({ dataDir: inProcDir });
  try {
    results.push(...(await measure(emu, 'same process as the client', true)));
  } finally {
    await emu.close();
    fs.rmSync(inProcDir, { recursive: true, force: true });
  }
  const child = await startChild(childDir);
  try {
    results.push(...(await measure(child, 'own process', false)));
  } finally {
    await child.close();
    fs.rmSync(childDir, { recursive: true, force: true });
  }
  return results;
}
