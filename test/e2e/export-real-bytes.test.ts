import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupPoint } from '../../lib/domain/model.js';
import { PACK_FILE_BYTES } from '../../lib/usecases/export/packs.js';
import {
  E2E_TIMEOUT_MS,
  finished,
  planBody,
  pointOf,
  protect,
  startTestCloud,
  until,
  type TestCloud,
} from './support.js';

/**
 * Export with real bytes: files are written on the instance's live data disk by a script run
 * through Cloud Assistant (RunCommand), the disk is backed up, then changed and partly deleted; the
 * export of the backup must hand back, file by file and as one archive, exactly what the disk held
 * at backup time.
 */

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const SMALL = 2000;
/**
 * Measured at load average 15 on 2 cores: 43 s of setup, 74 s of test (the export script, then some
 * 4,000 requests to check every file); the deadline leaves room for a machine shared that way.
 */
const TIMEOUT_MS = 2.5 * E2E_TIMEOUT_MS;
const BIG = 20 * 1024 * 1024;

type Expected = { type: 'file'; bytes: Buffer } | { type: 'dir' } | { type: 'symlink'; target: string };

let cloud: TestCloud;
let instanceId: string;
let dataDiskId: string;
let point: BackupPoint;
const expected = new Map<string, Expected>();
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsb-export-bytes-'));

/** Runs a script on the instance through Cloud Assistant and waits for it to succeed. */
async function run(script: string, label: string): Promise<string> {
  const { invokeId } = await cloud.deps.ecs.runCommand({
    instanceId,
    type: 'RunShellScript',
    content: script,
    timeoutSeconds: 120,
    name: `test-${label}`,
    clientToken: `test-${label}-${Date.now()}`,
  });
  const result = await until(
    `the ${label} script to finish`,
    async () => {
      const [r] = await cloud.deps.ecs.describeInvocationResults([invokeId]);
      return r && !['Pending', 'Running', 'Scheduled'].includes(r.status) ? r : undefined;
    },
    60_000,
  );
  expect([label, result.status, result.output]).toEqual([label, 'Success', expect.any(String)]);
  return result.output;
}

/** A signed GET of bytes the guest fetches with curl, as a file would arrive from anywhere. */
async function served(key: string, bytes: Buffer): Promise<string> {
  await cloud.deps.objectStore!.put(`fixtures/${key}`, bytes);
  return cloud.deps.objectStore!.signedUrl(`fixtures/${key}`, Date.now() + 10 * 60_000);
}

const ON_DISK = (body: string) => `set -eu
mkdir -p /mnt/live
mount /dev/vdb /mnt/live
trap 'umount /mnt/live' EXIT
D=/mnt/live/srv
${body}
sync
echo done`;

