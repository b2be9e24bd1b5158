import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../lib/domain/model.js';
import type { CloneState } from '../../lib/usecases/clone/state.js';
import { copyJobId } from '../../lib/usecases/copy/state.js';
import { backupNow, E2E_TIMEOUT_MS, finished, startTestCloud, type TestCloud } from './support.js';
import { backupCopiedTo, cloneDiskFromCopy, filesIn } from './copy-support.js';

/**
 * A backup copied to cn-shanghai on the local cloud: the whole instance is cloned there from the
 * copy (image and instance in cn-shanghai, disks holding the backed-up trees byte for byte); then the
 * source backup expires and its copy stays restorable (the backup shows COPIES_ONLY).
 */

const SH = 'cn-shanghai';
const TARGET = 'i-shoutlive0001';
/** The emulator's vSwitch of zone cn-shanghai-b and its one security group. */
const SH_VSWITCH = 'vsw-bemulator00000000';
const SECURITY_GROUP = 'sg-emulator000000000001';

let cloud: TestCloud;

beforeAll(async () => {
  cloud = await startTestCloud({ timers: false });
  await cloud.emulator.admin.inRegion(SH).addInstance({
    instanceId: TARGET,
    disks: [{ diskId: 'd-shoutlive0001', type: 'system', category: 'cloud_essd' }],
  });
}, E2E_TIMEOUT_MS);
afterAll(async () => {
  await cloud?.dispose();
});

type Shown = { status: string; copies: { regionId: string; status: string; snapshotIds: string[] }[] };

describe('a copy in another region', { timeout: E2E_TIMEOUT_MS }, () => {
  it('clones the whole instance there, and outlives its expired source', async () => {
    const {
      instanceId,
      dataDiskId: data,
      backup,
      point,
    } = await backupCopiedTo(cloud, SH, { path: 'srv/ledger.csv', content: 'id,sum\n3,30\n' });
    expect((await finished(cloud, copyJobId(backup.id, SH))).status).toBe('COMPLETE');
    const copy = (await cloud.api.get<Shown>(`/backups/${point.id}`)).body.copies[0]!;
    const backedUp = new Map(
      await Promise.all(
        point.snapshots.map(
          async (s, i) =>
            [
              copy.snapshotIds[i]!,
              await filesIn(cloud, 'cn-hangzhou', { snapshotId: s.snapshotId }),
            ] as const,
        ),
      ),
    );

    // Clone the whole instance from the copy: the source's network is in another region.
    const jobsBefore = (await cloud.deps.store.jobs.list({ instanceId })).items.length;
    const missing = await cloud.api.post<{ errors: { path: string }[] }>(`/backups/${point.id}/restore`, {
      mode: 'clone-instance',
      regionId: SH,
    });
    expect(missing.status).toBe(400);
    expect(missing.body.errors.map((e) => e.path)).toEqual(['vSwitchId', 'securityGroupIds']);
    expect((await cloud.deps.store.jobs.list({ instanceId })).items).toHaveLength(jobsBefore);
    const answer = await cloud.api.post<{ id: string }>(`/backups/${point.id}/restore`, {
      mode: 'clone-instance',
      regionId: SH,
      vSwitchId: SH_VSWITCH,
      securityGroupIds: [SECURITY_GROUP],
      instanceName: 'ledger-sh',
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    const clone: Job = await finished(cloud, answer.body.id, 120_000);
    expect(clone.status, clone.reason ?? '').toBe('COMPLETE');
    const st = clone.state as CloneState;
    const sh = cloud.deps.ecs.forRegion(SH);
    expect(await sh.describeInstanceAttribute(st.newInstanceId!)).toMatchObject({
      status: 'Running',
      instanceName: 'ledger-sh',
      zoneId: `${SH}-b`,
    });
    // Launched in cn-shanghai, not in the backup's own region.
    expect(await cloud.deps.ecs.describeInstances([st.newInstanceId!])).toEqual([]);
    expect((await sh.describeInstances([st.newInstanceId!])).map((i) => i.instanceId)).toEqual([
      st.newInstanceId,
    ]);
    const disks = await sh.describeInstanceDisks(st.newInstanceId!);
    expect(disks.map((d) => d.sourceSnapshotId).sort()).toEqual([...copy.snapshotIds].sort());
    for (const d of disks) {
      expect(await filesIn(cloud, SH, { diskId: d.diskId }), d.diskId).toEqual(
        backedUp.get(d.sourceSnapshotId!),
      );
    }
    expect(await sh.describeImages([st.imageId!])).toEqual([]);

    // The source expires (a newer backup keeps the instance covered); its copy stays.
    const newer = await finished(cloud, await backupNow(cloud, instanceId));
    expect(newer.status, newer.reason ?? '').toBe('COMPLETE');
    await cloud.runRetention(point.effectiveExpireAt + 1);
    const shown = await cloud.api.get<Shown>(`/backups/${point.id}`);
    expect(shown.body).toMatchObject({
      status: 'COPIES_ONLY',
      copies: [{ regionId: SH, status: 'available' }],
    });
    expect(await cloud.deps.ecs.describeSnapshots(point.snapshots.map((s) => s.snapshotId))).toEqual([]);
    const listed = await cloud.api.get<{ items: { id: string; status: string }[] }>(
      `/backups?instanceId=${instanceId}`,
    );
    expect(listed.body.items.find((p) => p.id === point.id)?.status).toBe('COPIES_ONLY');

    // Restore from the copy still works, byte for byte.
    const newDisk = await cloneDiskFromCopy(cloud, point.id, data, TARGET, SH);
    const index = point.snapshots.findIndex((s) => s.diskId === data);
    const restoredFiles = await filesIn(cloud, SH, { diskId: newDisk });
    expect(restoredFiles).toEqual(backedUp.get(copy.snapshotIds[index]!));
    expect(restoredFiles).toContainEqual(expect.objectContaining({ path: 'srv/ledger.csv', size: 12 }));
  });
});
