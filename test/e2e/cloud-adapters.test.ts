import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler as createScheduler } from '../../functions/scheduler/index.js';
import { createHandler as createWorker } from '../../functions/worker/index.js';
import { provisionQueues } from '../../infra/queues.js';
import { provisionTables, TablestoreClient } from '../../lib/adapters/tablestore/index.js';
import { loadSettings } from '../../lib/config.js';
import { isTerminal } from '../../lib/domain/job.js';
import { buildDeps, type BuiltDeps } from '../../lib/runtime/build-deps.js';
import type { FcContext } from '../../lib/runtime/fc.js';
import { silentLogger } from '../../lib/runtime/logger.js';
import { onDemandParams } from '../../lib/usecases/management/job-params.js';
import { startBackupJob } from '../../lib/usecases/management/start-backup.js';
import { startEcsEmulator, type EcsEmulator } from '../../local/ecs-emulator/index.js';
import { startMnsEmulator, type MnsEmulator } from '../../local/mns-emulator/index.js';
import { toCloudEvent } from '../../local/runtime/consumer.js';
import { timerEvent } from '../../local/runtime/timers.js';
import { startTablestoreEmulator, type TablestoreEmulator } from '../../local/tablestore-emulator/index.js';
import { E2E_TIMEOUT_MS } from './support.js';

const KEY = { accessKeyId: 'cloud-test-id', accessKeySecret: 'cloud-test-secret' };

/**
 * The cloud wiring: dependencies built from settings as a function's cold start builds them
 * (STORE=tablestore, QUEUE=mns), each adapter on its official SDK against its emulator, and the
 * worker driven with MNS CloudEvents as the EventBridge trigger would.
 */
describe('the engine on Tablestore + MNS (cloud adapters, emulated)', { timeout: E2E_TIMEOUT_MS }, () => {
  let ecs: EcsEmulator;
  let tablestore: TablestoreEmulator;
  let mns: MnsEmulator;
  let built: BuiltDeps;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsb-cloud-'));
    ecs = await startEcsEmulator({ dataDir: dir, snapshotBaseMs: 200, ...KEY });
    tablestore = await startTablestoreEmulator({ ...KEY, instanceName: 'ecs-backup' });
    mns = await startMnsEmulator(KEY);
    await provisionTables(
      new TablestoreClient({ endpoint: tablestore.endpoint, instanceName: 'ecs-backup', ...KEY }),
      {
        dryRun: false,
      },
    );
    await provisionQueues({ endpoint: mns.endpoint, ...KEY, dryRun: false });
    const settings = loadSettings({
      STORE: 'tablestore',
      QUEUE: 'mns',
      TABLESTORE_ENDPOINT: tablestore.endpoint,
      TABLESTORE_INSTANCE: 'ecs-backup',
      MNS_ENDPOINT: mns.endpoint,
      ECS_ENDPOINT: ecs.url,
      ECS_REGION: ecs.regionId,
      POLL_INTERVAL_SECONDS: '1',
    });
    built = await buildDeps(settings, { credentials: () => KEY, log: silentLogger });
  });
  afterAll(async () => {
    await built?.close();
    await mns?.close();
    await tablestore?.close();
    await ecs?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('takes a backup end to end through the functions', async () => {
    const { deps } = built;
    const worker = createWorker(deps);
    const scheduler = createScheduler(deps);
    const { instanceId } = await ecs.admin.addInstance({
      osType: 'linux',
      disks: [
        { type: 'system', category: 'cloud_essd' },
        { type: 'data', category: 'cloud_essd' },
      ],
    });
    const job = await startBackupJob(deps, {
      instanceId,
      planId: null,
      params: onDemandParams('all', null, {}),
    });
    const context: FcContext = {
      requestId: 'cloud-test',
      credentials: KEY,
      function: { name: 'worker', timeout: 60 },
    };

    // Act: play the MNS trigger until the job ends.
    const deadline = Date.now() + 60_000;
    let current = await deps.store.jobs.get(job.id);
    while (current && !isTerminal(current.status) && Date.now() < deadline) {
      const messages = await deps.jobQueue.receive({ max: 10, waitSeconds: 1 });
      if (messages.length > 0) {
        const events = messages.map((m) => toCloudEvent(m, deps.settings.JOB_QUEUE));
        const result = await worker(Buffer.from(JSON.stringify(events)), context);
        expect(result.batchItemFailures).toEqual([]);
        for (const m of messages) await deps.jobQueue.delete(m.receiptHandle);
      }
      current = await deps.store.jobs.get(job.id);
    }
    const tick = await scheduler(Buffer.from(JSON.stringify(timerEvent('scheduler', new Date()))), context);

    // Assess
    expect(current?.status).toBe('COMPLETE');
    const point = await deps.store.points.get((current!.state as { pointId: string }).pointId);
    expect(point?.snapshots).toHaveLength(2);
    expect((await deps.ecs.describeSnapshotGroups([point!.snapshotGroupId!]))[0]?.status).toBe(
      'accomplished',
    );
    expect(tick).toMatchObject({ plans: 0, enqueued: 0 });
  });
});