beforeAll(async () => {
  cloud = await startTestCloud({ timers: false });
  const added = await cloud.emulator.admin.addInstance({
    osType: 'linux',
    status: 'Running',
    disks: [
      { type: 'system', category: 'cloud_essd', sizeGiB: 40, files: { 'etc/hostname': 'bytes\n' } },
      { type: 'data', category: 'cloud_essd', sizeGiB: 40, files: {} },
    ],
    tmp: [],
  });
  instanceId = added.instanceId;
  dataDiskId = added.diskIds[1]!;
  // Only the system disk is mounted at boot: the test's scripts mount the data disk themselves.
  await cloud.emulator.admin.updateInstance({
    instanceId,
    mounts: [{ device: '/dev/vda1', mountPoint: '/', fsType: 'ext4', diskId: added.diskIds[0]! }],
  });

  const binary = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 256));
  const big = randomBytes(BIG);
  const name = 'a name — ünïcode 文件.txt';
  expected.set('/srv', { type: 'dir' });
  expected.set('/srv/text.txt', { type: 'file', bytes: Buffer.from('hello\nexport\n') });
  expected.set('/srv/binary.bin', { type: 'file', bytes: binary });
  expected.set('/srv/empty', { type: 'file', bytes: Buffer.alloc(0) });
  expected.set(`/srv/${name}`, { type: 'file', bytes: Buffer.from('spaces and unicode\n') });
  expected.set('/srv/link-to-text', { type: 'symlink', target: 'text.txt' });
  expected.set('/srv/big.bin', { type: 'file', bytes: big });
  expected.set('/srv/many', { type: 'dir' });
  for (let i = 1; i <= SMALL; i += 1) {
    expected.set(`/srv/many/f${i}.txt`, { type: 'file', bytes: Buffer.from(`small ${i}\n`) });
  }
  await run(
    ON_DISK(`mkdir -p "$D/many"
printf 'hello\\nexport\\n' > "$D/text.txt"
curl -fsS -o "$D/binary.bin" '${await served('binary.bin', binary)}'
: > "$D/empty"
printf 'spaces and unicode\\n' > "$D/${name}"
ln -s text.txt "$D/link-to-text"
curl -fsS -o "$D/big.bin" '${await served('big.bin', big)}'
for i in $(seq 1 ${SMALL}); do printf 'small %d\\n' "$i" > "$D/many/f$i.txt"; done`),
    'write',
  );
  const { jobId } = await protect(cloud, instanceId, planBody());
  const job = await finished(cloud, jobId!, 90_000);
  expect(job.status, job.reason ?? '').toBe('COMPLETE');
  point = await pointOf(cloud, job);
  // After the backup the live disk moves on: none of this may show in the export.
  await run(
    ON_DISK(`printf 'changed\\n' > "$D/text.txt"
rm "$D/binary.bin" "$D/many/f1.txt" "$D/many/f2000.txt"
head -c 100 /dev/zero > "$D/big.bin"
printf 'new\\n' > "$D/new-after-backup.txt"
rm "$D/link-to-text"`),
    'change',
  );
}, TIMEOUT_MS);

afterAll(async () => {
  await cloud?.dispose();
  fs.rmSync(scratch, { recursive: true, force: true });
});

interface EntryView {
  name: string;
  path: string;
  type: string;
  size: number;
  sha256: string | null;
  target: string | null;
}

