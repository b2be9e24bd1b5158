/**
 * How the whole-export archive is cut so the job can write it over several deliveries. A gzip
 * stream cannot be resumed in the middle, but a gzip file may hold several members one after the
 * other, which `gunzip`, `tar -xz` and Node's zlib read as one stream. So the tar stream is cut into
 * ranges, each compressed on its own into one member: a delivery that dies loses only the range it
 * was compressing. Cuts fall between entries where they can, so a member holds whole files; a file
 * larger than a range is cut inside, since a 50 GB file must not make a 50 GB step.
 */
import { MAX_UPLOAD_PARTS } from '../../ports/object-store.js';

/** `[start, end)` of the tar stream: one gzip member. */
export interface ArchivePart {
  start: number;
  end: number;
}

/**
 * The part size the plan uses: the one asked for, or more when the archive would otherwise need
 * more members than OSS takes parts. Any two neighbouring members together pass the size (a cut
 * between entries happens only when the next entry would not fit), so `total` makes at most
 * `2·total/size + 1` members, and an uploaded part holds one member or more.
 */
export function partSizeFor(total: number, asked: number): number {
  return Math.max(asked, Math.ceil((2 * total) / (MAX_UPLOAD_PARTS - 1)));
}

/**
 * The members of a tar stream made of `spans` (each entry's header, content and padding, then the
 * end-of-archive blocks), at most `partBytes` each: an entry that does not fit in the current member
 * starts the next one; an entry larger than a member is cut every `partBytes`.
 */
export function planArchiveParts(spans: readonly number[], partBytes: number): ArchivePart[] {
  if (!Number.isInteger(partBytes) || partBytes < 1)
    throw new RangeError(`partBytes must be a positive integer, not ${partBytes}`);
  const parts: ArchivePart[] = [];
  let partStart = 0;
  let entryStart = 0;
  for (const span of spans) {
    const entryEnd = entryStart + span;
    while (entryEnd - partStart > partBytes) {
      const cut = entryStart > partStart ? entryStart : partStart + partBytes;
      parts.push({ start: partStart, end: cut });
      partStart = cut;
    }
    entryStart = entryEnd;
  }
  if (entryStart > partStart) parts.push({ start: partStart, end: entryStart });
  return parts;
}

/**
 * What one delivery may do before it hands the job to the next: so many bytes of the tar stream
 * and so much time. The first part is always made, so every delivery moves the job on.
 */
export class ArchiveBudget {
  private bytes = 0;
  private parts = 0;
  private readonly started: number;

  constructor(
    private readonly limits: { bytes: number; ms: number },
    /** Monotonic milliseconds: the budget is this process's time, not the job's clock. */
    private readonly now: () => number,
  ) {
    this.started = now();
  }

  spend(tarBytes: number): void {
    this.bytes += tarBytes;
    this.parts += 1;
  }

  spent(): boolean {
    if (this.parts === 0) return false;
    return this.bytes >= this.limits.bytes || this.now() - this.started >= this.limits.ms;
  }
}
