/**
 * Stored entities as the API shows them: times as ISO 8601 strings, absent values as null, so every
 * field documented in the OpenAPI document is always present.
 */
import type { z } from 'zod';
import type { BackupPoint, ConsistencyLevel, Plan } from '../domain/model.js';
import type { PreviewRow } from '../domain/retention.js';
import type { Page } from '../ports/store.js';
import type { InstanceOverview, ProtectedInstanceView } from '../usecases/management/instances.js';
import type { JobDetails } from '../usecases/management/jobs.js';
import type { ActiveMount } from '../usecases/mount/mounts.js';
import { recoveryState } from '../usecases/restore/state.js';
import type { backupView } from './schemas/backups.js';
import type { instanceView } from './schemas/instances.js';
import type { jobView } from './schemas/jobs.js';
import type { planView, retentionPreviewView } from './schemas/plans.js';
import type { protectedInstanceView } from './schemas/protected-instances.js';
import type { mountView } from './schemas/recovery.js';

const iso = (t: number): string => new Date(t).toISOString();
const isoOrNull = (t: number | null): string | null => (t === null ? null : iso(t));

export function toPlanView(plan: Plan): z.output<typeof planView> {
  return {
    id: plan.id,
    name: plan.name,
    instanceId: plan.instanceId,
    disks: plan.disks,
    schedule: plan.schedule ?? null,
    retention: plan.retention,
    longTerm: plan.longTerm,
    consistency: plan.consistency,
    timeZone: plan.timeZone,
    keepLatest: plan.keepLatest,
    lock: plan.lock ?? null,
    copies: plan.copies ?? [],
    verify: plan.verify ?? null,
    state: plan.state,
    nextRunAt: isoOrNull(plan.nextRunAt),
    createdAt: iso(plan.createdAt),
    updatedAt: iso(plan.updatedAt),
    version: plan.version,
  };
}

export function toProtectedInstanceView(view: ProtectedInstanceView): z.output<typeof protectedInstanceView> {
  const pi = view.protectedInstance;
  return {
    instanceId: pi.instanceId,
    disks: pi.disks,
    planId: pi.planId,
    plan: view.plan === null ? null : toPlanView(view.plan),
    ruleId: pi.ruleId ?? null,
    createdAt: iso(pi.createdAt),
    updatedAt: iso(pi.updatedAt),
    version: pi.version,
  };
}

const LEVELS: readonly ConsistencyLevel[] = ['application', 'filesystem', 'crash'];

const level = (v: unknown): ConsistencyLevel | null =>
  LEVELS.includes(v as ConsistencyLevel) ? (v as ConsistencyLevel) : null;

/**
 * Consistency of a backup job: once the backup point exists, what it records (what was achieved and
 * why); before that, what the job decided to aim for. The job's state is the engine's free-form
 * record, so it is read defensively.
 */
function jobConsistency(details: JobDetails): z.output<typeof jobView>['consistency'] {
  if (details.point !== null) {
    const c = details.point.consistency;
    return {
      requested: c.requested,
      expected: c.achieved,
      achieved: c.achieved,
      reason: c.reason,
      freezeWindowMs: c.freezeWindowMs,
    };
  }
  const decision = details.job.state.decision as Record<string, unknown> | undefined;
  if (decision === undefined || decision === null || typeof decision !== 'object') return null;
  const requested = level(decision.requested);
  if (requested === null) return null;
  const guest = details.job.state.guest as Record<string, unknown> | undefined;
  const achieved =
    guest !== undefined && guest !== null && typeof guest === 'object' ? level(guest.achieved) : null;
  const reason = guest?.reason ?? decision.reason;
  return {
    requested,
    expected: level(decision.expected),
    achieved,
    reason: typeof reason === 'string' ? reason : null,
    freezeWindowMs: typeof guest?.freezeMs === 'number' ? guest.freezeMs : null,
  };
}

export function toJobView(details: JobDetails): z.output<typeof jobView> {
  const job = details.job;
  const pointId = job.state.pointId;
  return {
    id: job.id,
    type: job.type,
    status: job.status,
    instanceId: job.instanceId,
    planId: job.planId,
    scheduledAt: isoOrNull(job.scheduledAt),
    step: job.step,
    progress: job.progress,
    cancelRequested: job.cancelRequested,
    reason: job.reason,
    consistency: jobConsistency(details),
    backupId: typeof pointId === 'string' && pointId !== '' ? pointId : null,
    params: job.params,
    state: job.state,
    errors: job.errors.map((e) => ({ code: e.code, message: e.message, at: iso(e.at) })),
    attempts: job.attempts,
    createdAt: iso(job.createdAt),
    updatedAt: iso(job.updatedAt),
    startedAt: isoOrNull(job.startedAt),
    finishedAt: isoOrNull(job.finishedAt),
    version: job.version,
  };
}

