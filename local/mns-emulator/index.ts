export { startMnsEmulator, type MnsEmulator, type MnsEmulatorOptions } from './server.js';
