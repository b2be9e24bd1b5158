import { md5Etag, OssFault, type StoredObject } from './model.js';
import { isMultipartRequest, multipartRequest } from './multipart.js';
import { readBody, type ObjectHandler } from './wire.js';

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

/** PutObject, GetObject, HeadObject and DeleteObject; a multipart upload's requests go on to it. */
export const objectRequest: ObjectHandler = async (endpoint, req, res, objectKey, query) => {
  const method = req.method ?? 'GET';
  if (isMultipartRequest(method, query)) return multipartRequest(endpoint, req, res, objectKey, query);
  const { bucket, holds } = endpoint;
  if (method === 'PUT') {
    await holds.wait(objectKey);
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
};
