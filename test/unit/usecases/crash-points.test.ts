import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { createFsObjectStore } from '../../../lib/adapters/fs-object-store/index.js';
import { createOssObjectStore } from '../../../lib/adapters/oss/index.js';
import { SystemClock } from '../../../lib/adapters/system.js';
import { startOssEmulator } from '../../../local/oss-emulator/index.js';
import type { ObjectStore } from '../../../lib/ports/object-store.js';
import { gzipMember, readLayout } from '../../../lib/usecases/export/archive-stream.js';
import { requestExport } from '../../../lib/usecases/export/requests.js';
import { exportKeys, type ExportState } from '../../../lib/usecases/export/state.js';
import { parseManifest } from '../../../lib/domain/export.js';
import type { Job } from '../../../lib/domain/model.js';
import { TAG_JOB } from '../../../lib/usecases/backup/ownership.js';
import { requestMount, requestUnmount } from '../../../lib/usecases/mount/mounts.js';
import { requestRestore } from '../../../lib/usecases/restore/requests.js';
import { requestClone } from '../../../lib/usecases/clone/requests.js';
import type { CloneState } from '../../../lib/usecases/clone/state.js';
import { enqueueCopies } from '../../../lib/usecases/copy/point-copies.js';
import type { RecoveryState } from '../../../lib/usecases/restore/state.js';
import { newPlan } from '../../../lib/domain/plan.js';
import { verifyIfDue } from '../../../lib/usecases/verify/enqueue.js';
import type { VerifyState } from '../../../lib/usecases/verify/state.js';
import { crashConsistency, finished, harness, jobOf, startBackup, type Harness } from './harness.js';

/**
 * The worker dies at every point a job can be interrupted: after each write of the job record, and
 * after each ECS call a step makes, before the step saved what it learned. A dry run lists the points
 * of a job kind; then one run per point crashes there (the engine's test hook throws), the message is
 * redelivered, and the job must finish as if nothing happened: no duplicate snapshot group, disk or
 * attachment, nothing left behind. Each crash run must really crash, and the points crashed at must
 * be exactly the points the dry run listed.
 */

let h: Harness | undefined;

async function closeHarness(): Promise<void> {
  const open = h;
  h = undefined;
  await open?.close();
}

afterEach(closeHarness);

const appConsistency = { ...crashConsistency, applicationConsistent: true };

interface Scenario {
  /** Builds the world and returns the id of the job under test once it is queued (earlier jobs drained). */
  setup(h: Harness): Promise<string>;
  /** ECS writes the job must make; a crash after each is among the points. */
  writes: string[];
  /** What must hold once the job is terminal after a crash. */
  check(h: Harness, job: Job): Promise<void>;
}

type Point = { kind: 'save' | 'ecs' | 'store'; label: string };

/** The multipart writes a job makes to the object store. */
const STORE_WRITES = ['createUpload', 'uploadPart', 'completeUpload'] as const;

/**
 * The object store with a crash point after each multipart write answered, before the step
 * records it: a part in the store the job does not know of, an upload whose id was never saved.
 */
function storeWithPoints(store: ObjectStore, reach: (p: Point) => void): ObjectStore {
  const wrapped = Object.create(store) as ObjectStore;
  for (const method of STORE_WRITES) {
    const call = store[method].bind(store) as (...args: unknown[]) => Promise<unknown>;
    Object.assign(wrapped, {
      [method]: async (...args: unknown[]) => {
        const answer = await call(...args);
        reach({ kind: 'store', label: `store/${method}` });
        return answer;
      },
    });
  }
  return wrapped;
}

function label(p: Point): string {
  return `${p.kind}:${p.label}`;
}

