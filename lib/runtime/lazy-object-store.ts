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
    open: async (key) => (await store()).open(key),
    list: async (prefix) => (await store()).list(prefix),
    delete: async (prefix) => (await store()).delete(prefix),
    abortUploads: async (prefix) => (await store()).abortUploads(prefix),
    signedUrl: async (key, expiresAt, method, options) =>
      (await store()).signedUrl(key, expiresAt, method, options),
  };
}
