/**
 * Small files travel in packs: the guest appends every file below PACK_FILE_BYTES to a pack object
 * (up to PACK_BYTES or PACK_FILES) and uploads the pack through one signed URL, since one signed PUT
 * per 4 KB file costs a request's round trip and the store's per-object work for a few bytes. The
 * manifest says where in which pack each file's bytes are; a download reads that byte range.
 * Per-file objects stay valid: a guest that does not pack (or runs out of pack URLs) uploads files
 * one by one, and both kinds can appear in one export.
 */
import { nameOf, type ExportEntry } from '../../domain/export.js';
import type { ObjectStore, OpenedObject } from '../../ports/object-store.js';
import { attachment, type DownloadBytes } from './disposition.js';
import { exportKeys } from './state.js';

/** Files smaller than this go into packs. */
export const PACK_FILE_BYTES = 1024 * 1024;
/** A pack is closed before it would pass this many bytes... */
export const PACK_BYTES = 64 * 1024 * 1024;
/** ...or this many files (the guest holds a pack's names in memory). */
export const PACK_FILES = 8192;

/**
 * How many pack URLs a guest may need at most: a pack closes when the next file would not fit, so
 * every pack but the last holds PACK_FILES files or more than PACK_BYTES - PACK_FILE_BYTES bytes,
 * and the small files of one export hold at most maxFiles × PACK_FILE_BYTES bytes.
 */
export function packCount(maxFiles: number, maxBytes: number): number {
  const smallBytes = Math.min(maxBytes, maxFiles * PACK_FILE_BYTES);
  return Math.ceil(maxFiles / PACK_FILES) + Math.ceil(smallBytes / (PACK_BYTES - PACK_FILE_BYTES)) + 1;
}

/** Where an exported file's bytes are: its own object, or its range of a pack. */
export function openExportedFile(
  store: ObjectStore,
  id: string,
  entry: ExportEntry,
): Promise<OpenedObject | undefined> {
  const keys = exportKeys(id);
  if (entry.pack) {
    return store.open(keys.pack(entry.pack.index), { start: entry.pack.offset, length: entry.size });
  }
  return entry.blob === null ? Promise.resolve(undefined) : store.open(keys.blob(entry.blob));
}

/** A packed file's bytes, read from its pack's range: small by construction, so whole in memory. */
export async function readPacked(store: ObjectStore, id: string, entry: ExportEntry): Promise<DownloadBytes> {
  const opened = await openExportedFile(store, id, entry);
  if (!opened) throw new Error(`export ${id}: the pack holding ${entry.path} is missing`);
  const chunks: Buffer[] = [];
  for await (const chunk of opened.body as AsyncIterable<Buffer>) chunks.push(chunk);
  const filename = nameOf(entry.path);
  return {
    body: Buffer.concat(chunks),
    filename,
    contentDisposition: attachment(filename),
    ...(entry.sha256 ? { etag: `"${entry.sha256}"` } : {}),
  };
}

/**
 * Why the packs do not hold what the manifest places in them (a pack missing or shorter than a
 * file's range), or undefined when every packed file's bytes are there.
 */
export async function checkPacks(store: ObjectStore, id: string, entries: readonly ExportEntry[]) {
  const keys = exportKeys(id);
  const sizes = new Map((await store.list(keys.packs)).map((o) => [o.key, o.size]));
  for (const e of entries) {
    if (!e.pack) continue;
    const size = sizes.get(keys.pack(e.pack.index));
    if (size === undefined) return `pack ${e.pack.index}, holding ${e.path}, was not uploaded`;
    if (e.pack.offset + e.size > size)
      return `pack ${e.pack.index} holds ${size} bytes, but ${e.path} ends at byte ${e.pack.offset + e.size}`;
  }
  return undefined;
}