/** Runs the job once, arming the hooks to list (and optionally crash at) the n-th point. */
async function run(
  scenario: Scenario,
  crashAt: number | null,
): Promise<{ points: Point[]; crashed: Point | null; job: Job; h: Harness }> {
  const local = harness();
  h = local;
  const jobId = await scenario.setup(local);
  const points: Point[] = [];
  let crashed: Point | null = null;
  const reach = (p: Point) => {
    if (crashed) return;
    points.push(p);
    if (crashAt !== null && points.length === crashAt) {
      crashed = p;
      local.kill(label(p));
    }
  };
  if (local.deps.objectStore) local.deps.objectStore = storeWithPoints(local.deps.objectStore, reach);
  local.deps.hooks = {
    afterJobStep: (job) => {
      if (job.id === jobId) reach({ kind: 'save', label: `${job.status}/${job.step}` });
    },
    afterEcsCall: (job, method) => {
      if (job.id === jobId) reach({ kind: 'ecs', label: `${job.step}/${method}` });
    },
  };
  await finished(local, jobId);
  // Anything the job queued after it finished (nothing should be) runs too.
  await local.drain();
  return { points, crashed, job: await jobOf(local, jobId), h: local };
}

async function crashEverywhere(scenario: Scenario): Promise<void> {
  const dry = await run(scenario, null);
  await scenario.check(dry.h, dry.job);
  const expected = dry.points.map(label);
  expect(expected.filter((p) => p.startsWith('save:')).length, 'writes of the job record').toBeGreaterThan(1);
  if (process.env.CRASH_POINTS_REPORT) console.log(`${expected.length} crash points: ${expected.join(' ')}`);
  for (const write of scenario.writes) {
    expect(
      expected.some((p) => p.endsWith(`/${write}`)),
      `the job calls ${write}`,
    ).toBe(true);
  }
  await closeHarness();
  const reached: string[] = [];
  for (let n = 1; n <= dry.points.length; n += 1) {
    const r = await run(scenario, n);
    expect(r.crashed, `run ${n} crashed`).not.toBeNull();
    expect(r.h.kills, `run ${n}: the worker process died once`).toBe(1);
    reached.push(label(r.crashed!));
    await scenario.check(r.h, r.job);
    await closeHarness();
  }
  expect(reached).toEqual(expected);
}

/** No snapshot group or snapshot tagged with a job that has no live point. */
async function noOrphanSnapshots(h: Harness): Promise<void> {
  const jobsWithPoints = new Set(
    (await h.deps.store.points.list({})).items.filter((p) => p.status === 'AVAILABLE').map((p) => p.jobId),
  );
  for (const g of h.ecs.groups.values()) {
    const owner = g.tags.find((t) => t.key === TAG_JOB)?.value;
    expect(jobsWithPoints.has(owner ?? ''), `group ${g.snapshotGroupId} of ${owner} has a point`).toBe(true);
  }
  for (const s of h.ecs.snapshots.values()) {
    const owner = s.tags.find((t) => t.key === TAG_JOB)?.value;
    expect(jobsWithPoints.has(owner ?? ''), `snapshot ${s.snapshotId} of ${owner} has a point`).toBe(true);
  }
}

/** The folder object store an export writes to, in a fresh temp folder. */
function folderStore(h: Harness) {
  const store = createFsObjectStore({
    root: mkdtempSync(path.join(os.tmpdir(), 'export-crash-')),
    baseUrl: 'http://127.0.0.1:1/objects',
    secret: 'crash',
  });
  h.deps.objectStore = store;
  return store;
}

/** A completed backup of a fresh instance; returns the point id. */
async function backedUp(
  h: Harness,
  options: { categories?: string[]; status?: 'Running' | 'Stopped'; os?: 'linux' | 'windows' } = {},
) {
  const { instanceId, diskIds } = h.ecs.addInstance(options);
  const job = await startBackup(h, instanceId);
  const pointId = ((await finished(h, job.id)).state as { pointId?: string }).pointId;
  if (!pointId) throw new Error('the backup recorded no point');
  return { instanceId, diskIds, pointId };
}

function ok<T>(answer: { ok: true; value: T } | { ok: false }): T {
  if (!answer.ok) throw new Error(`refused: ${JSON.stringify(answer)}`);
  return answer.value;
}

/** The job copying the point's backup to cn-other, enqueued as the backup's last step does. */
async function copyToOther(h: Harness, pointId: string): Promise<Job> {
  const point = (await h.deps.store.points.get(pointId))!;
  const [copy] = await enqueueCopies(h.deps, await jobOf(h, point.jobId), point, [
    { regionId: 'cn-other', retention: { value: 30, unit: 'days' } },
  ]);
  return copy!;
}

