import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../lib/domain/model.js';
import { TAG_MANAGED_BY, MANAGED_BY_VALUE } from '../../lib/usecases/backup/ownership.js';
import type { CloneState } from '../../lib/usecases/clone/state.js';
import { cli } from './cli-support.js';
import { finished, planBody, pointOf, protect, startTestCloud, until, type TestCloud } from './support.js';

/**
 * Clone the whole instance on the local cloud: files written through RunCommand are backed up, the
 * live disks change, and the instance launched from the backup holds the backed-up trees byte for
 * byte (read through the emulator's file API and through RunCommand on the new instance).
 */

let cloud: TestCloud;

beforeAll(async () => {
  cloud = await startTestCloud({ timers: false });
});
afterAll(async () => {
  await cloud?.dispose();
});

async function run(instanceId: string, script: string): Promise<string> {
  const { invokeId } = await cloud.deps.ecs.runCommand({
    instanceId,
    type: 'RunShellScript',
    content: script,
    timeoutSeconds: 30,
    name: 'clone-e2e',
    clientToken: `clone-e2e-${Math.random().toString(36).slice(2)}`,
  });
  const result = await until('the command to finish', async () => {
    const [r] = await cloud.deps.ecs.describeInvocationResults([invokeId]);
    return r && !['Pending', 'Running'].includes(r.status) ? r : undefined;
  });
  expect(result.status, result.output).toBe('Success');
  return result.output;
}

