import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import path from 'node:path';
import { openEmbeddedQueue } from '../../lib/adapters/embedded-queue/index.js';
import type { FsObjectStore } from '../../lib/adapters/fs-object-store/index.js';
import { openSqliteStore } from '../../lib/adapters/sqlite/index.js';
import { RandomIds, SystemClock } from '../../lib/adapters/system.js';
import { loadSettings } from '../../lib/config.js';
import { newJob } from '../../lib/domain/job.js';
import type { Ecs } from '../../lib/ports/ecs.js';
import { archiveStep } from '../../lib/usecases/export/archive-step.js';
import { exportKeys, type ExportState } from '../../lib/usecases/export/state.js';
import { jobContext } from '../../lib/usecases/jobs/job-context.js';

const MB = 1024 * 1024;

/** `tar c | gzip -6` of the tree into a file: what one gzip stream of the same bytes costs here. */
function tarGzipSeconds(root: string, out: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/bash', ['-c', `tar c -C "${root}" . | gzip -6 > "${out}"`], {
      stdio: 'inherit',
    });
    child.on('exit', (code) =>
      code === 0 ? resolve((performance.now() - started) / 1000) : reject(new Error(`tar | gzip: ${code}`)),
    );
  });
}

/**
 * The export job's archive step on an export already in the store (`id`: its manifest and files),
 * run delivery after delivery as the worker would (256 MB of the tar stream each), the job recorded
 * in a fresh SQLite file. Returns its seconds, parts, deliveries, and how far the RSS rose.
 */
async function archiveOnce(dir: string, store: FsObjectStore, id: string, run: number) {
  const file = path.join(dir, `archive-${id}-${run}.db`);
  const db = openSqliteStore(file, { synchronous: 'NORMAL' });
  const clock = new SystemClock();
  const settings = loadSettings({ DATA_DIR: dir, EXPORT_ARCHIVE_DELIVERY_BYTES: String(256 * MB) });
  const deps = {
    store: db,
    jobQueue: openEmbeddedQueue(file, 'jobs', { visibilityTimeoutSeconds: 60, maxReceiveCount: 5 }),
    deadLetterQueue: openEmbeddedQueue(file, 'dlq', { visibilityTimeoutSeconds: 60, maxReceiveCount: 5 }),
    // The archive step never calls ECS.
    ecs: {} as Ecs,
    objectStore: store,
    clock,
    ids: new RandomIds(),
    settings,
    log: { info: () => undefined, warn: () => undefined, error: (m: string) => console.error(m) },
  };
  await store.delete(exportKeys(id).archive);
  const now = clock.now();
  const created = newJob({ id, type: 'export', instanceId: 'i-bench', params: { paths: ['/data'] } }, now);
  await db.jobs.create({ ...created, status: 'RUNNING', step: 'archive', startedAt: now, state: {} });
  const rssBefore = process.memoryUsage().rss;
  let rss = rssBefore;
  const sampler = setInterval(() => (rss = Math.max(rss, process.memoryUsage().rss)), 50);
  const started = performance.now();
  let deliveries = 0;
  try {
    for (;;) {
      deliveries += 1;
      const ctx = jobContext(deps);
      const job = (await db.jobs.get(id))!;
      ctx.current = job;
      const result = await archiveStep(ctx, job);
      if (result.next === 'stop') {
        if (result.job.status !== 'COMPLETE')
          throw new Error(`archive ended ${result.job.status}: ${result.job.reason}`);
        break;
      }
    }
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  const parts = ((await db.jobs.get(id))!.state as ExportState).archive?.parts ?? 0;
  db.close?.();
  return { seconds, parts, deliveries, rssGrowthMB: (rss - rssBefore) / MB };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * RUNS pairs, one after the other: the archive step (archiveOnce), then `tar c | gzip -6` of the
 * same tree. Returns the median throughputs, their ratio, and the largest RSS rise.
 */
export async function archiveRace(
  dir: string,
  store: FsObjectStore,
  id: string,
  root: string,
  bytes: number,
  runs: number,
) {
  const archive: number[] = [];
  const gzip: number[] = [];
  let last = { parts: 0, deliveries: 0 };
  let rssGrowthMB = 0;
  for (let r = 0; r < runs; r += 1) {
    const once = await archiveOnce(dir, store, id, r);
    archive.push(once.seconds);
    last = once;
    rssGrowthMB = Math.max(rssGrowthMB, once.rssGrowthMB);
    gzip.push(await tarGzipSeconds(root, path.join(dir, `${id}.tar.gz`)));
  }
  const archiveMBs = bytes / MB / median(archive);
  const gzipMBs = bytes / MB / median(gzip);
  const ratio = archiveMBs / gzipMBs;
  console.log(
    `  archive of ${id}: ${(bytes / MB).toFixed(0)} MB, medians of ${runs} runs; archive step ${median(archive).toFixed(1)} s (${archiveMBs.toFixed(1)} MB/s; runs ${archive.map((s) => s.toFixed(1)).join(', ')} s), ${last.parts} parts, ${last.deliveries} deliveries, RSS rise at most ${rssGrowthMB.toFixed(0)} MB; tar | gzip -6 ${median(gzip).toFixed(1)} s (${gzipMBs.toFixed(1)} MB/s; runs ${gzip.map((s) => s.toFixed(1)).join(', ')} s); ratio ${ratio.toFixed(2)}; load average ${loadavg()[0]!.toFixed(1)}`,
  );
  return { archiveMBs, ratio, rssGrowthMB, deliveries: last.deliveries };
}