/** A folder object store for exports, and a small enough file limit that one work list holds all. */
/** The folder store, and exports of at most three files. */
function exportStore(h: Harness) {
  const store = folderStore(h);
  h.deps.settings = { ...h.deps.settings, EXPORT_MAX_FILES: 3 };
  return store;
}

/** What the guest would upload for export `jobId` (the fake ECS runs no script): one file, the manifest. */
async function uploadAsGuest(store: ReturnType<typeof exportStore>, jobId: string, manifest: string) {
  await store.put(exportKeys(jobId).blob(0), 'hello');
  await store.put(exportKeys(jobId).manifest, manifest);
}

/** An export of every file uploaded, complete: its one disk deleted and the point released. */
async function expectExported(
  h: Harness,
  job: Job,
  all: { files: number; bytes: number },
): Promise<ExportState> {
  expect(job.status, job.reason ?? '').toBe('COMPLETE');
  const st = job.state as ExportState;
  expect(h.ecs.createdDisks).toBe(1);
  expect(h.ecs.disks.has(st.diskId!)).toBe(false);
  expect(st.progress).toEqual({ ...all, totalFiles: all.files, totalBytes: all.bytes });
  expect((await h.deps.store.points.get(st.pointId!))!.inUseBy).toEqual([]);
  return st;
}

const backupScenario = (
  instance: { categories?: string[] },
  params: Parameters<typeof startBackup>[2],
  expectGroups: number,
  expectSnapshots: number,
  writes: string[],
): Scenario => ({
  async setup(h) {
    const { instanceId } = h.ecs.addInstance(instance);
    return (await startBackup(h, instanceId, params)).id;
  },
  writes,
  async check(h, job) {
    expect(job.status).toBe('COMPLETE');
    expect(h.ecs.groups.size).toBe(expectGroups);
    expect(h.ecs.snapshots.size).toBe(expectSnapshots);
    const points = (await h.deps.store.points.list({ instanceId: job.instanceId })).items;
    expect(points).toHaveLength(1);
    await noOrphanSnapshots(h);
  },
});

