import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { ExportTree, parseManifest, type ExportEntry } from '../../domain/export.js';
import type { Job } from '../../domain/model.js';
import type { ObjectStore } from '../../ports/object-store.js';
import type { Deps } from '../deps.js';
import type { StepContext } from '../jobs/job-kind.js';
import { conflict, ok, type Outcome } from '../management/outcome.js';
import { attachment, DOWNLOAD_URL_MS, type DownloadLink } from './disposition.js';
import { objectStoreOf } from './guest-steps.js';
import { getExport, readyExport } from './requests.js';
import { openExportedFile } from './packs.js';
import { exportKeys, exportState } from './state.js';
import { END_OF_ARCHIVE, entryHeader, padding } from './tar.js';

/**
 * The archive's bytes, entry by entry: each file's object is opened in turn and streamed through, so
 * memory holds one chunk whatever the export's size. Paths lose their leading `/`, as tar does.
 */
async function* archiveBytes(store: ObjectStore, id: string, entries: ExportEntry[]): AsyncGenerator<Buffer> {
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, '');
    if (name === '') continue;
    const [uname = '', gname = ''] = e.owner.split(':');
    const size = e.type === 'file' ? e.size : 0;
    yield entryHeader({
      name,
      type: e.type,
      size,
      mode: e.mode,
      mtime: e.mtime,
      uname,
      gname,
      linkname: e.target ?? '',
    });
    if (e.type !== 'file') continue;
    const opened = await openExportedFile(store, id, e);
    if (!opened) throw new Error(`export ${id}: the object holding ${e.path} is missing`);
    let seen = 0;
    for await (const chunk of opened.body as AsyncIterable<Buffer>) {
      seen += chunk.length;
      yield chunk;
    }
    // A header promises the size: a short or long object would shift every later entry.
    if (seen !== e.size)
      throw new Error(`export ${id}: ${e.path} holds ${seen} bytes, the manifest says ${e.size}`);
    yield padding(e.size);
  }
  yield END_OF_ARCHIVE;
}

/** Streams the tar.gz of every exported entry into the store under the export's archive key. */
export async function buildArchive(store: ObjectStore, id: string, entries: ExportEntry[]): Promise<void> {
  const gzip = createGzip({ level: 6 });
  const written = store.putStream(exportKeys(id).archive, gzip, 'application/gzip');
  const fed = pipeline(Readable.from(archiveBytes(store, id, entries)), gzip);
  // Either side failing fails the whole: a half-fed archive must never be published.
  const [feeding, writing] = await Promise.allSettled([fed, written]);
  if (feeding.status === 'rejected') throw feeding.reason;
  if (writing.status === 'rejected') throw writing.reason;
}

/**
 * The export job's last step: the whole export as one tar.gz in the store, streamed from the
 * exported objects (packed files read by range), so memory holds a chunk, never a file. A step run
 * again after a crash writes the archive again from the start.
 */
export async function archiveExport(ctx: StepContext, job: Job): Promise<void> {
  const store = objectStoreOf(ctx);
  const text = await store.get(exportKeys(job.id).manifest);
  if (!text) throw new Error(`export ${job.id}: the manifest is missing from the object store`);
  const tree = new ExportTree(parseManifest(text.toString('utf8')).entries);
  await buildArchive(store, job.id, tree.under('/'));
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
