import { loadSettings } from '../lib/config.js';
import { startLocalCloud } from './cloud.js';
import { runCloudMode } from './cloud-mode/main.js';
import { createConsoleLogger } from './runtime/console-logger.js';

/**
 * `npm start`: the local cloud on loopback until Ctrl-C. State lives in DATA_DIR (default ./.data):
 * stopping and starting again resumes every job where it was.
 */
async function main(): Promise<void> {
  const env = { ...process.env };
  const settings = loadSettings(env);
  const log = createConsoleLogger({ quiet: env.LOG_LEVEL !== 'info' });
  const started = Date.now();
  const cloud = await startLocalCloud({
    dataDir: settings.DATA_DIR,
    settings: env,
    log,
    onProgress: (step) => process.stdout.write(`  ${step} ...\n`),
  });
  const { emulator } = cloud;
  const lines = [
    '',
    `ecs-backup local cloud is up (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    '',
    `  API            ${cloud.apiUrl}/api/v1   (GET ${cloud.apiUrl}/healthz needs no token)`,
    `  API token      ${cloud.apiToken}${cloud.apiTokenGenerated ? '   (generated; kept in DATA_DIR/api-token)' : ''}`,
    `  ECS emulator   ${emulator.url}   region ${emulator.regionId}`,
    `  ECS key pair   ${emulator.accessKeyId} / ${emulator.accessKeySecret}`,
    `  data folder    ${settings.DATA_DIR}`,
    `  scheduler      every ${settings.SCHEDULER_TICK_SECONDS} s (look-ahead ${settings.SCHEDULER_LOOKAHEAD_SECONDS} s); retention every ${settings.RETENTION_TICK_SECONDS} s`,
    '',
    `  try: curl -H "Authorization: Bearer ${cloud.apiToken}" ${cloud.apiUrl}/api/v1/instances`,
    '',
    'Ctrl-C stops; state is kept and jobs resume on the next start.',
    '',
  ];
  process.stdout.write(lines.join('\n'));
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stdout.write('forced exit\n');
      process.exit(130);
    }
    stopping = true;
    process.stdout.write(`\n${signal}: stopping (waiting for running worker steps) ...\n`);
    cloud
      .close()
      .then(() => {
        process.stdout.write('stopped; state kept in the data folder\n');
        process.exit(0);
      })
      .catch((err: unknown) => {
        console.error('shutdown failed:', err);
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

const start = process.argv.includes('--cloud-mode') ? runCloudMode : main;
start().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
