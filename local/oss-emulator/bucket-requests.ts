import type { IncomingMessage, ServerResponse } from 'node:http';
import { childText, parseXml } from '../mns-emulator/xml.js';
import { OssFault } from './model.js';
import { listMultipartUploads } from './multipart.js';
import { readBody, sendXml, toXml, type OssEndpoint } from './wire.js';

/** ListObjects (prefix, delimiter, marker, max-keys): one page of keys and common prefixes. */
function listObjects({ bucket }: OssEndpoint, res: ServerResponse, query: URLSearchParams): void {
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
}

/** DeleteMultipleObjects: up to 1000 keys, each answered unless the request asks to be quiet. */
async function deleteObjects({ bucket }: OssEndpoint, req: IncomingMessage, res: ServerResponse) {
  const doc = parseXml((await readBody(req)).toString('utf8'));
  const quiet = childText(doc, 'Quiet') === 'true';
  const keys = doc.children.filter((c) => c.name === 'Object').map((o) => childText(o, 'Key') ?? '');
  if (keys.length > 1000) throw new OssFault('MalformedXML', 400, 'At most 1000 objects per request.');
  for (const k of keys) bucket.objects.delete(k);
  sendXml(res, 200, toXml('DeleteResult', { Deleted: quiet ? [] : keys.map((k) => ({ Key: k })) }));
}

/** A request on the bucket itself (the path `/`). */
export async function bucketRequest(
  endpoint: OssEndpoint,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
): Promise<void> {
  const method = req.method ?? 'GET';
  if (method === 'GET' && query.has('uploads')) return listMultipartUploads(endpoint, res, query);
  if (method === 'GET') return listObjects(endpoint, res, query);
  if (method === 'POST' && query.has('delete')) return deleteObjects(endpoint, req, res);
  throw new OssFault('MethodNotAllowed', 405, `${method} is not supported on a bucket.`);
}
