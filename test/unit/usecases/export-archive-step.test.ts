import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFsObjectStore } from '../../../lib/adapters/fs-object-store/index.js';
import { isTerminal } from '../../../lib/domain/job.js';
import { requestExport } from '../../../lib/usecases/export/requests.js';
import { exportKeys, type ExportState } from '../../../lib/usecases/export/state.js';
import { harness, jobOf, startBackup, type Harness } from './harness.js';

/**
 * The archive step refuses to start on files whose objects do not match the manifest: a ranged
 * read would pass over an object that is too long, so the job fails naming the file, and its
 * clean-up leaves no object and no upload.
 */

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('the export archive step', () => {
  it('fails the export, naming the file, when a file object is not the size the manifest says', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    const backup = await startBackup(h, instanceId);
    await h.drain({ until: async () => isTerminal((await jobOf(h!, backup.id)).status) });
    const pointId = ((await jobOf(h, backup.id)).state as { pointId: string }).pointId;
    const store = createFsObjectStore({
      root: mkdtempSync(path.join(os.tmpdir(), 'export-step-')),
      baseUrl: 'http://127.0.0.1:1/objects',
    });
    h.deps.objectStore = store;
    h.deps.settings = { ...h.deps.settings, EXPORT_MAX_FILES: 3 };
    const asked = await requestExport(h.deps, pointId, { paths: ['/etc'], targetInstanceId: instanceId });
    if (!asked.ok) throw new Error(JSON.stringify(asked));
    const keys = exportKeys(asked.value.id);
    // The guest said 5 bytes; the object holds 6.
    await store.put(keys.blob(0), 'hello!');
    await store.put(keys.manifest, 'f\t5\t644\troot:root\t1\tabc\t0\0/etc/a\0\0');

    await h.drain({ until: async () => isTerminal((await jobOf(h!, asked.value.id)).status) });

    const job = await jobOf(h, asked.value.id);
    expect(job.status).toBe('FAILED');
    expect(job.reason).toContain(
      'the archive cannot be made: /etc/a holds 6 bytes in the store, the manifest says 5',
    );
    expect((job.state as ExportState).archive).toBeUndefined();
    expect(await store.list(keys.prefix)).toEqual([]);
    expect(await store.listUploads(keys.prefix)).toEqual([]);
  });
});
