import type { Kind, Persistence } from './persist.js';
import type {
  DiskRecord,
  InstanceRecord,
  InvocationRecord,
  SnapshotGroupRecord,
  SnapshotRecord,
  SnapshotView,
  TokenRecord,
} from './records.js';
import type { TreeStore } from './files.js';
import type { FreezeEvent, MountEvent } from './types.js';
import { addToIndex, Ordered, removeFromIndex } from './ordered.js';
import { snapshotDurationMs, snapshotView } from './snapshot-progress.js';
import { TagIndex, type TaggedType } from './tag-index.js';

export interface Settings {
  regionId: string;
  zones: string[];
  snapshotSpeedBytesPerSec: number;
  snapshotBaseMs: number;
  /** Uniform random extra duration 0..spread per snapshot (absent in state saved by older runs). */
  snapshotSpreadMs?: number;
  /** Simulated seconds per wall second for snapshot durations; 1 (absent) is real time. */
  timeScale?: number;
  groupDiskLimit: number;
  snapshotQuotaPerDisk: number;
  asyncOperationMs: number;
  agentDeliveryTimeoutMs: number;
}

/** A disk being attached or detached is listed under the instance, as ECS shows it. */
function owners(d: DiskRecord): string[] {
  const out: string[] = [];
  if (d.instanceId) out.push(d.instanceId);
  const next = d.pending?.then.instanceId;
  if (next && next !== d.instanceId) out.push(next);
  return out;
}

/**
 * The whole inventory in memory with the indexes the actions need, written through to SQLite.
 * Transitions (Attaching, Starting, snapshot progress...) are functions of time, settled on read.
 */
export class EcsState {
  readonly instances = new Ordered<InstanceRecord>();
  readonly disks = new Ordered<DiskRecord>();
  readonly snapshots = new Ordered<SnapshotRecord>();
  readonly groups = new Ordered<SnapshotGroupRecord>();
  readonly invocations = new Ordered<InvocationRecord>();
  readonly tokens = new Map<string, TokenRecord>();

  readonly disksByInstance = new Map<string, Set<string>>();
  readonly snapshotsByDisk = new Map<string, Set<string>>();
  readonly groupsByInstance = new Map<string, Set<string>>();
  /** Disks created from a snapshot (they block DeleteSnapshot without Force). */
  readonly disksBySourceSnapshot = new Map<string, Set<string>>();
  private readonly tagIndex = new TagIndex();

  readonly freezeLog: FreezeEvent[] = [];
  readonly mountLog: MountEvent[] = [];
  readonly frozen = new Map<string, { instanceId: string; mountPoint: string; since: number }>();

  constructor(
    readonly db: Persistence,
    readonly trees: TreeStore,
    readonly settings: Settings,
  ) {}

  load(): void {
    const byCreation = <T>(rows: T[], at: (r: T) => number): T[] => rows.sort((a, b) => at(a) - at(b));
    for (const r of byCreation(this.db.loadAll<InstanceRecord>('instance'), (r) => r.creationTime))
      this.putInstance(r, false);
    for (const r of byCreation(this.db.loadAll<DiskRecord>('disk'), (r) => r.creationTime))
      this.putDisk(r, false);
    for (const r of byCreation(this.db.loadAll<SnapshotRecord>('snapshot'), (r) => r.createdAt))
      this.putSnapshot(r, false);
    for (const r of byCreation(this.db.loadAll<SnapshotGroupRecord>('group'), (r) => r.createdAt))
      this.putGroup(r, false);
    for (const r of byCreation(this.db.loadAll<InvocationRecord>('invocation'), (r) => r.createdAt)) {
      for (const inst of r.instances) {
        if (inst.status === 'Running' || (inst.status === 'Pending' && inst.abortAt === null)) {
          inst.status = 'Error';
          inst.errorCode = 'InstanceRestarted';
          inst.errorInfo = 'the command execution got an exception: the emulator restarted';
          inst.finishTime = inst.finishTime ?? inst.startTime;
        }
      }
      this.invocations.set(r.invokeId, r);
    }
    for (const t of this.db.loadAll<TokenRecord>('token')) this.tokens.set(t.key, t);
    const meta = this.db.loadAll<{ id: string; value: unknown }>('meta');
    for (const m of meta) {
      if (m.id === 'settings') Object.assign(this.settings, m.value as Partial<Settings>);
    }
  }

