/**
 * What became of a guest script run through Cloud Assistant, decided from the invocation's status
 * and the script's own result lines. Pure: the backup step reads the invocation, this names it.
 *
 * - ok: the script reported the snapshot group it requested.
 * - pre-script-failed: the pre-script failed and the plan says fail: the script froze nothing.
 * - agent-down: Cloud Assistant never ran the script (no result, aborted, agent unreachable, or
 *   failed without a single result line).
 * - timed-out: Cloud Assistant stopped the script at its timeout (the watchdog and trap thaw).
 * - script-invalid: Cloud Assistant refused the command itself.
 * - freeze-failed: the script ran but no snapshot came of it (the freeze or the request failed).
 */

/** Error codes Cloud Assistant gives when the agent on the instance cannot be reached. */
const AGENT_UNREACHABLE: readonly string[] = [
  'ClientNotRunning',
  'ClientNetworkBlocked',
  'ClientNotResponse',
  'DeliveryTimeout',
];

export const UNFINISHED_INVOCATION: readonly string[] = ['Pending', 'Running', 'Scheduled', 'Stopping'];

export interface GuestRun {
  /** Invocation status; null when Cloud Assistant has no record of it. */
  status: string | null;
  errorCode: string | null;
  errorInfo: string | null;
  /** The script's result lines, when it printed them. */
  report: {
    snapshotGroupId: string | null;
    snapshotError: string | null;
    preExit: number | null;
    reason: string | null;
  } | null;
}

export type GuestVerdict =
  | { kind: 'ok'; snapshotGroupId: string }
  | { kind: 'pre-script-failed'; why: string }
  | { kind: 'agent-down'; why: string }
  | { kind: 'timed-out'; why: string }
  | { kind: 'script-invalid'; why: string }
  | { kind: 'freeze-failed'; why: string };

export function classifyGuestRun(
  run: GuestRun,
  plan: { onPreScriptFailure: 'continue' | 'fail' },
): GuestVerdict {
  const { status, errorCode, errorInfo, report } = run;
  if (report?.snapshotGroupId) return { kind: 'ok', snapshotGroupId: report.snapshotGroupId };
  const preExit = report?.preExit ?? null;
  if (preExit !== null && preExit !== 0 && plan.onPreScriptFailure === 'fail') {
    return {
      kind: 'pre-script-failed',
      why: report?.reason ?? `pre-script exited with ${preExit} and the plan says fail`,
    };
  }
  const agentDown =
    status === null ||
    status === 'Aborted' ||
    (errorCode !== null && AGENT_UNREACHABLE.includes(errorCode)) ||
    (status === 'Failed' && report === null);
  if (agentDown)
    return {
      kind: 'agent-down',
      why: `Cloud Assistant did not run the script (${errorCode ?? status ?? 'no result'})`,
    };
  if (status === 'Timeout') {
    return {
      kind: 'timed-out',
      why: `the guest script timed out without a snapshot (${errorInfo ?? 'no detail'})`,
    };
  }
  if (status === 'Invalid') {
    return {
      kind: 'script-invalid',
      why: `Cloud Assistant refused the guest script (${errorInfo ?? errorCode ?? 'no detail'})`,
    };
  }
  if (report?.snapshotError) {
    return {
      kind: 'freeze-failed',
      why: `the snapshot request from the guest failed (${report.snapshotError})`,
    };
  }
  return {
    kind: 'freeze-failed',
    why: `the guest script ended ${status} without a snapshot (${errorInfo ?? 'no detail'})`,
  };
}
