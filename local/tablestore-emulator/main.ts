import { startTablestoreEmulator } from './server.js';

/** Runs the emulator on its own: `tsx local/tablestore-emulator/main.ts` (state is in memory). */
const emulator = await startTablestoreEmulator({
  port: Number(process.env.TABLESTORE_EMULATOR_PORT ?? 9091),
  instanceName: process.env.TABLESTORE_INSTANCE ?? 'ecsb-local',
  accessKeyId: process.env.ALIBABA_CLOUD_ACCESS_KEY_ID ?? 'emulator-key',
  accessKeySecret: process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET ?? 'emulator-secret',
});
console.log(`Tablestore emulator on ${emulator.endpoint} (instance ${emulator.instanceName})`);
const stop = () => void emulator.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
