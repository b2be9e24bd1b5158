import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createFsObjectStore, type FsObjectStore } from '../../lib/adapters/fs-object-store/index.js';
import { serveSignedObject } from '../../lib/adapters/fs-object-store/serve.js';
import { openEmbeddedQueue } from '../../lib/adapters/embedded-queue/index.js';
import { openSqliteStore } from '../../lib/adapters/sqlite/index.js';
import { RandomIds, SystemClock } from '../../lib/adapters/system.js';
import { createEcsAdapter } from '../../lib/adapters/ecs/index.js';
import { loadSettings } from '../../lib/config.js';
import { newJob } from '../../lib/domain/job.js';
import { readExportOutput, renderLinuxExportScript, renderWorkList } from '../../lib/guest/render-export.js';
import { PACK_BYTES, PACK_FILE_BYTES, PACK_FILES, packCount } from '../../lib/usecases/export/packs.js';
import { exportKeys } from '../../lib/usecases/export/state.js';
import { hashPack, packsUsed } from '../../lib/usecases/export/pack-hashes.js';
import { parseManifest } from '../../lib/domain/export.js';
import { createHandler } from '../../functions/api/index.js';
import { startHttpBridge } from '../../local/http-bridge.js';

/**
 * Export throughput and browse latency. `npm run bench -- export`.
 *
 * Two trees, each exported by the real guest script through signed URLs into the local object
 * store over loopback HTTP, then sent by `tar c | curl -T` to the same store, EXPORT_BENCH_RUNS
 * (default 5) pairs one after the other; the ratio of their median throughputs is the number
 * (target ≥ 0.8 for both):
 * - mixed: EXPORT_BENCH_MB (default 1024) in 64 MB files and a tenth of it in 1 MB files;
 * - small: EXPORT_BENCH_FILES (default 10,000) files of 4 KB in one directory.
 * The export's time is the script's and the job's work after it (the manifest read, packed files
 * hashed from their packs); the disk steps of the job (create, attach, detach, delete) are ECS's and
 * not measured here.
 *
 * Browse: the small tree's manifest behind the API (HTTP bridge, auth, router), pages of 100 of its
 * 10,000-entry directory at random cursors; p99 of BROWSE_REQUESTS sequential requests.
 */

interface BenchRow {
  name: string;
  value: number;
  unit: string;
  target?: string;
  pass?: boolean;
}

const MB = 1024 * 1024;
const TOTAL_MB = Number(process.env.EXPORT_BENCH_MB ?? 1024);
const SMALL_FILES = Number(process.env.EXPORT_BENCH_FILES ?? 10_000);
const SMALL_BYTES = 4096;
const BROWSE_REQUESTS = 500;
/** Export and tar | curl runs per tree; the medians are compared. */
const RUNS = Number(process.env.EXPORT_BENCH_RUNS ?? 5);
const TOKEN = 'bench-token-0123456789abcdef';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Tree {
  root: string;
  files: number;
  bytes: number;
}

async function writer(root: string) {
  const tree: Tree = { root, files: 0, bytes: 0 };
  const write = async (rel: string, size: number) => {
    await fs.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await fs.writeFile(path.join(root, rel), randomBytes(size));
    tree.files += 1;
    tree.bytes += size;
  };
  return { tree, write };
}

/** The mixed tree: a tenth of the bytes in 1 MB files, the rest in 64 MB files. */
async function mixedTree(root: string): Promise<Tree> {
  const { tree, write } = await writer(root);
  const medium = Math.floor((TOTAL_MB * MB) / 10 / MB);
  for (let i = 0; i < medium; i += 1) await write(`data/medium/m${i}.bin`, MB);
  let left = TOTAL_MB * MB - tree.bytes;
  for (let i = 0; left > 0; i += 1) {
    const size = Math.min(64 * MB, left);
    await write(`data/big/b${i}.bin`, size);
    left -= size;
  }
  return tree;
}

/** The small tree: SMALL_FILES of 4 KB in one directory. */
async function smallTree(root: string): Promise<Tree> {
  const { tree, write } = await writer(root);
  for (let i = 0; i < SMALL_FILES; i += 1)
    await write(`data/many/f${String(i).padStart(5, '0')}.bin`, SMALL_BYTES);
  return tree;
}

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

/**
 * The guest script on `tree` as the job runs it (pack URLs and sizes included), then `tar c | curl`
 * of the same tree; both seconds. `mount` puts the tree at the mount point, as the guest sandbox
 * binds a disk.
 */
