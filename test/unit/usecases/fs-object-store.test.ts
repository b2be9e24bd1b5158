import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createFsObjectStore,
  ObjectKeyError,
  type FsObjectStore,
} from '../../../lib/adapters/fs-object-store/index.js';

let root: string;
let store: FsObjectStore;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsb-objects-'));
  store = createFsObjectStore({ root, baseUrl: 'http://127.0.0.1:8080/objects/', secret: 'test-secret' });
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('object store on a local folder', () => {
  it('puts, gets and lists objects under a prefix, with their sizes', async () => {
    await store.put('exports/e1/manifest.json', '{"files":[]}', 'application/json');
    await store.put('exports/e1/files/etc/hostname', Buffer.from('web\n'));
    await store.put('exports/e2/manifest.json', '{}');

    expect((await store.get('exports/e1/files/etc/hostname'))?.toString()).toBe('web\n');
    expect(await store.get('exports/e1/missing')).toBeUndefined();
    expect(await store.contentType('exports/e1/manifest.json')).toBe('application/json');
    expect(await store.list('exports/e1/')).toEqual([
      { key: 'exports/e1/files/etc/hostname', size: 4 },
      { key: 'exports/e1/manifest.json', size: 12 },
    ]);
    expect((await store.list('')).length).toBe(3);
  });

  it('deletes everything under a prefix and nothing else', async () => {
    await store.put('exports/e1/a', 'a');
    await store.put('exports/e1/b/c', 'c');
    await store.put('exports/e10/a', 'keep');

    await store.delete('exports/e1/');

    expect(await store.list('exports/')).toEqual([{ key: 'exports/e10/a', size: 4 }]);
  });

  it('refuses keys that could leave its folder', async () => {
    for (const bad of ['../escape', '/abs', 'a/../b', 'a//b', 'a\\b', '']) {
      await expect(store.put(bad, 'x')).rejects.toBeInstanceOf(ObjectKeyError);
    }
    expect(fs.existsSync(path.join(root, '..', 'escape'))).toBe(false);
  });

  it('signs URLs that verify until they expire and not after, nor for another key', async () => {
    const url = new URL(await store.signedUrl('exports/e1/my file.txt', 2_000_000));
    const expires = Number(url.searchParams.get('expires'));
    const signature = url.searchParams.get('signature')!;

    expect(url.pathname).toBe('/objects/exports/e1/my%20file.txt');
    expect(store.verify('exports/e1/my file.txt', expires, signature, 1_999_999)).toBe(true);
    expect(store.verify('exports/e1/my file.txt', expires, signature, 2_000_000)).toBe(false);
    expect(store.verify('exports/e1/other.txt', expires, signature, 1_000)).toBe(false);
    expect(store.verify('exports/e1/my file.txt', expires + 1, signature, 1_000)).toBe(false);
  });
});
