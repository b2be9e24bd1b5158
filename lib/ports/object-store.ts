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

/**
 * OSS refuses to complete a multipart upload whose parts, all but the last, are not each at least
 * 100 KB (EntityTooSmall); every adapter refuses the same, so a writer built on one works on both.
 */
export const MIN_UPLOAD_PART_BYTES = 100 * 1024;
/** OSS numbers parts 1 to 10,000. */
export const MAX_UPLOAD_PARTS = 10_000;

/** A part of a multipart upload as the store holds it. */
export interface UploadedPart {
  number: number;
  etag: string;
  size: number;
}

/** The upload id names no upload under that key: never started, completed or aborted. */
export class UploadNotFoundError extends Error {
  constructor(key: string, uploadId: string) {
    super(`no multipart upload ${uploadId} of ${key}: it was completed, aborted or never started`);
    this.name = 'UploadNotFoundError';
  }
}

/** The parts named cannot make the object: a part missing, out of order, or too small. */
export class UploadPartsError extends Error {
  constructor(key: string, reason: string) {
    super(`the upload of ${key} cannot be completed: ${reason}`);
    this.name = 'UploadPartsError';
  }
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
   * A multipart upload the caller drives part by part, possibly across processes: the upload id is
   * all it needs to carry on. The object appears only on `completeUpload`.
   */
  createUpload(key: string, contentType?: string): Promise<string>;
  /** Stores part `number` (1-10,000); uploading a number again replaces that part. */
  uploadPart(key: string, uploadId: string, number: number, body: Buffer): Promise<UploadedPart>;
  /** The parts stored so far, by number. */
  listParts(key: string, uploadId: string): Promise<UploadedPart[]>;
  /** Publishes the object as the named parts' bytes in order; the upload is gone afterwards. */
  completeUpload(key: string, uploadId: string, parts: { number: number; etag: string }[]): Promise<void>;
  /** Drops the upload and its parts; an upload already gone is not an error. */
  abortUpload(key: string, uploadId: string): Promise<void>;
  /** Unfinished uploads whose key starts with `prefix`. */
  listUploads(prefix: string): Promise<{ key: string; uploadId: string }[]>;
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
