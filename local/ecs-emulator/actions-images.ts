import { checkRegion, dryRun, tagList, type Body, type Ctx, type Handler } from './context.js';
import { EcsApiError, missingParameter, notFound } from './errors.js';
import { pageFields, pageLimits, paginate, validateTagsForWrite } from './params.js';
import type { OsType } from './types.js';
import { iso, newId } from './ecs-format.js';
import type { EcsState } from './state.js';

/**
 * Custom images: CreateImage from a system-disk snapshot (and data-disk snapshots as its disk
 * mappings), DescribeImages, DeleteImage. An image is `Creating` with progress for twice the
 * emulator's async-operation time, then `Available`. Images live beside the rest of the state, in
 * their own rows (kind `image`), loaded on first use.
 */

export interface ImageMapping {
  snapshotId: string;
  type: 'system' | 'data';
  device: string;
  sizeGiB: number;
  category: string;
}

export interface ImageRecord {
  imageId: string;
  imageName: string;
  description: string;
  osType: OsType;
  osName: string;
  createdAt: number;
  /** When it becomes Available. */
  readyAt: number;
  mappings: ImageMapping[];
  tags: Record<string, string>;
}

/** Custom images per account and region (ECS's default quota). */
export const IMAGE_QUOTA = 100;

const images = new WeakMap<EcsState, Map<string, ImageRecord>>();

export function imagesOf(state: EcsState): Map<string, ImageRecord> {
  let map = images.get(state);
  if (!map) {
    const rows = state.db.loadAll<ImageRecord>('image').sort((a, b) => a.createdAt - b.createdAt);
    map = new Map(rows.map((r) => [r.imageId, r]));
    images.set(state, map);
  }
  return map;
}

function putImage(state: EcsState, r: ImageRecord): void {
  imagesOf(state).set(r.imageId, r);
  state.persist('image', r.imageId, r);
}

export function imageStatus(r: ImageRecord, now: number): { status: string; progress: number } {
  if (now >= r.readyAt) return { status: 'Available', progress: 100 };
  const span = Math.max(1, r.readyAt - r.createdAt);
  return { status: 'Creating', progress: Math.min(99, Math.floor(((now - r.createdAt) * 100) / span)) };
}

export function requireImage(ctx: Ctx, imageId: string): ImageRecord {
  const r = imagesOf(ctx.state).get(imageId);
  if (!r) throw notFound('InvalidImageId.NotFound', 'ImageId');
  return r;
}

function snapshotMapping(
  ctx: Ctx,
  snapshotId: string,
  type: 'system' | 'data',
  device: string,
): ImageMapping {
  const s = ctx.state.snapshots.get(snapshotId);
  if (!s) throw notFound('InvalidSnapshotId.NotFound', 'SnapshotId');
  if (ctx.state.snapshotView(s, ctx.now).status !== 'accomplished') {
    throw new EcsApiError('InvalidSnapshotId.NotReady', 'The specified snapshot has not completed yet.', 403);
  }
  return { snapshotId, type, device, sizeGiB: s.sourceDiskSizeGiB, category: s.sourceDiskCategory };
}

/** The system disk's snapshot, then the data disks' (`DiskDeviceMapping.N`, or `SnapshotId` alone). */
function mappingsOf(ctx: Ctx): ImageMapping[] {
  const p = ctx.params;
  const listed = p.objects('DiskDeviceMapping', 17);
  const single = p.str('SnapshotId');
  if (listed.length === 0) {
    if (!single) throw missingParameter('SnapshotId');
    return [snapshotMapping(ctx, single, 'system', '/dev/xvda')];
  }
  const out: ImageMapping[] = [];
  let dataIndex = 1;
  for (const m of listed) {
    const snapshotId = m['SnapshotId'];
    if (!snapshotId) throw missingParameter('DiskDeviceMapping.N.SnapshotId');
    const type = (m['DiskType'] ?? (out.length === 0 ? 'system' : 'data')) as 'system' | 'data';
    if (type !== 'system' && type !== 'data') {
      throw new EcsApiError('InvalidParameter.DiskType', 'The specified DiskType is not valid.', 400);
    }
    const device =
      m['Device'] ?? (type === 'system' ? '/dev/xvda' : `/dev/xvd${String.fromCharCode(97 + dataIndex++)}`);
    out.push(snapshotMapping(ctx, snapshotId, type, device));
  }
  if (out.filter((m) => m.type === 'system').length !== 1) {
    throw new EcsApiError(
      'InvalidParameter.DiskDeviceMapping',
      'Exactly one DiskDeviceMapping must be the system disk.',
      400,
    );
  }
  return out.sort((a, b) => (a.type === b.type ? 0 : a.type === 'system' ? -1 : 1));
}

const NAME = /^[A-Za-z\u4e00-\u9fa5][A-Za-z0-9\u4e00-\u9fa5_.:-]{1,127}$/;

