/**
 * The sha256 of packed files is taken here, from the stored pack, rather than on the instance: the
 * instance is the operator's running server, and hashing every small file there beside tar and the
 * upload cost it more CPU than the upload itself. Reading the pack back checks it too: a tar pack
 * must have each file's header, naming a regular file of the manifest's size, right before the bytes
 * the manifest points at, so a layout the guest predicted wrong fails the export instead of serving
 * other bytes. A file the guest hashed itself (Windows packs) must hash the same here.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Job } from '../../domain/model.js';
import { parseManifest, renderManifest, type ExportEntry, type Manifest } from '../../domain/export.js';
import type { ObjectStore } from '../../ports/object-store.js';
import type { StepContext, StepResult } from '../jobs/job-kind.js';
import { next } from '../jobs/job-writes.js';
import { windDown } from '../jobs/wind-down.js';
import { objectStoreOf } from './guest-steps.js';
import { exportKeys, exportState, type ExportState } from './state.js';

const BLOCK = 512;

export type PackHashes = { ok: true; sums: string[] } | { ok: false; reason: string };

/** The files of pack `index`, in the order of their bytes. */
export function packedFiles(entries: readonly ExportEntry[], index: number): ExportEntry[] {
  return entries.filter((e) => e.pack?.index === index).sort((a, b) => a.pack!.offset - b.pack!.offset);
}

/** The packs the manifest places files in (0..n-1 as the guest numbers them). */
export function packsUsed(entries: readonly ExportEntry[]): number {
  return entries.reduce((n, e) => (e.pack ? Math.max(n, e.pack.index + 1) : n), 0);
}

/** Why `header` is not the tar header of a regular file of `size` bytes, or undefined when it is. */
function headerProblem(header: Buffer, size: number): string | undefined {
  if (header.toString('latin1', 257, 262) !== 'ustar') return 'no tar header precedes it';
  const type = header.toString('latin1', 156, 157);
  if (type !== '0' && type !== '\0') return `its tar header is of type ${JSON.stringify(type)}, not a file`;
  const said = parseInt(header.toString('latin1', 124, 136).replace(/[\0 ]/g, ''), 8);
  return said === size ? undefined : `its tar header says ${said} bytes, the manifest ${size}`;
}

/**
 * Each packed file's sha256, in the order of `packedFiles(entries, index)`, from one read of the
 * pack. A pack whose first file starts past its first block is a tar stream (the Linux guest's,
 * with GNU tar); one whose first file starts at 0 is the files' bytes one after the other.
 */
