import { spawn } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderLinuxBackupScript, type LinuxBackupParams } from '../../lib/guest/render.js';
import { parseGuestResult, type GuestResult } from '../../lib/guest/result.js';

/**
 * Runs the Linux guest script under real bash, as Cloud Assistant would, but with test doubles of
 * fsfreeze and curl first on PATH and a private mount namespace whose /tmp is a temp folder.
 * The base folder is under /var/tmp because the bind mount hides the host's /tmp inside the run.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const BASE = existsSync('/var/tmp') ? '/var/tmp' : '/dev/shm';

export interface HookSpec {
  /** Bash body; `$ECSB_TEST_LOG` is the shared event log. */
  body?: string;
  mode?: number;
  uid?: number;
  /** Make /tmp/<name> a symlink to a root-owned 0700 file elsewhere. */
  symlink?: boolean;
}

export interface GuestCase {
  params?: Partial<LinuxBackupParams>;
  pre?: HookSpec | null;
  post?: HookSpec | null;
  /** /proc/mounts format. */
  mounts?: string;
  curl?: 'ok' | 'api-error' | 'network' | 'hang';
  freezeFailOn?: string;
  /** Called once the run is under way, with the bash pid (also its process group id). */
  during?: (run: RunningGuest) => Promise<void>;
}

export interface RunningGuest {
  pid: number;
  dir: string;
  /** Ends a `hang` curl's wait now, as if its --max-time had passed. */
  releaseCurl(): Promise<void>;
  log(): Promise<string[]>;
  waitForLog(predicate: (lines: string[]) => boolean, timeoutMs?: number): Promise<string[]>;
}

export interface GuestRun {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  result: GuestResult;
  /** Events in order: `pre ...`, `freeze <mp>`, `curl frozen=[...]`, `thaw <mp>`, `post ...`. */
  log: string[];
  /** Mount points the fake fsfreeze still holds frozen at the end. */
  frozen: string[];
  elapsedMs: number;
  dir: string;
}

export const DEFAULT_MOUNTS = [
  '/dev/vda1 /srv/ecsb-root ext4 rw,relatime 0 0',
  'proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0',
  'sysfs /sys sysfs rw,nosuid 0 0',
  'tmpfs /run tmpfs rw,nosuid,nodev 0 0',
  '/dev/vdb1 /srv/ecsb-root/data xfs rw,relatime 0 0',
  '/dev/vdc1 /srv/ecsb-root/data/db\\040files ext4 rw,relatime 0 0',
  '/dev/vdd1 /srv/ecsb-archive ext4 ro,relatime 0 0',
  'fileserver:/export /mnt/ecsb-nfs nfs4 rw,relatime,vers=4.1 0 0',
  '//fileserver/share /mnt/ecsb-cifs cifs rw 0 0',
  'overlay /var/lib/docker/overlay2/x/merged overlay rw 0 0',
  '/dev/vdb1 /srv/ecsb-bind xfs rw,relatime 0 0',
  '',
].join('\n');

/** Freezable entries of DEFAULT_MOUNTS in the order the script must freeze them (deepest first). */
export const DEFAULT_FREEZE_ORDER = ['/srv/ecsb-root/data/db files', '/srv/ecsb-root/data', '/srv/ecsb-root'];

export const VALID_PRE: HookSpec = {
  body: 'echo "pre frozen=$(ls "$FAKE_STATE" | wc -l)" >>"$ECSB_TEST_LOG"',
};
export const VALID_POST: HookSpec = {
  body: 'echo "post frozen=$(ls "$FAKE_STATE" | wc -l)" >>"$ECSB_TEST_LOG"',
};

const BASE_PARAMS: LinuxBackupParams = {
  snapshotUrl: 'http://127.0.0.1:9/?Action=CreateSnapshotGroup&Signature=abc%3D',
  applicationConsistent: true,
  fsFreeze: true,
  timeoutSeconds: 10,
  onPreScriptFailure: 'continue',
};