  isEmpty(): boolean {
    return this.instances.size === 0 && this.disks.size === 0 && this.snapshots.size === 0;
  }

  saveSettings(): void {
    this.db.put('meta', 'settings', { id: 'settings', value: this.settings });
  }

  persist(kind: Kind, id: string, value: unknown): void {
    this.db.put(kind, id, value);
  }

  // ---- tags and secondary indexes ----

  /**
   * Records are mutated in place, so what was indexed is remembered separately and replaced
   * as a whole on every put.
   */
  private readonly indexed = new Map<
    string,
    { tagKeys: string[]; owners: string[]; source: string | null }
  >();

  private reindex(
    type: TaggedType,
    id: string,
    next: { tags: Record<string, string>; owners: string[]; source: string | null } | null,
  ): void {
    const key = `${type}:${id}`;
    const prev = this.indexed.get(key);
    if (prev) {
      this.tagIndex.remove(prev.tagKeys, id);
      if (type === 'disk') {
        for (const o of prev.owners) removeFromIndex(this.disksByInstance, o, id);
        if (prev.source) removeFromIndex(this.disksBySourceSnapshot, prev.source, id);
      }
      if (type === 'snapshotgroup')
        for (const o of prev.owners) removeFromIndex(this.groupsByInstance, o, id);
      if (type === 'snapshot') for (const o of prev.owners) removeFromIndex(this.snapshotsByDisk, o, id);
    }
    if (!next) {
      this.indexed.delete(key);
      return;
    }
    const tagKeys = this.tagIndex.add(type, id, next.tags);
    if (type === 'disk') {
      for (const o of next.owners) addToIndex(this.disksByInstance, o, id);
      if (next.source) addToIndex(this.disksBySourceSnapshot, next.source, id);
    }
    if (type === 'snapshotgroup') for (const o of next.owners) addToIndex(this.groupsByInstance, o, id);
    if (type === 'snapshot') for (const o of next.owners) addToIndex(this.snapshotsByDisk, o, id);
    this.indexed.set(key, { tagKeys, owners: next.owners, source: next.source });
  }

  /** Ids carrying every tag (a tag without value matches any value); null = no filter. Read-only. */
  idsWithTags(
    type: TaggedType,
    tags: { key: string; value: string | undefined }[],
  ): ReadonlySet<string> | null {
    return this.tagIndex.idsWithTags(type, tags);
  }

  // ---- puts (index maintenance + persistence) ----

  putInstance(r: InstanceRecord, persist = true): void {
    this.reindex('instance', r.instanceId, { tags: r.tags, owners: [], source: null });
    this.instances.set(r.instanceId, r);
    if (persist) this.persist('instance', r.instanceId, r);
  }

  removeInstance(instanceId: string): void {
    if (!this.instances.get(instanceId)) return;
    this.reindex('instance', instanceId, null);
    this.instances.delete(instanceId);
    this.db.delete('instance', instanceId);
  }

  putDisk(r: DiskRecord, persist = true): void {
    this.reindex('disk', r.diskId, { tags: r.tags, owners: owners(r), source: r.sourceSnapshotId });
    this.disks.set(r.diskId, r);
    if (persist) this.persist('disk', r.diskId, r);
  }

  removeDisk(diskId: string): void {
    if (!this.disks.get(diskId)) return;
    this.reindex('disk', diskId, null);
    this.disks.delete(diskId);
    this.db.delete('disk', diskId);
  }

  putSnapshot(r: SnapshotRecord, persist = true): void {
    this.reindex('snapshot', r.snapshotId, { tags: r.tags, owners: [r.sourceDiskId], source: null });
    this.snapshots.set(r.snapshotId, r);
    if (persist) this.persist('snapshot', r.snapshotId, r);
  }

