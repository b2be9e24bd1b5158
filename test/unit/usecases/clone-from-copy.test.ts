import { afterEach, describe, expect, it } from 'vitest';
import { ownershipTags, TAG_JOB } from '../../../lib/usecases/backup/ownership.js';
import { sweepCloneOrphans } from '../../../lib/usecases/clone/orphans.js';
import { requestClone } from '../../../lib/usecases/clone/requests.js';
import type { CloneState } from '../../../lib/usecases/clone/state.js';
import { enforceRetention } from '../../../lib/usecases/retention.js';
import { copiedBackup, OTHER } from './copy-fixtures.js';
import { finished, harness, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('clone-instance from a copy in another region', () => {
  it('builds the image from the copy there and launches there, also once the source expired', async () => {
    h = harness();
    const { point } = await copiedBackup(h);
    const other = h.ecs.forRegion(OTHER);
    other.vSwitches = [{ vSwitchId: 'vsw-other-b', zoneId: 'cn-other-b' }];

    // The source's vSwitch and security groups are in the home region: both must be given.
    expect(await requestClone(h.deps, point.id, { regionId: OTHER })).toMatchObject({
      ok: false,
      error: 'invalid',
      issues: [
        { path: 'vSwitchId', message: expect.stringMatching(/required to clone in cn-other/) },
        { path: 'securityGroupIds', message: expect.stringMatching(/required to clone in cn-other/) },
      ],
    });
    // A vSwitch of the home region does not exist in the copy's.
    expect(
      await requestClone(h.deps, point.id, {
        regionId: OTHER,
        vSwitchId: 'vsw-fake-a',
        securityGroupIds: ['sg-other'],
      }),
    ).toMatchObject({
      ok: false,
      error: 'invalid',
      issues: [{ path: 'vSwitchId', message: 'vSwitch vsw-fake-a does not exist in cn-other' }],
    });
    expect(
      await requestClone(h.deps, point.id, {
        regionId: 'cn-nocopy',
        vSwitchId: 'vsw-x',
        securityGroupIds: ['sg-x'],
      }),
    ).toMatchObject({ ok: false, error: 'conflict', field: 'regionId' });
    const jobsBefore = (await h.deps.store.jobs.list({ type: 'clone' })).items.length;
    expect(jobsBefore).toBe(0);

    // The source expires; its copy stays and clones.
    await enforceRetention(h.deps, point.effectiveExpireAt);
    expect((await h.deps.store.points.get(point.id))!.status).toBe('COPIES_ONLY');
    expect(await requestClone(h.deps, point.id, {})).toMatchObject({
      ok: false,
      error: 'conflict',
      detail: expect.stringMatching(/COPIES_ONLY.*clone it from a copy/),
    });
    const answer = await requestClone(h.deps, point.id, {
      regionId: OTHER,
      vSwitchId: 'vsw-other-b',
      securityGroupIds: ['sg-other'],
    });
    if (!answer.ok) throw new Error(JSON.stringify(answer));
    const done = await finished(h, answer.value.id);

    expect(done.status, done.reason ?? '').toBe('COMPLETE');
    const st = done.state as CloneState;
    const clone = other.instances.get(st.newInstanceId!)!;
    expect(clone).toMatchObject({
      status: 'Running',
      vSwitchId: 'vsw-other-b',
      securityGroupIds: ['sg-other'],
      instanceType: 'ecs.g7.large',
    });
    expect(clone.tags).toContainEqual({ key: TAG_JOB, value: done.id });
    expect(h.ecs.instances.has(st.newInstanceId!)).toBe(false);
    const copy = point.copies![0]!;
    const disks = [...other.disks.values()].filter((d) => d.instanceId === st.newInstanceId);
    expect(disks.map((d) => d.sourceSnapshotId)).toEqual(copy.snapshotIds);
    // The temporary image was made and deleted in the copy's region.
    expect(other.images.size).toBe(0);
    expect(h.ecs.calls.createImage ?? 0).toBe(0);
    expect(other.calls.createImage).toBe(1);
    expect((await h.deps.store.points.get(point.id))!.inUseBy).toEqual([]);
  });

  it('the leftover sweep looks in the region a clone from a copy launched in', async () => {
    h = harness();
    const { point } = await copiedBackup(h);
    const other = h.ecs.forRegion(OTHER);
    other.vSwitches = [{ vSwitchId: 'vsw-other-b', zoneId: 'cn-other-b' }];
    const answer = await requestClone(h.deps, point.id, {
      regionId: OTHER,
      vSwitchId: 'vsw-other-b',
      securityGroupIds: ['sg-other'],
    });
    if (!answer.ok) throw new Error(JSON.stringify(answer));
    const done = await finished(h, answer.value.id);
    expect(done.status, done.reason ?? '').toBe('COMPLETE');
    // What a second launch from a re-sent request would leave: an image carrying the ended job's tag.
    const leftover = await other.createImage({
      systemSnapshotId: point.copies![0]!.snapshotIds[0]!,
      dataSnapshotIds: [],
      name: 'leftover',
      tags: ownershipTags(done),
      clientToken: 'leftover',
    });
    await other.describeImages([leftover]);

    const swept = await sweepCloneOrphans(h.deps);

    expect(swept.imagesDeleted).toEqual([leftover]);
    expect(other.images.has(leftover)).toBe(false);
    // The clone itself is the job's result and stays.
    expect(other.instances.get((done.state as CloneState).newInstanceId!)?.status).toBe('Running');
  });
});
