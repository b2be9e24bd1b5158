import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  MAX_UPLOAD_PARTS,
  MIN_UPLOAD_PART_BYTES,
  UploadNotFoundError,
  UploadPartsError,
  type UploadedPart,
} from '../../ports/object-store.js';

interface UploadMeta {
  key: string;
  contentType: string;
}

const UPLOAD_ID = /^[0-9a-f]{32}$/;
const md5 = (body: Buffer) => createHash('md5').update(body).digest('hex');

/**
 * Multipart uploads on the local folder, with OSS's rules: parts numbered 1-10,000, a number
 * uploaded again replaces its part, every part but the last at least 100 KB. An upload is a folder
 * `<root>/uploads/<id>/` holding `upload.json` (its key) and one file per part; each file is
 * written beside its place and renamed in, so a part is there whole or not at all.
 */
export class FsUploads {
  private readonly dir: string;

  constructor(
    root: string,
    /** Publishes an object from a stream, atomically (the store's `putStream`). */
    private readonly publish: (key: string, body: Readable, contentType: string) => Promise<void>,
  ) {
    this.dir = path.resolve(root, 'uploads');
  }

  private async write(file: string, body: Buffer | string): Promise<void> {
    const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await fs.writeFile(temp, body);
    await fs.rename(temp, file);
  }

  /** The upload's folder once `uploadId` is known to name an upload of `key`. */
  private async folder(key: string, uploadId: string): Promise<{ at: string; meta: UploadMeta }> {
    if (UPLOAD_ID.test(uploadId)) {
      const at = path.join(this.dir, uploadId);
      try {
        const meta = JSON.parse(await fs.readFile(path.join(at, 'upload.json'), 'utf8')) as UploadMeta;
        if (meta.key === key) return { at, meta };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    throw new UploadNotFoundError(key, uploadId);
  }

  async create(key: string, contentType: string): Promise<string> {
    const uploadId = randomBytes(16).toString('hex');
    const at = path.join(this.dir, uploadId);
    await fs.mkdir(at, { recursive: true });
    await this.write(path.join(at, 'upload.json'), JSON.stringify({ key, contentType }));
    return uploadId;
  }

  async uploadPart(key: string, uploadId: string, number: number, body: Buffer): Promise<UploadedPart> {
    if (!Number.isInteger(number) || number < 1 || number > MAX_UPLOAD_PARTS) {
      throw new RangeError(
        `part number ${number} of ${key}: must be an integer from 1 to ${MAX_UPLOAD_PARTS}`,
      );
    }
    const { at } = await this.folder(key, uploadId);
    const etag = `"${md5(body)}"`;
    await this.write(path.join(at, String(number)), body);
    await this.write(path.join(at, `${number}.etag`), etag);
    return { number, etag, size: body.length };
  }

  async listParts(key: string, uploadId: string): Promise<UploadedPart[]> {
    const { at } = await this.folder(key, uploadId);
    const parts: UploadedPart[] = [];
    for (const name of await fs.readdir(at)) {
      if (!/^\d+$/.test(name)) continue;
      const file = path.join(at, name);
      // A writer that died between a part and its ETag left the part: its ETag is its hash.
      const etag = await fs
        .readFile(`${file}.etag`, 'utf8')
        .catch(async () => `"${md5(await fs.readFile(file))}"`);
      parts.push({ number: Number(name), etag, size: (await fs.stat(file)).size });
    }
    return parts.sort((a, b) => a.number - b.number);
  }

  async complete(key: string, uploadId: string, named: { number: number; etag: string }[]): Promise<void> {
    const { at, meta } = await this.folder(key, uploadId);
    const stored = new Map((await this.listParts(key, uploadId)).map((p) => [p.number, p]));
    if (named.length === 0) throw new UploadPartsError(key, 'no parts were named');
    const files: string[] = [];
    for (const [i, p] of named.entries()) {
      const part = stored.get(p.number);
      if (i > 0 && p.number <= named[i - 1]!.number)
        throw new UploadPartsError(key, `part ${p.number} is out of ascending order`);
      if (!part || part.etag.toLowerCase() !== p.etag.toLowerCase())
        throw new UploadPartsError(key, `part ${p.number} was not uploaded or its ETag does not match`);
      if (i < named.length - 1 && part.size < MIN_UPLOAD_PART_BYTES)
        throw new UploadPartsError(
          key,
          `part ${p.number} holds ${part.size} bytes, below the 100 KB minimum`,
        );
      files.push(path.join(at, String(p.number)));
    }
    async function* concatenated() {
      for (const file of files) yield* createReadStream(file) as AsyncIterable<Buffer>;
    }
    await this.publish(key, Readable.from(concatenated()), meta.contentType);
    await fs.rm(at, { recursive: true, force: true });
  }

  async abort(key: string, uploadId: string): Promise<void> {
    try {
      const { at } = await this.folder(key, uploadId);
      await fs.rm(at, { recursive: true, force: true });
    } catch (err) {
      if (!(err instanceof UploadNotFoundError)) throw err;
    }
  }

  async list(prefix: string): Promise<{ key: string; uploadId: string }[]> {
    let ids: string[];
    try {
      ids = await fs.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: { key: string; uploadId: string }[] = [];
    for (const uploadId of ids.filter((id) => UPLOAD_ID.test(id))) {
      const meta = await fs
        .readFile(path.join(this.dir, uploadId, 'upload.json'), 'utf8')
        .then((text) => JSON.parse(text) as UploadMeta)
        .catch(() => null);
      if (meta?.key.startsWith(prefix)) out.push({ key: meta.key, uploadId });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.uploadId < b.uploadId ? -1 : 1));
  }
}
