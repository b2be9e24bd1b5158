import { createHash } from 'node:crypto';
import type { Tag } from '../../ports/ecs.js';

/** Tag keys on every snapshot and group we create; retention deletes nothing without MANAGED_BY. */
export const TAG_MANAGED_BY = 'ecs-backup:managed-by';
export const TAG_PLAN = 'ecs-backup:plan';
export const TAG_JOB = 'ecs-backup:job';
export const TAG_INSTANCE = 'ecs-backup:instance';
export const MANAGED_BY_VALUE = 'ecs-backup';

export function ownershipTags(job: { id: string; planId: string | null; instanceId: string }): Tag[] {
  return [
    { key: TAG_MANAGED_BY, value: MANAGED_BY_VALUE },
    { key: TAG_PLAN, value: job.planId ?? 'none' },
    { key: TAG_JOB, value: job.id },
    { key: TAG_INSTANCE, value: job.instanceId },
  ];
}

export function isOurs(tags: readonly Tag[]): boolean {
  // ECS tag keys are compared case-insensitively by the console; do the same so a re-cased key still counts.
  return tags.some((t) => t.key.toLowerCase() === TAG_MANAGED_BY && t.value === MANAGED_BY_VALUE);
}

/**
 * A ClientToken for one part of a job (a disk's snapshot, a command). ECS tokens are <= 64 ASCII
 * and case-sensitive; a hash keeps them short and stable for any job id.
 */
export function partToken(jobId: string, part: string): string {
  return `ecsb-${createHash('sha256').update(`${jobId}\n${part}`).digest('hex').slice(0, 40)}`;
}

/** ECS names: 2-128 characters, starting with a letter, not starting with `auto` or `http`. */
export function snapshotName(jobId: string, suffix = ''): string {
  const base = `ecsb-${jobId}${suffix}`.replace(/[^A-Za-z0-9_.:-]/g, '-');
  return base.slice(0, 128);
}
