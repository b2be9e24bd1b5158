import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFsObjectStore } from '../../../lib/adapters/fs-object-store/index.js';
import type { ByteRange, ObjectStore } from '../../../lib/ports/object-store.js';
import { buildArchive } from '../../../lib/usecases/export/archive.js';
import { planArchiveParts } from '../../../lib/usecases/export/archive-plan.js';
import { checkBlobs, gzipMember, readLayout } from '../../../lib/usecases/export/archive-stream.js';
import { exportKeys } from '../../../lib/usecases/export/state.js';

/**
 * The export archive's bytes on the folder store: a tree with packed small files, a 20 MB file in
 * its own object, a directory and a symlink. GNU tar unpacks it to the same tree, the whole-archive
 * writer never reads more than a few chunks ahead of what the store has taken (the 20 MB file
 * streams through instead of being held), and the gzip members of any cut of the tar stream, one
 * after the other, are the same archive for GNU tar and for Node's zlib.
 */

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const BIG = 20 * 1024 * 1024;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'export-archive-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The folder store, counting the bytes read from exported objects and taken by the archive's writer. */
function countingStore(inner: ObjectStore) {
  const seen = { read: 0, taken: 0, maxLead: 0, archive: [] as Buffer[] };
  const store: ObjectStore = {
    ...inner,
    put: inner.put.bind(inner),
    get: inner.get.bind(inner),
    list: inner.list.bind(inner),
    delete: inner.delete.bind(inner),
    abortUploads: inner.abortUploads.bind(inner),
    signedUrl: inner.signedUrl.bind(inner),
    async open(key: string, range?: ByteRange) {
      const opened = await inner.open(key, range);
      if (!opened) return undefined;
      const count = new Transform({
        transform(chunk: Buffer, _enc, done) {
          seen.read += chunk.length;
          done(null, chunk);
        },
      });
      return { ...opened, body: opened.body.pipe(count) };
    },
    async putStream(_key: string, body: Readable) {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        seen.taken += chunk.length;
        seen.maxLead = Math.max(seen.maxLead, seen.read - seen.taken);
        seen.archive.push(chunk);
        // A slow writer: the reader must wait for it rather than run ahead.
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
  };
  return { store, seen };
}

const ID = 'ex-archive';
const small = [randomBytes(10), Buffer.alloc(0), randomBytes(4096), Buffer.from('name with space\n')];
const names = ['a.bin', 'empty', 'b.bin', 'c d.txt'];
const big = randomBytes(BIG);
let inner: ObjectStore;

beforeAll(async () => {
  inner = createFsObjectStore({ root: path.join(dir, 'objects'), baseUrl: 'http://127.0.0.1:1/o' });
  const keys = exportKeys(ID);
  await inner.put(keys.pack(0), Buffer.concat([randomBytes(7), ...small]));
  await inner.put(keys.blob(0), big);
  const rec = (fields: string[], p: string, extra = '') => `${fields.join('\t')}\0${p}\0${extra}\0`;
  let offset = 7;
  const manifest = [
    rec(['d', '0', '755', 'root:root', '1700000000', '-', '-'], '/srv'),
    ...small.map((b, i) => {
      const r = rec(
        ['f', String(b.length), '644', 'root:root', '1700000000', sha(b), `p0@${offset}`],
        `/srv/${names[i]}`,
      );
      offset += b.length;
      return r;
    }),
    rec(['f', String(BIG), '600', 'root:root', '1700000000', sha(big), '0'], '/srv/big.bin'),
    rec(['l', '5', '777', 'root:root', '1700000000', '-', '-'], '/srv/link', 'a.bin'),
  ].join('');
  await inner.put(keys.manifest, manifest);
});

/** Unpacks `archive` with GNU tar and checks it is the tree above, byte for byte. */
function expectTree(archive: Buffer, name: string) {
  const out = path.join(dir, name);
  fs.mkdirSync(out);
  fs.writeFileSync(path.join(dir, `${name}.tar.gz`), archive);
  execFileSync('tar', ['-xzf', path.join(dir, `${name}.tar.gz`), '-C', out]);
  for (const [i, n] of names.entries())
    expect([n, sha(fs.readFileSync(path.join(out, 'srv', n)))]).toEqual([n, sha(small[i]!)]);
  expect(sha(fs.readFileSync(path.join(out, 'srv/big.bin')))).toBe(sha(big));
  expect(fs.readlinkSync(path.join(out, 'srv/link'))).toBe('a.bin');
  expect(fs.readdirSync(path.join(out, 'srv')).sort()).toEqual([...names, 'big.bin', 'link'].sort());
}

describe('the export archive', () => {
  it('writes a tar.gz of packed and whole files that unpacks to the same tree, streaming a 20 MB file', async () => {
    const { store, seen } = countingStore(inner);
    const layout = await readLayout(store, ID);
    await buildArchive(store, ID, layout.entries);

    // Random bytes do not compress: what the writer took tracks what was read, a few chunks (the
    // store reads 1 MiB at a time) behind, far less than the 20 MB file.
    expect(seen.read).toBeGreaterThanOrEqual(BIG);
    expect(seen.maxLead).toBeLessThan(6 * 1024 * 1024);
    expectTree(Buffer.concat(seen.archive), 'whole');
  });

  it('is the same tar stream in members cut anywhere: between entries, inside headers and inside the big file', async () => {
    const layout = await readLayout(inner, ID);
    const whole = gunzipSync(await gzipMember(inner, ID, layout, { start: 0, end: layout.total }));
    expect(whole.length).toBe(layout.total);
    const planned = planArchiveParts(layout.spans, 3 * 1024 * 1024 + 1);
    expect(planned.length).toBeGreaterThan(6);
    // Cuts anywhere: inside the first header, between two small files' blocks, inside the big file.
    const points = [0, 100, 513, 1500, 7000, 5_000_003, layout.total];
    const anywhere = points.slice(1).map((end, i) => ({ start: points[i]!, end }));
    for (const [name, plan] of [
      ['planned', planned],
      ['anywhere', anywhere],
    ] as const) {
      const members: Buffer[] = [];
      for (const part of plan) members.push(await gzipMember(inner, ID, layout, part));
      const archive = Buffer.concat(members);
      // Node's zlib reads every member, not the first alone.
      expect(sha(gunzipSync(archive))).toBe(sha(whole));
      expectTree(archive, name);
    }
  });

  it("checks the files' own objects against the manifest before an archive starts: missing or of another size", async () => {
    const layout = await readLayout(inner, ID);
    expect(await checkBlobs(inner, ID, layout.entries)).toBeUndefined();
    const other = 'ex-archive-wrong';
    expect(await checkBlobs(inner, other, layout.entries)).toBe(
      'the object holding /srv/big.bin (blob 0) is missing',
    );
    await inner.put(exportKeys(other).blob(0), big.subarray(0, BIG - 1));
    expect(await checkBlobs(inner, other, layout.entries)).toBe(
      `/srv/big.bin holds ${BIG - 1} bytes in the store, the manifest says ${BIG}`,
    );
  });
});
