import * as EcsModels from '@alicloud/ecs20140526';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SeedConfig, SeedDisk } from '../../local/ecs-emulator/index.js';
import {
  ecsClient,
  makeDataDir,
  startChildCloud,
  startChildEmulator,
  type ChildCloud,
  type ChildEmulator,
} from './child-cloud.js';
import { TERMINAL } from './support.js';

const INSTANCES = Array.from({ length: 6 }, (_, i) => `i-crash0${i + 1}`);
const SCRIPT = '#!/bin/bash\nexit 0\n';
const APP = { applicationConsistent: true, fsFreeze: true, timeoutSeconds: 30 };
const MIN_KILLS = 10;
const MIN_BACKUPS = 20;

function seed(): SeedConfig {
  const disks = (instanceId: string, i: number): SeedDisk[] => [
    {
      diskId: `d-${instanceId.slice(2)}sys`,
      type: 'system',
      category: 'cloud_essd',
      sizeGiB: 40,
      files: { 'etc/hostname': `${i}\n` },
    },
    {
      diskId: `d-${instanceId.slice(2)}data`,
      type: 'data',
      category: 'cloud_essd',
      sizeGiB: 100,
      files: { 'srv/data.txt': `${i}` },
    },
  ];
  return {
    zones: ['cn-hangzhou-h'],
    instances: INSTANCES.map((instanceId, i) => ({
      instanceId,
      osType: 'linux',
      zoneId: 'cn-hangzhou-h',
      status: 'Running',
      disks: disks(instanceId, i),
      mounts: [
        { device: '/dev/vda1', mountPoint: '/', fsType: 'ext4', diskId: `d-${instanceId.slice(2)}sys` },
        { device: '/dev/vdb1', mountPoint: '/data', fsType: 'xfs', diskId: `d-${instanceId.slice(2)}data` },
      ],
      tmp: [
        { path: 'prescript.sh', content: SCRIPT, owner: 'root', mode: '0700' },
        { path: 'postscript.sh', content: SCRIPT, owner: 'root', mode: '0700' },
      ],
    })),
  };
}

