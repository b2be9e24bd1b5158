import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BackupPoint } from '../../lib/domain/model.js';
import { aJob, aPoint } from './fixtures.js';
import { startHarness, T0, type Harness } from './harness.js';

/**
 * The restore and mount routes: validation classes naming fields, 404 and 409 refusals that change
 * nothing, auth, Idempotency-Key, and the jobs they start. The jobs themselves run in test/e2e.
 */

const WEB = 'i-rweb0001';
const STOPPED = 'i-rstop001';
const OTHER = 'i-rother01';
const STARTING = 'i-rstart01';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    seed: {
      instances: [
        {
          instanceId: WEB,
          disks: [
            { diskId: 'd-rwebsys1', type: 'system', category: 'cloud_essd' },
            { diskId: 'd-rwebdat1', type: 'data', category: 'cloud_essd' },
          ],
        },
        {
          instanceId: STOPPED,
          status: 'Stopped',
          disks: [{ diskId: 'd-rstopsy1', type: 'system', category: 'cloud_essd' }],
        },
        { instanceId: OTHER, disks: [{ diskId: 'd-rothsys1', type: 'system', category: 'cloud_essd' }] },
        { instanceId: STARTING, disks: [{ diskId: 'd-rstasys1', type: 'system', category: 'cloud_essd' }] },
      ],
    },
  });
});
afterAll(async () => h?.close());

