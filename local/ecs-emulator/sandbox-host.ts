import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * How Cloud Assistant runs a Linux script here:
 * - `root`: as root in a private mount namespace;
 * - `user-namespace`: an ordinary user, mapped to root in a user namespace with its own mount
 *   namespace (the same sandbox, no privilege on the host);
 * - `simulated`: no namespace can be made (macOS, user namespaces disabled, or forced by a setting):
 *   the backup script's steps are simulated from its parameter block, as PowerShell always is.
 */
export type GuestModeKind = 'root' | 'user-namespace' | 'simulated';

export interface GuestMode {
  kind: GuestModeKind;
  /** Why this mode, for the start banner. */
  why: string;
}

/** `unshare` arguments that open the sandbox in each real mode. */
export function unshareArgs(kind: Exclude<GuestModeKind, 'simulated'>): string[] {
  const mount = ['--mount', '--propagation', 'private'];
  return kind === 'root' ? mount : ['--user', '--map-root-user', ...mount];
}

/**
 * The best mode this host allows: a namespace is tried for real, mounting a tmpfs in it, since
 * some systems let `unshare` start and refuse the mount.
 */
export function detectGuestMode(forceSimulated: boolean, scratch: string, unshare = 'unshare'): GuestMode {
  if (forceSimulated) return { kind: 'simulated', why: 'forced by the setting ECS_EMULATOR_GUEST=simulated' };
  if (process.platform !== 'linux')
    return { kind: 'simulated', why: `Linux namespaces do not exist on ${process.platform}` };
  const kind = process.geteuid?.() === 0 ? 'root' : 'user-namespace';
  const probe = spawnSync(
    unshare,
    [...unshareArgs(kind), '/bin/sh', '-c', 'mount -t tmpfs ecsb-probe "$0"', scratch],
    { encoding: 'utf8', timeout: 10_000 },
  );
  const failure = probe.error
    ? `unshare is not available (${probe.error.message})`
    : probe.status !== 0
      ? `unshare ${unshareArgs(kind).join(' ')} failed: ${(probe.stderr || '').trim() || `exit ${probe.status}`}`
      : null;
  if (failure) return { kind: 'simulated', why: failure };
  return kind === 'root'
    ? { kind, why: 'running as root: a private mount namespace per script' }
    : { kind, why: 'not root: a user namespace maps this user to root inside the sandbox' };
}

/** Support folders left by emulators that died without close(); live ones are left alone. */
export function removeOrphans(base: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(base).filter((n) => n.startsWith('ecs-emulator-'));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = path.join(base, name);
    try {
      const pid = Number(fs.readFileSync(path.join(dir, 'owner.pid'), 'utf8'));
      if (pid > 0 && isAlive(pid)) continue;
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // no owner file (being created, or not ours): leave it
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is already gone
  }
}

export function which(cmd: string): string | null {
  for (const dir of (process.env['PATH'] ?? '/usr/bin:/bin').split(':')) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return null;
}

/** The real files behind the usual places of a command (merged /usr makes several one). */
export function binaries(name: string): string[] {
  const out = new Set<string>();
  for (const dir of ['/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    try {
      out.add(fs.realpathSync(path.join(dir, name)));
    } catch {
      // not installed here
    }
  }
  return [...out];
}

export function pidsWithMarker(marker: string): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return out;
  }
  const needle = `ECSB_SANDBOX_MARKER=${marker}`;
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const env = fs.readFileSync(`/proc/${e}/environ`, 'utf8');
      if (env.split('\0').includes(needle)) out.push(Number(e));
    } catch {
      // exited or not ours to read
    }
  }
  return out;
}