async function race(dir: string, store: FsObjectStore, id: string, tree: Tree) {
  const bin = path.join(dir, `bin-${id}`);
  await fs.mkdir(bin);
  await fs.writeFile(
    path.join(bin, 'mount'),
    `#!/bin/bash\n[ "$2" = ext4 ] || exit 32\ntarget="\${!#}"\nrmdir "$target" && ln -s "${tree.root}" "$target"\n`,
    { mode: 0o755 },
  );
  await fs.writeFile(path.join(bin, 'umount'), `#!/bin/bash\nrm -f "\${!#}"\n`, { mode: 0o755 });
  const env = { PATH: `${bin}:${process.env.PATH}` };
  const keys = exportKeys(id);
  const later = Date.now() + 3600_000;
  const uploads: string[] = [];
  for (let i = 0; i < tree.files; i += 1) uploads.push(await store.signedUrl(keys.blob(i), later, 'PUT'));
  const packs: string[] = [];
  for (let i = 0; i < packCount(tree.files, tree.bytes); i += 1)
    packs.push(await store.signedUrl(keys.pack(i), later, 'PUT'));
  await store.put(keys.work, renderWorkList(['/data'], uploads, packs));
  const mnt = path.join(dir, `mnt-${id}`);
  await fs.mkdir(mnt);
  const script = renderLinuxExportScript({
    devices: ['/dev/vdb'],
    workUrl: await store.signedUrl(keys.work, later),
    manifestUrl: await store.signedUrl(keys.manifest, later, 'PUT'),
    cancelUrl: await store.signedUrl(keys.cancel, later),
    mountBase: mnt,
    maxFiles: tree.files,
    maxBytes: Number.MAX_SAFE_INTEGER,
    pack: { fileBytes: PACK_FILE_BYTES, bytes: PACK_BYTES, files: PACK_FILES },
  });
  const tarUrl = await store.signedUrl(`bench/tar/${id}.tar`, later, 'PUT');
  const times = { script: [] as number[], job: [] as number[], export: [] as number[], tar: [] as number[] };
  // Pairs run one after the other, the medians compared: a shared machine's load comes and goes.
  for (let r = 0; r < RUNS; r += 1) {
    let started = performance.now();
    const exported = await run('/bin/bash', ['-c', script], env);
    const scriptSeconds = (performance.now() - started) / 1000;
    const summary = readExportOutput(exported.out);
    if (exported.code !== 0 || Number(summary.files) !== tree.files) {
      throw new Error(`the export script failed (${exported.code}): ${exported.out.slice(-500)}`);
    }
    // The job's share: the manifest read and the packed files hashed from their packs.
    started = performance.now();
    const manifest = parseManifest((await store.get(keys.manifest))!.toString('utf8'));
    for (let k = 0; k < packsUsed(manifest.entries); k += 1) {
      const hashed = await hashPack(store, id, manifest.entries, k);
      if (!hashed.ok) throw new Error(hashed.reason);
    }
    const jobSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    const tarred = await run(
      '/bin/bash',
      ['-c', `tar c -C "${tree.root}" . | curl -fsS -H 'Content-Type:' -T - -o /dev/null '${tarUrl}'`],
      env,
    );
    times.tar.push((performance.now() - started) / 1000);
    if (tarred.code !== 0) throw new Error(`tar | curl failed: ${tarred.out}`);
    times.script.push(scriptSeconds);
    times.job.push(jobSeconds);
    times.export.push(scriptSeconds + jobSeconds);
  }
  const [exportSeconds, scriptSeconds, jobSeconds, tarSeconds] = [
    times.export,
    times.script,
    times.job,
    times.tar,
  ].map((t) => percentile(t, 50)) as [number, number, number, number];
  const exportMBs = tree.bytes / MB / exportSeconds;
  const tarMBs = tree.bytes / MB / tarSeconds;
  const ratio = exportMBs / tarMBs;
  console.log(
    `  ${id}: ${(tree.bytes / MB).toFixed(0)} MB in ${tree.files} files, medians of ${RUNS} runs; export ${exportSeconds.toFixed(2)} s (script ${scriptSeconds.toFixed(2)} s, job ${jobSeconds.toFixed(2)} s; ${exportMBs.toFixed(1)} MB/s), tar | curl ${tarSeconds.toFixed(2)} s (${tarMBs.toFixed(1)} MB/s), ratio ${ratio.toFixed(2)} ${ratio >= 0.8 ? 'ok' : 'MISSED'} (target ≥ 0.8), load average ${loadavg()[0]!.toFixed(1)}`,
  );
  return { exportMBs, ratio };
}

