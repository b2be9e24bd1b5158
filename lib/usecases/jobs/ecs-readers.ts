import type { Clock } from '../../ports/clock.js';
import type { Ecs, EcsSnapshot, EcsSnapshotGroup, InvocationResult } from '../../ports/ecs.js';
import { BatchedReader } from './batched-reader.js';

/** ECS limits per describe call (reference: DescribeSnapshotGroups 10 ids, DescribeSnapshots 100). */
const GROUPS_PER_CALL = 10;
const SNAPSHOTS_PER_CALL = 100;
const INVOCATIONS_PER_CALL = 50;
const JOIN_WINDOW_MS = 20;

export interface EcsReaders {
  groups: BatchedReader<EcsSnapshotGroup>;
  snapshots: BatchedReader<EcsSnapshot>;
  invocations: BatchedReader<InvocationResult>;
}

const readers = new WeakMap<Ecs, EcsReaders>();

/**
 * One set of readers per ECS client (per process in FC), shared by every job the process works on,
 * so polls of different jobs share calls. An observation is reused for up to one poll interval: a job
 * polls once per interval anyway, so an answer that old is as good as a new one.
 */
export function ecsReaders(ecs: Ecs, clock: Clock, pollIntervalSeconds: number): EcsReaders {
  const existing = readers.get(ecs);
  if (existing) return existing;
  const ttlMs = Math.min(60_000, pollIntervalSeconds * 1000);
  const common = { ttlMs, windowMs: JOIN_WINDOW_MS, forgetAfterMs: ttlMs * 3 + 30_000, clock };
  const created: EcsReaders = {
    groups: new BatchedReader<EcsSnapshotGroup>({
      ...common,
      maxBatch: GROUPS_PER_CALL,
      fetch: (ids) => ecs.describeSnapshotGroups(ids),
      keyOf: (g) => g.snapshotGroupId,
    }),
    snapshots: new BatchedReader<EcsSnapshot>({
      ...common,
      maxBatch: SNAPSHOTS_PER_CALL,
      fetch: (ids) => ecs.describeSnapshots(ids),
      keyOf: (s) => s.snapshotId,
    }),
    invocations: new BatchedReader<InvocationResult>({
      ...common,
      maxBatch: INVOCATIONS_PER_CALL,
      fetch: (ids) => ecs.describeInvocationResults(ids),
      keyOf: (r) => r.invokeId,
    }),
  };
  readers.set(ecs, created);
  return created;
}
