import type { BackupPoint } from '../../../lib/domain/model.js';

/** A backup point that reads like a sentence: `aPoint('p1').of('i-aaaa').completedAt(t).expiring(t2).build()`. */
export class PointBuilder {
  private point: BackupPoint;

  constructor(id: string) {
    this.point = {
      id,
      instanceId: 'i-aaaa1111',
      planId: 'plan-1',
      jobId: `job-${id}`,
      kind: 'group',
      snapshotGroupId: `ssg-${id}`,
      snapshots: [],
      consistency: { requested: 'crash', achieved: 'crash', reason: null, freezeWindowMs: null },
      createdAt: 0,
      completedAt: 0,
      expireAt: 0,
      longTermUntil: null,
      longTermRule: null,
      effectiveExpireAt: 0,
      status: 'AVAILABLE',
      ours: true,
      inUseBy: [],
      lastError: null,
      version: 1,
    };
  }

  of(instanceId: string): this {
    this.point.instanceId = instanceId;
    return this;
  }

  completedAt(t: number): this {
    this.point.createdAt = t;
    this.point.completedAt = t;
    return this;
  }

  expiring(t: number): this {
    this.point.expireAt = t;
    this.point.effectiveExpireAt = Math.max(t, this.point.longTermUntil ?? t);
    return this;
  }

  keptLongTerm(rule: NonNullable<BackupPoint['longTermRule']>, until: number): this {
    this.point.longTermRule = rule;
    this.point.longTermUntil = until;
    this.point.effectiveExpireAt = Math.max(this.point.expireAt, until);
    return this;
  }

  status(status: BackupPoint['status']): this {
    this.point.status = status;
    return this;
  }

  notOurs(): this {
    this.point.ours = false;
    return this;
  }

  usedBy(...jobIds: string[]): this {
    this.point.inUseBy = jobIds;
    return this;
  }

  build(): BackupPoint {
    return structuredClone(this.point);
  }
}

export const aPoint = (id: string): PointBuilder => new PointBuilder(id);
