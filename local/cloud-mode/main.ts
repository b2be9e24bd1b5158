import path from 'node:path';
import { existsSync } from 'node:fs';
import { loadSettings } from '../../lib/config.js';
import { DEMO_SEED_PATH } from '../ecs-emulator/index.js';
import { startCloudMode } from './index.js';

/**
 * `npm start -- --cloud-mode`: the built function bundles (rebuilt at start) on the Tablestore,
 * MNS and ECS emulators, driven by FC-shaped triggers, with the functions' JSON log lines on the
 * terminal. The emulators keep state in memory: a restart starts empty.
 */
export async function runCloudMode(): Promise<void> {
  const settings = loadSettings(process.env);
  const dataDir = path.resolve(settings.DATA_DIR, 'cloud-mode');
  const verbose = process.env.LOG_LEVEL === 'info';
  process.stdout.write('  building the function bundles and starting the emulators ...\n');
  const cloud = await startCloudMode({
    dataDir,
    build: true,
    port: settings.PORT,
    ...(settings.API_TOKEN ? { apiToken: settings.API_TOKEN } : {}),
    settings: { POLL_INTERVAL_SECONDS: '2' },
    // The same demo instances as `npm start`, so the two modes can be compared.
    ...(existsSync(DEMO_SEED_PATH) ? { emulator: { seed: DEMO_SEED_PATH, reset: true } } : {}),
    timers: {
      schedulerEveryMs: settings.SCHEDULER_TICK_SECONDS * 1000,
      retentionEveryMs: settings.RETENTION_TICK_SECONDS * 1000,
    },
    echo: (line) => {
      if (verbose || line.includes('"level":"error"') || line.includes('"level":"warn"'))
        process.stdout.write(`  fc  ${line}\n`);
    },
    onError: (err) => process.stderr.write(`  ${err instanceof Error ? err.message : String(err)}\n`),
  });
  // STS sets rotate hourly in FC; here every ten minutes, so a long session exercises it.
  const rotation = setInterval(() => void cloud.rotateCredentials(), 10 * 60_000);
  process.stdout.write(
    [
      '',
      'ecs-backup in cloud mode: the deployed bundles on the Tablestore, MNS and ECS emulators',
      '',
      `  API            ${cloud.apiUrl}/api/v1   (FC HTTP trigger events to the api bundle)`,
      `  API token      ${cloud.apiToken.slice(0, 4)}…${settings.API_TOKEN ? ' (from API_TOKEN)' : ` (generated: ${cloud.apiToken})`}`,
      `  Tablestore     ${cloud.tablestore.endpoint}`,
      `  MNS            ${cloud.mns.endpoint}`,
      `  ECS emulator   ${cloud.ecs.url}`,
      `  functions      host process ${cloud.host.pid}; LOG_LEVEL=info shows every log line`,
      '',
      'Ctrl-C stops; the emulators keep state in memory only.',
      '',
    ].join('\n'),
  );
  const stop = () => {
    clearInterval(rotation);
    cloud
      .close()
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
