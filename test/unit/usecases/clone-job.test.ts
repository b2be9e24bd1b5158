import { afterEach, describe, expect, it } from 'vitest';
import { isTerminal } from '../../../lib/domain/job.js';
import type { Job } from '../../../lib/domain/model.js';
import { ownershipTags, TAG_JOB } from '../../../lib/usecases/backup/ownership.js';
import { sweepCloneOrphans } from '../../../lib/usecases/clone/orphans.js';
import { requestCancel } from '../../../lib/usecases/cancel-job.js';
import { requestClone } from '../../../lib/usecases/clone/requests.js';
import type { CloneState } from '../../../lib/usecases/clone/state.js';
import { harness, jobOf, startBackup, type Harness } from './harness.js';

/** Clone-instance through the engine: the result, and what failures and cancels leave behind (nothing). */

let h: Harness;
afterEach(async () => {
  await h?.close();
});

function ok<T>(answer: { ok: true; value: T } | { ok: false }): T {
  if (!answer.ok) throw new Error(`refused: ${JSON.stringify(answer)}`);
  return answer.value;
}

async function backedUp() {
  const { instanceId, diskIds } = h.ecs.addInstance();
  const job = await startBackup(h, instanceId);
  await h.drain({ until: async () => isTerminal((await jobOf(h, job.id)).status) });
  const pointId = ((await jobOf(h, job.id)).state as { pointId: string }).pointId;
  return { instanceId, diskIds, pointId };
}

async function finished(id: string): Promise<Job> {
  await h.drain({ until: async () => isTerminal((await jobOf(h, id)).status) });
  return jobOf(h, id);
}

function ofJob(tags: { key: string; value: string }[], jobId: string): boolean {
  return tags.some((t) => t.key === TAG_JOB && t.value === jobId);
}

async function nothingLeft(job: Job): Promise<void> {
  expect([...h.ecs.instances.values()].filter((i) => ofJob(i.tags, job.id))).toEqual([]);
  expect([...h.ecs.images.values()].filter((i) => ofJob(i.tags, job.id))).toEqual([]);
  const { pointId } = job.state as CloneState;
  expect((await h.deps.store.points.get(pointId!))!.inUseBy).toEqual([]);
}

