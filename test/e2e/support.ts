import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BackupPoint, Job, JobStatus } from '../../lib/domain/model.js';
import type { EcsSnapshotGroup } from '../../lib/ports/ecs.js';
import { TAG_JOB } from '../../lib/usecases/backup/ownership.js';
import type { SeedDisk, SeedInstance } from '../../local/ecs-emulator/index.js';
import { startLocalCloud, type LocalCloud, type LocalCloudOptions } from '../../local/cloud.js';

/**
 * Per-test limit for the e2e files: above every deadline the tests pass to `finished` and `until`,
 * so on a slow machine those fail first and say what they were waiting for.
 */
export const E2E_TIMEOUT_MS = 120_000;

export const TERMINAL: JobStatus[] = [
  'COMPLETE',
  'PARTIAL_COMPLETE',
  'FAILED',
  'CANCELED',
  'SKIPPED',
  'EXPIRED',
];

export interface TestCloud extends LocalCloud {
  dataDir: string;
  api: ApiClient;
  /** Closes the cloud and removes its data folder. */
  dispose(): Promise<void>;
}

/** A fast local cloud in a fresh temp folder, on free loopback ports. */
export async function startTestCloud(options: Partial<LocalCloudOptions> = {}): Promise<TestCloud> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ecsb-e2e-'));
  const cloud = await startLocalCloud({ fast: true, port: 0, ...options, dataDir });
  return Object.assign(cloud, {
    dataDir,
    api: apiClient(cloud.apiUrl, cloud.apiToken),
    async dispose() {
      await cloud.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  body: T;
}

export interface ApiClient {
  get<T = Record<string, unknown>>(p: string): Promise<ApiAnswer<T>>;
  post<T = Record<string, unknown>>(p: string, body?: unknown): Promise<ApiAnswer<T>>;
  patch<T = Record<string, unknown>>(p: string, body: unknown): Promise<ApiAnswer<T>>;
  del<T = Record<string, unknown>>(p: string): Promise<ApiAnswer<T>>;
}

export function apiClient(baseUrl: string, token: string): ApiClient {
  const call = async <T>(method: string, p: string, body?: unknown): Promise<ApiAnswer<T>> => {
    const res = await fetch(`${baseUrl}/api/v1${p}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
  };
  return {
    get: (p) => call('GET', p),
    post: (p, body) => call('POST', p, body ?? {}),
    patch: (p, body) => call('PATCH', p, body),
    del: (p) => call('DELETE', p),
  };
}

/** ISO 8601 with seconds and Z, `secondsFromNow` ahead, on a whole second. */
export function isoIn(secondsFromNow: number, from = Date.now()): string {
  const t = Math.ceil(from / 1000) * 1000 + secondsFromNow * 1000;
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const essd = (type: 'system' | 'data', files: Record<string, string> = {}): SeedDisk => ({
  type,
  category: 'cloud_essd',
  sizeGiB: type === 'system' ? 40 : 100,
  files,
});

export type ScriptKind = 'valid' | 'world-writable' | 'symlink' | 'none';

/** A running Linux instance with two ESSD disks (ext4 on both) and pre/post scripts as asked. */
export async function addLinuxInstance(
  cloud: LocalCloud,
  options: { scripts?: ScriptKind; disks?: SeedDisk[]; status?: 'Running' | 'Stopped'; agent?: boolean } = {},
): Promise<{ instanceId: string; diskIds: string[] }> {
  const disks = options.disks ?? [
    essd('system', { 'etc/hostname': 'app\n' }),
    essd('data', { 'srv/data.txt': 'x' }),
  ];
  const tmp: SeedInstance['tmp'] = [];
  const script = '#!/bin/bash\nexit 0\n';
  if (options.scripts === 'valid') {
    tmp.push({ path: 'prescript.sh', content: script, owner: 'root', mode: '0700' });
    tmp.push({ path: 'postscript.sh', content: script, owner: 'root', mode: '0700' });
  } else if (options.scripts === 'world-writable') {
    tmp.push({ path: 'prescript.sh', content: script, owner: 'root', mode: '0777' });
    tmp.push({ path: 'postscript.sh', content: script, owner: 'root', mode: '0700' });
  } else if (options.scripts === 'symlink') {
    tmp.push({ path: 'real-pre.sh', content: script, owner: 'root', mode: '0700' });
    tmp.push({ path: 'prescript.sh', symlink: '/tmp/real-pre.sh' });
    tmp.push({ path: 'postscript.sh', content: script, owner: 'root', mode: '0700' });
  }
  const added = await cloud.emulator.admin.addInstance({
    osType: 'linux',
    status: options.status ?? 'Running',
    ...(options.agent === undefined ? {} : { agent: options.agent }),
    disks,
    tmp,
  });
  const mounts = added.diskIds.map((diskId, i) => ({
    device: `/dev/vd${String.fromCharCode(97 + i)}1`,
    mountPoint: i === 0 ? '/' : `/data${i}`,
    fsType: 'ext4',
    diskId,
  }));
  await cloud.emulator.admin.updateInstance({ instanceId: added.instanceId, mounts });
  return added;
}

export async function addWindowsInstance(
  cloud: LocalCloud,
): Promise<{ instanceId: string; diskIds: string[] }> {
  return cloud.emulator.admin.addInstance({
    osType: 'windows',
    status: 'Running',
    disks: [essd('system'), essd('data')],
  });
}

/** A plan body as the API takes it. */
export function planBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    retention: { value: 7, unit: 'days' },
    consistency: { applicationConsistent: false },
    ...overrides,
  };
}

export async function protect(
  cloud: TestCloud,
  instanceId: string,
  plan?: Record<string, unknown>,
  disks: 'all' | string[] = 'all',
): Promise<{ planId: string | null; jobId: string | null }> {
  const answer = await cloud.api.post<{ plan: { id: string } | null; job: { id: string } | null }>(
    '/protected-instances',
    { instanceId, disks, ...(plan ? { plan } : {}) },
  );
  if (answer.status !== 201)
    throw new Error(`protect ${instanceId}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return { planId: answer.body.plan?.id ?? null, jobId: answer.body.job?.id ?? null };
}

/** Protect-now through the API; returns the job id. */
export async function backupNow(
  cloud: TestCloud,
  instanceId: string,
  body: Record<string, unknown> = {},
): Promise<string> {
  const answer = await cloud.api.post<{ id: string }>(`/protected-instances/${instanceId}/backups`, body);
  if (answer.status !== 202)
    throw new Error(`backup now ${instanceId}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.id;
}

export async function finished(cloud: LocalCloud, jobId: string, timeoutMs = 60_000): Promise<Job> {
  return cloud.waitForJob(jobId, TERMINAL, timeoutMs);
}

export async function pointOf(cloud: LocalCloud, job: Job): Promise<BackupPoint> {
  const pointId = (job.state as { pointId?: string }).pointId;
  if (!pointId) throw new Error(`job ${job.id} recorded no point (${job.status}: ${job.reason})`);
  const point = await cloud.deps.store.points.get(pointId);
  if (!point) throw new Error(`point ${pointId} of job ${job.id} is missing`);
  return point;
}

/** Snapshot groups in the emulator carrying the job's tag. */
export async function groupsOfJob(cloud: LocalCloud, job: Job): Promise<EcsSnapshotGroup[]> {
  return cloud.deps.ecs.findSnapshotGroupsByTag({ key: TAG_JOB, value: job.id }, job.instanceId);
}

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 60_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
