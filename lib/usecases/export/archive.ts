import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { ExportEntry } from '../../domain/export.js';
import type { ObjectStore } from '../../ports/object-store.js';
import type { Deps } from '../deps.js';
import { conflict, ok, type Outcome } from '../management/outcome.js';
import { archiveLayout, tarBytes } from './archive-stream.js';
import { attachment, DOWNLOAD_URL_MS, type DownloadLink } from './disposition.js';
import { getExport, readyExport } from './requests.js';
import { exportKeys, exportState } from './state.js';

/**
 * Streams the tar.gz of every exported entry into the store under the export's archive key, as one
 * gzip member: for an export completed before its job made archives (archive-step.ts does now).
 */
export async function buildArchive(store: ObjectStore, id: string, entries: ExportEntry[]): Promise<void> {
  const layout = archiveLayout(entries);
  const gzip = createGzip({ level: 6 });
  const written = store.putStream(exportKeys(id).archive, gzip, 'application/gzip');
  const fed = pipeline(Readable.from(tarBytes(store, id, layout, { start: 0, end: layout.total })), gzip);
  // Either side failing fails the whole: a half-fed archive must never be published.
  const [feeding, writing] = await Promise.allSettled([fed, written]);
  if (feeding.status === 'rejected') throw feeding.reason;
  if (writing.status === 'rejected') throw writing.reason;
}

/**
 * The whole export as one tar.gz: the archive the job made, handed out like a single file (a signed
 * URL that answers with `Content-Disposition`). The API function cannot stream a body (an FC HTTP
 * answer is one buffered payload), hence an object. An export completed before its job made
 * archives gets one on the first download.
 */
export async function downloadArchive(
  deps: Pick<Deps, 'store' | 'objectStore' | 'clock'>,
  id: string,
): Promise<Outcome<DownloadLink>> {
  const tree = await readyExport(deps, id);
  if (!tree.ok) return tree;
  const store = deps.objectStore!;
  const key = exportKeys(id).archive;
  if (!(await store.list(key)).some((o) => o.key === key)) {
    await buildArchive(store, id, tree.value.under('/'));
    // A DELETE that ran meanwhile must not leave the new archive behind.
    const after = await getExport(deps, id);
    if (!after.ok || exportState(after.value).deletedAt) {
      await store.delete(key);
      return conflict(`export ${id} was deleted; its files are gone`);
    }
  }
  const filename = `export-${id}.tar.gz`;
  const expiresAt = deps.clock.now() + DOWNLOAD_URL_MS;
  const url = await store.signedUrl(key, expiresAt, 'GET', { contentDisposition: attachment(filename) });
  return ok({ url, expiresAt, filename });
}
