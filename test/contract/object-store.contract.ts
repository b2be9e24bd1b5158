import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../lib/ports/object-store.js';

/** What each adapter's test file provides to the shared suite. */
export interface ObjectStoreFixture {
  store: ObjectStore;
  /** Puts an unfinished upload under `key` the way a writer that died mid-upload leaves one. */
  leaveUnfinishedUpload(key: string): Promise<void>;
  dispose(): Promise<void>;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A stream of `total` bytes in uneven chunks, so part boundaries never line up with chunks. */
function unevenStream(data: Buffer): Readable {
  let at = 0;
  return new Readable({
    read() {
      if (at >= data.length) return void this.push(null);
      const n = 7_919 + (at % 65_537);
      this.push(data.subarray(at, at + n));
      at += n;
    },
  });
}

export function objectStoreContract(name: string, setup: () => Promise<ObjectStoreFixture>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let fx: ObjectStoreFixture;
    let store: ObjectStore;
    beforeAll(async () => {
      fx = await setup();
      store = fx.store;
    });
    afterAll(() => fx.dispose());

    it('round-trips binary bytes, an empty body and a unicode key', async () => {
      const bytes = randomBytes(70_000);
      await store.put('c/round/bin', bytes);
      await store.put('c/round/empty', Buffer.alloc(0));
      await store.put('c/round/naïve café 文件.txt', 'hello', 'text/plain');
      expect(sha((await store.get('c/round/bin'))!)).toBe(sha(bytes));
      expect((await store.get('c/round/empty'))!.length).toBe(0);
      expect((await store.get('c/round/naïve café 文件.txt'))!.toString()).toBe('hello');
      expect(await store.get('c/round/missing')).toBeUndefined();
    });

    it('streams a large body in, across parts, and opens it as a stream with size and ETag', async () => {
      const data = randomBytes(900_000);
      await store.putStream('c/stream/big.bin', unevenStream(data));
      const opened = (await store.open('c/stream/big.bin'))!;
      expect(opened.size).toBe(data.length);
      expect(opened.etag).toMatch(/^".+"$/);
      expect(sha(await readAll(opened.body))).toBe(sha(data));
      await store.putStream(
        'c/stream/small.txt',
        Readable.from([Buffer.from('ab'), Buffer.from('c')]),
        'text/plain',
      );
      const small = (await store.open('c/stream/small.txt'))!;
      expect([small.size, small.contentType, (await readAll(small.body)).toString()]).toEqual([
        3,
        'text/plain',
        'abc',
      ]);
      expect(await store.open('c/stream/none')).toBeUndefined();
    });

    it('opens a byte range: exactly those bytes, a zero-length one, and refuses one past the end', async () => {
      const data = randomBytes(300_000);
      await store.putStream('c/range/pack', unevenStream(data));
      for (const [start, length] of [
        [0, 1],
        [123_457, 65_536],
        [data.length - 10, 10],
        [0, data.length],
      ] as const) {
        const part = (await store.open('c/range/pack', { start, length }))!;
        expect(part.size).toBe(length);
        expect(sha(await readAll(part.body))).toBe(sha(data.subarray(start, start + length)));
      }
      const empty = (await store.open('c/range/pack', { start: 500, length: 0 }))!;
      expect([empty.size, (await readAll(empty.body)).length]).toEqual([0, 0]);
      await expect(store.open('c/range/pack', { start: data.length - 5, length: 10 })).rejects.toThrow(
        /run past its 300000 bytes/,
      );
      await expect(store.open('c/range/pack', { start: data.length + 1, length: 0 })).rejects.toThrow(
        /run past/,
      );
      expect(await store.open('c/range/none', { start: 0, length: 1 })).toBeUndefined();
    });

    it('lists by prefix in key order and deletes by prefix, leaving neighbours', async () => {
      for (const k of ['c/list/e1/b', 'c/list/e1/a/x', 'c/list/e10/a', 'c/list/e2/a'])
        await store.put(k, 'data');
      expect((await store.list('c/list/e1/')).map((o) => o.key)).toEqual(['c/list/e1/a/x', 'c/list/e1/b']);
      expect((await store.list('c/list/e1/'))[0]!.size).toBe(4);
      await store.delete('c/list/e1/');
      expect((await store.list('c/list/')).map((o) => o.key)).toEqual(['c/list/e10/a', 'c/list/e2/a']);
    });

    it('lists and deletes more than one page of objects', async () => {
      const keys = Array.from({ length: 1_050 }, (_, i) => `c/many/${String(i).padStart(5, '0')}`);
      for (let i = 0; i < keys.length; i += 50)
        await Promise.all(keys.slice(i, i + 50).map((k) => store.put(k, 'x')));
      expect((await store.list('c/many/')).map((o) => o.key)).toEqual(keys);
      await store.delete('c/many/');
      expect(await store.list('c/many/')).toEqual([]);
    });

    it('signs a GET URL that downloads the bytes and a PUT URL that uploads them, each for its key only', async () => {
      await store.put('c/signed/read.bin', Buffer.from([0, 1, 2, 255]));
      const later = Date.now() + 60_000;
      const get = await fetch(await store.signedUrl('c/signed/read.bin', later));
      expect(get.status).toBe(200);
      expect(Buffer.from(await get.arrayBuffer())).toEqual(Buffer.from([0, 1, 2, 255]));

      const upload = randomBytes(5_000);
      const put = await fetch(await store.signedUrl('c/signed/up load.bin', later, 'PUT'), {
        method: 'PUT',
        body: upload,
      });
      expect(put.status).toBe(200);
      expect(sha((await store.get('c/signed/up load.bin'))!)).toBe(sha(upload));

      // A download link cannot write, and a link for one key does not reach another.
      const readUrl = await store.signedUrl('c/signed/read.bin', later);
      expect((await fetch(readUrl, { method: 'PUT', body: 'overwrite' })).status).toBe(403);
      const other = new URL(readUrl);
      other.pathname = other.pathname.replace('read.bin', 'other.bin');
      expect((await fetch(other)).status).toBe(403);
      expect((await store.get('c/signed/read.bin'))!.length).toBe(4);
    });

    it('answers a signed download with the Content-Disposition it was signed with, and only that one', async () => {
      await store.put('c/disposition/blob', 'named');
      const disposition = `attachment; filename="a_b.txt"; filename*=UTF-8''a%C3%BCb.txt`;
      const url = await store.signedUrl('c/disposition/blob', Date.now() + 60_000, 'GET', {
        contentDisposition: disposition,
      });
      const answer = await fetch(url);
      expect([answer.status, answer.headers.get('content-disposition')]).toEqual([200, disposition]);
      expect(await answer.text()).toBe('named');
      const renamed = new URL(url);
      for (const name of ['disposition', 'response-content-disposition']) {
        if (renamed.searchParams.has(name)) renamed.searchParams.set(name, 'attachment; filename="evil.exe"');
      }
      expect(renamed.toString()).not.toBe(url);
      expect((await fetch(renamed)).status).toBe(403);
    });

    it('refuses a signed URL after it expires', async () => {
      await store.put('c/expired/a', 'x');
      const url = await store.signedUrl('c/expired/a', Date.now() + 1_000);
      const deadline = Date.now() + 10_000;
      let status = 200;
      while (status === 200 && Date.now() < deadline) {
        status = (await fetch(url)).status;
        if (status === 200) await new Promise((r) => setTimeout(r, 250));
      }
      expect(status).toBe(403);
    });

    it('aborts unfinished uploads under a prefix and only there', async () => {
      await fx.leaveUnfinishedUpload('c/abort/e1/half.bin');
      await fx.leaveUnfinishedUpload('c/abort/e2/half.bin');
      expect(await store.abortUploads('c/abort/e1/')).toBe(1);
      expect(await store.abortUploads('c/abort/e1/')).toBe(0);
      expect(await store.abortUploads('c/abort/')).toBe(1);
      expect(await store.list('c/abort/')).toEqual([]);
    });
  });
}
