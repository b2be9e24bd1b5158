import OSS from 'ali-oss';
import { Readable } from 'node:stream';
import type { Clock } from '../../ports/clock.js';
import {
  rangeBeyond,
  type ByteRange,
  type ObjectListing,
  type ObjectStore,
  type OpenedObject,
  type SignedMethod,
  type SignedUrlOptions,
  type UploadedPart,
  UploadNotFoundError,
  UploadPartsError,
} from '../../ports/object-store.js';

export interface OssObjectStoreOptions {
  bucket: string;
  /** The OSS region (`oss-cn-hangzhou`); ignored when `endpoint` is given. */
  region?: string;
  /** A full endpoint, e.g. the internal one or the local emulator's. */
  endpoint?: string;
  /** The endpoint serves this one bucket (a bound domain, or the local emulator). */
  cname?: boolean;
  /** Read per request: FC's STS credentials rotate. */
  credentials: () => { accessKeyId: string; accessKeySecret: string; securityToken?: string };
  /** Multipart part size; OSS needs at least 100 KB for every part but the last. */
  partSize?: number;
  /** For turning an absolute expiry into the SDK's seconds-from-now. */
  clock: Clock;
}

const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
const LIST_PAGE = 1000;
/** DeleteMultipleObjects takes at most 1,000 keys (OSS API reference). */
const DELETE_BATCH = 1000;

/** ListParts and ListMultipartUploads answer at most 1,000 entries a page (OSS API reference). */
const UPLOADS_PAGE = 1000;
const PART_REFUSALS = new Set(['InvalidPart', 'InvalidPartOrder', 'EntityTooSmall']);

/** OSS's refusals of a multipart call, as the port's errors. */
function uploadError(err: unknown, key: string, uploadId: string): unknown {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'NoSuchUpload') return new UploadNotFoundError(key, uploadId);
  if (PART_REFUSALS.has(code)) return new UploadPartsError(key, `${code}: ${(err as Error).message}`);
  return err;
}

/** The SDK hands a one-element XML list over as the element itself. */
const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

function isNotFound(err: unknown): boolean {
  const e = err as { code?: string; status?: number };
  return e.code === 'NoSuchKey' || e.status === 404;
}

/**
 * The object store on OSS, through the official `ali-oss` SDK. Large bodies go up as multipart
 * uploads one part at a time, so memory stays at one part whatever the object's size.
 */
export class OssObjectStore implements ObjectStore {
  private cached: { client: OSS; keyId: string; token: string | undefined } | null = null;
  private readonly partSize: number;
  private readonly clock: Clock;

  constructor(private readonly options: OssObjectStoreOptions) {
    this.partSize = Math.max(100 * 1024, options.partSize ?? DEFAULT_PART_SIZE);
    this.clock = options.clock;
  }

  /** A client for the credentials of this moment; a new one once they rotate. */
  private get client(): OSS {
    const c = this.options.credentials();
    if (this.cached?.keyId === c.accessKeyId && this.cached.token === c.securityToken)
      return this.cached.client;
    const o = this.options;
    const client = new OSS({
      bucket: o.bucket,
      accessKeyId: c.accessKeyId,
      accessKeySecret: c.accessKeySecret,
      ...(c.securityToken ? { stsToken: c.securityToken } : {}),
      ...(o.endpoint ? { endpoint: o.endpoint } : { region: o.region ?? 'oss-cn-hangzhou' }),
      secure: o.endpoint ? o.endpoint.startsWith('https:') : true,
      cname: o.cname ?? false,
    });
    this.cached = { client, keyId: c.accessKeyId, token: c.securityToken };
    return client;
  }

  async put(key: string, body: Buffer | string, contentType = 'application/octet-stream'): Promise<void> {
    await this.client.put(key, Buffer.from(body), { mime: contentType });
  }

