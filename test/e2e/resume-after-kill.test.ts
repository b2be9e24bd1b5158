import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_SEED_PATH } from '../../local/ecs-emulator/index.js';
import {
  makeDataDir,
  startChildCloud,
  startChildEmulator,
  type ChildCloud,
  type ChildEmulator,
} from './child-cloud.js';
import { apiClient, until } from './support.js';

/**
 * The engine is SIGKILLed while a worker is inside an ECS call for a job (the emulator holds the
 * call): the message it held is released when the next start opens the queue, so the job goes on at
 * once, not after the 300 s visibility timeout (and the stall sweep is set far beyond the test).
 */
describe('a job in flight when the engine dies', { timeout: 120_000 }, () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsb-resume-'));
  let emulator: ChildEmulator | undefined;
  let engine: ChildCloud | undefined;
  afterAll(async () => {
    engine?.signal('SIGKILL');
    await emulator?.stop();
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('resumes as soon as the engine is back', async () => {
    // Prepare: a backup whose worker is stuck in CreateSnapshotGroup when the engine dies.
    emulator = await startChildEmulator(path.join(base, 'emulator'), DEMO_SEED_PATH);
    await emulator.admin('setSnapshotSpeed', { baseMs: 500, bytesPerSec: 64 * 1024 ** 3 });
    await emulator.admin('hold', { action: 'CreateSnapshotGroup', count: 1 });
    const dataDir = makeDataDir(path.join(base, 'engine'), false);
    const env = {
      ECS_ENDPOINT: emulator.url,
      POLL_INTERVAL_SECONDS: '1',
      QUEUE_VISIBILITY_TIMEOUT_SECONDS: '300',
      JOB_STALL_SECONDS: '3600',
    };
    engine = await startChildCloud({ dataDir, env });
    const first = apiClient(engine.apiUrl, engine.token);
    const created = await first.post<{ job: { id: string } }>('/protected-instances', {
      instanceId: 'i-demoweb01',
      disks: 'all',
      plan: { retention: { value: 7, unit: 'days' }, consistency: { applicationConsistent: false } },
    });
    expect(created.status).toBe(201);
    const jobId = created.body.job.id;
    await until('the worker to be inside CreateSnapshotGroup', async () => {
      return (await emulator!.admin<number>('held', { action: 'CreateSnapshotGroup' })) === 1;
    });

    // Act: the call goes on in the "cloud" after its caller died.
    engine.signal('SIGKILL');
    await engine.exited;
    const before = await first.get('/jobs').catch(() => null);
    expect(before).toBeNull();
    await emulator.admin('release', { action: 'CreateSnapshotGroup' });
    engine = await startChildCloud({ dataDir, env });
    const back = Date.now();
    const api = apiClient(engine.apiUrl, engine.token);
    const job = await until(
      'the job to complete',
      async () => {
        const got = await api.get<{ status: string; reason: string | null }>(`/jobs/${jobId}`);
        return ['COMPLETE', 'FAILED', 'PARTIAL_COMPLETE'].includes(got.body.status) ? got.body : undefined;
      },
      60_000,
    );
    const resumedMs = Date.now() - back;
    console.info(`resume after kill: the job completed ${resumedMs} ms after the engine was back`);

    // Assess: far inside the 300 s visibility timeout; one group, adopted, not a second one.
    expect(job.status, job.reason ?? '').toBe('COMPLETE');
    expect(resumedMs).toBeLessThan(30_000);
    const stats = await emulator.admin<{ snapshotGroups: number; frozen: number }>('stats');
    expect(stats.snapshotGroups).toBe(1);
  });
});