export async function hashPack(
  store: ObjectStore,
  id: string,
  entries: readonly ExportEntry[],
  index: number,
): Promise<PackHashes> {
  const files = packedFiles(entries, index);
  const opened = await store.open(exportKeys(id).pack(index));
  if (!opened) return { ok: false, reason: `pack ${index} was not uploaded` };
  const tar = files.length > 0 && files[0]!.pack!.offset >= BLOCK;
  const sums: string[] = [];
  let i = 0;
  let base = 0;
  let hashing: Hash | undefined;
  // The last bytes of the chunks before, for a header that straddles two chunks.
  let tail = Buffer.alloc(0);
  const fail = (why: string): PackHashes => {
    opened.body.destroy();
    return { ok: false, reason: `pack ${index}: ${files[i]!.path} ${why}` };
  };
  const finish = (): PackHashes | undefined => {
    const sum = hashing!.digest('hex');
    const said = files[i]!.sha256;
    if (said !== null && said !== sum) return fail(`hashes ${sum} in the store, ${said} on the instance`);
    sums.push(sum);
    hashing = undefined;
    i += 1;
    return undefined;
  };
  let lastEnd = 0;
  // Starts the file that begins at `start` in `chunk` (its header checked): undefined when fine.
  const begin = (chunk: Buffer, start: number): PackHashes | undefined => {
    if (start < lastEnd) return fail('overlaps the file before it');
    if (tar) {
      // Where its header starts, counted from the start of `tail`.
      const at = start - BLOCK - (base - tail.length);
      const header =
        at >= tail.length
          ? chunk.subarray(at - tail.length, at - tail.length + BLOCK)
          : Buffer.concat([tail.subarray(Math.max(at, 0)), chunk.subarray(0, BLOCK)]).subarray(0, BLOCK);
      const problem = at < 0 ? 'no tar header precedes it' : headerProblem(header, files[i]!.size);
      if (problem) return fail(problem);
    }
    hashing = createHash('sha256');
    return undefined;
  };
  for await (const data of opened.body as AsyncIterable<Buffer>) {
    let at = 0;
    while (i < files.length) {
      const e = files[i]!;
      const start = e.pack!.offset;
      if (!hashing) {
        if (start > base + data.length || (start === base + data.length && e.size > 0)) break;
        const problem = begin(data, start);
        if (problem) return problem;
        at = start - base;
      }
      const end = start + e.size;
      const take = Math.min(end - (base + at), data.length - at);
      hashing!.update(data.subarray(at, at + take));
      at += take;
      if (base + at < end) break;
      lastEnd = end;
      const problem = finish();
      if (problem) return problem;
    }
    base += data.length;
    tail =
      data.length >= BLOCK
        ? Buffer.from(data.subarray(-BLOCK))
        : Buffer.concat([tail, data]).subarray(-BLOCK);
  }
  // Empty files at the very end of a pack of bare bytes.
  while (i < files.length && files[i]!.size === 0 && files[i]!.pack!.offset === base) {
    const problem = begin(Buffer.alloc(0), base) ?? finish();
    if (problem) return problem;
  }
  if (i < files.length) {
    const e = files[i]!;
    return {
      ok: false,
      reason: `pack ${index} holds ${base} bytes, but ${e.path} ends at byte ${e.pack!.offset + e.size}`,
    };
  }
  return { ok: true, sums };
}

/** The manifest with each packed file's sha256 from `sumsOf(pack)` (in that pack's byte order). */
export function withPackHashes(manifest: Manifest, sumsOf: (pack: number) => readonly string[]): Manifest {
  const sums = new Map<ExportEntry, string>();
  for (let k = 0; k < packsUsed(manifest.entries); k += 1) {
    const list = sumsOf(k);
    packedFiles(manifest.entries, k).forEach((e, n) => {
      const sum = list[n];
      if (sum === undefined) throw new Error(`pack ${k} has no sha256 for ${e.path}`);
      sums.set(e, sum);
    });
  }
  return {
    entries: manifest.entries.map((e) => (sums.has(e) ? { ...e, sha256: sums.get(e)! } : e)),
    skipped: manifest.skipped,
  };
}

/**
 * One pack per step (a step's work stays bounded whatever the export's size): its hashes go to the
 * store, the job counts it done. Then the manifest is written back with them, which a crash may
 * repeat: the same hashes make the same manifest.
 */
export async function hashPacksStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const store = objectStoreOf(ctx);
  const keys = exportKeys(job.id);
  const text = await store.get(keys.manifest);
  if (!text) return windDown(ctx, job, 'FAILED', 'the manifest is gone from the store');
  const manifest = parseManifest(text.toString('utf8'));
  const count = packsUsed(manifest.entries);
  const done = exportState(job).hashedPacks ?? 0;
  if (done < count) {
    const hashed = await hashPack(store, job.id, manifest.entries, done);
    if (!hashed.ok)
      return windDown(ctx, job, 'FAILED', `the exported files do not match their manifest: ${hashed.reason}`);
    await store.put(keys.packSums(done), hashed.sums.join('\n'));
    return next<ExportState>(
      ctx,
      job,
      'hash-packs',
      { hashedPacks: done + 1 },
      90 + Math.floor((4 * (done + 1)) / count),
    );
  }
  const lists: string[][] = [];
  for (let k = 0; k < count; k += 1) {
    const sums = await store.get(keys.packSums(k));
    if (!sums) return windDown(ctx, job, 'FAILED', `the hashes of pack ${k} are gone from the store`);
    lists.push(sums.toString('utf8').split('\n'));
  }
  if (count > 0) await store.put(keys.manifest, renderManifest(withPackHashes(manifest, (k) => lists[k]!)));
  return next<ExportState>(ctx, job, 'archive', {}, 95);
}
