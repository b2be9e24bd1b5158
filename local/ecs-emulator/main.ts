import path from 'node:path';
import { DEMO_SEED_PATH } from './seed.js';
import { DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET, startEcsEmulator } from './server.js';

/** `npm run emulator [-- --reset] [--seed file.json]`: the ECS emulator alone, on a fixed port. */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const seedIndex = args.indexOf('--seed');
  const seed = seedIndex >= 0 ? args[seedIndex + 1] : undefined;
  const env = process.env;
  const emulator = await startEcsEmulator({
    port: Number(env['ECS_EMULATOR_PORT'] ?? 9090),
    regionId: env['ECS_EMULATOR_REGION'] ?? 'cn-hangzhou',
    accessKeyId: env['ECS_EMULATOR_ACCESS_KEY_ID'] ?? DEFAULT_ACCESS_KEY_ID,
    accessKeySecret: env['ECS_EMULATOR_ACCESS_KEY_SECRET'] ?? DEFAULT_ACCESS_KEY_SECRET,
    dataDir: path.resolve(env['ECS_EMULATOR_DATA_DIR'] ?? './.data/ecs-emulator'),
    seed: seed ?? DEMO_SEED_PATH,
    reset: args.includes('--reset'),
    guest: env['ECS_EMULATOR_GUEST'] === 'simulated' ? 'simulated' : 'auto',
    log: (line) => console.log(line),
  });
  console.log(`ECS emulator ready
  endpoint          ${emulator.endpoint}   (SDK: endpoint '${emulator.endpoint}', protocol 'http')
  region            ${emulator.regionId}
  access key id     ${emulator.accessKeyId}
  access key secret ${emulator.accessKeySecret}
  guest scripts     ${emulator.guestMode.kind} (${emulator.guestMode.why})
  admin API         ${emulator.url}/__admin/<method>   e.g. curl -X POST ${emulator.url}/__admin/stats`);
  const stop = (): void => {
    void emulator.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
