import { afterEach, describe, expect, it } from 'vitest';
import { isTerminal } from '../../../lib/domain/job.js';
import type { Job } from '../../../lib/domain/model.js';
import { TAG_JOB } from '../../../lib/usecases/backup/ownership.js';
import { requestCancel } from '../../../lib/usecases/cancel-job.js';
import { crashConsistency, harness, jobOf, startBackup, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const appConsistency = { ...crashConsistency, applicationConsistent: true };

async function pointOf(job: Job) {
  const id = (job.state as { pointId?: string }).pointId;
  return id ? h.deps.store.points.get(id) : undefined;
}

describe('backup job (worker)', () => {
  it('takes a crash-consistent snapshot group in at most 3 ECS calls and records the point', async () => {
    h = harness();
    const { instanceId, diskIds } = h.ecs.addInstance();
    const started = await startBackup(h, instanceId);

    await h.drain();

    const job = await jobOf(h, started.id);
    expect(job.status).toBe('COMPLETE');
    expect(job.progress).toBe(100);
    const point = await pointOf(job);
    expect(point).toMatchObject({ kind: 'group', status: 'AVAILABLE', ours: true, jobId: job.id });
    expect(point!.snapshots.map((s) => s.diskId).sort()).toEqual([...diskIds].sort());
    expect(point!.consistency).toEqual({
      requested: 'crash',
      achieved: 'crash',
      reason: null,
      freezeWindowMs: null,
    });
    expect(point!.expireAt).toBe(point!.completedAt + 7 * 86_400_000);
    expect(h.ecs.totalCalls()).toBeLessThanOrEqual(3);
    // The group carries our ownership tags, and the job id as its ClientToken.
    const group = h.ecs.groups.get(point!.snapshotGroupId!);
    expect(group?.tags).toContainEqual({ key: TAG_JOB, value: job.id });
  });

  it('polls many jobs with a fraction of the calls: one describe serves up to 10 groups', async () => {
    h = harness();
    h.ecs.describesToComplete = 3;
    const jobs: Job[] = [];
    for (let i = 0; i < 20; i += 1) jobs.push(await startBackup(h, h.ecs.addInstance().instanceId));

    await h.drain();

    for (const j of jobs) expect((await jobOf(h, j.id)).status).toBe('COMPLETE');
    // 20 x (DescribeDisks + CreateSnapshotGroup) plus batched polls, far below one poll per job per round.
    expect(h.ecs.calls.describeSnapshotGroups ?? 0).toBeLessThanOrEqual(12);
    expect(h.ecs.totalCalls() / jobs.length).toBeLessThanOrEqual(3);
  });

  it('polls long snapshots through their members, 100 ids a call: at most 3 ECS calls a backup', async () => {
    h = harness();
    // Snapshots that take 20 polls: reading groups (10 ids a call) would cost 2 calls a backup for polls alone.
    h.ecs.describesToComplete = 20;
    const jobs: Job[] = [];
    for (let i = 0; i < 150; i += 1) jobs.push(await startBackup(h, h.ecs.addInstance().instanceId));

    await h.drain();

    for (const j of jobs) expect((await jobOf(h, j.id)).status).toBe('COMPLETE');
    expect(h.ecs.totalCalls() / jobs.length).toBeLessThanOrEqual(3);
    expect(h.ecs.calls.describeSnapshots ?? 0).toBeGreaterThan(0);
    // Each group is read once, 10 a call, to learn its members; the record step reads none again.
    expect(h.ecs.calls.describeSnapshotGroups ?? 0).toBeLessThanOrEqual(jobs.length / 10);
    const points = await h.deps.store.points.list({}, { limit: 200 });
    expect(points.items).toHaveLength(150);
    for (const p of points.items) expect(p.snapshots.length).toBeGreaterThan(0);
  });

  it('delivers every message twice without a duplicate group or job', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    const started = await startBackup(h, instanceId);

    await h.drain({ deliverTwice: true });

    expect((await jobOf(h, started.id)).status).toBe('COMPLETE');
    expect(h.ecs.groups.size).toBe(1);
    expect((await h.deps.store.points.list({ instanceId })).items).toHaveLength(1);
  });

  it('recovers from a crash after every persisted step: terminal, one group, no orphan', async () => {
    for (let boundary = 1; boundary <= 8; boundary += 1) {
      h = harness();
      const { instanceId } = h.ecs.addInstance();
      let writes = 0;
      let crashed = false;
      h.deps.hooks = {
        afterJobStep: () => {
          writes += 1;
          if (writes === boundary && !crashed) {
            crashed = true;
            throw new Error(`worker killed after write ${boundary}`);
          }
        },
      };
      const started = await startBackup(h, instanceId);

      await h.drain();

      const job = await jobOf(h, started.id);
      expect(job.status, `boundary ${boundary}`).toBe('COMPLETE');
      expect(h.ecs.groups.size, `boundary ${boundary}`).toBe(1);
      expect((await pointOf(job))?.snapshotGroupId).toBe([...h.ecs.groups.keys()][0]);
      await h.close();
    }
  });

  it('adopts a group created before a crash that kept its id from being recorded', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    // The create succeeds in ECS but the worker dies before writing the next step.
    h.deps.hooks = {
      afterJobStep: (job) => {
        if (job.step === 'poll' && h.ecs.groups.size === 1 && !(job.state as { adopted?: boolean }).adopted) {
          throw new Error('killed');
        }
      },
    };
    const started = await startBackup(h, instanceId);
    await h.drain({ maxSteps: 3 });
    h.deps.hooks = undefined;

    await h.drain();

    expect((await jobOf(h, started.id)).status).toBe('COMPLETE');
    expect(h.ecs.groups.size).toBe(1);
  });

  it('never fails for throttling alone: half the calls throttled, every backup completes', async () => {
    h = harness();
    h.ecs.throttleFraction = 0.5;
    const jobs: Job[] = [];
    for (let i = 0; i < 6; i += 1) jobs.push(await startBackup(h, h.ecs.addInstance().instanceId));

    await h.drain({ maxSteps: 5000 });

    for (const j of jobs) {
      const job = await jobOf(h, j.id);
      expect(job.status).toBe('COMPLETE');
    }
    expect(h.ecs.groups.size).toBe(6);
  });

  it('backs up the other disks when a listed disk is gone: PARTIAL_COMPLETE with the reason', async () => {
    h = harness();
    const { instanceId, diskIds } = h.ecs.addInstance();
    const started = await startBackup(h, instanceId, { disks: [diskIds[0]!, 'd-gone0001'] });

    await h.drain();

    const job = await jobOf(h, started.id);
    expect(job.status).toBe('PARTIAL_COMPLETE');
    expect(job.reason).toContain('d-gone0001');
    expect((await pointOf(job))!.snapshots.map((s) => s.diskId)).toEqual([diskIds[0]]);
  });

  it('includes a disk attached after the plan was made (protect all)', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    const later = h.ecs.addDisk(instanceId);
    const started = await startBackup(h, instanceId);

    await h.drain();

    const point = await pointOf(await jobOf(h, started.id));
    expect(point!.snapshots.map((s) => s.diskId)).toContain(later);
  });

  it('takes per-disk crash-consistent snapshots of non-ESSD disks and says so', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance({ categories: ['cloud_essd', 'cloud_efficiency'] });
    const started = await startBackup(h, instanceId, { consistency: appConsistency });

    await h.drain();

    const job = await jobOf(h, started.id);
    expect(job.status).toBe('COMPLETE');
    const point = await pointOf(job);
    expect(point).toMatchObject({ kind: 'per-disk', snapshotGroupId: null });
    expect(point!.snapshots).toHaveLength(2);
    expect(point!.consistency.achieved).toBe('crash');
    expect(point!.consistency.reason).toContain('cloud_efficiency');
    expect(h.ecs.groups.size).toBe(0);
  });

  it('runs the guest script for application consistency and records the freeze window', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    const started = await startBackup(h, instanceId, { consistency: appConsistency });

    await h.drain();

    const job = await jobOf(h, started.id);
    expect(job.status).toBe('COMPLETE');
    const point = await pointOf(job);
    expect(point!.consistency).toMatchObject({
      requested: 'application',
      achieved: 'application',
      freezeWindowMs: 120,
    });
    expect(h.ecs.calls.runCommand).toBe(1);
  });

  it('records a lower consistency with the guest reason', async () => {
    h = harness();
    h.ecs.guest = {
      consistency: 'filesystem',
      reason: '/tmp/prescript.sh has mode 0777',
      freezeMs: 80,
      preExit: 0,
    };
    const { instanceId } = h.ecs.addInstance();
    const started = await startBackup(h, instanceId, { consistency: appConsistency });

    await h.drain();

    const point = await pointOf(await jobOf(h, started.id));
    expect(point!.consistency.achieved).toBe('filesystem');
    expect(point!.consistency.reason).toContain('mode 0777');
  });

  it('fails closed when the pre-script fails and the plan says fail', async () => {
    h = harness();
    h.ecs.guest = {
      consistency: 'crash',
      reason: 'pre-script exited with 1',
      preExit: 1,
      createsGroup: false,
    };
    const { instanceId } = h.ecs.addInstance();
    const started = await startBackup(h, instanceId, {
      consistency: { ...appConsistency, onPreScriptFailure: 'fail' },
    });

    await h.drain();

    const job = await jobOf(h, started.id);
    expect(job.status).toBe('FAILED');
    expect(job.reason).toContain('pre-script');
    expect(h.ecs.groups.size).toBe(0);
  });

  it('falls back to a crash-consistent group when the agent does not answer', async () => {
    h = harness();
    h.ecs.guest = {
      consistency: 'crash',
      createsGroup: false,
      status: 'Aborted',
      errorCode: 'ClientNotRunning',
    };
    const { instanceId } = h.ecs.addInstance();
    const started = await startBackup(h, instanceId, { consistency: appConsistency });

    await h.drain();

    const job = await jobOf(h, started.id);
    expect(job.status).toBe('COMPLETE');
    const point = await pointOf(job);
    expect(point!.consistency.achieved).toBe('crash');
    expect(point!.consistency.reason).toContain('Cloud Assistant');
  });

  it('installs a missing agent and takes this backup crash-consistent', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance({ agent: false });
    const started = await startBackup(h, instanceId, { consistency: appConsistency });

    await h.drain();

    const point = await pointOf(await jobOf(h, started.id));
    expect(h.ecs.calls.installCloudAssistant).toBe(1);
    expect(point!.consistency).toMatchObject({ achieved: 'crash' });
    expect(point!.consistency.reason).toContain('installing');
  });

  it('cancels a backup in progress: snapshot group deleted, job CANCELED', async () => {
    h = harness();
    h.ecs.describesToComplete = 1000;
    const { instanceId } = h.ecs.addInstance();
    const started = await startBackup(h, instanceId);
    await h.drain({ until: async () => (await jobOf(h, started.id)).step === 'poll' });

    const answer = await requestCancel(h.deps, started.id);
    await h.drain();

    expect('status' in answer && answer.status).toBe('CANCELING');
    const job = await jobOf(h, started.id);
    expect(job.status).toBe('CANCELED');
    expect(job.reason).toContain('deleted');
    expect(h.ecs.groups.size).toBe(0);
    expect(h.ecs.snapshots.size).toBe(0);
  });

  it('cancels a job that has not started without touching ECS', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    const started = await startBackup(h, instanceId);

    const answer = await requestCancel(h.deps, started.id);
    await h.drain();

    expect('status' in answer && answer.status).toBe('CANCELED');
    expect(h.ecs.totalCalls()).toBe(0);
    expect(await requestCancel(h.deps, started.id)).toEqual({ error: 'terminal' });
    expect(await requestCancel(h.deps, 'job-nope')).toEqual({ error: 'not_found' });
  });

  it('dead-letters a poison message after MAX_RECEIVE_COUNT deliveries and fails its job', async () => {
    h = harness({ MAX_RECEIVE_COUNT: '3' });
    const { instanceId } = h.ecs.addInstance();
    h.ecs.failNext('describeInstanceDisks', new TypeError('store is corrupt'), 100);
    const started = await startBackup(h, instanceId);

    await h.drain();

    const job = await jobOf(h, started.id);
    expect(isTerminal(job.status)).toBe(true);
    expect(job.status).toBe('FAILED');
    expect(job.reason).toContain('store is corrupt');
    const dead = await h.dlq.receive({ max: 10 });
    expect(dead.map((m) => JSON.parse(m.body).jobId)).toContain(started.id);
  });

  it('dead-letters a malformed message without touching any job', async () => {
    h = harness();
    await h.queue.send('not json');

    await h.drain();

    expect(h.outcomes).toContainEqual({ kind: 'dead-lettered', jobId: null, reason: 'malformed message' });
    expect((await h.dlq.receive({ max: 10 })).map((m) => m.body)).toEqual(['not json']);
  });

  it('runs one backup per instance at a time: the second waits, then runs', async () => {
    h = harness();
    h.ecs.describesToComplete = 4;
    const { instanceId } = h.ecs.addInstance();
    const first = await startBackup(h, instanceId);
    const second = await startBackup(h, instanceId);

    await h.drain();

    const a = await jobOf(h, first.id);
    const b = await jobOf(h, second.id);
    expect([a.status, b.status]).toEqual(['COMPLETE', 'COMPLETE']);
    // They did not overlap: the second started after the first finished.
    expect(b.startedAt!).toBeGreaterThanOrEqual(a.finishedAt!);
  });

  it('skips a scheduled occurrence whose predecessor runs past the start window', async () => {
    h = harness({ START_WINDOW_SECONDS: '120' });
    h.ecs.describesToComplete = 100_000;
    const { instanceId } = h.ecs.addInstance();
    const first = await startBackup(h, instanceId);
    await h.drain({ until: async () => (await jobOf(h, first.id)).step === 'poll' });
    const second = await startBackup(h, instanceId, {}, { scheduledAt: h.clock.now() });

    await h.drain({ until: async () => isTerminal((await jobOf(h, second.id)).status), maxSteps: 5000 });

    const b = await jobOf(h, second.id);
    expect(b.status).toBe('SKIPPED');
    expect(b.reason).toContain('previous backup still running');
  });

  it('fails with an actionable reason when ECS refuses for good', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    h.ecs.failNext('createSnapshotGroup', 'QuotaExceed.Snapshot');
    const started = await startBackup(h, instanceId);

    await h.drain();

    const job = await jobOf(h, started.id);
    expect(job.status).toBe('FAILED');
    expect(job.reason).toContain('256 manual snapshots');
  });

  it('fails a job whose instance is gone', async () => {
    h = harness();
    const started = await startBackup(h, 'i-gone00001');

    await h.drain();

    const job = await jobOf(h, started.id);
    expect(job.status).toBe('FAILED');
    expect(job.reason).toContain('no longer exists');
  });

  it('ignores a sequenced message that an earlier delivery already acted on', async () => {
    h = harness();
    h.ecs.describesToComplete = 3;
    const { instanceId } = h.ecs.addInstance();
    const started = await startBackup(h, instanceId);
    await h.drain({ until: async () => (await jobOf(h, started.id)).step === 'poll' });
    const job = await jobOf(h, started.id);

    const { handleJobMessage } = await import('../../../lib/usecases/jobs/handle-job-message.js');
    const { JOB_KINDS } = await import('../../../lib/usecases/job-kinds.js');
    const outcome = await handleJobMessage(
      h.deps,
      JOB_KINDS,
      JSON.stringify({ v: 1, jobId: job.id, seq: job.version - 1 }),
      1,
    );

    expect(outcome).toMatchObject({ kind: 'ignored', why: 'stale message' });
  });
});
