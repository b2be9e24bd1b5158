import fs from 'node:fs';
import { safeJoin } from './files.js';
import type { InstanceRecord, MountRecord } from './records.js';
import type { EcsState } from './state.js';
import { guestFsck } from './fs-damage.js';
import { attachedDiskAt } from './guest-devices.js';

const FREEZABLE = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'ntfs']);

/**
 * What the guest's shims report to the emulator (form fields in, "exit\nmessage\nextra" out):
 * freezes and thaws, mounts, unmounts and owner changes, recorded per instance. `refresh` keeps the
 * calling script's view (its mount table and owners) in step.
 */
export class GuestCallbacks {
  constructor(
    private readonly state: EcsState,
    private readonly log: (line: string) => void,
    private readonly refresh: (inst: InstanceRecord, invokeId: string | undefined) => void,
  ) {}

  guest(endpoint: string, form: Record<string, string>): string {
    const instanceId = form['instanceId'] ?? '';
    const inst = this.state.instances.get(instanceId);
    if (!inst) return `1\n${endpoint}: unknown instance ${instanceId}\n`;
    const invokeId = form['invokeId'];
    switch (endpoint) {
      case 'fsfreeze':
        return this.guestFreeze(
          inst,
          form['action'] === 'thaw' ? 'thaw' : 'freeze',
          form['mountPoint'] ?? '',
          invokeId,
        );
      case 'mount':
        return this.guestMount(inst, form, invokeId);
      case 'umount':
        return this.guestUmount(inst, form['target'] ?? '', invokeId);
      case 'chown':
        return this.guestChown(inst, form['path'] ?? '', form['uid'] ?? '', invokeId);
      case 'fsck':
        return guestFsck(this.state, inst, form['device'] ?? '');
      default:
        return `1\nunknown guest call ${endpoint}\n`;
    }
  }

  /** Owners under /tmp are data: `chown` there records the new owner instead of calling chown(2). */
  private guestChown(inst: InstanceRecord, rel: string, uid: string, invokeId?: string): string {
    if (!/^\d{1,10}$/.test(uid)) return `1\nchown: invalid user: '${uid}'\n`;
    const root = this.state.trees.tmpDir(inst.instanceId);
    try {
      if (!fs.existsSync(safeJoin(root, rel)) && !isSymlink(safeJoin(root, rel)))
        return `1\nchown: cannot access '/tmp/${rel}': No such file or directory\n`;
      this.state.trees.setOwner(root, rel, Number(uid));
    } catch (err) {
      return `1\nchown: ${(err as Error).message}\n`;
    }
    this.refresh(inst, invokeId);
    return '0\n\n';
  }

  private guestFreeze(
    inst: InstanceRecord,
    action: 'freeze' | 'thaw',
    raw: string,
    invokeId?: string,
  ): string {
    const mp = normalizeMountPoint(raw);
    const verb = action === 'freeze' ? 'freeze' : 'unfreeze';
    const mount = inst.mounts.find((m) => m.mountPoint === mp);
    if (!mount)
      return this.refuseFreeze(inst, mp, action, `fsfreeze: ${raw}: not a mount point`, 1, invokeId);
    if (!FREEZABLE.has(mount.fsType.toLowerCase())) {
      return this.refuseFreeze(
        inst,
        mp,
        action,
        `fsfreeze: ${raw}: ${verb} failed: Operation not supported`,
        1,
        invokeId,
      );
    }
    const key = `${inst.instanceId}\u0000${mp}`;
    if (action === 'freeze' && this.state.frozen.has(key)) {
      return this.refuseFreeze(
        inst,
        mp,
        action,
        `fsfreeze: ${raw}: freeze failed: Device or resource busy`,
        1,
        invokeId,
      );
    }
    if (action === 'thaw' && !this.state.frozen.has(key)) {
      return this.refuseFreeze(
        inst,
        mp,
        action,
        `fsfreeze: ${raw}: unfreeze failed: Invalid argument`,
        1,
        invokeId,
      );
    }
    this.recordFreeze(inst.instanceId, mp, action, true, undefined, 'fsfreeze', undefined, invokeId);
    return '0\n\n';
  }

  private refuseFreeze(
    inst: InstanceRecord,
    mp: string,
    action: 'freeze' | 'thaw',
    message: string,
    code: number,
    invokeId?: string,
  ): string {
    this.recordFreeze(inst.instanceId, mp, action, false, message, 'fsfreeze', undefined, invokeId);
    return `${code}\n${message}\n`;
  }

