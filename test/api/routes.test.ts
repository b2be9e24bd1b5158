import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownershipTags } from '../../lib/usecases/backup/ownership.js';
import { aJob, aPoint, dailyPlan, DAY } from './fixtures.js';
import { startHarness, T0, type Harness } from './harness.js';

/**
 * Every route's happy path, in the order an operator meets them, on the SQLite store, the embedded
 * queue and the ECS emulator behind the real adapter.
 */

const WEB = 'i-web00001';
const DB = 'i-db000001';
const WIN = 'i-win00001';
const HOUR = 3_600_000;

let h: Harness;
const disks: Record<string, string[]> = {};

beforeAll(async () => {
  h = await startHarness({
    seed: {
      instances: [
        {
          instanceId: WEB,
          instanceName: 'web',
          osType: 'linux',
          disks: [
            { diskId: 'd-websys01', type: 'system', category: 'cloud_essd', sizeGiB: 40 },
            { diskId: 'd-webdata1', type: 'data', category: 'cloud_essd', sizeGiB: 100 },
          ],
        },
        {
          instanceId: DB,
          instanceName: 'db',
          osType: 'linux',
          disks: [{ diskId: 'd-dbsys001', type: 'system', category: 'cloud_ssd' }],
        },
        {
          instanceId: WIN,
          instanceName: 'win',
          osType: 'windows',
          agent: false,
          disks: [{ diskId: 'd-winsys01', type: 'system', category: 'cloud_essd' }],
        },
      ],
    },
  });
  for (const id of [WEB, DB, WIN])
    disks[id] = (await h.deps.ecs.describeInstanceDisks(id)).map((d) => d.diskId);
});
afterAll(async () => h?.close());

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

describe('instances', () => {
  it('GET /instances lists ECS instances with disks, agent status and protection, paged by id', async () => {
    const r = await h.call('GET', '/api/v1/instances');
    expect(r.status).toBe(200);
    expect(r.body.nextCursor).toBeNull();
    const byId = Object.fromEntries(r.body.items.map((i: { instanceId: string }) => [i.instanceId, i]));
    expect(Object.keys(byId).sort()).toEqual([DB, WEB, WIN].sort());
    expect(byId[WEB]).toMatchObject({
      name: 'web',
      osType: 'linux',
      status: 'Running',
      cloudAssistant: 'running',
      protection: { protected: false, planId: null, planName: null, planState: null, disks: null },
    });
    expect(
      byId[WEB].disks.map((d: { diskId: string; type: string; category: string }) => [
        d.diskId,
        d.type,
        d.category,
      ]),
    ).toEqual([
      ['d-websys01', 'system', 'cloud_essd'],
      ['d-webdata1', 'data', 'cloud_essd'],
    ]);
    expect(byId[WIN]).toMatchObject({ osType: 'windows', cloudAssistant: 'not-running' });

    const first = await h.call('GET', '/api/v1/instances', { query: { limit: '2' } });
    expect(first.body.items).toHaveLength(2);
    const second = await h.call('GET', '/api/v1/instances', {
      query: { limit: '2', cursor: first.body.nextCursor },
    });
    expect(second.body.items).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
    const ids = [...first.body.items, ...second.body.items].map((i: { instanceId: string }) => i.instanceId);
    expect(ids).toEqual([...ids].sort());
  });
});

let webPlanId = '';

