import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { childText, MalformedXmlError, parseXml } from '../mns-emulator/xml.js';
import { readBody, sendXml, toXml } from './http.js';
import { Bucket, md5Etag, OssFault, type StoredObject } from './model.js';
import { bucketUploadsRequest, uploadRequest } from './multipart.js';
import type { KeyRing } from '../sts-keys.js';
import { verifyOssRequest, type OssKey } from './signature.js';

export interface OssEmulatorOptions extends Partial<OssKey> {
  /** STS-style sets accepted besides the key pair (cloud mode's rotating function credentials). */
  keys?: KeyRing;
  bucket?: string;
  /** Loopback by default. */
  host?: string;
  port?: number;
}

export interface OssEmulator extends OssKey {
  /**
   * `http://localhost:<port>`, for the SDK with `cname: true`: a host name (the SDK signs no URL for
   * an IP endpoint) that serves one bucket, as a domain bound to a bucket does on OSS.
   */
  endpoint: string;
  bucket: string;
  /** The objects and open uploads, for assertions. */
  state: Bucket;
  /**
   * Holds every object or part upload whose key matches until the returned release is called:
   * how a test stops an export in the middle of its uploads. `held()` counts the waiting ones.
   */
  holdUploads(match: (key: string) => boolean): { release: () => void; held: () => number };
  close(): Promise<void>;
}

function objectHeaders(obj: StoredObject): Record<string, string | number> {
  return {
    'content-type': obj.contentType,
    'content-length': obj.body.length,
    etag: obj.etag,
    'last-modified': obj.lastModified.toUTCString(),
  };
}

/**
 * A `Range: bytes=a-b` (or `a-`) header as OSS reads it without `x-oss-range-behavior: standard`:
 * a range it cannot serve whole (malformed, several, or either end past the object's) is ignored
 * and the whole object answered with 200, not cut short.
 */
function byteRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  const m = /^bytes=(\d+)-(\d*)$/.exec(header ?? '');
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Number(m[2]);
  return start <= end && end < size ? { start, end } : undefined;
}

/**
 * An OSS endpoint for one bucket, in memory: PutObject, GetObject, HeadObject, DeleteObject,
 * DeleteMultipleObjects, ListObjects (prefix, delimiter, marker, max-keys), multipart upload
 * (initiate, upload part, list parts, complete, abort, list uploads) and signed URLs, each request's V1
 * signature verified, so the official `ali-oss` SDK runs against it unchanged.
 */
