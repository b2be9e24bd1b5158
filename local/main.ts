import path from 'node:path';
import { loadSettings } from '../lib/config.js';
import { startLocalCloud } from './cloud.js';
import { runCloudMode } from './cloud-mode/main.js';
import { createConsoleLogger } from './runtime/console-logger.js';
import { shortToken } from './runtime/data-dir.js';
import { TOKEN_FILE } from './runtime/token.js';

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
  // The secret is shown in full once, when it is made; afterwards only enough to recognise it.
  const tokenFile = path.join(settings.DATA_DIR, TOKEN_FILE);
  const tokenLine = cloud.apiTokenGenerated
    ? `${cloud.apiToken}   (generated, shown only now; kept in ${tokenFile})`
    : `${shortToken(cloud.apiToken)}   (${settings.API_TOKEN ? 'API_TOKEN' : `from ${tokenFile}`})`;
  const tokenRef = settings.API_TOKEN ? '$API_TOKEN' : `$(cat ${tokenFile})`;
  const lines = [
    '',
    `ecs-backup local cloud is up (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    '',
    `  API            ${cloud.apiUrl}/api/v1   (GET ${cloud.apiUrl}/healthz needs no token)`,
    `  console        ${cloud.apiUrl}/console   (sign in with the API token)`,
    `  API token      ${tokenLine}`,
    `  ECS emulator   ${emulator.url}   region ${emulator.regionId}`,
    `  ECS key pair   ${emulator.accessKeyId} / ${emulator.accessKeySecret}`,
    `  guest scripts  ${guestLine(emulator.guestMode)}`,
    `  data folder    ${settings.DATA_DIR}`,
    `  scheduler      every ${settings.SCHEDULER_TICK_SECONDS} s (look-ahead ${settings.SCHEDULER_LOOKAHEAD_SECONDS} s); retention every ${settings.RETENTION_TICK_SECONDS} s`,
    '',
    `  try: curl -H "Authorization: Bearer ${tokenRef}" ${cloud.apiUrl}/api/v1/instances`,
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

/** What Cloud Assistant does with a Linux script here, and why (README, "The local cloud"). */
function guestLine(mode: { kind: string; why: string }): string {
  if (mode.kind === 'root') return 'run for real, as root in a private mount namespace';
  if (mode.kind === 'user-namespace')
    return 'run for real in a user namespace (root inside it only; no privilege on this machine)';
  return `simulated (${mode.why}); Linux backups reach file-system consistency at most`;
}

const start = process.argv.includes('--cloud-mode') ? runCloudMode : main;
start().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
