import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliChild, cliOnTty, seen, BIN } from './cli-support.js';
import { E2E_TIMEOUT_MS, isoIn, startTestCloud, until, type TestCloud } from './support.js';

interface JobJson {
  id: string;
  status: string;
  step: string;
  backupId: string | null;
  type: string;
}

// Each test runs the binary a dozen times (a Node start each), so it gets twice the e2e limit.
describe('ecs-backup command-line tool', { timeout: 2 * E2E_TIMEOUT_MS }, () => {
  let cloud: TestCloud;
  let env: Record<string, string>;
  let home: string;
  const json = <T>(text: string): T => JSON.parse(text) as T;

  beforeAll(async () => {
    cloud = await startTestCloud();
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsb-cli-'));
    env = {
      ECS_BACKUP_ENDPOINT: `${cloud.apiUrl}/api/v1`,
      ECS_BACKUP_TOKEN: cloud.apiToken,
      XDG_CONFIG_HOME: path.join(home, 'config'),
    };
  });
  afterAll(async () => {
    await cloud?.dispose();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('lists instances as a table or JSON; usage errors exit 2, a wrong token 3, no API 4', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));

    const [table, asJson, wrongToken, unknown, badShortForm, unreachable] = await Promise.all([
      cli(['instances', 'ls', '--output', 'table'], { env }),
      cli(['instances', 'ls'], { env }),
      cli(['--token', 'not-the-token', 'plans', 'ls'], { env }),
      cli(['plans', 'explode'], { env }),
      cli(['protect', 'i-demodb01', '--retention', '7x'], { env }),
      cli(['instances', 'ls'], { env: { ...env, ECS_BACKUP_ENDPOINT: `http://127.0.0.1:${port}` } }),
    ]);

    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^INSTANCE\s+NAME\s+OS\s+STATUS/);
    expect(table.stdout).toMatch(/i-demoweb01\s+demo-web-01\s+linux\s+Running/);
    expect(asJson.code).toBe(0);
    const ids = json<{ items: { instanceId: string }[] }>(asJson.stdout).items.map((i) => i.instanceId);
    expect(ids).toEqual(expect.arrayContaining(['i-demoweb01', 'i-demodb01', 'i-demowin01']));
    expect(wrongToken.code).toBe(3);
    expect(wrongToken.stderr).toContain('Unauthorized (HTTP 401)');
    expect(wrongToken.stderr).not.toContain('not-the-token');
    expect(unknown.code).toBe(2);
    expect(badShortForm.code).toBe(2);
    expect(badShortForm.stderr).toContain('--retention: "7x"');
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr).toContain(`cannot reach the API at http://127.0.0.1:${port}`);
  });

  it('protects with --wait off a terminal: plain progress lines on stderr, the job as JSON on stdout', async () => {
    const run = await cli(['protect', 'i-demoweb01', '--wait'], { env });

    expect(run.code).toBe(0);
    const job = json<JobJson>(run.stdout);
    expect(job).toMatchObject({ type: 'backup', status: 'COMPLETE' });
    expect(run.stderr).toMatch(new RegExp(`job ${job.id}: (QUEUED|RUNNING) \\w+ \\d+%`));
    expect(run.stderr).toContain(`job ${job.id}: COMPLETE record 100%`);
    const backups = json<{ items: { id: string }[] }>(
      (await cli(['backups', 'ls', '--instance', 'i-demoweb01'], { env })).stdout,
    );
    expect(backups.items.map((b) => b.id)).toEqual([job.backupId]);
  });

  it('a validation error prints the field and exits 3, and creates nothing', async () => {
    const run = await cli(
      ['protect', 'i-demodb01', '--start', '2026-01-01T00:00', '--every', '1d', '--retention', '7d'],
      { env },
    );

    expect(run.code).toBe(3);
    expect(run.stderr).toContain('Validation failed (HTTP 400)');
    expect(run.stderr).toMatch(/plan\.schedule\.startAt \(--start\): .*with seconds and an offset/);
    const prot = json<{ items: { instanceId: string }[] }>((await cli(['protected', 'ls'], { env })).stdout);
    expect(prot.items.map((p) => p.instanceId)).not.toContain('i-demodb01');
  });

  it('plans: create, show with preview, modify, suspend, run refused, resume, run --wait, rm', async () => {
    const start = isoIn(3600);
    const created = await cli(
      [
        'protect',
        'i-demodb01',
        '--start',
        start,
        '--every',
        '1d',
        '--retention',
        '7d',
        '--long-term',
        'month:1y',
        '--name',
        'db-daily',
      ],
      { env },
    );
    expect(created.code).toBe(0);
    const planId = json<{ plan: { id: string } }>(created.stdout).plan.id;

    const listed = await cli(['plans', 'ls', '--instance', 'i-demodb01', '--output', 'table'], { env });
    expect(listed.stdout).toMatch(
      new RegExp(`${planId}\\s+db-daily\\s+i-demodb01\\s+ACTIVE\\s+every 1 day from ${start}, keep 7 days`),
    );
    const shown = await cli(['plans', 'show', planId, '--preview', '--output', 'table'], { env });
    expect(shown.stdout).toMatch(/long-term\s+first of each month: 1 year/);
    expect(shown.stdout).toContain('retention preview: 0 kept, 0 to delete');

    const modified = await cli(
      ['plans', 'modify', planId, '--retention', '2w', '--time-zone', 'Asia/Shanghai'],
      { env },
    );
    expect(json<{ retention: unknown; timeZone: string }>(modified.stdout)).toMatchObject({
      retention: { value: 2, unit: 'weeks' },
      timeZone: 'Asia/Shanghai',
    });
    const badZone = await cli(['plans', 'modify', planId, '--time-zone', 'Mars/Olympus'], { env });
    expect(badZone.code).toBe(3);
    expect(badZone.stderr).toMatch(/^\s+timeZone \(--time-zone\): /m);

    expect(json<{ state: string }>((await cli(['plans', 'suspend', planId], { env })).stdout).state).toBe(
      'SUSPENDED',
    );
    const refused = await cli(['plans', 'run', planId], { env });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('HTTP 409');
    expect(json<{ state: string }>((await cli(['plans', 'resume', planId], { env })).stdout).state).toBe(
      'ACTIVE',
    );
    const ran = await cli(['plans', 'run', planId, '--wait'], { env });
    expect(ran.code).toBe(0);
    expect(json<JobJson>(ran.stdout)).toMatchObject({ status: 'COMPLETE', type: 'backup' });

    const jobs = await cli(['jobs', 'ls', '--plan', planId, '--status', 'COMPLETE', '--output', 'table'], {
      env,
    });
    expect(jobs.stdout).toMatch(/COMPLETE\s+record\s+100%\s+i-demodb01/);
    const shownJob = await cli(['jobs', 'show', json<JobJson>(ran.stdout).id, '--output', 'table'], { env });
    expect(shownJob.stdout).toMatch(/consistency\s+crash \(requested crash\)/);

    const removed = await cli(['plans', 'rm', planId, '--output', 'table'], { env });
    expect(removed.stdout).toContain('its backups are kept');
    expect(
      json<{ items: unknown[] }>((await cli(['plans', 'ls', '--instance', 'i-demodb01'], { env })).stdout)
        .items,
    ).toEqual([]);
    const stop = await cli(['protected', 'stop', 'i-demodb01'], { env });
    expect(stop.code).toBe(0);
  });

  it('backups: show, expire, mount --wait, mounts ls and unmount, restore, rm needs confirming the last good one', async () => {
    // An instance of its own: its one backup is the last good one at the end.
    const protect = await cli(['protect', 'i-demolegacy01', '--wait'], { env });
    expect(protect.code, protect.stderr).toBe(0);
    const backupId = json<JobJson>(protect.stdout).backupId!;

    const shown = await cli(['backups', 'show', backupId, '--output', 'table'], { env });
    expect(shown.stdout).toMatch(/status\s+AVAILABLE/);
    expect(shown.stdout).toMatch(
      /snapshots\s+d-demolegacy01sys\(system\)=s-\S+ d-demolegacy01data\(data\)=s-/,
    );
    const expire = await cli(['backups', 'expire', backupId, '2030-01-01T00:00:00Z'], { env });
    expect(json<{ expireAt: string }>(expire.stdout).expireAt).toBe('2030-01-01T00:00:00.000Z');

    const mount = await cli(
      ['backups', 'mount', backupId, '--disk', 'd-demolegacy01data', '--target', 'i-demolegacy01', '--wait'],
      { env },
    );
    expect(json<JobJson>(mount.stdout)).toMatchObject({ type: 'mount', status: 'COMPLETE' });
    const mountId = json<JobJson>(mount.stdout).id;
    const mounts = await cli(['mounts', 'ls', '--output', 'table'], { env });
    expect(mounts.stdout).toMatch(new RegExp(`${mountId}\\s+${backupId}\\s+i-demolegacy01\\s+d-`));
    const unmount = await cli(['mounts', 'unmount', mountId, '--wait'], { env });
    expect(json<JobJson>(unmount.stdout)).toMatchObject({ type: 'unmount', status: 'COMPLETE' });
    expect(json<{ items: unknown[] }>((await cli(['mounts', 'ls'], { env })).stdout).items).toEqual([]);

    // A rollback (not a clone: a disk made from a snapshot would keep the backup from being deleted).
    const restore = await cli(
      [
        'backups',
        'restore',
        backupId,
        '--mode',
        'rollback-disk',
        '--disk',
        'd-demolegacy01data',
        '--stop-instance',
        '--wait',
      ],
      { env },
    );
    expect(restore.code, restore.stderr).toBe(0);
    expect(json<JobJson>(restore.stdout)).toMatchObject({ type: 'restore', status: 'COMPLETE' });
    const noMode = await cli(['backups', 'restore', backupId], { env });
    expect(noMode.code).toBe(2);
    expect(noMode.stderr).toContain("required option '--mode <mode>' not specified");

    const refused = await cli(['backups', 'rm', backupId], { env });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('HTTP 409');
    const removed = await cli(['backups', 'rm', backupId, '--confirm-last-good'], { env });
    expect(removed.code, removed.stderr).toBe(0);
    expect(json<{ status: string }>(removed.stdout).status).toMatch(/DELET/);
  });

  it('--wait on a terminal draws a progress bar with the step, and a table of the result', async () => {
    const tty = cliOnTty(['protected', 'backup', 'i-demoweb01', '--wait'], { env });
    const code = await tty.exited;

    expect(code).toBe(0);
    expect(tty.output()).toMatch(/job-\S+ [█░]+ \d+% \| (QUEUED|RUNNING|COMPLETE) \| \w+/);
    expect(tty.output()).toMatch(/status\s+COMPLETE/);
    expect(tty.output()).not.toContain('"status"');
  });

  it('Ctrl-C while waiting asks; yes cancels the job (exit 1), no leaves it running (exit 0); off a terminal exits 130', async () => {
    const created = await cli(
      ['protect', 'i-demowin01', '--start', isoIn(80), '--every', '1d', '--retention', '7d'],
      { env },
    );
    const planId = json<{ plan: { id: string } }>(created.stdout).plan.id;
    const queued = async () =>
      json<{ items: JobJson[] }>(
        (await cli(['jobs', 'ls', '--plan', planId, '--status', 'QUEUED'], { env })).stdout,
      ).items;
    const [job] = await queued();
    expect(job).toBeDefined();

    const keep = cliOnTty(['jobs', 'watch', job!.id], { env });
    await seen(keep, `${job!.id} `);
    keep.write('\x03');
    await seen(keep, `Cancel job ${job!.id}? [y/N]`);
    keep.write('n\r');
    const keepCode = await keep.exited;
    expect(keepCode, keep.output()).toBe(0);
    expect(keep.output()).toContain(`job ${job!.id} keeps running`);
    expect((await queued()).map((j) => j.id)).toEqual([job!.id]);

    // Off a terminal there is no one to ask: Ctrl-C (SIGINT) stops waiting, exit 130, job untouched.
    const piped = cliChild(['jobs', 'watch', job!.id], { env });
    await until('a progress line', async () => piped.live.stderr.includes(`job ${job!.id}: QUEUED`));
    piped.child.kill('SIGINT');
    const pipedRun = await piped.result;
    expect(pipedRun.code, pipedRun.stderr).toBe(130);
    expect(pipedRun.stderr).toContain(`interrupted; job ${job!.id} keeps running`);
    expect((await queued()).map((j) => j.id)).toEqual([job!.id]);

    const cancel = cliOnTty(['jobs', 'watch', job!.id], { env });
    await seen(cancel, `${job!.id} `);
    cancel.write('\x03');
    await seen(cancel, `Cancel job ${job!.id}? [y/N]`);
    cancel.write('y\r');
    const cancelCode = await cancel.exited;
    expect(cancelCode, cancel.output()).toBe(1);
    expect(cancel.output()).toMatch(/status\s+CANCELED/);
    const after = json<JobJson>((await cli(['jobs', 'show', job!.id], { env })).stdout);
    expect(after.status).toBe('CANCELED');
    await cli(['protected', 'stop', 'i-demowin01'], { env });
  });

  it('login checks the token, saves it 0600 without echoing it; later commands use it', async () => {
    const bare = { XDG_CONFIG_HOME: env['XDG_CONFIG_HOME']! };
    const file = path.join(env['XDG_CONFIG_HOME']!, 'ecs-backup', 'config.json');
    const wrong = await cli(['login', '--endpoint', cloud.apiUrl], { env: bare, input: 'wrong-token\n' });
    expect(wrong.code).toBe(3);
    expect(fs.existsSync(file)).toBe(false);

    const ok = await cli(['login', '--endpoint', cloud.apiUrl, '--output', 'table'], {
      env: bare,
      input: `${cloud.apiToken}\n`,
    });
    expect(ok.code).toBe(0);
    expect(ok.stdout + ok.stderr).not.toContain(cloud.apiToken);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const later = await cli(['instances', 'ls'], { env: bare });
    expect(later.code).toBe(0);
    expect(json<{ items: unknown[] }>(later.stdout).items.length).toBeGreaterThan(0);

    // On a terminal the token is typed without echo.
    fs.rmSync(file);
    const tty = cliOnTty(['login', '--endpoint', cloud.apiUrl], { env: bare });
    await seen(tty, 'API token for');
    tty.write(`${cloud.apiToken}\r`);
    expect(await tty.exited).toBe(0);
    expect(tty.output()).not.toContain(cloud.apiToken);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);

    fs.chmodSync(file, 0o644);
    const loose = await cli(['instances', 'ls'], { env: bare });
    expect(loose.code).toBe(2);
    expect(loose.stderr).toContain(`chmod 600 ${file}`);
  });

  it('exports ls on a cloud with no export yet: an empty page, or a table saying so', async () => {
    const [asJson, table] = await Promise.all([
      cli(['exports', 'ls'], { env }),
      cli(['exports', 'ls', '--output', 'table'], { env }),
    ]);
    // The export commands against real exports are in cli-exports.test.ts.
    expect([asJson.code, json<{ items: unknown[] }>(asJson.stdout).items]).toEqual([0, []]);
    expect(table.stdout).toContain('no exports');
  });

  it('completion scripts complete commands, subcommands and options in bash; zsh and fish name them', async () => {
    const bash = await cli(['completion', 'bash'], { env });
    const script = path.join(home, 'completion.bash');
    fs.writeFileSync(script, bash.stdout);
    const complete = (words: string) =>
      spawnSync(
        'bash',
        [
          '-c',
          `source "$1"; COMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _ecs_backup; echo "\${COMPREPLY[*]}"`,
          'bash',
          script,
        ],
        { encoding: 'utf8' },
      ).stdout.trim();
    expect(complete('ecs-backup pl').split(' ')).toContain('plans');
    expect(complete('ecs-backup plans ""').split(' ')).toEqual([
      'ls',
      'show',
      'run',
      'modify',
      'suspend',
      'resume',
      'rm',
    ]);
    expect(complete('ecs-backup jobs ls --st').split(' ')).toEqual(['--status']);
    expect(complete('ecs-backup protect i-demoweb01 --ret').split(' ')).toEqual(['--retention']);

    const [zsh, fish, bad] = await Promise.all([
      cli(['completion', 'zsh'], { env }),
      cli(['completion', 'fish'], { env }),
      cli(['completion', 'tcsh'], { env }),
    ]);
    expect(zsh.stdout).toContain("'plans') opts=(ls show run modify suspend resume rm) ;;");
    expect(fish.stdout).toContain("complete -c ecs-backup -n '__fish_use_subcommand' -a exports");
    expect(bad.code).toBe(2);
    expect(fs.statSync(BIN).mode & 0o111).not.toBe(0);
  });
});
