import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
 * clean-up leaves no object and no upload. And an upload whose parts do not add up to what the job
 * recorded (a part replaced by a stale delivery) is never published: the archive starts over.
 */

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A completed backup and an export of it queued on the folder store; its keys and the store. */
async function queuedExport(h: Harness) {
  const { instanceId } = h.ecs.addInstance();
  const backup = await startBackup(h, instanceId);
  await h.drain({ until: async () => isTerminal((await jobOf(h, backup.id)).status) });
  const pointId = ((await jobOf(h, backup.id)).state as { pointId: string }).pointId;
  const store = createFsObjectStore({
    root: mkdtempSync(path.join(os.tmpdir(), 'export-step-')),
    baseUrl: 'http://127.0.0.1:1/objects',
  });
  h.deps.objectStore = store;
  h.deps.settings = { ...h.deps.settings, EXPORT_MAX_FILES: 3 };
  const asked = await requestExport(h.deps, pointId, { paths: ['/etc'], targetInstanceId: instanceId });
  if (!asked.ok) throw new Error(JSON.stringify(asked));
  return { id: asked.value.id, keys: exportKeys(asked.value.id), store };
}

describe('the export archive step', () => {
  it('starts over when the stored parts do not add up to the bytes recorded, and publishes the right archive', async () => {
    h = harness();
    const { id, keys, store } = await queuedExport(h);
    h.deps.settings = { ...h.deps.settings, EXPORT_ARCHIVE_PART_BYTES: 64 * 1024 };
    const file = randomBytes(400_000);
    await store.put(keys.blob(0), file);
    await store.put(keys.manifest, `f\t${file.length}\t644\troot:root\t1\tabc\t0\0/etc/a\0\0`);
    let replacedIn: string | undefined;
    h.deps.hooks = {
      afterJobStep: async (job) => {
        const st = (job.state as ExportState).archive;
        if (job.id !== id || !st || st.parts !== 2 || replacedIn) return;
        replacedIn = st.uploadId;
        await store.uploadPart(keys.archive, st.uploadId, 1, randomBytes(333_333));
      },
    };

    await h.drain({ until: async () => isTerminal((await jobOf(h!, id)).status) });

    const job = await jobOf(h, id);
    expect(job.status, job.reason ?? '').toBe('COMPLETE');
    expect(replacedIn).toBeDefined();
    expect((job.state as ExportState).archive!.uploadId).not.toBe(replacedIn);
    const out = mkdtempSync(path.join(os.tmpdir(), 'export-step-x-'));
    writeFileSync(path.join(out, 'a.tar.gz'), (await store.get(keys.archive))!);
    execFileSync('tar', ['-xzf', path.join(out, 'a.tar.gz'), '-C', out]);
    expect(readFileSync(path.join(out, 'etc/a')).equals(file)).toBe(true);
    expect(await store.listUploads(keys.prefix)).toEqual([]);
  });

  it('fails the export, naming the file, when a file object is not the size the manifest says', async () => {
    h = harness();
    const { id, keys, store } = await queuedExport(h);
    // The guest said 5 bytes; the object holds 6.
    await store.put(keys.blob(0), 'hello!');
    await store.put(keys.manifest, 'f\t5\t644\troot:root\t1\tabc\t0\0/etc/a\0\0');

    await h.drain({ until: async () => isTerminal((await jobOf(h!, id)).status) });

    const job = await jobOf(h, id);
    expect(job.status).toBe('FAILED');
    expect(job.reason).toContain(
      'the archive cannot be made: /etc/a holds 6 bytes in the store, the manifest says 5',
    );
    expect((job.state as ExportState).archive).toBeUndefined();
    expect(await store.list(keys.prefix)).toEqual([]);
    expect(await store.listUploads(keys.prefix)).toEqual([]);
  });
});