describe('protected instances', () => {
  it('POST /protected-instances with a scheduled plan protects without a backup now', async () => {
    const r = await h.call('POST', '/api/v1/protected-instances', {
      body: { instanceId: WEB, disks: 'all', plan: dailyPlan },
    });
    expect(r.status).toBe(201);
    expect(r.headers.location).toBe(`/api/v1/protected-instances/${WEB}`);
    expect(r.body.job).toBeNull();
    expect(r.body.protectedInstance).toMatchObject({
      instanceId: WEB,
      disks: 'all',
      planId: r.body.plan.id,
      version: 1,
    });
    expect(r.body.plan).toMatchObject({
      name: 'web-daily',
      instanceId: WEB,
      state: 'ACTIVE',
      retention: { value: 30, unit: 'days' },
      longTerm: [{ period: 'month', keep: { value: 1, unit: 'years' } }],
      consistency: { applicationConsistent: true, fsFreeze: true, windowsWriters: true, timeoutSeconds: 30 },
      timeZone: 'UTC',
      keepLatest: true,
      // 2026-12-01T02:00:00+08:00 is the first occurrence at or after now.
      nextRunAt: '2026-11-30T18:00:00.000Z',
    });
    webPlanId = r.body.plan.id;
    expect(await drainQueue()).toEqual([]);

    const listed = await h.call('GET', '/api/v1/instances', { query: { protected: 'true' } });
    expect(listed.body.items.map((i: { instanceId: string }) => i.instanceId)).toEqual([WEB]);
    expect(listed.body.items[0].protection).toMatchObject({
      protected: true,
      planId: webPlanId,
      planName: 'web-daily',
      planState: 'ACTIVE',
    });
  });

  it('POST /protected-instances without a plan protects and starts one backup now', async () => {
    h.clock.advance(1000);
    const r = await h.call('POST', '/api/v1/protected-instances', { body: { instanceId: DB } });
    expect(r.status).toBe(201);
    expect(r.body.plan).toBeNull();
    expect(r.body.protectedInstance).toMatchObject({ instanceId: DB, disks: 'all', planId: null });
    expect(r.body.job).toMatchObject({
      type: 'backup',
      status: 'QUEUED',
      instanceId: DB,
      planId: null,
      step: 'start',
      progress: 0,
      params: {
        disks: 'all',
        retention: { value: 30, unit: 'days' },
        trigger: 'manual',
        keepLatest: true,
        timeZone: 'UTC',
      },
    });
    expect(await drainQueue()).toEqual([JSON.stringify({ v: 1, jobId: r.body.job.id })]);
    const stored = await h.store.jobs.get(r.body.job.id);
    expect(stored?.status).toBe('QUEUED');
  });

  it('GET /protected-instances lists newest first with the plan; GET one by id', async () => {
    const r = await h.call('GET', '/api/v1/protected-instances');
    expect(r.status).toBe(200);
    expect(r.body.items.map((p: { instanceId: string }) => p.instanceId)).toEqual([DB, WEB]);
    expect(r.body.items[1].plan.id).toBe(webPlanId);
    const one = await h.call('GET', `/api/v1/protected-instances/${WEB}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ instanceId: WEB, planId: webPlanId, plan: { name: 'web-daily' } });
  });

  it('POST /protected-instances/{id}/backups takes one backup with the request over the plan', async () => {
    const r = await h.call('POST', `/api/v1/protected-instances/${WEB}/backups`, {
      body: {
        disks: ['d-webdata1'],
        retention: { value: 3, unit: 'days' },
        consistency: { fsFreeze: false },
      },
    });
    expect(r.status).toBe(202);
    expect(r.headers.location).toBe(`/api/v1/jobs/${r.body.id}`);
    expect(r.body.params).toMatchObject({
      disks: ['d-webdata1'],
      retention: { value: 3, unit: 'days' },
      longTerm: [{ period: 'month', keep: { value: 1, unit: 'years' } }],
      consistency: { applicationConsistent: true, fsFreeze: false },
      trigger: 'manual',
    });
    expect(await drainQueue()).toEqual([JSON.stringify({ v: 1, jobId: r.body.id })]);
  });
});

describe('plans', () => {
  it('GET /plans filters by instance and state; GET /plans/{id}', async () => {
    const all = await h.call('GET', '/api/v1/plans');
    expect(all.body.items.map((p: { id: string }) => p.id)).toEqual([webPlanId]);
    const none = await h.call('GET', '/api/v1/plans', { query: { instanceId: DB } });
    expect(none.body.items).toEqual([]);
    const suspended = await h.call('GET', '/api/v1/plans', { query: { state: 'SUSPENDED' } });
    expect(suspended.body.items).toEqual([]);
    const one = await h.call('GET', `/api/v1/plans/${webPlanId}`);
    expect(one.body).toMatchObject({ id: webPlanId, name: 'web-daily', version: 1 });
  });

  it('PATCH /plans/{id} changes interval, start, retention, disks, consistency and name', async () => {
    const r = await h.call('PATCH', `/api/v1/plans/${webPlanId}`, {
      body: {
        name: 'web-6h',
        schedule: { startAt: '2026-06-01T06:00:00Z', every: { value: 6, unit: 'hours' } },
        retention: { value: 2, unit: 'weeks' },
        disks: ['d-websys01'],
        consistency: { timeoutSeconds: 90 },
      },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      name: 'web-6h',
      schedule: { startAt: '2026-06-01T06:00:00Z', every: { value: 6, unit: 'hours' } },
      retention: { value: 2, unit: 'weeks' },
      disks: ['d-websys01'],
      consistency: { applicationConsistent: true, fsFreeze: true, timeoutSeconds: 90 },
      nextRunAt: '2026-06-01T06:00:00.000Z',
      version: 2,
    });
    const removed = await h.call('PATCH', `/api/v1/plans/${webPlanId}`, { body: { schedule: null } });
    expect(removed.body).toMatchObject({ schedule: null, nextRunAt: null, version: 3 });
    const back = await h.call('PATCH', `/api/v1/plans/${webPlanId}`, {
      body: { schedule: { startAt: '2026-06-01T06:00:00Z', every: { value: 6, unit: 'hours' } } },
    });
    expect(back.body.nextRunAt).toBe('2026-06-01T06:00:00.000Z');
  });

  it('POST /plans/{id}/suspend stops scheduling; resume continues from now without a burst', async () => {
    const s = await h.call('POST', `/api/v1/plans/${webPlanId}/suspend`);
    expect(s.status).toBe(200);
    expect(s.body).toMatchObject({ state: 'SUSPENDED', nextRunAt: null });
    const again = await h.call('POST', `/api/v1/plans/${webPlanId}/suspend`);
    expect(again.body.version).toBe(s.body.version);

    // Two days suspended: eight 6-hourly occurrences pass.
    h.clock.advance(2 * DAY + 7 * HOUR);
    const r = await h.call('POST', `/api/v1/plans/${webPlanId}/resume`);
    expect(r.status).toBe(200);
    const next = Date.parse(r.body.nextRunAt);
    expect(r.body.state).toBe('ACTIVE');
    expect(next).toBeGreaterThanOrEqual(h.clock.now());
    expect(next - h.clock.now()).toBeLessThan(6 * HOUR);
    expect(new Date(next).toISOString()).toBe('2026-06-03T12:00:00.000Z');
  });

  it('POST /plans/{id}/run starts a manual backup with the plan settings', async () => {
    const r = await h.call('POST', `/api/v1/plans/${webPlanId}/run`);
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({
      instanceId: WEB,
      planId: webPlanId,
      status: 'QUEUED',
      params: { disks: ['d-websys01'], retention: { value: 2, unit: 'weeks' }, trigger: 'manual' },
    });
    expect(await drainQueue()).toEqual([JSON.stringify({ v: 1, jobId: r.body.id })]);
  });

  it('POST /plans binds a plan to an instance protected without one', async () => {
    const r = await h.call('POST', '/api/v1/plans', {
      body: { instanceId: DB, plan: { retention: { value: 7, unit: 'days' } } },
    });
    expect(r.status).toBe(201);
    expect(r.headers.location).toBe(`/api/v1/plans/${r.body.id}`);
    expect(r.body).toMatchObject({
      instanceId: DB,
      schedule: null,
      nextRunAt: null,
      name: expect.stringMatching(/^plan-[a-z]+-[a-z]+-\d{4}$/),
    });
    const pi = await h.call('GET', `/api/v1/protected-instances/${DB}`);
    expect(pi.body.planId).toBe(r.body.id);
  });

  it('GET /plans/{id}/retention-preview tells which points the plan keeps and deletes, and why', async () => {
    const now = h.clock.now();
    await h.store.points.create(aPoint({ id: 'pt-web-old', instanceId: WEB, completedAt: now - 40 * DAY }));
    await h.store.points.create(aPoint({ id: 'pt-web-mid', instanceId: WEB, completedAt: now - 38 * DAY }));
    await h.store.points.create(aPoint({ id: 'pt-web-jun', instanceId: WEB, completedAt: T0 + HOUR }));
    await h.store.points.create(aPoint({ id: 'pt-web-new', instanceId: WEB, completedAt: now - DAY }));
    const r = await h.call('GET', `/api/v1/plans/${webPlanId}/retention-preview`);
    expect(r.status).toBe(200);
    const byId = Object.fromEntries(r.body.points.map((p: { backupId: string }) => [p.backupId, p]));
    // Retention is 2 weeks now; the monthly long-term rule keeps the first point of each month.
    expect(byId['pt-web-new']).toMatchObject({
      decision: 'keep',
      reason: expect.stringContaining('retention'),
    });
    expect(byId['pt-web-old']).toMatchObject({
      decision: 'keep',
      reason: expect.stringContaining('long-term'),
    });
    expect(byId['pt-web-jun']).toMatchObject({
      decision: 'keep',
      reason: expect.stringContaining('long-term'),
    });
    expect(byId['pt-web-mid']).toMatchObject({
      decision: 'delete',
      reason: expect.stringContaining('ended'),
    });
    expect(r.body).toMatchObject({ planId: webPlanId, keep: 3, delete: 1 });
  });
});

describe('jobs', () => {
  it('GET /jobs filters by type, status, instance, plan and time, newest first, with cursor paging', async () => {
    await h.store.jobs.create(
      aJob({
        id: 'job-seed-a',
        instanceId: WEB,
        planId: webPlanId,
        createdAt: T0 - 3 * DAY,
        status: 'FAILED',
      }),
    );
    await h.store.jobs.create(
      aJob({ id: 'job-seed-b', instanceId: WEB, planId: webPlanId, createdAt: T0 - 2 * DAY }),
    );
    const all = await h.call('GET', '/api/v1/jobs');
    const created = all.body.items.map((j: { createdAt: string }) => Date.parse(j.createdAt));
    expect(created).toEqual([...created].sort((a, b) => b - a));
    expect(all.body.items.length).toBeGreaterThanOrEqual(5);

    const failed = await h.call('GET', '/api/v1/jobs', { query: { status: 'FAILED,CANCELED' } });
    expect(failed.body.items.map((j: { id: string }) => j.id)).toEqual(['job-seed-a']);
    const ofPlan = await h.call('GET', '/api/v1/jobs', {
      query: { planId: webPlanId, type: 'backup', instanceId: WEB },
    });
    expect(ofPlan.body.items.every((j: { planId: string }) => j.planId === webPlanId)).toBe(true);
    const window = await h.call('GET', '/api/v1/jobs', {
      query: { from: new Date(T0 - 3 * DAY).toISOString(), to: new Date(T0 - 2 * DAY).toISOString() },
    });
    expect(window.body.items.map((j: { id: string }) => j.id)).toEqual(['job-seed-a']);

    const p1 = await h.call('GET', '/api/v1/jobs', { query: { limit: '2', order: 'asc' } });
    const p2 = await h.call('GET', '/api/v1/jobs', {
      query: { limit: '2', order: 'asc', cursor: p1.body.nextCursor },
    });
    expect(p1.body.items.map((j: { id: string }) => j.id)).toEqual(['job-seed-a', 'job-seed-b']);
    expect(p2.body.items).toHaveLength(2);
  });

  it('GET /jobs/{id} shows step, progress, consistency achieved and why, errors', async () => {
    await h.store.points.create(
      aPoint({
        id: 'pt-from-job',
        instanceId: WEB,
        jobId: 'job-with-point',
        consistency: {
          requested: 'application',
          achieved: 'filesystem',
          reason: 'pre-script missing',
          freezeWindowMs: 420,
        },
      }),
    );
    await h.store.jobs.create(
      aJob({
        id: 'job-with-point',
        instanceId: WEB,
        state: { pointId: 'pt-from-job' },
        errors: [{ code: 'Throttling', message: 'retried', at: T0 - DAY }],
      }),
    );
    const r = await h.call('GET', '/api/v1/jobs/job-with-point');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      status: 'COMPLETE',
      progress: 100,
      step: 'done',
      backupId: 'pt-from-job',
      consistency: {
        requested: 'application',
        achieved: 'filesystem',
        reason: 'pre-script missing',
        freezeWindowMs: 420,
      },
      errors: [{ code: 'Throttling', message: 'retried', at: new Date(T0 - DAY).toISOString() }],
    });
  });

  it('POST /jobs/{id}/cancel cancels a job that has not started; a finished one is a conflict', async () => {
    await h.store.jobs.create(
      aJob({
        id: 'job-queued',
        instanceId: WEB,
        status: 'QUEUED',
        step: 'start',
        progress: 0,
        finishedAt: null,
        startedAt: null,
      }),
    );
    const r = await h.call('POST', '/api/v1/jobs/job-queued/cancel');
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ id: 'job-queued', status: 'CANCELED', cancelRequested: true });
    const done = await h.call('POST', '/api/v1/jobs/job-with-point/cancel');
    expect(done.status).toBe(409);
    expect(done.body.detail).toContain('COMPLETE');
  });
});

describe('backups', () => {
  it('GET /backups by instance and time range, newest first; GET /backups/{id}', async () => {
    const now = h.clock.now();
    const r = await h.call('GET', '/api/v1/backups', { query: { instanceId: WEB } });
    expect(r.body.items.map((p: { id: string }) => p.id)).toEqual([
      'pt-web-new',
      'pt-web-jun',
      'pt-from-job',
      'pt-web-mid',
      'pt-web-old',
    ]);
    const range = await h.call('GET', '/api/v1/backups', {
      query: {
        instanceId: WEB,
        from: new Date(now - 39 * DAY).toISOString().replace(/\.\d+Z$/, 'Z'),
        to: new Date(now - 30 * DAY).toISOString().replace(/\.\d+Z$/, 'Z'),
      },
    });
    expect(range.body.items.map((p: { id: string }) => p.id)).toEqual(['pt-web-mid']);
    const one = await h.call('GET', '/api/v1/backups/pt-web-mid');
    expect(one.body).toMatchObject({
      id: 'pt-web-mid',
      kind: 'group',
      status: 'AVAILABLE',
      snapshots: [
        { diskId: 'd-sys0001', diskType: 'system', category: 'cloud_essd', sizeGiB: 40, device: null },
      ],
      consistency: { requested: 'crash', achieved: 'crash' },
      longTermUntil: null,
    });
  });

  it('PATCH /backups/{id} sets the expiry; a long-term keep still holds the point until its own date', async () => {
    const now = h.clock.now();
    const longTermUntil = now + 300 * DAY;
    await h.store.points.create(
      aPoint({
        id: 'pt-long',
        instanceId: WEB,
        completedAt: now - DAY,
        longTermUntil,
        longTermRule: 'month',
      }),
    );
    const expireAt = '2027-01-01T00:00:00+08:00';
    const r = await h.call('PATCH', '/api/v1/backups/pt-long', { body: { expireAt } });
    expect(r.status).toBe(200);
    expect(r.body.expireAt).toBe('2026-12-31T16:00:00.000Z');
    expect(r.body.effectiveExpireAt).toBe(new Date(longTermUntil).toISOString());
    const later = await h.call('PATCH', '/api/v1/backups/pt-long', {
      body: { expireAt: '2028-01-01T00:00:00Z' },
    });
    expect(later.body.effectiveExpireAt).toBe('2028-01-01T00:00:00.000Z');
    expect((await h.store.points.get('pt-long'))?.effectiveExpireAt).toBe(Date.parse('2028-01-01T00:00:00Z'));
  });

  it('DELETE /backups/{id} deletes its snapshot group in ECS and marks it DELETED', async () => {
    const group = await h.deps.ecs.createSnapshotGroup({
      instanceId: WEB,
      diskIds: disks[WEB]!,
      name: 'ecsb-test-group',
      tags: ownershipTags({ id: 'job-manual-del', planId: null, instanceId: WEB }),
      clientToken: 'token-del-1',
    });
    await h.store.points.create(aPoint({ id: 'pt-real', instanceId: WEB, snapshotGroupId: group }));
    const r = await h.call('DELETE', '/api/v1/backups/pt-real');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: 'pt-real', status: 'DELETED' });
    expect(await h.deps.ecs.describeSnapshotGroups([group])).toEqual([]);
  });
});

describe('removal', () => {
  it('DELETE /plans/{id} deletes the plan, keeps its backups and leaves the instance protected', async () => {
    const r = await h.call('DELETE', `/api/v1/plans/${webPlanId}`);
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
    expect((await h.call('GET', `/api/v1/plans/${webPlanId}`)).status).toBe(404);
    const pi = await h.call('GET', `/api/v1/protected-instances/${WEB}`);
    expect(pi.body).toMatchObject({ planId: null, plan: null });
    expect((await h.call('GET', '/api/v1/backups/pt-web-new')).body.status).toBe('AVAILABLE');
  });

  it('DELETE /protected-instances/{id} stops protection: plans deleted, backups kept', async () => {
    const planId = (await h.call('GET', `/api/v1/protected-instances/${DB}`)).body.planId;
    await h.store.points.create(aPoint({ id: 'pt-db-1', instanceId: DB }));
    const r = await h.call('DELETE', `/api/v1/protected-instances/${DB}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ instanceId: DB, deletedPlanIds: [planId] });
    expect((await h.call('GET', `/api/v1/protected-instances/${DB}`)).status).toBe(404);
    expect((await h.call('GET', `/api/v1/plans/${planId}`)).status).toBe(404);
    expect((await h.call('GET', '/api/v1/backups/pt-db-1')).body.status).toBe('AVAILABLE');
    const listed = await h.call('GET', '/api/v1/instances', { query: { protected: 'false' } });
    expect(listed.body.items.map((i: { instanceId: string }) => i.instanceId).sort()).toEqual(
      [DB, WIN].sort(),
    );
  });

  it('GET /api/v1/openapi.json serves the document', async () => {
    const r = await h.call('GET', '/api/v1/openapi.json');
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe('3.1.0');
    expect(Object.keys(r.body.paths)).toContain('/api/v1/plans/{planId}/retention-preview');
  });
});
