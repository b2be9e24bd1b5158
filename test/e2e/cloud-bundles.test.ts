import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTablestoreStore } from '../../lib/adapters/tablestore/index.js';
import { newJob } from '../../lib/domain/job.js';
import { timerEvent } from '../../local/runtime/timers.js';
import { startCloudMode, type CloudMode } from '../../local/cloud-mode/index.js';
import { smokeChecks } from '../../infra/smoke.js';
import type { FunctionName } from '../../local/cloud-mode/fc-host.js';
import { E2E_TIMEOUT_MS, isoIn, until } from './support.js';

/**
 * The test that says a deployment will work: the built bundles (not the TypeScript sources), loaded
 * in a process of their own the way FC loads them, driven by FC-shaped events (HTTP trigger, timer,
 * EventBridge MNS CloudEvent arrays with bodies as sent), on the Tablestore, MNS and ECS emulators,
 * signing with STS-style credentials that rotate during the run.
 */
/** A job whose every worker invocation dies without answering (a killed instance). */
const CRASHING_JOB = 'job-crashes-its-worker';

describe('cloud mode: the built bundles on the three emulators', { timeout: E2E_TIMEOUT_MS * 2 }, () => {
  let dir: string;
  let cloud: CloudMode;
  const state: { instanceId?: string; planId?: string; scheduledPointId?: string; runNowPointId?: string } =
    {};

  async function api<T = Record<string, unknown>>(
    method: string,
    route: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const res = await fetch(`${cloud.apiUrl}/api/v1${route}`, {
      method,
      headers: {
        authorization: `Bearer ${cloud.apiToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as T };
  }

  type JobView = {
    id: string;
    status: string;
    step: string;
    reason?: string | null;
    backupId?: string | null;
  };
  const job = async (id: string) => (await api<JobView>('GET', `/jobs/${id}`)).body;
  const terminal = async (id: string, timeoutMs = 60_000) => {
    let last: JobView | undefined;
    try {
      return await until(
        `job ${id} to end`,
        async () => {
          const j = (last = await job(id));
          return ['COMPLETE', 'PARTIAL_COMPLETE', 'FAILED', 'CANCELED', 'SKIPPED'].includes(j.status)
            ? j
            : undefined;
        },
        timeoutMs,
      );
    } catch (err) {
      // Where the job stood when the wait gave up.
      throw new Error(`${(err as Error).message}: ${JSON.stringify(last)}`, { cause: err });
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ecs-backup-cloud-mode-'));
    cloud = await startCloudMode({
      dataDir: dir,
      bundlesDir: path.join(dir, 'bundles'),
      // Built here from the sources, so a clean clone tests what it would deploy.
      build: true,
      timers: false,
      settings: { POLL_INTERVAL_SECONDS: '1', MAX_RECEIVE_COUNT: '3' },
      emulator: {
        snapshotBaseMs: 300,
        snapshotSpeedBytesPerSec: 64 * 1024 * 1024 * 1024,
        asyncOperationMs: 100,
      },
      // EventBridge waits 10-20 s between pushes; a shorter wait keeps the test quick while still
      // letting a push that failed on a slow moment (a loaded machine) succeed on retry.
      retryDelayMs: (attempt) => 500 * attempt,
      crashOn: CRASHING_JOB,
    });
  }, 120_000);
  afterAll(async () => {
    await cloud?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('protect: the API bundle answers through an FC HTTP event and the plan is stored in Tablestore', async () => {
    const { instanceId } = await cloud.ecs.admin.addInstance({
      osType: 'linux',
      status: 'Running',
      disks: [
        { type: 'system', category: 'cloud_essd' },
        { type: 'data', category: 'cloud_essd' },
      ],
    });
    const answer = await api<{ plan: { id: string } }>('POST', '/protected-instances', {
      instanceId,
      disks: 'all',
      plan: {
        // Far enough ahead that a slow protect (5.6 s seen on a loaded machine) still finds it inside
        // the look-ahead, not already past.
        schedule: { startAt: isoIn(15), every: { value: 1, unit: 'days' } },
        retention: { value: 1, unit: 'days' },
        consistency: { applicationConsistent: false },
      },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    state.instanceId = instanceId;
    state.planId = answer.body.plan.id;
    expect((await api('GET', `/plans/${state.planId}`)).status).toBe(200);
  });

  it('scheduled backup: queued by protect on its second, the timer adds no twin, the worker bundle completes it', async () => {
    // The first occurrence falls inside the look-ahead, so protect handed it to the queue already;
    // the timer event reads the plan and collapses onto the same job.
    const tick = (await cloud.tickScheduler()) as { enqueued: number; plans: number };
    expect(tick.plans).toBeGreaterThanOrEqual(0);
    expect(tick.enqueued).toBe(0);
    const listed = await until('the scheduled job', async () => {
      const jobs = await api<{ items: JobView[] }>('GET', `/jobs?planId=${state.planId}`);
      return jobs.body.items[0];
    });
    expect((await api<{ items: JobView[] }>('GET', `/jobs?planId=${state.planId}`)).body.items).toHaveLength(
      1,
    );
    const done = await terminal(listed.id);
    expect(done.status, done.reason ?? '').toBe('COMPLETE');
    state.scheduledPointId = done.backupId ?? undefined;
    expect(state.scheduledPointId).toBeTruthy();
    expect(cloud.triggerStats().pushed).toBeGreaterThan(0);
  });

  it('rotated credentials: the new STS set is accepted everywhere, the expired one refused', async () => {
    const { previous, current } = await cloud.rotateCredentials();
    expect(current.accessKeyId).not.toBe(previous.accessKeyId);

    await expect(
      cloud.host.invoke('scheduler', timerEvent('scheduler-every-minute', new Date()), {
        credentials: previous,
      }),
    ).rejects.toThrow(/OTSAuthFailed|AccessKeyID|access key/i);
    // The next invocation carries the current set, and the same instance signs with it.
    const tick = (await cloud.tickScheduler()) as { plans: number };
    expect(tick.plans).toBeGreaterThanOrEqual(0);
  });

  it('run now, after the rotation: a second backup completes', async () => {
    const run = await api<{ id: string }>('POST', `/plans/${state.planId}/run`);
    expect(run.status, JSON.stringify(run.body)).toBe(202);
    const done = await terminal(run.body.id);
    expect(done.status, done.reason ?? '').toBe('COMPLETE');
    state.runNowPointId = done.backupId ?? undefined;
  });

  it('export: the worker bundle uploads through OSS signed URLs; file and archive download from the OSS emulator', async () => {
    const { instanceId, diskIds } = await cloud.ecs.admin.addInstance({
      osType: 'linux',
      status: 'Running',
      disks: [{ type: 'system', category: 'cloud_essd', sizeGiB: 40, files: { 'etc/hostname': 'cloud\n' } }],
    });
    await cloud.ecs.admin.updateInstance({
      instanceId,
      mounts: [{ device: '/dev/vda1', mountPoint: '/', fsType: 'ext4', diskId: diskIds[0]! }],
    });
    expect((await api('POST', '/protected-instances', { instanceId, disks: 'all' })).status).toBe(201);
    const backup = await api<{ id: string }>('POST', `/protected-instances/${instanceId}/backups`, {});
    expect(backup.status, JSON.stringify(backup.body)).toBe(202);
    const backed = await terminal(backup.body.id);
    expect(backed.status, backed.reason ?? '').toBe('COMPLETE');
    const started = await api<{ export: { id: string } }>('POST', `/backups/${backed.backupId}/exports`, {
      paths: ['/etc'],
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const id = started.body.export.id;
    // Generous: the whole suite runs beside it on two cores.
    const done = await terminal(id, 180_000);
    expect(done.status, done.reason ?? '').toBe('COMPLETE');
    // The small file went up in a pack, and comes back by a range GET of it through the OSS adapter.
    expect(
      [...cloud.oss.state.objects.keys()].filter((k) => k.startsWith(`exports/${id}/packs/`)),
    ).toHaveLength(1);
    const ask = (query: string) =>
      fetch(`${cloud.apiUrl}/api/v1/exports/${id}/download${query}`, {
        headers: { authorization: `Bearer ${cloud.apiToken}` },
        redirect: 'manual',
      });
    const download = async (query: string) => {
      const answer = await ask(query);
      expect(answer.status).toBe(302);
      const location = answer.headers.get('location')!;
      expect(location.startsWith(cloud.oss.endpoint)).toBe(true);
      return Buffer.from(await (await fetch(location)).arrayBuffer());
    };
    const packed = await ask('?path=/etc/hostname');
    expect([packed.status, await packed.text(), packed.headers.get('content-length')]).toEqual([
      200,
      'cloud\n',
      '6',
    ]);
    const archive = gunzipSync(await download(''));
    expect(archive.includes(Buffer.from('cloud\n'))).toBe(true);
    expect(archive.subarray(0, 512).toString('latin1')).toMatch(/^etc\//);
  });

  it('cancel: a backup waiting on a slow snapshot ends CANCELED and its snapshot group is deleted', async () => {
    await cloud.ecs.admin.setSnapshotSpeed({ baseMs: 120_000 });
    try {
      const run = await api<{ id: string }>('POST', `/plans/${state.planId}/run`);
      expect(run.status).toBe(202);
      await until('the job to poll its snapshot', async () => (await job(run.body.id)).step === 'poll');
      const since = Date.now();
      const cancel = await api('POST', `/jobs/${run.body.id}/cancel`);
      expect(cancel.status).toBeLessThan(300);
      const done = await terminal(run.body.id);
      expect(done.status).toBe('CANCELED');
      const deletes = await cloud.ecs.admin.calls({ action: 'DeleteSnapshotGroup', since });
      expect(deletes.filter((c) => c.ok)).toHaveLength(1);
    } finally {
      await cloud.ecs.admin.setSnapshotSpeed({ baseMs: 300 });
    }
  });

  it('retention: the hourly timer event deletes an expired backup and its snapshots, keeps the latest', async () => {
    const expireAt = isoIn(2);
    const patched = await api('PATCH', `/backups/${state.scheduledPointId}`, { expireAt });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    await until('the new expiry to pass', async () => Date.now() > Date.parse(expireAt) + 50);
    const since = Date.now();

    const report = (await cloud.runRetention()) as { deleted: number };

    expect(report.deleted).toBe(1);
    const gone = await api<{ status: string; snapshotGroupId?: string }>(
      'GET',
      `/backups/${state.scheduledPointId}`,
    );
    expect(gone.body.status).toBe('DELETED');
    const kept = await api<{ status: string }>('GET', `/backups/${state.runNowPointId}`);
    expect(kept.body.status).toBe('AVAILABLE');
    const deletes = await cloud.ecs.admin.calls({ action: 'DeleteSnapshotGroup', since });
    expect(deletes.filter((c) => c.ok)).toHaveLength(1);
  });

  it('a poison message ends in the dead-letter queue and its job FAILED', async () => {
    // A job whose parameters the worker cannot read: every delivery throws.
    const store = createTablestoreStore({
      endpoint: cloud.tablestore.endpoint,
      instanceName: cloud.env.TABLESTORE_INSTANCE!,
      credentials: () => cloud.credentials(),
    });
    const jobId = `job-poison-${Date.now()}`;
    await store.jobs.create(
      newJob({ id: jobId, type: 'backup', instanceId: state.instanceId!, params: { disks: 42 } }, Date.now()),
    );
    await cloud.jobQueue.send(JSON.stringify({ v: 1, jobId }));

    const failed = await terminal(jobId, 90_000).catch((err: unknown) => {
      // What the functions said about this job, to tell a slow run from a wrong one.
      const said = cloud.host.logs.filter((l) => l.includes(jobId)).slice(-20);
      throw new Error(
        `${(err as Error).message}\n${said.join('\n')}\ntrigger: ${JSON.stringify(cloud.triggerStats())}`,
      );
    });
    const dead = await until('the dead-lettered message', async () => {
      const messages = await cloud.deadLetterQueue.receive({ max: 10, waitSeconds: 1 });
      return messages.find((m) => m.body.includes(jobId));
    });

    expect(failed.status).toBe('FAILED');
    expect(failed.reason).toMatch(/failed 3 times/);
    expect(JSON.parse(dead.body)).toMatchObject({ jobId });
  });

  it('a job whose worker invocation crashes: sent again on its own, then FAILED with the reason', async () => {
    const store = createTablestoreStore({
      endpoint: cloud.tablestore.endpoint,
      instanceName: cloud.env.TABLESTORE_INSTANCE!,
      credentials: () => cloud.credentials(),
    });
    const jobId = `${CRASHING_JOB}-${Date.now()}`;
    await store.jobs.create(
      newJob(
        { id: jobId, type: 'backup', instanceId: state.instanceId!, params: { disks: 'all' } },
        Date.now(),
      ),
    );
    const deadLettered = () => cloud.triggerStats().deadLettered;
    const before = deadLettered();
    await cloud.jobQueue.send(JSON.stringify({ v: 1, jobId }));
    // EventBridge pushes it 4 times, then dead-letters the event; the tick sends it again alone.
    await until(
      'the crashed event in the dead-letter queue',
      async () => deadLettered() > before || undefined,
    );
    const first = (await cloud.tickScheduler()) as { crashedDeliveries: { resent: number; failed: number } };
    expect(first.crashedDeliveries).toEqual({ resent: 1, failed: 0 });
    // Read from the store: any invocation naming this job dies, the API's too.
    expect((await store.jobs.get(jobId))?.status).toBe('QUEUED');
    // Crashed again on its own: the next tick fails the job.
    await until('the second crashed event', async () => deadLettered() > before + 1 || undefined);
    const second = (await cloud.tickScheduler()) as { crashedDeliveries: { resent: number; failed: number } };
    expect(second.crashedDeliveries).toEqual({ resent: 0, failed: 1 });
    const failed = await until('the job to fail', async () => {
      const j = await store.jobs.get(jobId);
      return j?.status === 'FAILED' ? j : undefined;
    });
    expect(failed.reason).toMatch(
      /stopped without answering \(timeout or out of memory\) on each of the last 8/,
    );
  });

  it('npm run smoke judges the bundles healthy with its harmless events', async () => {
    const results = [];
    for (const check of smokeChecks('ecs-backup', cloud.apiToken)) {
      const fn = check.fn.replace('ecs-backup-', '') as FunctionName;
      results.push({ name: check.name, ...check.judge(await cloud.host.invoke(fn, check.event)) });
    }
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results).toHaveLength(5);
  });
});
