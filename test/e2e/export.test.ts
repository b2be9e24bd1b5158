import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupPoint } from '../../lib/domain/model.js';
import {
  backupOf,
  cancelDuringHeldUpload,
  downloadArchive,
  exportJobCount,
  raw as rawOf,
  refuser,
  sha,
} from './export-support.js';
import { addLinuxInstance, E2E_TIMEOUT_MS, finished, startTestCloud, type TestCloud } from './support.js';

/**
 * Export on the local cloud: the real export script runs in the emulator's guest sandbox, mounts a
 * disk made from the backup read-only and uploads over loopback HTTP through signed URLs; every
 * downloaded byte is compared with what the disk held at backup time.
 */

const FILES: Record<string, string> = {
  'etc/hostname': 'app\n',
  'var/www/index.html': '<h1>exported</h1>\n',
  'var/www/empty.txt': '',
  'var/www/a name — ünïcode.txt': 'names survive\n',
  'var/www/sub/deep.txt': 'deep\n'.repeat(1000),
};

let cloud: TestCloud;
let instanceId: string;
let diskIds: string[];
let point: BackupPoint;

beforeAll(async () => {
  cloud = await startTestCloud({ timers: false });
  ({ instanceId, diskIds } = await addLinuxInstance(cloud, {
    disks: [
      { type: 'system', category: 'cloud_essd', sizeGiB: 40, files: FILES },
      { type: 'data', category: 'cloud_essd', sizeGiB: 20, files: { 'srv/data.txt': 'x' } },
    ],
  }));
  point = await backupOf(cloud, instanceId);
}, E2E_TIMEOUT_MS);
afterAll(async () => {
  await cloud?.dispose();
});

const raw = (p: string) => rawOf(cloud, p);