export async function startOssEmulator(options: OssEmulatorOptions = {}): Promise<OssEmulator> {
  const key: OssKey = {
    accessKeyId: options.accessKeyId ?? 'oss-emulator-key',
    accessKeySecret: options.accessKeySecret ?? 'oss-emulator-secret',
  };
  const bucket = new Bucket(options.bucket ?? 'ecs-backup-exports');
  const holds = new Set<{ match: (key: string) => boolean; waiting: Set<object>; gate: Promise<void> }>();

  async function waitForHolds(objectKey: string): Promise<void> {
    for (const hold of holds) {
      if (!hold.match(objectKey)) continue;
      const token = {};
      hold.waiting.add(token);
      await hold.gate;
      hold.waiting.delete(token);
    }
  }

  async function objectRequest(
    req: IncomingMessage,
    res: ServerResponse,
    objectKey: string,
    query: URLSearchParams,
  ) {
    if (await uploadRequest(bucket, req, res, objectKey, query, () => waitForHolds(objectKey))) return;
    const method = req.method ?? 'GET';
    if (method === 'PUT') {
      await waitForHolds(objectKey);
      const body = await readBody(req);
      const etag = md5Etag(body);
      const contentType = String(req.headers['content-type'] ?? 'application/octet-stream');
      bucket.objects.set(objectKey, { body, etag, contentType, lastModified: new Date() });
      res.writeHead(200, { etag, 'content-length': 0 });
      res.end();
      return;
    }
    if (method === 'GET' || method === 'HEAD') {
      const obj = bucket.objects.get(objectKey);
      if (!obj) throw new OssFault('NoSuchKey', 404, 'The specified key does not exist.');
      // A signed URL may set response headers through its (signed) response-* parameters.
      const disposition = query.get('response-content-disposition');
      const extra = disposition ? { 'content-disposition': disposition } : {};
      const part = byteRange(req.headers.range, obj.body.length);
      if (part) {
        const body = obj.body.subarray(part.start, part.end + 1);
        res.writeHead(206, {
          ...objectHeaders(obj),
          ...extra,
          'content-length': body.length,
          'content-range': `bytes ${part.start}-${part.end}/${obj.body.length}`,
        });
        res.end(method === 'GET' ? body : undefined);
        return;
      }
      res.writeHead(200, { ...objectHeaders(obj), ...extra });
      res.end(method === 'GET' ? obj.body : undefined);
      return;
    }
    if (method === 'DELETE') {
      bucket.objects.delete(objectKey);
      res.writeHead(204);
      res.end();
      return;
    }
    throw new OssFault('MethodNotAllowed', 405, `${method} is not supported on an object.`);
  }

  async function bucketRequest(req: IncomingMessage, res: ServerResponse, query: URLSearchParams) {
    const method = req.method ?? 'GET';
    if (method === 'GET' && query.has('uploads')) return bucketUploadsRequest(bucket, res, query);
    if (method === 'GET') {
      const prefix = query.get('prefix') ?? '';
      const delimiter = query.get('delimiter') ?? '';
      const marker = query.get('marker') ?? '';
      const maxKeys = Number(query.get('max-keys') ?? 100);
      if (!Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > 1000) {
        throw new OssFault('InvalidArgument', 400, 'max-keys must be an integer between 1 and 1000.');
      }
      const page = bucket.list(prefix, delimiter, marker, maxKeys);
      const contents = page.contents.map((k) => {
        const obj = bucket.objects.get(k)!;
        return {
          Key: k,
          LastModified: obj.lastModified.toISOString(),
          ETag: obj.etag,
          Type: obj.etag.includes('-') ? 'Multipart' : 'Normal',
          Size: obj.body.length,
          StorageClass: 'Standard',
          Owner: { ID: 'oss-emulator', DisplayName: 'oss-emulator' },
        };
      });
      const body = toXml('ListBucketResult', {
        Name: bucket.name,
        Prefix: prefix,
        Marker: marker,
        MaxKeys: maxKeys,
        Delimiter: delimiter,
        IsTruncated: page.truncated,
        NextMarker: page.truncated ? page.nextMarker : undefined,
        Contents: contents,
        CommonPrefixes: page.prefixes.map((p) => ({ Prefix: p })),
      });
      sendXml(res, 200, body);
      return;
    }
    if (method === 'POST' && query.has('delete')) {
      const doc = parseXml((await readBody(req)).toString('utf8'));
      const quiet = childText(doc, 'Quiet') === 'true';
      const keys = doc.children.filter((c) => c.name === 'Object').map((o) => childText(o, 'Key') ?? '');
      if (keys.length > 1000) throw new OssFault('MalformedXML', 400, 'At most 1000 objects per request.');
      for (const k of keys) bucket.objects.delete(k);
      sendXml(res, 200, toXml('DeleteResult', { Deleted: quiet ? [] : keys.map((k) => ({ Key: k })) }));
      return;
    }
    throw new OssFault('MethodNotAllowed', 405, `${method} is not supported on a bucket.`);
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const handle = async () => {
      // The path is the key alone: the bucket is the one this endpoint serves.
      const objectKey = decodeURIComponent(url.pathname.slice(1));
      const resource = `/${bucket.name}/${objectKey}`;
      const keyOf = (id: string) => (id === key.accessKeyId ? key : options.keys?.find(id));
      verifyOssRequest(req.method ?? 'GET', resource, url.searchParams, req.headers, keyOf, Date.now());
      if (objectKey === '') await bucketRequest(req, res, url.searchParams);
      else await objectRequest(req, res, objectKey, url.searchParams);
    };
    handle().catch((err: unknown) => {
      const fault =
        err instanceof OssFault
          ? err
          : err instanceof MalformedXmlError
            ? new OssFault('MalformedXML', 400, err.message)
            : new OssFault('InternalError', 500, err instanceof Error ? err.message : String(err));
      const requestId = randomUUID().replace(/-/g, '').toUpperCase();
      if (res.headersSent) return void res.destroy();
      if (req.method === 'HEAD') {
        res.writeHead(fault.status, { 'x-oss-request-id': requestId });
        res.end();
        return;
      }
      sendXml(
        res,
        fault.status,
        toXml('Error', {
          Code: fault.code,
          Message: fault.message,
          RequestId: requestId,
          HostId: 'oss-emulator',
        }),
        { 'x-oss-request-id': requestId },
      );
    });
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  // Where `localhost` resolves to ::1 first, the same port answers there too.
  const v6 = http.createServer((req, res) => server.emit('request', req, res));
  await new Promise<void>((resolve) => {
    v6.once('error', () => resolve());
    v6.listen(port, '::1', resolve);
  });
  return {
    ...key,
    endpoint: `http://localhost:${port}`,
    bucket: bucket.name,
    state: bucket,
    holdUploads(match) {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const hold = { match, waiting: new Set<object>(), gate };
      holds.add(hold);
      return {
        release: () => {
          holds.delete(hold);
          release();
        },
        held: () => hold.waiting.size,
      };
    },
    close: async () => {
      for (const s of [server, v6]) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()));
      }
    },
  };
}