export default async function exportBench(): Promise<BenchRow[]> {
  const dir = await fs.mkdtemp(path.join(tmpdir(), 'ecsb-export-bench-'));
  const holder: { store?: FsObjectStore } = {};
  const server = http.createServer((req, res) => {
    void serveSignedObject(holder.store!, '/objects', req, res, Date.now()).then((served) => {
      if (!served) res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const store = createFsObjectStore({
    root: path.join(dir, 'objects'),
    baseUrl: `http://127.0.0.1:${port}/objects`,
    secret: 'bench',
  });
  holder.store = store;
  let bridge: Awaited<ReturnType<typeof startHttpBridge>> | undefined;
  try {
    const mixed = await mixedTree(path.join(dir, 'mixed'));
    const small = await smallTree(path.join(dir, 'small'));
    console.log(
      `  profile: mixed ${(mixed.bytes / MB).toFixed(0)} MB in ${mixed.files} files (1 MB and 64 MB); small ${small.files} files of ${SMALL_BYTES} bytes in one directory; ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)}`,
    );
    const mixedRun = await race(dir, store, 'export-mixed', mixed);
    const smallRun = await race(dir, store, 'export-bench', small);
    const id = 'export-bench';

    // Browse, behind the API as deployed.
    const file = path.join(dir, 'state.db');
    const db = openSqliteStore(file, { synchronous: 'NORMAL' });
    const clock = new SystemClock();
    const now = clock.now();
    const job = newJob(
      {
        id,
        type: 'export',
        instanceId: 'i-bench',
        params: { backupId: 'bp-bench', diskId: 'd-bench', targetInstanceId: 'i-bench', paths: ['/data'] },
      },
      now,
    );
    await db.jobs.create({
      ...job,
      status: 'COMPLETE',
      finishedAt: now,
      state: { exportExpiresAt: now + 86_400_000 },
    });
    const handler = createHandler({
      store: db,
      jobQueue: openEmbeddedQueue(file, 'ecs-backup-jobs', {
        visibilityTimeoutSeconds: 60,
        maxReceiveCount: 5,
      }),
      deadLetterQueue: openEmbeddedQueue(file, 'ecs-backup-jobs-dlq', {
        visibilityTimeoutSeconds: 60,
        maxReceiveCount: 1000,
      }),
      // Browsing never calls ECS.
      ecs: createEcsAdapter({
        endpoint: '127.0.0.1:9',
        regionId: 'cn-hangzhou',
        credentials: { accessKeyId: 'none', accessKeySecret: 'none' },
      }),
      objectStore: store,
      clock,
      ids: new RandomIds(),
      settings: loadSettings({ API_TOKEN: TOKEN, DATA_DIR: dir }),
      log: { info: () => undefined, warn: () => undefined, error: (m, f) => console.error(m, f) },
    });
    bridge = await startHttpBridge({ handler });
    const browse = async (cursor: string | null) => {
      const q = `path=/data/many&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const t = performance.now();
      const r = await fetch(`${bridge!.url}/api/v1/exports/${id}/files?${q}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      const body = (await r.json()) as { items?: unknown[]; nextCursor?: string | null };
      const ms = performance.now() - t;
      if (r.status !== 200 || !body.items?.length) throw new Error(`browse answered ${r.status}`);
      return { ms, next: body.nextCursor ?? null };
    };
    // Walk once to learn the cursors (the first page also parses the manifest), then time random pages.
    const cursors: (string | null)[] = [null];
    for (let c = (await browse(null)).next; c; c = (await browse(c)).next) cursors.push(c);
    const ms: number[] = [];
    for (let i = 0; i < BROWSE_REQUESTS; i += 1) {
      ms.push((await browse(cursors[Math.floor(Math.random() * cursors.length)]!)).ms);
    }
    const p99 = percentile(ms, 99);
    console.log(
      `  browse: ${cursors.length} pages of 100, p50 ${percentile(ms, 50).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`,
    );
    db.close?.();
    console.log(`  browse p99 ${p99 <= 20 ? 'ok' : 'MISSED'} (target ≤ 20 ms)`);
    return [
      {
        name: `export vs tar | curl, mixed ${(mixed.bytes / MB).toFixed(0)} MB (ratio)`,
        value: Number(mixedRun.ratio.toFixed(2)),
        unit: 'ratio',
        target: '≥ 0.8',
        pass: mixedRun.ratio >= 0.8,
      },
      { name: 'export throughput, mixed (MB/s)', value: Number(mixedRun.exportMBs.toFixed(1)), unit: 'MB/s' },
      {
        name: `export vs tar | curl, ${small.files} files of 4 KB (ratio)`,
        value: Number(smallRun.ratio.toFixed(2)),
        unit: 'ratio',
        target: '≥ 0.8',
        pass: smallRun.ratio >= 0.8,
      },
      {
        name: 'export throughput, small files (MB/s)',
        value: Number(smallRun.exportMBs.toFixed(1)),
        unit: 'MB/s',
      },
      {
        name: `browse a ${SMALL_FILES}-entry directory, page of 100, p99`,
        value: Number(p99.toFixed(2)),
        unit: 'ms',
        target: '≤ 20 ms',
        pass: p99 <= 20,
      },
    ];
  } finally {
    await bridge?.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await fs.rm(dir, { recursive: true, force: true });
  }
}
