import type { BackupPoint, ConsistencyLevel, Job, PointSnapshot } from '../../domain/model.js';
import { periodStart, pointExpiry } from '../../domain/retention.js';
import type { EcsSnapshot } from '../../ports/ecs.js';
import type { Deps } from '../deps.js';
import type { EcsReaders } from '../jobs/ecs-readers.js';
import { isOurs } from './ownership.js';
import { backupParams, backupState, type ResolvedDisk } from './state.js';

const LEVEL_RANK: Record<ConsistencyLevel, number> = { crash: 0, filesystem: 1, application: 2 };

/** The point of a job has the job's id in it, so recording it twice finds the first one. */
export function backupPointId(jobId: string): string {
  return `bk-${jobId.replace(/^job-/, '')}`;
}

/** Points that exist (or are being removed) count when deciding whether a point is the first of its period. */
const LIVE_STATUSES: BackupPoint['status'][] = ['AVAILABLE', 'DELETING', 'DELETE_FAILED'];

async function earlierInPeriods(deps: Deps, job: Job, completedAt: number): Promise<number[]> {
  const params = backupParams(job);
  const out: number[] = [];
  for (const rule of params.longTerm) {
    const from = periodStart(completedAt, rule.period, params.timeZone);
    const page = await deps.store.points.list(
      { instanceId: job.instanceId, status: LIVE_STATUSES, from, to: completedAt },
      { limit: 1, order: 'asc' },
    );
    for (const p of page.items) out.push(p.completedAt);
  }
  return out;
}

function snapshotEntry(
  disk: ResolvedDisk | undefined,
  diskId: string,
  s: EcsSnapshot | undefined,
  id: string,
) {
  const entry: PointSnapshot = {
    diskId,
    snapshotId: s?.snapshotId ?? id,
    diskType: disk?.type ?? s?.sourceDiskType ?? 'data',
    category: disk?.category ?? 'unknown',
    sizeGiB: disk?.sizeGiB ?? s?.sourceDiskSizeGiB ?? 0,
  };
  if (disk?.device) entry.device = disk.device;
  return entry;
}

/**
 * Writes the job's backup point (create-if-absent): snapshot per disk, consistency achieved and
 * why, expiry fixed now (design §3), long-term keep when the point is the first of its period.
 */
export async function recordBackupPoint(
  deps: Deps,
  job: Job,
  readers: EcsReaders,
): Promise<{ point: BackupPoint } | { error: string }> {
  const id = backupPointId(job.id);
  const existing = await deps.store.points.get(id);
  if (existing) return { point: existing };
  const st = backupState(job);
  const params = backupParams(job);
  const disks = new Map((st.disks ?? []).map((d) => [d.diskId, d]));
  let snapshots: PointSnapshot[];
  let ours: boolean;
  const members = st.groupSnapshotIds ?? [];
  const seenMembers =
    st.snapshotGroupId && members.length > 0 && st.groupOurs !== undefined
      ? await Promise.all(members.map((sid) => readers.snapshots.get(sid)))
      : [];
  if (seenMembers.length > 0 && seenMembers.every((s) => s)) {
    // The poll step read the members a moment ago (cached): no need to read the group again.
    snapshots = seenMembers.map((s) =>
      snapshotEntry(disks.get(s!.sourceDiskId), s!.sourceDiskId, s!, s!.snapshotId),
    );
    ours = st.groupOurs!;
  } else if (st.snapshotGroupId) {
    const group = await readers.groups.get(st.snapshotGroupId);
    if (!group)
      return { error: `snapshot group ${st.snapshotGroupId} is gone from ECS; run the backup again` };
    snapshots = group.snapshots.map((s) =>
      snapshotEntry(disks.get(s.sourceDiskId), s.sourceDiskId, s, s.snapshotId),
    );
    ours = isOurs(group.tags);
  } else {
    const entries = Object.entries(st.snapshots ?? {});
    const seen = await Promise.all(entries.map(([, sid]) => readers.snapshots.get(sid)));
    snapshots = entries.map(([diskId, sid], i) =>
      snapshotEntry(disks.get(diskId), diskId, seen[i] ?? undefined, sid),
    );
    ours = seen.every((s) => s !== null && s !== undefined && isOurs(s.tags));
  }
  const decision = st.decision;
  const requested =
    decision?.requested ?? (params.consistency.applicationConsistent ? 'application' : 'crash');
  let achieved: ConsistencyLevel = decision?.expected ?? 'crash';
  if (decision && decision.method !== 'direct' && st.guest) achieved = st.guest.achieved;
  if (LEVEL_RANK[achieved] > LEVEL_RANK[requested]) achieved = requested;
  const kind = st.snapshotGroupId ? 'group' : 'per-disk';
  const reasons: string[] = [];
  if (decision?.reason && (decision.expected !== decision.requested || kind === 'per-disk'))
    reasons.push(decision.reason);
  if (st.guest?.reason && achieved !== requested && !reasons.includes(st.guest.reason))
    reasons.push(st.guest.reason);
  if (achieved === requested && kind === 'group') reasons.length = 0;
  const completedAt = deps.clock.now();
  const expiry = pointExpiry(completedAt, await earlierInPeriods(deps, job, completedAt), params);
  const point: BackupPoint = {
    id,
    instanceId: job.instanceId,
    planId: job.planId,
    jobId: job.id,
    kind,
    snapshotGroupId: st.snapshotGroupId ?? null,
    snapshots,
    consistency: {
      requested,
      achieved,
      reason: reasons.length > 0 ? reasons.join('; ') : null,
      freezeWindowMs: st.guest?.freezeMs ?? null,
    },
    createdAt: job.startedAt ?? job.createdAt,
    completedAt,
    ...expiry,
    status: 'AVAILABLE',
    ours,
    inUseBy: [],
    lastError: null,
    ...(params.lock ? { lock: { mode: params.lock.mode, lockedAt: completedAt, overrides: [] } } : {}),
    ...(params.source ? { source: params.source } : {}),
    version: 1,
  };
  const written = await deps.store.points.create(point);
  if (written.ok) return { point: written.value };
  const current = written.current ?? (await deps.store.points.get(id));
  if (!current) return { error: `backup point ${id} could not be written` };
  return { point: current };
}
