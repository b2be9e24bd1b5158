import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { ExportTree, parseManifest, type ExportEntry } from '../../domain/export.js';
import type { ObjectStore } from '../../ports/object-store.js';
import type { ArchivePart } from './archive-plan.js';
import { exportKeys } from './state.js';
import { END_OF_ARCHIVE, entryHeader, padding, type TarEntry } from './tar.js';

/**
 * The tar stream of an export laid out before any byte is read: where each entry's header, content
 * and padding fall. Any range of the stream can then be made on its own, reading only the file
 * bytes in it (a range of a pack or of a file's object).
 */
export interface ArchiveLayout {
  entries: ExportEntry[];
  tars: TarEntry[];
  /** Each entry's length in the stream (header, content, padding), then the end-of-archive blocks. */
  spans: number[];
  /** Where each span starts. */
  starts: number[];
  total: number;
}

/** Paths lose their leading `/`, as tar does; the root itself is no entry. */
function tarEntryOf(e: ExportEntry): TarEntry {
  const [uname = '', gname = ''] = e.owner.split(':');
  return {
    name: e.path.replace(/^\/+/, ''),
    type: e.type,
    size: e.type === 'file' ? e.size : 0,
    mode: e.mode,
    mtime: e.mtime,
    uname,
    gname,
    linkname: e.target ?? '',
  };
}

export function archiveLayout(all: readonly ExportEntry[]): ArchiveLayout {
  const entries = all.filter((e) => e.path.replace(/^\/+/, '') !== '');
  const tars = entries.map(tarEntryOf);
  const spans = tars.map((t) => entryHeader(t).length + t.size + padding(t.size).length);
  spans.push(END_OF_ARCHIVE.length);
  const starts: number[] = [];
  let total = 0;
  for (const s of spans) {
    starts.push(total);
    total += s;
  }
  return { entries, tars, spans, starts, total };
}

/** The layout of the export's whole tree, from its manifest in the store. */
export async function readLayout(store: ObjectStore, id: string): Promise<ArchiveLayout> {
  const text = await store.get(exportKeys(id).manifest);
  if (!text) throw new Error(`export ${id}: the manifest is missing from the object store`);
  return archiveLayout(new ExportTree(parseManifest(text.toString('utf8')).entries).under('/'));
}

/** `length` bytes of a file's content from `from`: its range of a pack, or of its own object. */
async function* content(store: ObjectStore, id: string, e: ExportEntry, from: number, length: number) {
  const keys = exportKeys(id);
  const at = e.pack ? { key: keys.pack(e.pack.index), start: e.pack.offset + from } : null;
  const key = at?.key ?? (e.blob === null ? null : keys.blob(e.blob));
  const opened = key ? await store.open(key, { start: at?.start ?? from, length }) : undefined;
  if (!opened) throw new Error(`export ${id}: the object holding ${e.path} is missing`);
  let seen = 0;
  for await (const chunk of opened.body as AsyncIterable<Buffer>) {
    seen += chunk.length;
    yield chunk;
  }
  // A header promises the size: a short read would shift every later entry.
  if (seen !== length) throw new Error(`export ${id}: ${e.path} gave ${seen} bytes of the ${length} asked`);
}

/**
 * The bytes of `[start, end)` of the tar stream, entry by entry, each file's bytes streamed from the
 * store: memory holds one chunk whatever the range's size.
 */
export async function* tarBytes(
  store: ObjectStore,
  id: string,
  layout: ArchiveLayout,
  range: ArchivePart,
): AsyncGenerator<Buffer> {
  let i = firstSpanAt(layout.starts, range.start);
  for (; i < layout.spans.length && layout.starts[i]! < range.end; i += 1) {
    const lo = Math.max(0, range.start - layout.starts[i]!);
    const hi = Math.min(layout.spans[i]!, range.end - layout.starts[i]!);
    if (i === layout.entries.length) {
      yield END_OF_ARCHIVE.subarray(lo, hi);
      continue;
    }
    const tar = layout.tars[i]!;
    const header = entryHeader(tar);
    const h = header.length;
    if (lo < h) yield header.subarray(lo, Math.min(h, hi));
    const from = Math.max(0, lo - h);
    const to = Math.min(tar.size, hi - h);
    if (to > from) yield* content(store, id, layout.entries[i]!, from, to - from);
    const pad = padding(tar.size);
    const padFrom = Math.max(0, lo - h - tar.size);
    const padTo = Math.min(pad.length, hi - h - tar.size);
    if (padTo > padFrom) yield pad.subarray(padFrom, padTo);
  }
}

/** The span holding byte `at`: the last start at or before it. */
function firstSpanAt(starts: readonly number[], at: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (starts[mid]! <= at) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** One gzip member of `range`, whole in memory: it is one uploaded part, bounded by the part size. */
export async function gzipMember(
  store: ObjectStore,
  id: string,
  layout: ArchiveLayout,
  range: ArchivePart,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(Readable.from(tarBytes(store, id, layout, range)), createGzip({ level: 6 }), async (gz) => {
    for await (const chunk of gz as AsyncIterable<Buffer>) chunks.push(chunk);
  });
  return Buffer.concat(chunks);
}

/**
 * Why the files' own objects do not hold what the manifest says (missing, or of another size), or
 * undefined when they do. Content is read by range, which cannot see an object longer than its
 * file, so the sizes are checked once, up front, from one listing.
 */
export async function checkBlobs(store: ObjectStore, id: string, entries: readonly ExportEntry[]) {
  const keys = exportKeys(id);
  const sizes = new Map((await store.list(keys.blobs)).map((o) => [o.key, o.size]));
  for (const e of entries) {
    if (e.type !== 'file' || e.pack || e.blob === null) continue;
    const size = sizes.get(keys.blob(e.blob));
    if (size === undefined) return `the object holding ${e.path} (blob ${e.blob}) is missing`;
    if (size !== e.size) return `${e.path} holds ${size} bytes in the store, the manifest says ${e.size}`;
  }
  return undefined;
}
