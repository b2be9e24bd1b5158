import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream, type Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  rangeBeyond,
  type ByteRange,
  type ObjectStore,
  type OpenedObject,
  type SignedMethod,
  type SignedUrlOptions,
} from '../../ports/object-store.js';

export interface FsObjectStoreOptions {
  /** Folder holding the objects (created when missing). */
  root: string;
  /** Where signed URLs point, e.g. the local API's `http://127.0.0.1:8080/objects`. */
  baseUrl: string;
  /** HMAC key for signed URLs; a random one (valid for this process only) when absent. */
  secret?: string;
}

export class ObjectKeyError extends Error {
  constructor(key: string, reason: string) {
    super(`invalid object key ${JSON.stringify(key)}: ${reason}`);
    this.name = 'ObjectKeyError';
  }
}

/**
 * Keys are relative slash paths; anything that could leave the root (`..`, absolute paths,
 * backslashes, NUL) is refused rather than normalised, so a key always names one file.
 */
export function checkKey(key: string): string {
  if (key.length === 0 || key.length > 1024) throw new ObjectKeyError(key, 'must be 1-1024 characters');
  if (key.startsWith('/') || key.includes('\\') || key.includes('\0')) {
    throw new ObjectKeyError(key, 'must be a relative path with forward slashes');
  }
  const parts = key.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new ObjectKeyError(key, 'must not contain empty, "." or ".." segments');
  }
  return key;
}

function checkPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  checkKey(trimmed);
  return prefix;
}

/**
 * The object store on a local folder (the local cloud's stand-in for OSS). Objects live under
 * `<root>/data/<key>`, their content type under `<root>/meta/<key>.json`; writes go to a temp file
 * renamed into place, so a reader never sees half an object.
 */
export class FsObjectStore implements ObjectStore {
  private readonly dataDir: string;
  private readonly metaDir: string;
  private readonly secret: Buffer;

  constructor(private readonly options: FsObjectStoreOptions) {
    this.dataDir = path.resolve(options.root, 'data');
    this.metaDir = path.resolve(options.root, 'meta');
    this.secret = options.secret ? Buffer.from(options.secret) : randomBytes(32);
  }

  private dataPath(key: string): string {
    return path.join(this.dataDir, ...checkKey(key).split('/'));
  }

  private metaPath(key: string): string {
    return `${path.join(this.metaDir, ...checkKey(key).split('/'))}.json`;
  }

