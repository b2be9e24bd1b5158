import type { ObjectStore } from '../ports/object-store.js';

/**
 * An object store whose adapter is opened on its first call. The OSS SDK is most of a function's
 * code by size, and only exports use it: every cold start would otherwise compile it. A failed
 * open is not kept, so the next call tries again.
 */
export function lazyObjectStore(open: () => Promise<ObjectStore>): ObjectStore {
  let opened: Promise<ObjectStore> | undefined;
  const store = () =>
    (opened ??= open().catch((err: unknown) => {
      opened = undefined;
      throw err;
    }));
  return {
    put: async (key, body, contentType) => (await store()).put(key, body, contentType),
    putStream: async (key, body, contentType) => (await store()).putStream(key, body, contentType),
    get: async (key) => (await store()).get(key),
    open: async (key, range) => (await store()).open(key, range),
    list: async (prefix) => (await store()).list(prefix),
    delete: async (prefix) => (await store()).delete(prefix),
    abortUploads: async (prefix) => (await store()).abortUploads(prefix),
    createUpload: async (key, contentType) => (await store()).createUpload(key, contentType),
    uploadPart: async (key, uploadId, number, body) =>
      (await store()).uploadPart(key, uploadId, number, body),
    listParts: async (key, uploadId) => (await store()).listParts(key, uploadId),
    completeUpload: async (key, uploadId, parts) => (await store()).completeUpload(key, uploadId, parts),
    abortUpload: async (key, uploadId) => (await store()).abortUpload(key, uploadId),
    listUploads: async (prefix) => (await store()).listUploads(prefix),
    signedUrl: async (key, expiresAt, method, options) =>
      (await store()).signedUrl(key, expiresAt, method, options),
  };
}