async function filesOf(where: { diskId: string } | { snapshotId: string }) {
  return (await cloud.emulator.admin.listFiles(where))
    .map((f) => ({ path: f.path, size: f.size, sha256: f.sha256, mode: f.mode }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * Data-disk writes go through a mount the guest makes under the sandbox's private /mnt: a static
 * mount is not bound in the sandbox, and the script must never write the host's own paths.
 */
const onData = (commands: string) =>
  `set -e\nmkdir -p /mnt/d\nmount /dev/vdb1 /mnt/d\n${commands}\numount /mnt/d\n`;

describe('clone-instance on the local cloud', () => {
  it('launches an instance whose disks hold the backed-up trees, and leaves no image', async () => {
    expect(cloud.emulator.guestMode.kind, cloud.emulator.guestMode.why).not.toBe('simulated');
    const { instanceId, diskIds } = await cloud.emulator.admin.addInstance({
      osType: 'linux',
      status: 'Running',
      tags: { app: 'shop' },
      disks: [
        {
          type: 'system',
          category: 'cloud_essd',
          files: { 'etc/hostname': 'shop\n', 'srv/app/config.json': '{"port": 8080}\n' },
        },
        { type: 'data', category: 'cloud_essd' },
      ],
    });
    await run(
      instanceId,
      onData(
        [
          'mkdir -p /mnt/d/db',
          'head -c 4096 /dev/urandom > /mnt/d/db/blob.bin',
          'printf "id,total\\n1,12.50\\n" > /mnt/d/db/rows.csv',
          'chmod 0600 /mnt/d/db/rows.csv',
        ].join('\n'),
      ),
    );
    const rowsBefore = await cloud.emulator.admin.readFile({ diskId: diskIds[1]!, path: 'db/rows.csv' });
    expect(rowsBefore).toBe('id,total\n1,12.50\n');
    const { jobId } = await protect(cloud, instanceId, planBody());
    const backup = await finished(cloud, jobId!);
    expect(backup.status, backup.reason ?? '').toBe('COMPLETE');
    const point = await pointOf(cloud, backup);
    expect(point.source).toMatchObject({
      instanceType: 'ecs.g7.large',
      zoneId: 'cn-hangzhou-h',
      tags: [{ key: 'app', value: 'shop' }],
    });
    const backedUp = new Map(
      await Promise.all(
        point.snapshots.map(
          async (s) => [s.snapshotId, await filesOf({ snapshotId: s.snapshotId })] as const,
        ),
      ),
    );
    expect([...backedUp.values()].flat().map((f) => f.path)).toEqual(
      expect.arrayContaining(['srv/app/config.json', 'db/blob.bin', 'db/rows.csv']),
    );

    // The live instance moves on after the backup.
    await run(instanceId, onData('printf "changed\\n" > /mnt/d/db/rows.csv\nrm /mnt/d/db/blob.bin'));
    await cloud.emulator.admin.removeFile({ diskId: diskIds[0]!, path: 'srv/app/config.json' });

    // A type the vSwitch's zone does not sell is refused before anything is made.
    const jobsBefore = (await cloud.deps.store.jobs.list({ instanceId })).items.length;
    const refused = await cloud.api.post<{ errors: { path: string }[] }>(`/backups/${point.id}/restore`, {
      mode: 'clone-instance',
      instanceType: 'ecs.c7.large',
      vSwitchId: 'vsw-iemulator00000000',
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors.map((e) => e.path)).toEqual(['instanceType']);
    expect((await cloud.deps.store.jobs.list({ instanceId })).items).toHaveLength(jobsBefore);

    const answer = await cloud.api.post<{ id: string }>(`/backups/${point.id}/restore`, {
      mode: 'clone-instance',
      instanceName: 'shop-clone',
      tags: [{ key: 'env', value: 'e2e' }],
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    const job: Job = await finished(cloud, answer.body.id, 90_000);
    expect(job.status, job.reason ?? '').toBe('COMPLETE');
    const st = job.state as CloneState;

    const clone = await cloud.deps.ecs.describeInstanceAttribute(st.newInstanceId!);
    expect(clone).toMatchObject({
      status: 'Running',
      instanceName: 'shop-clone',
      instanceType: 'ecs.g7.large',
      zoneId: 'cn-hangzhou-h',
    });
    const disks = await cloud.deps.ecs.describeInstanceDisks(st.newInstanceId!);
    expect(disks.map((d) => d.sourceSnapshotId).sort()).toEqual(
      point.snapshots.map((s) => s.snapshotId).sort(),
    );
    for (const d of disks) {
      expect(await filesOf({ diskId: d.diskId }), d.diskId).toEqual(backedUp.get(d.sourceSnapshotId!));
    }
    // And as the new instance's own guest reads it.
    const seen = await run(st.newInstanceId!, onData('cat /mnt/d/db/rows.csv\nsha256sum /mnt/d/db/blob.bin'));
    const blob = backedUp.get(point.snapshots[1]!.snapshotId)!.find((f) => f.path === 'db/blob.bin')!;
    expect(seen).toBe(`${rowsBefore}${blob.sha256}  /mnt/d/db/blob.bin\n`);
    expect(await cloud.emulator.admin.readFile({ diskId: diskIds[1]!, path: 'db/rows.csv' })).toBe(
      'changed\n',
    );

    // The temporary image is gone; nothing of ours but the result remains.
    expect(await cloud.deps.ecs.describeImages([st.imageId!])).toEqual([]);
    expect(await cloud.deps.ecs.findImagesByTag({ key: TAG_MANAGED_BY, value: MANAGED_BY_VALUE })).toEqual(
      [],
    );
    const ours = await cloud.deps.ecs.findInstancesByTag({ key: TAG_MANAGED_BY, value: MANAGED_BY_VALUE });
    expect(ours.map((i) => i.instanceId)).toEqual([st.newInstanceId]);
    expect(ours[0]!.tags).toContainEqual({ key: 'env', value: 'e2e' });
    expect((await cloud.deps.store.points.get(point.id))!.inUseBy).toEqual([]);

    // The command-line tool starts the same job; with --keep-image the image stays and is named.
    const env = { ECS_BACKUP_ENDPOINT: `${cloud.apiUrl}/api/v1`, ECS_BACKUP_TOKEN: cloud.apiToken };
    const run2 = await cli(
      [
        'backups',
        'restore',
        point.id,
        '--mode',
        'clone-instance',
        '--name',
        'shop-cli',
        '--keep-image',
        '--wait',
      ],
      { env },
    );
    expect(run2.code, run2.stderr).toBe(0);
    const byCli = JSON.parse(run2.stdout) as { type: string; status: string; state: CloneState };
    expect(byCli).toMatchObject({ type: 'clone', status: 'COMPLETE' });
    expect(await cloud.deps.ecs.describeImages([byCli.state.imageId!])).toMatchObject([
      { status: 'Available' },
    ]);
    expect((await cloud.deps.ecs.describeInstanceAttribute(byCli.state.newInstanceId!))?.instanceName).toBe(
      'shop-cli',
    );
  });
});
