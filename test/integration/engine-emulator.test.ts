import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEcsAdapter } from '../../lib/adapters/ecs/index.js';
import { isTerminal } from '../../lib/domain/job.js';
import type { Job } from '../../lib/domain/model.js';
import type { Ecs } from '../../lib/ports/ecs.js';
import { TAG_JOB } from '../../lib/usecases/backup/ownership.js';
import { startEcsEmulator, type EcsEmulator } from '../../local/ecs-emulator/index.js';
import {
  crashConsistency,
  engineHarness,
  jobOf,
  startBackup,
  type Harness,
} from '../unit/usecases/harness.js';

/**
 * The job engine with the real ECS adapter (official SDK) against the ECS emulator, whose guests run
 * the real Linux guest script in its sandbox and record every freeze and thaw: a snapshot failing
 * part-way, and the worker dying at every point of an application-consistent backup.
 */

let dataDir: string;
let emu: EcsEmulator;
let h: Harness<Ecs> | undefined;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join('/var/tmp', 'ecsb-engine-'));
  // Snapshots take long enough that every run polls a group in progress at least once: with faster
  // ones, whether a poll saw one depended on the machine, and so did the crash points.
  emu = await startEcsEmulator({ dataDir, asyncOperationMs: 20, snapshotBaseMs: 1000 });
});

/**
 * A fresh adapter per worker: the batched readers are kept per ECS client with the clock of the
 * process that made them, and each harness has its own manual clock.
 */
function worker(): Harness<Ecs> {
  const ecs = createEcsAdapter({
    endpoint: emu.endpoint,
    protocol: 'http',
    regionId: emu.regionId,
    credentials: { accessKeyId: emu.accessKeyId, accessKeySecret: emu.accessKeySecret },
    defaultRatePerSecond: 1000,
    baseDelayMs: 1,
    maxDelayMs: 5,
  });
  h = engineHarness(ecs, { POLL_INTERVAL_SECONDS: '1' });
  return h;
}

afterEach(async () => {
  await emu.admin.clearFaults();
  const open = h;
  h = undefined;
  await open?.close();
});

