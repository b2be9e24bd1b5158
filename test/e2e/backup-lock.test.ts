import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  addLinuxInstance,
  backupNow,
  E2E_TIMEOUT_MS,
  finished,
  isoIn,
  planBody,
  pointOf,
  protect,
  startTestCloud,
  type TestCloud,
} from './support.js';

/**
 * Backup lock on the local cloud: each way of deleting refused, the governance break glass, and the
 * retention sweep reporting a locked backup whose snapshots were deleted behind our back.
 */

const BREAK_GLASS = 'e2e-break-glass-0123456789';
let cloud: TestCloud;

beforeAll(async () => {
  cloud = await startTestCloud({ timers: false, settings: { BREAK_GLASS_TOKEN: BREAK_GLASS } });
});
afterAll(async () => {
  await cloud?.dispose();
});

async function deleteWithHeader(backupId: string, token: string) {
  const res = await fetch(`${cloud.apiUrl}/api/v1/backups/${backupId}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${cloud.apiToken}`, 'x-ecs-backup-break-glass': token },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

it(
  'refuses deleting and shortening, yields to the break glass in governance mode, reports drift',
  async () => {
    const { instanceId } = await addLinuxInstance(cloud);
    const { jobId } = await protect(cloud, instanceId, planBody({ lock: { mode: 'compliance' } }));
    const compliance = await pointOf(cloud, await finished(cloud, jobId!));
    expect(compliance.lock?.mode).toBe('compliance');
    const governance = await pointOf(
      cloud,
      await finished(cloud, await backupNow(cloud, instanceId, { lock: { mode: 'governance' } })),
    );
    expect(governance.lock?.mode).toBe('governance');

    // Every way in: DELETE (confirmed or not, with the break glass too), an earlier expiry, a sweep.
    expect((await cloud.api.del(`/backups/${compliance.id}`)).status).toBe(409);
    expect((await cloud.api.del(`/backups/${compliance.id}?confirm=last-good-backup`)).status).toBe(409);
    expect((await deleteWithHeader(compliance.id, BREAK_GLASS)).status).toBe(409);
    const shorter = await cloud.api.patch<{ errors: { path: string }[] }>(`/backups/${compliance.id}`, {
      expireAt: isoIn(3600),
    });
    expect(shorter.status).toBe(409);
    expect(shorter.body.errors[0]!.path).toBe('expireAt');
    expect((await cloud.api.del(`/backups/${governance.id}`)).status).toBe(409);
    await cloud.runRetention();
    const groups = [compliance.snapshotGroupId!, governance.snapshotGroupId!];
    expect((await cloud.deps.ecs.describeSnapshotGroups(groups)).length).toBe(2);

    // Governance: the break-glass token deletes it, and says so on the backup.
    expect((await deleteWithHeader(governance.id, 'a-wrong-break-glass-token')).status).toBe(401);
    const broken = await deleteWithHeader(governance.id, BREAK_GLASS);
    expect(broken.status).toBe(200);
    expect(broken.body.status).toBe('DELETED');
    expect((broken.body.lock as { overrides: { action: string }[] }).overrides[0]!.action).toBe('delete');
    expect(await cloud.deps.ecs.describeSnapshotGroups([governance.snapshotGroupId!])).toEqual([]);

    // Someone with ECS rights deletes the compliance backup's snapshots: the next sweep reports it.
    await cloud.deps.ecs.deleteSnapshotGroup(compliance.snapshotGroupId!);
    await cloud.runRetention();
    const drift = cloud.lastRetention()!.lockDrift;
    expect(drift.map((d) => d.pointId)).toEqual([compliance.id]);
    expect((await cloud.deps.store.points.get(compliance.id))!.status).toBe('AVAILABLE');
  },
  E2E_TIMEOUT_MS,
);