  private async writeAtomic(file: string, body: Buffer | string): Promise<void> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await fs.writeFile(temp, body);
    await fs.rename(temp, file);
  }

  async put(key: string, body: Buffer | string, contentType = 'application/octet-stream'): Promise<void> {
    await this.writeAtomic(this.dataPath(key), body);
    const etag = createHash('md5').update(body).digest('hex');
    await this.writeAtomic(this.metaPath(key), JSON.stringify({ contentType, etag }));
  }

  /** Streams to a temp file beside the object, hashing on the way; the rename publishes it. */
  async putStream(key: string, body: Readable, contentType = 'application/octet-stream'): Promise<void> {
    const file = this.dataPath(key);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    const hash = createHash('md5');
    try {
      await pipeline(
        body,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            hash.update(chunk);
            yield chunk;
          }
        },
        createWriteStream(temp),
      );
    } catch (err) {
      await fs.rm(temp, { force: true });
      throw err;
    }
    await fs.rename(temp, file);
    await this.writeAtomic(this.metaPath(key), JSON.stringify({ contentType, etag: hash.digest('hex') }));
  }

  async open(key: string, range?: ByteRange): Promise<OpenedObject | undefined> {
    const file = this.dataPath(key);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    // The stream reads through the handle opened here, so a rename after `open` changes nothing.
    const stat = await handle.stat();
    const meta = await this.meta(key);
    if (range && range.start + range.length > stat.size) {
      await handle.close();
      throw new RangeError(rangeBeyond(key, range, stat.size));
    }
    const slice = range ? { start: range.start, end: range.start + range.length - 1 } : {};
    // A zero-length range reads nothing: a stream whose end precedes its start would read one byte.
    // Reads are of 1 MiB: at the default 64 KiB, reading a large object cost several times its hashing.
    const body =
      range?.length === 0
        ? (await handle.close(), Readable.from([]))
        : createReadStream('', { fd: handle, autoClose: true, highWaterMark: 1 << 20, ...slice });
    return {
      body,
      size: range ? range.length : stat.size,
      etag: `"${meta.etag ?? `${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}`}"`,
      contentType: meta.contentType ?? 'application/octet-stream',
    };
  }

  private async meta(key: string): Promise<{ contentType?: string; etag?: string }> {
    try {
      return JSON.parse(await fs.readFile(this.metaPath(key), 'utf8')) as {
        contentType?: string;
        etag?: string;
      };
    } catch {
      return {};
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await fs.readFile(this.dataPath(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async contentType(key: string): Promise<string | undefined> {
    return (await this.meta(key)).contentType;
  }

  async list(prefix: string): Promise<{ key: string; size: number }[]> {
    checkPrefix(prefix);
    const out: { key: string; size: number }[] = [];
    const walk = async (dir: string, rel: string) => {
      let entries: Dirent[];
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const e of entries) {
        const key = rel === '' ? e.name : `${rel}/${e.name}`;
        if (e.isDirectory()) {
          // Only descend where keys under the prefix can be.
          if (key.startsWith(prefix) || prefix.startsWith(`${key}/`)) await walk(path.join(dir, e.name), key);
        } else if (e.isFile() && !e.name.endsWith('.tmp') && key.startsWith(prefix)) {
          out.push({ key, size: (await fs.stat(path.join(dir, e.name))).size });
        }
      }
    };
    await walk(this.dataDir, '');
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Deletes every object whose key starts with `prefix` (an export's folder, say). */
  async delete(prefix: string): Promise<void> {
    for (const { key } of await this.list(prefix)) {
      await fs.rm(this.dataPath(key), { force: true });
      await fs.rm(this.metaPath(key), { force: true });
    }
  }

  /** An unfinished upload here is a temp file a dead writer left; they are removed. */
  async abortUploads(prefix: string): Promise<number> {
    checkPrefix(prefix);
    let aborted = 0;
    const walk = async (dir: string, rel: string) => {
      let entries: Dirent[];
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const e of entries) {
        const key = rel === '' ? e.name : `${rel}/${e.name}`;
        if (e.isDirectory() && (key.startsWith(prefix) || prefix.startsWith(`${key}/`))) {
          await walk(path.join(dir, e.name), key);
        } else if (e.isFile() && e.name.endsWith('.tmp') && key.startsWith(prefix)) {
          await fs.rm(path.join(dir, e.name), { force: true });
          aborted += 1;
        }
      }
    };
    await walk(this.dataDir, '');
    return aborted;
  }

  /** The disposition is signed too (as OSS signs `response-content-disposition`): a link cannot be renamed. */
  private sign(key: string, expiresAt: number, method: SignedMethod, disposition = ''): string {
    return createHmac('sha256', this.secret)
      .update(`${method}\n${key}\n${expiresAt}${disposition ? `\n${disposition}` : ''}`)
      .digest('base64url');
  }

  async signedUrl(
    key: string,
    expiresAt: number,
    method: SignedMethod = 'GET',
    options: SignedUrlOptions = {},
  ): Promise<string> {
    checkKey(key);
    const encoded = key.split('/').map(encodeURIComponent).join('/');
    const base = this.options.baseUrl.replace(/\/+$/, '');
    const expires = Math.floor(expiresAt);
    const disposition = options.contentDisposition ?? '';
    const signature = this.sign(key, expires, method, disposition);
    const extra = disposition ? `&disposition=${encodeURIComponent(disposition)}` : '';
    return `${base}/${encoded}?expires=${expires}${extra}&signature=${signature}`;
  }

  /** For whoever serves signed URLs: true when the signature matches and `now` is before the expiry. */
  verify(
    key: string,
    expiresAt: number,
    signature: string,
    now: number,
    method: SignedMethod = 'GET',
    disposition = '',
  ): boolean {
    if (!Number.isFinite(expiresAt) || now >= expiresAt) return false;
    const expected = Buffer.from(this.sign(key, expiresAt, method, disposition));
    const given = Buffer.from(signature);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}

export function createFsObjectStore(options: FsObjectStoreOptions): FsObjectStore {
  return new FsObjectStore(options);
}
