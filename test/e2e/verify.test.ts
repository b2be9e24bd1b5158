import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupPoint, Job } from '../../lib/domain/model.js';
import { verifyJobId } from '../../lib/usecases/verify/state.js';
import {
  addLinuxInstance,
  E2E_TIMEOUT_MS,
  finished,
  planBody,
  pointOf,
  protect,
  startTestCloud,
  type TestCloud,
  until,
} from './support.js';

/**
 * Restore tests on the local cloud: the real verify script runs in the emulator's guest sandbox,
 * checks and mounts disks made from the backup read-only, and runs the operator's check script on
 * each mount; a snapshot corrupted through the emulator fails the check and a loopback webhook is
 * told. Every temporary disk is gone afterwards.
 */

interface VerificationView {
  status: 'passed' | 'failed';
  reason: string | null;
  durationSeconds: number;
  jobId: string;
}

const received: { type: string; data: Record<string, unknown> }[] = [];
const receiver = http.createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => (body += c));
  req.on('end', () => {
    received.push(JSON.parse(body) as { type: string; data: Record<string, unknown> });
    res.writeHead(204).end();
  });
});
let cloud: TestCloud;

// The operator's check: the disk holding /etc/hostname must also hold the application's file.
const CHECK =
  '#!/bin/bash\n[ ! -e "$1/etc" ] || [ -s "$1/etc/hostname" ] || { echo "hostname missing under $1"; exit 3; }\n';

beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  cloud = await startTestCloud({ timers: false, settings: { WEBHOOK_ALLOW_PRIVATE: 'true' } });
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const sub = await cloud.api.post('/subscriptions', { url, events: ['backup.verification-failed'] });
  expect(sub.status, JSON.stringify(sub.body)).toBe(201);
}, E2E_TIMEOUT_MS);
afterAll(async () => {
  await cloud?.dispose();
  await new Promise((resolve) => receiver.close(resolve));
});

async function verificationOf(point: BackupPoint): Promise<{ job: Job; view: VerificationView }> {
  const job = await finished(cloud, verifyJobId(point.id), 110_000);
  const answer = await cloud.api.get<{ verification: VerificationView | null }>(`/backups/${point.id}`);
  expect(answer.status).toBe(200);
  if (!answer.body.verification)
    throw new Error(`no verification on ${point.id}: ${job.status} ${job.reason}`);
  return { job, view: answer.body.verification };
}

