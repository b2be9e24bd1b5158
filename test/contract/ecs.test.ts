import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEcsAdapter, type AttemptEvent, type EcsAdapterOptions } from '../../lib/adapters/ecs/index.js';
import {
  linuxCommandTimeoutSeconds,
  renderLinuxBackupScript,
  renderWindowsBackupScript,
  type LinuxBackupParams,
} from '../../lib/guest/render.js';
import { parseGuestResult } from '../../lib/guest/result.js';
import type { Ecs, InvocationResult, ScriptType, Tag } from '../../lib/ports/ecs.js';
import { startEcsEmulator, type EcsEmulator, type SeedConfig } from '../../local/ecs-emulator/index.js';
import { adapterFor, caught, until } from './support/ecs-fixtures.js';

/**
 * The ECS adapter (official SDK) against the local ECS emulator: every port method, batching,
 * error translation, retries, rate limiting, pre-signed requests and the Linux guest script run
 * through Cloud Assistant in the emulator's sandbox.
 */

const SCRIPT_OK = (name: string) => `#!/bin/bash\necho '${name}: ok'\nexit 0\n`;

const SEED: SeedConfig = {
  instances: [
    {
      instanceId: 'i-ctapp01',
      instanceName: 'contract-app',
      osType: 'linux',
      tags: { team: 'backup' },
      disks: [
        { diskId: 'd-ctappsys', type: 'system', category: 'cloud_essd', files: { 'etc/hostname': 'app\n' } },
        { diskId: 'd-ctappdata', type: 'data', category: 'cloud_essd', files: { 'db/rows.csv': 'a,b\n' } },
      ],
      mounts: [
        {
          device: '/dev/vda1',
          mountPoint: '/',
          fsType: 'ext4',
          options: 'rw,relatime',
          diskId: 'd-ctappsys',
        },
        {
          device: '/dev/vdb1',
          mountPoint: '/data',
          fsType: 'xfs',
          options: 'rw,relatime',
          diskId: 'd-ctappdata',
        },
        { device: 'proc', mountPoint: '/proc', fsType: 'proc', options: 'rw' },
        { device: '10.0.0.9:/share', mountPoint: '/mnt/share', fsType: 'nfs4', options: 'rw,vers=4.1' },
      ],
      tmp: [
        { path: 'prescript.sh', owner: 'root', mode: '0700', content: SCRIPT_OK('prescript') },
        { path: 'postscript.sh', owner: 'root', mode: '0700', content: SCRIPT_OK('postscript') },
      ],
    },
    {
      instanceId: 'i-ctww01',
      osType: 'linux',
      disks: [{ diskId: 'd-ctwwsys', type: 'system', category: 'cloud_essd' }],
      mounts: [{ device: '/dev/vda1', mountPoint: '/', fsType: 'ext4', options: 'rw', diskId: 'd-ctwwsys' }],
      tmp: [
        { path: 'prescript.sh', owner: 'root', mode: '0777', content: SCRIPT_OK('prescript') },
        { path: 'postscript.sh', owner: 'root', mode: '0700', content: SCRIPT_OK('postscript') },
      ],
    },
    {
      instanceId: 'i-ctold01',
      osType: 'linux',
      disks: [
        { diskId: 'd-ctoldsys', type: 'system', category: 'cloud_efficiency' },
        { diskId: 'd-ctolddata', type: 'data', category: 'cloud_ssd' },
      ],
    },
    { instanceId: 'i-ctnoagent', osType: 'linux', agent: false },
    {
      instanceId: 'i-ctwin01',
      osType: 'windows',
      disks: [
        { diskId: 'd-ctwinsys', type: 'system', category: 'cloud_essd' },
        { diskId: 'd-ctwindata', type: 'data', category: 'cloud_essd' },
      ],
    },
  ],
};

let dataDir: string;
let emu: EcsEmulator;
let ecs: Ecs;
let attempts: AttemptEvent[] = [];
let bulk: { instanceIds: string[]; diskIds: string[]; snapshotIds: string[]; snapshotGroupIds: string[] };

