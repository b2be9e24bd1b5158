/**
 * Which consistency a backup can reach, decided before anything touches the instance (design §4).
 * The guest script reports what it actually achieved; this decision is what we expect and why.
 *
 * Order of the checks, each one a reason the next cannot apply:
 * 1. no disks -> fail;  2. disks that cannot form one snapshot group (a non-ESSD disk, more disks than
 *    the group limit) -> per-disk crash-consistent;  3. application consistency off -> crash;
 * 4. Cloud Assistant agent missing -> install it, crash this time (it needs a reboot);
 *    not responding -> crash or fail, as the plan says;  5. Windows -> VSS with or without writers;
 * 6. Linux -> freeze off gives crash; with freeze, valid scripts give application, otherwise file system.
 */
import type { ConsistencyLevel, ConsistencyOptions, OsType } from './model.js';

/** Linux pre/post scripts: `valid` only when both are root-owned 0700 regular files. */
export type ScriptCheck = 'valid' | 'missing' | 'invalid';
export type AgentStatus = 'running' | 'missing' | 'not-responding';

export interface ConsistencyDecision {
  requested: ConsistencyLevel;
  expected: ConsistencyLevel;
  snapshot: 'group' | 'per-disk';
  /** `direct`: the function creates crash-consistent snapshots itself; `guest-*`: through Cloud Assistant. */
  method: 'direct' | 'guest-linux' | 'guest-windows' | 'fail';
  installAgent: boolean;
  /** Why this outcome, for the operator; set on every outcome. */
  reason: string | null;
}

export const ESSD_FAMILY: readonly string[] = ['cloud_essd', 'cloud_auto', 'cloud_essd_entry'];

/** Only these categories can join a snapshot group (ECS: `DiskCategory.OperationNotSupported` otherwise). */
export function isEssdFamily(category: string): boolean {
  return ESSD_FAMILY.includes(category);
}

export interface DiskInfo {
  diskId: string;
  category: string;
}

function groupBlocker(disks: readonly DiskInfo[], groupDiskLimit: number): string | null {
  const nonEssd = disks.filter((d) => !isEssdFamily(d.category));
  if (nonEssd.length > 0) {
    const list = nonEssd.map((d) => `${d.diskId} (${d.category})`).join(', ');
    return `not ESSD-family, so no snapshot group is possible: ${list}; per-disk crash-consistent snapshots`;
  }
  if (disks.length > groupDiskLimit) {
    return (
      `${disks.length} disks exceed the snapshot group limit of ${groupDiskLimit}; ` +
      'per-disk crash-consistent snapshots'
    );
  }
  return null;
}