describe('automatic restore tests', () => {
  it(
    'verifies a backup of a plan with verify every 1: passed on the point, the check script ran, no disk left',
    async () => {
      const disksBefore = (await cloud.emulator.admin.stats()).disks;
      const { instanceId } = await addLinuxInstance(cloud);
      await cloud.emulator.admin.setTmpFile({
        instanceId,
        path: 'verifyscript.sh',
        content: CHECK,
        owner: 'root',
        mode: '0700',
      });
      const { jobId } = await protect(cloud, instanceId, planBody({ verify: { every: 1 } }));
      const backup = await finished(cloud, jobId!);
      expect(backup.status, backup.reason ?? '').toBe('COMPLETE');
      const point = await pointOf(cloud, backup);

      const { job, view } = await verificationOf(point);

      expect(job.status, job.reason ?? '').toBe('COMPLETE');
      expect(view).toMatchObject({ status: 'passed', jobId: job.id });
      expect(view.reason).toContain('2 disks checked clean');
      expect(view.reason).toContain('/tmp/verifyscript.sh passed');
      const mounts = await cloud.emulator.admin.mountLog({ instanceId });
      expect(mounts.filter((m) => m.action === 'mount' && m.ok).map((m) => m.options)).toEqual([
        'ro,noload',
        'ro,noload',
      ]);
      // 2 more disks: the instance's own; the verification's are gone.
      expect((await cloud.emulator.admin.stats()).disks).toBe(disksBefore + 2);
      const listed = await cloud.api.get<{ items: { id: string; verification: VerificationView | null }[] }>(
        `/backups?instanceId=${instanceId}`,
      );
      expect(listed.body.items.map((p) => [p.id, p.verification?.status])).toEqual([[point.id, 'passed']]);
      const passed = await cloud.api.get<{ items: { id: string }[] }>(
        `/backups?instanceId=${instanceId}&verification=passed`,
      );
      expect(passed.body.items.map((p) => p.id)).toEqual([point.id]);
      const failed = await cloud.api.get<{ items: { id: string }[] }>(
        `/backups?instanceId=${instanceId}&verification=failed`,
      );
      expect(failed.body.items).toEqual([]);
    },
    E2E_TIMEOUT_MS,
  );

  it(
    'fails the verification of a corrupted snapshot with the reason, and tells the webhook',
    async () => {
      const { instanceId } = await addLinuxInstance(cloud);
      // The verification's first CreateDisk waits until the snapshot has been corrupted.
      await cloud.emulator.admin.hold({ action: 'CreateDisk', count: 1 });
      const { jobId } = await protect(cloud, instanceId, planBody({ verify: { every: 1 } }));
      const backup = await finished(cloud, jobId!);
      expect(backup.status, backup.reason ?? '').toBe('COMPLETE');
      const point = await pointOf(cloud, backup);
      const disksBefore = (await cloud.emulator.admin.stats()).disks;
      await until(
        'the verification to reach CreateDisk',
        async () => (await cloud.emulator.admin.held({ action: 'CreateDisk' })) > 0,
        60_000,
      );
      const data = point.snapshots.find((s) => s.diskType === 'data')!;
      await cloud.emulator.admin.corruptSnapshot({ snapshotId: data.snapshotId });
      await cloud.emulator.admin.release({ action: 'CreateDisk' });

      const { job, view } = await verificationOf(point);

      expect(job.status).toBe('FAILED');
      expect(view.status).toBe('failed');
      expect(view.reason).toMatch(/file-system check of disk d-\S+ \(\S+\) found errors \(fsck exit 4\)/);
      expect(view.reason).toContain('invalid journal');
      await until('the webhook to be told', async () =>
        received.find((e) => e.type === 'com.ecs-backup.backup.verification-failed'),
      );
      const event = received.find((e) => e.type === 'com.ecs-backup.backup.verification-failed')!;
      expect(event.data).toMatchObject({ backupId: point.id, instanceId, jobId: job.id });
      const failed = await cloud.api.get<{ items: { id: string }[] }>(`/backups?verification=failed`);
      expect(failed.body.items.map((p) => p.id)).toContain(point.id);
      expect((await cloud.emulator.admin.stats()).disks).toBe(disksBefore);
    },
    E2E_TIMEOUT_MS,
  );

  it(
    "fails the verification when the operator's check script fails on a mounted disk",
    async () => {
      const { instanceId } = await addLinuxInstance(cloud);
      await cloud.emulator.admin.setTmpFile({
        instanceId,
        path: 'verifyscript.sh',
        content: '#!/bin/bash\n[ -e "$1/srv" ] || exit 0\necho "orders table missing under $1"\nexit 3\n',
        owner: 'root',
        mode: '0700',
      });
      const { jobId } = await protect(cloud, instanceId, planBody({ verify: { every: 1 } }));
      const point = await pointOf(cloud, await finished(cloud, jobId!));

      const { job, view } = await verificationOf(point);

      expect(job.status).toBe('FAILED');
      expect(view.status).toBe('failed');
      expect(view.reason).toMatch(
        /^\/tmp\/verifyscript\.sh exited 3 on disk d-\S+: orders table missing under \/mnt\//,
      );
    },
    E2E_TIMEOUT_MS,
  );

  it('refuses every: 0 and a helper in another zone, naming the field, and protects nothing', async () => {
    const { instanceId } = await addLinuxInstance(cloud);
    const zero = await cloud.api.post<{ errors?: { path: string; message: string }[] }>(
      '/protected-instances',
      { instanceId, disks: 'all', plan: planBody({ verify: { every: 0 } }) },
    );
    expect(zero.status).toBe(400);
    expect(JSON.stringify(zero.body)).toContain('plan.verify.every');
    const far = await cloud.emulator.admin.addInstance({
      osType: 'linux',
      zoneId: 'cn-hangzhou-k',
      disks: [],
    });
    const elsewhere = await cloud.api.post('/protected-instances', {
      instanceId,
      disks: 'all',
      plan: planBody({ verify: { every: 1, helperInstanceId: far.instanceId } }),
    });
    expect(elsewhere.status).toBe(400);
    expect(JSON.stringify(elsewhere.body)).toContain('plan.verify.helperInstanceId');
    expect(JSON.stringify(elsewhere.body)).toContain('same zone');
    expect((await cloud.api.get(`/protected-instances/${instanceId}`)).status).toBe(404);
  });
});