interface JobView {
  id: string;
  type: string;
  status: string;
  reason: string | null;
  instanceId: string;
  backupId: string | null;
  params: Record<string, unknown>;
  state: Record<string, unknown>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The ECS emulator runs in its own process, as the cloud does: it never dies, and its guests go on
 * (a guest's watchdog really thaws). The engine (API, scheduler, workers: `npm start` pointed at the
 * emulator by ECS_ENDPOINT) runs as a child process group and is SIGKILLed at random moments while
 * jobs are in flight, then restarted on the same data folder. With a 300 s visibility timeout, the
 * work resumes only because the queue releases the dead process's messages on open.
 */
describe('a real kill of the engine, again and again, mid-work', { timeout: 420_000 }, () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsb-kill-'));
  let emulator: ChildEmulator | undefined;
  let engine: ChildCloud | undefined;
  afterAll(async () => {
    engine?.signal('SIGKILL');
    await emulator?.stop();
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('ends every job, leaves no orphan and nothing frozen, and loses no job', async () => {
    // Prepare
    const seedFile = path.join(base, 'seed.json');
    fs.writeFileSync(seedFile, JSON.stringify(seed()));
    emulator = await startChildEmulator(path.join(base, 'emulator'), seedFile);
    const emu = emulator;
    await emu.admin('setSnapshotSpeed', { baseMs: 1500, bytesPerSec: 64 * 1024 ** 3 });
    await emu.admin('setAsyncOperationMs', { ms: 400 });
    const dataDir = makeDataDir(path.join(base, 'engine'), false);
    const env = {
      ECS_ENDPOINT: emu.url,
      ECS_EMULATOR_ACCESS_KEY_ID: emu.accessKeyId,
      ECS_EMULATOR_ACCESS_KEY_SECRET: emu.accessKeySecret,
      POLL_INTERVAL_SECONDS: '1',
      SCHEDULER_TICK_SECONDS: '1',
      // Far beyond the test: no job is rescued by the stall sweep, work resumes only through the
      // queue releasing the dead process's messages.
      JOB_STALL_SECONDS: '3600',
      QUEUE_VISIBILITY_TIMEOUT_SECONDS: '300',
    };
    engine = await startChildCloud({ dataDir, env });
    let up = true;

    /** One API call that rides over kills: retried until an engine answers. */
    const call = async <T>(
      method: string,
      p: string,
      body?: unknown,
    ): Promise<{ status: number; body: T }> => {
      for (;;) {
        const current = engine!;
        if (up) {
          try {
            const res = await fetch(`${current.apiUrl}/api/v1${p}`, {
              method,
              headers: { authorization: `Bearer ${current.token}`, 'content-type': 'application/json' },
              ...(body === undefined ? {} : { body: JSON.stringify(body) }),
            });
            const text = await res.text();
            return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
          } catch {
            // the engine died under this call
          }
        }
        await sleep(100);
      }
    };
    const allJobs = async (): Promise<JobView[]> => {
      const out: JobView[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { items: JobView[]; nextCursor: string | null } } = await call(
          'GET',
          `/jobs?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        out.push(...page.body.items);
        cursor = page.body.nextCursor;
      } while (cursor);
      return out;
    };
    const created: { id: string; type: string }[] = [];
    let posting = 0;
    const start = async (p: string, body: unknown, pick: (b: Record<string, unknown>) => string) => {
      // A kill between the API's write of a new job and its send would leave the job to the stall
      // sweep (minutes): that window is the API's, not this test's, so no kill lands in a POST.
      posting += 1;
      const answer = await call<Record<string, unknown>>('POST', p, body).finally(() => (posting -= 1));
      expect([201, 202], `${p}: ${JSON.stringify(answer.body)}`).toContain(answer.status);
      const id = pick(answer.body);
      created.push({ id, type: p });
      return id;
    };
    const ended = async (ids: string[], timeoutMs = 240_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const jobs = await Promise.all(ids.map((id) => call<JobView>('GET', `/jobs/${id}`)));
        if (jobs.every((j) => TERMINAL.includes(j.body.status as (typeof TERMINAL)[number])))
          return jobs.map((j) => j.body);
        if (Date.now() > deadline)
          throw new Error(
            `jobs not ended: ${JSON.stringify(jobs.map((j) => j.body.status))}\n` +
              `${JSON.stringify(jobs.filter((j) => !TERMINAL.includes(j.body.status as (typeof TERMINAL)[number])).map((j) => j.body))}\n` +
              `kills: ${JSON.stringify(kills)}\nengine output:\n${engine!.output().slice(-4000)}`,
          );
        await sleep(250);
      }
    };

    // The killer: waits a random moment, counts the jobs in flight, SIGKILLs the engine's group,
    // starts it again on the same data folder. Only kills with work in flight count.
    const kills: { inFlight: number }[] = [];
    let driving = true;
    const killer = (async () => {
      while (driving || kills.filter((k) => k.inFlight > 0).length < MIN_KILLS) {
        await sleep(500 + Math.random() * 2500);
        const inFlight = (await allJobs()).filter(
          (j) => !TERMINAL.includes(j.status as (typeof TERMINAL)[number]),
        ).length;
        if (inFlight === 0 && !driving) break;
        if (inFlight === 0 || posting > 0) continue;
        up = false;
        engine!.signal('SIGKILL');
        await engine!.exited;
        kills.push({ inFlight });
        engine = await startChildCloud({ dataDir, env });
        up = true;
      }
    })();

    // Act: backups in rounds (one at a time per instance), then restores, mounts and unmounts.
    const backupIds: string[] = [];
    for (const instanceId of INSTANCES)
      backupIds.push(
        await start(
          '/protected-instances',
          { instanceId, disks: 'all', plan: { retention: { value: 7, unit: 'days' }, consistency: APP } },
          (b) => (b['job'] as { id: string }).id,
        ),
      );
    await ended(backupIds);
    // Rounds go on until there were enough backups and enough kills mid-work (restores, mounts and
    // unmounts below get killed too).
    for (let round = 1; round < 12; round += 1) {
      if (backupIds.length >= MIN_BACKUPS && kills.filter((k) => k.inFlight > 0).length >= MIN_KILLS) break;
      const ids: string[] = [];
      for (const instanceId of INSTANCES)
        ids.push(
          await start(
            `/protected-instances/${instanceId}/backups`,
            { consistency: APP },
            (b) => b['id'] as string,
          ),
        );
      backupIds.push(...ids);
      await ended(ids);
    }
    const backups = await ended(backupIds);
    const latest = new Map(
      backups.filter((b) => b.status === 'COMPLETE').map((b) => [b.instanceId, b.backupId!]),
    );
    const restoreIds: string[] = [];
    const mountIds: string[] = [];
    for (const [i, instanceId] of INSTANCES.entries()) {
      const backupId = latest.get(instanceId)!;
      const target = INSTANCES[(i + 1) % INSTANCES.length];
      restoreIds.push(
        await start(
          `/backups/${backupId}/restore`,
          { mode: 'clone-disk', diskId: `d-${instanceId.slice(2)}data`, targetInstanceId: target },
          (b) => b['id'] as string,
        ),
      );
      mountIds.push(
        await start(
          `/backups/${backupId}/mount`,
          { diskId: `d-${instanceId.slice(2)}sys`, targetInstanceId: target },
          (b) => b['id'] as string,
        ),
      );
    }
    const mounts = await ended(mountIds);
    const unmountIds: string[] = [];
    for (const m of mounts.filter((j) => j.status === 'COMPLETE').slice(0, 3))
      unmountIds.push(await start(`/mounts/${m.id}/unmount`, {}, (b) => b['id'] as string));
    await ended([...restoreIds, ...unmountIds]);
    driving = false;
    await killer;
    const jobs = await allJobs();
    engine.signal('SIGTERM');
    await engine.exited;

    // Assess: the kills were real and fell mid-work.
    const midWork = kills.filter((k) => k.inFlight > 0);
    const types = jobs.reduce<Record<string, number>>(
      (n, j) => ({ ...n, [j.type]: (n[j.type] ?? 0) + 1 }),
      {},
    );
    console.info(
      `real kill: ${kills.length} kills, jobs in flight at each: ${kills.map((k) => k.inFlight).join(' ')}; jobs: ${JSON.stringify(types)}`,
    );
    expect(midWork.length, JSON.stringify(kills)).toBeGreaterThanOrEqual(MIN_KILLS);
    expect(backupIds.length).toBeGreaterThanOrEqual(MIN_BACKUPS);

    // No lost job: every job we were answered for exists and ended; nothing is left in flight.
    const byId = new Map(jobs.map((j) => [j.id, j]));
    expect(created.filter((c) => !byId.has(c.id))).toEqual([]);
    expect(jobs.filter((j) => !TERMINAL.includes(j.status as (typeof TERMINAL)[number]))).toEqual([]);
    const failed = jobs
      .filter((j) => j.status !== 'COMPLETE')
      .map((j) => `${j.id} ${j.type} ${j.status}: ${j.reason}`);
    expect(failed).toEqual([]);

    // The emulator holds exactly what the jobs recorded.
    const points = new Set(jobs.filter((j) => j.type === 'backup').map((j) => j.backupId));
    const stats = await emu.admin<{ snapshotGroups: number; disks: number; frozen: number }>('stats');
    expect(stats.snapshotGroups).toBe(points.size);
    const unmounted = new Set(
      jobs.filter((j) => j.type === 'unmount').map((j) => (j.params as { mountJobId: string }).mountJobId),
    );
    const recordedDisks = [
      ...jobs.filter((j) => j.type === 'restore'),
      ...jobs.filter((j) => j.type === 'mount' && !unmounted.has(j.id)),
    ].map((j) => (j.state as { diskId: string }).diskId);
    const seedDisks = INSTANCES.length * 2;
    expect(stats.disks).toBe(seedDisks + recordedDisks.length);
    const ecs = ecsClient(emu.url, emu.accessKeyId, emu.accessKeySecret);
    const described = await ecs.describeDisks(
      new EcsModels.DescribeDisksRequest({ regionId: 'cn-hangzhou', pageSize: 100 }),
    );
    const disks = described.body?.disks?.disk ?? [];
    const attached = disks.filter((d) => d.status === 'In_use' && d.instanceId);
    expect(attached.length).toBe(seedDisks + recordedDisks.length);
    expect(
      disks
        .map((d) => d.diskId)
        .filter((id) => !/^d-crash\d+(sys|data)$/.test(id!))
        .sort(),
    ).toEqual([...recordedDisks].sort());

    // Every freeze was thawed.
    expect(stats.frozen).toBe(0);
    const log =
      await emu.admin<{ instanceId: string; mountPoint: string; action: string; ok: boolean }[]>('freezeLog');
    const balance = new Map<string, number>();
    for (const e of log.filter((f) => f.ok)) {
      const key = `${e.instanceId} ${e.mountPoint}`;
      balance.set(key, (balance.get(key) ?? 0) + (e.action === 'freeze' ? 1 : -1));
    }
    expect([...balance.values()].every((v) => v === 0)).toBe(true);
    expect(log.filter((f) => f.ok && f.action === 'freeze').length).toBeGreaterThanOrEqual(MIN_BACKUPS * 2);
  });
});