describe('clone-instance job', () => {
  it('launches one instance from the backup with the source defaults and deletes the image', async () => {
    h = harness();
    const { pointId, instanceId } = await backedUp();
    const job = ok(await requestClone(h.deps, pointId, { tags: [{ key: 'team', value: 'db' }] }));
    expect(job).toMatchObject({ type: 'clone', instanceId, status: 'QUEUED' });

    const done = await finished(job.id);

    expect(done.status, done.reason ?? '').toBe('COMPLETE');
    const st = done.state as CloneState;
    const clone = h.ecs.instances.get(st.newInstanceId!)!;
    expect(clone).toMatchObject({
      status: 'Running',
      instanceType: 'ecs.g7.large',
      vSwitchId: 'vsw-fake-a',
      securityGroupIds: ['sg-fake'],
      instanceName: `${instanceId}-clone`,
    });
    expect(clone.tags).toContainEqual({ key: 'team', value: 'db' });
    expect(clone.tags).toContainEqual({ key: TAG_JOB, value: job.id });
    const point = (await h.deps.store.points.get(pointId))!;
    const disks = [...h.ecs.disks.values()].filter((d) => d.instanceId === st.newInstanceId);
    expect(disks.map((d) => d.sourceSnapshotId)).toEqual(point.snapshots.map((s) => s.snapshotId));
    expect(h.ecs.images.size).toBe(0);
    expect(done.reason).toContain(`instance ${st.newInstanceId} launched from backup ${pointId}`);
    expect(point.inUseBy).toEqual([]);
  });

  it('keepImage leaves the image and names it on the job', async () => {
    h = harness();
    const { pointId } = await backedUp();
    const done = await finished(ok(await requestClone(h.deps, pointId, { keepImage: true })).id);
    const st = done.state as CloneState;
    expect(done.status).toBe('COMPLETE');
    expect(h.ecs.images.get(st.imageId!)?.status).toBe('Available');
    expect(done.reason).toContain(`image ${st.imageId} kept`);
  });

  it('a launch ECS refuses fails the job with advice and deletes the image', async () => {
    h = harness();
    const { pointId } = await backedUp();
    h.ecs.failNext('runInstance', 'InvalidSecurityGroupId.NotFound');
    const done = await finished(ok(await requestClone(h.deps, pointId, {})).id);
    expect(done.status).toBe('FAILED');
    expect(done.reason).toMatch(/ECS refused the launch step: InvalidSecurityGroupId\.NotFound/);
    expect(done.reason).toMatch(/image m-fake\d+ deleted/);
    expect(h.ecs.createdImages).toBe(1);
    await nothingLeft(done);
  });

  it('a cancel while the instance starts releases it once it can, and deletes the image', async () => {
    h = harness();
    const { pointId } = await backedUp();
    const job = ok(await requestClone(h.deps, pointId, {}));
    await h.drain({ until: async () => (await jobOf(h, job.id)).step === 'wait-running' });
    const launchedId = ((await jobOf(h, job.id)).state as CloneState).newInstanceId!;
    expect(h.ecs.instances.get(launchedId)?.status).not.toBe('Running');

    await requestCancel(h.deps, job.id);
    const done = await finished(job.id);

    expect(done.status).toBe('CANCELED');
    expect(done.reason).toContain(`instance ${launchedId} released`);
    expect(h.ecs.instances.has(launchedId)).toBe(false);
    await nothingLeft(done);
  });

  it('a cancel once the instance runs comes too late: the clone completes', async () => {
    h = harness();
    const { pointId } = await backedUp();
    const job = ok(await requestClone(h.deps, pointId, {}));
    // The image delete is refused once, so the job rests at delete-image when the cancel comes.
    h.ecs.failNext('deleteImage', 'InternalError', 1, true);
    await h.drain({ until: async () => (await jobOf(h, job.id)).step === 'delete-image' });
    await requestCancel(h.deps, job.id);
    const done = await finished(job.id);
    expect(done.status).toBe('COMPLETE');
    expect(done.reason).toContain('cancel arrived after the new instance was running');
    expect(h.ecs.instances.get((done.state as CloneState).newInstanceId!)?.status).toBe('Running');
    expect(h.ecs.images.size).toBe(0);
  });

  it('an image and an instance a crash kept from the record are found by the job tag and removed', async () => {
    h = harness();
    const { pointId } = await backedUp();
    const job = ok(await requestClone(h.deps, pointId, {}));
    let armed = true;
    h.deps.hooks = {
      // The worker dies right after RunInstances answered: the instance exists, its id is not saved.
      afterEcsCall: (j, method) => {
        if (j.id === job.id && method === 'runInstance' && armed) {
          armed = false;
          throw new Error('worker killed before saving the instance id');
        }
      },
    };
    await h.drain({ until: async () => !armed });
    expect(((await jobOf(h, job.id)).state as CloneState).newInstanceId).toBeUndefined();
    await requestCancel(h.deps, job.id);
    const done = await finished(job.id);
    expect(done.status).toBe('CANCELED');
    expect(h.ecs.launchedInstances).toBe(1);
    await nothingLeft(done);
  });
});