export function toBackupView(point: BackupPoint): z.output<typeof backupView> {
  return {
    id: point.id,
    instanceId: point.instanceId,
    planId: point.planId,
    jobId: point.jobId,
    kind: point.kind,
    snapshotGroupId: point.snapshotGroupId,
    snapshots: point.snapshots.map((s) => ({
      diskId: s.diskId,
      snapshotId: s.snapshotId,
      diskType: s.diskType,
      category: s.category,
      sizeGiB: s.sizeGiB,
      device: s.device ?? null,
    })),
    consistency: point.consistency,
    status: point.status,
    createdAt: iso(point.createdAt),
    completedAt: iso(point.completedAt),
    expireAt: iso(point.expireAt),
    longTermUntil: isoOrNull(point.longTermUntil),
    longTermRule: point.longTermRule,
    effectiveExpireAt: iso(point.effectiveExpireAt),
    ours: point.ours,
    inUseBy: point.inUseBy,
    lastError: point.lastError,
    lock:
      point.lock === undefined
        ? null
        : {
            mode: point.lock.mode,
            lockedAt: iso(point.lock.lockedAt),
            overrides: point.lock.overrides.map((o) => ({
              action: o.action,
              at: iso(o.at),
              from: o.from === undefined ? null : iso(o.from),
              to: o.to === undefined ? null : iso(o.to),
            })),
          },
    source: point.source ?? null,
    copies: (point.copies ?? []).map((c) => ({
      regionId: c.regionId,
      jobId: c.jobId,
      snapshotIds: c.snapshotIds,
      status: c.status,
      expireAt: c.expireAt > 0 ? iso(c.expireAt) : null,
      reason: c.reason,
    })),
    verification:
      point.verification === undefined ? null : { ...point.verification, at: iso(point.verification.at) },
    version: point.version,
  };
}

export function toInstanceView(o: InstanceOverview): z.output<typeof instanceView> {
  const pi = o.protection?.protectedInstance;
  const plan = o.protection?.plan ?? null;
  return {
    instanceId: o.instance.instanceId,
    name: o.instance.instanceName,
    status: o.instance.status,
    osType: o.instance.osType,
    osName: o.instance.osName,
    zoneId: o.instance.zoneId,
    regionId: o.instance.regionId,
    disks: o.disks.map((d) => ({
      diskId: d.diskId,
      name: d.diskName,
      type: d.type,
      category: d.category,
      sizeGiB: d.sizeGiB,
      device: d.device,
      status: d.status,
    })),
    cloudAssistant: o.cloudAssistant === null ? 'unknown' : o.cloudAssistant ? 'running' : 'not-running',
    protection: {
      protected: pi !== undefined,
      planId: pi?.planId ?? null,
      planName: plan?.name ?? null,
      planState: plan?.state ?? null,
      disks: pi?.disks ?? null,
    },
  };
}

export function toRetentionPreviewView(
  planId: string,
  evaluatedAt: number,
  rows: (PreviewRow & { point: BackupPoint })[],
): z.output<typeof retentionPreviewView> {
  return {
    planId,
    evaluatedAt: iso(evaluatedAt),
    keep: rows.filter((r) => r.decision === 'keep').length,
    delete: rows.filter((r) => r.decision === 'delete').length,
    points: rows.map((r) => ({
      backupId: r.pointId,
      completedAt: iso(r.point.completedAt),
      status: r.point.status,
      decision: r.decision,
      reason: r.reason,
      expireAt: iso(r.expireAt),
    })),
  };
}

export function toPageView<T, V>(
  page: Page<T>,
  view: (item: T) => V,
): { items: V[]; nextCursor: string | null } {
  return { items: page.items.map(view), nextCursor: page.cursor ?? null };
}

export function toMountView(m: ActiveMount): z.output<typeof mountView> {
  const st = recoveryState(m.job);
  const target = st.targets?.[0];
  return {
    jobId: m.job.id,
    backupId: m.point.id,
    instanceId: m.job.instanceId,
    diskId: st.diskId ?? '',
    device: st.device ?? null,
    sourceDiskId: target?.diskId ?? '',
    snapshotId: target?.snapshotId ?? '',
    mountedAt: iso(st.mountedAt ?? 0),
    expiresAt: iso(st.expiresAt ?? 0),
    unmount:
      m.unmount === null ? null : { jobId: m.unmount.id, status: m.unmount.status, reason: m.unmount.reason },
  };
}
