import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { InstanceRecord, InvocationInstanceRecord, InvocationRecord, MountRecord } from './records.js';
import type { EcsState } from './state.js';
import {
  fsfreezeShim,
  guestCallScript,
  mountShim,
  sandboxSetupScript,
  umountShim,
} from './sandbox-scripts.js';

/** Cloud Assistant keeps the first 24 KB of output and reports the rest as Dropped. */
export const OUTPUT_LIMIT = 24 * 1024;
const FREEZABLE = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'ntfs']);

interface Running {
  child: ChildProcess;
  timer: NodeJS.Timeout;
  timedOut: boolean;
  done: Promise<void>;
}

export interface SandboxOptions {
  state: EcsState;
  /** Base URL of the admin API, e.g. http://127.0.0.1:9090/__admin */
  adminUrl: () => string;
  /** Own process-tree marker so close() can find scripts' detached descendants. */
  marker: string;
  log: (line: string) => void;
}

/**
 * The guest side of Cloud Assistant (see the "Guest sandbox contract"): a Linux script runs for
 * real in a private mount namespace that stands for the instance; PowerShell is simulated from its
 * parameter block; the shims' callbacks record freezes and mounts per instance.
 */
export class GuestSandbox {
  private readonly running = new Map<string, Running>();
  private readonly supportRoot: string;
  private readonly shimsDir: string;
  private readonly sandboxProblem: string | null;
  private readonly coveredBins: { freeze: string[]; mount: string[]; umount: string[] };

  constructor(private readonly opts: SandboxOptions) {
    // /tmp is replaced inside the sandbox, so everything the sandbox needs lives outside it.
    const base = fs.existsSync('/var/tmp') ? '/var/tmp' : opts.state.trees.dataDir;
    removeOrphans(base);
    this.supportRoot = fs.mkdtempSync(path.join(base, 'ecs-emulator-'));
    fs.writeFileSync(path.join(this.supportRoot, 'owner.pid'), String(process.pid));
    this.shimsDir = path.join(this.supportRoot, 'shims');
    fs.mkdirSync(this.shimsDir, { recursive: true });
    const curl = which('curl') ?? '/usr/bin/curl';
    const write = (name: string, text: string): void => {
      fs.writeFileSync(path.join(this.shimsDir, name), text, { mode: 0o755 });
    };
    write('guest-call', guestCallScript(curl));
    write('fsfreeze', fsfreezeShim());
    write('mount', mountShim());
    write('umount', umountShim());
    this.coveredBins = {
      freeze: realPaths(['/usr/sbin/fsfreeze', '/sbin/fsfreeze', '/usr/bin/fsfreeze', '/bin/fsfreeze']),
      mount: realPaths(['/usr/bin/mount', '/bin/mount', '/usr/sbin/mount', '/sbin/mount']),
      umount: realPaths(['/usr/bin/umount', '/bin/umount', '/usr/sbin/umount', '/sbin/umount']),
    };
    this.sandboxProblem = probeUnshare();
    if (this.sandboxProblem) opts.log(`ecs-emulator: shell scripts cannot run: ${this.sandboxProblem}`);
  }

  get state(): EcsState {
    return this.opts.state;
  }

  /** Scripts running now on the instance. */
  activeTasks(instanceId: string): number {
    return [...this.running.keys()].filter((k) => k.endsWith(`/${instanceId}`)).length;
  }

  // ---- Linux: the real script in a private mount namespace ----

