import * as EcsModels from '@alicloud/ecs20140526';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ecsClient, makeDataDir, startChildCloud, type ChildCloud } from './child-cloud.js';
import { apiClient, TERMINAL, until, type ApiClient } from './support.js';

interface JobView {
  id: string;
  status: string;
  reason: string | null;
  backupId: string | null;
  consistency: { requested: string; achieved: string | null; reason: string | null } | null;
}

const APP_CONSISTENT = { applicationConsistent: true, fsFreeze: true, timeoutSeconds: 30 };

async function job(api: ApiClient, id: string): Promise<JobView> {
  return until(
    `job ${id} to end`,
    async () => {
      const got = await api.get<JobView>(`/jobs/${id}`);
      return TERMINAL.includes(got.body.status as (typeof TERMINAL)[number]) ? got.body : undefined;
    },
    90_000,
  );
}

async function protectNow(api: ApiClient, instanceId: string): Promise<JobView> {
  const answer = await api.post<{ job: { id: string } | null }>('/protected-instances', {
    instanceId,
    disks: 'all',
    plan: { retention: { value: 7, unit: 'days' }, consistency: APP_CONSISTENT },
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return job(api, answer.body.job!.id);
}

/** Runs a shell script on the instance through Cloud Assistant and returns its output. */
async function runCommand(cloud: ChildCloud, instanceId: string, script: string): Promise<string> {
  const ecs = ecsClient(cloud.ecsUrl, cloud.accessKeyId, cloud.accessKeySecret);
  const run = await ecs.runCommand(
    new EcsModels.RunCommandRequest({
      regionId: 'cn-hangzhou',
      type: 'RunShellScript',
      commandContent: script,
      instanceId: [instanceId],
      timeout: 30,
    }),
  );
  const invokeId = run.body!.invokeId!;
  return until('the command to finish', async () => {
    const r = await ecs.describeInvocationResults(
      new EcsModels.DescribeInvocationResultsRequest({
        regionId: 'cn-hangzhou',
        invokeId,
        contentEncoding: 'PlainText',
      }),
    );
    const result = r.body?.invocation?.invocationResults?.invocationResult?.[0];
    return result && !['Running', 'Pending'].includes(result.invocationStatus ?? '')
      ? `${result.invocationStatus}\n${result.output ?? ''}`
      : undefined;
  });
}

/**
 * The README tour, run by an ordinary user (`nobody` through setpriv when the tests run as root):
 * `npm start` needs no privilege, with real guest scripts in a user namespace, and in the simulated
 * mode a setting forces.
 */
describe.each([
  {
    mode: 'real guest scripts in a user namespace',
    env: {} as Record<string, string>,
    banner: /^run for real in a user namespace/,
    web: { achieved: 'application', reason: null as RegExp | null },
  },
  {
    mode: 'simulated guest (forced by ECS_EMULATOR_GUEST)',
    env: { ECS_EMULATOR_GUEST: 'simulated' },
    banner: /^simulated \(forced by the setting ECS_EMULATOR_GUEST=simulated\)/,
    web: {
      achieved: 'filesystem',
      reason: /pre- and post-scripts are not run: Cloud Assistant is simulated/,
    },
  },
])('the local cloud as an unprivileged user: $mode', { timeout: 240_000 }, ({ env, banner, web }) => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsb-user-'));
  let cloud: ChildCloud | undefined;
  let api: ApiClient;
  afterAll(async () => {
    if (cloud) {
      cloud.signal('SIGTERM');
      await cloud.exited;
    }
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('starts without root and says how it runs guest scripts', async () => {
    cloud = await startChildCloud({ dataDir: makeDataDir(base, true), env, unprivileged: true });
    api = apiClient(cloud.apiUrl, cloud.token);

    expect(cloud.guestLine).toMatch(banner);
    const owner = fs.statSync(path.join(base, 'data', 'ecs-backup.sqlite')).uid;
    expect(owner).toBe(process.geteuid?.() === 0 ? 65534 : process.geteuid?.());
    expect((await api.get('/instances')).status).toBe(200);
  });

  it('protects i-demoweb01 application-consistent: COMPLETE with the consistency it achieved', async () => {
    const done = await protectNow(api, 'i-demoweb01');

    expect(done.status, done.reason ?? '').toBe('COMPLETE');
    expect(done.consistency?.achieved).toBe(web.achieved);
    if (web.reason) expect(done.consistency?.reason).toMatch(web.reason);
    const backup = await api.get<{ consistency: { achieved: string } }>(`/backups/${done.backupId}`);
    expect(backup.body.consistency.achieved).toBe(web.achieved);
  });

  it('takes i-demodb01 file-system consistent, saying its pre-script is world-writable', async () => {
    const done = await protectNow(api, 'i-demodb01');

    expect(done.status, done.reason ?? '').toBe('COMPLETE');
    expect(done.consistency?.achieved).toBe('filesystem');
    expect(done.consistency?.reason).toContain('/tmp/prescript.sh has mode 0777, not 0700');
  });

  it('mounts a backup on the instance and unmounts it', async () => {
    const backups = await api.get<{
      items: { id: string; snapshots: { diskId: string; diskType: string }[] }[];
    }>('/backups?instanceId=i-demoweb01');
    const backup = backups.body.items[0]!;
    const dataDisk = backup.snapshots.find((s) => s.diskType === 'data')!.diskId;
    const started = await api.post<{ id: string }>(`/backups/${backup.id}/mount`, {
      diskId: dataDisk,
      targetInstanceId: 'i-demoweb01',
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const mounted = await job(api, started.body.id);
    const listed = await api.get<{ items: { jobId: string }[] }>('/mounts');
    const unmounting = await api.post<{ id: string }>(`/mounts/${mounted.id}/unmount`);
    const unmounted = await job(api, unmounting.body.id);
    const after = await api.get<{ items: { jobId: string }[] }>('/mounts');

    expect(mounted.status, mounted.reason ?? '').toBe('COMPLETE');
    expect(listed.body.items.map((m) => m.jobId)).toContain(mounted.id);
    expect(unmounted.status, unmounted.reason ?? '').toBe('COMPLETE');
    expect(after.body.items.map((m) => m.jobId)).not.toContain(mounted.id);
  });
});

describe('owners in the guest are the emulator data, for an ordinary user too', { timeout: 240_000 }, () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsb-owners-'));
  let cloud: ChildCloud | undefined;
  afterAll(async () => {
    if (cloud) {
      cloud.signal('SIGTERM');
      await cloud.exited;
    }
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('shows recorded owners to stat and records what chown sets, without chown(2) on the host', async () => {
    // Prepare
    cloud = await startChildCloud({ dataDir: makeDataDir(base, true), unprivileged: true });
    const admin = (method: string, body: unknown) =>
      fetch(`${cloud!.ecsUrl}/__admin/${method}`, { method: 'POST', body: JSON.stringify(body) });
    const set = await admin('setTmpFile', {
      instanceId: 'i-demoweb01',
      path: 'notes.txt',
      content: 'x',
      owner: 'user',
      mode: '0600',
    });
    expect(set.status).toBe(200);

    // Act
    const first = await runCommand(
      cloud,
      'i-demoweb01',
      "stat -c '%n %u %a' /tmp/prescript.sh /tmp/notes.txt; chown 1234 /tmp/prescript.sh; chown root /tmp/notes.txt",
    );
    const second = await runCommand(
      cloud,
      'i-demoweb01',
      "stat -c '%n %u %a' /tmp/prescript.sh /tmp/notes.txt",
    );

    // Assess
    expect(first).toContain('/tmp/prescript.sh 0 700\n');
    expect(first).toContain('/tmp/notes.txt 1000 600\n');
    expect(first.split('\n')[0]).toBe('Success');
    expect(second).toContain('/tmp/prescript.sh 1234 700\n');
    expect(second).toContain('/tmp/notes.txt 0 600\n');
    const hostUid = fs.statSync(
      path.join(base, 'data', 'ecs-emulator', 'instances', 'i-demoweb01', 'tmp', 'prescript.sh'),
    ).uid;
    expect(hostUid).toBe(process.geteuid?.() === 0 ? 65534 : process.geteuid?.());
  });
});
