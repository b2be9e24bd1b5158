import { checkDescription, checkName } from './snapshot-names.js';
import type { Handler } from './context.js';
import { EcsApiError, notFound } from './errors.js';
import { validateTagsForWrite } from './params.js';
import type { SnapshotRecord } from './records.js';
import { newId } from './ecs-format.js';

/**
 * CopySnapshot (API 2014-05-26): the request goes to the source region (`RegionId`), the copy is
 * made in `DestinationRegionId` and starts `progressing`, taking as long as a snapshot of the same
 * data would (the snapshot speed setting), and can fail part-way (`failCopy`). Encryption as ECS
 * documents it: a copy of an encrypted snapshot stays encrypted; `Encrypted=true` encrypts the copy
 * of an unencrypted one (with `KMSKeyId`, a key of the destination region, or the service key).
 * A copy belongs to no disk of its region: it can make disks there but roll back none.
 * Error codes and statuses as the CopySnapshot API reference lists them (a same-region copy is
 * `InvalidOperation.NotSupportCopyInSameRegion`, a key without encryption
 * `InvalidEncrypted.NotMatchKmsKeyId`, both 403).
 */
const copySnapshot: Handler = (ctx) => {
  const p = ctx.params;
  const sourceRegion = p.required('RegionId');
  const snapshotId = p.required('SnapshotId');
  const destinationRegion = p.required('DestinationRegionId');
  const name = p.required('DestinationSnapshotName');
  checkName(name, 'InvalidSnapshotName.Malformed', 'DestinationSnapshotName', true);
  const description = p.str('DestinationSnapshotDescription');
  checkDescription(description);
  const retentionDays = p.int('RetentionDays', 1, 65536) ?? null;
  const tags = validateTagsForWrite(p.tags());
  const encrypt = p.bool('Encrypted');
  const kmsKeyId = p.str('KMSKeyId');

  const source = ctx.state.snapshots.get(snapshotId);
  if (!source) throw notFound('InvalidSnapshotId.NotFound', `SnapshotId ${snapshotId}`);
  const target = ctx.regions.require(destinationRegion);
  if (destinationRegion === sourceRegion) {
    throw new EcsApiError(
      'InvalidOperation.NotSupportCopyInSameRegion',
      'Copying snapshot in the same region is not supported.',
      403,
    );
  }
  if (ctx.state.snapshotView(source, ctx.now).status !== 'accomplished') {
    throw new EcsApiError(
      'IncorrectSnapshotStatus',
      'The current status of the snapshot does not support this operation.',
      403,
    );
  }
  const encrypted = (source.encrypted ?? false) || encrypt === true;
  if (kmsKeyId !== undefined && !encrypted) {
    throw new EcsApiError(
      'InvalidEncrypted.NotMatchKmsKeyId',
      'The specified parameter Encrypted must be true when KmsKeyId is not empty.',
      403,
    );
  }
  let copies = 0;
  for (const id of target.snapshotsByDisk.get(source.sourceDiskId) ?? [])
    if (target.snapshots.get(id)) copies += 1;
  if (copies >= target.settings.snapshotQuotaPerDisk) {
    throw new EcsApiError(
      'QuotaExceed.Snapshot',
      'The maximum number of snapshots of the disk is exceeded.',
      403,
    );
  }

  const copyId = newId('s-');
  const copy = target.db.batch(() => {
    if (source.hasTree) target.trees.importSnapshot(ctx.state.trees, snapshotId, copyId);
    const dataBytes = source.dataBytes;
    const failAt =
      ctx.faults.snapshotFailures.get(`copy:${snapshotId}`) ?? ctx.faults.snapshotFailures.get('copy:*');
    ctx.faults.snapshotFailures.delete(
      ctx.faults.snapshotFailures.has(`copy:${snapshotId}`) ? `copy:${snapshotId}` : 'copy:*',
    );
    const record: SnapshotRecord = {
      snapshotId: copyId,
      snapshotName: name,
      description: description ?? '',
      sourceDiskId: source.sourceDiskId,
      sourceDiskType: source.sourceDiskType,
      sourceDiskSizeGiB: source.sourceDiskSizeGiB,
      sourceDiskCategory: source.sourceDiskCategory,
      instanceId: null,
      snapshotGroupId: null,
      createdAt: ctx.now,
      // Timed by the source region's speed setting: the request (and the tests' knob) is there.
      durationMs: ctx.state.snapshotDurationMs(dataBytes),
      completedAt: null,
      failAtPercent: failAt ?? null,
      retentionDays,
      dataBytes,
      tags,
      hasTree: source.hasTree,
      encrypted,
      kmsKeyId: encrypted ? (kmsKeyId ?? source.kmsKeyId ?? null) : null,
      copiedFrom: { regionId: sourceRegion, snapshotId },
    };
    target.putSnapshot(record);
    return record;
  });
  return { SnapshotId: copy.snapshotId };
};

export const copyActions: Record<string, Handler> = { CopySnapshot: copySnapshot };