  recordFreeze(
    instanceId: string,
    mountPoint: string,
    action: 'freeze' | 'thaw',
    ok: boolean,
    error: string | undefined,
    source: 'fsfreeze' | 'vss',
    writers: boolean | undefined,
    invokeId: string | undefined,
  ): void {
    const at = Date.now();
    const key = `${instanceId}\u0000${mountPoint}`;
    if (ok && action === 'freeze') this.state.frozen.set(key, { instanceId, mountPoint, since: at });
    if (ok && action === 'thaw') this.state.frozen.delete(key);
    this.state.freezeLog.push({
      instanceId,
      mountPoint,
      action,
      at,
      ok,
      source,
      ...(error !== undefined ? { error } : {}),
      ...(writers !== undefined ? { writers } : {}),
      ...(invokeId !== undefined ? { invokeId } : {}),
    });
    this.log(
      `ecs-emulator: ${source} ${action} ${instanceId} ${mountPoint} ${ok ? 'ok' : `refused: ${error ?? ''}`}`,
    );
  }

  private guestMount(inst: InstanceRecord, form: Record<string, string>, invokeId?: string): string {
    const device = form['device'] ?? '';
    const target = normalizeMountPoint(form['target'] ?? '');
    const options = form['options'] || 'rw';
    const now = Date.now();
    const logMount = (error?: string): void => {
      this.state.mountLog.push({
        instanceId: inst.instanceId,
        action: 'mount',
        device,
        mountPoint: target,
        options,
        at: now,
        ok: error === undefined,
        ...(error !== undefined ? { error } : {}),
        ...(invokeId ? { invokeId } : {}),
      });
    };
    const fail = (message: string, code = 32): string => {
      logMount(message);
      return `${code}\n${message}\n`;
    };
    const disk = attachedDiskAt(this.state, inst, device, now);
    if (!disk) return fail(`mount: ${target}: special device ${device} does not exist.`);
    if (inst.mounts.some((m) => m.mountPoint === target))
      return fail(`mount: ${target}: ${device} already mounted or mount point busy.`);
    if (disk.type === 'system' || inst.mounts.some((m) => m.diskId === disk.diskId && !m.dynamic)) {
      return fail(`mount: ${target}: ${device} already mounted or mount point busy.`);
    }
    if (!disk.hasTree) {
      this.state.trees.ensureDisk(disk.diskId);
      disk.hasTree = true;
      this.state.putDisk(disk);
    } else this.state.trees.ensureDisk(disk.diskId);
    const mount: MountRecord = {
      device: this.state.guestDevice(disk.device) ?? device,
      mountPoint: target,
      fsType: form['fsType'] && form['fsType'] !== 'auto' ? form['fsType'] : 'ext4',
      options,
      diskId: disk.diskId,
      dynamic: true,
    };
    inst.mounts.push(mount);
    this.state.putInstance(inst);
    this.refresh(inst, invokeId);
    logMount();
    const ro = options.split(',').includes('ro') ? 'ro' : 'rw';
    return `0\n\nbind ${disk.diskId} ${ro}\n`;
  }

  private guestUmount(inst: InstanceRecord, raw: string, invokeId?: string): string {
    const target = normalizeMountPoint(raw);
    const mount = inst.mounts.find((m) => m.mountPoint === target || m.device === raw);
    const log = (ok: boolean, error?: string): void => {
      this.state.mountLog.push({
        instanceId: inst.instanceId,
        action: 'umount',
        device: mount?.device ?? '',
        mountPoint: mount?.mountPoint ?? target,
        options: '',
        at: Date.now(),
        ok,
        ...(error ? { error } : {}),
        ...(invokeId ? { invokeId } : {}),
      });
    };
    if (!mount) {
      log(false, `umount: ${raw}: not mounted.`);
      return `32\numount: ${raw}: not mounted.\n`;
    }
    if (!mount.dynamic) {
      log(false, `umount: ${raw}: target is busy.`);
      return `32\numount: ${raw}: target is busy.\n`;
    }
    inst.mounts = inst.mounts.filter((m) => m !== mount);
    this.state.putInstance(inst);
    this.refresh(inst, invokeId);
    log(true);
    return `0\n\nunbind ${mount.mountPoint}\n`;
  }
}

function isSymlink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

export function normalizeMountPoint(mp: string): string {
  if (mp === '/' || mp === '') return mp;
  if (/^[A-Za-z]:\\?$/.test(mp)) return mp;
  return mp.replace(/\/+$/, '');
}
