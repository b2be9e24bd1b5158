import { afterEach, describe, expect, it } from 'vitest';
import { isTerminal } from '../../../lib/domain/job.js';
import type { Job, Plan } from '../../../lib/domain/model.js';
import { newPlan } from '../../../lib/domain/plan.js';
import type { VerifyRule } from '../../../lib/domain/verification.js';
import { TAG_JOB } from '../../../lib/usecases/backup/ownership.js';
import { createSubscription } from '../../../lib/usecases/notify/subscriptions.js';
import { sweepVerifyOrphans } from '../../../lib/usecases/verify/orphans.js';
import { MANAGED_BY_VALUE, TAG_MANAGED_BY } from '../../../lib/usecases/backup/ownership.js';
import { verifyIfDue } from '../../../lib/usecases/verify/enqueue.js';
import { requestCancel } from '../../../lib/usecases/cancel-job.js';
import { TAG_VERIFY, verifyJobId, type VerifyState } from '../../../lib/usecases/verify/state.js';
import { harness, jobOf, startBackup, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function planFor(h: Harness, instanceId: string, verify: VerifyRule): Promise<Plan> {
  let n = 0;
  const plan = newPlan(
    { instanceId, disks: 'all', retention: { value: 7, unit: 'days' }, verify },
    { next: (p) => `${p}verify${(n += 1)}` },
    h.clock.now(),
    () => 0.5,
  );
  const written = await h.deps.store.plans.create(plan);
  if (!written.ok) throw new Error('plan not written');
  return written.value;
}

/** A complete backup of the instance under the plan; returns the backup job (drained to its end). */
async function backup(h: Harness, instanceId: string, planId: string): Promise<Job> {
  const job = await startBackup(h, instanceId, {}, { planId });
  await h.drain({ until: async () => isTerminal((await jobOf(h, job.id)).status) });
  return jobOf(h, job.id);
}

async function verifyOf(h: Harness, backupJob: Job): Promise<Job | undefined> {
  const pointId = (backupJob.state as { pointId?: string }).pointId ?? '';
  const id = verifyJobId(pointId);
  const found = await h.deps.store.jobs.get(id);
  if (!found) return undefined;
  await h.drain({ until: async () => isTerminal((await jobOf(h, id)).status) });
  return jobOf(h, id);
}

function disksTaggedWith(h: Harness, jobId: string) {
  return [...h.ecs.disks.values()].filter((d) => d.tags.some((t) => t.key === TAG_JOB && t.value === jobId));
}

describe('verify jobs', () => {
  it('verifies a complete backup: disks from its snapshots on the instance, a passed verdict, nothing left', async () => {
    // Prepare
    h = harness();
    const { instanceId, diskIds } = h.ecs.addInstance();
    const plan = await planFor(h, instanceId, { every: 1 });
    // Act
    const done = await backup(h, instanceId, plan.id);
    const verify = await verifyOf(h, done);
    // Assess
    expect(verify?.status, verify?.reason ?? '').toBe('COMPLETE');
    const st = verify!.state as VerifyState;
    expect(st.helperId).toBe(instanceId);
    expect(st.disks?.map((d) => d.sourceDiskId).sort()).toEqual([...diskIds].sort());
    expect(h.ecs.createdDisks).toBe(diskIds.length);
    expect(disksTaggedWith(h, verify!.id)).toEqual([]);
    const point = await h.deps.store.points.get(st.pointId!);
    expect(point?.verification).toMatchObject({ status: 'passed', jobId: verify!.id });
    expect(point?.inUseBy).toEqual([]);
    expect(verify?.reason).toMatch(/^verification passed/);
  });

  it('verifies every Nth complete backup only, counting each backup once', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    const plan = await planFor(h, instanceId, { every: 2 });
    const first = await backup(h, instanceId, plan.id);
    const second = await backup(h, instanceId, plan.id);
    const third = await backup(h, instanceId, plan.id);
    expect(await verifyOf(h, first)).toBeUndefined();
    expect((await verifyOf(h, second))?.status).toBe('COMPLETE');
    expect(await verifyOf(h, third)).toBeUndefined();
    // The record step of the third backup, run again (a redelivery), neither counts nor verifies again.
    const point = (await h.deps.store.points.get((third.state as { pointId: string }).pointId))!;
    expect(await verifyIfDue(h.deps, plan.id, point)).toBeNull();
    expect((await h.deps.store.plans.get(plan.id))?.verifyCounter).toEqual({
      count: 3,
      lastPointId: point.id,
    });
  });

  it('records a failed verdict with the reason, raises backup.verification-failed and removes the disks', async () => {
    h = harness({ WEBHOOK_ALLOW_PRIVATE: 'true' });
    const sub = await createSubscription(h.deps, {
      url: 'http://127.0.0.1:9/hook',
      events: ['backup.verification-failed'],
    });
    if (!sub.ok) throw new Error(JSON.stringify(sub));
    const { instanceId } = h.ecs.addInstance();
    const plan = await planFor(h, instanceId, { every: 1 });
    h.ecs.guest = {
      ...h.ecs.guest,
      verify: {
        result: 'failed',
        reason: 'file-system check of disk d-x (/dev/vdc) found errors (fsck exit 4)',
      },
    };
    const verify = await verifyOf(h, await backup(h, instanceId, plan.id));
    expect(verify?.status).toBe('FAILED');
    const st = verify!.state as VerifyState;
    const point = await h.deps.store.points.get(st.pointId!);
    expect(point?.verification).toMatchObject({ status: 'failed', jobId: verify!.id });
    expect(point?.verification?.reason).toContain('fsck exit 4');
    expect(disksTaggedWith(h, verify!.id)).toEqual([]);
    const deliveries = (await h.deps.store.deliveries.list(sub.value.id)).items;
    expect(deliveries.map((d) => d.eventType)).toEqual(['backup.verification-failed']);
  });

  it('a helper that cannot take the disks fails the verification with that reason, creating nothing', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    const plan = await planFor(h, instanceId, { every: 1 });
    const done = await backup(h, instanceId, plan.id);
    // The verify job is queued; the instance stops before it runs.
    h.ecs.instances.get(instanceId)!.status = 'Stopped';
    const verify = await verifyOf(h, done);
    expect(verify?.status).toBe('FAILED');
    const point = await h.deps.store.points.get((done.state as { pointId: string }).pointId);
    expect(point?.verification?.status).toBe('failed');
    expect(point?.verification?.reason).toMatch(/is Stopped, not Running.*helperInstanceId/);
    expect(h.ecs.createdDisks).toBe(0);
  });

  it('a cancel while the check runs waits for the command, deletes the disks and records no verdict', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    const plan = await planFor(h, instanceId, { every: 1 });
    h.ecs.guest = { ...h.ecs.guest, status: 'Running' };
    const done = await backup(h, instanceId, plan.id);
    const id = verifyJobId((done.state as { pointId: string }).pointId);
    await h.drain({ until: async () => (await jobOf(h!, id)).step === 'wait-guest' });
    expect(disksTaggedWith(h, id)).toHaveLength(2);
    expect('error' in (await requestCancel(h.deps, id))).toBe(false);
    // The command is still running: the disks stay attached until it has ended.
    await h.drain({ maxSteps: 20 });
    expect(disksTaggedWith(h, id).every((d) => d.status === 'In_use')).toBe(true);
    for (const inv of h.ecs.invocations.values()) inv.status = 'Success';
    await h.drain({ until: async () => isTerminal((await jobOf(h!, id)).status) });
    expect((await jobOf(h!, id)).status).toBe('CANCELED');
    expect(disksTaggedWith(h, id)).toEqual([]);
    const point = await h.deps.store.points.get((done.state as { pointId: string }).pointId);
    expect(point?.verification).toBeUndefined();
    expect(point?.inUseBy).toEqual([]);
  });

  it("a backup of the instance leaves out a verification's disks attached to it", async () => {
    h = harness();
    const { instanceId, diskIds } = h.ecs.addInstance();
    const temporary = h.ecs.addDisk(instanceId);
    h.ecs.disks.get(temporary)!.tags = [{ key: TAG_VERIFY, value: 'bp-1.verify' }];
    const job = await startBackup(h, instanceId);
    await h.drain({ until: async () => isTerminal((await jobOf(h!, job.id)).status) });
    const point = await h.deps.store.points.get((await jobOf(h!, job.id)).state.pointId as string);
    expect(point?.snapshots.map((s) => s.diskId).sort()).toEqual([...diskIds].sort());
  });

  it('the hourly sweep removes disks of ended verifications and keeps those of live ones', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    const plan = await planFor(h, instanceId, { every: 1 });
    h.ecs.guest = { ...h.ecs.guest, status: 'Running' };
    const done = await backup(h, instanceId, plan.id);
    const id = verifyJobId((done.state as { pointId: string }).pointId);
    await h.drain({ until: async () => (await jobOf(h!, id)).step === 'wait-guest' });
    // A verification left behind by a clean-up that gave up: its job ended, its disk is still attached.
    const left = h.ecs.addDisk(instanceId);
    h.ecs.disks.get(left)!.tags = [
      { key: TAG_MANAGED_BY, value: MANAGED_BY_VALUE },
      { key: TAG_JOB, value: 'bp-gone.verify' },
      { key: TAG_VERIFY, value: 'bp-gone.verify' },
    ];
    expect(await sweepVerifyOrphans(h.deps)).toEqual({ detached: [left], deleted: [] });
    expect(await sweepVerifyOrphans(h.deps)).toEqual({ detached: [], deleted: [left] });
    expect(h.ecs.disks.has(left)).toBe(false);
    // The running verification's disks are its own to remove.
    expect(disksTaggedWith(h, id)).toHaveLength(2);
  });
});
