import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { GuestCallbacks } from './guest-callbacks.js';
import { GuestSimulation, OUTPUT_LIMIT } from './guest-simulation.js';
import type { InstanceRecord, InvocationInstanceRecord, InvocationRecord } from './records.js';
import {
  binaries,
  detectGuestMode,
  killGroup,
  pidsWithMarker,
  removeOrphans,
  unshareArgs,
  which,
  type GuestMode,
} from './sandbox-host.js';
import {
  chownShim,
  fsfreezeShim,
  guestCallScript,
  mountShim,
  sandboxSetupScript,
  statShim,
  umountShim,
} from './sandbox-scripts.js';
import type { EcsState } from './state.js';
import { fsckShim } from './fs-damage.js';

export { OUTPUT_LIMIT };

interface Running {
  /** Absent for a simulated script. */
  child?: ChildProcess;
  timer?: NodeJS.Timeout;
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
  /** Simulate Linux scripts even where a sandbox could be made. */
  forceSimulated?: boolean;
}

/** The host commands the sandbox covers with its shims (see sandbox-scripts.ts). */
const COVERED = ['fsfreeze', 'mount', 'umount', 'stat', 'chown', 'fsck'] as const;

/**
 * The guest side of Cloud Assistant (see the "Guest sandbox contract"): a Linux script runs for
 * real in a private mount namespace that stands for the instance (entered as root, or through a
 * user namespace by an ordinary user; simulated where neither works); PowerShell is simulated from
 * its parameter block; the shims' callbacks record freezes, mounts and owners per instance.
 */
export class GuestSandbox {
  readonly mode: GuestMode;
  private readonly running = new Map<string, Running>();
  private readonly supportRoot: string;
  private readonly shimsDir: string;
  private readonly covered: Record<(typeof COVERED)[number], string[]>;
  private readonly callbacks: GuestCallbacks;
  private readonly simulation: GuestSimulation;

  constructor(private readonly opts: SandboxOptions) {
    // /tmp is replaced inside the sandbox, so everything the sandbox needs lives outside it.
    const base = fs.existsSync('/var/tmp') ? '/var/tmp' : opts.state.trees.dataDir;
    removeOrphans(base);
    this.supportRoot = fs.mkdtempSync(path.join(base, 'ecs-emulator-'));
    fs.writeFileSync(path.join(this.supportRoot, 'owner.pid'), String(process.pid));
    this.shimsDir = path.join(this.supportRoot, 'shims');
    fs.mkdirSync(this.shimsDir, { recursive: true });
    const write = (name: string, text: string): void => {
      fs.writeFileSync(path.join(this.shimsDir, name), text, { mode: 0o755 });
    };
    write('guest-call', guestCallScript(which('curl') ?? '/usr/bin/curl'));
    write('fsfreeze', fsfreezeShim());
    write('mount', mountShim());
    write('umount', umountShim());
    write('stat', statShim());
    write('chown', chownShim());
    write('fsck', fsckShim());
    this.covered = Object.fromEntries(COVERED.map((c) => [c, binaries(c)])) as GuestSandbox['covered'];
    const probeDir = fs.mkdtempSync(path.join(this.supportRoot, 'probe-'));
    this.mode = detectGuestMode(opts.forceSimulated ?? false, probeDir);
    opts.log(`ecs-emulator: Linux guest scripts: ${this.mode.kind} (${this.mode.why})`);
    this.callbacks = new GuestCallbacks(opts.state, opts.log, (inst, invokeId) =>
      this.refresh(inst, invokeId),
    );
    this.simulation = new GuestSimulation(opts.state, this.callbacks);
  }

  get state(): EcsState {
    return this.opts.state;
  }

  /** Scripts running now on the instance. */
  activeTasks(instanceId: string): number {
    return [...this.running.keys()].filter((k) => k.endsWith(`/${instanceId}`)).length;
  }

  guest(endpoint: string, form: Record<string, string>): string {
    return this.callbacks.guest(endpoint, form);
  }

  simulatePowerShell(
    inv: InvocationRecord,
    rec: InvocationInstanceRecord,
    inst: InstanceRecord,
  ): Promise<void> {
    return this.simulation.simulatePowerShell(inv, rec, inst);
  }

  runShell(inv: InvocationRecord, rec: InvocationInstanceRecord, inst: InstanceRecord): void {
    if (this.mode.kind === 'simulated') {
      const key = `${inv.invokeId}/${inst.instanceId}`;
      const done = this.simulation
        .simulateLinuxBackup(inv, rec, inst, this.mode.why)
        .finally(() => this.running.delete(key));
      this.running.set(key, { timedOut: false, done });
      return;
    }
    this.runInSandbox(inv, rec, inst, this.mode.kind);
  }