  removeSnapshot(snapshotId: string): void {
    const r = this.snapshots.get(snapshotId);
    if (!r) return;
    this.reindex('snapshot', snapshotId, null);
    this.snapshots.delete(snapshotId);
    this.db.delete('snapshot', snapshotId);
    if (r.hasTree) this.trees.removeSnapshot(snapshotId);
    if (r.snapshotGroupId) {
      const g = this.groups.get(r.snapshotGroupId);
      if (g) {
        g.snapshotIds = g.snapshotIds.filter((id) => id !== snapshotId);
        if (g.snapshotIds.length === 0) this.removeGroup(g.snapshotGroupId);
        else this.persist('group', g.snapshotGroupId, g);
      }
    }
  }

  putGroup(r: SnapshotGroupRecord, persist = true): void {
    this.reindex('snapshotgroup', r.snapshotGroupId, {
      tags: r.tags,
      owners: r.instanceId ? [r.instanceId] : [],
      source: null,
    });
    this.groups.set(r.snapshotGroupId, r);
    if (persist) this.persist('group', r.snapshotGroupId, r);
  }

  removeGroup(groupId: string): void {
    if (!this.groups.get(groupId)) return;
    this.reindex('snapshotgroup', groupId, null);
    this.groups.delete(groupId);
    this.db.delete('group', groupId);
  }

  putInvocation(r: InvocationRecord): void {
    this.invocations.set(r.invokeId, r);
    this.persist('invocation', r.invokeId, r);
  }

  putToken(t: TokenRecord): void {
    this.tokens.set(t.key, t);
    this.persist('token', t.key, t);
  }

  // ---- lazy transitions ----

  instance(id: string, now: number): InstanceRecord | undefined {
    const r = this.instances.get(id);
    if (r && r.pending && now >= r.pending.until) {
      while (r.pending && now >= r.pending.until) {
        r.status = r.pending.then;
        r.pending = r.pending.after ?? null;
      }
      if (r.status === 'Running' && !r.pending) {
        r.everStarted = true;
        r.startTime = now;
        // The agent installed by InstallCloudAssistant starts with the next boot.
        if (r.agentInstallPending) {
          r.agentInstalled = true;
          r.agentInstallPending = false;
        }
      }
      this.persist('instance', r.instanceId, r);
    }
    return r;
  }

  disk(id: string, now: number): DiskRecord | undefined {
    const r = this.disks.get(id);
    if (r && r.pending && now >= r.pending.until) {
      const then = r.pending.then;
      r.pending = null;
      r.status = then.status;
      r.instanceId = then.instanceId;
      r.device = then.device;
      if (then.status === 'In_use') {
        r.everAttached = true;
        r.attachedTime = r.attachedTime ?? now;
      }
      this.putDisk(r);
    }
    return r;
  }

  diskStatus(r: DiskRecord): string {
    return r.pending ? r.pending.status : r.status;
  }

  disksOf(instanceId: string, now: number): DiskRecord[] {
    const ids = this.disksByInstance.get(instanceId);
    if (!ids) return [];
    const out: DiskRecord[] = [];
    for (const id of [...ids]) {
      const d = this.disk(id, now);
      if (d) out.push(d);
    }
    // System disk first, then by device name, as ECS lists them.
    return out.sort((a, b) =>
      a.type !== b.type ? (a.type === 'system' ? -1 : 1) : (a.device ?? '').localeCompare(b.device ?? ''),
    );
  }

  snapshotView(s: SnapshotRecord, now: number): SnapshotView {
    return snapshotView(s, now);
  }

  groupStatus(g: SnapshotGroupRecord, now: number): 'progressing' | 'accomplished' | 'failed' {
    let failed = false;
    for (const id of g.snapshotIds) {
      const s = this.snapshots.get(id);
      if (!s) continue;
      const v = this.snapshotView(s, now).status;
      if (v === 'progressing') return 'progressing';
      if (v === 'failed') failed = true;
    }
    return failed ? 'failed' : 'accomplished';
  }

  snapshotDurationMs(dataBytes: number): number {
    return snapshotDurationMs(this.settings, dataBytes);
  }

  guestDevice(device: string | null): string | null {
    return device === null ? null : device.replace('/dev/xvd', '/dev/vd');
  }
}
