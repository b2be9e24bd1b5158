import { describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../../lib/ports/object-store.js';
import { lazyObjectStore } from '../../../lib/runtime/lazy-object-store.js';

/** An in-memory store that records its calls. */
function recordingStore(calls: string[]): ObjectStore {
  const objects = new Map<string, Buffer>();
  return {
    put: async (key, body) => void (calls.push(`put ${key}`), objects.set(key, Buffer.from(body))),
    putStream: async (key) => void calls.push(`putStream ${key}`),
    get: async (key) => (calls.push(`get ${key}`), objects.get(key)),
    open: async (key, range) => (calls.push(`open ${key} ${range?.start}+${range?.length}`), undefined),
    list: async (prefix) => (
      calls.push(`list ${prefix}`),
      [...objects.keys()].map((key) => ({ key, size: 1 }))
    ),
    delete: async (prefix) => void calls.push(`delete ${prefix}`),
    abortUploads: async (prefix) => (calls.push(`abortUploads ${prefix}`), 2),
    createUpload: async (key, contentType) => (calls.push(`createUpload ${key} ${contentType}`), 'u1'),
    uploadPart: async (key, uploadId, number, body) => (
      calls.push(`uploadPart ${key} ${uploadId} ${number}`),
      { number, etag: '"e"', size: body.length }
    ),
    listParts: async (key, uploadId) => (calls.push(`listParts ${key} ${uploadId}`), []),
    completeUpload: async (key, uploadId, parts) =>
      void calls.push(`completeUpload ${key} ${uploadId} ${parts.length}`),
    abortUpload: async (key, uploadId) => void calls.push(`abortUpload ${key} ${uploadId}`),
    listUploads: async (prefix) => (calls.push(`listUploads ${prefix}`), []),
    signedUrl: async (key, expiresAt, method) => (
      calls.push(`signedUrl ${key} ${method}`),
      `https://x/${key}?e=${expiresAt}`
    ),
  };
}

describe('lazyObjectStore', () => {
  it('opens the adapter on the first call only, then passes every call through with its arguments', async () => {
    // Prepare
    const calls: string[] = [];
    let opens = 0;
    const store = lazyObjectStore(async () => ((opens += 1), recordingStore(calls)));
    expect(opens).toBe(0);
    // Act
    await store.put('a/1', 'x');
    const got = await store.get('a/1');
    const listed = await store.list('a/');
    const aborted = await store.abortUploads('a/');
    const url = await store.signedUrl('a/1', 99, 'GET');
    await store.delete('a/');
    await store.open('a/1', { start: 3, length: 4 });
    const uploadId = await store.createUpload('a/big', 'application/gzip');
    const part = await store.uploadPart('a/big', uploadId, 1, Buffer.from('xyz'));
    await store.listParts('a/big', uploadId);
    await store.completeUpload('a/big', uploadId, [part]);
    await store.abortUpload('a/big', uploadId);
    await store.listUploads('a/');
    // Assess
    expect(opens).toBe(1);
    expect(got?.toString()).toBe('x');
    expect(listed).toEqual([{ key: 'a/1', size: 1 }]);
    expect(aborted).toBe(2);
    expect(url).toBe('https://x/a/1?e=99');
    expect(calls).toEqual([
      'put a/1',
      'get a/1',
      'list a/',
      'abortUploads a/',
      'signedUrl a/1 GET',
      'delete a/',
      'open a/1 3+4',
      'createUpload a/big application/gzip',
      'uploadPart a/big u1 1',
      'listParts a/big u1',
      'completeUpload a/big u1 1',
      'abortUpload a/big u1',
      'listUploads a/',
    ]);
    expect(part).toEqual({ number: 1, etag: '"e"', size: 3 });
  });

  it('does not keep a failed open: the next call opens again', async () => {
    const calls: string[] = [];
    let opens = 0;
    const store = lazyObjectStore(async () => {
      opens += 1;
      if (opens === 1) throw new Error('SDK chunk missing');
      return recordingStore(calls);
    });
    await expect(store.get('k')).rejects.toThrow('SDK chunk missing');
    expect(await store.get('k')).toBeUndefined();
    expect(opens).toBe(2);
    expect(calls).toEqual(['get k']);
  });
});
