import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  MIN_UPLOAD_PART_BYTES,
  UploadNotFoundError,
  UploadPartsError,
  type ObjectStore,
} from '../../lib/ports/object-store.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Multipart uploads driven part by part through the port, as a job does across deliveries: every
 * adapter must agree on what a part replaced, listed, completed or aborted leaves behind, and
 * refuse what OSS refuses.
 */
export function multipartContract(name: string, storeOf: () => ObjectStore): void {
  describe(`ObjectStore multipart contract: ${name}`, () => {
    it('assembles the parts in order, a re-uploaded part replacing its number, and the upload is gone after', async () => {
      const store = storeOf();
      const key = 'mp/whole/archive.tar.gz';
      const parts = [
        randomBytes(MIN_UPLOAD_PART_BYTES),
        randomBytes(MIN_UPLOAD_PART_BYTES + 17),
        randomBytes(5),
      ];
      const id = await store.createUpload(key, 'application/gzip');
      expect(await store.listUploads('mp/whole/')).toEqual([{ key, uploadId: id }]);
      await store.uploadPart(key, id, 1, randomBytes(MIN_UPLOAD_PART_BYTES));
      const done = [];
      for (const [i, body] of parts.entries()) done.push(await store.uploadPart(key, id, i + 1, body));
      expect(done.map((p) => [p.number, p.size])).toEqual(parts.map((b, i) => [i + 1, b.length]));
      const listed = await store.listParts(key, id);
      expect(listed).toEqual(done);
      expect(await store.get(key)).toBeUndefined();

      await store.completeUpload(key, id, listed);
      const opened = (await store.open(key))!;
      expect(opened.contentType).toBe('application/gzip');
      expect(sha((await store.get(key))!)).toBe(sha(Buffer.concat(parts)));
      expect(await store.listUploads('mp/whole/')).toEqual([]);
      await expect(store.listParts(key, id)).rejects.toBeInstanceOf(UploadNotFoundError);
      await expect(store.uploadPart(key, id, 4, Buffer.from('late'))).rejects.toBeInstanceOf(
        UploadNotFoundError,
      );
    });

    it('refuses to complete with a part missing, a wrong ETag or a small part before the last', async () => {
      const store = storeOf();
      const key = 'mp/refuse/a';
      const id = await store.createUpload(key);
      const small = await store.uploadPart(key, id, 1, randomBytes(MIN_UPLOAD_PART_BYTES - 1));
      const bigBody = randomBytes(MIN_UPLOAD_PART_BYTES);
      const big = await store.uploadPart(key, id, 2, bigBody);
      await expect(store.completeUpload(key, id, [small, big])).rejects.toBeInstanceOf(UploadPartsError);
      await expect(
        store.completeUpload(key, id, [big, { number: 3, etag: big.etag }]),
      ).rejects.toBeInstanceOf(UploadPartsError);
      await expect(
        store.completeUpload(key, id, [{ number: 2, etag: '"00000000000000000000000000000000"' }]),
      ).rejects.toBeInstanceOf(UploadPartsError);
      // Refused completions leave the upload as it was; the last part may be any size.
      await store.completeUpload(key, id, [big]);
      expect(sha((await store.get(key))!)).toBe(sha(bigBody));
    });

    it('aborts an upload and its parts, by id or under a prefix; aborting twice is not an error', async () => {
      const store = storeOf();
      const a = await store.createUpload('mp/abort/e1/a');
      await store.uploadPart('mp/abort/e1/a', a, 1, randomBytes(1000));
      const b = await store.createUpload('mp/abort/e2/b');
      await store.uploadPart('mp/abort/e2/b', b, 1, randomBytes(1000));
      await store.abortUpload('mp/abort/e1/a', a);
      await store.abortUpload('mp/abort/e1/a', a);
      await expect(store.listParts('mp/abort/e1/a', a)).rejects.toBeInstanceOf(UploadNotFoundError);
      expect((await store.listUploads('mp/abort/')).map((u) => u.key)).toEqual(['mp/abort/e2/b']);
      expect(await store.abortUploads('mp/abort/')).toBe(1);
      expect(await store.listUploads('mp/abort/')).toEqual([]);
      expect(await store.list('mp/abort/')).toEqual([]);
    });

    it('names an upload by its key too: another key with the same id is no upload', async () => {
      const store = storeOf();
      const id = await store.createUpload('mp/key/a');
      await expect(store.uploadPart('mp/key/b', id, 1, Buffer.from('x'))).rejects.toBeInstanceOf(
        UploadNotFoundError,
      );
      await expect(store.listParts('mp/key/a', 'not-an-upload')).rejects.toBeInstanceOf(UploadNotFoundError);
      await store.abortUpload('mp/key/a', id);
    });

    it('lists more than one page of parts', async () => {
      const store = storeOf();
      const key = 'mp/pages/a';
      const id = await store.createUpload(key);
      for (let n = 1; n <= 1_005; n += 5)
        await Promise.all([0, 1, 2, 3, 4].map((d) => store.uploadPart(key, id, n + d, Buffer.from([d]))));
      const listed = await store.listParts(key, id);
      expect(listed.map((p) => p.number)).toEqual(Array.from({ length: 1_005 }, (_, i) => i + 1));
      await store.abortUpload(key, id);
    });
  });
}
