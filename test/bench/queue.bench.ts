import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openEmbeddedQueue, type EmbeddedQueueOptions } from '../../lib/adapters/embedded-queue/index.js';
import { createMnsQueue } from '../../lib/adapters/mns/index.js';
import { SystemClock } from '../../lib/adapters/system.js';
import type { Queue } from '../../lib/ports/queue.js';
import { startMnsEmulator } from '../../local/mns-emulator/index.js';
import { provisionQueues } from '../../infra/queues.js';

/** Send + receive + delete cycles per second on the embedded queue (and, for scale, on MNS's emulator). */
const RUNS = 5;
const BODY = '{"v":1,"jobId":"job-0123456789abcdefghij"}';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function cycles(queue: Queue, count: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i += 1) {
    await queue.send(BODY);
    const [m] = await queue.receive();
    if (m === undefined) throw new Error('message lost');
    await queue.delete(m.receiptHandle);
  }
  return count / ((performance.now() - started) / 1000);
}

async function batchedCycles(queue: Queue, count: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i += 16) {
    for (let j = 0; j < 16; j += 1) await queue.send(BODY);
    const got = await queue.receive({ max: 16 });
    if (got.length !== 16) throw new Error(`expected 16 messages, got ${got.length}`);
    for (const m of got) await queue.delete(m.receiptHandle);
  }
  return count / ((performance.now() - started) / 1000);
}

async function embedded(
  options: EmbeddedQueueOptions,
  run: (q: Queue, n: number) => Promise<number>,
  count: number,
): Promise<number> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ecsb-queue-bench-'));
  try {
    const q = openEmbeddedQueue(
      path.join(dir, 'queue.db'),
      'bench',
      { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 },
      new SystemClock(),
      options,
    );
    await run(q, 200); // warm-up: statement caches, WAL file
    const rates: number[] = [];
    for (let r = 0; r < RUNS; r += 1) rates.push(await run(q, count));
    await q.close();
    return median(rates);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function mnsEmulator(count: number): Promise<number> {
  const key = { accessKeyId: 'bench', accessKeySecret: 'bench-secret' };
  const emulator = await startMnsEmulator(key);
  try {
    const connection = { endpoint: emulator.endpoint, ...key };
    await provisionQueues({
      ...connection,
      dryRun: false,
      queues: [
        {
          name: 'bench',
          visibilityTimeoutSeconds: 30,
          maximumMessageSize: 65_536,
          pollingWaitSeconds: 0,
          messageRetentionSeconds: 604_800,
        },
      ],
    });
    const q = createMnsQueue({
      ...connection,
      name: 'bench',
      settings: { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 },
    });
    await cycles(q, 50);
    const rates: number[] = [];
    for (let r = 0; r < RUNS; r += 1) rates.push(await cycles(q, count));
    await q.close();
    return median(rates);
  } finally {
    await emulator.close();
  }
}

export default async function queueBench() {
  const normal = await embedded({}, cycles, 5_000);
  const full = await embedded({ durability: 'full' }, cycles, 300);
  const batched = await embedded({}, batchedCycles, 8_000);
  const mns = await mnsEmulator(300);
  return [
    {
      name: 'embedded queue: send+receive+delete cycles (durability normal)',
      value: normal,
      unit: 'cycles/s',
      target: '>= 2000 cycles/s',
      pass: normal >= 2_000,
    },
    { name: 'embedded queue: cycles with durability full (fsync per commit)', value: full, unit: 'cycles/s' },
    { name: 'embedded queue: cycles in batches of 16 (receive max 16)', value: batched, unit: 'cycles/s' },
    { name: 'MNS adapter + SDK against the local emulator: cycles', value: mns, unit: 'cycles/s' },
  ];
}
