import { afterEach, describe, expect, it } from 'vitest';
import { isTerminal } from '../../../lib/domain/job.js';
import type { Job } from '../../../lib/domain/model.js';
import { ecsErrorFor } from '../../../lib/adapters/ecs/errors.js';
import { requestCancel } from '../../../lib/usecases/cancel-job.js';
import { adviceFor } from '../../../lib/usecases/jobs/failure-policy.js';
import { sweepRecovery } from '../../../lib/usecases/mount/expiry.js';
import { requestMount, requestUnmount } from '../../../lib/usecases/mount/mounts.js';
import { requestRestore } from '../../../lib/usecases/restore/requests.js';
import type { RecoveryState } from '../../../lib/usecases/restore/state.js';
import { harness, jobOf, startBackup, type Harness } from './harness.js';

/** Restore, mount and unmount through the engine: failures, cancels, clean-up and the abandoned-job sweep. */

let h: Harness;
afterEach(async () => {
  await h?.close();
});

function ok<T>(answer: { ok: true; value: T } | { ok: false }): T {
  if (!answer.ok) throw new Error(`refused: ${JSON.stringify(answer)}`);
  return answer.value;
}

async function backedUp(options: { status?: 'Running' | 'Stopped' } = {}) {
  const { instanceId, diskIds } = h.ecs.addInstance();
  const job = await startBackup(h, instanceId);
  await h.drain({ until: async () => isTerminal((await jobOf(h, job.id)).status) });
  const pointId = ((await jobOf(h, job.id)).state as { pointId: string }).pointId;
  if (options.status) h.ecs.instances.get(instanceId)!.status = options.status;
  return { instanceId, diskIds, pointId };
}

async function finished(id: string): Promise<Job> {
  await h.drain({ until: async () => isTerminal((await jobOf(h, id)).status) });
  return jobOf(h, id);
}

async function claims(pointId: string): Promise<string[]> {
  return (await h.deps.store.points.get(pointId))!.inUseBy;
}

describe('restore and mount jobs on the engine', () => {
  it('a clone canceled after its disk was created: the disk is deleted and the point released', async () => {
    h = harness();
    const { diskIds, pointId } = await backedUp();
    const target = h.ecs.addInstance().instanceId;
    h.ecs.holdDisksCreating = true;
    const job = ok(
      await requestRestore(h.deps, pointId, {
        mode: 'clone-disk',
        diskId: diskIds[1],
        targetInstanceId: target,
      }),
    );
    await h.drain({ until: async () => (await jobOf(h, job.id)).step === 'wait-disk' });

    await requestCancel(h.deps, job.id);
    h.ecs.holdDisksCreating = false;
    const done = await finished(job.id);

    expect(done.status).toBe('CANCELED');
    expect(done.reason).toMatch(/^canceled by request; disk d-new\S+ deleted$/);
    expect(h.ecs.createdDisks).toBe(1);
    expect(h.ecs.disks.has((done.state as RecoveryState).diskId!)).toBe(false);
    expect(await claims(pointId)).toEqual([]);
  });

  it('a mount ECS refuses to attach fails with advice, deletes its disk and releases the point', async () => {
    h = harness();
    const { diskIds, pointId } = await backedUp();
    const target = h.ecs.addInstance().instanceId;
    h.ecs.failNext('attachDisk', 'InstanceDiskLimitExceeded');
    const job = ok(await requestMount(h.deps, pointId, { diskId: diskIds[0]!, targetInstanceId: target }));

    const done = await finished(job.id);

    expect(done.status).toBe('FAILED');
    expect(done.reason).toMatch(/ECS refused the attach step: InstanceDiskLimitExceeded/);
    expect(done.reason).toMatch(/no free disk slot: detach a disk first/);
    expect(done.reason).toMatch(/disk d-new\S+ deleted/);
    expect([...h.ecs.disks.values()].filter((d) => d.diskId.startsWith('d-new'))).toEqual([]);
    expect(await claims(pointId)).toEqual([]);
  });

  it('a rollback that stopped the instance and then failed starts it again', async () => {
    h = harness();
    const { instanceId, pointId } = await backedUp();
    h.ecs.failNext('resetDisk', 'InvalidSnapshotId.NotFound');
    const job = ok(await requestRestore(h.deps, pointId, { mode: 'rollback-instance', stopInstance: true }));

    const done = await finished(job.id);

    expect(done.status).toBe('FAILED');
    expect(done.reason).toMatch(/the snapshot of this backup no longer exists; choose another backup/);
    expect(done.reason).toMatch(new RegExp(`instance ${instanceId} started again`));
    expect(h.ecs.instances.get(instanceId)!.status).toBe('Running');
    expect(await claims(pointId)).toEqual([]);
  });

  it('a rollback whose instance was started while it was queued fails and changes nothing', async () => {
    h = harness();
    const { instanceId, diskIds, pointId } = await backedUp({ status: 'Stopped' });
    const job = ok(await requestRestore(h.deps, pointId, { mode: 'rollback-disk', diskId: diskIds[0] }));
    h.ecs.instances.get(instanceId)!.status = 'Running';

    const done = await finished(job.id);

    expect(done.status).toBe('FAILED');
    expect(done.reason).toMatch(/is Running; a rollback needs it Stopped/);
    expect(h.ecs.resets).toBe(0);
    expect(await claims(pointId)).toEqual([]);
  });

  it('a cancel once the disks are being reset comes too late: the rollback completes and says so', async () => {
    h = harness();
    const { diskIds, pointId } = await backedUp({ status: 'Stopped' });
    const job = ok(await requestRestore(h.deps, pointId, { mode: 'rollback-disk', diskId: diskIds[0] }));
    await h.drain({ until: async () => (await jobOf(h, job.id)).step === 'wait-reset' });

    await requestCancel(h.deps, job.id);
    const done = await finished(job.id);

    expect(done.status).toBe('COMPLETE');
    expect(done.reason).toMatch(
      /cancel arrived after the disks were being reset; the rollback was completed/,
    );
    expect(h.ecs.resets).toBe(1);
  });

  it('an unmount ECS refuses fails with the hint to retry, and the mount keeps the point', async () => {
    h = harness();
    const { diskIds, pointId } = await backedUp();
    const target = h.ecs.addInstance().instanceId;
    const mount = ok(await requestMount(h.deps, pointId, { diskId: diskIds[0]!, targetInstanceId: target }));
    await finished(mount.id);
    h.ecs.failNext('detachDisk', 'Forbidden.RAM');

    const unmount = ok(await requestUnmount(h.deps, mount.id, 'api'));
    const done = await finished(unmount.id);

    expect(done.status).toBe('FAILED');
    expect(done.reason).toMatch(
      /check the RAM policy in infra\/\); the disk is still mounted: unmount again to retry/,
    );
    expect(await claims(pointId)).toEqual([mount.id]);
  });

  it('a busy resource for the whole start window fails the job saying so', async () => {
    h = harness({ START_WINDOW_SECONDS: '60', POLL_INTERVAL_SECONDS: '1' });
    const { instanceId } = h.ecs.addInstance();
    h.ecs.failNext('createSnapshotGroup', 'IncorrectDiskStatus.CreatingSnapshot', 1000);
    const job = await startBackup(h, instanceId);

    const done = await finished(job.id);

    expect(done.status).toBe('FAILED');
    expect(done.reason).toMatch(
      /ECS kept answering IncorrectDiskStatus.CreatingSnapshot at the snapshot step/,
    );
    expect(done.attempts).toBeGreaterThan(2);
  });
});

