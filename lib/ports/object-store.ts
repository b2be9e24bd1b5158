import type { Readable } from 'node:stream';

export type SignedMethod = 'GET' | 'PUT';

/** What a signed download answers besides the bytes. */
export interface SignedUrlOptions {
  /** The whole `Content-Disposition` header the download carries (a file name for the browser). */
  contentDisposition?: string;
}

export interface ObjectListing {
  key: string;
  size: number;
}

/** Part of an object: `length` bytes from `start` (a file held in a pack of small files). */
export interface ByteRange {
  start: number;
  length: number;
}

/** The error a range past an object's end gets, the same from every adapter. */
export function rangeBeyond(key: string, range: ByteRange, size: number): string {
  return `bytes ${range.start}-${range.start + range.length - 1} of ${key} run past its ${size} bytes`;
}

/** An object opened for reading: its bytes as a stream, never held in memory whole. */
export interface OpenedObject {
  body: Readable;
  size: number;
  etag: string;
  contentType: string;
}

/** Exported files and manifests. Adapters: a local folder, OSS. */
export interface ObjectStore {
  put(key: string, body: Buffer | string, contentType?: string): Promise<void>;
  /** A body of any size from a stream (OSS: a multipart upload once it passes one part). */
  putStream(key: string, body: Readable, contentType?: string): Promise<void>;
  get(key: string): Promise<Buffer | undefined>;
  /**
   * With `range`, only those bytes (`size` is then the range's length); a range that runs past the
   * object's end throws rather than answering short.
   */
  open(key: string, range?: ByteRange): Promise<OpenedObject | undefined>;
  /** Every object under `prefix`, in key order. */
  list(prefix: string): Promise<ObjectListing[]>;
  /** Deletes every object whose key starts with `prefix` (an export's folder, say). */
  delete(prefix: string): Promise<void>;
  /** Aborts uploads under `prefix` that never completed (a canceled export's); how many. */
  abortUploads(prefix: string): Promise<number>;
  /**
   * A URL that reads (`GET`) or writes (`PUT`) the object until `expiresAt` (epoch ms): how a guest
   * uploads without holding any credential, and how a download skips the API.
   */
  signedUrl(
    key: string,
    expiresAt: number,
    method?: SignedMethod,
    options?: SignedUrlOptions,
  ): Promise<string>;
}