async function writeHook(dir: string, name: string, spec: HookSpec | null | undefined): Promise<void> {
  if (spec === null || spec === undefined) return;
  const body = `#!/bin/bash\n${spec.body ?? 'exit 0'}\n`;
  const target = path.join(dir, 'tmp', name);
  if (spec.symlink) {
    const real = path.join(dir, `real-${name}`);
    await writeFile(real, body);
    await chmod(real, 0o700);
    await symlink(real, target);
    return;
  }
  await writeFile(target, body);
  await chmod(target, spec.mode ?? 0o700);
  if (spec.uid !== undefined) await chown(target, spec.uid, spec.uid);
}

async function readLog(file: string): Promise<string[]> {
  try {
    return (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
  } catch {
    return [];
  }
}

export async function runGuest(c: GuestCase = {}): Promise<GuestRun> {
  const dir = await mkdtemp(path.join(BASE, 'ecsb-guest-'));
  await mkdir(path.join(dir, 'tmp'));
  await chmod(path.join(dir, 'tmp'), 0o1777);
  await mkdir(path.join(dir, 'bin'));
  await mkdir(path.join(dir, 'state'));
  for (const stub of ['fsfreeze', 'curl']) {
    copyFileSync(path.join(here, 'stubs', stub), path.join(dir, 'bin', stub));
    await chmod(path.join(dir, 'bin', stub), 0o755);
  }
  const logFile = path.join(dir, 'events.log');
  const curlRelease = path.join(dir, 'curl-release');
  await writeFile(logFile, '');
  await writeFile(path.join(dir, 'mounts'), c.mounts ?? DEFAULT_MOUNTS);
  await writeHook(dir, 'prescript.sh', c.pre === undefined ? VALID_PRE : c.pre);
  await writeHook(dir, 'postscript.sh', c.post === undefined ? VALID_POST : c.post);
  const script = renderLinuxBackupScript({ ...BASE_PARAMS, ...c.params });
  await writeFile(path.join(dir, 'backup.sh'), script);

  const env: Record<string, string> = {
    PATH: `${path.join(dir, 'bin')}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    ECSB_MOUNTS_FILE: path.join(dir, 'mounts'),
    FAKE_LOG: logFile,
    ECSB_TEST_LOG: logFile,
    FAKE_STATE: path.join(dir, 'state'),
    FAKE_CURL_MODE: c.curl ?? 'ok',
    FAKE_CURL_RELEASE: curlRelease,
    FAKE_FSFREEZE_FAIL: c.freezeFailOn ?? '',
    LANG: 'C',
  };
  const started = performance.now();
  const child = spawn(
    'unshare',
    [
      '-m',
      '--propagation',
      'private',
      'bash',
      '-c',
      'mount --bind "$1" /tmp && exec bash "$2"',
      'ecsb',
      path.join(dir, 'tmp'),
      path.join(dir, 'backup.sh'),
    ],
    { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  const running: RunningGuest = {
    pid: child.pid!,
    dir,
    releaseCurl: () => writeFile(curlRelease, ''),
    log: () => readLog(logFile),
    async waitForLog(predicate, timeoutMs = 15_000) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const lines = await readLog(logFile);
        if (predicate(lines)) return lines;
        if (performance.now() > deadline) throw new Error(`log condition not met; log:\n${lines.join('\n')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
  if (c.during) await c.during(running);
  const { code, signal } = await exited;
  const elapsedMs = performance.now() - started;
  return {
    stdout,
    stderr,
    exitCode: code,
    signal,
    result: parseGuestResult(stdout),
    log: await readLog(logFile),
    frozen: await frozenNow(dir),
    elapsedMs,
    dir,
  };
}

export async function frozenNow(dir: string): Promise<string[]> {
  const state = path.join(dir, 'state');
  const out: string[] = [];
  for (const f of await readdir(state)) out.push(await readFile(path.join(state, f), 'utf8'));
  return out.sort();
}

export async function cleanup(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Events of one kind (`freeze`, `thaw`, ...) with their mount point, in log order. */
export function events(log: string[], kind: string): string[] {
  return log.filter((l) => l.startsWith(`${kind} `)).map((l) => l.slice(kind.length + 1));
}