/** Every entry under `dir`, browsing level by level and page by page as a client would. */
async function browseAll(id: string, dir: string, into: Map<string, EntryView>): Promise<void> {
  let cursor: string | null = null;
  do {
    const q: string = `path=${encodeURIComponent(dir)}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = await cloud.api.get<{ items: EntryView[]; nextCursor: string | null }>(
      `/exports/${id}/files?${q}`,
    );
    expect(page.status, JSON.stringify(page.body)).toBe(200);
    for (const e of page.body.items) {
      into.set(e.path, e);
      if (e.type === 'dir') await browseAll(id, e.path, into);
    }
    cursor = page.body.nextCursor;
  } while (cursor);
}

/**
 * A file through the API: a 302 to its signed URL, or (a small file read from its pack) its bytes
 * answered at once, with the length, name and ETag (its sha256) a signed URL would give.
 */
async function download(
  id: string,
  query: string,
): Promise<{ bytes: Buffer; disposition: string | null; packed: boolean }> {
  const answer = await fetch(`${cloud.apiUrl}/api/v1/exports/${id}/download${query}`, {
    headers: { authorization: `Bearer ${cloud.apiToken}` },
    redirect: 'manual',
  });
  if (answer.status === 200) {
    const bytes = Buffer.from(await answer.arrayBuffer());
    expect(Number(answer.headers.get('content-length'))).toBe(bytes.length);
    expect(answer.headers.get('etag')).toBe(`"${sha(bytes)}"`);
    return { bytes, disposition: answer.headers.get('content-disposition'), packed: true };
  }
  expect(answer.status).toBe(302);
  const file = await fetch(answer.headers.get('location')!);
  expect(file.status).toBe(200);
  return {
    bytes: Buffer.from(await file.arrayBuffer()),
    disposition: file.headers.get('content-disposition'),
    packed: false,
  };
}

/** The tree GNU tar unpacks, in the same shape as `expected`. */
function unpacked(root: string): Map<string, Expected> {
  const out = new Map<string, Expected>();
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(root, rel))) {
      const child = `${rel}/${name}`;
      const full = path.join(root, child);
      const st = fs.lstatSync(full);
      if (st.isSymbolicLink()) out.set(child, { type: 'symlink', target: fs.readlinkSync(full) });
      else if (st.isDirectory()) {
        out.set(child, { type: 'dir' });
        walk(child);
      } else out.set(child, { type: 'file', bytes: fs.readFileSync(full) });
    }
  };
  walk('');
  return out;
}

const digest = (tree: Map<string, Expected>) =>
  [...tree.entries()]
    .map(
      ([p, e]) => `${e.type} ${p} ${e.type === 'file' ? sha(e.bytes) : e.type === 'symlink' ? e.target : ''}`,
    )
    .sort();

describe('export with real bytes', () => {
  it(
    'hands back exactly the backed-up tree: every file by browse and download, and the whole archive',
    async () => {
      const started = await cloud.api.post<{ export: { id: string } }>(`/backups/${point.id}/exports`, {
        diskId: dataDiskId,
        paths: ['/srv'],
      });
      expect(started.status, JSON.stringify(started.body)).toBe(202);
      const id = started.body.export.id;
      const job = await finished(cloud, id, 100_000);
      expect(job.status, job.reason ?? '').toBe('COMPLETE');

      const files = [...expected.values()].filter((e) => e.type === 'file');
      const view = await cloud.api.get<{ progress: { files: number; bytes: number }; skipped: number }>(
        `/exports/${id}`,
      );
      expect(view.body.progress).toMatchObject({
        files: files.length,
        bytes: files.reduce((n, f) => n + (f.type === 'file' ? f.bytes.length : 0), 0),
      });
      expect(view.body.skipped).toBe(0);

      // Browse: the tree at backup time, sizes and sha256 of the original bytes, the symlink's target.
      const browsed = new Map<string, EntryView>();
      await browseAll(id, '/', browsed);
      const seen = [...browsed.values()]
        .filter((e) => e.path.startsWith('/srv'))
        .map((e) => `${e.type} ${e.path} ${e.type === 'file' ? `${e.size} ${e.sha256}` : (e.target ?? '')}`)
        .sort();
      const want = [...expected.entries()]
        .map(
          ([p, e]) =>
            `${e.type} ${p} ${e.type === 'file' ? `${e.bytes.length} ${sha(e.bytes)}` : e.type === 'symlink' ? e.target : ''}`,
        )
        .sort();
      expect(seen).toEqual(want);

      // Download: every file, byte for byte, under its own name (eight at a time, as a browser would).
      const queue = [...expected].filter(([, e]) => e.type === 'file');
      const mismatches: string[] = [];
      const packed: string[] = [];
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let next = queue.shift(); next; next = queue.shift()) {
            const [p, e] = next;
            const got = await download(id, `?path=${encodeURIComponent(p)}`);
            if (got.packed) packed.push(p);
            const name = `filename*=UTF-8''${encodeURIComponent(path.posix.basename(p))}`;
            if (e.type !== 'file' || sha(got.bytes) !== sha(e.bytes) || !got.disposition?.includes(name)) {
              mismatches.push(p);
            }
          }
        }),
      );
      expect(mismatches).toEqual([]);
      // The small files came from packs, the large one from its own object.
      const small = files.filter((f) => f.type === 'file' && f.bytes.length < PACK_FILE_BYTES).length;
      expect(packed.length).toBe(small);

      // The whole export: GNU tar unpacks the same tree, names, links and bytes.
      const archive = await download(id, '');
      fs.writeFileSync(path.join(scratch, 'all.tar.gz'), archive.bytes);
      const out = path.join(scratch, 'x');
      fs.mkdirSync(out);
      execFileSync('tar', ['-xzf', path.join(scratch, 'all.tar.gz'), '-C', out]);
      expect(digest(unpacked(out))).toEqual(digest(expected));
    },
    TIMEOUT_MS,
  );
});