describe('crash at every point, then redelivery finishes the job', () => {
  it('backup, snapshot group', async () => {
    await crashEverywhere(backupScenario({}, {}, 1, 2, ['createSnapshotGroup']));
  });

  it('backup, guest script (application-consistent)', async () => {
    await crashEverywhere(
      backupScenario({}, { consistency: appConsistency }, 1, 2, ['presignCreateSnapshotGroup', 'runCommand']),
    );
  });

  it('backup, per-disk snapshots of non-ESSD disks', async () => {
    await crashEverywhere(
      backupScenario({ categories: ['cloud_efficiency', 'cloud_ssd'] }, {}, 0, 2, ['createSnapshot']),
    );
  });

  it('backup, snapshot group refused by ECS: per-disk fallback', async () => {
    const scenario = backupScenario({}, {}, 0, 2, ['createSnapshot']);
    await crashEverywhere({
      ...scenario,
      async setup(h) {
        h.ecs.refuseGroups = true;
        return scenario.setup(h);
      },
      async check(h, job) {
        await scenario.check(h, job);
        expect(job.reason).toMatch(/ECS refused a snapshot group .*; per-disk crash-consistent snapshots/);
      },
    });
  });

  it('restore, rollback-disk of a stopped instance', async () => {
    await crashEverywhere({
      async setup(h) {
        const { diskIds, pointId, instanceId } = await backedUp(h);
        h.ecs.instances.get(instanceId)!.status = 'Stopped';
        return ok(await requestRestore(h.deps, pointId, { mode: 'rollback-disk', diskId: diskIds[1] })).id;
      },
      writes: ['resetDisk'],
      async check(h, job) {
        expect(job.status).toBe('COMPLETE');
        expect(h.ecs.instances.get(job.instanceId)!.status).toBe('Stopped');
        const point = await h.deps.store.points.get((job.state as RecoveryState).pointId!);
        expect(point!.inUseBy).toEqual([]);
      },
    });
  });

  it('restore, rollback-instance that stops and restarts a running instance', async () => {
    await crashEverywhere({
      async setup(h) {
        const { pointId } = await backedUp(h);
        return ok(await requestRestore(h.deps, pointId, { mode: 'rollback-instance', stopInstance: true }))
          .id;
      },
      writes: ['stopInstance', 'resetDisk', 'startInstance'],
      async check(h, job) {
        expect(job.status).toBe('COMPLETE');
        expect(h.ecs.instances.get(job.instanceId)!.status).toBe('Running');
        expect(h.ecs.resets).toBeGreaterThanOrEqual(2);
        const point = await h.deps.store.points.get((job.state as RecoveryState).pointId!);
        expect(point!.inUseBy).toEqual([]);
      },
    });
  });

  it('restore, clone-disk to another instance', async () => {
    await crashEverywhere({
      async setup(h) {
        const { diskIds, pointId } = await backedUp(h);
        const target = h.ecs.addInstance().instanceId;
        return ok(
          await requestRestore(h.deps, pointId, {
            mode: 'clone-disk',
            diskId: diskIds[1],
            targetInstanceId: target,
          }),
        ).id;
      },
      writes: ['createDisk', 'attachDisk'],
      async check(h, job) {
        expect(job.status).toBe('COMPLETE');
        const st = job.state as RecoveryState;
        expect(h.ecs.createdDisks).toBe(1);
        const disk = h.ecs.disks.get(st.diskId!);
        expect(disk).toMatchObject({ status: 'In_use', instanceId: job.instanceId });
        const point = await h.deps.store.points.get(st.pointId!);
        expect(point!.inUseBy).toEqual([]);
      },
    });
  });

  it('mount', async () => {
    await crashEverywhere({
      async setup(h) {
        const { diskIds, pointId } = await backedUp(h);
        const target = h.ecs.addInstance().instanceId;
        return ok(await requestMount(h.deps, pointId, { diskId: diskIds[0]!, targetInstanceId: target })).id;
      },
      writes: ['createDisk', 'attachDisk'],
      async check(h, job) {
        expect(job.status).toBe('COMPLETE');
        const st = job.state as RecoveryState;
        expect(h.ecs.createdDisks).toBe(1);
        expect(h.ecs.disks.get(st.diskId!)).toMatchObject({ status: 'In_use', instanceId: job.instanceId });
        const point = await h.deps.store.points.get(st.pointId!);
        expect(point!.inUseBy).toEqual([job.id]);
      },
    });
  });

  it('unmount', async () => {
    await crashEverywhere({
      async setup(h) {
        const { diskIds, pointId } = await backedUp(h);
        const target = h.ecs.addInstance().instanceId;
        const mount = ok(
          await requestMount(h.deps, pointId, { diskId: diskIds[0]!, targetInstanceId: target }),
        );
        await h.drain({ until: async () => (await jobOf(h, mount.id)).status === 'COMPLETE' });
        return ok(await requestUnmount(h.deps, mount.id, 'api')).id;
      },
      writes: ['detachDisk', 'deleteDisk'],
      async check(h, job) {
        expect(job.status).toBe('COMPLETE');
        const st = job.state as RecoveryState;
        expect(h.ecs.disks.has(st.diskId!)).toBe(false);
        const point = await h.deps.store.points.get(st.pointId!);
        expect(point!.inUseBy).toEqual([]);
      },
    });
  });
});

describe('clone-instance at every crash point', () => {
  it('clone: image, launch, wait for Running, delete the image', async () => {
    await crashEverywhere({
      async setup(h) {
        const { pointId } = await backedUp(h);
        return ok(await requestClone(h.deps, pointId, {})).id;
      },
      writes: ['createImage', 'runInstance', 'deleteImage'],
      async check(h, job) {
        expect(job.status, job.reason ?? '').toBe('COMPLETE');
        const st = job.state as CloneState;
        // Exactly one instance, the one on the job, running; no image left behind.
        expect(h.ecs.launchedInstances).toBe(1);
        const tagged = [...h.ecs.instances.values()].filter((i) =>
          i.tags.some((t) => t.key === TAG_JOB && t.value === job.id),
        );
        expect(tagged.map((i) => [i.instanceId, i.status])).toEqual([[st.newInstanceId, 'Running']]);
        expect(h.ecs.createdImages).toBe(1);
        expect(h.ecs.images.size).toBe(0);
        expect((await h.deps.store.points.get(st.pointId!))!.inUseBy).toEqual([]);
      },
    });
  });
});

