/**
 * Copies of backups in other regions (HBR's cross-region replication). A plan names up to three
 * target regions, each with its own retention; after a backup completes a copy job copies each of
 * its snapshots there. The copies are recorded on the backup point, each with its own status and
 * expiry: retention deletes a copy in its own region when that expiry passes, whatever happens to
 * the source (a copy outlives a source deleted earlier, which is the point of an off-site copy).
 * A failed copy never fails or deletes the source backup.
 */
import type { ValidationIssue } from './errors.js';
import type { Retention } from './model.js';

export const MAX_COPIES = 3;
/** `cn-hangzhou`, `ap-southeast-1`, `us-east-1`, ... */
export const REGION_ID_PATTERN = /^[a-z]{2,}(-[a-z0-9]+)+$/;

export interface CopyRule {
  regionId: string;
  retention: Retention;
}

/**
 * - `copying`: the copy job runs;
 * - `available`: every snapshot copied, restorable in its region;
 * - `failed`: the copy job gave up (reason says why); its partial copies were deleted;
 * - `deleted`: retention deleted it at its expiry; `delete_failed`: retried by the next sweep.
 */
export type CopyStatus = 'copying' | 'available' | 'failed' | 'deleted' | 'delete_failed';

export interface PointCopy {
  regionId: string;
  jobId: string;
  /** In the order of the point's `snapshots`: `snapshotIds[i]` is the copy of `snapshots[i]`. */
  snapshotIds: string[];
  status: CopyStatus;
  /** Set when the copy completes (its retention counts from then); 0 before. */
  expireAt: number;
  reason: string | null;
}

/**
 * Checks that need the deployment: the plan's own region and the regions it knows. `path` is where
 * the list sits in the request (`plan.copies`, `copies`), so each issue names its field.
 */
export function copyRegionIssues(
  copies: readonly CopyRule[],
  ownRegion: string,
  knownRegions: readonly string[],
  path: string,
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  copies.forEach((c, i) => {
    const field = `${path}[${i}].regionId`;
    if (c.regionId === ownRegion) {
      issues.push({ path: field, message: `must differ from the plan's own region ${ownRegion}` });
    } else if (!knownRegions.includes(c.regionId)) {
      issues.push({
        path: field,
        message: `unknown region ${c.regionId}; known: ${knownRegions.join(', ')}`,
      });
    }
  });
  return issues;
}

/** Copies retention may delete now: completed (or a delete that failed before) and past their own expiry. */
export function expiredCopies(copies: readonly PointCopy[] | undefined, now: number): PointCopy[] {
  return (copies ?? []).filter(
    (c) => (c.status === 'available' || c.status === 'delete_failed') && c.expireAt > 0 && c.expireAt <= now,
  );
}

/** The point's copies with the one of `regionId` replaced (or added). */
export function withCopy(copies: readonly PointCopy[] | undefined, copy: PointCopy): PointCopy[] {
  const others = (copies ?? []).filter((c) => c.regionId !== copy.regionId);
  return [...others, copy];
}

/**
 * Where retention finds a copy that is due, without reading every copy: one row per copy present in
 * its region, in a table of its own (the points table has no index left). Written before the point
 * records the copy, so it is never later than the point's `expireAt` for it; the sweep re-reads the
 * point, which stays the truth, and moves or drops the row accordingly.
 */
export interface CopyExpiry {
  /** `copyExpiryId(pointId, regionId)`. */
  id: string;
  pointId: string;
  regionId: string;
  expireAt: number;
  version: number;
}

export function copyExpiryId(pointId: string, regionId: string): string {
  return `${pointId}@${regionId}`;
}

/** A copy still holding snapshots in its region (restorable, or a delete retention retries). */
export function isPresent(copy: PointCopy): boolean {
  return copy.status === 'available' || copy.status === 'delete_failed';
}
