import { createHash, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { childText, parseXml } from '../mns-emulator/xml.js';
import { md5Etag, OssFault } from './model.js';
import { readBody, sendXml, toXml, type ObjectHandler, type OssEndpoint } from './wire.js';

/** Whether an object request belongs to a multipart upload rather than to the object itself. */
export function isMultipartRequest(method: string, query: URLSearchParams): boolean {
  const uploadId = query.get('uploadId');
  if (method === 'POST') return query.has('uploads') || uploadId !== null;
  return (method === 'PUT' || method === 'DELETE') && uploadId !== null;
}

/** Initiate (POST ?uploads), upload part (PUT), complete (POST) or abort (DELETE) one upload. */
export const multipartRequest: ObjectHandler = async ({ bucket, holds }, req, res, objectKey, query) => {
  const method = req.method ?? 'GET';
  const uploadId = query.get('uploadId');
  if (method === 'PUT' && uploadId !== null) {
    await holds.wait(objectKey);
    const body = await readBody(req);
    const etag = md5Etag(body);
    const upload = bucket.uploads.get(uploadId);
    if (!upload || upload.key !== objectKey)
      throw new OssFault('NoSuchUpload', 404, 'The specified upload does not exist.');
    const partNumber = Number(query.get('partNumber'));
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10000) {
      throw new OssFault('InvalidArgument', 400, 'Part number must be an integer between 1 and 10000.');
    }
    upload.parts.set(partNumber, { body, etag });
    res.writeHead(200, { etag, 'content-length': 0 });
    res.end();
    return;
  }
  if (method === 'DELETE' && uploadId !== null) {
    if (!bucket.uploads.delete(uploadId))
      throw new OssFault('NoSuchUpload', 404, 'The specified upload does not exist.');
    res.writeHead(204);
    res.end();
    return;
  }
  if (method === 'POST' && query.has('uploads')) {
    const id = randomUUID().replace(/-/g, '').toUpperCase();
    bucket.uploads.set(id, { key: objectKey, initiated: new Date(), parts: new Map() });
    sendXml(
      res,
      200,
      toXml('InitiateMultipartUploadResult', { Bucket: bucket.name, Key: objectKey, UploadId: id }),
    );
    return;
  }
  if (method === 'POST' && uploadId !== null) {
    const upload = bucket.uploads.get(uploadId);
    if (!upload || upload.key !== objectKey)
      throw new OssFault('NoSuchUpload', 404, 'The specified upload does not exist.');
    const listed = parseXml((await readBody(req)).toString('utf8')).children.filter((c) => c.name === 'Part');
    const bodies: Buffer[] = [];
    const md5s: Buffer[] = [];
    let last = 0;
    for (const part of listed) {
      const n = Number(childText(part, 'PartNumber'));
      const stored = upload.parts.get(n);
      if (n <= last)
        throw new OssFault('InvalidPartOrder', 400, 'The list of parts was not in ascending order.');
      if (!stored || stored.etag.toUpperCase() !== (childText(part, 'ETag') ?? '').toUpperCase()) {
        throw new OssFault('InvalidPart', 400, `Part ${n} was not uploaded or its ETag does not match.`);
      }
      last = n;
      bodies.push(stored.body);
      md5s.push(Buffer.from(stored.etag.slice(1, -1), 'hex'));
    }
    const etag = `"${createHash('md5').update(Buffer.concat(md5s)).digest('hex').toUpperCase()}-${listed.length}"`;
    const contentType = String(req.headers['content-type'] ?? 'application/octet-stream');
    bucket.objects.set(objectKey, {
      body: Buffer.concat(bodies),
      etag,
      contentType,
      lastModified: new Date(),
    });
    bucket.uploads.delete(uploadId);
    sendXml(
      res,
      200,
      toXml('CompleteMultipartUploadResult', {
        Location: `/${bucket.name}/${objectKey}`,
        Bucket: bucket.name,
        Key: objectKey,
        ETag: etag,
      }),
    );
    return;
  }
  throw new OssFault('MethodNotAllowed', 405, `${method} is not supported on an object.`);
};

/** ListMultipartUploads (GET on the bucket with `?uploads`): every open upload under the prefix. */
export function listMultipartUploads({ bucket }: OssEndpoint, res: ServerResponse, query: URLSearchParams) {
  const prefix = query.get('prefix') ?? '';
  const uploads = [...bucket.uploads.entries()]
    .filter(([, u]) => u.key.startsWith(prefix))
    .map(([id, u]) => ({ Key: u.key, UploadId: id, Initiated: u.initiated.toISOString() }));
  sendXml(
    res,
    200,
    toXml('ListMultipartUploadsResult', {
      Bucket: bucket.name,
      Prefix: prefix,
      MaxUploads: 1000,
      IsTruncated: false,
      Upload: uploads,
    }),
  );
}
