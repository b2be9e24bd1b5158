import EcsDefault from '@alicloud/ecs20140526';
import * as $OpenApi from '@alicloud/openapi-client';
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

type EcsClientClass = typeof EcsDefault.default;
const EcsClient = (typeof EcsDefault === 'function' ? EcsDefault : EcsDefault.default) as EcsClientClass;

/** The official ECS SDK pointed at an emulator by URL. */
export function ecsClient(
  url: string,
  accessKeyId: string,
  accessKeySecret: string,
): InstanceType<EcsClientClass> {
  return new EcsClient(
    new $OpenApi.Config({
      accessKeyId,
      accessKeySecret,
      endpoint: url.replace(/^https?:\/\//, ''),
      protocol: 'http',
      regionId: 'cn-hangzhou',
    }),
  );
}

export interface ChildEmulator {
  url: string;
  accessKeyId: string;
  accessKeySecret: string;
  admin<T = unknown>(method: string, arg?: unknown): Promise<T>;
  stop(): Promise<void>;
}

/** `npm run emulator` in its own process group, on a free port, with the given seed. */
export async function startChildEmulator(dataDir: string, seedFile: string): Promise<ChildEmulator> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'local/ecs-emulator/main.ts'), '--seed', seedFile],
    {
      cwd: root,
      detached: true,
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        ECS_EMULATOR_PORT: '0',
        ECS_EMULATOR_DATA_DIR: dataDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 60_000;
  const banner = /endpoint\s+(\S+)[\s\S]*access key id\s+(\S+)\s+access key secret\s+(\S+)/;
  let m = banner.exec(out);
  while (!m) {
    if (child.exitCode !== null) throw new Error(`the ECS emulator exited:\n${out}`);
    if (Date.now() > deadline) throw new Error(`the ECS emulator did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
    m = banner.exec(out);
  }
  const url = `http://${m[1]}`;
  return {
    url,
    accessKeyId: m[2]!,
    accessKeySecret: m[3]!,
    async admin<T>(method: string, arg?: unknown): Promise<T> {
      const res = await fetch(`${url}/__admin/${method}`, {
        method: 'POST',
        ...(arg === undefined ? {} : { body: JSON.stringify(arg) }),
      });
      const body = (await res.json()) as T;
      if (!res.ok) throw new Error(`admin ${method}: ${JSON.stringify(body)}`);
      return body;
    },
    async stop() {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        return;
      }
      await exited;
    },
  };
}
