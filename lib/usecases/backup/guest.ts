import type { ConsistencyLevel, ConsistencyOptions } from '../../domain/model.js';
import {
  linuxCommandTimeoutSeconds,
  renderLinuxBackupScript,
  renderWindowsBackupScript,
} from '../../guest/render.js';
import type { ScriptType } from '../../ports/ecs.js';
import type { GuestOutcome } from './state.js';

export interface GuestCommand {
  type: ScriptType;
  content: string;
  timeoutSeconds: number;
}

export function buildGuestCommand(
  os: 'linux' | 'windows',
  input: { snapshotUrl: string; options: ConsistencyOptions },
): GuestCommand {
  const { options, snapshotUrl } = input;
  if (os === 'windows') {
    const content = renderWindowsBackupScript({
      snapshotUrl,
      writers: options.windowsWriters,
      timeoutSeconds: options.timeoutSeconds,
    });
    // VSS holds writers for about 10 s; the rest is start-up and the snapshot request.
    return { type: 'RunPowerShellScript', content, timeoutSeconds: options.timeoutSeconds * 2 + 60 };
  }
  const params = {
    snapshotUrl,
    applicationConsistent: options.applicationConsistent,
    fsFreeze: options.fsFreeze,
    timeoutSeconds: options.timeoutSeconds,
    onPreScriptFailure: options.onPreScriptFailure,
  };
  return {
    type: 'RunShellScript',
    content: renderLinuxBackupScript(params),
    timeoutSeconds: linuxCommandTimeoutSeconds(params),
  };
}

export interface GuestReport {
  guest: GuestOutcome;
  snapshotGroupId: string | null;
  snapshotError: string | null;
}

const LEVELS: ConsistencyLevel[] = ['application', 'filesystem', 'crash'];

export function readGuestOutcome(output: string): GuestReport | null {
  const fields = new Map<string, string>();
  for (const line of output.split(/\r?\n/)) {
    const m = /^ECSB ([a-z_]+)=(.*)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) fields.set(m[1], m[2]);
  }
  const consistency = fields.get('consistency') as ConsistencyLevel | undefined;
  if (!consistency || !LEVELS.includes(consistency)) return null;
  const num = (v: string | undefined) => (v === undefined || v === 'none' || v === '' ? null : Number(v));
  return {
    guest: {
      achieved: consistency,
      reason: fields.get('reason') || null,
      freezeMs: num(fields.get('freeze_ms')),
      preExit: num(fields.get('pre_exit')),
      postExit: num(fields.get('post_exit')),
    },
    snapshotGroupId: fields.get('snapshot_group_id') || null,
    snapshotError: fields.get('snapshot_error') || null,
  };
}
