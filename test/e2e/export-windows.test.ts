import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupPoint } from '../../lib/domain/model.js';
import { parseManifest } from '../../lib/domain/export.js';
import { PACK_FILE_BYTES } from '../../lib/usecases/export/packs.js';
import {
  backupOf,
  cancelDuringHeldUpload,
  downloadArchive,
  downloadFile,
  exportJobCount,
  objectsOf,
  raw,
  refuser,
  sha,
} from './export-support.js';
import { addLinuxInstance, E2E_TIMEOUT_MS, finished, startTestCloud, type TestCloud } from './support.js';

/**
 * Export from a Windows backup on the local cloud: the job sends the PowerShell export script, the
 * emulator simulates it from its parameter block (PowerShell cannot run here) against the folder of
 * the temporary disk, really uploading over HTTP to the signed URLs. Paths go in as `C:\...`, browse
 * and download take either form, and every downloaded byte is compared with what the disk held at
 * backup time. Small files travel in packs, as the script sends them.
 */

const TEXT: Record<string, string> = {
  'Windows/win.ini': '; for 16-bit app support\r\n[fonts]\r\n',
  'Users/Public/Documents/report.txt': 'quarterly\r\n'.repeat(500),
  'Users/Public/Documents/empty.txt': '',
  'Users/Public/Documents/a name — ünïcode.txt': 'names survive\r\n',
  'Users/Public/Documents/sub/deep.txt': 'deep\r\n',
  'inetpub/wwwroot/index.html': '<h1>iis</h1>',
};
/** Exactly the pack file size: the smallest file that gets an object of its own. */
const BINARY = randomBytes(PACK_FILE_BYTES);
/** A directory of many small files (empty ones too), which go up in one pack. */
const MANY = Array.from(
  { length: 600 },
  (_, i) => [`Users/Public/Many/f${i}.dat`, randomBytes((i * 37) % 5000)] as const,
);

let cloud: TestCloud;
let instanceId: string;
let systemDiskId: string;
let point: BackupPoint;

const download = (id: string, p: string) => downloadFile(cloud, id, p);

beforeAll(async () => {
  cloud = await startTestCloud({ timers: false });
  const added = await cloud.emulator.admin.addInstance({
    osType: 'windows',
    status: 'Running',
    disks: [
      { type: 'system', category: 'cloud_essd', sizeGiB: 40, files: TEXT },
      { type: 'data', category: 'cloud_essd', sizeGiB: 20, files: { 'data/x.txt': 'x' } },
    ],
  });
  instanceId = added.instanceId;
  systemDiskId = added.diskIds[0]!;
  await cloud.emulator.admin.writeFile({
    diskId: systemDiskId,
    path: 'Users/Public/Documents/photo.bin',
    content: BINARY.toString('base64'),
    encoding: 'base64',
  });
  // Links as NTFS holds them: one within the volume, one to a place off it.
  const tree = await cloud.emulator.admin.treePath({ diskId: systemDiskId });
  fs.symlinkSync('report.txt', path.join(tree, 'Users/Public/Documents/latest.txt'));
  fs.symlinkSync('/etc', path.join(tree, 'Users/Public/Documents/elsewhere'));
  fs.mkdirSync(path.join(tree, 'Users/Public/Many'));
  for (const [rel, bytes] of MANY) fs.writeFileSync(path.join(tree, rel), bytes);
  point = await backupOf(cloud, instanceId);
  // The live disk moves on; the export must hand back the backup's bytes.
  await cloud.emulator.admin.writeFile({ diskId: systemDiskId, path: 'Windows/win.ini', content: 'changed' });
  await cloud.emulator.admin.removeFile({ diskId: systemDiskId, path: 'Users/Public/Documents/report.txt' });
}, E2E_TIMEOUT_MS);
afterAll(async () => {
  await cloud?.dispose();
});

