import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFsObjectStore, type FsObjectStore } from '../../lib/adapters/fs-object-store/index.js';
import { serveSignedObject } from '../../lib/adapters/fs-object-store/serve.js';
import { execFileSync } from 'node:child_process';
import { ExportTree, parseManifest, type ExportEntry } from '../../lib/domain/export.js';
import { hashPack, packedFiles, packsUsed } from '../../lib/usecases/export/pack-hashes.js';
import { readExportOutput, renderLinuxExportScript, renderWorkList } from '../../lib/guest/render-export.js';

/**
 * The export script under real bash, uploading over HTTP through signed URLs to the folder store.
 * `mount` and `umount` are test doubles that put a prepared tree (the "disk") at the mount point
 * and log how they were called; everything else (find, awk, tar, sha256sum, curl) is the real tool,
 * unless a test puts its own in front of it.
 */

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

let dir: string;
let disk: string;
let store: FsObjectStore;
let server: http.Server;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'export-script-'));
  disk = path.join(dir, 'disk');
  const holder: { store?: FsObjectStore } = {};
  server = http.createServer((req, res) => {
    void serveSignedObject(holder.store!, '/objects', req, res, Date.now()).then((served) => {
      if (!served) res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  store = createFsObjectStore({
    root: path.join(dir, 'objects'),
    baseUrl: `http://127.0.0.1:${port}/objects`,
    secret: 'script-test',
  });
  holder.store = store;
  const bin = path.join(dir, 'bin');
  await fs.mkdir(bin);
  await fs.writeFile(
    path.join(bin, 'mount'),
    `#!/bin/bash\necho "mount $*" >>"${dir}/calls"\n[ "$2" = ext4 ] || exit 32\ntarget="\${!#}"\nrmdir "$target" && ln -s "${disk}" "$target"\n`,
    { mode: 0o755 },
  );
  await fs.writeFile(
    path.join(bin, 'umount'),
    `#!/bin/bash\necho "umount $*" >>"${dir}/calls"\nrm -f "\${!#}"\n`,
    {
      mode: 0o755,
    },
  );
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await fs.rm(dir, { recursive: true, force: true });
});

async function write(rel: string, body: Buffer | string): Promise<void> {
  const file = path.join(disk, rel);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, body);
}

async function groupName(gid: number): Promise<string> {
  const line = (await fs.readFile('/etc/group', 'utf8'))
    .split('\n')
    .find((l) => l.split(':')[2] === String(gid));
  return line ? line.split(':')[0]! : String(gid);
}

interface Packing {
  urls: number;
  fileBytes: number;
  bytes: number;
  files: number;
}

/** Tools a run finds before the machine's: name → a script, or the path of a program to run instead. */
type Tools = Record<string, string>;

async function toolDir(id: string, tools: Tools): Promise<string> {
  const bin = path.join(dir, `tools-${id}`);
  await fs.mkdir(bin, { recursive: true });
  for (const [name, body] of Object.entries(tools)) {
    if (body.startsWith('/')) await fs.symlink(body, path.join(bin, name));
    else await fs.writeFile(path.join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
  }
  return bin;
}

async function runExport(
  id: string,
  paths: string[],
  limits = { maxFiles: 10_000, maxBytes: 1e12 },
  packing?: Packing,
  tools: Tools = {},
) {
  const later = Date.now() + 600_000;
  const prefix = `exports/${id}`;
  const uploads = await Promise.all(
    Array.from({ length: Math.min(limits.maxFiles, 300) }, (_, i) =>
      store.signedUrl(`${prefix}/blobs/${i}`, later, 'PUT'),
    ),
  );
  const packs = await Promise.all(
    Array.from({ length: packing?.urls ?? 0 }, (_, i) =>
      store.signedUrl(`${prefix}/packs/${i}`, later, 'PUT'),
    ),
  );
  await store.put(`${prefix}/work`, renderWorkList(paths, uploads, packs));
  const script = renderLinuxExportScript({
    devices: ['/dev/disk/by-id/virtio-missing', '/dev/vdb'],
    workUrl: await store.signedUrl(`${prefix}/work`, later),
    manifestUrl: await store.signedUrl(`${prefix}/manifest`, later, 'PUT'),
    cancelUrl: await store.signedUrl(`${prefix}/cancel`, later),
    mountBase: path.join(dir, 'mnt'),
    ...limits,
    ...(packing ? { pack: packing } : {}),
  });
  await fs.mkdir(path.join(dir, 'mnt'), { recursive: true });
  const child = spawn('/bin/bash', ['-c', script], {
    env: { PATH: `${await toolDir(id, tools)}:${path.join(dir, 'bin')}:${process.env.PATH}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const manifestBytes = await store.get(`${prefix}/manifest`);
  return {
    code,
    out,
    summary: readExportOutput(out),
    manifest: manifestBytes ? parseManifest(manifestBytes.toString('utf8')) : null,
  };
}

/**
 * Every file of `files` is in the store byte-exact where the manifest says: a file sent alone with
 * the instance's sha256, a packed one (no sha256 from the instance) hashed by the job from its pack.
 */
async function expectExported(id: string, files: ExportEntry[]): Promise<void> {
  const hashed = new Map<ExportEntry, string>();
  for (let k = 0; k < packsUsed(files); k += 1) {
    const result = await hashPack(store, id, files, k);
    if (!result.ok) throw new Error(result.reason);
    packedFiles(files, k).forEach((f, n) => hashed.set(f, result.sums[n]!));
  }
  for (const f of files) {
    const original = await fs.readFile(path.join(disk, f.path));
    const stored = f.pack
      ? (await store.get(`exports/${id}/packs/${f.pack.index}`))!.subarray(
          f.pack.offset,
          f.pack.offset + f.size,
        )
      : (await store.get(`exports/${id}/blobs/${f.blob}`))!;
    const sum = f.pack ? [null, hashed.get(f)] : [f.sha256, sha(original)];
    expect([f.path, sha(stored), ...sum]).toEqual([
      f.path,
      sha(original),
      ...(f.pack ? [null, sha(original)] : [sha(original), sha(original)]),
    ]);
  }
}

describe('linux export script', { timeout: 60_000 }, () => {
  it('uploads every file byte-exact with its sha256 and records dirs, symlinks and skipped entries', async () => {
    const binary = randomBytes(2 * 1024 * 1024 + 3);
    await write('var/www/index.html', '<h1>hello</h1>\n');
    await write('var/www/bin.dat', binary);
    await write('var/www/empty', '');
    await write('var/www/a name with spaces — ünïcode.txt', 'unicode\n');
    await write('var/www/deep/dir/leaf.txt', 'leaf');
    for (let i = 0; i < 120; i += 1) await write(`var/www/many/f${i}`, `file ${i}`);
    await fs.symlink('index.html', path.join(disk, 'var/www/link'));
    await fs.symlink('/etc/passwd', path.join(disk, 'var/www/abs-link'));
    await fs.symlink('/etc', path.join(disk, 'var/offdisk'));
    await write('etc/nginx/nginx.conf', 'worker_processes 1;\n');
    const fifo = spawn('mkfifo', [path.join(disk, 'var/www/pipe')]);
    await new Promise((resolve) => fifo.on('exit', resolve));

    const run = await runExport('e1', ['/var/www', '/etc/nginx/nginx.conf', '/var/offdisk/passwd', '/nope']);

    expect(run.code, run.out).toBe(0);
    expect(await fs.readFile(path.join(dir, 'calls'), 'utf8')).toMatch(
      /mount -t ext4 -o ro,noload \/dev\/disk\/by-id\/virtio-missing/,
    );
    const m = run.manifest!;
    const tree = new ExportTree(m.entries);
    const files = m.entries.filter((e) => e.type === 'file');
    expect(files).toHaveLength(126);
    for (const f of files) {
      const original = await fs.readFile(path.join(disk, f.path));
      const uploaded = (await store.get(`exports/e1/blobs/${f.blob}`))!;
      expect([f.path, sha(uploaded), f.size]).toEqual([f.path, sha(original), original.length]);
      expect(f.sha256).toBe(sha(original));
    }
    // Owners by name, as find's %u:%g names them (the numbers where the name is unknown).
    const names = `${os.userInfo().username}:${await groupName(os.userInfo().gid)}`;
    expect(
      new Set(m.entries.filter((e) => e.type !== 'file' || e.path.startsWith('/var')).map((e) => e.owner)),
    ).toEqual(new Set([names]));
    expect(tree.entry('/var/www/link')).toMatchObject({ type: 'symlink', target: 'index.html' });
    expect(tree.entry('/var/www/abs-link')).toMatchObject({ type: 'symlink', target: '/etc/passwd' });
    expect(tree.list('/', undefined, 10).items.map((e) => e.path)).toEqual(['/etc', '/var']);
    expect(tree.list('/var/www', undefined, 100).items.map((e) => e.path.split('/').pop())).toContain(
      'a name with spaces — ünïcode.txt',
    );
    expect(m.skipped).toEqual(
      expect.arrayContaining([
        { path: '/var/www/pipe', reason: 'a FIFO is not exported' },
        { path: '/var/offdisk/passwd', reason: 'a symlink on the way leads off the disk' },
        { path: '/nope', reason: 'does not exist on the disk' },
      ]),
    );
    expect(run.summary).toMatchObject({ files: '126', skipped: String(m.skipped.length) });
    // Unmounted and the mount point removed.
    expect(await fs.readdir(path.join(dir, 'mnt'))).toEqual([]);
  });

  it('packs small files, each found at its offset byte-exact, and sends the rest one by one when the pack URLs run out', async () => {
    for (let i = 0; i < 30; i += 1) await write(`srv/small/s${i}`, randomBytes(i * 37));
    await write('srv/small/edge', randomBytes(999));
    await write('srv/small/big', randomBytes(1000));
    const packing = { urls: 2, fileBytes: 1000, bytes: 4000, files: 8 };
    const run = await runExport('e4', ['/srv/small'], { maxFiles: 10_000, maxBytes: 1e12 }, packing);
    expect(run.code, run.out).toBe(0);
    const files = run.manifest!.entries.filter((e) => e.type === 'file');
    expect(files).toHaveLength(32);
    const packed = files.filter((f) => f.pack);
    // Two packs of at most 8 files and 4,000 bytes; the big file and the files after them go alone.
    expect(new Set(packed.map((f) => f.pack!.index))).toEqual(new Set([0, 1]));
    for (const index of [0, 1]) {
      const inPack = packed.filter((f) => f.pack!.index === index);
      expect(inPack.length).toBeLessThanOrEqual(8);
      expect(inPack.reduce((n, f) => n + f.size, 0)).toBeLessThanOrEqual(4000);
    }
    const big = files.find((f) => f.path === '/srv/small/big')!;
    expect([big.pack, typeof big.blob]).toEqual([undefined, 'number']);
    expect(files.filter((f) => f.blob !== null).length).toBe(32 - packed.length);
    await expectExported('e4', files);
    // GNU tar wrote the packs: tar lists each one's files by their paths, in the manifest's order.
    for (const index of [0, 1]) {
      const pack = (await store.get(`exports/e4/packs/${index}`))!;
      const listed = execFileSync('tar', ['-t'], { input: pack, encoding: 'utf8' }).trim().split('\n');
      expect(listed).toEqual(packedFiles(files, index).map((f) => `.${f.path}`));
    }
  });

  it('packs and sends names of any length and any byte, each at its offset', async () => {
    const long = `srv/odd/${'d'.repeat(60)}/${'n'.repeat(90)}`;
    const names = [
      long,
      'srv/odd/new\nline',
      'srv/odd/back\\slash',
      'srv/odd/-dash',
      'srv/odd/tab\tand space',
    ];
    for (const [i, name] of names.entries()) {
      await write(name, randomBytes(10 + i));
      await write(`${name}.big`, randomBytes(1500 + i));
    }
    const packing = { urls: 4, fileBytes: 1000, bytes: 1e6, files: 100 };
    const run = await runExport('e5', ['/srv/odd'], { maxFiles: 10_000, maxBytes: 1e12 }, packing);
    expect(run.code, run.out).toBe(0);
    const files = run.manifest!.entries.filter((e) => e.type === 'file');
    expect(files.map((f) => f.path).sort()).toEqual(names.flatMap((n) => [`/${n}`, `/${n}.big`]).sort());
    expect(files.filter((f) => f.pack)).toHaveLength(names.length);
    await expectExported('e5', files);
  });

  it('sends a pack again, whole, when its first sending fails', async () => {
    // curl fails the first pack upload it is asked for (a stream from stdin), then works as curl.
    const real = execFileSync('bash', ['-c', 'command -v curl'], { encoding: 'utf8' }).trim();
    const flag = path.join(dir, 'e10-failed-once');
    const curl = `for a in "$@"; do [ "$a" = - ] && [ ! -e '${flag}' ] && touch '${flag}' && cat >/dev/null && exit 7; done\nexec ${real} "$@"`;
    const packing = { urls: 2, fileBytes: 1000, bytes: 4000, files: 8 };
    const run = await runExport('e10', ['/srv/small'], { maxFiles: 10_000, maxBytes: 1e12 }, packing, {
      curl,
    });
    expect(run.code, run.out).toBe(0);
    expect(await fs.stat(flag)).toBeTruthy();
    await expectExported(
      'e10',
      run.manifest!.entries.filter((e) => e.type === 'file'),
    );
  });

  it('stops before a pack when the cancel marker appears: no pack, no manifest', async () => {
    await store.put('exports/e11/cancel', 'canceled');
    const packing = { urls: 2, fileBytes: 1000, bytes: 4000, files: 8 };
    const run = await runExport('e11', ['/srv/small'], { maxFiles: 10_000, maxBytes: 1e12 }, packing);
    expect([run.code, run.summary.export_error]).toEqual([7, 'canceled']);
    expect(run.manifest).toBeNull();
    expect(await store.list('exports/e11/packs/')).toEqual([]);
  });

  it('packs the bare bytes one after the other where tar is not GNU tar', async () => {
    const tools = { tar: 'echo "bsdtar 3.7.2 - libarchive 3.7.2"; exit 1' };
    const packing = { urls: 2, fileBytes: 1000, bytes: 4000, files: 8 };
    const run = await runExport('e6', ['/srv/small'], { maxFiles: 10_000, maxBytes: 1e12 }, packing, tools);
    expect(run.code, run.out).toBe(0);
    const files = run.manifest!.entries.filter((e) => e.type === 'file');
    expect(Math.min(...packedFiles(files, 0).map((f) => f.pack!.offset))).toBe(0);
    await expectExported('e6', files);
  });

  it('runs the same under gawk as under mawk', async () => {
    const gawk = execFileSync('bash', ['-c', 'command -v gawk || true'], { encoding: 'utf8' }).trim();
    const mawk = execFileSync('bash', ['-c', 'command -v mawk || true'], { encoding: 'utf8' }).trim();
    // Both are installed where the tests run (.ci/run installs gawk; Debian's awk is mawk).
    expect([gawk, mawk]).toEqual([expect.stringMatching(/gawk$/), expect.stringMatching(/mawk$/)]);
    const packing = { urls: 4, fileBytes: 1000, bytes: 1e6, files: 100 };
    const manifests = [];
    for (const [id, awk] of [
      ['e7', gawk],
      ['e8', mawk],
    ] as const) {
      const run = await runExport(
        id,
        ['/srv/odd', '/srv/small'],
        { maxFiles: 10_000, maxBytes: 1e12 },
        packing,
        { awk, gawk: awk },
      );
      expect(run.code, run.out).toBe(0);
      await expectExported(
        id,
        run.manifest!.entries.filter((e) => e.type === 'file'),
      );
      manifests.push(run.manifest!);
    }
    expect(manifests[0]).toEqual(manifests[1]);
  });

  it('refuses to start where no awk reads NUL-separated records', async () => {
    const run = await runExport('e9', ['/srv/small'], undefined, undefined, {
      awk: 'exit 2',
      gawk: 'exit 2',
    });
    expect([run.code, run.summary.export_error]).toEqual([
      8,
      "this instance's awk cannot read NUL-separated records: install gawk",
    ]);
    expect(run.manifest).toBeNull();
  });

  it('stops at the file limit and lists what it left out', async () => {
    const run = await runExport('e2', ['/var/www/many'], { maxFiles: 5, maxBytes: 1e12 });
    expect(run.code, run.out).toBe(0);
    expect(run.manifest!.entries.filter((e) => e.type === 'file')).toHaveLength(5);
    expect(
      run.manifest!.skipped.filter((s) => s.reason === 'over the limit of 5 files per export'),
    ).toHaveLength(115);
  });

  it('stops when the cancel marker appears and uploads no manifest', async () => {
    await store.put('exports/e3/cancel', 'canceled');
    const run = await runExport('e3', ['/var/www/many']);
    expect(run.code).toBe(7);
    expect(run.summary.export_error).toBe('canceled');
    expect(run.manifest).toBeNull();
  });
});
