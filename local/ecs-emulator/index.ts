export { startEcsEmulator, DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET, API_VERSION } from './server.js';
export { DEMO_SEED_PATH } from './seed.js';
export { DEFAULT_REGIONS } from './regions.js';
export { connectEcsEmulator } from './remote.js';
export { rpcSignature, percentEncode } from './auth.js';
export type {
  EcsEmulatorOptions,
  EcsEmulator,
  EmulatorAdmin,
  GuestModeInfo,
  SeedConfig,
  SeedInstance,
  SeedDisk,
  SeedMount,
  SeedTmpFile,
  CallRecord,
  FreezeEvent,
  MountEvent,
  FileEntry,
  FaultSpec,
  EmulatorStats,
  BulkSeedSpec,
} from './types.js';
