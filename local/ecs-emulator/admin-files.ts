import fs from 'node:fs';
import type { AdminDeps } from './admin.js';
import { adminDisk } from './admin-inventory.js';
import { EcsApiError, notFound } from './errors.js';
import { safeJoin } from './files.js';
import type { EmulatorAdmin } from './types.js';

/** The files of a disk's or a snapshot's tree, read and written as the guest would see them. */
export function fileAdmin(
  deps: AdminDeps,
): Pick<EmulatorAdmin, 'writeFile' | 'readFile' | 'removeFile' | 'listFiles' | 'treePath'> {
  const { state } = deps;
  const treeOf = (args: { diskId?: string; snapshotId?: string }): string => {
    if (args.snapshotId) {
      if (!state.snapshots.get(args.snapshotId))
        throw notFound('InvalidSnapshotId.NotFound', `snapshot ${args.snapshotId}`);
      return state.trees.snapshotDir(args.snapshotId);
    }
    if (args.diskId) {
      adminDisk(state, args.diskId);
      return state.trees.ensureDisk(args.diskId);
    }
    throw new EcsApiError('MissingParameter', 'diskId or snapshotId is required.', 400);
  };
  return {
    async writeFile({ diskId, path, content, encoding, owner, mode }) {
      adminDisk(state, diskId);
      state.trees.writeFile(diskId, path, Buffer.from(content, encoding ?? 'utf8'), {
        ...(owner !== undefined ? { owner } : {}),
        ...(mode !== undefined ? { mode } : {}),
      });
    },
    async readFile(args) {
      const file = safeJoin(treeOf(args), args.path);
      if (!fs.existsSync(file)) throw new EcsApiError('FileNotFound', `No file ${args.path}.`, 404);
      return fs.readFileSync(file).toString(args.encoding ?? 'utf8');
    },
    async removeFile({ diskId, path }) {
      adminDisk(state, diskId);
      state.trees.removeFile(diskId, path);
    },
    async listFiles(args) {
      return state.trees.list(treeOf(args));
    },
    async treePath(args) {
      return treeOf(args);
    },
  };
}
