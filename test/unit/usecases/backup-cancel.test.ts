import { afterEach, describe, expect, it } from 'vitest';
import { isTerminal, newJob, transition } from '../../../lib/domain/job.js';
import { requestCancel } from '../../../lib/usecases/cancel-job.js';
import { backupParams, crashConsistency, harness, jobOf, startBackup, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const appConsistency = { ...crashConsistency, applicationConsistent: true };

async function finished(id: string) {
  await h.drain({ until: async () => isTerminal((await jobOf(h, id)).status) });
  return jobOf(h, id);
}

describe('backup cancel rules and odd records', () => {
  it('a cancel while the guest script runs waits for it, then deletes the group it made', async () => {
    h = harness();
    h.ecs.describesToComplete = 50;
    h.ecs.guest = { ...h.ecs.guest, status: 'Running' };
    const { instanceId } = h.ecs.addInstance();
    const job = await startBackup(h, instanceId, { consistency: appConsistency });
    await h.drain({ until: async () => (await jobOf(h, job.id)).step === 'guest-wait' });

    await requestCancel(h.deps, job.id);
    await h.drain({ maxSteps: 20, until: async () => false }).catch(() => undefined);
    // Never cut short: the job is still waiting for the script, which may hold file systems frozen.
    expect((await jobOf(h, job.id)).status).toBe('CANCELING');
    for (const inv of h.ecs.invocations.values()) inv.status = 'Success';
    const done = await finished(job.id);

    expect(done.status).toBe('CANCELED');
    expect(done.reason).toMatch(/snapshot group ssg-\S+ deleted/);
    expect(h.ecs.groups.size).toBe(0);
  });

  it('a cancel after the snapshot completed keeps the backup and says the cancel came too late', async () => {
    h = harness();
    h.ecs.describesToComplete = 50;
    const { instanceId } = h.ecs.addInstance();
    const job = await startBackup(h, instanceId);
    await h.drain({ until: async () => (await jobOf(h, job.id)).step === 'poll' });
    h.ecs.completeAll();

    await requestCancel(h.deps, job.id);
    const done = await finished(job.id);

    expect(done.status).toBe('COMPLETE');
    expect(done.reason).toMatch(/cancel arrived after the snapshot had completed: the backup is kept/);
    expect(h.ecs.groups.size).toBe(1);
  });

  it('a group that vanishes from ECS fails the job after a few polls', async () => {
    h = harness();
    h.ecs.describesToComplete = 50;
    const { instanceId } = h.ecs.addInstance();
    const job = await startBackup(h, instanceId);
    await h.drain({ until: async () => (await jobOf(h, job.id)).step === 'poll' });
    h.ecs.groups.clear();

    const done = await finished(job.id);

    expect(done.status).toBe('FAILED');
    expect(done.reason).toMatch(/snapshot group ssg-\S+ vanished from ECS before completing/);
  });

  it('a job recorded at an older preparation step prepares again and completes', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    const now = h.clock.now();
    const queued = newJob(
      { id: 'job-legacy', type: 'backup', instanceId, planId: null, params: { ...backupParams() } },
      now,
    );
    const running = transition(queued, 'RUNNING', now, { step: 'consistency' });
    const written = await h.deps.store.jobs.create(running);
    expect(written.ok).toBe(true);
    await h.deps.jobQueue.send(JSON.stringify({ v: 1, jobId: 'job-legacy' }));

    const done = await finished('job-legacy');

    expect(done.status).toBe('COMPLETE');
    expect(h.ecs.groups.size).toBe(1);
  });

  it('a Windows instance gets the PowerShell guest command with its longer timeout', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance({ os: 'windows' });
    let sent: { type: string; timeoutSeconds: number } | undefined;
    const run = h.ecs.runCommand.bind(h.ecs);
    h.ecs.runCommand = async (request) => {
      sent = request;
      return run(request);
    };
    const job = await startBackup(h, instanceId, { consistency: appConsistency });

    const done = await finished(job.id);

    expect(done.status).toBe('COMPLETE');
    expect(sent).toMatchObject({ type: 'RunPowerShellScript', timeoutSeconds: 30 * 2 + 60 });
  });
});

describe('a guest script sent before a crash kept its id from the record', () => {
  it('is never sent twice: its group is awaited, then the backup is taken crash-consistent', async () => {
    h = harness();
    h.ecs.guest = { ...h.ecs.guest, createsGroup: false, status: 'Running' };
    const { instanceId } = h.ecs.addInstance();
    let armed = true;
    h.deps.hooks = {
      afterEcsCall: (_job, method) => {
        if (method === 'runCommand' && armed) {
          armed = false;
          throw new Error('worker killed before saving the invocation id');
        }
      },
    };
    const job = await startBackup(h, instanceId, { consistency: appConsistency });

    const done = await finished(job.id);

    expect(done.status).toBe('COMPLETE');
    expect(done.reason).toMatch(/the guest script sent before a restart made no snapshot group in its time/);
    // The retry's RunCommand was refused as a reused token: one script ran, never two.
    expect(h.ecs.invocations.size).toBe(1);
    expect(h.ecs.calls.runCommand).toBe(2);
    expect(h.ecs.groups.size).toBe(1);
  });
});
