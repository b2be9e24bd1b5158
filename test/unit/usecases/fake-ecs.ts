import { ecsErrorFor } from '../../../lib/adapters/ecs/errors.js';
import {
  type CopySnapshotRequest,
  type CreateDiskRequest,
  type CreateImageRequest,
  type EcsImage,
  type EcsVSwitch,
  type RunInstanceRequest,
  type CreateSnapshotGroupRequest,
  type CreateSnapshotRequest,
  type Ecs,
  type EcsDisk,
  type EcsInstance,
  type EcsSnapshot,
  type EcsSnapshotGroup,
  type InvocationResult,
  type RunCommandRequest,
  type Tag,
} from '../../../lib/ports/ecs.js';

type Method = keyof Ecs;

interface GuestBehaviour {
  /** Result lines the guest prints (`ECSB` lines); the group is created when `createsGroup`. */
  consistency: 'application' | 'filesystem' | 'crash';
  reason?: string;
  freezeMs?: number;
  preExit?: number;
  createsGroup?: boolean;
  status?: InvocationResult['status'];
  errorCode?: string | null;
  /** What a verify script says (`ECSB verify_*` lines); passed when not set. */
  verify?: { result: 'passed' | 'failed'; reason: string };
}

/**
 * An in-memory ECS for use-case tests: instances and disks, snapshot groups and snapshots whose
 * progress advances when told, ClientToken idempotency, call counting and scripted failures.
 */
export class FakeEcs implements Ecs {
  /** Other regions' inventories, made on first use (ids there start at `seq` 10,000,000 per region). */
  readonly regions = new Map<string, FakeEcs>();

  constructor(
    readonly regionId = 'cn-test',
    private seq = 0,
  ) {}

  readonly calls: Record<string, number> = {};
  instances = new Map<string, EcsInstance & { agent: boolean }>();
  disks = new Map<string, EcsDisk>();
  groups = new Map<string, EcsSnapshotGroup>();
  snapshots = new Map<string, EcsSnapshot>();
  invocations = new Map<string, InvocationResult>();
  private tokens = new Map<string, { params: string; id: string }>();
  private presigned = new Map<string, CreateSnapshotGroupRequest>();
  private failures: { method: Method; err: Error; remaining: number }[] = [];
  /** Probability [0, 1) that any call is throttled. */
  throttleFraction = 0;
  /** Snapshots complete after this many describe calls saw them progressing; 0 = complete at once. */
  describesToComplete = 1;
  guest: GuestBehaviour = { consistency: 'application', freezeMs: 120, preExit: 0, createsGroup: true };
  /** Snapshots that back an image: deleting them fails as ECS does. */
  usedByImage = new Set<string>();

  id(prefix: string): string {
    this.seq += 1;
    return `${prefix}${String(this.seq).padStart(8, '0')}`;
  }

  addInstance(
    options: {
      os?: 'linux' | 'windows';
      categories?: string[];
      status?: EcsInstance['status'];
      agent?: boolean;
    } = {},
  ) {
    const instanceId = this.id('i-fake');
    this.instances.set(instanceId, {
      instanceId,
      instanceName: instanceId,
      status: options.status ?? 'Running',
      osType: options.os ?? 'linux',
      osName: 'test',
      zoneId: 'cn-test-a',
      regionId: this.regionId,
      tags: [],
      agent: options.agent ?? true,
      instanceType: 'ecs.g7.large',
      vSwitchId: 'vsw-fake-a',
      securityGroupIds: ['sg-fake'],
    });
    const diskIds = (options.categories ?? ['cloud_essd', 'cloud_essd']).map((category, i) =>
      this.addDisk(instanceId, category, i === 0 ? 'system' : 'data'),
    );
    return { instanceId, diskIds };
  }

  addDisk(instanceId: string, category = 'cloud_essd', type: 'system' | 'data' = 'data'): string {
    const diskId = this.id('d-fake');
    this.disks.set(diskId, {
      diskId,
      diskName: diskId,
      instanceId,
      zoneId: 'cn-test-a',
      type,
      category,
      sizeGiB: 40,
      status: 'In_use',
      device: `/dev/vd${this.disks.size}`,
      tags: [],
      sourceSnapshotId: null,
    });
    return diskId;
  }

