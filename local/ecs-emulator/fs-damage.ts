import fs from 'node:fs';
import { EcsApiError, notFound } from './errors.js';
import { attachedDiskAt } from './guest-devices.js';
import type { InstanceRecord } from './records.js';
import type { EcsState } from './state.js';

/**
 * Damaged file systems. A snapshot's tree can be corrupted through the admin API: its file system
 * then fails a check (a note beside the tree, carried to every disk made from the snapshot as a real
 * disk's broken superblock would be), and optionally loses its files. The guest's `fsck` shim asks
 * here: the damaged disk answers as e2fsck does (exit 4, errors left uncorrected), a clean one 0, and
 * a name that is no attached disk 8 (an operational error: no such device).
 */

export const DEFAULT_DAMAGE = 'Superblock has an invalid journal (inode 8); the file system has errors';

/** The note beside a tree (`<tree>.damage`), as its owners live in `<tree>.owners.json`. */
export function damageFile(treeDir: string): string {
  return `${treeDir}.damage`;
}

export function readDamage(treeDir: string): string | null {
  try {
    return fs.readFileSync(damageFile(treeDir), 'utf8').trim() || DEFAULT_DAMAGE;
  } catch {
    return null;
  }
}

export interface CorruptSnapshotArgs {
  snapshotId: string;
  /** What a check of the file system reports; a default e2fsck line when absent. */
  message?: string;
  /** Also delete every file of the tree (directories stay), as a lost inode table would. */
  loseFiles?: boolean;
}

/** The admin hook (`POST /__admin/corruptSnapshot`): disks created from the snapshot afterwards are damaged. */
export function corruptSnapshot(
  state: EcsState,
  args: CorruptSnapshotArgs,
): { snapshotId: string; filesLost: number } {
  if (!args?.snapshotId) throw new EcsApiError('MissingParameter', 'snapshotId is required.', 400);
  if (!state.snapshots.get(args.snapshotId)) {
    throw notFound('InvalidSnapshotId.NotFound', `snapshot ${args.snapshotId}`);
  }
  const dir = state.trees.snapshotDir(args.snapshotId);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(damageFile(dir), `${args.message?.trim() || DEFAULT_DAMAGE}\n`);
  let filesLost = 0;
  if (args.loseFiles) {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
      if (entry.isDirectory()) continue;
      fs.rmSync(`${entry.parentPath}/${entry.name}`, { force: true });
      filesLost += 1;
    }
  }
  return { snapshotId: args.snapshotId, filesLost };
}

/** The guest's `fsck -n <device>`: "exit\nmessage\n" as the other guest calls answer. */
export function guestFsck(state: EcsState, inst: InstanceRecord, device: string): string {
  const disk = attachedDiskAt(state, inst, device, Date.now());
  if (!disk) return `8\nfsck.ext4: No such file or directory while trying to open ${device}\n`;
  const damage = readDamage(state.trees.diskDir(disk.diskId));
  if (damage)
    return `4\n${device}: ${damage}\n${device}: ********** WARNING: Filesystem still has errors **********\n`;
  return `0\n${device}: clean\n`;
}

/** The `fsck` of the emulated instance: the emulator knows whether the disk's file system is damaged. */
export function fsckShim(): string {
  return `#!/bin/bash
device=""
for a in "$@"; do case "$a" in -*) ;; *) device="$a" ;; esac; done
[ -n "$device" ] || { echo "fsck: no device given" >&2; exit 16; }
exec "$ECSB_SHIMS/guest-call" fsck "device=$device"
`;
}
