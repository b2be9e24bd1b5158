import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import type { Job } from '../../lib/domain/model.js';
import type { BackupPoint } from '../../lib/domain/model.js';
import { finished, planBody, pointOf, protect, type TestCloud, until } from './support.js';

/** What the export e2e files (Linux and Windows) share: the raw API, a backup to export, a held cancel. */

export const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A call of the API as a browser or the CLI makes it, redirects left to the caller. */
export function raw(cloud: TestCloud, p: string): Promise<Response> {
  return fetch(`${cloud.apiUrl}/api/v1${p}`, {
    headers: { authorization: `Bearer ${cloud.apiToken}` },
    redirect: 'manual',
  });
}

/**
 * One exported file's bytes: a packed file is answered by the API itself (200), a file with an
 * object of its own by a redirect to its signed URL (302).
 */
export async function downloadFile(cloud: TestCloud, id: string, p: string): Promise<Buffer> {
  const answer = await raw(cloud, `/exports/${id}/download?path=${encodeURIComponent(p)}`);
  expect([p, answer.status]).toEqual([p, expect.toBeOneOf([200, 302])]);
  if (answer.status === 200) return Buffer.from(await answer.arrayBuffer());
  return Buffer.from(await (await fetch(answer.headers.get('location')!)).arrayBuffer());
}

/**
 * The whole export as one tar.gz through its download redirect, checked to name itself and its
 * length, and what GNU tar unpacks from it: every regular file's path and bytes.
 */
export async function downloadArchive(
  cloud: TestCloud,
  id: string,
): Promise<{ bytes: Buffer; files: Map<string, Buffer> }> {
  const whole = await raw(cloud, `/exports/${id}/download`);
  expect(whole.status).toBe(302);
  const archive = await fetch(whole.headers.get('location')!);
  expect(archive.headers.get('content-disposition')).toBe(
    `attachment; filename="export-${id}.tar.gz"; filename*=UTF-8''export-${id}.tar.gz`,
  );
  const bytes = Buffer.from(await archive.arrayBuffer());
  expect(Number(archive.headers.get('content-length'))).toBe(bytes.length);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsb-archive-'));
  try {
    fs.writeFileSync(path.join(out, 'all.tar.gz'), bytes);
    const x = path.join(out, 'x');
    fs.mkdirSync(x);
    execFileSync('tar', ['-xzf', path.join(out, 'all.tar.gz'), '-C', x]);
    const files = new Map<string, Buffer>();
    for (const f of (fs.readdirSync(x, { recursive: true }) as string[]).sort()) {
      if (fs.lstatSync(path.join(x, f)).isFile()) files.set(f, fs.readFileSync(path.join(x, f)));
    }
    return { bytes, files };
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

/** A complete backup of the instance, to export from. */
export async function backupOf(cloud: TestCloud, instanceId: string): Promise<BackupPoint> {
  const { jobId } = await protect(cloud, instanceId, planBody());
  const job = await finished(cloud, jobId!);
  expect(job.status, job.reason ?? '').toBe('COMPLETE');
  return pointOf(cloud, job);
}

/** The keys of the export's objects under one folder (`blobs`, `packs`). */
export async function objectsOf(cloud: TestCloud, id: string, folder: 'blobs' | 'packs'): Promise<string[]> {
  return (await cloud.deps.objectStore!.list(`exports/${id}/${folder}/`)).map((o) => o.key);
}

/**
 * Cancel while an upload of the export (a file's or a pack's) is held in the store: the job writes
 * the cancel marker and waits for the script to stop; the upload then goes on, the script stops at
 * the marker, and the export ends CANCELED with no object, no disk and no claim on the backup left.
 */
export async function cancelDuringHeldUpload(
  cloud: TestCloud,
  point: BackupPoint,
  paths: string[],
): Promise<Job> {
  const disksBefore = (await cloud.emulator.admin.stats()).disks;
  const hold = cloud.uploadHolds.hold((key) => /^exports\/[^/]+\/(blobs|packs)\//.test(key));
  try {
    const started = await cloud.api.post<{ export: { id: string } }>(`/backups/${point.id}/exports`, {
      paths,
    });
    const id = started.body.export.id;
    await until('an upload of the export to be held', async () => hold.held() > 0, 90_000);
    expect((await cloud.api.post(`/exports/${id}/cancel`)).status).toBe(202);
    await until(
      'the cancel marker',
      async () => (await cloud.deps.objectStore!.get(`exports/${id}/cancel`)) !== undefined,
      30_000,
    );
    expect((await cloud.deps.store.jobs.get(id))!.status).toBe('CANCELING');
    hold.release();
    const job = await finished(cloud, id, 90_000);
    expect(job.status, job.reason ?? '').toBe('CANCELED');
    expect(await cloud.deps.objectStore!.list(`exports/${id}/`)).toEqual([]);
    expect((await cloud.emulator.admin.stats()).disks).toBe(disksBefore);
    expect((await cloud.deps.store.points.get(point.id))!.inUseBy).toEqual([]);
    return job;
  } finally {
    hold.release();
  }
}

/** A request the API must refuse: its status and a body naming the field and the reason. */
export function refuser(cloud: TestCloud, point: BackupPoint) {
  return async (body: unknown, status: number, match: RegExp): Promise<void> => {
    const answer = await cloud.api.post(`/backups/${point.id}/exports`, body);
    expect([answer.status, JSON.stringify(answer.body)]).toEqual([status, expect.stringMatching(match)]);
  };
}

/** How many export jobs exist, to show a refused request started none. */
export async function exportJobCount(cloud: TestCloud): Promise<number> {
  return (await cloud.deps.store.jobs.list({ type: 'export' }, { limit: 1000 })).items.length;
}
