import type { InstanceRecord, InvocationInstanceRecord, InvocationRecord } from './records.js';
import type { EcsState } from './state.js';
import type { GuestCallbacks } from './guest-callbacks.js';
import { freezeOrder, tmpScriptProblem } from './guest-rules.js';
import { isWindowsExport, simulateWindowsExport } from './guest-simulation-export.js';

/** Cloud Assistant keeps the first 24 KB of output and reports the rest as Dropped. */
export const OUTPUT_LIMIT = 24 * 1024;

/**
 * Guests whose scripts do not run for real: Windows always (VSS from the PowerShell script's
 * parameter block), Linux when no sandbox can be made (the backup script's steps from its parameter
 * block). Both freeze and thaw through the same records as the real shims, request the snapshot
 * with the script's own pre-signed URL and print the script's `ECSB` result lines.
 */
export class GuestSimulation {
  constructor(
    private readonly state: EcsState,
    private readonly callbacks: GuestCallbacks,
  ) {}

  async simulatePowerShell(
    inv: InvocationRecord,
    rec: InvocationInstanceRecord,
    inst: InstanceRecord,
  ): Promise<void> {
    if (isWindowsExport(inv.content)) {
      const run = await simulateWindowsExport(this.state, inst, inv.content, inv.invokeId);
      this.finish(inv, rec, run.text, run.exitCode);
      return;
    }
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
        this.callbacks.recordFreeze(
          inst.instanceId,
          v,
          'freeze',
          true,
          undefined,
          'vss',
          writers,
          inv.invokeId,
        );
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
        this.callbacks.recordFreeze(
          inst.instanceId,
          v,
          'thaw',
          true,
          undefined,
          'vss',
          writers,
          inv.invokeId,
        );
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
    this.finish(inv, rec, `${lines.join('\r\n')}\r\n`, exitCode);
  }

  /**
   * The Linux backup script, simulated: its pre/post-script rules are checked on the instance's
   * /tmp as recorded, but the scripts are not run (nothing can run them without a sandbox), so the
   * best it reports is file-system consistency, with the reason.
   */
  async simulateLinuxBackup(
    inv: InvocationRecord,
    rec: InvocationInstanceRecord,
    inst: InstanceRecord,
    why: string,
  ): Promise<void> {
    const p = parameterBlock(inv.content);
    if (!p) {
      const message = `ecs-emulator: shell scripts cannot run here (${why}); only the ecs-backup script is simulated\n`;
      this.finish(inv, rec, message, 127);
      return;
    }
    const app = p['ECSB_APP_CONSISTENT'] === '1';
    const fsFreeze = p['ECSB_FS_FREEZE'] === '1';
    const requested = app ? 'application' : fsFreeze ? 'filesystem' : 'crash';
    const log: string[] = [`ecsb: guest simulated (${why}): pre- and post-scripts are not run`];
    let scriptReason = '';
    if (app) {
      const tmp = this.state.trees.tmpDir(inst.instanceId);
      const owners = this.state.trees.owners(tmp);
      const problems = ['prescript.sh', 'postscript.sh']
        .map((name) => [name, tmpScriptProblem(tmp, name, owners)] as const)
        .filter((e): e is readonly [string, string] => e[1] !== null)
        .map(([name, problem]) => `${name.replace('script.sh', '-script')}: ${problem}`);
      scriptReason = problems.length
        ? problems.join('; ')
        : `pre- and post-scripts are not run: Cloud Assistant is simulated (${why})`;
    }
    let freezeReason = fsFreeze ? '' : requested !== 'crash' ? 'file-system freeze is disabled' : '';
    const frozen: string[] = [];
    const call = (action: 'freeze' | 'thaw', mountPoint: string): string =>
      this.callbacks.guest('fsfreeze', {
        instanceId: inst.instanceId,
        action,
        mountPoint,
        invokeId: inv.invokeId,
      });
    let freezeStart = 0;
    if (fsFreeze) {
      const mounts = freezeOrder(inst.mounts);
      if (mounts.length === 0)
        freezeReason = 'no freezable local file system (ext3, ext4 or xfs mounted read-write)';
      freezeStart = Date.now();
      for (const mp of mounts) {
        const [code = '1', message = ''] = call('freeze', mp).split('\n');
        if (code !== '0') {
          freezeReason = `fsfreeze -f ${mp} failed: ${message}`;
          for (const done of frozen.reverse()) call('thaw', done);
          frozen.length = 0;
          break;
        }
        frozen.push(mp);
      }
    }
    const seconds = Number(p['ECSB_REQUEST_TIMEOUT'] ?? '10') || 10;
    const result = await requestSnapshot(p['ECSB_SNAPSHOT_URL'] ?? '', seconds);
    const freezeOk = frozen.length > 0;
    for (const mp of [...frozen].reverse()) call('thaw', mp);
    const freezeMs = freezeOk ? String(Date.now() - freezeStart) : 'none';
    if (freezeOk) log.push(`ecsb: froze and thawed: ${frozen.join(' ')}`);
    const consistency = freezeOk ? 'filesystem' : 'crash';
    const reason = freezeOk
      ? requested === 'application'
        ? scriptReason
        : ''
      : [requested !== 'crash' ? freezeReason : '', scriptReason].filter(Boolean).join('; ');
    const lines = [
      ...log,
      `ECSB consistency=${consistency}`,
      `ECSB reason=${reason}`,
      `ECSB freeze_ms=${freezeMs}`,
      'ECSB pre_exit=none',
      'ECSB post_exit=none',
      result.id ? `ECSB snapshot_group_id=${result.id}` : `ECSB snapshot_error=${result.error}`,
    ];
    this.finish(inv, rec, `${lines.join('\n')}\n`, 0);
  }

