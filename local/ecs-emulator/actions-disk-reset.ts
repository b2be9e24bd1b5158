import { checkRegion, dryRun, type Ctx, type Handler } from './context.js';
import {
  EcsApiError,
  incorrectDiskStatus,
  incorrectInstanceStatus,
  missingParameter,
  notFound,
} from './errors.js';
import { checkLock, checkNoSnapshotInProgress, requireDisk, requireInstance } from './preconditions.js';
import type { DiskRecord } from './records.js';

/** Shared by ResetDisk and ResetDisks: every precondition, no change. */
function checkReset(ctx: Ctx, diskId: string, snapshotId: string): DiskRecord {
  const d = requireDisk(ctx, diskId);
  const s = ctx.state.snapshots.get(snapshotId);
  if (!s) throw notFound('InvalidSnapshotId.NotFound', 'snapshot');
  if (s.sourceDiskId !== d.diskId) {
    throw new EcsApiError(
      'InvalidSnapshotId.NotBelongToDisk',
      `Snapshot ${snapshotId} was not created from disk ${diskId}.`,
      403,
    );
  }
  if (ctx.state.snapshotView(s, ctx.now).status !== 'accomplished') {
    throw new EcsApiError('InvalidSnapshot.NotReady', 'The specified snapshot has not completed yet.', 403);
  }
  const status = ctx.state.diskStatus(d);
  if (status !== 'In_use' && status !== 'Available')
    throw incorrectDiskStatus(`Disk ${diskId} is ${status}.`);
  if (d.instanceId) {
    const inst = requireInstance(ctx, d.instanceId);
    checkLock(inst);
    if (inst.status !== 'Stopped')
      throw incorrectInstanceStatus(`Instance ${inst.instanceId} must be Stopped, it is ${inst.status}.`);
  }
  checkNoSnapshotInProgress(ctx, d);
  return d;
}

function applyReset(ctx: Ctx, d: DiskRecord, snapshotId: string): void {
  ctx.state.trees.restoreSnapshot(snapshotId, d.diskId);
  d.pending = {
    status: 'ReIniting',
    until: ctx.now + ctx.state.settings.asyncOperationMs,
    then: { status: d.status, instanceId: d.instanceId, device: d.device },
  };
  ctx.state.putDisk(d);
}

const resetDisk: Handler = (ctx) => {
  const snapshotId = ctx.params.required('SnapshotId');
  const d = checkReset(ctx, ctx.params.required('DiskId'), snapshotId);
  dryRun(ctx);
  applyReset(ctx, d, snapshotId);
  return {};
};

const resetDisks: Handler = (ctx) => {
  checkRegion(ctx);
  const pairs = ctx.params.objects('Disk', 10);
  if (pairs.length === 0) throw missingParameter('Disk.1.DiskId');
  const checked = pairs.map((pair) => {
    const diskId = pair['DiskId'];
    const snapshotId = pair['SnapshotId'];
    if (!diskId) throw missingParameter('Disk.N.DiskId');
    if (!snapshotId) throw missingParameter('Disk.N.SnapshotId');
    return { d: checkReset(ctx, diskId, snapshotId), snapshotId };
  });
  dryRun(ctx);
  for (const { d, snapshotId } of checked) applyReset(ctx, d, snapshotId);
  return {
    OperationProgressSet: {
      OperationProgress: checked.map(({ d, snapshotId }) => ({
        OperationStatus: 'Success',
        ErrorCode: '',
        ErrorMsg: '',
        RelatedItemSet: {
          RelatedItem: [
            { Name: 'DiskId', Value: d.diskId },
            { Name: 'SnapshotId', Value: snapshotId },
          ],
        },
      })),
    },
  };
};

export const diskResetActions: Record<string, Handler> = {
  ResetDisk: resetDisk,
  ResetDisks: resetDisks,
};
