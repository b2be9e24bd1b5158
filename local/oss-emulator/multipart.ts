import { createHash, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { childText, parseXml } from '../mns-emulator/xml.js';
import { md5Etag, OssFault, type Bucket, type Upload } from './model.js';
import { readBody, sendXml, toXml, type ObjectHandler, type OssEndpoint } from './wire.js';

/** Every part but the last must be at least 100 KB (OSS: CompleteMultipartUpload, EntityTooSmall). */
const MIN_PART_BYTES = 100 * 1024;
const PAGE = 1000;

function uploadOf(bucket: Bucket, uploadId: string, objectKey: string): Upload {
  const upload = bucket.uploads.get(uploadId);
  if (!upload || upload.key !== objectKey)
    throw new OssFault('NoSuchUpload', 404, 'The specified upload does not exist.');
  return upload;
}

function pageSize(query: URLSearchParams, name: string): number {
  const n = Number(query.get(name) ?? PAGE);
  if (!Number.isInteger(n) || n < 1 || n > PAGE)
    throw new OssFault('InvalidArgument', 400, `${name} must be an integer between 1 and ${PAGE}.`);
  return n;
}

/** CompleteMultipartUpload: the listed parts, ascending, each as uploaded, all but the last 100 KB or more. */
function complete(bucket: Bucket, upload: Upload, uploadId: string, xml: string) {
  const listed = parseXml(xml).children.filter((c) => c.name === 'Part');
  const bodies: Buffer[] = [];
  const md5s: Buffer[] = [];
  let last = 0;
  for (const [i, part] of listed.entries()) {
    const n = Number(childText(part, 'PartNumber'));
    const stored = upload.parts.get(n);
    if (n <= last)
      throw new OssFault('InvalidPartOrder', 400, 'The list of parts was not in ascending order.');
    if (!stored || stored.etag.toUpperCase() !== (childText(part, 'ETag') ?? '').toUpperCase()) {
      throw new OssFault('InvalidPart', 400, `Part ${n} was not uploaded or its ETag does not match.`);
    }
    if (i < listed.length - 1 && stored.body.length < MIN_PART_BYTES) {
      throw new OssFault('EntityTooSmall', 400, `Part ${n} is smaller than the minimum allowed size.`);
    }
    last = n;
    bodies.push(stored.body);
    md5s.push(Buffer.from(stored.etag.slice(1, -1), 'hex'));
  }
  const etag = `"${createHash('md5').update(Buffer.concat(md5s)).digest('hex').toUpperCase()}-${listed.length}"`;
  bucket.objects.set(upload.key, {
    body: Buffer.concat(bodies),
    etag,
    contentType: upload.contentType,
    lastModified: new Date(),
  });
  bucket.uploads.delete(uploadId);
  return etag;
}

/** Whether an object request belongs to a multipart upload rather than to the object itself. */
export function isMultipartRequest(method: string, query: URLSearchParams): boolean {
  const uploadId = query.get('uploadId');
  if (method === 'POST') return query.has('uploads') || uploadId !== null;
  return (method === 'PUT' || method === 'GET' || method === 'DELETE') && uploadId !== null;
}

/**
 * The multipart calls on an object: initiate (`POST ?uploads`), upload part (`PUT ?partNumber&uploadId`,
 * held like a PutObject), list parts (`GET ?uploadId`, paged by `part-number-marker`), complete
 * (`POST ?uploadId`) and abort (`DELETE ?uploadId`).
 */
export const multipartRequest: ObjectHandler = async ({ bucket, holds }, req, res, objectKey, query) => {
  const method = req.method ?? 'GET';
  const uploadId = query.get('uploadId');
  if (method === 'POST' && query.has('uploads')) {
    const id = randomUUID().replace(/-/g, '').toUpperCase();
    const contentType = String(req.headers['content-type'] ?? 'application/octet-stream');
    bucket.uploads.set(id, { key: objectKey, contentType, initiated: new Date(), parts: new Map() });
    const body = { Bucket: bucket.name, Key: objectKey, UploadId: id };
    sendXml(res, 200, toXml('InitiateMultipartUploadResult', body));
    return;
  }
  if (uploadId === null)
    throw new OssFault('MethodNotAllowed', 405, `${method} is not supported on an object.`);
  const upload = uploadOf(bucket, uploadId, objectKey);
  if (method === 'PUT') {
    await holds.wait(objectKey);
    const body = await readBody(req);
    const partNumber = Number(query.get('partNumber'));
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10000) {
      throw new OssFault('InvalidArgument', 400, 'Part number must be an integer between 1 and 10000.');
    }
    // An upload aborted while its part travelled keeps nothing of it.
    uploadOf(bucket, uploadId, objectKey);
    const etag = md5Etag(body);
    upload.parts.set(partNumber, { body, etag });
    res.writeHead(200, { etag, 'content-length': 0 });
    res.end();
    return;
  }
  if (method === 'GET') {
    const marker = Number(query.get('part-number-marker') ?? 0);
    const max = pageSize(query, 'max-parts');
    const numbers = [...upload.parts.keys()].filter((n) => n > marker).sort((a, b) => a - b);
    const page = numbers.slice(0, max);
    const truncated = numbers.length > max;
    const body = toXml('ListPartsResult', {
      Bucket: bucket.name,
      Key: objectKey,
      UploadId: uploadId,
      PartNumberMarker: marker,
      NextPartNumberMarker: truncated ? page[page.length - 1] : undefined,
      MaxParts: max,
      IsTruncated: truncated,
      Part: page.map((n) => {
        const part = upload.parts.get(n)!;
        return {
          PartNumber: n,
          LastModified: upload.initiated.toISOString(),
          ETag: part.etag,
          Size: part.body.length,
        };
      }),
    });
    sendXml(res, 200, body);
    return;
  }
  if (method === 'DELETE') {
    bucket.uploads.delete(uploadId);
    res.writeHead(204);
    res.end();
    return;
  }
  if (method === 'POST') {
    const etag = complete(bucket, upload, uploadId, (await readBody(req)).toString('utf8'));
    const body = {
      Location: `/${bucket.name}/${objectKey}`,
      Bucket: bucket.name,
      Key: objectKey,
      ETag: etag,
    };
    sendXml(res, 200, toXml('CompleteMultipartUploadResult', body));
    return;
  }
  throw new OssFault('MethodNotAllowed', 405, `${method} is not supported on an object.`);
};

