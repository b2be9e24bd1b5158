import type { IncomingMessage, ServerResponse } from 'node:http';
import { ObjectKeyError, type FsObjectStore } from './index.js';

/**
 * Serves the folder store's signed URLs (`GET` downloads, `PUT` uploads) under `mount`, as OSS
 * serves its own: the signature names the method, so a download link cannot write. Returns false
 * for a path outside `mount`, for the caller to route elsewhere.
 */
export async function serveSignedObject(
  store: FsObjectStore,
  mount: string,
  req: IncomingMessage,
  res: ServerResponse,
  now: number,
  /** Awaited before an upload is stored (the local cloud's upload holds). */
  beforeUpload?: (key: string) => Promise<void>,
): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://local');
  const base = `${mount.replace(/\/+$/, '')}/`;
  if (!url.pathname.startsWith(base)) return false;
  const method = req.method === 'PUT' ? 'PUT' : req.method === 'GET' ? 'GET' : null;
  const fail = (status: number, message: string) => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(message);
    return true;
  };
  if (method === null) return fail(405, 'only GET and PUT are served');
  let key: string;
  try {
    key = url.pathname.slice(base.length).split('/').map(decodeURIComponent).join('/');
  } catch {
    return fail(400, 'malformed object path');
  }
  const expires = Number(url.searchParams.get('expires'));
  const disposition = url.searchParams.get('disposition') ?? '';
  if (!store.verify(key, expires, url.searchParams.get('signature') ?? '', now, method, disposition)) {
    return fail(403, 'the link is invalid or has expired');
  }
  try {
    if (method === 'PUT') {
      await beforeUpload?.(key);
      await store.putStream(key, req, req.headers['content-type'] ?? 'application/octet-stream');
      res.writeHead(200, { 'content-length': 0 });
      res.end();
      return true;
    }
    const opened = await store.open(key);
    if (!opened) return fail(404, 'no such object');
    res.writeHead(200, {
      'content-type': opened.contentType,
      'content-length': opened.size,
      etag: opened.etag,
      ...(disposition ? { 'content-disposition': disposition } : {}),
    });
    opened.body.pipe(res);
    return true;
  } catch (err) {
    if (err instanceof ObjectKeyError) return fail(400, err.message);
    throw err;
  }
}
