import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFsObjectStore } from '../../../lib/adapters/fs-object-store/index.js';
import { newJob } from '../../../lib/domain/job.js';
import { expireExports } from '../../../lib/usecases/export/expiry.js';
import { exportKeys, type ExportState } from '../../../lib/usecases/export/state.js';
import { harness, type Harness } from './harness.js';

let h: Harness | undefined;
let root: string | undefined;
afterEach(async () => {
  await h?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('export expiry', () => {
  it('deletes the files of completed exports past their expiry, keeps the record, and leaves the others', async () => {
    // Prepare
    h = harness();
    root = mkdtempSync(path.join(os.tmpdir(), 'export-expiry-'));
    const store = createFsObjectStore({ root, baseUrl: 'http://127.0.0.1:1/objects', secret: 's' });
    h.deps.objectStore = store;
    const now = h.clock.now();
    const make = async (id: string, status: 'COMPLETE' | 'RUNNING', expiresAt: number) => {
      const job = newJob({ id, type: 'export', instanceId: 'i-1', planId: null, params: {} }, now - 1000);
      const state: ExportState = { exportExpiresAt: expiresAt };
      await h!.deps.store.jobs.create({ ...job, status, state: { ...state } });
      await store.put(exportKeys(id).blob(0), 'bytes');
    };
    await make('export-old', 'COMPLETE', now - 1);
    await make('export-new', 'COMPLETE', now + 86_400_000);
    await make('export-running', 'RUNNING', now - 1);

    // Act
    const deleted = await expireExports(h.deps, now);
    const again = await expireExports(h.deps, now);

    // Assess
    expect([deleted, again]).toEqual([1, 0]);
    expect(await store.list(exportKeys('export-old').prefix)).toEqual([]);
    expect((await h.deps.store.jobs.get('export-old'))!.state).toMatchObject({ deletedAt: now });
    expect(await store.list(exportKeys('export-new').prefix)).toHaveLength(1);
    expect(await store.list(exportKeys('export-running').prefix)).toHaveLength(1);
  });
});