  failNext(method: Method, code: string | Error, count = 1, retryable = false): void {
    const err =
      typeof code === 'string'
        ? ecsErrorFor(code, `${code} (injected)`, { statusCode: retryable ? 503 : 400 })
        : code;
    this.failures.push({ method, err, remaining: count });
  }

  clearFailures(): void {
    this.failures = [];
  }

  completeAll(): void {
    for (const s of this.snapshots.values())
      if (s.status === 'progressing') Object.assign(s, { status: 'accomplished', progress: 100 });
    for (const g of this.groups.values()) this.refreshGroup(g);
  }

  totalCalls(): number {
    return Object.values(this.calls).reduce((a, b) => a + b, 0);
  }

  private enter(method: Method): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
    if (this.throttleFraction > 0 && Math.random() < this.throttleFraction) {
      throw ecsErrorFor('Throttling.User', 'Request was denied due to user flow control.', {
        statusCode: 400,
      });
    }
    const f = this.failures.find((x) => x.method === method && x.remaining > 0);
    if (f) {
      f.remaining -= 1;
      throw f.err;
    }
  }

  private idempotent(token: string, params: unknown, create: () => string): string {
    const key = JSON.stringify(params);
    const seen = this.tokens.get(token);
    if (seen) {
      if (seen.params !== key)
        throw ecsErrorFor('IdempotentParameterMismatch', 'token reused', { statusCode: 400 });
      return seen.id;
    }
    const id = create();
    this.tokens.set(token, { params: key, id });
    return id;
  }

  private refreshGroup(g: EcsSnapshotGroup): void {
    const live = g.snapshots.map((s) => this.snapshots.get(s.snapshotId) ?? s);
    g.snapshots = live;
    g.status = live.some((s) => s.status === 'failed')
      ? 'failed'
      : live.every((s) => s.status === 'accomplished')
        ? 'accomplished'
        : 'progressing';
  }

  /** Snapshots of these disks fail part-way (ECS reports them failed at 40 %). */
  failingDisks = new Set<string>();

  private observe(s: EcsSnapshot & { seen?: number }): void {
    if (s.status !== 'progressing') return;
    if (this.failingCopyIds.has(s.snapshotId)) {
      Object.assign(s, { status: 'failed', progress: 30 });
      return;
    }
    if (this.failingDisks.has(s.sourceDiskId)) {
      Object.assign(s, { status: 'failed', progress: 40 });
      return;
    }
    s.seen = (s.seen ?? 0) + 1;
    if (s.seen >= this.describesToComplete) Object.assign(s, { status: 'accomplished', progress: 100 });
    else s.progress = 50;
  }

  private newSnapshot(diskId: string, name: string, tags: Tag[]): EcsSnapshot {
    const disk = this.disks.get(diskId);
    if (!disk) throw ecsErrorFor('InvalidDiskId.NotFound', `disk ${diskId} not found`, { statusCode: 404 });
    for (const s of this.snapshots.values()) {
      if (s.sourceDiskId === diskId && s.status === 'progressing') {
        throw ecsErrorFor('IncorrectDiskStatus.CreatingSnapshot', 'a snapshot is being created', {
          statusCode: 403,
        });
      }
    }
    const snap: EcsSnapshot = {
      snapshotId: this.id('s-fake'),
      snapshotName: name,
      sourceDiskId: diskId,
      sourceDiskType: disk.type,
      sourceDiskSizeGiB: disk.sizeGiB,
      status: this.describesToComplete === 0 ? 'accomplished' : 'progressing',
      progress: this.describesToComplete === 0 ? 100 : 0,
      createdAt: 0,
      tags: [...tags],
      usage: 'none',
    };
    this.snapshots.set(snap.snapshotId, snap);
    return snap;
  }

  /** ECS refuses every snapshot group (as it does for disk categories it cannot group). */
  refuseGroups = false;

  private createGroupNow(request: CreateSnapshotGroupRequest): string {
    if (this.refuseGroups) {
      throw ecsErrorFor('DiskCategory.OperationNotSupported', 'no snapshot group for these disks', {
        statusCode: 403,
      });
    }
    for (const diskId of request.diskIds) {
      const disk = this.disks.get(diskId);
      if (disk && !['cloud_essd', 'cloud_auto', 'cloud_essd_entry'].includes(disk.category)) {
        throw ecsErrorFor('DiskCategory.OperationNotSupported', `${diskId} is ${disk.category}`, {
          statusCode: 400,
        });
      }
    }
    const snapshots = request.diskIds.map((d) => this.newSnapshot(d, request.name, request.tags));
    const group: EcsSnapshotGroup = {
      snapshotGroupId: this.id('ssg-fake'),
      instanceId: request.instanceId,
      status: 'progressing',
      snapshots,
      tags: [...request.tags],
    };
    this.refreshGroup(group);
    this.groups.set(group.snapshotGroupId, group);
    return group.snapshotGroupId;
  }

  async describeInstances(ids?: string[]): Promise<EcsInstance[]> {
    this.enter('describeInstances');
    return [...this.instances.values()].filter((i) => !ids || ids.includes(i.instanceId));
  }

  async describeInstancesByTags(tags: Tag[], zoneId?: string): Promise<EcsInstance[]> {
    this.enter('describeInstancesByTags');
    return [...this.instances.values()].filter(
      (i) =>
        (zoneId === undefined || i.zoneId === zoneId) &&
        tags.every((t) => i.tags.some((it) => it.key === t.key && it.value === t.value)),
    );
  }

  async describeInstanceDisks(instanceId: string): Promise<EcsDisk[]> {
    this.enter('describeInstanceDisks');
    return [...this.disks.values()].filter((d) => d.instanceId === instanceId);
  }

  async describeDisks(ids: string[]): Promise<EcsDisk[]> {
    this.enter('describeDisks');
    const out = ids.flatMap((id) => (this.disks.has(id) ? [structuredClone(this.disks.get(id)!)] : []));
    for (const id of ids) {
      const disk = this.disks.get(id);
      if (disk && this.reIniting.delete(id)) disk.status = 'In_use';
      if (disk?.status === 'Creating' && !this.holdDisksCreating) disk.status = 'Available';
    }
    return out;
  }

  async createSnapshotGroup(request: CreateSnapshotGroupRequest): Promise<string> {
    this.enter('createSnapshotGroup');
    const { clientToken, ...params } = request;
    return this.idempotent(clientToken, params, () => this.createGroupNow(request));
  }

  async presignCreateSnapshotGroup(request: CreateSnapshotGroupRequest): Promise<string> {
    this.enter('presignCreateSnapshotGroup');
    const url = `http://fake-ecs/presigned/${this.id('p')}`;
    this.presigned.set(url, request);
    return url;
  }

  async describeSnapshotGroups(ids: string[]): Promise<EcsSnapshotGroup[]> {
    this.enter('describeSnapshotGroups');
    if (ids.length > 10) throw ecsErrorFor('InvalidParameter', 'at most 10 ids', { statusCode: 400 });
    const out: EcsSnapshotGroup[] = [];
    for (const id of ids) {
      const g = this.groups.get(id);
      if (!g) continue;
      for (const s of g.snapshots) this.observe(this.snapshots.get(s.snapshotId) ?? s);
      this.refreshGroup(g);
      out.push(structuredClone(g));
    }
    return out;
  }

  async findSnapshotGroupsByTag(tag: Tag, instanceId?: string): Promise<EcsSnapshotGroup[]> {
    this.enter('findSnapshotGroupsByTag');
    return [...this.groups.values()]
      .filter(
        (g) =>
          (!instanceId || g.instanceId === instanceId) &&
          g.tags.some((t) => t.key === tag.key && t.value === tag.value),
      )
      .map((g) => structuredClone(g));
  }

  async deleteSnapshotGroup(id: string): Promise<void> {
    this.enter('deleteSnapshotGroup');
    const g = this.groups.get(id);
    if (!g) return;
    const kept = g.snapshots.filter((s) => this.usedByImage.has(s.snapshotId));
    for (const s of g.snapshots) if (!kept.includes(s)) this.snapshots.delete(s.snapshotId);
    if (kept.length > 0) {
      g.snapshots = kept;
      throw ecsErrorFor('SnapshotCreatedImage', `snapshot ${kept[0]!.snapshotId} backs an image`, {
        statusCode: 200,
      });
    }
    this.groups.delete(id);
  }

  async createSnapshot(request: CreateSnapshotRequest): Promise<string> {
    this.enter('createSnapshot');
    const { clientToken, ...params } = request;
    return this.idempotent(
      clientToken,
      params,
      () => this.newSnapshot(request.diskId, request.name, request.tags).snapshotId,
    );
  }

  async describeSnapshots(ids: string[]): Promise<EcsSnapshot[]> {
    this.enter('describeSnapshots');
    const out: EcsSnapshot[] = [];
    for (const id of ids) {
      const s = this.snapshots.get(id);
      if (!s) continue;
      this.observe(s);
      out.push(structuredClone(s));
    }
    return out;
  }

  async findSnapshotsByTag(tag: Tag, diskId?: string): Promise<EcsSnapshot[]> {
    this.enter('findSnapshotsByTag');
    return [...this.snapshots.values()].filter(
      (s) =>
        (!diskId || s.sourceDiskId === diskId) &&
        s.tags.some((t) => t.key === tag.key && t.value === tag.value),
    );
  }

  forRegion(regionId: string): FakeEcs {
    if (regionId === this.regionId) return this;
    let view = this.regions.get(regionId);
    if (!view) {
      view = new FakeEcs(regionId, (this.regions.size + 1) * 10_000_000);
      view.describesToComplete = this.describesToComplete;
      this.regions.set(regionId, view);
    }
    return view;
  }

  /** Source snapshot -> how many of its next copies fail part-way (at 30 %). */
  failingCopies = new Map<string, number>();

  async copySnapshot(request: CopySnapshotRequest): Promise<string> {
    this.enter('copySnapshot');
    const { clientToken, ...params } = request;
    return this.idempotent(clientToken, params, () => {
      const source = this.snapshots.get(request.snapshotId);
      if (!source)
        throw ecsErrorFor('InvalidSnapshotId.NotFound', `snapshot ${request.snapshotId}`, {
          statusCode: 404,
        });
      if (source.status !== 'accomplished')
        throw ecsErrorFor('IncorrectSnapshotStatus', 'source not accomplished', { statusCode: 403 });
      if (request.destinationRegionId === this.regionId)
        throw ecsErrorFor('InvalidOperation.NotSupportCopyInSameRegion', 'same region', {
          statusCode: 403,
        });
      const target = this.forRegion(request.destinationRegionId);
      const copy: EcsSnapshot = {
        ...structuredClone(source),
        snapshotId: target.id('s-copy'),
        snapshotName: request.name,
        status: target.describesToComplete === 0 ? 'accomplished' : 'progressing',
        progress: target.describesToComplete === 0 ? 100 : 0,
        tags: [...request.tags],
      };
      const failures = this.failingCopies.get(source.snapshotId) ?? 0;
      if (failures > 0) {
        this.failingCopies.set(source.snapshotId, failures - 1);
        target.failingCopyIds.add(copy.snapshotId);
      }
      target.snapshots.set(copy.snapshotId, copy);
      return copy.snapshotId;
    });
  }

  /** Copies made here that fail at their next observation. */
  private failingCopyIds = new Set<string>();

  async deleteSnapshot(id: string): Promise<void> {
    this.enter('deleteSnapshot');
    if (this.usedByImage.has(id))
      throw ecsErrorFor('SnapshotCreatedImage', `snapshot ${id} backs an image`, { statusCode: 403 });
    this.snapshots.delete(id);
  }

  /** Disks this fake created with CreateDisk (each counted once, whatever the retries). */
  createdDisks = 0;
  /** While set, new disks stay Creating (a slow CreateDisk); they become Available once it is cleared. */
  holdDisksCreating = false;
  private reIniting = new Set<string>();

  async createDisk(request: CreateDiskRequest): Promise<string> {
    this.enter('createDisk');
    const { clientToken, ...params } = request;
    return this.idempotent(clientToken, params, () => {
      const snap = this.snapshots.get(request.snapshotId);
      if (!snap) {
        throw ecsErrorFor('InvalidSnapshotId.NotFound', `snapshot ${request.snapshotId}`, {
          statusCode: 404,
        });
      }
      const diskId = this.id('d-new');
      this.disks.set(diskId, {
        diskId,
        diskName: request.name,
        instanceId: null,
        zoneId: request.zoneId,
        type: 'data',
        category: request.category,
        sizeGiB: snap.sourceDiskSizeGiB,
        status: this.holdDisksCreating ? 'Creating' : 'Available',
        device: null,
        tags: [...request.tags],
        sourceSnapshotId: request.snapshotId,
      });
      this.createdDisks += 1;
      return diskId;
    });
  }

  private diskOrThrow(diskId: string): EcsDisk {
    const disk = this.disks.get(diskId);
    if (!disk) throw ecsErrorFor('InvalidDiskId.NotFound', `disk ${diskId}`, { statusCode: 404 });
    return disk;
  }

  async attachDisk(diskId: string, instanceId: string): Promise<void> {
    this.enter('attachDisk');
    const disk = this.diskOrThrow(diskId);
    if (disk.status !== 'Available') {
      throw ecsErrorFor('IncorrectDiskStatus', `disk ${diskId} is ${disk.status}`, { statusCode: 403 });
    }
    const used = [...this.disks.values()].filter((d) => d.instanceId === instanceId).length;
    Object.assign(disk, { status: 'In_use', instanceId, device: `/dev/vd${'abcdefghij'[used] ?? 'z'}` });
  }

  async detachDisk(diskId: string, instanceId: string): Promise<void> {
    this.enter('detachDisk');
    const disk = this.diskOrThrow(diskId);
    if (disk.instanceId !== instanceId) {
      throw ecsErrorFor('IncorrectDiskStatus', `disk ${diskId} is not on ${instanceId}`, { statusCode: 403 });
    }
    Object.assign(disk, { status: 'Available', instanceId: null, device: null });
  }

  async deleteDisk(diskId: string): Promise<void> {
    this.enter('deleteDisk');
    const disk = this.disks.get(diskId);
    if (!disk) return;
    if (disk.status !== 'Available') {
      throw ecsErrorFor('IncorrectDiskStatus', `disk ${diskId} is ${disk.status}`, { statusCode: 403 });
    }
    this.disks.delete(diskId);
  }

  /** The disk reads ReIniting once, then is back In_use with the snapshot's data. */
  async resetDisk(diskId: string, snapshotId: string): Promise<void> {
    this.enter('resetDisk');
    const disk = this.diskOrThrow(diskId);
    const instance = disk.instanceId ? this.instances.get(disk.instanceId) : undefined;
    if (instance?.status !== 'Stopped') {
      throw ecsErrorFor('IncorrectInstanceStatus', `instance of ${diskId} is not Stopped`, {
        statusCode: 403,
      });
    }
    if (!this.snapshots.has(snapshotId)) {
      throw ecsErrorFor('InvalidSnapshotId.NotFound', `snapshot ${snapshotId}`, { statusCode: 404 });
    }
    this.resets += 1;
    disk.status = 'ReIniting';
    this.reIniting.add(diskId);
  }

  resets = 0;

  async startInstance(instanceId: string): Promise<void> {
    this.enter('startInstance');
    const i = this.instances.get(instanceId);
    if (i?.status !== 'Stopped') {
      throw ecsErrorFor('IncorrectInstanceStatus', `instance ${instanceId} is ${i?.status}`, {
        statusCode: 403,
      });
    }
    i.status = 'Running';
  }

  async stopInstance(instanceId: string): Promise<void> {
    this.enter('stopInstance');
    const i = this.instances.get(instanceId);
    if (i?.status !== 'Running') {
      throw ecsErrorFor('IncorrectInstanceStatus', `instance ${instanceId} is ${i?.status}`, {
        statusCode: 403,
      });
    }
    i.status = 'Stopped';
  }

  async cloudAssistantStatus(ids: string[]): Promise<Record<string, boolean>> {
    this.enter('cloudAssistantStatus');
    return Object.fromEntries(ids.map((id) => [id, this.instances.get(id)?.agent ?? false]));
  }

  async installCloudAssistant(): Promise<void> {
    this.enter('installCloudAssistant');
  }

  /** Runs the "guest" at once: the presigned request in the script creates the group, as the real script does. */
  async runCommand(request: RunCommandRequest): Promise<{ invokeId: string }> {
    this.enter('runCommand');
    const url = /https?:\/\/fake-ecs\/presigned\/p\d+/.exec(request.content)?.[0];
    const invokeId = this.idempotent(request.clientToken, { i: request.instanceId, c: request.content }, () =>
      this.id('t-fake'),
    );
    if (this.invocations.has(invokeId)) return { invokeId };
    const g = this.guest;
    const lines = [
      `ECSB consistency=${g.consistency}`,
      `ECSB reason=${g.reason ?? ''}`,
      `ECSB freeze_ms=${g.freezeMs ?? 'none'}`,
      `ECSB pre_exit=${g.preExit ?? 'none'}`,
      'ECSB post_exit=0',
    ];
    if (request.content.includes('ecsb-verify')) {
      lines.push(`ECSB verify_result=${g.verify?.result ?? 'passed'}`);
      lines.push(`ECSB verify_reason=${g.verify?.reason ?? 'checked'}`);
    }
    const presigned = url ? this.presigned.get(url) : undefined;
    if (g.createsGroup !== false && presigned) {
      const { clientToken, ...params } = presigned;
      const id = this.idempotent(clientToken, params, () => this.createGroupNow(presigned));
      lines.push(`ECSB snapshot_group_id=${id}`);
    } else {
      lines.push('ECSB snapshot_error=Unknown: no snapshot request was made');
    }
    const delivered = g.status !== 'Aborted';
    this.invocations.set(invokeId, {
      invokeId,
      instanceId: request.instanceId,
      status: g.status ?? 'Success',
      exitCode: delivered ? 0 : null,
      output: delivered ? `${lines.join('\n')}\n` : '',
      errorCode: g.errorCode ?? null,
      errorInfo: null,
      finishedAt: 0,
    });
    return { invokeId };
  }

  async describeInvocationResults(ids: string[]): Promise<InvocationResult[]> {
    this.enter('describeInvocationResults');
    return ids.flatMap((id) =>
      this.invocations.has(id) ? [structuredClone(this.invocations.get(id)!)] : [],
    );
  }

  // ---- images and launches (clone-instance) ----

  images = new Map<string, EcsImage>();
  /** Images and instances this fake created (each counted once, whatever the retries). */
  createdImages = 0;
  launchedInstances = 0;
  /** Instance types every zone of the fake sells. */
  instanceTypes = ['ecs.g7.large', 'ecs.g7.xlarge'];
  vSwitches: EcsVSwitch[] = [{ vSwitchId: 'vsw-fake-a', zoneId: 'cn-test-a' }];

  async createImage(request: CreateImageRequest): Promise<string> {
    this.enter('createImage');
    const { clientToken, ...params } = request;
    return this.idempotent(clientToken, params, () => {
      const snapshotIds = [request.systemSnapshotId, ...request.dataSnapshotIds];
      for (const id of snapshotIds) {
        if (!this.snapshots.has(id)) {
          throw ecsErrorFor('InvalidSnapshotId.NotFound', `snapshot ${id}`, { statusCode: 404 });
        }
      }
      const imageId = this.id('m-fake');
      this.images.set(imageId, {
        imageId,
        imageName: request.name,
        status: 'Creating',
        progress: 0,
        tags: [...request.tags],
        snapshotIds,
      });
      this.createdImages += 1;
      return imageId;
    });
  }

  /** An image reads Creating once, then Available. */
  async describeImages(ids: string[]): Promise<EcsImage[]> {
    this.enter('describeImages');
    const out: EcsImage[] = [];
    for (const id of ids) {
      const image = this.images.get(id);
      if (!image) continue;
      out.push(structuredClone(image));
      if (image.status === 'Creating') Object.assign(image, { status: 'Available', progress: 100 });
    }
    return out;
  }

  async findDisksByTag(tag: Tag): Promise<EcsDisk[]> {
    this.enter('findDisksByTag');
    return [...this.disks.values()]
      .filter((d) => d.tags.some((t) => t.key === tag.key && t.value === tag.value))
      .map((d) => structuredClone(d));
  }

  async findImagesByTag(tag: Tag): Promise<EcsImage[]> {
    this.enter('findImagesByTag');
    return [...this.images.values()]
      .filter((i) => i.tags.some((t) => t.key === tag.key && t.value === tag.value))
      .map((i) => structuredClone(i));
  }

  async deleteImage(imageId: string): Promise<void> {
    this.enter('deleteImage');
    const image = this.images.get(imageId);
    if (image?.status === 'Creating') {
      throw ecsErrorFor('IncorrectImageStatus', `image ${imageId} is Creating`, { statusCode: 403 });
    }
    this.images.delete(imageId);
  }

  /** A launched instance reads Pending, then Starting, then Running (one step a read). */
  private launching = new Set<string>();

  async runInstance(request: RunInstanceRequest): Promise<string> {
    this.enter('runInstance');
    const { clientToken, ...params } = request;
    return this.idempotent(clientToken, params, () => {
      const image = this.images.get(request.imageId);
      if (!image) throw ecsErrorFor('InvalidImageId.NotFound', request.imageId, { statusCode: 404 });
      if (image.status !== 'Available') {
        throw ecsErrorFor('IncorrectImageStatus', `image ${image.imageId} is ${image.status}`, {
          statusCode: 403,
        });
      }
      if (!this.instanceTypes.includes(request.instanceType)) {
        throw ecsErrorFor('InvalidInstanceType.ZoneNotSupported', request.instanceType, { statusCode: 403 });
      }
      const zone = this.vSwitches.find((v) => v.vSwitchId === request.vSwitchId)?.zoneId;
      if (!zone) throw ecsErrorFor('InvalidVSwitchId.NotFound', request.vSwitchId, { statusCode: 404 });
      const instanceId = this.id('i-clone');
      this.instances.set(instanceId, {
        instanceId,
        instanceName: request.instanceName ?? instanceId,
        status: 'Pending',
        osType: 'linux',
        osName: 'test',
        zoneId: zone,
        regionId: this.regionId,
        tags: [...request.tags],
        agent: true,
        instanceType: request.instanceType,
        vSwitchId: request.vSwitchId,
        securityGroupIds: [...request.securityGroupIds],
      });
      image.snapshotIds.forEach((snapshotId, i) => {
        const diskId = this.addDisk(instanceId, 'cloud_essd', i === 0 ? 'system' : 'data');
        this.disks.get(diskId)!.sourceSnapshotId = snapshotId;
      });
      this.launching.add(instanceId);
      this.launchedInstances += 1;
      return instanceId;
    });
  }

  private advanceLaunch(instance: EcsInstance): void {
    if (!this.launching.has(instance.instanceId)) return;
    if (instance.status === 'Pending') instance.status = 'Starting';
    else if (instance.status === 'Starting') {
      instance.status = 'Running';
      this.launching.delete(instance.instanceId);
    }
  }

  async findInstancesByTag(tag: Tag): Promise<EcsInstance[]> {
    this.enter('findInstancesByTag');
    return [...this.instances.values()]
      .filter((i) => i.tags.some((t) => t.key === tag.key && t.value === tag.value))
      .map((i) => structuredClone(i));
  }

  async describeInstanceAttribute(instanceId: string): Promise<EcsInstance | null> {
    this.enter('describeInstanceAttribute');
    const i = this.instances.get(instanceId);
    if (!i) return null;
    const seen = structuredClone(i);
    this.advanceLaunch(i);
    return seen;
  }

  async availableInstanceTypes(): Promise<string[]> {
    this.enter('availableInstanceTypes');
    return [...this.instanceTypes];
  }

  async describeVSwitches(ids: string[]): Promise<EcsVSwitch[]> {
    this.enter('describeVSwitches');
    return this.vSwitches.filter((v) => ids.includes(v.vSwitchId));
  }

  async deleteInstance(instanceId: string): Promise<void> {
    this.enter('deleteInstance');
    const i = this.instances.get(instanceId);
    if (!i) return;
    if (i.status !== 'Running' && i.status !== 'Stopped') {
      throw ecsErrorFor('IncorrectInstanceStatus', `instance ${instanceId} is ${i.status}`, {
        statusCode: 403,
      });
    }
    this.instances.delete(instanceId);
    for (const d of [...this.disks.values()]) if (d.instanceId === instanceId) this.disks.delete(d.diskId);
  }
}
