import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '../../local/cloud.js';

/**
 * The console story end to end, through HTTP only, on the local cloud (emulator, SQLite, embedded
 * queue, worker and scheduler all running): list instances, protect one with a plan, run now, watch
 * the job to COMPLETE, modify the plan, suspend, resume, preview retention, delete a backup, stop
 * protection.
 */

let cloud: LocalCloud;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ecsb-api-story-'));
  cloud = await startLocalCloud({ dataDir: dir, port: 0, fast: true });
}, 60_000);

afterAll(async () => {
  await cloud?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

// Tests read arbitrary JSON answers.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function api(method: string, route: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const headers: Record<string, string> = { authorization: `Bearer ${cloud.apiToken}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${cloud.apiUrl}/api/v1${route}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  return { status: r.status, body: text === '' ? undefined : JSON.parse(text) };
}

async function watchJob(jobId: string, timeoutMs = 60_000): Promise<Json> {
  const deadline = Date.now() + timeoutMs;
  const seen = new Set<string>();
  for (;;) {
    const r = await api('GET', `/jobs/${jobId}`);
    expect(r.status).toBe(200);
    seen.add(r.body.status);
    if (
      ['COMPLETE', 'PARTIAL_COMPLETE', 'FAILED', 'CANCELED', 'SKIPPED', 'EXPIRED'].includes(r.body.status)
    ) {
      return { ...r.body, seen: [...seen] };
    }
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${r.body.status} at step ${r.body.step}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Whole seconds, UTC: the schedule format wants seconds and an offset. */
function isoSeconds(t: number): string {
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

describe('the console story over HTTP', () => {
  it('walks from instance list to stopped protection', { timeout: 180_000 }, async () => {
    // Health and auth.
    const health = await fetch(`${cloud.apiUrl}/healthz`);
    expect(health.status).toBe(200);
    const anonymous = await fetch(`${cloud.apiUrl}/api/v1/instances`);
    expect(anonymous.status).toBe(401);

    // 1. List instances: pick an unprotected Linux instance whose disks are all ESSD.
    const instances = await api('GET', '/instances');
    expect(instances.status).toBe(200);
    const target = instances.body.items.find(
      (i: Json) =>
        i.osType === 'linux' &&
        !i.protection.protected &&
        i.cloudAssistant === 'running' &&
        i.disks.length > 0 &&
        i.disks.every((d: Json) => d.category === 'cloud_essd'),
    );
    expect(target, 'an ESSD Linux instance in the seed').toBeDefined();
    const instanceId: string = target.instanceId;

    // 2. Protect it with a daily plan starting tomorrow (so the scheduler stays quiet).
    const startAt = isoSeconds(Date.now() + 86_400_000);
    const protectedResult = await api('POST', '/protected-instances', {
      instanceId,
      disks: 'all',
      plan: {
        name: 'story-daily',
        schedule: { startAt, every: { value: 1, unit: 'days' } },
        retention: { value: 30, unit: 'days' },
        longTerm: [{ period: 'month', keep: { value: 1, unit: 'years' } }],
        consistency: { applicationConsistent: true, fsFreeze: true, timeoutSeconds: 30 },
      },
    });
    expect(protectedResult.status).toBe(201);
    expect(protectedResult.body.job).toBeNull();
    const planId: string = protectedResult.body.plan.id;
    expect(protectedResult.body.plan.nextRunAt).toBe(new Date(Date.parse(startAt)).toISOString());

    // 3. Run now and 4. watch the job to COMPLETE.
    const run = await api('POST', `/plans/${planId}/run`);
    expect(run.status).toBe(202);
    const job = await watchJob(run.body.id);
    expect(job.status, `${job.reason ?? ''} ${JSON.stringify(job.errors)}`).toBe('COMPLETE');
    expect(job.progress).toBe(100);
    expect(job.backupId).toEqual(expect.any(String));
    expect(job.consistency).toMatchObject({ requested: 'application', achieved: expect.any(String) });

    const backups = await api('GET', `/backups?instanceId=${instanceId}`);
    expect(backups.body.items).toHaveLength(1);
    const backup = backups.body.items[0];
    expect(backup).toMatchObject({ id: job.backupId, status: 'AVAILABLE', jobId: job.id, planId });
    expect(backup.snapshots.length).toBe(target.disks.length);

    // 5. Modify the plan: every 12 hours, 7 days of retention.
    const modified = await api('PATCH', `/plans/${planId}`, {
      schedule: { startAt, every: { value: 12, unit: 'hours' } },
      retention: { value: 7, unit: 'days' },
      consistency: { timeoutSeconds: 60 },
    });
    expect(modified.status).toBe(200);
    expect(modified.body).toMatchObject({
      schedule: { every: { value: 12, unit: 'hours' } },
      retention: { value: 7, unit: 'days' },
      consistency: { applicationConsistent: true, timeoutSeconds: 60 },
    });

    // 6. Suspend, 7. resume at the next occurrence.
    const suspended = await api('POST', `/plans/${planId}/suspend`);
    expect(suspended.body).toMatchObject({ state: 'SUSPENDED', nextRunAt: null });
    const resumed = await api('POST', `/plans/${planId}/resume`);
    expect(resumed.body.state).toBe('ACTIVE');
    expect(Date.parse(resumed.body.nextRunAt)).toBe(Date.parse(startAt));

    // 8. Preview retention: the fresh backup is kept, with the reason.
    const preview = await api('GET', `/plans/${planId}/retention-preview`);
    expect(preview.status).toBe(200);
    expect(preview.body.points).toEqual([
      expect.objectContaining({ backupId: backup.id, decision: 'keep', reason: expect.any(String) }),
    ]);

    // 9. Delete the backup, the instance's only good one: refused until confirmed, then its
    // snapshots go away in ECS.
    const unconfirmed = await api('DELETE', `/backups/${backup.id}`);
    expect(unconfirmed.status).toBe(409);
    expect(unconfirmed.body.detail).toContain('?confirm=last-good-backup');
    const deleted = await api('DELETE', `/backups/${backup.id}?confirm=last-good-backup`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.status).toBe('DELETED');
    const groups =
      backup.snapshotGroupId === null
        ? []
        : await cloud.deps.ecs.describeSnapshotGroups([backup.snapshotGroupId]);
    expect(groups).toEqual([]);

    // 10. Stop protection: the plan is gone, the instance unprotected.
    const stopped = await api('DELETE', `/protected-instances/${instanceId}`);
    expect(stopped.status).toBe(200);
    expect(stopped.body.deletedPlanIds).toEqual([planId]);
    expect((await api('GET', `/plans/${planId}`)).status).toBe(404);
    const after = await api('GET', '/instances');
    expect(after.body.items.find((i: Json) => i.instanceId === instanceId).protection.protected).toBe(false);
  });
});