function adapter(overrides: Partial<EcsAdapterOptions> = {}): Ecs {
  return adapterFor(emu, {
    baseDelayMs: 1,
    maxDelayMs: 5,
    onAttempt: (e) => attempts.push(e),
    ...overrides,
  });
}

async function callsOf(action: string): Promise<number> {
  return (await emu.admin.calls({ action })).length;
}

const TERMINAL = new Set([
  'Success',
  'Failed',
  'Error',
  'Timeout',
  'Aborted',
  'Invalid',
  'Cancelled',
  'Terminated',
]);

async function runToEnd(
  instanceId: string,
  content: string,
  timeoutSeconds: number,
  token: string,
  type: ScriptType = 'RunShellScript',
): Promise<InvocationResult> {
  const { invokeId } = await ecs.runCommand({
    instanceId,
    type,
    content,
    timeoutSeconds,
    name: 'ecs-backup-contract',
    clientToken: token,
  });
  const [result] = await until(
    () => ecs.describeInvocationResults([invokeId]),
    (r) => r.length === 1 && TERMINAL.has(r[0]!.status),
    60_000,
  );
  return result!;
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join('/var/tmp', 'ecsb-contract-'));
  emu = await startEcsEmulator({ dataDir, seed: SEED, asyncOperationMs: 50, snapshotBaseMs: 60_000 });
  bulk = await emu.admin.bulkSeed({
    instances: 130,
    disksPerInstance: 1,
    snapshots: 130,
    category: 'cloud_essd',
  });
  ecs = adapter();
});

