/**
 * Restore tests ("verification"): a plan with `verify: {every: N}` has every Nth complete backup
 * restored to temporary disks on a helper instance, mounted read-only, checked with a file-system
 * check and, when the operator put one there, `/tmp/verifyscript.sh`; the result is recorded on the
 * backup point.
 *
 * Counting is exactly once: the plan keeps how many complete backups it counted and the last one
 * counted, so the step that counts a backup may run again (a crash, a redelivery) without counting
 * it twice. A verification that could not run (no helper, a disk that would not attach) is recorded
 * as failed with the reason: a backup nobody could restore is not a verified one.
 */
import type { BackupPoint } from './model.js';

export const MAX_VERIFY_EVERY = 100;

export interface VerifyRule {
  /** Every Nth complete backup of the plan is verified (1 = every backup). */
  every: number;
  /** Instance the disks are attached to; absent = the backed-up instance itself (when it runs). */
  helperInstanceId?: string;
  /** Run `/tmp/verifyscript.sh <mountpoint>` when it is a root-owned 0700 regular file (default true). */
  script?: boolean;
}

export interface VerifyCounter {
  count: number;
  lastPointId: string;
}

export type VerificationStatus = 'passed' | 'failed';

export interface PointVerification {
  status: VerificationStatus;
  at: number;
  reason: string | null;
  durationSeconds: number;
  jobId: string;
}

/**
 * Counts a complete backup of the plan. The same point counted again answers the count it got the
 * first time and no change, so a retried step neither double-counts nor skips a verification.
 */
export function countBackup(
  counter: VerifyCounter | undefined,
  pointId: string,
): { counter: VerifyCounter; changed: boolean } {
  if (counter?.lastPointId === pointId) return { counter, changed: false };
  return { counter: { count: (counter?.count ?? 0) + 1, lastPointId: pointId }, changed: true };
}

/** The Nth, 2Nth, ... counted backup is verified. */
export function verificationDue(count: number, every: number): boolean {
  return count > 0 && every > 0 && count % every === 0;
}

/** Where the helper instance is refused, or null when it can take the disks. */
export function helperRefusal(
  helper: { instanceId: string; zoneId: string; status: string; osType: string } | undefined,
  wanted: { instanceId: string; zoneId: string; chosen: boolean },
): string | null {
  const who = wanted.chosen ? `helper instance ${wanted.instanceId}` : `instance ${wanted.instanceId}`;
  const hint = wanted.chosen ? '' : ' (set verify.helperInstanceId to a running Linux instance in that zone)';
  if (!helper) return `${who} was not found${hint}`;
  if (helper.zoneId !== wanted.zoneId) {
    return `${who} is in zone ${helper.zoneId}; disks of this backup can only be attached in ${wanted.zoneId}`;
  }
  if (helper.osType !== 'linux') return `${who} runs ${helper.osType}; verification needs Linux${hint}`;
  if (helper.status !== 'Running') return `${who} is ${helper.status}, not Running${hint}`;
  return null;
}

/** The newest AVAILABLE point per instance whose latest verification passed; ties broken by id. */
export function newestVerifiedByInstance(points: readonly BackupPoint[]): Map<string, BackupPoint> {
  const out = new Map<string, BackupPoint>();
  for (const p of points) {
    if (p.status !== 'AVAILABLE' || p.verification?.status !== 'passed') continue;
    const current = out.get(p.instanceId);
    const newer =
      current === undefined ||
      (p.completedAt !== current.completedAt ? p.completedAt > current.completedAt : p.id > current.id);
    if (newer) out.set(p.instanceId, p);
  }
  return out;
}

/** What the guest script printed (`ECSB verify_*` lines) turned into the point's verdict. */
export function verdictFromGuest(
  commandStatus: string,
  said: Readonly<Record<string, string>>,
  errorInfo: string | null,
): { status: VerificationStatus; reason: string | null } {
  const result = said['verify_result'];
  if (commandStatus === 'Success' && result === 'passed') {
    return { status: 'passed', reason: said['verify_reason'] || null };
  }
  const why =
    said['verify_reason'] ||
    errorInfo ||
    (result ? `the check ended ${result}` : `the verify script ended ${commandStatus} without a result`);
  return { status: 'failed', reason: why };
}