export function decideConsistency(
  os: OsType,
  options: ConsistencyOptions,
  scriptCheck: ScriptCheck | 'unknown',
  agent: AgentStatus,
  disks: readonly DiskInfo[],
  settings: { groupDiskLimit: number },
): ConsistencyDecision {
  const requested: ConsistencyLevel = options.applicationConsistent ? 'application' : 'crash';
  const outcome = (
    expected: ConsistencyLevel,
    method: ConsistencyDecision['method'],
    reason: string,
    extra: Partial<Pick<ConsistencyDecision, 'snapshot' | 'installAgent'>> = {},
  ): ConsistencyDecision => ({
    requested,
    expected,
    snapshot: extra.snapshot ?? 'group',
    method,
    installAgent: extra.installAgent ?? false,
    reason,
  });

  if (disks.length === 0) return outcome('crash', 'fail', 'the instance has no disk to back up');
  const blocker = groupBlocker(disks, settings.groupDiskLimit);
  if (blocker !== null) {
    const prefix = options.applicationConsistent ? 'application consistency needs a snapshot group; ' : '';
    return outcome('crash', 'direct', prefix + blocker, { snapshot: 'per-disk' });
  }
  if (!options.applicationConsistent) {
    return outcome(
      'crash',
      'direct',
      'application consistency is off in the plan: crash-consistent snapshot group',
    );
  }
  if (agent === 'missing') {
    return outcome(
      'crash',
      'direct',
      'Cloud Assistant agent is missing: installing it (it works after the instance reboots); ' +
        'this backup is crash-consistent',
      { installAgent: true },
    );
  }
  if (agent === 'not-responding') {
    if (options.onAgentUnavailable === 'fail') {
      return outcome('crash', 'fail', 'Cloud Assistant agent is not responding and the plan says fail');
    }
    return outcome(
      'crash',
      'direct',
      'Cloud Assistant agent is not responding: this backup is crash-consistent',
    );
  }
  if (os === 'windows') {
    return options.windowsWriters
      ? outcome('application', 'guest-windows', 'application-consistent: VSS with writers')
      : outcome(
          'filesystem',
          'guest-windows',
          'Windows writers are off in the plan: VSS without writers gives file-system consistency',
        );
  }
  if (!options.fsFreeze) {
    return outcome(
      'crash',
      'direct',
      'file-system freeze is off in the plan, and Linux application consistency needs it: crash-consistent',
    );
  }
  switch (scriptCheck) {
    case 'valid':
      return outcome(
        'application',
        'guest-linux',
        'application-consistent: pre/post scripts valid, file systems frozen',
      );
    case 'unknown':
      return outcome(
        'application',
        'guest-linux',
        'pre/post scripts are checked in the guest: application-consistent if valid, otherwise file-system-consistent',
      );
    case 'missing':
      return outcome(
        'filesystem',
        'guest-linux',
        'pre/post scripts are missing: file-system-consistent (freeze only)',
      );
    case 'invalid':
      return outcome(
        'filesystem',
        'guest-linux',
        'pre/post scripts are invalid (each must be a regular file owned by root with mode 0700): file-system-consistent',
      );
  }
}

export type PreScriptFailure =
  { kind: 'exit'; exitCode: number } | { kind: 'timeout'; timeoutSeconds: number };

/**
 * Design §4 row 4: a pre-script that fails or times out gives a file-system-consistent backup, or a
 * failed job when the plan says so. The guest script applies the same rule; the engine uses this to
 * word the outcome it records.
 */
export function decidePreScriptFailure(
  options: Pick<ConsistencyOptions, 'onPreScriptFailure'>,
  failure: PreScriptFailure,
): { action: 'continue'; achieved: 'filesystem'; reason: string } | { action: 'fail'; reason: string } {
  const what =
    failure.kind === 'exit'
      ? `pre-script exited with ${failure.exitCode}`
      : `pre-script timed out after ${failure.timeoutSeconds}s`;
  if (options.onPreScriptFailure === 'fail')
    return { action: 'fail', reason: `${what} and the plan says fail` };
  return { action: 'continue', achieved: 'filesystem', reason: `${what}: file-system-consistent` };
}

/** What the start of a backup learned about the instance before deciding. */
export interface InstanceFacts {
  os: OsType;
  /** ECS status of the instance (`Running`, `Stopped`, ...). */
  status: string;
  agent: AgentStatus;
}

/**
 * The decision once the instance has been looked at. A stopped (or stopping, starting) instance
 * cannot run the guest script, but it writes nothing either, so its crash-consistent snapshot is as
 * good as a frozen one: the decision is overridden to a direct snapshot with that reason. Disks that
 * cannot form a group keep their own reason (per-disk), which says more.
 */
export function decideConsistencyForInstance(
  facts: InstanceFacts,
  options: ConsistencyOptions,
  disks: readonly DiskInfo[],
  settings: { groupDiskLimit: number },
): ConsistencyDecision {
  if (!options.applicationConsistent || facts.status === 'Running') {
    return decideConsistency(facts.os, options, 'unknown', facts.agent, disks, settings);
  }
  const shape = decideConsistency(
    facts.os,
    { ...options, applicationConsistent: false },
    'unknown',
    facts.agent,
    disks,
    settings,
  );
  if (shape.method === 'fail') return { ...shape, requested: 'application' };
  const quiet = `instance is ${facts.status}: the guest script cannot run; crash-consistent snapshot of a quiet instance`;
  return {
    requested: 'application',
    expected: 'crash',
    snapshot: shape.snapshot,
    method: 'direct',
    installAgent: false,
    reason: shape.snapshot === 'per-disk' ? shape.reason : quiet,
  };
}