describe('clone-instance from a copy in another region at every crash point', () => {
  it('clone from the copy in cn-other: image and instance there', async () => {
    await crashEverywhere({
      async setup(h) {
        const { pointId } = await backedUp(h);
        const copy = await copyToOther(h, pointId);
        await finished(h, copy.id);
        h.ecs.forRegion('cn-other').vSwitches = [{ vSwitchId: 'vsw-other', zoneId: 'cn-other-a' }];
        const request = { regionId: 'cn-other', vSwitchId: 'vsw-other', securityGroupIds: ['sg-other'] };
        return ok(await requestClone(h.deps, pointId, request)).id;
      },
      writes: ['createImage', 'runInstance', 'deleteImage'],
      async check(h, job) {
        expect(job.status, job.reason ?? '').toBe('COMPLETE');
        const st = job.state as CloneState;
        const other = h.ecs.forRegion('cn-other');
        expect(other.launchedInstances).toBe(1);
        expect(other.instances.get(st.newInstanceId!)?.status).toBe('Running');
        expect(other.createdImages).toBe(1);
        expect(other.images.size).toBe(0);
        expect(h.ecs.createdImages + h.ecs.launchedInstances).toBe(0);
        expect((await h.deps.store.points.get(st.pointId!))!.inUseBy).toEqual([]);
      },
    });
  });
});

describe('copy to another region at every crash point', () => {
  it('copy', async () => {
    await crashEverywhere({
      async setup(h) {
        const { pointId } = await backedUp(h);
        return (await copyToOther(h, pointId)).id;
      },
      writes: ['copySnapshot'],
      async check(h, job) {
        expect(job.status, job.reason ?? '').toBe('COMPLETE');
        const other = h.ecs.forRegion('cn-other');
        expect(other.snapshots.size).toBe(2);
        const point = (await h.deps.store.points.get((job.params as { pointId: string }).pointId))!;
        expect(point.inUseBy).toEqual([]);
        expect(point.copies).toEqual([
          expect.objectContaining({
            regionId: 'cn-other',
            status: 'available',
            snapshotIds: [...other.snapshots.keys()],
          }),
        ]);
        for (const s of other.snapshots.values())
          expect(s.tags).toContainEqual({ key: TAG_JOB, value: job.id });
        // Retention will find the copy: its expiry row is there, never later than the copy's.
        const row = await h.deps.store.copyExpiries.get(`${point.id}@cn-other`);
        expect(row?.expireAt).toBeLessThanOrEqual(point.copies![0]!.expireAt);
      },
    });
  });
});

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('export at every crash point', () => {
  it('export', async () => {
    await crashEverywhere({
      async setup(h) {
        const { pointId } = await backedUp(h);
        const target = h.ecs.addInstance().instanceId;
        const store = exportStore(h);
        const job = ok(await requestExport(h.deps, pointId, { paths: ['/etc'], targetInstanceId: target }));
        // What the guest uploads (the fake ECS runs no script): one file alone, two in a pack of
        // bare bytes (hashed by the job), and the manifest.
        await store.put(exportKeys(job.id).blob(0), 'hello');
        await store.put(exportKeys(job.id).pack(0), 'abcde');
        await store.put(
          exportKeys(job.id).manifest,
          'd\t0\t755\troot:root\t1\t-\t-\0/etc\0\0f\t5\t644\troot:root\t1\tabc\t0\0/etc/a\0\0' +
            'f\t2\t644\troot:root\t1\t-\tp0@0\0/etc/b\0\0f\t3\t644\troot:root\t1\t-\tp0@2\0/etc/c\0\0',
        );
        return job.id;
      },
      writes: ['createDisk', 'attachDisk', 'runCommand', 'detachDisk', 'deleteDisk'],
      async check(h, job) {
        await expectExported(h, job, { files: 3, bytes: 10 });
        const keys = exportKeys(job.id);
        const manifest = parseManifest((await h.deps.objectStore!.get(keys.manifest))!.toString('utf8'));
        expect(manifest.entries.filter((e) => e.pack).map((e) => e.sha256)).toEqual([sha('ab'), sha('cde')]);
        // The work list, the files, the pack's hashes, the manifest, and the archive the last step made.
        expect((await h.deps.objectStore!.list(keys.prefix)).map((o) => o.key).sort()).toEqual(
          [keys.archive, keys.blob(0), keys.pack(0), keys.packSums(0), keys.manifest, keys.work].sort(),
        );
      },
    });
  });
});

