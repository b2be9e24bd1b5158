import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createFsObjectStore } from '../../lib/adapters/fs-object-store/index.js';
import { serveSignedObject } from '../../lib/adapters/fs-object-store/serve.js';
import { multipartContract } from './object-store-multipart.contract.js';
import { objectStoreContract } from './object-store.contract.js';

objectStoreContract('local folder', async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'objects-'));
  const holder: { store?: ReturnType<typeof createFsObjectStore> } = {};
  const server = http.createServer((req, res) => {
    void serveSignedObject(holder.store!, '/objects', req, res, Date.now()).then((served) => {
      if (!served) res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const store = createFsObjectStore({
    root,
    baseUrl: `http://127.0.0.1:${port}/objects`,
    secret: 'contract',
  });
  holder.store = store;
  return {
    store,
    async leaveUnfinishedUpload(key) {
      const file = path.join(root, 'data', ...key.split('/'));
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(`${file}.dead01.tmp`, 'half');
    },
    async dispose() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fs.rm(root, { recursive: true, force: true });
    },
  };
});

describe('local folder multipart', () => {
  let root: string;
  let store: ReturnType<typeof createFsObjectStore>;
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'objects-mp-'));
    store = createFsObjectStore({ root, baseUrl: 'http://127.0.0.1:1/objects', secret: 'contract' });
  });
  afterAll(() => fs.rm(root, { recursive: true, force: true }));
  multipartContract('local folder', () => store);

  it('abortUploads also removes the temp file of a writer that died', async () => {
    await fs.mkdir(path.join(root, 'data', 'tmpdead'), { recursive: true });
    await fs.writeFile(path.join(root, 'data', 'tmpdead', 'x.dead01.tmp'), 'half');
    const id = await store.createUpload('tmpdead/y');
    expect(await store.abortUploads('tmpdead/')).toBe(2);
    await expect(fs.readdir(path.join(root, 'data', 'tmpdead'))).resolves.toEqual([]);
    expect(await store.listUploads('tmpdead/')).toEqual([]);
    await store.abortUpload('tmpdead/y', id);
  });
});
