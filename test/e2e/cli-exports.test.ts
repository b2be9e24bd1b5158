import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliChild, cliOnTty, seen } from './cli-support.js';
import {
  addLinuxInstance,
  E2E_TIMEOUT_MS,
  finished,
  planBody,
  pointOf,
  protect,
  startTestCloud,
  until,
  type TestCloud,
} from './support.js';

/**
 * The CLI's export commands against the real export API on the local cloud: the export script
 * runs in the emulator's guest sandbox and uploads into the local object store; every downloaded
 * byte is compared with what the instance's disk held when it was backed up.
 */
const FILES: Record<string, string> = {
  'etc/hostname': 'cli-export\n',
  'var/www/index.html': '<h1>from the backup</h1>\n',
  'var/www/assets/app.js': 'console.log(1);\n'.repeat(300),
};

interface JobJson {
  id: string;
  type: string;
  status: string;
  step: string;
}

describe('ecs-backup exports on the local cloud', { timeout: 2 * E2E_TIMEOUT_MS }, () => {
  let cloud: TestCloud;
  let env: Record<string, string>;
  let dir: string;
  let backupId: string;
  const json = <T>(text: string): T => JSON.parse(text) as T;

  beforeAll(async () => {
    cloud = await startTestCloud({ timers: false });
    const { instanceId } = await addLinuxInstance(cloud, {
      disks: [{ type: 'system', category: 'cloud_essd', sizeGiB: 40, files: FILES }],
    });
    const { jobId } = await protect(cloud, instanceId, planBody());
    const job = await finished(cloud, jobId!);
    expect(job.status, job.reason ?? '').toBe('COMPLETE');
    backupId = (await pointOf(cloud, job)).id;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsb-cli-export-'));
    env = {
      ECS_BACKUP_ENDPOINT: cloud.apiUrl,
      ECS_BACKUP_TOKEN: cloud.apiToken,
      XDG_CONFIG_HOME: path.join(dir, 'config'),
    };
  }, E2E_TIMEOUT_MS);
  afterAll(async () => {
    await cloud?.dispose();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('create --wait, ls, browse, download a file and the whole export (bytes checked), rm', async () => {
    const disksBefore = (await cloud.emulator.admin.stats()).disks;
    const created = await cli(
      ['exports', 'create', backupId, '--path', '/var/www', '/etc/hostname', '--wait'],
      { env },
    );
    expect(created.code, created.stderr).toBe(0);
    const job = json<JobJson>(created.stdout);
    expect(job).toMatchObject({ type: 'export', status: 'COMPLETE' });
    expect(created.stderr).toMatch(new RegExp(`job ${job.id}: (QUEUED|RUNNING) [\\w-]+ \\d+%`));
    expect(created.stderr).toContain(`job ${job.id}: COMPLETE`);
    expect((await cloud.emulator.admin.stats()).disks).toBe(disksBefore);

    const listed = await cli(['exports', 'ls', '--output', 'table'], { env });
    expect(listed.stdout).toMatch(/^EXPORT\s+STATUS\s+BACKUP/);
    expect(listed.stdout).toMatch(
      new RegExp(`${job.id}\\s+COMPLETE\\s+${backupId}\\s+i-\\S+\\s+d-\\S+\\s+3/3 files`),
    );

    const browsed = await cli(['exports', 'browse', job.id, '/var/www', '--output', 'table'], { env });
    expect(browsed.code, browsed.stderr).toBe(0);
    const html = Buffer.byteLength(FILES['var/www/index.html']!);
    expect(browsed.stdout).toMatch(/dir\s+\d+\s+\d{4}\s+\S+\s+assets/);
    expect(browsed.stdout).toMatch(new RegExp(`file\\s+${html}\\s+\\d{4}\\s+\\S+\\s+index\\.html`));
    const root = json<{ items: { name: string }[] }>(
      (await cli(['exports', 'browse', job.id], { env })).stdout,
    );
    expect(root.items.map((e) => e.name)).toEqual(['etc', 'var']);

    const one = path.join(dir, 'app.js');
    const file = await cli(['exports', 'download', job.id, '/var/www/assets/app.js', '-f', one], { env });
    expect(file.code, file.stderr).toBe(0);
    expect(fs.readFileSync(one, 'utf8')).toBe(FILES['var/www/assets/app.js']);
    const toStdout = await cli(['exports', 'download', job.id, '/etc/hostname', '-f', '-'], { env });
    expect(toStdout.stdout).toBe(FILES['etc/hostname']);

    // Without -f the whole export lands under the name the server gives it, then unpacks to the tree.
    const whole = await cli(['exports', 'download', job.id], { env, cwd: dir });
    expect(whole.code, whole.stderr).toBe(0);
    const written = json<{ file: string; bytes: number }>(whole.stdout);
    expect(written.file).toBe(`export-${job.id}.tar.gz`);
    expect(written.bytes).toBe(fs.statSync(path.join(dir, written.file)).size);
    const archive = path.join(dir, 'unpacked');
    fs.mkdirSync(archive);
    execFileSync('tar', ['-xzf', path.join(dir, written.file), '-C', archive]);
    const tree = (fs.readdirSync(archive, { recursive: true }) as string[])
      .filter((f) => fs.statSync(path.join(archive, f)).isFile())
      .sort();
    expect(tree).toEqual(Object.keys(FILES).sort());
    for (const [rel, content] of Object.entries(FILES))
      expect([rel, fs.readFileSync(path.join(archive, rel), 'utf8')]).toEqual([rel, content]);

    const removed = await cli(['exports', 'rm', job.id], { env });
    expect(removed.code, removed.stderr).toBe(0);
    expect(json<{ deletedAt: string | null }>(removed.stdout).deletedAt).not.toBeNull();
    const gone = await cli(['exports', 'download', job.id, '/etc/hostname', '-f', one], { env });
    expect(gone.code).toBe(3);
    expect(gone.stderr).toContain('HTTP 409');
    expect(await cloud.deps.objectStore!.list(`exports/${job.id}/`)).toEqual([]);
  });

  it('cancel --wait on a running export: exit 1, CANCELED, no object and no disk left', async () => {
    const disksBefore = (await cloud.emulator.admin.stats()).disks;
    // The temporary disk stays "Creating" until the test lets it finish: the export is caught running.
    await cloud.emulator.admin.setAsyncOperationMs({ ms: 600_000 });
    let exportId = '';
    try {
      const started = await cli(['exports', 'create', backupId, '--path', '/var/www'], { env });
      expect(started.code, started.stderr).toBe(0);
      exportId = json<JobJson>(started.stdout).id;
      await until('the export waiting for its disk', async () => {
        const shown = json<JobJson>((await cli(['jobs', 'show', exportId], { env })).stdout);
        return shown.status === 'RUNNING' && shown.step === 'wait-disk';
      });
      const cancel = cliChild(['exports', 'cancel', exportId, '--wait'], { env });
      await until('the cancel being followed', async () => cancel.live.stderr.includes(`job ${exportId}:`));
      await cloud.emulator.admin.setAsyncOperationMs({ ms: 100 });
      await cloud.emulator.admin.completeOperations();
      const run = await cancel.result;
      expect(run.code, run.stderr).toBe(1);
      expect(json<JobJson>(run.stdout).status).toBe('CANCELED');
    } finally {
      await cloud.emulator.admin.setAsyncOperationMs({ ms: 100 });
    }
    await until(
      'the temporary disk deleted',
      async () => (await cloud.emulator.admin.stats()).disks === disksBefore,
    );
    expect(await cloud.deps.objectStore!.list(`exports/${exportId}/`)).toEqual([]);
    const listed = await cli(['exports', 'ls', '--status', 'CANCELED'], { env });
    expect(json<{ items: { id: string }[] }>(listed.stdout).items.map((e) => e.id)).toEqual([exportId]);
  });

  it('Ctrl-C during create --wait on a terminal asks; yes cancels the export (exit 1)', async () => {
    const disksBefore = (await cloud.emulator.admin.stats()).disks;
    await cloud.emulator.admin.setAsyncOperationMs({ ms: 600_000 });
    try {
      const tty = cliOnTty(['exports', 'create', backupId, '--path', '/etc', '--wait'], { env });
      await seen(tty, /\| RUNNING \| wait-disk/);
      tty.write('\x03');
      await seen(tty, /Cancel job export-\S+\? \[y\/N\]/);
      tty.write('y\r');
      await seen(tty, 'cancel requested for job');
      await cloud.emulator.admin.setAsyncOperationMs({ ms: 100 });
      await cloud.emulator.admin.completeOperations();
      const code = await tty.exited;
      expect(code, tty.output()).toBe(1);
      expect(tty.output()).toMatch(/status\s+CANCELED/);
      expect(tty.output()).toMatch(/type\s+export/);
    } finally {
      await cloud.emulator.admin.setAsyncOperationMs({ ms: 100 });
    }
    await until(
      'the temporary disk deleted',
      async () => (await cloud.emulator.admin.stats()).disks === disksBefore,
    );
  });
});
