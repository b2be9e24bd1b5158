export { startOssEmulator, type OssEmulator, type OssEmulatorOptions } from './server.js';
