import type { DiskRecord, InstanceRecord } from './records.js';
import type { EcsState } from './state.js';

/**
 * The disk attached to `inst` that the guest sees as `device` (`/dev/vdb`, `/dev/xvdb1`...): the
 * letter picks it, whichever naming and partition; a disk still attaching is not there yet.
 */
export function attachedDiskAt(
  state: EcsState,
  inst: InstanceRecord,
  device: string,
  now: number,
): DiskRecord | undefined {
  const base = device.replace(/^\/dev\/(xvd|vd)([a-z])\d*$/, '$2');
  if (base === device) return undefined;
  return state
    .disksOf(inst.instanceId, now)
    .find(
      (d) =>
        d.instanceId === inst.instanceId &&
        d.status === 'In_use' &&
        !d.pending &&
        d.device?.slice(-1) === base,
    );
}
