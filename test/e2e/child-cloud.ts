import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The uid and gid an unprivileged run uses when the tests run as root (`nobody`). */
export const UNPRIVILEGED = 65534;

export interface ChildCloud {
  child: ChildProcess;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  apiUrl: string;
  ecsUrl: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** The banner's "guest scripts" line. */
  guestLine: string;
  token: string;
  /** Signals the whole process group (the cloud and anything it started). */
  signal(sig: NodeJS.Signals): void;
  exited: Promise<number | null>;
}

export interface ChildCloudOptions {
  dataDir: string;
  env?: Record<string, string>;
  /** Drop to an unprivileged user when running as root (setpriv). */
  unprivileged?: boolean;
  entry?: string;
}

/** A data folder an unprivileged child can own. */
export function makeDataDir(base: string, unprivileged: boolean): string {
  fs.mkdirSync(base, { recursive: true });
  const dir = path.join(base, 'data');
  fs.mkdirSync(dir, { recursive: true });
  if (unprivileged && process.geteuid?.() === 0) {
    fs.chmodSync(base, 0o755);
    fs.chownSync(dir, UNPRIVILEGED, UNPRIVILEGED);
  }
  return dir;
}

/**
 * Runs `npm start`'s entry point in its own process group and waits for its banner. As root and
 * `unprivileged`, it runs as `nobody` through setpriv, as an ordinary user would run it.
 */
export async function startChildCloud(options: ChildCloudOptions): Promise<ChildCloud> {
  const entry = path.join(root, options.entry ?? 'local/main.ts');
  const node = [process.execPath, '--import', 'tsx', entry];
  const drop = options.unprivileged && process.geteuid?.() === 0;
  const argv = drop
    ? ['setpriv', `--reuid=${UNPRIVILEGED}`, `--regid=${UNPRIVILEGED}`, '--clear-groups', '--', ...node]
    : node;
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: root,
    detached: true,
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: drop ? options.dataDir : (process.env['HOME'] ?? '/root'),
      DATA_DIR: options.dataDir,
      PORT: '0',
      ECS_EMULATOR_PORT: '0',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const deadline = Date.now() + 90_000;
  while (!out.includes('Ctrl-C stops')) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`the local cloud exited (${child.exitCode ?? child.signalCode}):\n${out}`);
    if (Date.now() > deadline) {
      process.kill(-child.pid!, 'SIGKILL');
      throw new Error(`no banner within 90 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const field = (label: string): string => {
    const m = new RegExp(`^  ${label}\\s+(.*)$`, 'm').exec(out);
    if (!m?.[1]) throw new Error(`no "${label}" line in the banner:\n${out}`);
    return m[1];
  };
  const [keyId = '', keySecret = ''] = field('ECS key pair').split(' / ');
  return {
    child,
    output: () => out,
    apiUrl: field('API')
      .split(/\s+/)[0]!
      .replace(/\/api\/v1$/, ''),
    ecsUrl: field('ECS emulator').split(/\s+/)[0]!,
    accessKeyId: keyId.trim(),
    accessKeySecret: keySecret.trim(),
    guestLine: field('guest scripts'),
    token:
      options.env?.['API_TOKEN'] ?? fs.readFileSync(path.join(options.dataDir, 'api-token'), 'utf8').trim(),
    signal: (sig) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        // already gone
      }
    },
    exited,
  };
}
