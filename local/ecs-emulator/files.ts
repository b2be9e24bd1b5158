import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { EcsApiError } from './errors.js';
import { damageFile } from './fs-damage.js';
import type { FileEntry, FileOwner, SeedTmpFile } from './types.js';

/**
 * Real folders behind disks, snapshots and each instance's /tmp. Contents and modes are the host
 * files'; owners are the emulator's data, kept beside each tree (`<tree>.owners.json`, path ->
 * uid, root when absent), so the emulator never needs to chown and runs as any user. Snapshots and
 * restores carry the owners with the files.
 */
export class TreeStore {
  constructor(readonly dataDir: string) {
    for (const d of ['disks', 'snapshots', 'instances'])
      fs.mkdirSync(path.join(dataDir, d), { recursive: true });
  }

  diskDir(diskId: string): string {
    return path.join(this.dataDir, 'disks', diskId);
  }

  snapshotDir(snapshotId: string): string {
    return path.join(this.dataDir, 'snapshots', snapshotId);
  }

  tmpDir(instanceId: string): string {
    return path.join(this.dataDir, 'instances', instanceId, 'tmp');
  }

  ensureDisk(diskId: string): string {
    const dir = this.diskDir(diskId);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }

  writeFiles(diskId: string, files: Record<string, string>): void {
    for (const [rel, content] of Object.entries(files))
      this.writeFile(diskId, rel, Buffer.from(content, 'utf8'));
  }

  writeFile(
    diskId: string,
    rel: string,
    content: Buffer,
    meta: { owner?: FileOwner; mode?: string | number } = {},
  ): void {
    const root = this.ensureDisk(diskId);
    const target = safeJoin(root, rel);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
    if (meta.mode !== undefined) fs.chmodSync(target, parseMode(meta.mode, 0o644));
    this.setOwner(root, rel, ownerUid(meta.owner ?? 'root'));
  }

  removeFile(diskId: string, rel: string): void {
    const root = this.diskDir(diskId);
    fs.rmSync(safeJoin(root, rel), { recursive: true, force: true });
    this.dropOwners(root, rel);
  }

  /** Recorded owners of a tree: relative path -> uid, for entries not owned by root. */
  owners(root: string): Record<string, number> {
    try {
      return JSON.parse(fs.readFileSync(ownersFile(root), 'utf8')) as Record<string, number>;
    } catch {
      return {};
    }
  }

  /** Records the owner of one entry of a tree (as `chown` in the guest would set it). */
  setOwner(root: string, rel: string, uid: number): void {
    const key = relKey(root, rel);
    const owners = this.owners(root);
    if (uid === 0) delete owners[key];
    else owners[key] = uid;
    this.saveOwners(root, owners);
  }

  private dropOwners(root: string, rel: string): void {
    const key = relKey(root, rel);
    const owners = this.owners(root);
    for (const k of Object.keys(owners)) if (k === key || k.startsWith(`${key}/`)) delete owners[k];
    this.saveOwners(root, owners);
  }

  private saveOwners(root: string, owners: Record<string, number>): void {
    const file = ownersFile(root);
    if (Object.keys(owners).length === 0) fs.rmSync(file, { force: true });
    else fs.writeFileSync(file, `${JSON.stringify(owners, null, 1)}\n`);
  }

