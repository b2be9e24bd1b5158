import { afterEach, describe, expect, it } from 'vitest';
import { isTerminal } from '../../../lib/domain/job.js';
import type { BackupJobParams } from '../../../lib/domain/model.js';
import { newPlan } from '../../../lib/domain/plan.js';
import { schedulerTick } from '../../../lib/usecases/scheduler-tick.js';
import { SequentialIds } from '../../support/clock.js';
import { harness, jobOf, startBackup, type Harness } from './harness.js';

/** A backup point keeps the instance as it was (type, zone, vSwitch, security groups, tags, name). */

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('the source instance on the backup point', () => {
  it('a scheduled backup records the instance read by the tick, in one call for all its plans', async () => {
    h = harness();
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const { instanceId } = h.ecs.addInstance();
      const instance = h.ecs.instances.get(instanceId)!;
      instance.tags = [
        { key: 'app', value: `web-${i}` },
        { key: 'ecs-backup:job', value: 'job-older' },
      ];
      ids.push(instanceId);
      const plan = newPlan(
        {
          instanceId,
          disks: 'all',
          schedule: { startAt: iso(h.clock.now() + 10_000), every: { value: 1, unit: 'hours' } },
          retention: { value: 7, unit: 'days' },
        },
        new SequentialIds(),
        h.clock.now(),
        () => 0.5,
      );
      await h.deps.store.plans.create({ ...plan, id: `plan-src${i}` });
    }
    const before = h.ecs.calls.describeInstances ?? 0;

    await schedulerTick(h.deps, h.clock.now());
    await h.drain({ idleRealMs: 0 });

    expect((h.ecs.calls.describeInstances ?? 0) - before).toBe(1);
    const points = (await h.deps.store.points.list({})).items;
    expect(points.map((p) => p.instanceId).sort()).toEqual([...ids].sort());
    for (const p of points) {
      const i = ids.indexOf(p.instanceId);
      expect(p.source).toEqual({
        instanceName: p.instanceId,
        zoneId: 'cn-test-a',
        osType: 'linux',
        instanceType: 'ecs.g7.large',
        vSwitchId: 'vsw-fake-a',
        securityGroupIds: ['sg-fake'],
        // Our own tags are not a clone's: they name the job that made a resource.
        tags: [{ key: 'app', value: `web-${i}` }],
      });
    }
  });

  it('the tick schedules even when ECS cannot be read; those points record no source', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    await h.deps.store.plans.create(
      newPlan(
        {
          instanceId,
          disks: 'all',
          schedule: { startAt: iso(h.clock.now() + 10_000), every: { value: 1, unit: 'hours' } },
          retention: { value: 7, unit: 'days' },
        },
        new SequentialIds(),
        h.clock.now(),
        () => 0.5,
      ),
    );
    h.ecs.failNext('describeInstances', 'InternalError', 1, true);

    const report = await schedulerTick(h.deps, h.clock.now());
    await h.drain({ idleRealMs: 0 });

    expect(report.enqueued).toBe(1);
    const [point] = (await h.deps.store.points.list({ instanceId })).items;
    expect(point?.status).toBe('AVAILABLE');
    expect(point?.source).toBeUndefined();
  });

  it('a job made with a source records it; one made without records none', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    const source: BackupJobParams['source'] = {
      instanceName: 'db-01',
      zoneId: 'cn-test-a',
      osType: 'linux',
      instanceType: 'ecs.g7.xlarge',
      vSwitchId: 'vsw-fake-a',
      securityGroupIds: ['sg-fake', 'sg-two'],
      tags: [],
    };
    const withSource = await startBackup(h, instanceId, { source });
    await h.drain({ until: async () => isTerminal((await jobOf(h!, withSource.id)).status) });
    const without = await startBackup(h, instanceId);
    await h.drain({ until: async () => isTerminal((await jobOf(h!, without.id)).status) });

    const points = (await h.deps.store.points.list({ instanceId })).items;
    expect(points.find((p) => p.jobId === withSource.id)?.source).toEqual(source);
    expect(points.find((p) => p.jobId === without.id)?.source).toBeUndefined();
  });
});
