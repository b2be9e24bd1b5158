import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { createFsObjectStore, type FsObjectStore } from '../../../lib/adapters/fs-object-store/index.js';
import type { ExportEntry } from '../../../lib/domain/export.js';
import type { ObjectStore } from '../../../lib/ports/object-store.js';
import { hashPack, packedFiles, withPackHashes } from '../../../lib/usecases/export/pack-hashes.js';
import { exportKeys } from '../../../lib/usecases/export/state.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

let dir: string;
let store: FsObjectStore;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pack-hashes-'));
  store = createFsObjectStore({
    root: path.join(dir, 'objects'),
    baseUrl: 'http://127.0.0.1:1/o',
    secret: 's',
  });
});

function file(
  p: string,
  size: number,
  pack: number,
  offset: number,
  sha256: string | null = null,
): ExportEntry {
  return {
    path: p,
    type: 'file',
    size,
    mode: 0o644,
    owner: 'root:root',
    mtime: 0,
    sha256,
    blob: null,
    pack: { index: pack, offset },
    target: null,
  };
}

/** The same store, its objects read `size` bytes at a time (headers and files cut anywhere). */
function chunked(inner: ObjectStore, size: number): ObjectStore {
  return {
    ...inner,
    async open(key, range) {
      const opened = await inner.open(key, range);
      if (!opened) return undefined;
      const chunks: Buffer[] = [];
      for await (const c of opened.body as AsyncIterable<Buffer>) chunks.push(c);
      const whole = Buffer.concat(chunks);
      const pieces = Array.from({ length: Math.ceil(whole.length / size) }, (_, i) =>
        whole.subarray(i * size, (i + 1) * size),
      );
      return { ...opened, body: Readable.from(pieces) };
    },
  };
}

/**
 * Where GNU tar put each member's bytes, read from the archive's own headers (a long name's header
 * and blocks come first): what the guest predicts, found independently.
 */
function tarOffsets(tar: Buffer): Map<string, { offset: number; size: number }> {
  const found = new Map<string, { offset: number; size: number }>();
  let at = 0;
  let longName: string | undefined;
  while (at + 512 <= tar.length && tar[at] !== 0) {
    const size = parseInt(tar.toString('latin1', at + 124, at + 136).replace(/[\0 ]/g, ''), 8);
    const type = tar.toString('latin1', at + 156, at + 157);
    const data = at + 512;
    if (type === 'L') longName = tar.toString('utf8', data, data + size - 1);
    else {
      found.set(longName ?? tar.toString('utf8', at, at + 100).replace(/\0.*$/s, ''), { offset: data, size });
      longName = undefined;
    }
    at = data + Math.ceil(size / 512) * 512;
  }
  return found;
}

describe('packed files hashed from their pack', () => {
  const names = ['a', `long/${'x'.repeat(120)}`, 'empty', 'b'];
  const bodies = new Map<string, Buffer>();
  let layout: Map<string, { offset: number; size: number }>;

  beforeAll(async () => {
    const root = path.join(dir, 'disk');
    for (const [i, n] of names.entries()) {
      const body = n === 'empty' ? Buffer.alloc(0) : randomBytes(300 + i * 400);
      bodies.set(n, body);
      await fs.mkdir(path.dirname(path.join(root, n)), { recursive: true });
      await fs.writeFile(path.join(root, n), body);
    }
    const list = names.map((n) => `./${n}\0`).join('');
    const tar = execFileSync(
      'tar',
      ['c', '-C', root, '--format=gnu', '--no-recursion', '--null', '-T', '-'],
      { input: list },
    );
    await store.put(exportKeys('t1').pack(0), tar);
    layout = tarOffsets(tar);
  });

  const entries = () =>
    names.map((n) => file(`/${n}`, bodies.get(n)!.length, 0, layout.get(`./${n}`)!.offset));

  it('hashes each file of a tar pack where its header says, whatever the read size', async () => {
    for (const size of [1, 7, 511, 512, 513, 65536]) {
      const result = await hashPack(chunked(store, size), 't1', entries(), 0);
      expect([size, result]).toEqual([size, { ok: true, sums: names.map((n) => sha(bodies.get(n)!)) }]);
    }
  });

  it('refuses a layout predicted wrong: no header, or a header of another size', async () => {
    const shifted = entries().map((e, i) =>
      i === 1 ? { ...e, pack: { index: 0, offset: e.pack!.offset + 512 } } : e,
    );
    expect(await hashPack(store, 't1', shifted, 0)).toEqual({
      ok: false,
      reason: `pack 0: /${names[1]} no tar header precedes it`,
    });
    const resized = entries().map((e, i) => (i === 3 ? { ...e, size: e.size - 1 } : e));
    expect(await hashPack(chunked(store, 100), 't1', resized, 0)).toEqual({
      ok: false,
      reason: `pack 0: /b its tar header says ${bodies.get('b')!.length} bytes, the manifest ${bodies.get('b')!.length - 1}`,
    });
  });

  it('refuses a file the instance hashed otherwise', async () => {
    const claimed = entries().map((e, i) => (i === 0 ? { ...e, sha256: sha('other') } : e));
    expect(await hashPack(store, 't1', claimed, 0)).toEqual({
      ok: false,
      reason: `pack 0: /a hashes ${sha(bodies.get('a')!)} in the store, ${sha('other')} on the instance`,
    });
  });

  it('hashes a pack of bare bytes, empty files first, between and last', async () => {
    await store.put(exportKeys('t2').pack(3), 'abcdef');
    const bare = [
      file('/e0', 0, 3, 0),
      file('/x', 2, 3, 0),
      file('/e1', 0, 3, 2),
      file('/y', 4, 3, 2),
      file('/e2', 0, 3, 6),
    ];
    for (const size of [1, 4, 100]) {
      expect(await hashPack(chunked(store, size), 't2', bare, 3)).toEqual({
        ok: true,
        sums: [sha(''), sha('ab'), sha(''), sha('cdef'), sha('')],
      });
    }
    expect(await hashPack(store, 't2', [file('/z', 7, 3, 0)], 3)).toEqual({
      ok: false,
      reason: 'pack 3 holds 6 bytes, but /z ends at byte 7',
    });
    expect(await hashPack(store, 't2', [file('/z', 1, 4, 0)], 4)).toEqual({
      ok: false,
      reason: 'pack 4 was not uploaded',
    });
  });

  it('fills in the manifest by pack and byte order, leaving other files as they were', () => {
    const alone = { ...file('/alone', 3, 0, 0, sha('abc')), pack: undefined, blob: 0 };
    const later = file('/later', 1, 1, 9);
    const first = file('/first', 1, 1, 0);
    const zero = file('/zero', 1, 0, 0);
    const filled = withPackHashes({ entries: [alone, later, first, zero], skipped: [] }, (k) =>
      k === 0 ? ['s0'] : ['s1-first', 's1-later'],
    );
    expect(filled.entries.map((e) => [e.path, e.sha256])).toEqual([
      ['/alone', sha('abc')],
      ['/later', 's1-later'],
      ['/first', 's1-first'],
      ['/zero', 's0'],
    ]);
    expect(packedFiles(filled.entries, 1).map((e) => e.path)).toEqual(['/first', '/later']);
  });
});