afterAll(async () => {
  await emu?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const OK_SCRIPT = '#!/bin/bash\nexit 0\n';

async function linuxInstance(categories = ['cloud_essd', 'cloud_essd']) {
  const added = await emu.admin.addInstance({
    osType: 'linux',
    status: 'Running',
    disks: categories.map((category, i) => ({
      type: i === 0 ? ('system' as const) : ('data' as const),
      category,
      files: { [`f${i}.txt`]: 'x' },
    })),
    tmp: [
      { path: 'prescript.sh', content: OK_SCRIPT, owner: 'root', mode: '0700' },
      { path: 'postscript.sh', content: OK_SCRIPT, owner: 'root', mode: '0700' },
    ],
  });
  await emu.admin.updateInstance({
    instanceId: added.instanceId,
    mounts: added.diskIds.map((diskId, i) => ({
      device: `/dev/vd${String.fromCharCode(97 + i)}1`,
      mountPoint: i === 0 ? '/' : `/data${i}`,
      fsType: 'ext4',
      options: 'rw',
      diskId,
    })),
  });
  return added;
}

async function finished(id: string): Promise<Job> {
  const local = h!;
  await local.drain({
    until: async () => isTerminal((await jobOf(local, id)).status),
    idleRealMs: 20,
    maxSteps: 20_000,
  });
  return jobOf(local, id);
}

async function until(ok: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function ownedBy(jobId: string) {
  const tag = { key: TAG_JOB, value: jobId };
  const { ecs } = h!;
  return { groups: await ecs.findSnapshotGroupsByTag(tag), snapshots: await ecs.findSnapshotsByTag(tag) };
}

describe('a snapshot failing part-way in ECS', () => {
  it('fails a group backup with the reason and deletes the group', async () => {
    h = worker();
    const { instanceId, diskIds } = await linuxInstance();
    await emu.admin.failSnapshot({ diskId: diskIds[1], atPercent: 40 });
    const job = await startBackup(h, instanceId, { consistency: crashConsistency });

    const done = await finished(job.id);

    expect(done.status).toBe('FAILED');
    expect(done.reason).toMatch(
      /snapshot group \S+ failed; run the backup again; snapshot group \S+ deleted/,
    );
    expect(await ownedBy(job.id)).toEqual({ groups: [], snapshots: [] });
  });

  it('makes a per-disk backup PARTIAL_COMPLETE naming the disk, keeping the snapshot that succeeded', async () => {
    h = worker();
    const { instanceId, diskIds } = await linuxInstance(['cloud_efficiency', 'cloud_ssd']);
    await emu.admin.failSnapshot({ diskId: diskIds[1], atPercent: 40 });
    const job = await startBackup(h, instanceId, { consistency: crashConsistency });

    const done = await finished(job.id);

    expect(done.status).toBe('PARTIAL_COMPLETE');
    expect(done.reason).toMatch(new RegExp(`of ${diskIds[1]} failed in ECS`));
    const [point] = (await h.deps.store.points.list({ instanceId })).items;
    expect(point?.snapshots.map((s) => s.diskId)).toEqual([diskIds[0]]);
  });
});

const stateKeys = (state: object) =>
  Object.keys(state)
    .filter((k) => k !== 'missingPolls')
    .sort()
    .join(',');

describe('the worker dying at every point of an application-consistent backup', () => {
  it(
    'each crash is recovered: COMPLETE, one group, nothing frozen, every freeze thawed',
    { timeout: 180_000 },
    async () => {
      // A clean run lists the distinct points (polls repeat, as many times as the guest takes); then one
      // run per point crashes at its first occurrence.
      const listed: string[] = [];
      const reached: string[] = [];
      for (let n = 0; n <= listed.length; n += 1) {
        const local = worker();
        const { instanceId } = await linuxInstance();
        const target = n === 0 ? null : listed[n - 1]!;
        let crashed: string | null = null;
        const reach = (point: string) => {
          if (n === 0 && !listed.includes(point)) listed.push(point);
          if (crashed === null && point === target) {
            crashed = point;
            throw new Error(`worker killed at ${point}`);
          }
        };
        local.deps.hooks = {
          // Saves are told apart by what the record holds, but for `missingPolls`: a poll that finds
          // the group still in progress writes it, and whether one does depends on the machine's speed.
          afterJobStep: (j) => reach(`save:${j.status}/${j.step}[${stateKeys(j.state)}]`),
          afterEcsCall: (j, method) => reach(`ecs:${j.step}/${method}`),
        };
        const job = await startBackup(local, instanceId, {
          consistency: { ...crashConsistency, applicationConsistent: true },
        });

        const done = await finished(job.id);

        if (target !== null) {
          expect(crashed, `run ${n} crashed`).toBe(target);
          reached.push(crashed!);
        }
        expect(done.status, `${n}: ${done.reason}`).toBe('COMPLETE');
        expect((await ownedBy(job.id)).groups).toHaveLength(1);
        // A job that adopted the group of a script whose result it lost does not wait for that script
        // to end: the thaw follows the snapshot request, by its trap or at the latest its watchdog.
        await until(async () => (await emu.admin.frozen({ instanceId })).length === 0, 40_000);
        // Every file system that was frozen was thawed after (failed attempts change nothing).
        const log = (await emu.admin.freezeLog({ instanceId })).filter((e) => e.ok);
        for (const mountPoint of new Set(log.map((e) => e.mountPoint))) {
          const actions = log.filter((e) => e.mountPoint === mountPoint).map((e) => e.action);
          expect(actions.at(-1), `${mountPoint} after run ${n}`).toBe('thaw');
          expect(actions.filter((a) => a === 'freeze').length).toBe(
            actions.filter((a) => a === 'thaw').length,
          );
        }
        expect(log.some((e) => e.action === 'freeze')).toBe(true);
        await local.close();
        h = undefined;
      }
      if (process.env.CRASH_POINTS_REPORT) console.log(`${listed.length} crash points: ${listed.join(' ')}`);
      expect(reached).toEqual(listed);
      expect(listed).toContain('ecs:snapshot/runCommand');
      expect(listed.some((p) => p.startsWith('save:RUNNING/guest-wait'))).toBe(true);
    },
  );
});