const createImage: Handler = (ctx) => {
  checkRegion(ctx);
  const p = ctx.params;
  const mappings = mappingsOf(ctx);
  const name = p.str('ImageName') ?? '';
  if (name && (!NAME.test(name) || /^(aliyun|acs:|https?:\/\/)/i.test(name))) {
    throw new EcsApiError('InvalidImageName.Malformed', 'The specified ImageName is not valid.', 400);
  }
  const all = imagesOf(ctx.state);
  if (name && [...all.values()].some((r) => r.imageName === name)) {
    throw new EcsApiError(
      'InvalidImageName.Duplicated',
      'The specified Image name has already bean used.',
      400,
    );
  }
  if (all.size >= IMAGE_QUOTA) {
    throw new EcsApiError('QuotaExceed.Image', 'The maximum number of custom images is exceeded.', 403);
  }
  const tags = validateTagsForWrite(p.tags());
  dryRun(ctx);
  const system = mappings[0] as ImageMapping;
  const source = ctx.state.snapshots.get(system.snapshotId)?.instanceId;
  const from = source ? ctx.state.instances.get(source) : undefined;
  const platform = p.str('Platform') ?? '';
  const osType: OsType = from?.osType ?? (/windows/i.test(platform) ? 'windows' : 'linux');
  const imageId = newId('m-');
  putImage(ctx.state, {
    imageId,
    imageName: name || imageId,
    description: p.str('Description') ?? '',
    osType,
    osName: from?.osName ?? (platform || 'Linux'),
    createdAt: ctx.now,
    readyAt: ctx.now + 2 * ctx.state.settings.asyncOperationMs,
    mappings,
    tags,
  });
  return { ImageId: imageId };
};

function imageBody(ctx: Ctx, r: ImageRecord): Body {
  const { status, progress } = imageStatus(r, ctx.now);
  const system = r.mappings.find((m) => m.type === 'system');
  const used = [...ctx.state.instances.byId.values()].some((i) => i.imageId === r.imageId);
  return {
    ImageId: r.imageId,
    ImageName: r.imageName,
    Description: r.description,
    ImageOwnerAlias: 'self',
    Status: status,
    Progress: `${progress}%`,
    OSType: r.osType,
    OSName: r.osName,
    Platform: r.osType === 'windows' ? 'Windows Server 2022' : 'Aliyun',
    Architecture: 'x86_64',
    Size: system?.sizeGiB ?? 40,
    CreationTime: iso(r.createdAt),
    Usage: used ? 'instance' : 'none',
    IsSelfShared: '',
    DiskDeviceMappings: {
      DiskDeviceMapping: r.mappings.map((m) => ({
        SnapshotId: m.snapshotId,
        Type: m.type,
        Device: m.device,
        Size: String(m.sizeGiB),
        Format: '',
        ImportOSSBucket: '',
        ImportOSSObject: '',
      })),
    },
    Tags: tagList(r.tags, 'TagKey'),
  };
}

/** ECS lists only Available images unless `Status` names others (comma-separated). */
const describeImages: Handler = (ctx) => {
  checkRegion(ctx);
  const p = ctx.params;
  const ids = p
    .str('ImageId')
    ?.split(',')
    .map((s) => s.trim());
  if (ids && ids.length > 100) {
    throw new EcsApiError('InvalidParameter.ImageId', 'At most 100 ImageId values are allowed.', 400);
  }
  const statuses = new Set((p.str('Status') ?? 'Available').split(',').map((s) => s.trim()));
  const alias = p.str('ImageOwnerAlias');
  const tags = p.tags();
  const matching =
    alias && alias !== 'self'
      ? []
      : [...imagesOf(ctx.state).values()].filter(
          (r) =>
            (!ids || ids.includes(r.imageId)) &&
            statuses.has(imageStatus(r, ctx.now).status) &&
            tags.every((t) => t.key in r.tags && (t.value === undefined || r.tags[t.key] === t.value)),
        );
  matching.reverse();
  const page = paginate(p, matching, pageLimits(100));
  return {
    RegionId: ctx.state.settings.regionId,
    Images: { Image: page.items.map((r) => imageBody(ctx, r)) },
    ...pageFields(page),
  };
};

const deleteImage: Handler = (ctx) => {
  checkRegion(ctx);
  const r = requireImage(ctx, ctx.params.required('ImageId'));
  if (imageStatus(r, ctx.now).status === 'Creating') {
    throw new EcsApiError(
      'IncorrectImageStatus',
      'The current status of the image does not support this operation.',
      403,
    );
  }
  imagesOf(ctx.state).delete(r.imageId);
  ctx.state.db.delete('image', r.imageId);
  return {};
};

export const imageActions: Record<string, Handler> = {
  CreateImage: createImage,
  DescribeImages: describeImages,
  DeleteImage: deleteImage,
};