/**
 * An export whose archive takes several parts over several deliveries, on the object store
 * `storeOf` gives: random bytes do not compress, so 64 KiB members pair up into parts of OSS's
 * 100 KB minimum, and 200 KiB of tar stream per delivery makes three deliveries.
 */
function archiveScenario(storeOf: (h: Harness) => ObjectStore): Scenario {
  const files = [randomBytes(300_000), randomBytes(250_000), randomBytes(70_000)];
  return {
    async setup(h) {
      const { pointId } = await backedUp(h);
      const target = h.ecs.addInstance().instanceId;
      const store = storeOf(h);
      h.deps.objectStore = store;
      h.deps.settings = {
        ...h.deps.settings,
        EXPORT_MAX_FILES: 3,
        EXPORT_ARCHIVE_PART_BYTES: 64 * 1024,
        EXPORT_ARCHIVE_DELIVERY_BYTES: 200 * 1024,
      };
      const job = ok(await requestExport(h.deps, pointId, { paths: ['/srv'], targetInstanceId: target }));
      const records = files.map((f, i) => `f\t${f.length}\t644\troot:root\t1\tabc\t${i}\0/srv/${i}.bin\0\0`);
      for (const [i, f] of files.entries()) await store.put(exportKeys(job.id).blob(i), f);
      await store.put(
        exportKeys(job.id).manifest,
        `d\t0\t755\troot:root\t1\t-\t-\0/srv\0\0${records.join('')}`,
      );
      return job.id;
    },
    writes: ['createDisk', 'attachDisk', 'runCommand', 'detachDisk', 'deleteDisk', ...STORE_WRITES],
    async check(h, job) {
      expect(job.status, job.reason ?? '').toBe('COMPLETE');
      const st = job.state as ExportState;
      expect(st.archive?.parts).toBeGreaterThanOrEqual(3);
      const store = h.deps.objectStore!;
      const keys = exportKeys(job.id);
      // The parts, in order, each once: the tar stream of the files, whatever crashed where.
      const layout = await readLayout(store, job.id);
      const expected = gunzipSync(await gzipMember(store, job.id, layout, { start: 0, end: layout.total }));
      expect(gunzipSync((await store.get(keys.archive))!).equals(expected)).toBe(true);
      expect(await store.listUploads(keys.prefix), 'no upload left behind').toEqual([]);
      expect((await h.deps.store.points.get(st.pointId!))!.inUseBy).toEqual([]);
    },
  };
}

describe('export archive over several parts and deliveries at every crash point', () => {
  it('on the folder store: each part uploaded and recorded, the upload started and completed, a crash between any two', async () => {
    await crashEverywhere(archiveScenario((h) => folderStore(h)));
  });

  it('on OSS (ali-oss against the emulator), the same', async () => {
    const emu = await startOssEmulator();
    try {
      await crashEverywhere(
        archiveScenario(() => {
          // Each run starts from an empty bucket: the runs reuse the same job ids.
          emu.state.objects.clear();
          emu.state.uploads.clear();
          return createOssObjectStore({
            bucket: emu.bucket,
            endpoint: emu.endpoint,
            cname: true,
            credentials: () => ({ accessKeyId: emu.accessKeyId, accessKeySecret: emu.accessKeySecret }),
            clock: new SystemClock(),
          });
        }),
      );
      expect(emu.state.uploads.size).toBe(0);
    } finally {
      await emu.close();
    }
  });
});

