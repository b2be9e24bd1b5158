import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  E2E_TIMEOUT_MS,
  addLinuxInstance,
  finished,
  planBody,
  pointOf,
  protect,
  startTestCloud,
  until,
  type TestCloud,
} from './support.js';

describe('stopping and starting the local cloud', { timeout: E2E_TIMEOUT_MS }, () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsb-restart-'));
  let cloud: TestCloud | undefined;

  afterAll(async () => {
    await cloud?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('loses no state and resumes a job that was mid-backup; the generated token stays the same', async () => {
    // Prepare: a backup whose snapshot would take an hour, stopped while the worker polls it; the
    // snapshot completes only after the restart, so the stop always falls mid-backup.
    cloud = await startTestCloud({ dataDir, timers: false, emulator: { snapshotBaseMs: 3_600_000 } });
    const firstToken = cloud.apiToken;
    const { instanceId } = await addLinuxInstance(cloud);
    const { jobId } = await protect(cloud, instanceId, planBody());
    await until('the job to poll', async () => (await cloud!.deps.store.jobs.get(jobId!))?.step === 'poll');

    // Act
    await cloud.close();
    cloud = await startTestCloud({ dataDir, timers: false });
    expect((await cloud.deps.store.jobs.get(jobId!))?.step).toBe('poll');
    expect(await cloud.emulator.admin.completeSnapshots()).toBeGreaterThan(0);
    const job = await finished(cloud, jobId!);

    // Assess
    expect(cloud.apiToken).toBe(firstToken);
    expect(cloud.apiTokenGenerated).toBe(false);
    expect(job.status).toBe('COMPLETE');
    const point = await pointOf(cloud, job);
    expect((await cloud.deps.ecs.describeSnapshotGroups([point.snapshotGroupId!]))[0]?.status).toBe(
      'accomplished',
    );
    const listed = await cloud.api.get<{ items: { instanceId: string }[] }>('/protected-instances');
    expect(listed.body.items.map((i) => i.instanceId)).toContain(instanceId);
  });

  it('answers /healthz without a token and refuses the API without one', async () => {
    const health = await fetch(`${cloud!.apiUrl}/healthz`);
    const unauthenticated = await fetch(`${cloud!.apiUrl}/api/v1/jobs`);

    expect(health.status).toBe(200);
    expect(unauthenticated.status).toBe(401);
  });
});
