import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MalformedXmlError } from '../mns-emulator/xml.js';
import { UploadHolds, type UploadHold } from '../runtime/upload-holds.js';
import type { KeyRing } from '../sts-keys.js';
import { bucketRequest } from './bucket-requests.js';
import { Bucket, OssFault } from './model.js';
import { objectRequest } from './object-requests.js';
import { verifyOssRequest, type OssKey } from './signature.js';
import { sendXml, toXml, type OssEndpoint } from './wire.js';

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
  holdUploads(match: (key: string) => boolean): UploadHold;
  close(): Promise<void>;
}

/**
 * An OSS endpoint for one bucket, in memory: PutObject, GetObject, HeadObject, DeleteObject,
 * DeleteMultipleObjects, ListObjects (prefix, delimiter, marker, max-keys), multipart upload
 * (initiate, upload part, complete, abort, list uploads) and signed URLs, each request's V1
 * signature verified, so the official `ali-oss` SDK runs against it unchanged.
 */
export async function startOssEmulator(options: OssEmulatorOptions = {}): Promise<OssEmulator> {
  const key: OssKey = {
    accessKeyId: options.accessKeyId ?? 'oss-emulator-key',
    accessKeySecret: options.accessKeySecret ?? 'oss-emulator-secret',
  };
  const bucket = new Bucket(options.bucket ?? 'ecs-backup-exports');
  const endpoint: OssEndpoint = { bucket, holds: new UploadHolds() };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const handle = async () => {
      // The path is the key alone: the bucket is the one this endpoint serves.
      const objectKey = decodeURIComponent(url.pathname.slice(1));
      const resource = `/${bucket.name}/${objectKey}`;
      const keyOf = (id: string) => (id === key.accessKeyId ? key : options.keys?.find(id));
      verifyOssRequest(req.method ?? 'GET', resource, url.searchParams, req.headers, keyOf, Date.now());
      if (objectKey === '') await bucketRequest(endpoint, req, res, url.searchParams);
      else await objectRequest(endpoint, req, res, objectKey, url.searchParams);
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
    holdUploads: (match) => endpoint.holds.hold(match),
    close: async () => {
      for (const s of [server, v6]) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()));
      }
    },
  };
}
