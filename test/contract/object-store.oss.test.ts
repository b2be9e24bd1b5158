import OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../lib/ports/object-store.js';
import { SystemClock } from '../../lib/adapters/system.js';
import { createOssObjectStore } from '../../lib/adapters/oss/index.js';
import { startOssEmulator, type OssEmulator } from '../../local/oss-emulator/index.js';
import { multipartContract } from './object-store-multipart.contract.js';
import { objectStoreContract } from './object-store.contract.js';

objectStoreContract('OSS (ali-oss against the OSS emulator)', async () => {
  const emu = await startOssEmulator();
  const options = {
    bucket: emu.bucket,
    endpoint: emu.endpoint,
    cname: true,
    accessKeyId: emu.accessKeyId,
    accessKeySecret: emu.accessKeySecret,
  };
  return {
    // A small part size so the 900 KB stream really goes up in several parts.
    store: createOssObjectStore({
      bucket: emu.bucket,
      endpoint: emu.endpoint,
      cname: true,
      credentials: () => ({ accessKeyId: emu.accessKeyId, accessKeySecret: emu.accessKeySecret }),
      partSize: 200 * 1024,
      clock: new SystemClock(),
    }),
    async leaveUnfinishedUpload(key) {
      const sdk = new OSS(options);
      const { uploadId } = await sdk.initMultipartUpload(key);
      await sdk.uploadPart(key, uploadId, 1, Buffer.alloc(150 * 1024, 1), 0, 150 * 1024);
    },
    dispose: () => emu.close(),
  };
});

describe('OSS multipart', () => {
  let emu: OssEmulator;
  let store: ObjectStore;
  beforeAll(async () => {
    emu = await startOssEmulator();
    store = createOssObjectStore({
      bucket: emu.bucket,
      endpoint: emu.endpoint,
      cname: true,
      credentials: () => ({ accessKeyId: emu.accessKeyId, accessKeySecret: emu.accessKeySecret }),
      clock: new SystemClock(),
    });
  });
  afterAll(() => emu.close());
  multipartContract('OSS (ali-oss against the OSS emulator)', () => store);

  it('the emulator keeps no part of an aborted upload', async () => {
    const id = await store.createUpload('emu/a');
    await store.uploadPart('emu/a', id, 1, Buffer.alloc(10));
    await store.abortUpload('emu/a', id);
    expect(emu.state.uploads.size).toBe(0);
  });
});