  /** Copies a tree and its owners; the destination is replaced. */
  private copyTree(src: string, dst: string): void {
    fs.rmSync(dst, { recursive: true, force: true });
    fs.rmSync(ownersFile(dst), { force: true });
    if (!fs.existsSync(src)) {
      fs.mkdirSync(dst, { recursive: true });
      return;
    }
    fs.cpSync(src, dst, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    if (fs.existsSync(ownersFile(src))) fs.copyFileSync(ownersFile(src), ownersFile(dst));
    // A damaged file system (fs-damage.ts) stays damaged in every copy.
    fs.rmSync(damageFile(dst), { force: true });
    if (fs.existsSync(damageFile(src))) fs.copyFileSync(damageFile(src), damageFile(dst));
  }

  /** Copies the disk's tree into the snapshot folder; returns the bytes copied. */
  captureSnapshot(diskId: string, snapshotId: string): number {
    const dst = this.snapshotDir(snapshotId);
    this.copyTree(this.ensureDisk(diskId), dst);
    return treeBytes(dst);
  }

  /** Copies another region's snapshot tree into this store (CopySnapshot); returns the bytes copied. */
  importSnapshot(from: TreeStore, sourceSnapshotId: string, snapshotId: string): number {
    const dst = this.snapshotDir(snapshotId);
    this.copyTree(from.snapshotDir(sourceSnapshotId), dst);
    return treeBytes(dst);
  }

  /** Replaces the disk's tree with the snapshot's (CreateDisk from snapshot, ResetDisk). */
  restoreSnapshot(snapshotId: string, diskId: string): void {
    this.copyTree(this.snapshotDir(snapshotId), this.diskDir(diskId));
  }

  removeDisk(diskId: string): void {
    fs.rmSync(this.diskDir(diskId), { recursive: true, force: true });
    fs.rmSync(ownersFile(this.diskDir(diskId)), { force: true });
    fs.rmSync(damageFile(this.diskDir(diskId)), { force: true });
  }

  removeSnapshot(snapshotId: string): void {
    fs.rmSync(this.snapshotDir(snapshotId), { recursive: true, force: true });
    fs.rmSync(ownersFile(this.snapshotDir(snapshotId)), { force: true });
    fs.rmSync(damageFile(this.snapshotDir(snapshotId)), { force: true });
  }

  /** Files of a tree with their size, digest, mode and recorded owner. */
  list(root: string): FileEntry[] {
    const owners = this.owners(root);
    return listTree(root).map((f) => ({ ...f, owner: owners[f.path] ?? 0 }));
  }

  bytes(diskId: string): number {
    const dir = this.diskDir(diskId);
    return fs.existsSync(dir) ? treeBytes(dir) : 0;
  }

  ensureTmp(instanceId: string): string {
    const dir = this.tmpDir(instanceId);
    fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(dir, 0o1777);
    return dir;
  }

  /**
   * Mode and symlinks are real and the owner is recorded, so the guest script's checks see what a
   * VM would show (the sandbox applies the owner).
   */
  setTmpFile(instanceId: string, spec: SeedTmpFile): void {
    const root = this.ensureTmp(instanceId);
    const target = safeJoin(root, spec.path);
    const mode = parseMode(spec.mode, spec.path.endsWith('.sh') ? 0o755 : 0o644);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.rmSync(target, { force: true, recursive: true });
    this.dropOwners(root, spec.path);
    if (spec.symlink !== undefined) fs.symlinkSync(spec.symlink, target);
    else {
      fs.writeFileSync(target, spec.content ?? '');
      fs.chmodSync(target, mode);
    }
    this.setOwner(root, spec.path, ownerUid(spec.owner ?? 'root'));
  }

  removeTmpFile(instanceId: string, rel: string): void {
    const root = this.tmpDir(instanceId);
    fs.rmSync(safeJoin(root, rel), { force: true, recursive: true });
    this.dropOwners(root, rel);
  }
}

function ownersFile(root: string): string {
  return `${root}.owners.json`;
}

function relKey(root: string, rel: string): string {
  return path.relative(root, safeJoin(root, rel)).split(path.sep).join('/');
}

export function ownerUid(owner: FileOwner): number {
  if (owner === 'root') return 0;
  if (owner === 'user') return 1000;
  return owner;
}

export function parseMode(mode: string | number | undefined, fallback: number): number {
  if (mode === undefined) return fallback;
  if (typeof mode === 'number') return mode;
  if (!/^0?[0-7]{3,4}$/.test(mode)) throw new EcsApiError('InvalidMode', `Mode ${mode} is not octal.`, 400);
  return parseInt(mode, 8);
}

/** Joins a relative path under root, refusing anything that would escape it. */
export function safeJoin(root: string, rel: string): string {
  const target = path.resolve(root, rel.replace(/^\/+/, ''));
  if (target !== root && !target.startsWith(root + path.sep)) {
    throw new EcsApiError('InvalidPath', `Path ${rel} leaves the tree.`, 400);
  }
  return target;
}

export function treeBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}

export function listTree(dir: string): FileEntry[] {
  if (!fs.existsSync(dir)) return [];
  const out: FileEntry[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    const data = fs.readFileSync(full);
    out.push({
      path: path.relative(dir, full).split(path.sep).join('/'),
      size: data.length,
      sha256: createHash('sha256').update(data).digest('hex'),
      mode: (fs.statSync(full).mode & 0o7777).toString(8).padStart(4, '0'),
      owner: 0,
    });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