let n = 0;
/** A fresh AVAILABLE point of `instanceId` holding `diskIds`. */
async function seedPoint(
  instanceId: string,
  diskIds: string[],
  fields: Partial<BackupPoint> = {},
): Promise<BackupPoint> {
  n += 1;
  const point = aPoint({
    id: `bp-rec-${n}`,
    instanceId,
    snapshots: diskIds.map((diskId, i) => ({
      diskId,
      snapshotId: `s-rec-${n}-${i}`,
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

async function drainQueue(): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const got = await h.queue.receive({ max: 16 });
    if (got.length === 0) return bodies;
    for (const m of got) {
      bodies.push(m.body);
      await h.queue.delete(m.receiptHandle);
    }
  }
}

beforeEach(async () => {
  await drainQueue();
});

const paths = (r: { body: { errors?: { path: string; message: string }[] } }) =>
  (r.body.errors ?? []).map((e) => e.path).sort();

describe('POST /backups/{id}/restore', () => {
  it('starts a restore job (202, Location, type restore) and sends its message', async () => {
    const point = await seedPoint(STOPPED, ['d-rstopsy1']);

    const r = await h.call('POST', `/api/v1/backups/${point.id}/restore`, {
      body: { mode: 'rollback-instance' },
    });

    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({
      type: 'restore',
      status: 'QUEUED',
      instanceId: STOPPED,
      backupId: point.id,
    });
    expect(r.body.params).toMatchObject({
      backupId: point.id,
      mode: 'rollback-instance',
      stopInstance: false,
    });
    expect(r.headers.location).toBe(`/api/v1/jobs/${r.body.id}`);
    expect((await drainQueue()).map((b) => JSON.parse(b).jobId)).toEqual([r.body.id]);
    const listed = await h.call('GET', '/api/v1/jobs', { query: { type: 'restore' } });
    expect(listed.body.items.map((j: { id: string }) => j.id)).toContain(r.body.id);
    const second = await h.call('POST', `/api/v1/backups/${point.id}/restore`, {
      body: { mode: 'rollback-instance' },
    });
    expect(second.status).toBe(409);
    expect(second.body.detail).toContain(`another restore of ${STOPPED} is in progress (job ${r.body.id})`);
  });

  it('clone-disk runs on the target instance; a running source does not matter', async () => {
    const point = await seedPoint(WEB, ['d-rwebsys1', 'd-rwebdat1']);

    const r = await h.call('POST', `/api/v1/backups/${point.id}/restore`, {
      body: { mode: 'clone-disk', diskId: 'd-rwebdat1', targetInstanceId: OTHER },
    });

    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ type: 'restore', instanceId: OTHER });
  });

  it.each([
    [{}, ['mode']],
    [{ mode: 'restore-all' }, ['mode']],
    [{ mode: 'rollback-disk' }, ['diskId']],
    [{ mode: 'rollback-disk', diskId: 'disk-1' }, ['diskId']],
    [{ mode: 'rollback-instance', diskId: 'd-rstopsy1' }, ['diskId']],
    [{ mode: 'clone-disk', diskId: 'd-rstopsy1' }, ['targetInstanceId']],
    [{ mode: 'clone-disk', diskId: 'd-rstopsy1', targetInstanceId: 'host-1' }, ['targetInstanceId']],
    [
      { mode: 'clone-disk', diskId: 'd-rstopsy1', targetInstanceId: OTHER, stopInstance: true },
      ['stopInstance'],
    ],
    [{ mode: 'rollback-disk', diskId: 'd-rstopsy1', targetInstanceId: OTHER }, ['targetInstanceId']],
    [{ mode: 'rollback-instance', stopInstance: 'yes' }, ['stopInstance']],
    [{ mode: 'rollback-instance', force: true }, ['force']],
  ])('400 naming the field for %j', async (body, expected) => {
    const before = h.dump();
    const r = await h.call('POST', '/api/v1/backups/bp-any/restore', { body });
    expect(r.status).toBe(400);
    expect(r.body.type).toBe('urn:ecs-backup:problem:validation-failed');
    expect(paths(r)).toEqual(expected);
    expect(h.dump()).toEqual(before);
  });

  it('400 naming diskId when the backup holds no snapshot of that disk', async () => {
    const point = await seedPoint(STOPPED, ['d-rstopsy1']);
    const r = await h.call('POST', `/api/v1/backups/${point.id}/restore`, {
      body: { mode: 'rollback-disk', diskId: 'd-rwebdat1' },
    });
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([{ path: 'diskId', message: expect.stringContaining('holds d-rstopsy1') }]);
  });

  it('404 for an unknown backup or target instance', async () => {
    const unknown = await h.call('POST', '/api/v1/backups/bp-nothing/restore', {
      body: { mode: 'rollback-instance' },
    });
    const point = await seedPoint(WEB, ['d-rwebsys1']);
    const noTarget = await h.call('POST', `/api/v1/backups/${point.id}/restore`, {
      body: { mode: 'clone-disk', diskId: 'd-rwebsys1', targetInstanceId: 'i-nothere01' },
    });
    expect([unknown.status, noTarget.status]).toEqual([404, 404]);
    expect(noTarget.body.detail).toContain('i-nothere01');
  });

  it('409 for a rollback of a running instance without stopInstance; changes nothing', async () => {
    const point = await seedPoint(WEB, ['d-rwebsys1', 'd-rwebdat1']);
    const before = h.dump();

    const r = await h.call('POST', `/api/v1/backups/${point.id}/restore`, {
      body: { mode: 'rollback-disk', diskId: 'd-rwebdat1' },
    });

    expect(r.status).toBe(409);
    expect(r.body.detail).toMatch(/i-rweb0001 is Running.*stopInstance: true/);
    expect(h.dump()).toEqual(before);
    expect(await drainQueue()).toEqual([]);
    const allowed = await h.call('POST', `/api/v1/backups/${point.id}/restore`, {
      body: { mode: 'rollback-disk', diskId: 'd-rwebdat1', stopInstance: true },
    });
    expect(allowed.status).toBe(202);
  });

  it('409 while the backup is being deleted, and while a backup of the instance runs', async () => {
    const deleting = await seedPoint(STOPPED, ['d-rstopsy1'], { status: 'DELETING' });
    const r1 = await h.call('POST', `/api/v1/backups/${deleting.id}/restore`, {
      body: { mode: 'rollback-instance' },
    });
    expect(r1.status).toBe(409);
    expect(r1.body.detail).toContain('DELETING');

    const point = await seedPoint(STOPPED, ['d-rstopsy1']);
    await h.store.jobs.create(
      aJob({ id: 'job-rec-running-backup', instanceId: STOPPED, status: 'RUNNING', createdAt: T0 }),
    );
    const r2 = await h.call('POST', `/api/v1/backups/${point.id}/restore`, {
      body: { mode: 'rollback-instance' },
    });
    expect(r2.status).toBe(409);
    expect(r2.body.detail).toContain('job-rec-running-backup');
    await h.store.jobs.delete('job-rec-running-backup');
  });

  it('401 without the token, before anything else', async () => {
    const r = await h.call('POST', '/api/v1/backups/bp-any/restore', { body: {}, token: null });
    expect(r.status).toBe(401);
  });

  it('Idempotency-Key: a retry gets the same job', async () => {
    // A fresh instance: the earlier tests left restores of the others queued, which refuses a new one.
    const added = await h.emulator.admin.addInstance({
      status: 'Stopped',
      disks: [{ type: 'system', category: 'cloud_essd' }],
    });
    const point = await seedPoint(added.instanceId, added.diskIds);
    const call = () =>
      h.call('POST', `/api/v1/backups/${point.id}/restore`, {
        body: { mode: 'rollback-instance' },
        headers: { 'idempotency-key': `restore-${point.id}` },
      });
    const first = await call();
    const retry = await call();
    expect(first.status).toBe(202);
    expect(retry.body.id).toBe(first.body.id);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(await drainQueue()).toHaveLength(1);
  });
});

describe('POST /backups/{id}/mount, GET /mounts, POST /mounts/{jobId}/unmount', () => {
  it('starts a mount job with the default TTL', async () => {
    const point = await seedPoint(WEB, ['d-rwebsys1', 'd-rwebdat1']);
    const r = await h.call('POST', `/api/v1/backups/${point.id}/mount`, {
      body: { diskId: 'd-rwebdat1', targetInstanceId: OTHER },
    });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({
      type: 'mount',
      instanceId: OTHER,
      params: { ttlHours: 24, diskId: 'd-rwebdat1' },
    });
  });

  it.each([
    [{}, ['diskId', 'targetInstanceId']],
    [{ diskId: 'd-rwebdat1', targetInstanceId: OTHER, ttlHours: 0 }, ['ttlHours']],
    [{ diskId: 'd-rwebdat1', targetInstanceId: OTHER, ttlHours: 169 }, ['ttlHours']],
    [{ diskId: 'd-rwebdat1', targetInstanceId: OTHER, ttlHours: 1.5 }, ['ttlHours']],
    [{ diskId: 'd-rwebdat1', targetInstanceId: OTHER, mode: 'ro' }, ['mode']],
  ])('400 naming the field for %j', async (body, expected) => {
    const r = await h.call('POST', '/api/v1/backups/bp-any/mount', { body });
    expect(r.status).toBe(400);
    expect(paths(r)).toEqual(expected);
  });

  it('400 for a bad path id, 404 for an unknown backup, 409 for a target that cannot take a disk', async () => {
    const bad = await h.call('POST', '/api/v1/backups/bad%20id/mount', {
      body: { diskId: 'd-rwebdat1', targetInstanceId: OTHER },
    });
    expect(bad.status).toBe(400);
    expect(paths(bad)).toEqual(['path.backupId']);
    const unknown = await h.call('POST', '/api/v1/backups/bp-nothing/mount', {
      body: { diskId: 'd-rwebdat1', targetInstanceId: OTHER },
    });
    expect(unknown.status).toBe(404);
    await h.emulator.admin.updateInstance({ instanceId: STARTING, status: 'Starting' });
    const point = await seedPoint(WEB, ['d-rwebsys1']);
    const busy = await h.call('POST', `/api/v1/backups/${point.id}/mount`, {
      body: { diskId: 'd-rwebsys1', targetInstanceId: STARTING },
    });
    expect(busy.status).toBe(409);
    expect(busy.body.detail).toContain('Starting');
  });

  it('GET /mounts lists the active mounts only; unmount answers 202, 404 and 409 by the mount state', async () => {
    const point = await seedPoint(WEB, ['d-rwebsys1'], { inUseBy: ['job-mount-active'] });
    const state = {
      pointId: point.id,
      targets: [{ diskId: 'd-rwebsys1', snapshotId: point.snapshots[0]!.snapshotId, category: 'cloud_essd' }],
      diskId: 'd-mounted01',
      device: '/dev/xvdc',
      mountedAt: T0,
      expiresAt: T0 + 24 * 3_600_000,
    };
    await h.store.jobs.create(
      aJob({ id: 'job-mount-active', type: 'mount', instanceId: OTHER, state, createdAt: T0 }),
    );
    await h.store.jobs.create(
      aJob({
        id: 'job-mount-gone',
        type: 'mount',
        instanceId: OTHER,
        state: { ...state, diskId: 'd-old' },
        createdAt: T0,
      }),
    );
    await h.store.jobs.create(
      aJob({ id: 'job-mount-running', type: 'mount', status: 'RUNNING', instanceId: OTHER, createdAt: T0 }),
    );

    const mounts = await h.call('GET', '/api/v1/mounts');
    expect(mounts.status).toBe(200);
    expect(mounts.body.items).toEqual([
      {
        jobId: 'job-mount-active',
        backupId: point.id,
        instanceId: OTHER,
        diskId: 'd-mounted01',
        device: '/dev/xvdc',
        sourceDiskId: 'd-rwebsys1',
        snapshotId: point.snapshots[0]!.snapshotId,
        mountedAt: new Date(T0).toISOString(),
        expiresAt: new Date(T0 + 24 * 3_600_000).toISOString(),
        unmount: null,
      },
    ]);

    const unmount = await h.call('POST', '/api/v1/mounts/job-mount-active/unmount');
    expect(unmount.status).toBe(202);
    expect(unmount.body).toMatchObject({
      id: 'unmount-job-mount-active',
      type: 'unmount',
      instanceId: OTHER,
      params: { mountJobId: 'job-mount-active', trigger: 'api' },
    });
    const twice = await h.call('POST', '/api/v1/mounts/job-mount-active/unmount');
    expect(twice.body.id).toBe('unmount-job-mount-active');
    const listed = await h.call('GET', '/api/v1/mounts');
    expect(listed.body.items[0].unmount).toMatchObject({
      jobId: 'unmount-job-mount-active',
      status: 'QUEUED',
    });

    expect((await h.call('POST', '/api/v1/mounts/job-nothing/unmount')).status).toBe(404);
    expect((await h.call('POST', '/api/v1/mounts/job-rec-not-a-mount/unmount')).status).toBe(404);
    const running = await h.call('POST', '/api/v1/mounts/job-mount-running/unmount');
    expect(running.status).toBe(409);
    expect(running.body.detail).toContain('cancel it instead');
    const gone = await h.call('POST', '/api/v1/mounts/job-mount-gone/unmount');
    expect(gone.status).toBe(409);
    expect((await h.call('GET', '/api/v1/mounts', { query: { limit: '0' } })).status).toBe(400);
  });

  it('DELETE /backups/{id} is refused with 409 while a mount or restore holds the point', async () => {
    const point = await seedPoint(WEB, ['d-rwebsys1'], { inUseBy: ['job-holding'] });
    const r = await h.call('DELETE', `/api/v1/backups/${point.id}`);
    expect(r.status).toBe(409);
    expect(r.body.detail).toContain('job-holding');
    expect((await h.store.points.get(point.id))!.status).toBe('AVAILABLE');
  });
});
