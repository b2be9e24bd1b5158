import { startMnsEmulator } from './server.js';

/** Runs the MNS emulator on its own: `tsx local/mns-emulator/main.ts [port]`. */
const port = Number(process.argv[2] ?? process.env.MNS_EMULATOR_PORT ?? 0);
const emulator = await startMnsEmulator({
  port,
  accessKeyId: process.env.MNS_EMULATOR_ACCESS_KEY_ID,
  accessKeySecret: process.env.MNS_EMULATOR_ACCESS_KEY_SECRET,
});
console.log(`MNS emulator listening on ${emulator.endpoint} (account ${emulator.accountId})`);
const stop = (): void => {
  void emulator.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