describe('Windows export at every crash point', () => {
  it('export through the PowerShell script', async () => {
    let sent: { type: string; content: string }[] = [];
    await crashEverywhere({
      async setup(h) {
        const { pointId } = await backedUp(h, { os: 'windows' });
        const store = exportStore(h);
        sent = [];
        const runCommand = h.ecs.runCommand.bind(h.ecs);
        h.ecs.runCommand = async (request) => {
          sent.push({ type: request.type, content: request.content });
          return runCommand(request);
        };
        const job = ok(await requestExport(h.deps, pointId, { paths: ['C:\\inetpub'] }));
        // The manifest has the guest's `\` paths.
        await uploadAsGuest(
          store,
          job.id,
          'd\t0\t755\tBUILTIN\\Administrators\t1\t-\t-\0\\inetpub\0\0f\t5\t644\tBUILTIN\\Administrators\t1\tabc\t0\0\\inetpub\\a.txt\0\0',
        );
        return job.id;
      },
      writes: ['createDisk', 'attachDisk', 'runCommand', 'detachDisk', 'deleteDisk'],
      async check(h, job) {
        const st = await expectExported(h, job, { files: 1, bytes: 5 });
        expect(job.params).toMatchObject({ paths: ['/inetpub'], os: 'windows', drive: 'C' });
        const exports = sent.filter((c) => c.content.includes('$WorkUrl = '));
        expect(exports.length).toBeGreaterThan(0);
        for (const c of exports) {
          expect(c.type).toBe('RunPowerShellScript');
          expect(c.content).toContain(`$DiskSerial = '${st.diskId!.replace(/^d-/, '')}'`);
        }
      },
    });
  });
});

describe('verify at every crash point', () => {
  it('verify: disks from the snapshots, attached to the instance, the guest check, removed, the verdict', async () => {
    await crashEverywhere({
      async setup(h) {
        const { instanceId, pointId } = await backedUp(h);
        const plan = newPlan(
          { instanceId, disks: 'all', retention: { value: 7, unit: 'days' }, verify: { every: 1 } },
          { next: (p) => `${p}crash` },
          h.clock.now(),
          () => 0.5,
        );
        ok(await h.deps.store.plans.create(plan));
        const point = (await h.deps.store.points.get(pointId))!;
        const job = await verifyIfDue(h.deps, plan.id, point);
        if (!job) throw new Error('no verify job');
        return job.id;
      },
      writes: ['createDisk', 'attachDisk', 'runCommand', 'detachDisk', 'deleteDisk'],
      async check(h, job) {
        expect(job.status, job.reason ?? '').toBe('COMPLETE');
        const st = job.state as VerifyState;
        expect(h.ecs.createdDisks).toBe(2);
        for (const d of st.disks ?? []) expect(h.ecs.disks.has(d.diskId!)).toBe(false);
        const point = await h.deps.store.points.get(st.pointId!);
        expect(point?.verification).toMatchObject({ status: 'passed', jobId: job.id });
        expect(point?.inUseBy).toEqual([]);
      },
    });
  });
});

describe('adopting what a crash kept from the record', () => {
  it('a group created before the crash is found by its tag and the job carries on with it', async () => {
    h = harness();
    const { instanceId } = h.ecs.addInstance();
    let armed = true;
    h.deps.hooks = {
      // The worker dies right after CreateSnapshotGroup answered: the group exists, its id is not saved.
      afterEcsCall: (_job, method) => {
        if (method === 'createSnapshotGroup' && armed) {
          armed = false;
          throw new Error('worker killed before saving the group id');
        }
      },
    };
    const started = await startBackup(h, instanceId);
    await h.drain({ until: async () => !armed });
    expect(h.ecs.groups.size).toBe(1);
    const created = [...h.ecs.groups.keys()][0];
    expect((await jobOf(h, started.id)).state).not.toHaveProperty('snapshotGroupId');
    const lookupsBefore = h.ecs.calls.findSnapshotGroupsByTag ?? 0;
    const createsBefore = h.ecs.calls.createSnapshotGroup ?? 0;

    const job = await finished(h, started.id);
    expect(job.status).toBe('COMPLETE');
    expect(h.ecs.calls.findSnapshotGroupsByTag ?? 0).toBe(lookupsBefore + 1);
    expect(h.ecs.calls.createSnapshotGroup ?? 0).toBe(createsBefore);
    expect((job.state as { snapshotGroupId?: string }).snapshotGroupId).toBe(created);
    expect(h.ecs.groups.size).toBe(1);
  });
});