describe('export', () => {
  it(
    'exports paths of the system disk, browses them and downloads every file byte-exact; the temporary disk is gone',
    async () => {
      const disksBefore = (await cloud.emulator.admin.stats()).disks;
      const started = await cloud.api.post<{ export: { id: string }; job: { id: string } }>(
        `/backups/${point.id}/exports`,
        { paths: ['/var/www', '/etc/hostname'] },
      );
      expect(started.status, JSON.stringify(started.body)).toBe(202);
      const id = started.body.export.id;
      const job = await finished(cloud, id, 90_000);
      expect(job.status, job.reason ?? '').toBe('COMPLETE');

      const view = await cloud.api.get<{ progress: { files: number; bytes: number }; expiresAt: string }>(
        `/exports/${id}`,
      );
      const want = Object.entries(FILES);
      expect(view.body.progress.files).toBe(want.length);
      expect(view.body.progress.bytes).toBe(want.reduce((n, [, c]) => n + Buffer.byteLength(c), 0));
      expect(Date.parse(view.body.expiresAt)).toBeGreaterThan(Date.now() + 6 * 86_400_000);

      const www = await cloud.api.get<{ items: { name: string; type: string }[] }>(
        `/exports/${id}/files?path=/var/www`,
      );
      expect(www.body.items.map((e) => `${e.type}:${e.name}`)).toEqual([
        'file:a name — ünïcode.txt',
        'file:empty.txt',
        'file:index.html',
        'dir:sub',
      ]);
      const root = await cloud.api.get<{ items: { name: string }[] }>(`/exports/${id}/files?path=/`);
      expect(root.body.items.map((e) => e.name)).toEqual(['etc', 'var']);

      for (const [rel, content] of want) {
        // Small files travel in packs: the API answers with the file's range of its pack itself.
        const answer = await raw(`/exports/${id}/download?path=${encodeURIComponent(`/${rel}`)}`);
        expect(answer.status).toBe(200);
        const bytes = Buffer.from(await answer.arrayBuffer());
        expect([rel, sha(bytes)]).toEqual([rel, sha(content)]);
        expect(answer.headers.get('content-length')).toBe(String(bytes.length));
        expect(answer.headers.get('etag')).toBe(`"${sha(content)}"`);
        expect(answer.headers.get('content-disposition')).toContain(
          `filename*=UTF-8''${encodeURIComponent(path.basename(rel))}`,
        );
      }
      // The whole export: one tar.gz that GNU tar unpacks to the exported tree, byte for byte.
      const { bytes, files } = await downloadArchive(cloud, id);
      expect([...files.keys()].sort()).toEqual(want.map(([rel]) => rel).sort());
      for (const [rel, content] of want) expect([rel, sha(files.get(rel)!)]).toEqual([rel, sha(content)]);
      // Made once: a second request hands out the same archive, here as a link for a browser.
      const link = await cloud.api.get<{ url: string; filename: string; expiresAt: string }>(
        `/exports/${id}/download?as=link`,
      );
      expect([link.status, link.body.filename]).toEqual([200, `export-${id}.tar.gz`]);
      expect(Date.parse(link.body.expiresAt)).toBeGreaterThan(Date.now());
      const again = await fetch(link.body.url);
      expect(sha(Buffer.from(await again.arrayBuffer()))).toBe(sha(bytes));

      expect((await cloud.emulator.admin.stats()).disks).toBe(disksBefore);
      const listed = await cloud.api.get<{ items: { id: string }[] }>(`/exports?instanceId=${instanceId}`);
      expect(listed.body.items.map((e) => e.id)).toContain(id);

      const deleted = await cloud.api.del<{ deletedAt: string }>(`/exports/${id}`);
      expect(deleted.status).toBe(200);
      expect((await raw(`/exports/${id}/download?path=/etc/hostname`)).status).toBe(409);
      expect((await raw(`/exports/${id}/download`)).status).toBe(409);
      expect(await cloud.deps.objectStore!.list(`exports/${id}/`)).toEqual([]);
    },
    E2E_TIMEOUT_MS,
  );

  it(
    'cancel while the script runs: CANCELED, no object left, no disk left, the backup released',
    async () => {
      const disksBefore = (await cloud.emulator.admin.stats()).disks;
      let canceled = false;
      cloud.deps.hooks = {
        afterJobStep: async (job) => {
          if (job.type === 'export' && job.step === 'wait-guest' && !canceled) {
            canceled = true;
            expect((await cloud.api.post(`/exports/${job.id}/cancel`)).status).toBe(202);
          }
        },
      };
      try {
        const started = await cloud.api.post<{ export: { id: string } }>(`/backups/${point.id}/exports`, {
          paths: ['/var/www'],
        });
        const job = await finished(cloud, started.body.export.id, 90_000);
        expect(canceled).toBe(true);
        expect(job.status, job.reason ?? '').toBe('CANCELED');
        expect(await cloud.deps.objectStore!.list(`exports/${job.id}/`)).toEqual([]);
        expect((await cloud.emulator.admin.stats()).disks).toBe(disksBefore);
        expect((await cloud.deps.store.points.get(point.id))!.inUseBy).toEqual([]);
      } finally {
        cloud.deps.hooks = undefined;
      }
    },
    E2E_TIMEOUT_MS,
  );

  it(
    'cancel in the middle of an upload (held): CANCELED, no object and no unfinished upload left, no disk left',
    async () => {
      const { id } = await cancelDuringHeldUpload(cloud, point, ['/var/www']);
      // Nothing half-written either: the folder of the export is gone or empty.
      const folder = path.join(cloud.dataDir, 'objects', 'data', 'exports', id);
      const left = fs.existsSync(folder) ? (fs.readdirSync(folder, { recursive: true }) as string[]) : [];
      expect(left.filter((f) => fs.statSync(path.join(folder, f)).isFile())).toEqual([]);
    },
    E2E_TIMEOUT_MS,
  );

  it(
    'refuses bad input with the field and the reason, and starts nothing',
    async () => {
      const jobsBefore = await exportJobCount(cloud);
      const bad = refuser(cloud, point);
      await bad({ paths: ['var/www'] }, 400, /paths\[0\].*absolute/);
      await bad({ paths: ['/var/../etc'] }, 400, /paths\[0\].*\.\./);
      await bad({ paths: ['/a\u0000b'] }, 400, /paths\[0\].*NUL/);
      await bad({ paths: Array.from({ length: 101 }, (_, i) => `/p${i}`) }, 400, /paths.*at most 100/);
      await bad({ paths: ['/etc'], diskId: 'd-notinthebackup' }, 400, /diskId.*not in backup/);
      await bad({ paths: ['/etc'], targetInstanceId: 'i-doesnotexist' }, 404, /i-doesnotexist/);
      const unknown = await cloud.api.post(`/backups/bp-nope/exports`, { paths: ['/etc'] });
      expect(unknown.status).toBe(404);
      await bad({ paths: ['/etc'], diskId: 'd-notinthebackup' }, 400, /"diskId"/);
      // A target in another zone cannot get a disk made in the backup's zone.
      const far = await cloud.emulator.admin.addInstance({
        osType: 'linux',
        status: 'Running',
        zoneId: 'cn-hangzhou-i',
        disks: [{ type: 'system', category: 'cloud_essd', sizeGiB: 40, files: {} }],
      });
      const [source] = await cloud.deps.ecs.describeInstances([instanceId]);
      expect(source!.zoneId).not.toBe('cn-hangzhou-i');
      await bad(
        { paths: ['/etc'], targetInstanceId: far.instanceId },
        400,
        /"targetInstanceId".*zone cn-hangzhou-i.*zone cn-hangzhou-h/,
      );
      // A backup that is not AVAILABLE (being deleted, here) exports nothing.
      const leaving = { ...point, id: `${point.id}-leaving`, status: 'DELETING' as const, version: 1 };
      expect((await cloud.deps.store.points.create(leaving)).ok).toBe(true);
      const refused = await cloud.api.post(`/backups/${leaving.id}/exports`, { paths: ['/etc'] });
      expect([refused.status, JSON.stringify(refused.body)]).toEqual([
        409,
        expect.stringMatching(/DELETING/),
      ]);
      expect(await exportJobCount(cloud)).toBe(jobsBefore);
      expect(diskIds).toHaveLength(2);
    },
    E2E_TIMEOUT_MS,
  );
});