/** ListMultipartUploads (`GET /?uploads`), paged by `key-marker` and `upload-id-marker`. */
export function listMultipartUploads(
  { bucket }: OssEndpoint,
  res: ServerResponse,
  query: URLSearchParams,
): void {
  const prefix = query.get('prefix') ?? '';
  const keyMarker = query.get('key-marker') ?? '';
  const idMarker = query.get('upload-id-marker') ?? '';
  const max = pageSize(query, 'max-uploads');
  const all = [...bucket.uploads.entries()]
    .filter(([, u]) => u.key.startsWith(prefix))
    .map(([id, u]) => ({ Key: u.key, UploadId: id, Initiated: u.initiated.toISOString() }))
    .sort(
      (a, b) => Buffer.compare(Buffer.from(a.Key), Buffer.from(b.Key)) || (a.UploadId < b.UploadId ? -1 : 1),
    )
    .filter(
      (u) =>
        !keyMarker || u.Key > keyMarker || (u.Key === keyMarker && idMarker !== '' && u.UploadId > idMarker),
    );
  const page = all.slice(0, max);
  const truncated = all.length > max;
  const last = page[page.length - 1];
  const body = toXml('ListMultipartUploadsResult', {
    Bucket: bucket.name,
    Prefix: prefix,
    KeyMarker: keyMarker,
    UploadIdMarker: idMarker,
    NextKeyMarker: truncated ? last?.Key : undefined,
    NextUploadIdMarker: truncated ? last?.UploadId : undefined,
    MaxUploads: max,
    IsTruncated: truncated,
    Upload: page,
  });
  sendXml(res, 200, body);
}
