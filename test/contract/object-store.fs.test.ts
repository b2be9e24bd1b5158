import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createFsObjectStore } from '../../lib/adapters/fs-object-store/index.js';
import { serveSignedObject } from '../../lib/adapters/fs-object-store/serve.js';
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
