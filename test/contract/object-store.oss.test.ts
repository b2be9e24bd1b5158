import OSS from 'ali-oss';
import { SystemClock } from '../../lib/adapters/system.js';
import { createOssObjectStore } from '../../lib/adapters/oss/index.js';
import { startOssEmulator } from '../../local/oss-emulator/index.js';
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
