import { createHash } from 'node:crypto';

export class OssFault extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'OssFault';
  }
}

export interface StoredObject {
  body: Buffer;
  contentType: string;
  etag: string;
  lastModified: Date;
}

export interface Upload {
  key: string;
  /** Given when the upload starts (OSS keeps it for the object, not the completion's own). */
  contentType: string;
  initiated: Date;
  parts: Map<number, { body: Buffer; etag: string }>;
}

export const md5Etag = (body: Buffer): string =>
  `"${createHash('md5').update(body).digest('hex').toUpperCase()}"`;

/** One bucket's objects and unfinished multipart uploads, in memory. */
export class Bucket {
  readonly objects = new Map<string, StoredObject>();
  readonly uploads = new Map<string, Upload>();

  constructor(readonly name: string) {}

  /** Keys in byte order, as OSS lists them. */
  sortedKeys(): string[] {
    return [...this.objects.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }

  /**
   * A ListObjects page: keys after `marker` under `prefix`; with a delimiter, keys that go deeper
   * collapse into one common prefix each (counted once toward `maxKeys`).
   */
  list(prefix: string, delimiter: string, marker: string, maxKeys: number) {
    const contents: string[] = [];
    const prefixes: string[] = [];
    let nextMarker = '';
    let truncated = false;
    for (const key of this.sortedKeys()) {
      if (!key.startsWith(prefix) || (marker && Buffer.compare(Buffer.from(key), Buffer.from(marker)) <= 0))
        continue;
      // A marker that is a common prefix stands for every key under it.
      if (delimiter && marker.endsWith(delimiter) && key.startsWith(marker)) continue;
      const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      const common = cut >= 0 ? key.slice(0, cut + delimiter.length) : null;
      if (common && prefixes[prefixes.length - 1] === common) continue;
      if (contents.length + prefixes.length >= maxKeys) {
        truncated = true;
        break;
      }
      if (common) {
        prefixes.push(common);
        nextMarker = common;
      } else {
        contents.push(key);
        nextMarker = key;
      }
    }
    return { contents, prefixes, truncated, nextMarker: truncated ? nextMarker : '' };
  }
}
