import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFsObjectStore } from '../../../lib/adapters/fs-object-store/index.js';
import { parseManifest } from '../../../lib/domain/export.js';
import {
  checkPacks,
  PACK_BYTES,
  PACK_FILE_BYTES,
  PACK_FILES,
  packCount,
  readPacked,
} from '../../../lib/usecases/export/packs.js';
import { exportKeys } from '../../../lib/usecases/export/state.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'export-packs-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const store = createFsObjectStore({ root: dir, baseUrl: 'http://127.0.0.1:1/o' });
const sha = (b: string) => createHash('sha256').update(b).digest('hex');
const rec = (blob: string, size: number, p: string, hash = '-') =>
  `f\t${size}\t644\troot:root\t1\t${hash}\t${blob}\0${p}\0\0`;

describe('packs of small files', () => {
  it('signs enough pack URLs for the worst case the limits allow', () => {
    // Every pack but the last is full by count or by bytes (a file that does not fit closes it).
    const worstByBytes = (files: number) =>
      Math.ceil((files * (PACK_FILE_BYTES - 1)) / (PACK_BYTES - PACK_FILE_BYTES)) + 1;
    expect(packCount(10_000, 100 * 1024 ** 3)).toBeGreaterThanOrEqual(worstByBytes(10_000));
    expect(packCount(100_000, 1024)).toBeGreaterThanOrEqual(Math.ceil(100_000 / PACK_FILES));
    expect(packCount(1, 1)).toBeGreaterThanOrEqual(1);
  });

  it('reads a packed file by its range, with its name and sha256 ETag', async () => {
    const id = 'ex-read';
    await store.put(exportKeys(id).pack(0), 'xxhello world');
    const [entry] = parseManifest(rec('p0@2', 5, '/srv/a b.txt', sha('hello'))).entries;
    const file = await readPacked(store, id, entry!);
    expect(file.body.toString()).toBe('hello');
    expect(file.etag).toBe(`"${sha('hello')}"`);
    expect(file.contentDisposition).toContain(`filename*=UTF-8''a%20b.txt`);
  });

  it('finds a pack missing or shorter than the ranges the manifest places in it', async () => {
    const id = 'ex-check';
    await store.put(exportKeys(id).pack(0), '0123456789');
    const fits = parseManifest(rec('p0@0', 4, '/a') + rec('p0@4', 6, '/b') + rec('3', 9, '/c')).entries;
    expect(await checkPacks(store, id, fits)).toBeUndefined();
    const short = parseManifest(rec('p0@4', 7, '/b')).entries;
    expect(await checkPacks(store, id, short)).toBe('pack 0 holds 10 bytes, but /b ends at byte 11');
    const missing = parseManifest(rec('p1@0', 1, '/d')).entries;
    expect(await checkPacks(store, id, missing)).toBe('pack 1, holding /d, was not uploaded');
  });
});
