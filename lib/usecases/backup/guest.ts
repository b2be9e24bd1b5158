import type { ConsistencyOptions } from '../../domain/model.js';
import {
  linuxCommandTimeoutSeconds,
  renderLinuxBackupScript,
  renderWindowsBackupScript,
} from '../../guest/render.js';
import { parseGuestResult } from '../../guest/result.js';
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

/** The script's result lines, read by the one parser of guest output (`lib/guest/result.ts`). */
export function readGuestOutcome(output: string): GuestReport | null {
  const r = parseGuestResult(output);
  if (!r.consistency) return null;
  const error = r.snapshotError;
  return {
    guest: {
      achieved: r.consistency,
      reason: r.reason || null,
      freezeMs: r.freezeMs,
      preExit: r.preExit,
      postExit: r.postExit,
    },
    snapshotGroupId: r.snapshotGroupId,
    snapshotError: error ? [error.code, error.message].filter((t) => t !== '').join(': ') : null,
  };
}
