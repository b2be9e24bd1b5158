import { createHash } from 'node:crypto';
import fs from 'node:fs';

/**
 * The packs of the simulated Windows export script (Send-Pack and Copy-Hashed in
 * lib/guest/windows-export.ps1): files below the pack file size wait in a pack until the next one
 * would pass its size or file count, then go up as one body, each hashed on the way. A file that
 * cannot be read is sent as zeros of its listed size, so the offsets after it hold, and is listed
 * as skipped.
 */

export interface PackLimits {
  fileBytes: number;
  bytes: number;
  files: number;
}

/** A file waiting in the pack: its volume path, where the emulator holds it, its record fields. */
export interface Waiting {
  rel: string;
  host: string;
  size: number;
  /** `size<TAB>mode<TAB>owner<TAB>mtime`. */
  fields: string;
}

/** What a sent file became: its record's place and sha256, or why it could not be read. */
export type Placed = Waiting & { offset: number } & ({ sha256: string } | { why: string });

export class PackQueue {
  private waiting: Waiting[] = [];
  private size = 0;
  /** How many packs went up, so also the index of the next one. */
  sent = 0;

  constructor(
    private readonly limits: PackLimits,
    private readonly urls: readonly string[],
  ) {}

  /** True for a file that goes into a pack: small, and a pack URL is left. */
  takes(size: number): boolean {
    return size < this.limits.fileBytes && this.sent < this.urls.length;
  }

  /** True when the pack must go up before a file of this size joins it. */
  full(size: number): boolean {
    return this.size + size > this.limits.bytes || this.waiting.length >= this.limits.files;
  }

  add(file: Waiting): void {
    this.waiting.push(file);
    this.size += file.size;
  }

  get empty(): boolean {
    return this.waiting.length === 0;
  }

  get url(): string {
    return this.urls[this.sent] ?? '';
  }

  /** The pack's body (exactly the sum of the listed sizes) and where each file landed in it. */
  build(): { body: Buffer; placed: Placed[] } {
    const body = Buffer.alloc(this.size);
    let offset = 0;
    const placed = this.waiting.map((f): Placed => {
      const at = offset;
      offset += f.size;
      let bytes: Buffer;
      try {
        bytes = fs.readFileSync(f.host);
      } catch (err) {
        return { ...f, offset: at, why: (err as Error).message };
      }
      if (bytes.length < f.size) return { ...f, offset: at, why: 'it is shorter than its listed size' };
      const mine = bytes.subarray(0, f.size);
      mine.copy(body, at);
      return { ...f, offset: at, sha256: createHash('sha256').update(mine).digest('hex') };
    });
    return { body, placed };
  }

  /** The pack went up: the next one starts empty. */
  next(): void {
    this.sent += 1;
    this.waiting = [];
    this.size = 0;
  }
}
