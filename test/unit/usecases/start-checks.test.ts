import { afterEach, describe, expect, it } from 'vitest';
import type { Plan } from '../../../lib/domain/model.js';
import { newPlan, suspendPlan } from '../../../lib/domain/plan.js';
import { SequentialIds } from '../../support/clock.js';
import { harness, jobOf, startBackup, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

async function planFor(instanceId: string, suspended = false): Promise<Plan> {
  const plan = newPlan(
    {
      instanceId,
      disks: 'all',
      schedule: { startAt: '2026-03-01T08:00:00Z', every: { value: 1, unit: 'days' } },
      retention: { value: 7, unit: 'days' },
    },
    new SequentialIds(),
    h.clock.now(),
    () => 0.5,
  );
  const stored = suspended ? suspendPlan(plan, h.clock.now()) : plan;
  const written = await h.deps.store.plans.create({ ...stored, id: `plan-${instanceId}` });
  if (!written.ok) throw new Error('plan not created');
  return written.value;
}

describe('a job meets its plan again when it starts', () => {
  it('a job whose plan was deleted while it was queued ends CANCELED without touching ECS', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    const plan = await planFor(instanceId);
    const job = await startBackup(h, instanceId, { trigger: 'manual' }, { planId: plan.id });
    await h.deps.store.plans.delete(plan.id, plan.version);

    await h.drain();

    const done = await jobOf(h, job.id);
    expect(done).toMatchObject({ status: 'CANCELED', reason: 'plan deleted before this job started' });
    expect(h.ecs.totalCalls()).toBe(0);
  });

  it('a scheduled occurrence of a suspended plan ends SKIPPED without touching ECS', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    const plan = await planFor(instanceId, true);
    const job = await startBackup(h, instanceId, { trigger: 'schedule' }, { planId: plan.id });

    await h.drain();

    const done = await jobOf(h, job.id);
    expect(done).toMatchObject({ status: 'SKIPPED', reason: 'plan suspended before this occurrence ran' });
    expect(h.ecs.totalCalls()).toBe(0);
  });

  it('a job of an active plan runs', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    const plan = await planFor(instanceId);
    const job = await startBackup(h, instanceId, { trigger: 'schedule' }, { planId: plan.id });

    await h.drain();

    expect((await jobOf(h, job.id)).status).toBe('COMPLETE');
  });
});
