import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../lib/domain/export.js';
import { renderWorkList } from '../../lib/guest/render-export.js';
import { renderWindowsExportScript } from '../../lib/guest/render-windows-export.js';
import { PackQueue } from '../../local/ecs-emulator/guest-simulation-pack.js';
import { Ecs, REGION, startHarness, waitFor, type Harness } from './helpers.js';

/**
 * The simulated Windows export script's packs, with small limits so every rule shows: a pack closes
 * before the next file would pass its bytes or when it holds its count of files, a file at the pack
 * file size goes up alone, the files after the last pack URL go up alone, and the cancel marker is
 * asked before a pack goes up. A local server stands in for the object store's signed URLs.
 */

const LIMITS = { fileBytes: 100, bytes: 250, files: 3 };
const SIZES: Record<string, number> = {
  a: 90,
  b: 90,
  c: 90,
  d: 0,
  e: 10,
  f: 10,
  g: 100,
  h: 10,
  i: 10,
  j: 10,
};
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const content = (name: string) => Buffer.alloc(SIZES[name]!, name);

let h: Harness;
let server: http.Server;
let base = '';
let serial = '';
let instanceId = '';
const puts = new Map<string, Buffer>();
let canceled = false;

beforeAll(async () => {
  h = await startHarness();
  const added = await h.emu.admin.addInstance({
    osType: 'windows',
    status: 'Running',
    disks: [
      { type: 'system', category: 'cloud_essd', sizeGiB: 40, files: {} },
      { type: 'data', category: 'cloud_essd', sizeGiB: 20, files: {} },
    ],
  });
  instanceId = added.instanceId;
  serial = added.diskIds[1]!.replace(/^d-/, '');
  const tree = await h.emu.admin.treePath({ diskId: added.diskIds[1]! });
  fs.mkdirSync(path.join(tree, 'd'));
  for (const name of Object.keys(SIZES)) fs.writeFileSync(path.join(tree, 'd', name), content(name));
  let work = '';
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'PUT') {
        puts.set(req.url!.slice(1), Buffer.concat(chunks));
        res.end();
      } else if (req.url === '/work') res.end(work);
      else res.writeHead(req.url === '/cancel' && canceled ? 200 : 404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  work = renderWorkList(
    ['/d'],
    Array.from({ length: 10 }, (_, n) => `${base}/blobs/${n}`),
    Array.from({ length: 3 }, (_, n) => `${base}/packs/${n}`),
  );
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await h?.stop();
});

/** Runs the rendered script on the instance of the data disk; its exit code and output. */
async function runExport(): Promise<{ exitCode: number; output: string }> {
  const script = renderWindowsExportScript({
    diskSerial: serial,
    workUrl: `${base}/work`,
    manifestUrl: `${base}/manifest`,
    cancelUrl: `${base}/cancel`,
    maxFiles: 100,
    maxBytes: 1e9,
    sourceDrive: 'D',
    pack: LIMITS,
  });
  const r = await h.ecs.runCommand(
    new Ecs.RunCommandRequest({
      regionId: REGION,
      type: 'RunPowerShellScript',
      commandContent: script,
      instanceId: [instanceId],
      timeout: 60,
    }),
  );
  return waitFor(async () => {
    const d = await h.ecs.describeInvocationResults(
      new Ecs.DescribeInvocationResultsRequest({
        regionId: REGION,
        invokeId: r.body!.invokeId!,
        contentEncoding: 'PlainText',
      }),
    );
    const one = d.body?.invocation?.invocationResults?.invocationResult?.[0];
    if (!one || ['Running', 'Pending'].includes(one.invocationStatus ?? '')) return undefined;
    return { exitCode: one.exitCode ?? -1, output: one.output ?? '' };
  }, 30_000);
}

describe('ECS emulator: the simulated Windows export script sends small files in packs', () => {
  it('closes packs by bytes and by count, sends large files and those past the last pack URL alone', async () => {
    puts.clear();
    canceled = false;
    const { exitCode, output } = await runExport();
    expect([exitCode, output]).toEqual([0, expect.stringContaining('ECSB files=10\r\nECSB bytes=420\r\n')]);

    // a+b would pass 250 bytes with c; c, d, e make three files; f, h, i use the last URL; j is past it.
    expect([...puts.keys()].sort()).toEqual([
      'blobs/0',
      'blobs/1',
      'manifest',
      'packs/0',
      'packs/1',
      'packs/2',
    ]);
    const manifest = parseManifest(puts.get('manifest')!.toString('utf8'));
    const place = Object.fromEntries(
      manifest.entries
        .filter((e) => e.type === 'file')
        .map((e) => [path.basename(e.path), e.pack ? `p${e.pack.index}@${e.pack.offset}` : `${e.blob}`]),
    );
    expect(place).toEqual({
      a: 'p0@0',
      b: 'p0@90',
      c: 'p1@0',
      d: 'p1@90',
      e: 'p1@90',
      f: 'p2@0',
      g: '0',
      h: 'p2@10',
      i: 'p2@20',
      j: '1',
    });
    expect([0, 1, 2].map((n) => puts.get(`packs/${n}`)!.length)).toEqual([180, 100, 30]);
    // Every file's bytes at its place, with its hash.
    for (const e of manifest.entries.filter((x) => x.type === 'file')) {
      const name = path.basename(e.path);
      const bytes = e.pack
        ? puts.get(`packs/${e.pack.index}`)!.subarray(e.pack.offset, e.pack.offset + e.size)
        : puts.get(`blobs/${e.blob}`)!;
      expect([name, sha(bytes), e.sha256]).toEqual([name, sha(content(name)), sha(content(name))]);
    }
  });

  it('asks for the cancel marker before a pack goes up: nothing is sent once it is there', async () => {
    puts.clear();
    canceled = true;
    const { exitCode, output } = await runExport();
    expect([exitCode, output]).toEqual([7, 'ECSB export_error=canceled\r\n']);
    expect([...puts.keys()]).toEqual([]);
  });
});

describe('the simulated pack of files', () => {
  it('sends zeros for a file it cannot read, so the offsets after it hold, and says why', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsb-pack-'));
    try {
      fs.writeFileSync(path.join(dir, 'one'), 'first');
      fs.writeFileSync(path.join(dir, 'three'), 'third');
      const packs = new PackQueue(LIMITS, ['u0']);
      for (const [name, size] of [
        ['one', 5],
        ['two', 7],
        ['three', 5],
      ] as const) {
        packs.add({ rel: `\\${name}`, host: path.join(dir, name), size, fields: `${size}\t644\to\t0` });
      }
      const { body, placed } = packs.build();
      expect(body.toString('latin1')).toBe(`first${'\0'.repeat(7)}third`);
      expect(placed.map((p) => [p.rel, p.offset, 'why' in p ? 'unread' : p.sha256])).toEqual([
        ['\\one', 0, sha('first')],
        ['\\two', 5, 'unread'],
        ['\\three', 12, sha('third')],
      ]);
      expect(placed[1]).toMatchObject({ why: expect.stringMatching(/ENOENT/) });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
