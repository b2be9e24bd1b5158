import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupPoint } from '../../lib/domain/model.js';
import type { ExportState } from '../../lib/usecases/export/state.js';
import {
  addLinuxInstance,
  E2E_TIMEOUT_MS,
  finished,
  planBody,
  pointOf,
  protect,
  startTestCloud,
  type TestCloud,
} from './support.js';

/**
 * The whole-export archive made over several parts and deliveries (a small part size and delivery
 * budget through the settings): the real export script uploads, the job writes a multi-member
 * gzip part by part, and the download unpacks to the exact tree for GNU tar and for Node's zlib.
 * A cancel in the middle of the archive step aborts its upload: no part, no object left.
 */

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
/** Base64 of random bytes: text the seed accepts that gzip shrinks by a quarter only. */
const noise = (bytes: number) =>
  randomBytes(Math.ceil((bytes * 3) / 4))
    .toString('base64')
    .slice(0, bytes);

const FILES: Record<string, string> = {
  'srv/big.txt': noise(1_500_000),
  'srv/a.txt': noise(400_000),
  'srv/sub/b.txt': noise(300_000),
  'srv/sub/c.txt': 'small\n',
  'srv/empty.txt': '',
};

let cloud: TestCloud;
let point: BackupPoint;

beforeAll(async () => {
  cloud = await startTestCloud({
    timers: false,
    settings: {
      EXPORT_ARCHIVE_PART_BYTES: String(64 * 1024),
      EXPORT_ARCHIVE_DELIVERY_BYTES: String(512 * 1024),
    },
  });
  const { instanceId } = await addLinuxInstance(cloud, {
    disks: [
      { type: 'system', category: 'cloud_essd', sizeGiB: 40, files: FILES },
      { type: 'data', category: 'cloud_essd', sizeGiB: 20, files: { 'x.txt': 'x' } },
    ],
  });
  const { jobId } = await protect(cloud, instanceId, planBody());
  const job = await finished(cloud, jobId!);
  expect(job.status, job.reason ?? '').toBe('COMPLETE');
  point = await pointOf(cloud, job);
}, E2E_TIMEOUT_MS);
afterAll(async () => {
  await cloud?.dispose();
});

async function startExport(): Promise<string> {
  const started = await cloud.api.post<{ export: { id: string } }>(`/backups/${point.id}/exports`, {
    paths: ['/srv'],
  });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  return started.body.export.id;
}

/** The multipart uploads the folder store holds for an export. */
const uploadsOf = (id: string) => cloud.deps.objectStore!.listUploads(`exports/${id}/`);

describe('export archive in parts', () => {
  it(
    'writes the archive in several parts over several deliveries; it unpacks to the exact tree',
    async () => {
      const archiveSaves: number[] = [];
      cloud.deps.hooks = {
        afterJobStep: (job) => {
          const parts = (job.state as ExportState).archive?.parts;
          if (job.type === 'export' && job.step === 'archive' && parts) archiveSaves.push(parts);
        },
      };
      try {
        const id = await startExport();
        const job = await finished(cloud, id, 120_000);
        expect(job.status, job.reason ?? '').toBe('COMPLETE');
        const st = job.state as ExportState;
        expect(st.archive!.parts).toBeGreaterThanOrEqual(8);
        // Each part recorded as it went up, one after the other.
        expect([...new Set(archiveSaves)]).toEqual(
          Array.from({ length: st.archive!.parts }, (_, i) => i + 1),
        );
        // A delivery whose budget is spent touches the record as it hands over: more saves than parts.
        expect(archiveSaves.length).toBeGreaterThan(st.archive!.parts);
        expect(await uploadsOf(id)).toEqual([]);

        const link = await cloud.api.get<{ url: string }>(`/exports/${id}/download?as=link`);
        expect(link.status).toBe(200);
        const bytes = Buffer.from(await (await fetch(link.body.url)).arrayBuffer());
        expect(bytes.length).toBe(st.archive!.bytes);
        // Node's zlib reads every member: the tar stream holds every file.
        const tar = gunzipSync(bytes);
        for (const content of Object.values(FILES).filter((c) => c.length > 0))
          expect(tar.includes(Buffer.from(content))).toBe(true);
        const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsb-parts-'));
        try {
          fs.writeFileSync(path.join(out, 'all.tar.gz'), bytes);
          fs.mkdirSync(path.join(out, 'x'));
          execFileSync('tar', ['-xzf', path.join(out, 'all.tar.gz'), '-C', path.join(out, 'x')]);
          const files = (fs.readdirSync(path.join(out, 'x'), { recursive: true }) as string[])
            .filter((f) => fs.statSync(path.join(out, 'x', f)).isFile())
            .sort();
          expect(files).toEqual(Object.keys(FILES).sort());
          for (const [rel, content] of Object.entries(FILES))
            expect([rel, sha(fs.readFileSync(path.join(out, 'x', rel)))]).toEqual([rel, sha(content)]);
        } finally {
          fs.rmSync(out, { recursive: true, force: true });
        }
      } finally {
        cloud.deps.hooks = undefined;
      }
    },
    E2E_TIMEOUT_MS,
  );

  it(
    'cancel during the archive step: CANCELED, the upload aborted, no part and no object left',
    async () => {
      let canceled = false;
      cloud.deps.hooks = {
        afterJobStep: async (job) => {
          const parts = (job.state as ExportState).archive?.parts ?? 0;
          if (job.type === 'export' && job.step === 'archive' && parts >= 2 && !canceled) {
            canceled = true;
            expect(await uploadsOf(job.id)).toHaveLength(1);
            expect((await cloud.api.post(`/exports/${job.id}/cancel`)).status).toBe(202);
          }
        },
      };
      try {
        const id = await startExport();
        const job = await finished(cloud, id, 120_000);
        expect(canceled).toBe(true);
        expect(job.status, job.reason ?? '').toBe('CANCELED');
        expect(await uploadsOf(id)).toEqual([]);
        expect(await cloud.deps.objectStore!.list(`exports/${id}/`)).toEqual([]);
        // No part file left in the folder store's uploads either.
        const uploads = path.join(cloud.dataDir, 'objects', 'uploads');
        const left = fs.existsSync(uploads) ? (fs.readdirSync(uploads, { recursive: true }) as string[]) : [];
        expect(left).toEqual([]);
        expect((await cloud.deps.store.points.get(point.id))!.inUseBy).toEqual([]);
      } finally {
        cloud.deps.hooks = undefined;
      }
    },
    E2E_TIMEOUT_MS,
  );
});
