import { checkRegion, type Ctx, type Handler } from './context.js';
import { EcsApiError, notFound } from './errors.js';
import type { SnapshotRecord } from './records.js';

/** Null when deleted; otherwise the error that kept it. */
function deleteOne(ctx: Ctx, s: SnapshotRecord, force: boolean): EcsApiError | null {
  const users = [...(ctx.state.disksBySourceSnapshot.get(s.snapshotId) ?? [])].filter((id) =>
    ctx.state.disks.get(id),
  );
  if (users.length > 0 && !force) {
    return new EcsApiError(
      'SnapshotCreatedDisk',
      'The snapshot has been used to create disks; set Force to delete it.',
      403,
    );
  }
  // Deleting a snapshot still being created cancels the creation (ECS documents this).
  ctx.state.removeSnapshot(s.snapshotId);
  return null;
}

const deleteSnapshot: Handler = (ctx) => {
  const id = ctx.params.required('SnapshotId');
  const force = ctx.params.bool('Force') ?? false;
  const s = ctx.state.snapshots.get(id);
  if (!s) return {};
  const err = deleteOne(ctx, s, force);
  if (err) throw err;
  return {};
};

const deleteSnapshotGroup: Handler = (ctx) => {
  checkRegion(ctx);
  const id = ctx.params.required('SnapshotGroupId');
  const g = ctx.state.groups.get(id);
  if (!g) throw notFound('InvalidSnapshotGroupId.NotFound', 'SnapshotGroupId');
  const progress = ctx.state.db.batch(() =>
    [...g.snapshotIds].map((sid) => {
      const s = ctx.state.snapshots.get(sid);
      const err = s ? deleteOne(ctx, s, false) : null;
      return {
        OperationStatus: err ? 'Failed' : 'Success',
        ErrorCode: err?.code ?? '',
        ErrorMsg: err?.message ?? '',
        RelatedItemSet: { RelatedItem: [{ Name: 'SnapshotId', Value: sid }] },
      };
    }),
  );
  return { OperationProgressSet: { OperationProgress: progress } };
};

export const snapshotDeleteActions: Record<string, Handler> = {
  DeleteSnapshot: deleteSnapshot,
  DeleteSnapshotGroup: deleteSnapshotGroup,
};