  runShell(inv: InvocationRecord, rec: InvocationInstanceRecord, inst: InstanceRecord): void {
    const key = `${inv.invokeId}/${inst.instanceId}`;
    if (this.sandboxProblem) {
      rec.status = 'Error';
      rec.errorCode = 'SandboxUnavailable';
      rec.errorInfo = `the command execution got an exception: ${this.sandboxProblem}`;
      rec.finishTime = Date.now();
      this.state.putInvocation(inv);
      return;
    }
    const dir = path.join(this.supportRoot, `${inv.invokeId}-${inst.instanceId}`);
    fs.mkdirSync(path.join(dir, 'disks'), { recursive: true });
    for (const f of ['real-mount', 'real-umount']) fs.writeFileSync(path.join(dir, f), '');
    fs.writeFileSync(path.join(dir, 'script.sh'), inv.content, { mode: 0o700 });
    fs.writeFileSync(path.join(dir, 'setup.sh'), sandboxSetupScript(), { mode: 0o700 });
    this.writeMounts(inst, dir);
    const remount = inst.mounts
      .filter((m) => m.dynamic && m.diskId)
      .map(
        (m) =>
          `${path.join(dir, 'disks', m.diskId as string)} ${m.mountPoint} ${m.options.split(',').includes('ro') ? 'ro' : 'rw'}`,
      )
      .join('\n');
    fs.writeFileSync(path.join(dir, 'remount'), remount ? `${remount}\n` : '');

    const env: NodeJS.ProcessEnv = {
      PATH: `${this.shimsDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
      HOME: '/root',
      USER: 'root',
      LOGNAME: 'root',
      SHELL: '/bin/bash',
      LANG: 'C.UTF-8',
      ECSB_MOUNTS_FILE: path.join(dir, 'mounts'),
      ECSB_ADMIN_URL: this.opts.adminUrl(),
      ECSB_INSTANCE_ID: inst.instanceId,
      ECSB_INVOKE_ID: inv.invokeId,
      ECSB_SUPPORT: dir,
      ECSB_SHIMS: this.shimsDir,
      ECSB_SANDBOX_MARKER: this.opts.marker,
      ECSB_TMP_DIR: this.state.trees.ensureTmp(inst.instanceId),
      ECSB_DISKS_DIR: path.join(this.state.trees.dataDir, 'disks'),
      ECSB_FREEZE_BINS: this.coveredBins.freeze.join(' '),
      ECSB_MOUNT_BINS: this.coveredBins.mount.join(' '),
      ECSB_UMOUNT_BINS: this.coveredBins.umount.join(' '),
      ECSB_WORKDIR: inv.workingDir || '/root',
    };
    const child = spawn(
      'unshare',
      ['--mount', '--propagation', 'private', '/bin/bash', path.join(dir, 'setup.sh')],
      {
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const chunks: Buffer[] = [];
    let kept = 0;
    let dropped = 0;
    const collect = (b: Buffer): void => {
      const room = OUTPUT_LIMIT - kept;
      if (room > 0) {
        const part = b.subarray(0, room);
        chunks.push(part);
        kept += part.length;
      }
      dropped += Math.max(0, b.length - Math.max(0, room));
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let resolveDone: () => void = () => undefined;
    const entry: Running = {
      child,
      timedOut: false,
      done: new Promise<void>((r) => (resolveDone = r)),
      timer: setTimeout(() => {
        entry.timedOut = true;
        // The whole process group, as the agent does; a watchdog started with setsid survives.
        killGroup(child.pid);
      }, inv.timeoutSeconds * 1000),
    };
    this.running.set(key, entry);
    let exited = false;
    const finalize = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error): void => {
      if (exited) return;
      exited = true;
      clearTimeout(entry.timer);
      // Detached descendants may still hold the pipes: take what arrived shortly after exit.
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        this.running.delete(key);
        rec.output = Buffer.concat(chunks).toString('base64');
        rec.dropped = dropped;
        rec.finishTime = Date.now();
        if (spawnError) {
          rec.status = 'Error';
          rec.errorCode = 'SandboxUnavailable';
          rec.errorInfo = `the command execution got an exception: ${spawnError.message}`;
        } else if (entry.timedOut) {
          rec.status = 'Timeout';
          rec.exitCode = code ?? (signal ? 128 + 9 : -1);
          rec.errorCode = 'ExecutionTimeout';
          rec.errorInfo = 'the command execution has been timeout';
        } else if (code === 250) {
          rec.status = 'Error';
          rec.exitCode = code;
          rec.errorCode = 'SandboxSetupFailed';
          rec.errorInfo = `the command execution got an exception: ${Buffer.concat(chunks).toString('utf8').trim()}`;
        } else {
          const exit = code ?? 128 + 9;
          rec.exitCode = exit;
          rec.status = exit === 0 ? 'Success' : 'Failed';
          rec.errorCode = exit === 0 ? '' : 'ExitCodeNonzero';
          rec.errorInfo = exit === 0 ? '' : 'the command execution exit code is not zero';
        }
        this.state.putInvocation(inv);
        resolveDone();
      }, 50);
    };
    child.on('exit', (code, signal) => finalize(code, signal));
    child.on('error', (err) => finalize(null, null, err));
  }

  /** Keeps the running script's ECSB_MOUNTS_FILE in step with its own mounts. */
  private refreshMounts(inst: InstanceRecord, invokeId: string | undefined): void {
    if (!invokeId) return;
    const dir = path.join(this.supportRoot, `${invokeId}-${inst.instanceId}`);
    if (fs.existsSync(dir)) this.writeMounts(inst, dir);
  }

  private writeMounts(inst: InstanceRecord, dir: string): void {
    const esc = (s: string): string =>
      s.replace(/\\/g, '\\134').replace(/ /g, '\\040').replace(/\t/g, '\\011');
    const lines = inst.mounts.map(
      (m) => `${esc(m.device)} ${esc(m.mountPoint)} ${m.fsType} ${m.options} 0 0`,
    );
    fs.writeFileSync(path.join(dir, 'mounts'), lines.length ? `${lines.join('\n')}\n` : '');
  }

  // ---- Windows: VSS simulated from the script's parameter block ----

  async simulatePowerShell(
    inv: InvocationRecord,
    rec: InvocationInstanceRecord,
    inst: InstanceRecord,
  ): Promise<void> {
    const url = /^\s*\$SnapshotUrl\s*=\s*'([^']*)'/m.exec(inv.content)?.[1];
    const writersMatch = /^\s*\$Writers\s*=\s*\$(true|false)\b/im.exec(inv.content)?.[1];
    const writers = writersMatch === undefined ? true : writersMatch.toLowerCase() === 'true';
    const timeoutSeconds = Number(
      /^\s*\$TimeoutSeconds\s*=\s*(\d+)/m.exec(inv.content)?.[1] ?? inv.timeoutSeconds,
    );
    const lines: string[] = [];
    let exitCode = 0;
    if (!url) {
      lines.push('ecs-emulator: PowerShell is simulated only for scripts that declare $SnapshotUrl.');
      exitCode = 1;
    } else {
      const volumes = inst.mounts.filter((m) => m.fsType.toLowerCase() === 'ntfs').map((m) => m.mountPoint);
      const frozenAt = Date.now();
      for (const v of volumes)
        this.recordFreeze(inst.instanceId, v, 'freeze', true, undefined, 'vss', writers, inv.invokeId);
      let result: { id?: string; error?: string };
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(Math.max(1, timeoutSeconds) * 1000) });
        const body = (await res.json()) as Record<string, unknown>;
        result = res.ok
          ? { id: String(body['SnapshotGroupId'] ?? '') }
          : { error: `${String(body['Code'] ?? res.status)}: ${String(body['Message'] ?? '')}` };
      } catch (err) {
        result = { error: `RequestFailed: ${(err as Error).message}` };
      }
      const thawedAt = Date.now();
      for (const v of volumes)
        this.recordFreeze(inst.instanceId, v, 'thaw', true, undefined, 'vss', writers, inv.invokeId);
      const consistency = result.id ? (writers ? 'application' : 'filesystem') : 'crash';
      const reason = result.id
        ? writers
          ? ''
          : 'VSS snapshot taken without writers'
        : 'the snapshot request failed';
      lines.push(`ECSB consistency=${consistency}`);
      lines.push(`ECSB reason=${reason}`);
      lines.push(`ECSB freeze_ms=${volumes.length > 0 ? thawedAt - frozenAt : 'none'}`);
      lines.push('ECSB pre_exit=none');
      lines.push('ECSB post_exit=none');
      if (result.id) lines.push(`ECSB snapshot_group_id=${result.id}`);
      else {
        lines.push(`ECSB snapshot_error=${result.error ?? 'unknown'}`);
        exitCode = 1;
      }
    }
    const out = Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8');
    rec.output = out.subarray(0, OUTPUT_LIMIT).toString('base64');
    rec.dropped = Math.max(0, out.length - OUTPUT_LIMIT);
    rec.exitCode = exitCode;
    rec.status = exitCode === 0 ? 'Success' : 'Failed';
    rec.errorCode = exitCode === 0 ? '' : 'ExitCodeNonzero';
    rec.errorInfo = exitCode === 0 ? '' : 'the command execution exit code is not zero';
    rec.finishTime = Date.now();
    this.state.putInvocation(inv);
  }

  // ---- guest callbacks from the shims (form fields in, "exit\nmessage\nextra" out) ----

  guest(endpoint: string, form: Record<string, string>): string {
    const instanceId = form['instanceId'] ?? '';
    const inst = this.state.instances.get(instanceId);
    if (!inst) return `1\n${endpoint}: unknown instance ${instanceId}\n`;
    const invokeId = form['invokeId'];
    switch (endpoint) {
      case 'fsfreeze':
        return this.guestFreeze(
          inst,
          form['action'] === 'thaw' ? 'thaw' : 'freeze',
          form['mountPoint'] ?? '',
          invokeId,
        );
      case 'mount':
        return this.guestMount(inst, form, invokeId);
      case 'umount':
        return this.guestUmount(inst, form['target'] ?? '', invokeId);
      default:
        return `1\nunknown guest call ${endpoint}\n`;
    }
  }

  private guestFreeze(
    inst: InstanceRecord,
    action: 'freeze' | 'thaw',
    raw: string,
    invokeId?: string,
  ): string {
    const mp = normalizeMountPoint(raw);
    const verb = action === 'freeze' ? 'freeze' : 'unfreeze';
    const mount = inst.mounts.find((m) => m.mountPoint === mp);
    if (!mount)
      return this.refuseFreeze(inst, mp, action, `fsfreeze: ${raw}: not a mount point`, 1, invokeId);
    if (!FREEZABLE.has(mount.fsType.toLowerCase())) {
      return this.refuseFreeze(
        inst,
        mp,
        action,
        `fsfreeze: ${raw}: ${verb} failed: Operation not supported`,
        1,
        invokeId,
      );
    }
    const key = `${inst.instanceId}\u0000${mp}`;
    if (action === 'freeze' && this.state.frozen.has(key)) {
      return this.refuseFreeze(
        inst,
        mp,
        action,
        `fsfreeze: ${raw}: freeze failed: Device or resource busy`,
        1,
        invokeId,
      );
    }
    if (action === 'thaw' && !this.state.frozen.has(key)) {
      return this.refuseFreeze(
        inst,
        mp,
        action,
        `fsfreeze: ${raw}: unfreeze failed: Invalid argument`,
        1,
        invokeId,
      );
    }
    this.recordFreeze(inst.instanceId, mp, action, true, undefined, 'fsfreeze', undefined, invokeId);
    return '0\n\n';
  }

  private refuseFreeze(
    inst: InstanceRecord,
    mp: string,
    action: 'freeze' | 'thaw',
    message: string,
    code: number,
    invokeId?: string,
  ): string {
    this.recordFreeze(inst.instanceId, mp, action, false, message, 'fsfreeze', undefined, invokeId);
    return `${code}\n${message}\n`;
  }

  recordFreeze(
    instanceId: string,
    mountPoint: string,
    action: 'freeze' | 'thaw',
    ok: boolean,
    error: string | undefined,
    source: 'fsfreeze' | 'vss',
    writers: boolean | undefined,
    invokeId: string | undefined,
  ): void {
    const at = Date.now();
    const key = `${instanceId}\u0000${mountPoint}`;
    if (ok && action === 'freeze') this.state.frozen.set(key, { instanceId, mountPoint, since: at });
    if (ok && action === 'thaw') this.state.frozen.delete(key);
    this.state.freezeLog.push({
      instanceId,
      mountPoint,
      action,
      at,
      ok,
      source,
      ...(error !== undefined ? { error } : {}),
      ...(writers !== undefined ? { writers } : {}),
      ...(invokeId !== undefined ? { invokeId } : {}),
    });
    this.opts.log(
      `ecs-emulator: ${source} ${action} ${instanceId} ${mountPoint} ${ok ? 'ok' : `refused: ${error ?? ''}`}`,
    );
  }

  private guestMount(inst: InstanceRecord, form: Record<string, string>, invokeId?: string): string {
    const device = form['device'] ?? '';
    const target = normalizeMountPoint(form['target'] ?? '');
    const options = form['options'] || 'rw';
    const fail = (message: string, code = 32): string => {
      this.state.mountLog.push({
        instanceId: inst.instanceId,
        action: 'mount',
        device,
        mountPoint: target,
        options,
        at: Date.now(),
        ok: false,
        error: message,
        ...(invokeId ? { invokeId } : {}),
      });
      return `${code}\n${message}\n`;
    };
    const now = Date.now();
    const base = device.replace(/^\/dev\/(xvd|vd)([a-z])\d*$/, '$2');
    const disk = this.state
      .disksOf(inst.instanceId, now)
      .find(
        (d) =>
          d.instanceId === inst.instanceId &&
          d.status === 'In_use' &&
          !d.pending &&
          d.device?.slice(-1) === base,
      );
    if (!disk || base === device) return fail(`mount: ${target}: special device ${device} does not exist.`);
    if (inst.mounts.some((m) => m.mountPoint === target))
      return fail(`mount: ${target}: ${device} already mounted or mount point busy.`);
    if (disk.type === 'system' || inst.mounts.some((m) => m.diskId === disk.diskId && !m.dynamic)) {
      return fail(`mount: ${target}: ${device} already mounted or mount point busy.`);
    }
    if (!disk.hasTree) {
      this.state.trees.ensureDisk(disk.diskId);
      disk.hasTree = true;
      this.state.putDisk(disk);
    } else this.state.trees.ensureDisk(disk.diskId);
    const mount: MountRecord = {
      device: this.state.guestDevice(disk.device) ?? device,
      mountPoint: target,
      fsType: form['fsType'] && form['fsType'] !== 'auto' ? form['fsType'] : 'ext4',
      options,
      diskId: disk.diskId,
      dynamic: true,
    };
    inst.mounts.push(mount);
    this.state.putInstance(inst);
    this.refreshMounts(inst, invokeId);
    this.state.mountLog.push({
      instanceId: inst.instanceId,
      action: 'mount',
      device,
      mountPoint: target,
      options,
      at: now,
      ok: true,
      ...(invokeId ? { invokeId } : {}),
    });
    const ro = options.split(',').includes('ro') ? 'ro' : 'rw';
    return `0\n\nbind ${disk.diskId} ${ro}\n`;
  }

  private guestUmount(inst: InstanceRecord, raw: string, invokeId?: string): string {
    const target = normalizeMountPoint(raw);
    const mount = inst.mounts.find((m) => m.mountPoint === target || m.device === raw);
    const log = (ok: boolean, error?: string): void => {
      this.state.mountLog.push({
        instanceId: inst.instanceId,
        action: 'umount',
        device: mount?.device ?? '',
        mountPoint: mount?.mountPoint ?? target,
        options: '',
        at: Date.now(),
        ok,
        ...(error ? { error } : {}),
        ...(invokeId ? { invokeId } : {}),
      });
    };
    if (!mount) {
      log(false, `umount: ${raw}: not mounted.`);
      return `32\numount: ${raw}: not mounted.\n`;
    }
    if (!mount.dynamic) {
      log(false, `umount: ${raw}: target is busy.`);
      return `32\numount: ${raw}: target is busy.\n`;
    }
    inst.mounts = inst.mounts.filter((m) => m !== mount);
    this.state.putInstance(inst);
    this.refreshMounts(inst, invokeId);
    log(true);
    return `0\n\nunbind ${mount.mountPoint}\n`;
  }

  /** Kills running scripts and any detached descendant (found by the marker in its environment). */
  async close(): Promise<void> {
    for (const r of this.running.values()) {
      clearTimeout(r.timer);
      killGroup(r.child.pid);
    }
    await Promise.race([
      Promise.all([...this.running.values()].map((r) => r.done)),
      new Promise((r) => setTimeout(r, 1000)),
    ]);
    for (const pid of pidsWithMarker(this.opts.marker)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    fs.rmSync(this.supportRoot, { recursive: true, force: true });
  }
}

/** Support folders left by emulators that died without close(); live ones are left alone. */
function removeOrphans(base: string): void {
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

function normalizeMountPoint(mp: string): string {
  if (mp === '/' || mp === '') return mp;
  if (/^[A-Za-z]:\\?$/.test(mp)) return mp;
  return mp.replace(/\/+$/, '');
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is already gone
  }
}

function which(cmd: string): string | null {
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

function realPaths(candidates: string[]): string[] {
  const out = new Set<string>();
  for (const c of candidates) {
    try {
      out.add(fs.realpathSync(c));
    } catch {
      // not installed here
    }
  }
  return [...out];
}

/** Null when a private mount namespace can be created; otherwise why not. */
function probeUnshare(): string | null {
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', '/bin/true'], { encoding: 'utf8' });
  if (r.error) return `unshare is not available (${r.error.message})`;
  if (r.status !== 0) return `unshare --mount failed: ${(r.stderr || '').trim() || `exit ${r.status}`}`;
  return null;
}

function pidsWithMarker(marker: string): number[] {
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