  async putStream(key: string, body: Readable, contentType = 'application/octet-stream'): Promise<void> {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let uploadId: string | null = null;
    const parts: { number: number; etag: string }[] = [];
    const flush = async () => {
      const part = Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      uploadId ??= (await this.client.initMultipartUpload(key, { mime: contentType })).uploadId;
      const number = parts.length + 1;
      const done = await this.client.uploadPart(key, uploadId, number, part, 0, part.length);
      parts.push({ number, etag: done.etag });
    };
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= this.partSize) await flush();
      }
      if (uploadId === null) {
        await this.put(key, Buffer.concat(pending), contentType);
        return;
      }
      if (pendingBytes > 0) await flush();
      await this.client.completeMultipartUpload(key, uploadId, parts);
    } catch (err) {
      if (uploadId !== null) await this.client.abortMultipartUpload(key, uploadId).catch(() => undefined);
      throw err;
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      const { content } = (await this.client.get(key)) as { content: Buffer };
      return Buffer.from(content);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async open(key: string, range?: ByteRange): Promise<OpenedObject | undefined> {
    try {
      // HTTP cannot ask for zero bytes; the object's existence is still checked by a HEAD.
      if (range?.length === 0) {
        const { res } = await this.client.head(key);
        const headers = res.headers as Record<string, string>;
        const size = Number(headers['content-length']);
        if (range.start > size) throw new RangeError(rangeBeyond(key, range, size));
        return {
          body: Readable.from([]),
          size: 0,
          etag: headers.etag ?? '',
          contentType: headers['content-type'] ?? 'application/octet-stream',
        };
      }
      const end = range ? range.start + range.length - 1 : 0;
      const { stream, res } = await this.client.getStream(
        key,
        range ? { headers: { Range: `bytes=${range.start}-${end}` } } : undefined,
      );
      const headers = res.headers as Record<string, string>;
      // OSS answers a range it cannot serve with the whole object (200), or a shorter part at the end.
      if (range && (res.status !== 206 || Number(headers['content-length']) !== range.length)) {
        (stream as Readable).destroy();
        const total = Number(
          /\/(\d+)$/.exec(headers['content-range'] ?? '')?.[1] ?? headers['content-length'],
        );
        throw new RangeError(rangeBeyond(key, range, total));
      }
      return {
        body: stream as Readable,
        size: Number(headers['content-length']),
        etag: headers.etag ?? '',
        contentType: headers['content-type'] ?? 'application/octet-stream',
      };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<ObjectListing[]> {
    const out: ObjectListing[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await this.client.list(
        { prefix, 'max-keys': LIST_PAGE, ...(marker ? { marker } : {}) },
        {},
      );
      out.push(...(page.objects ?? []).map((o) => ({ key: o.name, size: Number(o.size) })));
      if (!page.isTruncated || !page.nextMarker) return out;
      marker = page.nextMarker;
    }
  }

  async delete(prefix: string): Promise<void> {
    const keys = (await this.list(prefix)).map((o) => o.key);
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      await this.client.deleteMulti(keys.slice(i, i + DELETE_BATCH), { quiet: true });
    }
  }

  async abortUploads(prefix: string): Promise<number> {
    const uploads = await this.listUploads(prefix);
    for (const u of uploads) await this.abortUpload(u.key, u.uploadId);
    return uploads.length;
  }

  async listUploads(prefix: string): Promise<{ key: string; uploadId: string }[]> {
    const out: { key: string; uploadId: string }[] = [];
    let markers: Record<string, string> = {};
    for (;;) {
      const page = await this.client.listUploads({ prefix, 'max-uploads': UPLOADS_PAGE, ...markers });
      out.push(...(page.uploads ?? []).map((u) => ({ key: u.name, uploadId: u.uploadId })));
      if (!page.isTruncated || !page.nextKeyMarker) return out;
      markers = { 'key-marker': page.nextKeyMarker, 'upload-id-marker': page.nextUploadIdMarker };
    }
  }

  async createUpload(key: string, contentType = 'application/octet-stream'): Promise<string> {
    return (await this.client.initMultipartUpload(key, { mime: contentType })).uploadId;
  }

  async uploadPart(key: string, uploadId: string, number: number, body: Buffer): Promise<UploadedPart> {
    try {
      const done = await this.client.uploadPart(key, uploadId, number, body, 0, body.length);
      return { number, etag: done.etag, size: body.length };
    } catch (err) {
      throw uploadError(err, key, uploadId);
    }
  }

  async listParts(key: string, uploadId: string): Promise<UploadedPart[]> {
    const out: UploadedPart[] = [];
    let marker: string | undefined;
    try {
      for (;;) {
        const query = { 'max-parts': UPLOADS_PAGE, ...(marker ? { 'part-number-marker': marker } : {}) };
        const page = await this.client.listParts(key, uploadId, query as unknown as OSS.ListPartsQuery);
        // The XML says `Size`; the SDK's types say `size`.
        type Listed = { PartNumber: string; ETag: string; Size: string };
        for (const p of asList(page.parts as unknown as Listed | Listed[]))
          out.push({ number: Number(p.PartNumber), etag: String(p.ETag), size: Number(p.Size) });
        const next = String(page.nextPartNumberMarker ?? '');
        if (String(page.isTruncated) !== 'true' || next === '') return out;
        marker = next;
      }
    } catch (err) {
      throw uploadError(err, key, uploadId);
    }
  }

  async completeUpload(
    key: string,
    uploadId: string,
    parts: { number: number; etag: string }[],
  ): Promise<void> {
    try {
      await this.client.completeMultipartUpload(key, uploadId, parts);
    } catch (err) {
      throw uploadError(err, key, uploadId);
    }
  }

  async abortUpload(key: string, uploadId: string): Promise<void> {
    try {
      await this.client.abortMultipartUpload(key, uploadId);
    } catch (err) {
      if (!(uploadError(err, key, uploadId) instanceof UploadNotFoundError)) throw err;
    }
  }

  async signedUrl(
    key: string,
    expiresAt: number,
    method: SignedMethod = 'GET',
    options: SignedUrlOptions = {},
  ): Promise<string> {
    const expires = Math.max(1, Math.ceil((expiresAt - this.clock.now()) / 1000));
    const response = options.contentDisposition
      ? { response: { 'content-disposition': options.contentDisposition } }
      : {};
    return this.client.signatureUrl(key, { expires, method, ...response });
  }
}

export function createOssObjectStore(options: OssObjectStoreOptions): OssObjectStore {
  return new OssObjectStore(options);
}
