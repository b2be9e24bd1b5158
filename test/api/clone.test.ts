import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupPoint } from '../../lib/domain/model.js';
import { openApiDocument } from '../../lib/api/openapi.js';
import { routes } from '../../lib/api/routes/index.js';
import { aPoint } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';

/**
 * `POST /backups/{id}/restore` with mode clone-instance: refusals name their field and change
 * nothing (no job, no ECS write, nothing logged of a password); defaults come from the recorded
 * source. The job itself runs in test/e2e/clone.test.ts and the unit tests.
 */

const DB = 'i-clonedb01';
let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    seed: {
      instances: [
        {
          instanceId: DB,
          zoneId: 'cn-hangzhou-i',
          instanceType: 'ecs.g7.xlarge',
          disks: [
            { diskId: 'd-clonesys1', type: 'system', category: 'cloud_essd' },
            { diskId: 'd-clonedat1', type: 'data', category: 'cloud_essd' },
          ],
        },
      ],
    },
  });
});
afterAll(async () => h?.close());

let n = 0;
async function seedPoint(fields: Partial<BackupPoint> = {}): Promise<BackupPoint> {
  n += 1;
  const point = aPoint({
    id: `bp-clone-${n}`,
    instanceId: DB,
    snapshots: ['d-clonesys1', 'd-clonedat1'].map((diskId, i) => ({
      diskId,
      snapshotId: `s-clone-${n}-${i}`,
      diskType: i === 0 ? 'system' : 'data',
      category: 'cloud_essd',
      sizeGiB: 40,
    })),
    ...fields,
  });
  const written = await h.store.points.create(point);
  if (!written.ok) throw new Error('seed failed');
  return written.value;
}

const restore = (pointId: string, body: Record<string, unknown>) =>
  h.call('POST', `/api/v1/backups/${pointId}/restore`, { body: { mode: 'clone-instance', ...body } });

const fields = (r: { body: { errors?: { path: string }[] } }) => (r.body.errors ?? []).map((e) => e.path);

async function unchanged(act: () => Promise<void>): Promise<void> {
  const before = h.dump();
  const since = Date.now();
  await act();
  expect(h.dump()).toEqual(before);
  const writes = (await h.emulator.admin.calls({ since })).filter((c) =>
    ['CreateImage', 'RunInstances'].includes(c.action),
  );
  expect(writes).toEqual([]);
}

describe('clone-instance requests', () => {
  it('refuses a password as a field error, and never stores or logs it', async () => {
    const point = await seedPoint();
    await unchanged(async () => {
      const r = await restore(point.id, { password: 'Secr3t!Passw0rd' });
      expect(r.status).toBe(400);
      expect(fields(r)).toEqual(['password']);
      expect(r.text).not.toContain('Secr3t');
    });
    expect(JSON.stringify(h.logs)).not.toContain('Secr3t');
  });

  it('names the field of every value it cannot use, and changes nothing', async () => {
    const point = await seedPoint();
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [
        { instanceType: 'ecs.c7.large' },
        'instanceType',
        /zone cn-hangzhou-i .* does not sell ecs\.c7\.large/,
      ],
      [{ vSwitchId: 'vsw-nowhere0001' }, 'vSwitchId', /does not exist/],
      [
        { securityGroupIds: ['sg-a1234', 'sg-b1234', 'sg-c1234', 'sg-d1234', 'sg-e1234', 'sg-f1234'] },
        'securityGroupIds',
        /at most 5/,
      ],
      [{ instanceType: 'large' }, 'instanceType', /instance type/],
      [{ hostname: '-bad-' }, 'hostname', /letters/],
      [{ tags: [{ key: 'ecs-backup:job', value: 'x' }] }, 'tags[0].key', /service/],
      [{ diskId: 'd-clonesys1' }, 'diskId', /every disk/],
      [{ keepImage: 'yes' }, 'keepImage', /true or false/],
    ];
    for (const [body, path, message] of cases) {
      await unchanged(async () => {
        const r = await restore(point.id, body);
        expect(r.status, JSON.stringify(body)).toBe(400);
        expect(fields(r)).toEqual([path]);
        expect(JSON.stringify(r.body.errors)).toMatch(message);
      });
    }
    // The clone fields belong to clone-instance alone.
    const other = await h.call('POST', `/api/v1/backups/${point.id}/restore`, {
      body: { mode: 'rollback-instance', keepImage: true },
    });
    expect(other.status).toBe(400);
    expect(fields(other)).toEqual(['keepImage']);
  });

  it('a backup that is not AVAILABLE, or has no system disk, is a conflict', async () => {
    const deleting = await seedPoint({ status: 'DELETING' });
    const dataOnly = await seedPoint();
    await h.store.points.update(
      { ...dataOnly, snapshots: dataOnly.snapshots.filter((s) => s.diskType === 'data') },
      dataOnly.version,
    );
    await unchanged(async () => {
      expect((await restore(deleting.id, {})).status).toBe(409);
      const r = await restore(dataOnly.id, {});
      expect(r.status).toBe(409);
      expect(r.body.detail).toMatch(/no system disk/);
    });
  });

  it('starts a clone job with the recorded source as defaults', async () => {
    const point = await seedPoint({
      source: {
        instanceName: 'db-01',
        zoneId: 'cn-hangzhou-i',
        osType: 'linux',
        instanceType: 'ecs.g7.xlarge',
        vSwitchId: 'vsw-iemulator00000000',
        securityGroupIds: ['sg-emulator000000000001'],
        tags: [{ key: 'app', value: 'db' }],
      },
    });
    const r = await restore(point.id, { keyPairName: 'ops-key' });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ type: 'clone', instanceId: DB, status: 'QUEUED' });
    expect(r.body.params).toEqual({
      backupId: point.id,
      instanceType: 'ecs.g7.xlarge',
      vSwitchId: 'vsw-iemulator00000000',
      securityGroupIds: ['sg-emulator000000000001'],
      instanceName: 'db-01-clone',
      hostName: null,
      keyPairName: 'ops-key',
      tags: [{ key: 'app', value: 'db' }],
      keepImage: false,
    });
    const view = await h.call('GET', `/api/v1/backups/${point.id}`);
    expect(view.body.source).toMatchObject({
      instanceType: 'ecs.g7.xlarge',
      vSwitchId: 'vsw-iemulator00000000',
    });
  });

  it('documents the clone fields and no password', () => {
    const doc = openApiDocument(routes) as {
      components: { schemas: Record<string, { properties?: object }> };
    };
    const props = Object.keys(doc.components.schemas.RestoreRequest?.properties ?? {});
    expect(props).toEqual(
      expect.arrayContaining([
        'instanceType',
        'vSwitchId',
        'securityGroupIds',
        'hostname',
        'keyPairName',
        'tags',
        'keepImage',
      ]),
    );
    expect(props).not.toContain('password');
  });
});