describe('Windows export', () => {
  it(
    'exports C:\\ paths through the PowerShell script, browses and downloads them byte-exact in either path form',
    async () => {
      const disksBefore = (await cloud.emulator.admin.stats()).disks;
      const started = await cloud.api.post<{ export: { id: string; paths: string[] } }>(
        `/backups/${point.id}/exports`,
        {
          paths: [
            'C:\\Users\\Public\\Documents',
            'C:\\Windows\\win.ini',
            'C:\\missing.txt',
            'C:\\Users\\Public\\Many',
          ],
        },
      );
      expect(started.status, JSON.stringify(started.body)).toBe(202);
      expect(started.body.export.paths).toEqual([
        '/Users/Public/Documents',
        '/Windows/win.ini',
        '/missing.txt',
        '/Users/Public/Many',
      ]);
      const id = started.body.export.id;
      const job = await finished(cloud, id, 90_000);
      expect(job.status, job.reason ?? '').toBe('COMPLETE');

      const want: [string, Buffer][] = [
        ...Object.entries(TEXT)
          .filter(([rel]) => rel.startsWith('Users/') || rel === 'Windows/win.ini')
          .map(([rel, c]) => [rel, Buffer.from(c)] as [string, Buffer]),
        ['Users/Public/Documents/photo.bin', BINARY],
        ...MANY.map(([rel, b]) => [rel, b] as [string, Buffer]),
      ];
      const wantBytes = want.reduce((n, [, b]) => n + b.length, 0);
      // The guest command was the PowerShell script, and it read the disk read-only.
      const invokeId = (job.state as { invokeId?: string }).invokeId!;
      const [invocation] = await cloud.deps.ecs.describeInvocationResults([invokeId]);
      expect(invocation!.output).toContain(
        `ECSB files=${want.length}\r\nECSB bytes=${wantBytes}\r\nECSB skipped=2\r\n`,
      );
      const mounts = (await cloud.emulator.admin.mountLog({ instanceId })).filter(
        (e) => e.invokeId === invokeId,
      );
      expect(mounts.map((e) => [e.action, e.options, e.ok])).toEqual([
        ['mount', 'ro', true],
        ['umount', 'ro', true],
      ]);
      const view = await cloud.api.get<{ progress: { files: number; bytes: number }; skipped: number }>(
        `/exports/${id}`,
      );
      expect(view.body.progress).toMatchObject({ files: want.length, bytes: wantBytes });
      expect(view.body.skipped).toBe(2);

      // The small files went up in one pack, each at its place in it; only the file of the pack
      // file size has an object of its own.
      expect(await objectsOf(cloud, id, 'packs')).toEqual([`exports/${id}/packs/0`]);
      expect(await objectsOf(cloud, id, 'blobs')).toEqual([`exports/${id}/blobs/0`]);
      const manifest = parseManifest(
        (await cloud.deps.objectStore!.get(`exports/${id}/manifest`))!.toString('utf8'),
      );
      const files = manifest.entries.filter((e) => e.type === 'file');
      expect(files.filter((e) => e.pack).length).toBe(want.length - 1);
      expect(files.find((e) => e.path.endsWith('/photo.bin'))).toMatchObject({
        blob: 0,
        sha256: sha(BINARY),
      });
      const packed = files.filter((e) => e.pack).sort((a, b) => a.pack!.offset - b.pack!.offset);
      const pack = (await cloud.deps.objectStore!.get(`exports/${id}/packs/0`))!;
      expect(pack.length).toBe(wantBytes - BINARY.length);
      let offset = 0;
      for (const e of packed) {
        expect([e.path, e.pack]).toEqual([e.path, { index: 0, offset }]);
        expect([e.path, sha(pack.subarray(offset, offset + e.size))]).toEqual([e.path, e.sha256]);
        offset += e.size;
      }

      type Entry = { name: string; type: string; sha256: string | null; target: string | null };
      const docs = await cloud.api.get<{ items: Entry[] }>(
        `/exports/${id}/files?path=${encodeURIComponent('C:\\Users\\Public\\Documents')}`,
      );
      expect(docs.status).toBe(200);
      expect(docs.body.items.map((e) => `${e.type}:${e.name}`)).toEqual([
        'file:a name — ünïcode.txt',
        'file:empty.txt',
        'symlink:latest.txt',
        'file:photo.bin',
        'file:report.txt',
        'dir:sub',
      ]);
      expect(docs.body.items.find((e) => e.name === 'latest.txt')!.target).toBe('report.txt');
      expect(docs.body.items.find((e) => e.name === 'photo.bin')!.sha256).toBe(sha(BINARY));
      const same = await cloud.api.get<{ items: Entry[] }>(
        `/exports/${id}/files?path=/Users/Public/Documents`,
      );
      expect(same.body.items).toEqual(docs.body.items);
      const root = await cloud.api.get<{ items: Entry[] }>(
        `/exports/${id}/files?path=${encodeURIComponent('C:\\')}`,
      );
      expect(root.body.items.map((e) => e.name)).toEqual(['Users', 'Windows']);
      const many = await cloud.api.get<{ items: Entry[] }>(
        `/exports/${id}/files?path=${encodeURIComponent('C:\\Users\\Public\\Many')}&limit=1000`,
      );
      expect(many.body.items.length).toBe(MANY.length);

      for (const [rel, bytes] of want) {
        const windowsPath = `C:\\${rel.replace(/\//g, '\\')}`;
        expect([rel, sha(await download(id, windowsPath))]).toEqual([rel, sha(bytes)]);
      }
      // The whole export: the packed files come out of the archive byte for byte, under `/` paths.
      const { files: archived } = await downloadArchive(cloud, id);
      expect([...archived.keys()].sort()).toEqual(want.map(([rel]) => rel).sort());
      for (const [rel, bytes] of want) expect([rel, sha(archived.get(rel)!)]).toEqual([rel, sha(bytes)]);
      expect(sha(await download(id, '\\Windows\\win.ini'))).toBe(sha(TEXT['Windows/win.ini']!));
      expect(sha(await download(id, '/Users/Public/Documents/photo.bin'))).toBe(sha(BINARY));
      // Names match in any case, as on NTFS.
      expect(sha(await download(id, 'c:\\WINDOWS\\WIN.INI'))).toBe(sha(TEXT['Windows/win.ini']!));
      const anyCase = await cloud.api.get<{ items: Entry[] }>(
        `/exports/${id}/files?path=${encodeURIComponent('c:\\users\\PUBLIC\\documents')}`,
      );
      expect(anyCase.body.items).toEqual(docs.body.items);
      const dir = await raw(cloud, `/exports/${id}/download?path=${encodeURIComponent('C:\\Users')}`);
      expect([dir.status, await dir.text()]).toEqual([400, expect.stringMatching(/"path"/)]);

      expect((await cloud.emulator.admin.stats()).disks).toBe(disksBefore);
      expect((await cloud.deps.store.points.get(point.id))!.inUseBy).toEqual([]);
    },
    E2E_TIMEOUT_MS,
  );

  it(
    'cancel in the middle of an upload: the script stops at the marker, CANCELED, no object left, no disk left',
    async () => {
      const job = await cancelDuringHeldUpload(cloud, point, ['C:\\Users']);
      const invokeId = (job.state as { invokeId?: string }).invokeId!;
      const [invocation] = await cloud.deps.ecs.describeInvocationResults([invokeId]);
      expect([invocation!.status, invocation!.output]).toEqual(['Failed', 'ECSB export_error=canceled\r\n']);
    },
    E2E_TIMEOUT_MS,
  );

  it(
    'past the file limit the script skips files with the reason, and the export completes with what fits',
    async () => {
      const settings = cloud.deps.settings;
      cloud.deps.settings = { ...settings, EXPORT_MAX_FILES: 2 };
      try {
        const started = await cloud.api.post<{ export: { id: string } }>(`/backups/${point.id}/exports`, {
          paths: ['C:\\Users\\Public\\Documents'],
        });
        const job = await finished(cloud, started.body.export.id, 90_000);
        expect(job.status, job.reason ?? '').toBe('COMPLETE');
        const view = await cloud.api.get<{ progress: { files: number }; skipped: number }>(
          `/exports/${job.id}`,
        );
        expect([view.body.progress.files, view.body.skipped]).toEqual([2, 4]);
        const manifest = (await cloud.deps.objectStore!.get(`exports/${job.id}/manifest`))!.toString('utf8');
        expect(manifest.split('over the limit of 2 files per export').length - 1).toBe(3);
        expect(manifest).toContain('a link that leads off the volume is not exported');
        // The two that fit are small: they went up in one pack.
        expect(
          parseManifest(manifest)
            .entries.filter((e) => e.type === 'file')
            .map((e) => e.pack),
        ).toEqual([
          { index: 0, offset: 0 },
          { index: 0, offset: Buffer.byteLength(TEXT['Users/Public/Documents/a name — ünïcode.txt']!) },
        ]);
        expect(await objectsOf(cloud, job.id, 'packs')).toEqual([`exports/${job.id}/packs/0`]);
      } finally {
        cloud.deps.settings = settings;
      }
    },
    E2E_TIMEOUT_MS,
  );

  it(
    'the demo Windows instance: a backup of i-demowin01 exports its hosts file',
    async () => {
      const hosts = await cloud.emulator.admin.readFile({
        diskId: 'd-demowin01sys',
        path: 'Windows/System32/drivers/etc/hosts',
        encoding: 'base64',
      });
      const demo = await backupOf(cloud, 'i-demowin01');
      const started = await cloud.api.post<{ export: { id: string } }>(`/backups/${demo.id}/exports`, {
        paths: ['C:\\Windows\\System32\\drivers\\etc\\hosts'],
      });
      expect(started.status, JSON.stringify(started.body)).toBe(202);
      const job = await finished(cloud, started.body.export.id, 90_000);
      expect(job.status, job.reason ?? '').toBe('COMPLETE');
      const bytes = await download(job.id, 'C:\\Windows\\System32\\drivers\\etc\\hosts');
      expect(bytes.length).toBeGreaterThan(0);
      expect(sha(bytes)).toBe(sha(Buffer.from(hosts, 'base64')));
    },
    E2E_TIMEOUT_MS,
  );

  it(
    'refuses bad Windows paths and a Linux reader with the field and the reason, and starts nothing',
    async () => {
      const jobsBefore = await exportJobCount(cloud);
      const refuse = refuser(cloud, point);
      const bad = (body: unknown, match: RegExp) => refuse(body, 400, match);
      await bad({ paths: ['Users\\a.txt'] }, /paths\[0\].*absolute/);
      await bad({ paths: ['C:Users'] }, /paths\[0\].*absolute/);
      await bad({ paths: ['C:\\Users\\..\\Windows'] }, /paths\[0\].*\.\./);
      await bad({ paths: ['C:\\a\u0000b'] }, /paths\[0\].*NUL/);
      await bad({ paths: ['C:\\Windows', 'C:\\temp\\CON.txt'] }, /paths\[1\].*reserved device name/);
      await bad({ paths: ['\\\\server\\share\\x'] }, /paths\[0\].*UNC/);
      await bad({ paths: ['C:\\a<b'] }, /paths\[0\].*control characters/);
      await bad({ paths: ['C:\\Windows', 'D:\\data'] }, /paths\[1\].*drive D: but paths\[0\] names C:/);
      await bad({ paths: Array.from({ length: 101 }, (_, i) => `C:\\p${i}`) }, /paths.*at most 100/);
      const linux = await addLinuxInstance(cloud);
      await bad(
        { paths: ['C:\\Windows'], targetInstanceId: linux.instanceId },
        /"targetInstanceId".*runs linux.*windows instance/,
      );
      expect(await exportJobCount(cloud)).toBe(jobsBefore);
    },
    E2E_TIMEOUT_MS,
  );
});