  // ---- Linux: the real script in a private mount namespace ----

  private runInSandbox(
    inv: InvocationRecord,
    rec: InvocationInstanceRecord,
    inst: InstanceRecord,
    kind: 'root' | 'user-namespace',
  ): void {
    const key = `${inv.invokeId}/${inst.instanceId}`;
    const dir = path.join(this.supportRoot, `${inv.invokeId}-${inst.instanceId}`);
    fs.mkdirSync(path.join(dir, 'disks'), { recursive: true });
    for (const c of COVERED) fs.writeFileSync(path.join(dir, `real-${c}`), '');
    fs.writeFileSync(path.join(dir, 'script.sh'), inv.content, { mode: 0o700 });
    fs.writeFileSync(path.join(dir, 'setup.sh'), sandboxSetupScript(), { mode: 0o700 });
    this.writeMounts(inst, dir);
    this.writeOwners(inst, dir);
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
      ECSB_COVERED: COVERED.join(' '),
      ...Object.fromEntries(COVERED.map((c) => [`ECSB_BINS_${c}`, this.covered[c].join(' ')])),
      ECSB_WORKDIR: inv.workingDir || '/root',
    };
    const child = spawn('unshare', [...unshareArgs(kind), '/bin/bash', path.join(dir, 'setup.sh')], {
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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
        const text = Buffer.concat(chunks);
        Object.assign(rec, { output: text.toString('base64'), dropped, finishTime: Date.now() });
        Object.assign(rec, outcome(code, signal, entry.timedOut, text.toString('utf8'), spawnError));
        this.state.putInvocation(inv);
        resolveDone();
      }, 50);
    };
    child.on('exit', (code, signal) => finalize(code, signal));
    child.on('error', (err) => finalize(null, null, err));
  }

  /** Keeps a running script's mount table and owner list in step with the instance. */
  private refresh(inst: InstanceRecord, invokeId: string | undefined): void {
    if (!invokeId) return;
    const dir = path.join(this.supportRoot, `${invokeId}-${inst.instanceId}`);
    if (!fs.existsSync(dir)) return;
    this.writeMounts(inst, dir);
    this.writeOwners(inst, dir);
  }

  private writeMounts(inst: InstanceRecord, dir: string): void {
    const esc = (s: string): string =>
      s.replace(/\\/g, '\\134').replace(/ /g, '\\040').replace(/\t/g, '\\011');
    const lines = inst.mounts.map(
      (m) => `${esc(m.device)} ${esc(m.mountPoint)} ${m.fsType} ${m.options} 0 0`,
    );
    fs.writeFileSync(path.join(dir, 'mounts'), lines.length ? `${lines.join('\n')}\n` : '');
  }

  /** `uid<TAB>/tmp/path` per recorded owner of the instance's /tmp, for the stat shim. */
  private writeOwners(inst: InstanceRecord, dir: string): void {
    const owners = this.state.trees.owners(this.state.trees.tmpDir(inst.instanceId));
    const lines = Object.entries(owners).map(([rel, uid]) => `${uid}\t/tmp/${rel}`);
    fs.writeFileSync(path.join(dir, 'owners'), lines.length ? `${lines.join('\n')}\n` : '');
  }

  /** Kills running scripts and any detached descendant (found by the marker in its environment). */
  async close(): Promise<void> {
    for (const r of this.running.values()) {
      if (!r.child) continue;
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

/** Cloud Assistant's status fields for a script that ended with this exit. */
function outcome(
  code: number | null,
  signal: NodeJS.Signals | null,
  timedOut: boolean,
  text: string,
  spawnError?: Error,
): Partial<InvocationInstanceRecord> {
  if (spawnError) {
    const errorInfo = `the command execution got an exception: ${spawnError.message}`;
    return { status: 'Error', errorCode: 'SandboxUnavailable', errorInfo };
  }
  if (timedOut) {
    const exitCode = code ?? (signal ? 128 + 9 : -1);
    return {
      status: 'Timeout',
      exitCode,
      errorCode: 'ExecutionTimeout',
      errorInfo: 'the command execution has been timeout',
    };
  }
  if (code === 250) {
    const errorInfo = `the command execution got an exception: ${text.trim()}`;
    return { status: 'Error', exitCode: code, errorCode: 'SandboxSetupFailed', errorInfo };
  }
  const exit = code ?? 128 + 9;
  return exit === 0
    ? { status: 'Success', exitCode: exit, errorCode: '', errorInfo: '' }
    : {
        status: 'Failed',
        exitCode: exit,
        errorCode: 'ExitCodeNonzero',
        errorInfo: 'the command execution exit code is not zero',
      };
}