describe('throttling is never a failure on its own', () => {
  it('a backup throttled for longer than the start window is delayed, then completes', async () => {
    h = harness({ START_WINDOW_SECONDS: '60', POLL_INTERVAL_SECONDS: '1' });
    const { instanceId } = h.ecs.addInstance();
    h.ecs.failNext('createSnapshotGroup', 'Throttling.User', 30);
    const job = await startBackup(h, instanceId);

    const done = await finished(job.id);

    expect(done.status).toBe('COMPLETE');
    expect(done.attempts).toBeGreaterThan(20);
    expect(done.errors.some((e) => e.code === 'Throttling.User')).toBe(true);
  });
});

describe('the sweep of abandoned recovery jobs and expired mounts', () => {
  it('a mount dead-lettered with its disk created is cleaned up by the sweep', async () => {
    h = harness();
    const { diskIds, pointId } = await backedUp();
    const target = h.ecs.addInstance().instanceId;
    h.ecs.holdDisksCreating = true;
    const job = ok(await requestMount(h.deps, pointId, { diskId: diskIds[0]!, targetInstanceId: target }));
    await h.drain({ until: async () => (await jobOf(h, job.id)).step === 'wait-disk' });
    h.ecs.holdDisksCreating = false;
    // Every read of the disk breaks the worker: the job is dead-lettered, its clean-up too.
    h.ecs.failNext('describeDisks', new TypeError('worker bug'), 12);

    const done = await finished(job.id);
    expect(done.status).toBe('FAILED');
    expect(done.reason).toMatch(/gave up/);
    expect(await claims(pointId)).toEqual([job.id]);
    h.ecs.clearFailures();

    await sweepRecovery(h.deps, h.clock.now());
    await sweepRecovery(h.deps, h.clock.now());

    expect([...h.ecs.disks.values()].filter((d) => d.diskId.startsWith('d-new'))).toEqual([]);
    expect(await claims(pointId)).toEqual([]);
  });

  it('a mount past its TTL is unmounted', async () => {
    h = harness();
    const { diskIds, pointId } = await backedUp();
    const target = h.ecs.addInstance().instanceId;
    const mount = ok(
      await requestMount(h.deps, pointId, { diskId: diskIds[0]!, targetInstanceId: target, ttlHours: 1 }),
    );
    await finished(mount.id);
    h.clock.advance(3_600_000 + 1000);

    const report = await sweepRecovery(h.deps, h.clock.now());
    await h.drain();

    expect(report.unmountsStarted).toBe(1);
    expect(await claims(pointId)).toEqual([]);
    expect(
      h.ecs.disks.has(
        (mount.state as RecoveryState).diskId ?? ((await jobOf(h, mount.id)).state.diskId as string),
      ),
    ).toBe(false);
  });
});

describe('advice for an ECS refusal', () => {
  it.each([
    ['QuotaExceed.Snapshot', 403, /256 manual snapshots/],
    ['InvalidInstanceId.NotFound', 404, /instance no longer exists: stop its protection/],
    ['InvalidSnapshotGroupId.NotFound', 404, /the snapshot group no longer exists/],
    ['Forbidden.RAM', 403, /RAM policy/],
    ['QuotaExceed.Something', 403, /quota is used up/],
    ['InstanceLockedForSecurity', 403, /locked for security/],
    ['DiskCategory.OperationNotSupported', 403, /does not allow this/],
    ['InvalidParameter.Size', 400, /refused a parameter: report it with request id R-9/],
  ])('%s', (code, status, advice) => {
    expect(adviceFor(ecsErrorFor(code, 'm', { statusCode: status, requestId: 'R-9' }))).toMatch(advice);
  });

  it('has none for an error no class explains', () => {
    expect(adviceFor(ecsErrorFor('Odd', 'm', { statusCode: 400 }))).toBeNull();
  });
});