  private finish(inv: InvocationRecord, rec: InvocationInstanceRecord, text: string, exitCode: number): void {
    const out = Buffer.from(text, 'utf8');
    rec.output = out.subarray(0, OUTPUT_LIMIT).toString('base64');
    rec.dropped = Math.max(0, out.length - OUTPUT_LIMIT);
    rec.exitCode = exitCode;
    rec.status = exitCode === 0 ? 'Success' : 'Failed';
    rec.errorCode = exitCode === 0 ? '' : 'ExitCodeNonzero';
    rec.errorInfo = exitCode === 0 ? '' : 'the command execution exit code is not zero';
    rec.finishTime = Date.now();
    this.state.putInvocation(inv);
  }
}

/**
 * The backup script's parameters: its first top-level `ECSB_*=` assignments (render.ts writes them
 * bash single-quoted or bare). Null for a script that is not the backup script.
 */
function parameterBlock(script: string): Record<string, string> | null {
  if (!/^ECSB_SNAPSHOT_URL=/m.test(script)) return null;
  const out: Record<string, string> = {};
  for (const line of script.split('\n')) {
    const kv = /^(ECSB_[A-Z_]+)=(.*)$/.exec(line);
    if (!kv?.[1] || kv[1] in out) continue;
    const raw = kv[2] ?? '';
    out[kv[1]] = raw.startsWith("'") && raw.endsWith("'") ? raw.slice(1, -1).replace(/'\\''/g, "'") : raw;
  }
  return out;
}

/** Sends the pre-signed CreateSnapshotGroup request, as the script's curl does. */
async function requestSnapshot(url: string, seconds: number): Promise<{ id?: string; error?: string }> {
  if (!url) return { error: 'NoSnapshotRequest: the script carries no snapshot request' };
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(Math.max(1, seconds) * 1000) });
    const body = (await res.json()) as Record<string, unknown>;
    if (res.ok && typeof body['SnapshotGroupId'] === 'string') return { id: body['SnapshotGroupId'] };
    return { error: `${String(body['Code'] ?? `HTTP${res.status}`)}: ${String(body['Message'] ?? '')}` };
  } catch (err) {
    return { error: `NetworkError: ${(err as Error).message}` };
  }
}
