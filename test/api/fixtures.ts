import type { BackupPoint, Job } from '../../lib/domain/model.js';
import { T0 } from './harness.js';

export const DAY = 86_400_000;

export function aPoint(fields: Partial<BackupPoint> & Pick<BackupPoint, 'id' | 'instanceId'>): BackupPoint {
  const completedAt = fields.completedAt ?? T0 - DAY;
  const expireAt = fields.expireAt ?? completedAt + 30 * DAY;
  return {
    planId: null,
    jobId: `job-of-${fields.id}`,
    kind: 'group',
    snapshotGroupId: `ssg-${fields.id}`,
    snapshots: [
      {
        diskId: 'd-sys0001',
        snapshotId: `s-${fields.id}`,
        diskType: 'system',
        category: 'cloud_essd',
        sizeGiB: 40,
      },
    ],
    consistency: { requested: 'crash', achieved: 'crash', reason: null, freezeWindowMs: null },
    createdAt: completedAt - 60_000,
    completedAt,
    expireAt,
    longTermUntil: null,
    longTermRule: null,
    effectiveExpireAt: Math.max(expireAt, fields.longTermUntil ?? expireAt),
    status: 'AVAILABLE',
    ours: true,
    inUseBy: [],
    lastError: null,
    version: 1,
    ...fields,
  };
}

export function aJob(fields: Partial<Job> & Pick<Job, 'id' | 'instanceId'>): Job {
  const createdAt = fields.createdAt ?? T0 - DAY;
  return {
    type: 'backup',
    status: 'COMPLETE',
    planId: null,
    scheduledAt: null,
    step: 'done',
    progress: 100,
    cancelRequested: false,
    reason: null,
    params: {},
    state: {},
    errors: [],
    attempts: 1,
    createdAt,
    updatedAt: createdAt,
    startedAt: createdAt,
    finishedAt: createdAt + 60_000,
    version: 1,
    ...fields,
  };
}

export const dailyPlan = {
  name: 'web-daily',
  schedule: { startAt: '2026-12-01T02:00:00+08:00', every: { value: 1, unit: 'days' } },
  retention: { value: 30, unit: 'days' },
  longTerm: [{ period: 'month', keep: { value: 1, unit: 'years' } }],
  consistency: { applicationConsistent: true, fsFreeze: true, timeoutSeconds: 30 },
};