afterAll(async () => {
  await emu?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

beforeEach(async () => {
  attempts = [];
  await emu.admin.clearFaults();
  await emu.admin.clearCalls();
});

describe('ECS adapter: inventory', () => {
  it('lists every instance across pages and maps the fields of the port', async () => {
    const all = await ecs.describeInstances();

    expect(all.length).toBe(SEED.instances!.length + 130);
    expect(new Set(all.map((i) => i.instanceId)).size).toBe(all.length);
    const app = all.find((i) => i.instanceId === 'i-ctapp01')!;
    expect(app).toMatchObject({
      instanceName: 'contract-app',
      status: 'Running',
      osType: 'linux',
      regionId: emu.regionId,
      tags: [{ key: 'team', value: 'backup' }],
    });
    expect(app.zoneId).toMatch(/^cn-hangzhou-/);
    expect(await callsOf('DescribeInstances')).toBeGreaterThanOrEqual(2);
  });

  it('asks for more than 100 instances by id in batches of 100', async () => {
    const ids = [...bulk.instanceIds, 'i-ctapp01', 'i-ctapp01'];
    const found = await ecs.describeInstances(ids);

    expect(found.map((i) => i.instanceId).sort()).toEqual([...new Set(ids)].sort());
    expect(await callsOf('DescribeInstances')).toBe(2);
    expect(await ecs.describeInstances([])).toEqual([]);
  });

  it('describes the disks of an instance and disks by id in batches of 100', async () => {
    const disks = await ecs.describeInstanceDisks('i-ctapp01');
    expect(disks.map((d) => d.diskId).sort()).toEqual(['d-ctappdata', 'd-ctappsys']);
    expect(disks.find((d) => d.diskId === 'd-ctappsys')).toMatchObject({
      type: 'system',
      category: 'cloud_essd',
      status: 'In_use',
      instanceId: 'i-ctapp01',
      sourceSnapshotId: null,
    });
    expect(disks.every((d) => d.sizeGiB > 0 && d.device !== null)).toBe(true);

    await emu.admin.clearCalls();
    const many = await ecs.describeDisks([...bulk.diskIds, 'd-ctoldsys']);
    expect(many.length).toBe(131);
    expect(await callsOf('DescribeDisks')).toBe(2);
  });
});

describe('ECS adapter: snapshot groups', () => {
  const tags: Tag[] = [
    { key: 'ecs-backup:managed-by', value: 'ecs-backup' },
    { key: 'ecs-backup:job', value: 'job-contract-1' },
  ];

  it('creates a group idempotently, reports progress as numbers, finds it by tag and deletes it', async () => {
    const request = {
      instanceId: 'i-ctapp01',
      diskIds: ['d-ctappsys', 'd-ctappdata'],
      name: 'contract-group',
      description: 'contract test',
      tags,
      clientToken: 'job-contract-1',
    };
    const id = await ecs.createSnapshotGroup(request);
    expect(id).toMatch(/^ssg-/);
    expect(await ecs.createSnapshotGroup(request)).toBe(id);

    const [group] = await ecs.describeSnapshotGroups([id]);
    expect(group).toMatchObject({ snapshotGroupId: id, instanceId: 'i-ctapp01', status: 'progressing' });
    expect(group!.tags).toEqual(expect.arrayContaining(tags));
    expect(group!.snapshots.map((s) => s.sourceDiskId).sort()).toEqual(['d-ctappdata', 'd-ctappsys']);
    for (const s of group!.snapshots) {
      expect(s.progress).toBeGreaterThanOrEqual(0);
      expect(s.progress).toBeLessThan(100);
      expect(s.status).toBe('progressing');
      expect(s.createdAt).toBeGreaterThan(Date.parse('2020-01-01T00:00:00Z'));
    }
    expect(group!.snapshots.find((s) => s.sourceDiskId === 'd-ctappsys')!.sourceDiskType).toBe('system');

    await emu.admin.completeSnapshots({ snapshotIds: group!.snapshots.map((s) => s.snapshotId) });
    const [done] = await ecs.describeSnapshotGroups([id]);
    expect(done!.status).toBe('accomplished');
    expect(done!.snapshots.every((s) => s.progress === 100 && s.status === 'accomplished')).toBe(true);

    const byTag = await ecs.findSnapshotGroupsByTag(
      { key: 'ecs-backup:job', value: 'job-contract-1' },
      'i-ctapp01',
    );
    expect(byTag.map((g) => g.snapshotGroupId)).toEqual([id]);
    expect(await ecs.findSnapshotGroupsByTag({ key: 'ecs-backup:job', value: 'no-such-job' })).toEqual([]);

    await ecs.deleteSnapshotGroup(id);
    expect(await ecs.describeSnapshotGroups([id])).toEqual([]);
    // Deleting what is gone converges instead of failing.
    await ecs.deleteSnapshotGroup(id);
  });

  it('asks for more than 10 groups in batches of 10', async () => {
    const ids = bulk.snapshotGroupIds.slice(0, 25);
    expect(ids.length).toBe(25);

    const groups = await ecs.describeSnapshotGroups(ids);

    expect(groups.map((g) => g.snapshotGroupId).sort()).toEqual([...ids].sort());
    expect(await callsOf('DescribeSnapshotGroups')).toBe(3);
  });

  it('translates a business error and does not retry it', async () => {
    const err = await caught(
      ecs.createSnapshotGroup({
        instanceId: 'i-ctold01',
        diskIds: ['d-ctoldsys', 'd-ctolddata'],
        name: 'not-essd',
        tags: [],
        clientToken: 'job-not-essd',
      }),
    );

    expect(err.code).toBe('DiskCategory.OperationNotSupported');
    expect(err.statusCode).toBeGreaterThanOrEqual(400);
    expect(err.statusCode).toBeLessThan(500);
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/RequestId/);
    expect(await callsOf('CreateSnapshotGroup')).toBe(1);
  });

  it('refuses a ClientToken ECS would refuse, before any call', async () => {
    const err = await caught(
      ecs.createSnapshotGroup({
        instanceId: 'i-ctapp01',
        diskIds: [],
        name: 'x',
        tags: [],
        clientToken: 'x'.repeat(65),
      }),
    );
    expect(err.code).toBe('InvalidClientToken');
    expect(await callsOf('CreateSnapshotGroup')).toBe(0);
  });
});

describe('ECS adapter: single snapshots and disks', () => {
  it('creates, describes, finds and deletes per-disk snapshots of non-ESSD disks', async () => {
    const tag = { key: 'ecs-backup:job', value: 'job-per-disk' };
    const id = await ecs.createSnapshot({
      diskId: 'd-ctolddata',
      name: 'per-disk',
      tags: [tag],
      clientToken: 'job-per-disk-d1',
    });
    expect(id).toMatch(/^s-/);

    const [snap] = await ecs.describeSnapshots([id]);
    expect(snap).toMatchObject({
      snapshotId: id,
      snapshotName: 'per-disk',
      sourceDiskId: 'd-ctolddata',
      sourceDiskType: 'data',
    });
    expect(snap!.sourceDiskSizeGiB).toBeGreaterThan(0);
    expect(snap!.usage).toBe('none');
    expect(snap!.tags).toContainEqual(tag);

    expect((await ecs.findSnapshotsByTag(tag, 'd-ctolddata')).map((s) => s.snapshotId)).toEqual([id]);
    expect(await ecs.findSnapshotsByTag(tag, 'd-ctoldsys')).toEqual([]);

    await ecs.deleteSnapshot(id);
    expect(await ecs.describeSnapshots([id])).toEqual([]);
    await ecs.deleteSnapshot(id);
  });

  it('asks for more than 100 snapshots in batches of 100', async () => {
    const snaps = await ecs.describeSnapshots(bulk.snapshotIds);
    expect(snaps.length).toBe(bulk.snapshotIds.length);
    expect(await callsOf('DescribeSnapshots')).toBe(Math.ceil(bulk.snapshotIds.length / 100));
  });

  it('creates a disk from a snapshot, attaches, detaches and deletes it; resets a disk of a stopped instance', async () => {
    const snapshotId = await ecs.createSnapshot({
      diskId: 'd-ctoldsys',
      name: 'for-disk',
      tags: [],
      clientToken: 'job-mount-s',
    });
    await emu.admin.completeSnapshots({ snapshotIds: [snapshotId] });
    const [source] = await ecs.describeDisks(['d-ctoldsys']);

    const diskId = await ecs.createDisk({
      zoneId: source!.zoneId,
      snapshotId,
      category: 'cloud_essd',
      name: 'mounted-backup',
      tags: [{ key: 'ecs-backup:job', value: 'job-mount' }],
      clientToken: 'job-mount-disk',
    });
    const disk = async () => (await ecs.describeDisks([diskId]))[0]!;
    await until(disk, (d) => d.status === 'Available');
    expect((await disk()).sourceSnapshotId).toBe(snapshotId);

    await ecs.attachDisk(diskId, 'i-ctold01');
    expect((await until(disk, (d) => d.status === 'In_use')).instanceId).toBe('i-ctold01');
    await ecs.detachDisk(diskId, 'i-ctold01');
    await until(disk, (d) => d.status === 'Available');
    await ecs.deleteDisk(diskId);
    expect(await ecs.describeDisks([diskId])).toEqual([]);
    await ecs.deleteDisk(diskId);

    const instance = async () => (await ecs.describeInstances(['i-ctold01']))[0]!;
    await ecs.stopInstance('i-ctold01');
    await until(instance, (i) => i.status === 'Stopped');
    await ecs.resetDisk('d-ctoldsys', snapshotId);
    await ecs.startInstance('i-ctold01');
    await until(instance, (i) => i.status === 'Running');
    await ecs.deleteSnapshot(snapshotId, true);
  });
});

describe('ECS adapter: Cloud Assistant', () => {
  it('reports agent status per instance and installs the agent', async () => {
    const status = await ecs.cloudAssistantStatus(['i-ctapp01', 'i-ctnoagent', 'i-doesnotexist']);
    expect(status).toEqual({ 'i-ctapp01': true, 'i-ctnoagent': false, 'i-doesnotexist': false });

    await ecs.installCloudAssistant(['i-ctnoagent']);
    expect(await callsOf('InstallCloudAssistant')).toBe(1);
  });

  it('runs a script and returns its decoded output and exit code', async () => {
    const result = await runToEnd('i-ctold01', 'echo "héllo $((6*7))"\nexit 3\n', 30, 'job-run-1');

    expect(result.status).toBe('Failed');
    expect(result.exitCode).toBe(3);
    expect(result.output).toContain('héllo 42');
    expect(result.instanceId).toBe('i-ctold01');
    expect(result.finishedAt).toBeGreaterThan(Date.parse('2020-01-01T00:00:00Z'));
  });
});

describe('ECS adapter: retries and rate limits', () => {
  it.each([
    ['Throttling.User', 400],
    ['InternalError', 500],
    ['ServiceUnavailable', 503],
  ])('retries %s (HTTP %i) and succeeds after', async (code, status) => {
    await emu.admin.failNext({ action: 'DescribeInstances', count: 2, code, status });

    const found = await ecs.describeInstances(['i-ctapp01']);

    expect(found.map((i) => i.instanceId)).toEqual(['i-ctapp01']);
    expect(await callsOf('DescribeInstances')).toBe(3);
    const retried = attempts.filter((a) => a.error !== null);
    expect(retried.map((a) => a.error!.code)).toEqual([code, code]);
    expect(retried.every((a) => a.error!.retryable && a.retryInMs !== null && a.retryInMs <= 5)).toBe(true);
  });

  it('gives up after maxAttempts with a retryable error the caller can delay on', async () => {
    await emu.admin.failNext({
      action: 'DescribeInstances',
      count: 10,
      code: 'Throttling.User',
      status: 400,
    });

    const err = await caught(adapter({ maxAttempts: 3 }).describeInstances(['i-ctapp01']));

    expect(err).toMatchObject({ code: 'Throttling.User', statusCode: 400, retryable: true });
    expect(await callsOf('DescribeInstances')).toBe(3);
  });

  it('retries when nothing answers, then reports NetworkError', async () => {
    const server = http.createServer((req) => req.socket.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const broken = createEcsAdapter({
        endpoint: `http://127.0.0.1:${port}`,
        regionId: 'cn-hangzhou',
        credentials: () => ({ accessKeyId: 'ak', accessKeySecret: 'sk' }),
        maxAttempts: 3,
        baseDelayMs: 1,
        onAttempt: (e) => attempts.push(e),
      });
      const err = await caught(broken.describeInstances());
      expect(err).toMatchObject({ code: 'NetworkError', statusCode: null, retryable: true });
      expect(attempts.length).toBe(3);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('waits for a slow answer up to the read timeout: one request, not a retry per connect timeout', async () => {
    await emu.admin.delay({ action: 'DescribeInstances', ms: 700 });
    const patient = adapter({ connectTimeoutMs: 200, readTimeoutMs: 5_000 });

    const found = await patient.describeInstances(['i-ctapp01']);

    expect(found.map((i) => i.instanceId)).toEqual(['i-ctapp01']);
    expect(await callsOf('DescribeInstances')).toBe(1);
    expect(attempts.filter((a) => a.error !== null)).toEqual([]);
  });

  it('spaces calls of a rate-limited action', async () => {
    const limited = adapter({ rateLimits: { DescribeInstances: 10 } });

    await Promise.all(Array.from({ length: 6 }, () => limited.describeInstances(['i-ctapp01'])));

    const at = (await emu.admin.calls({ action: 'DescribeInstances' }))
      .map((c) => c.at)
      .sort((a, b) => a - b);
    expect(at.length).toBe(6);
    // 10/s, one at a time: six calls cannot span less than 5 intervals of 100 ms.
    expect(at.at(-1)! - at[0]!).toBeGreaterThanOrEqual(450);
  });

  it('signs with classic v2 RPC as well as the default v3', async () => {
    await adapter({ signatureAlgorithm: 'v2' }).describeInstances(['i-ctapp01']);
    await ecs.describeInstances(['i-ctapp01']);

    expect((await emu.admin.calls({ action: 'DescribeInstances' })).map((c) => c.signing)).toEqual([
      'v2',
      'v3',
    ]);
  });
});

describe('ECS adapter: pre-signed CreateSnapshotGroup', () => {
  it('is accepted once by ECS without any key, and its nonce cannot be replayed', async () => {
    const url = await ecs.presignCreateSnapshotGroup({
      instanceId: 'i-ctapp01',
      diskIds: ['d-ctappsys', 'd-ctappdata'],
      name: 'presigned-group',
      tags: [{ key: 'ecs-backup:job', value: 'job-presigned' }],
      clientToken: 'job-presigned',
    });
    const q = new URL(url).searchParams;
    expect(q.get('Action')).toBe('CreateSnapshotGroup');
    expect(q.get('Version')).toBe('2014-05-26');
    expect(q.get('SignatureMethod')).toBe('HMAC-SHA1');
    expect(q.get('DiskId.2')).toBe('d-ctappdata');
    expect(q.get('Tag.1.Key')).toBe('ecs-backup:job');
    expect(q.get('SecurityToken')).toBeNull();

    const first = await fetch(url);
    const body = (await first.json()) as { SnapshotGroupId?: string };
    expect(first.status).toBe(200);
    expect(body.SnapshotGroupId).toMatch(/^ssg-/);
    expect((await emu.admin.calls({ action: 'CreateSnapshotGroup' }))[0]!.signing).toBe('v2-get');

    const replay = await fetch(url);
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { Code: string }).Code).toBe('SignatureNonceUsed');

    await ecs.deleteSnapshotGroup(body.SnapshotGroupId!);
  });

  it('carries the STS token when the credentials have one', async () => {
    const stsDir = await mkdtemp(path.join('/var/tmp', 'ecsb-contract-sts-'));
    const sts = await startEcsEmulator({ dataDir: stsDir, seed: SEED, securityToken: 'sts-token-42' });
    try {
      let calls = 0;
      const viaSts = createEcsAdapter({
        endpoint: sts.endpoint,
        protocol: 'http',
        regionId: sts.regionId,
        credentials: () => {
          calls += 1;
          return {
            accessKeyId: sts.accessKeyId,
            accessKeySecret: sts.accessKeySecret,
            securityToken: 'sts-token-42',
          };
        },
      });
      expect((await viaSts.describeInstances(['i-ctapp01'])).length).toBe(1);
      const url = await viaSts.presignCreateSnapshotGroup({
        instanceId: 'i-ctapp01',
        diskIds: ['d-ctappsys'],
        name: 'sts-group',
        tags: [],
        clientToken: 'job-sts',
      });
      expect(new URL(url).searchParams.get('SecurityToken')).toBe('sts-token-42');
      const res = await fetch(url);
      expect(res.status).toBe(200);
      // The credential source is asked on every request, so rotated STS keys are picked up.
      expect(calls).toBe(2);
    } finally {
      await sts.close();
      await rm(stsDir, { recursive: true, force: true });
    }
  });
});

describe('Linux guest script through RunCommand in the emulator sandbox', () => {
  const base: Omit<LinuxBackupParams, 'snapshotUrl'> = {
    applicationConsistent: true,
    fsFreeze: true,
    timeoutSeconds: 20,
    onPreScriptFailure: 'continue',
  };

  async function backup(instanceId: string, diskIds: string[], job: string) {
    const snapshotUrl = await ecs.presignCreateSnapshotGroup({
      instanceId,
      diskIds,
      name: `guest-${job}`,
      tags: [{ key: 'ecs-backup:job', value: job }],
      clientToken: job,
    });
    const params = { ...base, snapshotUrl };
    const run = await runToEnd(
      instanceId,
      renderLinuxBackupScript(params),
      linuxCommandTimeoutSeconds(params),
      `${job}-run`,
    );
    return { run, result: parseGuestResult(run.output) };
  }

  it('valid scripts: application-consistent, / and /data frozen while the group is requested, nothing left frozen', async () => {
    const { run, result } = await backup('i-ctapp01', ['d-ctappsys', 'd-ctappdata'], 'job-guest-app');

    expect(run.status).toBe('Success');
    expect(result).toMatchObject({
      consistency: 'application',
      reason: '',
      preExit: 0,
      postExit: 0,
      complete: true,
    });
    expect(result.snapshotGroupId).toMatch(/^ssg-/);
    expect(result.freezeMs).toBeGreaterThanOrEqual(0);
    expect(run.output).toContain('[prescript] prescript: ok');

    const log = await emu.admin.freezeLog({ instanceId: 'i-ctapp01' });
    expect(log.filter((e) => e.ok).map((e) => `${e.action} ${e.mountPoint}`)).toEqual([
      'freeze /data',
      'freeze /',
      'thaw /',
      'thaw /data',
    ]);
    expect(await emu.admin.frozen({ instanceId: 'i-ctapp01' })).toEqual([]);
    const create = (await emu.admin.calls({ action: 'CreateSnapshotGroup' }))[0]!;
    const froze = log.find((e) => e.action === 'freeze' && e.mountPoint === '/')!.at;
    const thawed = log.find((e) => e.action === 'thaw' && e.mountPoint === '/')!.at;
    expect(create.at).toBeGreaterThanOrEqual(froze);
    expect(create.at).toBeLessThanOrEqual(thawed);
    const [group] = await ecs.describeSnapshotGroups([result.snapshotGroupId!]);
    expect(group!.snapshots.map((s) => s.sourceDiskId).sort()).toEqual(['d-ctappdata', 'd-ctappsys']);
  });

  it('world-writable pre-script: file-system consistent with the reason, scripts not run, nothing left frozen', async () => {
    const { run, result } = await backup('i-ctww01', ['d-ctwwsys'], 'job-guest-ww');

    expect(run.status).toBe('Success');
    expect(result).toMatchObject({
      consistency: 'filesystem',
      preExit: null,
      postExit: null,
      complete: true,
    });
    expect(result.reason).toBe('pre-script: /tmp/prescript.sh has mode 0777, not 0700');
    expect(result.snapshotGroupId).toMatch(/^ssg-/);
    expect(run.output).not.toContain('[prescript]');
    const log = await emu.admin.freezeLog({ instanceId: 'i-ctww01' });
    expect(log.filter((e) => e.ok).map((e) => `${e.action} ${e.mountPoint}`)).toEqual(['freeze /', 'thaw /']);
    expect(await emu.admin.frozen({ instanceId: 'i-ctww01' })).toEqual([]);
  });
});

describe('Windows guest script through RunCommand (VSS simulated by the emulator)', () => {
  it.each([
    [true, 'application'],
    [false, 'filesystem'],
  ] as const)('writers %s: %s-consistent group, VSS freeze and thaw recorded', async (writers, level) => {
    const job = `job-win-${writers}`;
    // One snapshot in progress per disk: let the previous case's group finish first.
    await emu.admin.completeSnapshots();
    const snapshotUrl = await ecs.presignCreateSnapshotGroup({
      instanceId: 'i-ctwin01',
      diskIds: ['d-ctwinsys', 'd-ctwindata'],
      name: job,
      tags: [],
      clientToken: job,
    });
    const content = renderWindowsBackupScript({ snapshotUrl, writers, timeoutSeconds: 10 });

    const run = await runToEnd('i-ctwin01', content, 120, `${job}-run`, 'RunPowerShellScript');
    const result = parseGuestResult(run.output);

    expect(run.status).toBe('Success');
    expect(result).toMatchObject({ consistency: level, complete: true });
    if (writers) expect(result.reason).toBe('');
    expect(result.snapshotGroupId).toMatch(/^ssg-/);
    const vss = (await emu.admin.freezeLog({ instanceId: 'i-ctwin01' })).filter((e) => e.writers === writers);
    expect(vss.some((e) => e.source === 'vss' && e.action === 'freeze')).toBe(true);
    expect(vss.some((e) => e.source === 'vss' && e.action === 'thaw')).toBe(true);
    expect(await emu.admin.frozen({ instanceId: 'i-ctwin01' })).toEqual([]);
  });
});
