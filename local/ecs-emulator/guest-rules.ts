import fs from 'node:fs';
import path from 'node:path';
import type { MountRecord } from './records.js';

/**
 * The Linux backup script's own rules (lib/guest/linux-backup.sh), for the simulated guest: which
 * pre/post-script is trusted and which file systems are frozen in what order. The messages are the
 * script's, so a backup reads the same whichever way the guest ran.
 */

/** Null when /tmp/<name> is a regular file owned by root with mode 0700; otherwise why not. */
export function tmpScriptProblem(
  tmpDir: string,
  name: string,
  owners: Record<string, number>,
): string | null {
  const shown = `/tmp/${name}`;
  let st: fs.Stats;
  try {
    st = fs.lstatSync(path.join(tmpDir, name));
  } catch {
    return `${shown} is missing`;
  }
  if (st.isSymbolicLink()) return `${shown} is a symbolic link`;
  if (!st.isFile()) return `${shown} is not a regular file`;
  const owner = owners[name] ?? 0;
  if (owner !== 0) return `${shown} is owned by uid ${owner}, not root`;
  const mode = (st.mode & 0o7777).toString(8);
  if (mode !== '700') return `${shown} has mode 0${mode}, not 0700`;
  return null;
}

/** ext3/ext4/xfs mounted read-write, each device and mount point once, deepest first, / last. */
export function freezeOrder(mounts: readonly MountRecord[]): string[] {
  const devices = new Set<string>();
  const points = new Set<string>();
  const found: { mp: string; depth: number }[] = [];
  for (const m of mounts) {
    if (!['ext3', 'ext4', 'xfs'].includes(m.fsType)) continue;
    if (m.options.split(',').includes('ro')) continue;
    if (devices.has(m.device) || points.has(m.mountPoint)) continue;
    devices.add(m.device);
    points.add(m.mountPoint);
    found.push({ mp: m.mountPoint, depth: m.mountPoint === '/' ? 0 : m.mountPoint.split('/').length - 1 });
  }
  // Array.prototype.sort is stable: equal depths keep the mount table's order, as the script does.
  return found.sort((a, b) => b.depth - a.depth).map((f) => f.mp);
}
