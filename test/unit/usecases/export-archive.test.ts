import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFsObjectStore } from '../../../lib/adapters/fs-object-store/index.js';
import type { ByteRange, ObjectStore } from '../../../lib/ports/object-store.js';
import { archiveExport } from '../../../lib/usecases/export/archive.js';
import type { StepContext } from '../../../lib/usecases/jobs/job-kind.js';
import type { Job } from '../../../lib/domain/model.js';
import { exportKeys } from '../../../lib/usecases/export/state.js';

/**
 * The export job's archive step on the folder store: a tree with packed small files, a 20 MB file
 * in its own object, a directory and a symlink. GNU tar unpacks it to the same tree, and the step
 * never reads more than a few chunks ahead of what the archive's writer has taken: the 20 MB file
 * streams through instead of being held.
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

describe('the export archive step', () => {
  it('writes a tar.gz of packed and whole files that unpacks to the same tree, streaming a 20 MB file', async () => {
    const inner = createFsObjectStore({ root: path.join(dir, 'objects'), baseUrl: 'http://127.0.0.1:1/o' });
    const id = 'ex-archive';
    const keys = exportKeys(id);
    const small = [randomBytes(10), Buffer.alloc(0), randomBytes(4096), Buffer.from('name with space\n')];
    const names = ['a.bin', 'empty', 'b.bin', 'c d.txt'];
    await inner.put(keys.pack(0), Buffer.concat([randomBytes(7), ...small]));
    const big = randomBytes(BIG);
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

    const { store, seen } = countingStore(inner);
    const ctx = { deps: { objectStore: store } } as unknown as StepContext;
    await archiveExport(ctx, { id } as Job);

    // Random bytes do not compress: what the writer took tracks what was read, a few chunks (the
    // store reads 1 MiB at a time) behind, far less than the 20 MB file.
    expect(seen.read).toBeGreaterThanOrEqual(BIG);
    expect(seen.maxLead).toBeLessThan(6 * 1024 * 1024);
    const out = path.join(dir, 'x');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(dir, 'all.tar.gz'), Buffer.concat(seen.archive));
    execFileSync('tar', ['-xzf', path.join(dir, 'all.tar.gz'), '-C', out]);
    for (const [i, name] of names.entries())
      expect([name, sha(fs.readFileSync(path.join(out, 'srv', name)))]).toEqual([name, sha(small[i]!)]);
    expect(sha(fs.readFileSync(path.join(out, 'srv/big.bin')))).toBe(sha(big));
    expect(fs.readlinkSync(path.join(out, 'srv/link'))).toBe('a.bin');
    expect(fs.readdirSync(path.join(out, 'srv')).sort()).toEqual([...names, 'big.bin', 'link'].sort());
  });
});
