import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { EcsApiError } from './errors.js';
import type { FileEntry, FileOwner, SeedTmpFile } from './types.js';

/** Real folders behind disks, snapshots and each instance's /tmp. */
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

  writeFile(diskId: string, rel: string, content: Buffer): void {
    const target = safeJoin(this.ensureDisk(diskId), rel);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
  }

  removeFile(diskId: string, rel: string): void {
    fs.rmSync(safeJoin(this.diskDir(diskId), rel), { recursive: true, force: true });
  }

  /** Copies the disk's tree into the snapshot folder; returns the bytes copied. */
  captureSnapshot(diskId: string, snapshotId: string): number {
    const src = this.ensureDisk(diskId);
    const dst = this.snapshotDir(snapshotId);
    fs.rmSync(dst, { recursive: true, force: true });
    fs.cpSync(src, dst, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    return treeBytes(dst);
  }

  /** Replaces the disk's tree with the snapshot's (CreateDisk from snapshot, ResetDisk). */
  restoreSnapshot(snapshotId: string, diskId: string): void {
    const src = this.snapshotDir(snapshotId);
    const dst = this.diskDir(diskId);
    fs.rmSync(dst, { recursive: true, force: true });
    if (fs.existsSync(src)) {
      fs.cpSync(src, dst, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    } else {
      fs.mkdirSync(dst, { recursive: true });
    }
  }

  removeDisk(diskId: string): void {
    fs.rmSync(this.diskDir(diskId), { recursive: true, force: true });
  }

  removeSnapshot(snapshotId: string): void {
    fs.rmSync(this.snapshotDir(snapshotId), { recursive: true, force: true });
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

  /** Owner, mode and symlinks are real, so the guest script's checks see what a VM would show. */
  setTmpFile(instanceId: string, spec: SeedTmpFile): void {
    const target = safeJoin(this.ensureTmp(instanceId), spec.path);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.rmSync(target, { force: true, recursive: true });
    const uid = ownerUid(spec.owner ?? 'root');
    if (spec.symlink !== undefined) {
      fs.symlinkSync(spec.symlink, target);
      fs.lchownSync(target, uid, uid);
      return;
    }
    fs.writeFileSync(target, spec.content ?? '');
    fs.chownSync(target, uid, uid);
    fs.chmodSync(target, parseMode(spec.mode, spec.path.endsWith('.sh') ? 0o755 : 0o644));
  }

  removeTmpFile(instanceId: string, rel: string): void {
    fs.rmSync(safeJoin(this.tmpDir(instanceId), rel), { force: true, recursive: true });
  }
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
    });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