describe('clone-instance requests that cannot work change nothing', () => {
  it('names the field: unknown vSwitch, a type the zone does not sell, missing defaults', async () => {
    h = harness();
    const { pointId, instanceId } = await backedUp();
    const jobsBefore = (await h.deps.store.jobs.list({})).items.length;

    const vsw = await requestClone(h.deps, pointId, { vSwitchId: 'vsw-nowhere' });
    expect(vsw).toMatchObject({ ok: false, error: 'invalid', issues: [{ path: 'vSwitchId' }] });
    const type = await requestClone(h.deps, pointId, { instanceType: 'ecs.c7.large' });
    expect(type).toMatchObject({ ok: false, error: 'invalid', issues: [{ path: 'instanceType' }] });
    expect(JSON.stringify(type)).toContain(
      'zone cn-test-a (of vSwitch vsw-fake-a) does not sell ecs.c7.large',
    );

    // The source is gone and the point predates recorded sources: every launch field must be sent.
    h.ecs.instances.delete(instanceId);
    const bare = await requestClone(h.deps, pointId, {});
    expect(bare).toMatchObject({ ok: false, error: 'invalid' });
    expect((bare as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual([
      'instanceType',
      'vSwitchId',
      'securityGroupIds',
    ]);
    const full = await requestClone(h.deps, pointId, {
      instanceType: 'ecs.g7.xlarge',
      vSwitchId: 'vsw-fake-a',
      securityGroupIds: ['sg-fake'],
    });
    expect(full.ok).toBe(true);

    expect((await h.deps.store.jobs.list({})).items.length).toBe(jobsBefore + 1);
    expect(h.ecs.createdImages).toBe(0);
  });

  it('a backup that is not AVAILABLE is a conflict', async () => {
    h = harness();
    const { pointId } = await backedUp();
    const point = (await h.deps.store.points.get(pointId))!;
    await h.deps.store.points.update({ ...point, status: 'DELETING' }, point.version);
    expect(await requestClone(h.deps, pointId, {})).toMatchObject({ ok: false, error: 'conflict' });
    expect(await requestClone(h.deps, 'bk-none', {})).toMatchObject({ ok: false, error: 'not_found' });
  });
});

describe('the sweep of clone leftovers', () => {
  it('removes what ended jobs left, keeps results, kept images, running jobs and the unknown', async () => {
    h = harness();
    const { pointId } = await backedUp();
    const kept = await finished(ok(await requestClone(h.deps, pointId, { keepImage: true })).id);
    const result = (kept.state as CloneState).newInstanceId!;
    const keptImage = (kept.state as CloneState).imageId!;
    const running = ok(await requestClone(h.deps, pointId, {}));
    await h.drain({ until: async () => (await jobOf(h, running.id)).step === 'wait-image' });
    const runningImage = ((await jobOf(h, running.id)).state as CloneState).imageId!;
    // A second launch of the finished job (a re-sent request with another token) and an image of a
    // job that no record knows: the first is spare, the second is not ours to judge.
    const snapshot = [...h.ecs.snapshots.keys()][0]!;
    const stray = await h.ecs.runInstance({
      imageId: keptImage,
      instanceType: 'ecs.g7.large',
      vSwitchId: 'vsw-fake-a',
      securityGroupIds: ['sg-fake'],
      tags: ownershipTags(kept),
      clientToken: 'stray',
    });
    await h.ecs.describeInstanceAttribute(stray);
    await h.ecs.describeInstanceAttribute(stray);
    const unknown = await h.ecs.createImage({
      systemSnapshotId: snapshot,
      dataSnapshotIds: [],
      name: 'unknown',
      tags: ownershipTags({ id: 'job-gone', planId: null, instanceId: 'i-x' }),
      clientToken: 'unknown',
    });
    await h.ecs.describeImages([unknown]);

    const swept = await sweepCloneOrphans(h.deps);

    expect(swept.instancesReleased).toEqual([stray]);
    expect(swept.imagesDeleted).toEqual([]);
    expect(h.ecs.instances.get(result)?.status).toBe('Running');
    expect(h.ecs.images.has(keptImage)).toBe(true);
    expect(h.ecs.images.has(runningImage)).toBe(true);
    expect(h.ecs.images.has(unknown)).toBe(true);

    // Once that job has ended, another image carrying its tag is spare: the sweep removes it.
    const done = await finished(running.id);
    expect(done.status).toBe('COMPLETE');
    const leftover = await h.ecs.createImage({
      systemSnapshotId: snapshot,
      dataSnapshotIds: [],
      name: 'leftover',
      tags: ownershipTags(done),
      clientToken: 'leftover',
    });
    await h.ecs.describeImages([leftover]);
    expect((await sweepCloneOrphans(h.deps)).imagesDeleted).toEqual([leftover]);
  });
});
