import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliOnTty, seen } from './cli-support.js';
import { E2E_TIMEOUT_MS, isoIn, startTestCloud, type TestCloud } from './support.js';

const BREAK_GLASS = 'break-glass-token-for-cli-tests';

// The CLI on plan copies, locks and restore tests, backup locks, protection rules and subscriptions.
describe(
  'ecs-backup command-line tool: copies, locks, rules, subscriptions',
  { timeout: 2 * E2E_TIMEOUT_MS },
  () => {
    let cloud: TestCloud;
    let env: Record<string, string>;
    let home: string;
    const json = <T>(text: string): T => JSON.parse(text) as T;

    beforeAll(async () => {
      // No timers: rules are reconciled only when a test asks, so a preview is what the rule would do.
      cloud = await startTestCloud({
        timers: false,
        settings: { BREAK_GLASS_TOKEN: BREAK_GLASS, WEBHOOK_ALLOW_PRIVATE: 'true' },
      });
      home = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsb-cli-fleet-'));
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

    it('plans take --copy, --lock and --verify-every; API field errors name the option', async () => {
      const schedule = ['--start', isoIn(3600), '--every', '1d', '--retention', '7d'];
      const four = ['cn-shanghai', 'cn-beijing', 'cn-shenzhen', 'cn-qingdao'].flatMap((r) => [
        '--copy',
        `${r}:30d`,
      ]);
      const [created, tooMany, badShortForm] = await Promise.all([
        cli(
          [
            'protect',
            'i-demodb01',
            ...schedule,
            '--copy',
            'cn-shanghai:30d',
            '--lock',
            'governance',
            '--verify-every',
            '3',
          ],
          { env },
        ),
        cli(['protect', 'i-demobatch01', ...schedule, ...four], { env }),
        cli(['protect', 'i-demobatch01', ...schedule, '--copy', 'cn-shanghai'], { env }),
      ]);

      expect(created.code).toBe(0);
      const plan = json<{ plan: { id: string; copies: unknown; lock: unknown; verify: unknown } }>(
        created.stdout,
      ).plan;
      expect(plan.copies).toEqual([{ regionId: 'cn-shanghai', retention: { value: 30, unit: 'days' } }]);
      expect(plan.lock).toEqual({ mode: 'governance' });
      expect(plan.verify).toMatchObject({ every: 3 });
      expect(tooMany.code).toBe(3);
      expect(tooMany.stderr).toMatch(/plan\.copies \(--copy\): at most 3 regions/);
      expect(badShortForm.code).toBe(2);
      expect(badShortForm.stderr).toContain('--copy: "cn-shanghai" must be <region>:<duration>');
      const prot = json<{ items: { instanceId: string }[] }>(
        (await cli(['protected', 'ls'], { env })).stdout,
      );
      expect(prot.items.map((p) => p.instanceId)).not.toContain('i-demobatch01');

      const [badRegion, badEvery] = await Promise.all([
        cli(['plans', 'modify', plan.id, '--copy', 'Shanghai:3d'], { env }),
        cli(['plans', 'modify', plan.id, '--verify-every', '0'], { env }),
      ]);
      expect(badRegion.code).toBe(3);
      expect(badRegion.stderr).toMatch(/copies\[0\]\.regionId \(--copy\): must be a region id/);
      expect(badEvery.code).toBe(3);
      expect(badEvery.stderr).toMatch(/verify\.every \(--verify-every\): must be at least 1/);

      const modified = await cli(
        ['plans', 'modify', plan.id, '--lock', 'compliance', '--copy', 'cn-shanghai:2w'],
        {
          env,
        },
      );
      expect(modified.code).toBe(0);
      expect(json<{ lock: unknown; copies: unknown }>(modified.stdout)).toMatchObject({
        lock: { mode: 'compliance' },
        copies: [{ regionId: 'cn-shanghai', retention: { value: 2, unit: 'weeks' } }],
      });
      const shown = await cli(['plans', 'show', plan.id, '--output', 'table'], { env });
      expect(shown.stdout).toMatch(/^lock\s+compliance$/m);
      expect(shown.stdout).toMatch(/^copies\s+cn-shanghai kept 2 weeks$/m);
      expect(shown.stdout).toMatch(/^verify\s+every 3 backups$/m);
    });

    it('backups show their lock; rm is refused until --break-glass with the token from the environment', async () => {
      const run = await cli(
        ['protect', 'i-demoweb01', '--lock', 'governance', '--retention', '7d', '--wait'],
        { env },
      );
      expect(run.code).toBe(0);
      const backupId = json<{ backupId: string }>(run.stdout).backupId;

      const [shown, table] = await Promise.all([
        cli(['backups', 'show', backupId], { env }),
        cli(['backups', 'ls', '--instance', 'i-demoweb01', '--output', 'table'], { env }),
      ]);
      const backup = json<{ lock: { mode: string } | null; copies: unknown[]; verification: unknown }>(
        shown.stdout,
      );
      expect(backup.lock).toMatchObject({ mode: 'governance' });
      expect(backup.copies).toEqual([]);
      expect(backup.verification).toBeNull();
      expect(table.stdout).toMatch(/LOCK\s+COPIES\s+VERIFIED/);
      expect(table.stdout).toMatch(new RegExp(`${backupId}.*governance`));

      const [refused, noToken, wrongToken, fromCopy] = await Promise.all([
        cli(['backups', 'rm', backupId], { env }),
        cli(['backups', 'rm', backupId, '--break-glass'], { env }),
        cli(['backups', 'rm', backupId, '--break-glass'], {
          env: { ...env, ECS_BACKUP_BREAK_GLASS_TOKEN: 'not-the-break-glass-token' },
        }),
        cli(['backups', 'restore', backupId, '--mode', 'rollback-instance', '--region', 'cn-shanghai'], {
          env,
        }),
      ]);
      expect(refused.code).toBe(3);
      expect(refused.stderr).toContain('HTTP 409');
      expect(noToken.code).toBe(2);
      expect(noToken.stderr).toContain('--break-glass: no token; set ECS_BACKUP_BREAK_GLASS_TOKEN');
      expect(wrongToken.code).toBe(3);
      expect(wrongToken.stderr).toContain('HTTP 401');
      expect(wrongToken.stderr).not.toContain('not-the-break-glass-token');
      // --region reaches the API as regionId: only a clone may come from a copy.
      expect(fromCopy.code).toBe(3);
      expect(fromCopy.stderr).toMatch(/regionId \(--region\): a copy in another region can only be cloned/);
      const still = json<{ status: string }>((await cli(['backups', 'show', backupId], { env })).stdout);
      expect(still.status).toBe('AVAILABLE');

      // On a terminal the token is asked for without echo: shorten the expiry through the prompt.
      const tty = cliOnTty(
        ['--output', 'json', 'backups', 'expire', backupId, isoIn(3 * 86_400), '--break-glass'],
        { env },
      );
      await seen(tty, 'break-glass token: ');
      tty.write(`${BREAK_GLASS}\r`);
      expect(await tty.exited).toBe(0);
      expect(tty.output()).toMatch(/"action":\s*"shorten"/);
      expect(tty.output()).not.toContain(BREAK_GLASS);

      const deleted = await cli(['backups', 'rm', backupId, '--break-glass', '--confirm-last-good'], {
        env: { ...env, ECS_BACKUP_BREAK_GLASS_TOKEN: BREAK_GLASS },
      });
      expect(deleted.code).toBe(0);
      const after = json<{ status: string; lock: { overrides: { action: string }[] } }>(deleted.stdout);
      expect(after.status).not.toBe('AVAILABLE');
      expect(after.lock.overrides.map((o) => o.action)).toEqual(['shorten', 'delete']);
    });

    it('rules: create from options or a file, list, preview, bad input naming the option, rm', async () => {
      const file = path.join(home, 'rule.json');
      fs.writeFileSync(
        file,
        JSON.stringify({
          name: 'erp-rule',
          priority: 5,
          match: { tags: { app: 'erp' } },
          plan: { retention: { value: 3, unit: 'days' } },
        }),
      );
      const [fromFlags, fromFile, noTag, both] = await Promise.all([
        cli(
          [
            'rules',
            'create',
            '--name',
            'batch-rule',
            '--priority',
            '10',
            '--tag',
            'app=batch',
            '--retention',
            '7d',
          ],
          {
            env,
          },
        ),
        cli(['rules', 'create', '--file', file], { env }),
        cli(['rules', 'create', '--name', 'no-tag', '--priority', '1', '--retention', '7d'], { env }),
        cli(['rules', 'create', '--file', file, '--priority', '3'], { env }),
      ]);
      expect(fromFlags.code).toBe(0);
      const rule = json<{ id: string; name: string; priority: number; match: unknown; state: string }>(
        fromFlags.stdout,
      );
      expect(rule).toMatchObject({
        name: 'batch-rule',
        priority: 10,
        match: { tags: { app: 'batch' } },
        state: 'ACTIVE',
      });
      expect(fromFile.code).toBe(0);
      expect(json<{ name: string }>(fromFile.stdout).name).toBe('erp-rule');
      expect(noTag.code).toBe(3);
      expect(noTag.stderr).toMatch(/match\.tags \(--tag\): must name at least one tag/);
      expect(both.code).toBe(2);
      expect(both.stderr).toContain('--file: give the rule as a file or as options, not both');

      const [listed, preview] = await Promise.all([
        cli(['rules', 'ls', '--output', 'table'], { env }),
        cli(['rules', 'preview', rule.id], { env }),
      ]);
      expect(listed.stdout).toMatch(/^RULE\s+NAME\s+PRIORITY\s+MATCH/);
      expect(listed.stdout).toMatch(/batch-rule\s+10\s+app=batch/);
      expect(listed.stdout).toMatch(/erp-rule\s+5\s+app=erp/);
      const rows = json<{ matched: number; rows: { instanceId: string; action: string }[] }>(preview.stdout);
      expect(rows.matched).toBe(1);
      expect(rows.rows).toEqual([
        expect.objectContaining({ instanceId: 'i-demobatch01', action: 'protect' }),
      ]);

      const removed = await cli(['rules', 'delete', rule.id], { env });
      expect(removed.code).toBe(0);
      expect(json<{ id: string; state: string }>(removed.stdout)).toMatchObject({
        id: rule.id,
        state: 'DELETING',
      });
    });

    it('subscriptions: the secret is printed once, unknown events name --event, deliveries, rm', async () => {
      const [table, asJson, unknownEvent, neither, noMns] = await Promise.all([
        cli(
          [
            'subscriptions',
            'create',
            '--url',
            'http://127.0.0.1:9/hook',
            '--event',
            'job.failed',
            '--output',
            'table',
          ],
          {
            env,
          },
        ),
        cli(
          [
            'subscriptions',
            'create',
            '--url',
            'http://127.0.0.1:9/other',
            '--event',
            'job.failed',
            '--event',
            'backup.expired',
          ],
          {
            env,
          },
        ),
        cli(['subscriptions', 'create', '--url', 'http://127.0.0.1:9/hook', '--event', 'job.exploded'], {
          env,
        }),
        cli(['subscriptions', 'create', '--event', 'job.failed'], { env }),
        // The test cloud has no MNS endpoint: the refusal names the option.
        cli(['subscriptions', 'create', '--mns-topic', 'ops-alerts', '--event', 'job.failed'], { env }),
      ]);
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(/signing secret: whsec_[A-Za-z0-9+/=]+/);
      expect(table.stdout).toContain('it will not be shown again');
      expect(asJson.code).toBe(0);
      const created = json<{ id: string; url: string; events: string[]; secret: string }>(asJson.stdout);
      expect(created).toMatchObject({
        url: 'http://127.0.0.1:9/other',
        events: ['job.failed', 'backup.expired'],
      });
      expect(created.secret).toMatch(/^whsec_/);
      expect(unknownEvent.code).toBe(3);
      expect(unknownEvent.stderr).toMatch(/events\[0\] \(--event\): must be one of job\.failed/);
      expect(neither.code).toBe(3);
      expect(neither.stderr).toMatch(/\((--url|--mns-topic)\): give exactly one of url/);
      expect(noMns.code).toBe(3);
      expect(noMns.stderr).toContain('mnsTopic (--mns-topic): topic delivery needs an MNS endpoint');

      const listed = await cli(['subscriptions', 'ls'], { env });
      const items = json<{ items: { id: string; secret?: string }[] }>(listed.stdout).items;
      expect(items.map((s) => s.id)).toContain(created.id);
      expect(items.length).toBe(2);
      expect(items.every((s) => s.secret === undefined)).toBe(true);
      const deliveries = await cli(['subscriptions', 'deliveries', created.id], { env });
      expect(deliveries.code).toBe(0);
      expect(json<{ items: unknown[]; nextCursor: null }>(deliveries.stdout)).toEqual({
        items: [],
        nextCursor: null,
      });

      const removed = await cli(['subscriptions', 'rm', created.id], { env });
      expect(json<{ subscriptionId: string; deleted: boolean }>(removed.stdout)).toEqual({
        subscriptionId: created.id,
        deleted: true,
      });
      const left = json<{ items: { id: string }[] }>(
        (await cli(['subscriptions', 'ls'], { env })).stdout,
      ).items;
      expect(left.map((s) => s.id)).not.toContain(created.id);
    });

    it('completes the new command groups and their options', async () => {
      const bash = await cli(['completion', 'bash'], { env });
      expect(bash.stdout).toMatch(/"rules"\) words="ls show create preview rm"/);
      expect(bash.stdout).toMatch(/"subscriptions"\) words="ls create deliveries rm"/);
      expect(bash.stdout).toMatch(/"protect"\|"protect "\*\) words="[^"]*--copy --lock --verify-every/);
      expect(bash.stdout).toMatch(/"backups rm"\) words="[^"]*--break-glass/);
    });
  },
);
