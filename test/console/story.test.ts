import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  E2E_TIMEOUT_MS,
  addLinuxInstance,
  addWindowsInstance,
  backupNow,
  finished,
  planBody,
  pointOf,
  protect,
  startTestCloud,
  until,
  type TestCloud,
} from '../e2e/support.js';
import {
  capture as captureScreen,
  nav as goTo,
  openBrowser,
  openConsole,
  SCREENSHOT_DIR,
  type Browser,
} from './browser.js';

const ZONE = 'Asia/Shanghai';
/** The whole story is one test; a slow shared machine needs room for several jobs to finish. */
const STORY_TIMEOUT_MS = 4 * E2E_TIMEOUT_MS;

/** The wall time `seconds` from now in ZONE, as a datetime-local input takes it (to the second). */
function wallIn(seconds: number): string {
  const t = new Date(Math.ceil(Date.now() / 1000) * 1000 + seconds * 1000);
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: ZONE,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(t);
  const n = (k: string) => parts.find((p) => p.type === k)!.value;
  return `${n('year')}-${n('month')}-${n('day')}T${n('hour')}:${n('minute')}:${n('second')}`;
}

describe('the operator console in a real browser', { timeout: STORY_TIMEOUT_MS }, () => {
  let cloud: TestCloud;
  let browser: Browser;
  let instanceId: string;
  const scans: Record<string, string[]> = {};

  beforeAll(async () => {
    cloud = await startTestCloud();
    ({ instanceId } = await addLinuxInstance(cloud, { scripts: 'valid' }));
    browser = await openBrowser(ZONE);
  });
  afterAll(async () => {
    await browser?.close();
    await cloud?.dispose();
    console.log(`console screenshots: ${SCREENSHOT_DIR}`);
  });

  const capture = (name: string) => captureScreen(browser.page, scans, name);
  const nav = (label: string) => goTo(browser.page, label);
  const jobRow = (type: string, status: string) =>
    browser.page.locator(`tr[data-type="${type}"][data-status="${status}"]`);

  it('serves the page under a strict CSP with hashed, long-cached assets', async () => {
    const res = await fetch(`${cloud.apiUrl}/console`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await res.text();
    expect(html).not.toMatch(/<script>|<script [^>]*>[^<]+<\/script>|style=/);
    const asset = /src="(\/console\/assets\/main-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const js = await fetch(`${cloud.apiUrl}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
  });

  it('walks the whole story: sign in, wizard, backups, plans, restore, mount, stop protection', async () => {
    const { page } = browser;
    // Sign in: a wrong token is refused and kept nowhere.
    await page.goto(`${cloud.apiUrl}/console`);
    await page.getByLabel('API token').waitFor();
    await capture('01-sign-in');
    await page.getByLabel('API token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('That token was refused');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.getByLabel('API token').fill(cloud.apiToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('No instance is protected yet').waitFor();
    await capture('02-protected-empty');
    // The keyboard alone reaches a screen: Tab through the header to Jobs, Enter.
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate(() => document.activeElement?.textContent)) === 'Jobs') break;
    }
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Jobs' }).waitFor();
    // Live updates are proven by this marker surviving: a reload would clear it.
    await page.evaluate(() => ((globalThis as { marker?: number }).marker = 1));

    // The wizard: a server validation error shows at its field, then the plan is made.
    await nav('Add ECS Instance');
    await page.getByRole('radio', { name: `Choose ${instanceId}` }).check();
    await page.getByText('Application-consistent backup').click();
    await expect
      .poll(() => page.getByTestId('consistency-explained').textContent())
      .toContain('/tmp/prescript.sh');
    await page.getByLabel('Plan name').fill('1-not-a-name');
    await page.getByLabel('First run (to the second)').fill(wallIn(12));
    await page.getByLabel('Every').fill('1');
    await page.getByLabel('Interval unit').selectOption('hours');
    await page.getByRole('button', { name: 'Protect on schedule' }).click();
    const nameError = page.locator('#plan-name-error');
    await nameError.waitFor();
    expect(await nameError.textContent()).toContain('must start with a letter');
    expect(await page.getByLabel('Plan name').getAttribute('aria-invalid')).toBe('true');
    await capture('03-wizard-field-error');
    await page.getByLabel('Plan name').fill('web-plan');
    await page.getByLabel('First run (to the second)').fill(wallIn(10));
    await page.getByRole('button', { name: 'Protect on schedule' }).click();
    await page.getByText(`Protected ${instanceId} with plan web-plan.`).waitFor();
    await capture('04-wizard-done');

    // The scheduled backup reaches COMPLETE on the Jobs screen by itself.
    await nav('Jobs');
    await jobRow('backup', 'COMPLETE').waitFor({ timeout: E2E_TIMEOUT_MS });
    expect(await jobRow('backup', 'COMPLETE').locator('td').nth(4).textContent()).toContain('application');
    await capture('05-jobs-scheduled-complete');

    // Plans: run now, suspend and resume, the retention preview drawn.
    await nav('Protection Plans');
    await page.getByRole('button', { name: 'Run Now' }).click();
    await page.getByText('Plan web-plan is running now.').waitFor();
    await page.getByRole('button', { name: 'Suspend' }).click();
    await expect.poll(() => page.locator('td[data-testid^="state-"]').textContent()).toBe('SUSPENDED');
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => page.locator('td[data-testid^="state-"]').textContent()).toBe('ACTIVE');
    await nav('Jobs');
    await expect.poll(() => jobRow('backup', 'COMPLETE').count(), { timeout: E2E_TIMEOUT_MS }).toBe(2);
    await nav('Protection Plans');
    await page.getByRole('button', { name: 'Retention preview' }).click();
    await page.locator('figure.timeline svg').waitFor();
    expect(await page.locator('figure.timeline g.mark.keep').count()).toBe(2);
    expect(await page.locator('figure.timeline g.mark title').first().textContent()).toMatch(/keep — /);
    await capture('06-plans-retention-preview');
    // Modify: the wizard's form, filled with the plan; the change reaches the plan.
    await page.getByRole('button', { name: 'Modify' }).click();
    expect(await page.locator('#modify-name').inputValue()).toBe('web-plan');
    await page.locator('#modify-retention').fill('2');
    await page.locator('#modify-retention-unit').selectOption('weeks');
    await page.getByRole('button', { name: 'Save plan' }).click();
    await page.getByText('Plan web-plan changed.').waitFor();
    const plans = await cloud.api.get<{ items: { retention: unknown }[] }>(`/plans?instanceId=${instanceId}`);
    expect(plans.body.items.map((p) => p.retention)).toEqual([{ value: 2, unit: 'weeks' }]);

    // Protected instances: the last backup, then restore and mount from its backups.
    await nav('Protected ECS Instances');
    await page.getByRole('button', { name: 'Backups' }).click();
    await page.getByRole('button', { name: 'Restore' }).first().click();
    await page.getByLabel('Restore mode').selectOption('rollback-disk');
    await page.locator('form.panel').getByRole('button', { name: 'Restore' }).click();
    await page.getByText(/Restore job .* started\./).waitFor();
    await capture('07-protected-backups');
    await nav('Jobs');
    await jobRow('restore', 'COMPLETE').waitFor({ timeout: E2E_TIMEOUT_MS });

    await nav('Protected ECS Instances');
    await page.getByRole('button', { name: 'Backups' }).click();
    await page.getByRole('button', { name: 'Mount' }).first().click();
    await page.locator('form.panel').getByRole('button', { name: 'Mount' }).click();
    await page.getByText(/Mount job .* started\./).waitFor();
    await nav('Jobs');
    await jobRow('mount', 'COMPLETE').waitFor({ timeout: E2E_TIMEOUT_MS });
    await page.getByRole('button', { name: 'Unmount' }).click({ timeout: E2E_TIMEOUT_MS });
    await jobRow('unmount', 'COMPLETE').waitFor({ timeout: E2E_TIMEOUT_MS });
    await capture('08-jobs-mount-unmount');

    // Protect Now with its own retention.
    await nav('Protected ECS Instances');
    await page.getByRole('button', { name: 'Protect Now' }).click();
    await page.getByLabel('Keep this backup for').fill('3');
    await capture('08b-protect-now');
    await page.getByRole('button', { name: 'Back up now' }).click();
    await page.getByText(/Backup job .* started for/).waitFor();
    await nav('Jobs');
    await expect.poll(() => jobRow('backup', 'COMPLETE').count(), { timeout: E2E_TIMEOUT_MS }).toBe(3);
    await page.getByLabel('Type').selectOption('restore');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => page.locator('tbody tr').count()).toBe(1);
    expect(await page.evaluate(() => (globalThis as { marker?: number }).marker)).toBe(1);
    // Times: shown in the operator's zone (Asia/Shanghai, UTC+8), the UTC instant on hover.
    const created = page.locator('tbody tr time').first();
    const utc = (await created.getAttribute('datetime'))!;
    expect(await created.getAttribute('title')).toBe(`${utc.replace('.000Z', 'Z')} UTC`);
    const wall = new Date(Date.parse(utc) + 8 * 3_600_000).toISOString().slice(11, 19);
    expect(await created.textContent()).toContain(wall);
    // The time filter, in the operator's wall time: nothing after an hour from now, the restore since an hour ago.
    await page.getByLabel('Created from').fill(wallIn(3600));
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('No jobs match.').waitFor();
    await page.getByLabel('Created from').fill(wallIn(-3600));
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => page.locator('tbody tr').count()).toBe(1);

    // Export Records before any export: the empty state in words.
    await nav('Export Records');
    await page.getByText('No exports. Export files from a backup').waitFor();
    await capture('09-export-records');

    // Stop protection: the confirmation says the backups are kept.
    await nav('Protected ECS Instances');
    await page.getByRole('button', { name: 'Stop Protection' }).click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.textContent()).toContain('backups already taken are kept');
    await capture('10-stop-protection-confirm');
    await dialog.getByRole('button', { name: 'Stop Protection' }).click();
    await page.getByText(`Protection of ${instanceId} stopped; its backups are kept.`).waitFor();
    await page.getByText('No instance is protected yet').waitFor();
    const backups = await cloud.api.get<{ items: { status: string }[] }>(`/backups?instanceId=${instanceId}`);
    expect(backups.body.items.filter((b) => b.status === 'AVAILABLE').length).toBeGreaterThanOrEqual(3);

    // Every screen on a phone: nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    for (const label of [
      'Add ECS Instance',
      'Protected ECS Instances',
      'Protection Plans',
      'Jobs',
      'Export Records',
    ]) {
      await nav(label);
      await page.waitForLoadState('networkidle');
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await capture(`11-phone-${label.toLowerCase().replace(/ /g, '-')}`);
    }

    // A token that stops working sends the operator back to sign in.
    await page.evaluate(() => sessionStorage.setItem('ecs-backup.token', 'revoked'));
    await page.getByRole('link', { name: 'Jobs' }).click();
    await page.getByText('The API refused the token. Sign in again.').waitFor();

    expect(browser.problems).toEqual([]);
    expect(browser.urls.filter((u) => u.includes(cloud.apiToken))).toEqual([]);
    expect(Object.keys(scans).length).toBeGreaterThanOrEqual(16);
    expect(Object.entries(scans).filter(([, v]) => v.length > 0)).toEqual([]);
  });

  it('export records: export a backup, watch it complete, browse, download a file and the whole export, cancel, delete', async () => {
    const { page } = browser;
    // An instance of its own whose files the test knows, backed up once through the API.
    const files: Record<string, string> = {
      'etc/hostname': 'console-export\n',
      'var/www/index.html': '<h1>exported from the console</h1>\n',
      'var/www/css/site.css': 'body { margin: 0; }\n'.repeat(50),
    };
    const { instanceId: source } = await addLinuxInstance(cloud, {
      disks: [{ type: 'system', category: 'cloud_essd', sizeGiB: 40, files }],
    });
    const backup = await finished(cloud, (await protect(cloud, source, planBody())).jobId!);
    expect(backup.status, backup.reason ?? '').toBe('COMPLETE');
    const point = await pointOf(cloud, backup);

    await page.setViewportSize({ width: 1280, height: 800 });
    await openConsole(page, cloud.apiUrl, cloud.apiToken, '#/protected');
    await page.locator('tr', { hasText: source }).getByRole('button', { name: 'Backups' }).click();
    await page.getByRole('button', { name: 'Export', exact: true }).click();
    await page.getByLabel('Paths to export, one a line').fill('/var/www\n/etc/hostname');
    await page.locator('form.panel').getByRole('button', { name: 'Export' }).click();
    const started = await page.getByText(/Export \S+ started; see Export Records\./).textContent();
    const id = /Export (\S+) started/.exec(started ?? '')![1]!;

    // The record reaches COMPLETE on screen by itself: the marker proves there was no reload.
    await nav('Export Records');
    await page.evaluate(() => ((globalThis as { marker?: number }).marker = 2));
    const record = page.locator(`tr[data-export="${id}"]`);
    await page
      .locator(`tr[data-export="${id}"][data-status="COMPLETE"]`)
      .waitFor({ timeout: E2E_TIMEOUT_MS });
    expect(await page.evaluate(() => (globalThis as { marker?: number }).marker)).toBe(2);
    expect(await record.textContent()).toContain('3 files');

    // With the keyboard alone: focus Browse, Enter.
    await record.getByRole('button', { name: 'Browse' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'var/' }).click();
    await page.getByRole('button', { name: 'www/' }).click();
    await page.getByRole('button', { name: 'Download /var/www/index.html' }).waitFor();
    await capture('12-export-browse');
    const [one] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download /var/www/index.html' }).click(),
    ]);
    expect(one.suggestedFilename()).toBe('index.html');
    expect(fs.readFileSync((await one.path())!, 'utf8')).toBe(files['var/www/index.html']);

    // The whole export: a tar.gz that unpacks to the tree the disk held.
    const [all] = await Promise.all([
      page.waitForEvent('download'),
      record.getByRole('button', { name: 'Download all' }).click(),
    ]);
    expect(all.suggestedFilename()).toBe(`export-${id}.tar.gz`);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsb-console-export-'));
    try {
      execFileSync('tar', ['-xzf', (await all.path())!, '-C', out]);
      const tree = (fs.readdirSync(out, { recursive: true }) as string[])
        .filter((f) => fs.statSync(path.join(out, f)).isFile())
        .sort();
      expect(tree).toEqual(Object.keys(files).sort());
      for (const [rel, content] of Object.entries(files))
        expect([rel, fs.readFileSync(path.join(out, rel), 'utf8')]).toEqual([rel, content]);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }

    // Cancel: the temporary disk of a second export stays "Creating" until the test lets it finish.
    const disksBefore = (await cloud.emulator.admin.stats()).disks;
    await cloud.emulator.admin.setAsyncOperationMs({ ms: 600_000 });
    try {
      const second = await cloud.api.post<{ export: { id: string } }>(`/backups/${point.id}/exports`, {
        paths: ['/var/www'],
      });
      const running = page.locator(`tr[data-export="${second.body.export.id}"][data-status="RUNNING"]`);
      await running.waitFor({ timeout: E2E_TIMEOUT_MS });
      await capture('13-export-running');
      await running.getByRole('button', { name: 'Cancel' }).click();
      await page.getByText(`Cancel of ${second.body.export.id} requested.`).waitFor();
      await cloud.emulator.admin.setAsyncOperationMs({ ms: 100 });
      await cloud.emulator.admin.completeOperations();
      await page
        .locator(`tr[data-export="${second.body.export.id}"][data-status="CANCELED"]`)
        .waitFor({ timeout: E2E_TIMEOUT_MS });
    } finally {
      await cloud.emulator.admin.setAsyncOperationMs({ ms: 100 });
    }
    await until(
      'the temporary disk deleted',
      async () => (await cloud.emulator.admin.stats()).disks === disksBefore,
    );

    // Delete: the files go, the record stays marked deleted, without Browse or Download.
    await record.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete export' }).click();
    await page.getByText(`Export ${id} deleted.`).waitFor();
    await expect.poll(() => record.locator('td.status').textContent()).toContain('DELETED');
    expect(await record.getByRole('button', { name: 'Browse' }).count()).toBe(0);
    expect(await cloud.deps.objectStore!.list(`exports/${id}/`)).toEqual([]);
    await capture('14-export-deleted');
    // Export Records with rows on a phone: nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await capture('15-phone-export-records');
    await page.setViewportSize({ width: 1280, height: 800 });

    // The backup itself: a new expiry, then deleted; being the instance's only good one, it asks twice.
    await nav('Protected ECS Instances');
    await page.locator('tr', { hasText: source }).getByRole('button', { name: 'Backups' }).click();
    await page.getByRole('button', { name: 'Change expiry' }).click();
    await page.getByLabel('Expires at (ISO 8601 with offset)').fill('2030-01-01T00:00:00Z');
    await page.locator('form.panel').getByRole('button', { name: 'Change expiry' }).click();
    await page.getByText(`Backup ${point.id} now expires at 2030-01-01T00:00:00Z.`).waitFor();
    await page.locator('div.backups').getByRole('button', { name: 'Delete', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Delete backup' }).click();
    await dialog.getByText(`is the only good backup of instance ${source}`).waitFor();
    expect((await cloud.api.get<{ status: string }>(`/backups/${point.id}`)).body.status).toBe('AVAILABLE');
    await capture('17-delete-last-good-backup');
    await dialog.getByRole('button', { name: 'Delete the last good backup' }).click();
    await page.getByText(`Backup ${point.id} is being deleted.`).waitFor();
    await expect
      .poll(async () => (await cloud.api.get<{ status: string }>(`/backups/${point.id}`)).body.status)
      .toMatch(/^DELET/);

    expect(browser.problems).toEqual([]);
    expect(browser.urls.filter((u) => u.includes(cloud.apiToken))).toEqual([]);
    for (const name of [
      '12-export-browse',
      '13-export-running',
      '14-export-deleted',
      '15-phone-export-records',
      '17-delete-last-good-backup',
    ])
      expect([name, scans[name]]).toEqual([name, []]);
  });

  it('a Windows plan: writers by default in the wizard, Cancel of a running job, plan Delete keeps backups', async () => {
    const { page } = browser;
    const { instanceId: win } = await addWindowsInstance(cloud);
    await page.setViewportSize({ width: 1280, height: 800 });
    await openConsole(page, cloud.apiUrl, cloud.apiToken, '#/add');
    await page.evaluate(() => ((globalThis as { marker?: number }).marker = 3));

    // The wizard on a Windows instance: VSS writers instead of the Linux freeze and scripts.
    await page.getByRole('radio', { name: `Choose ${win}` }).check();
    await page.getByText('Application-consistent backup').click();
    const writers = page.getByLabel('Contain writers by default');
    const explained = page.getByTestId('consistency-explained');
    expect(await writers.isChecked()).toBe(true);
    expect(await explained.textContent()).toBe(
      'Application-consistent through VSS, with the default writers (SQL Server and others) included.',
    );
    expect(await page.getByLabel('File system freeze and thaw').count()).toBe(0);
    await capture('18-wizard-windows-writers');
    await writers.uncheck();
    await expect
      .poll(() => explained.textContent())
      .toBe('File-system-consistent through VSS, without application writers.');
    await page.getByLabel('Plan name').fill('win-plan');
    await page.getByRole('button', { name: 'Protect on schedule' }).click();
    await page.getByText(`Protected ${win} with plan win-plan.`).waitFor();
    const made = await cloud.api.get<{ items: { id: string; consistency: unknown }[] }>(
      `/plans?instanceId=${win}`,
    );
    expect(made.body.items.map((p) => p.consistency)).toEqual([
      expect.objectContaining({ applicationConsistent: true, windowsWriters: false }),
    ]);
    const planId = made.body.items[0]!.id;
    // One finished backup, so there is something the plan's deletion must keep.
    const first = await finished(cloud, await backupNow(cloud, win));
    expect(first.status, first.reason ?? '').toBe('COMPLETE');
    const point = await pointOf(cloud, first);

    // Cancel: Run Now while snapshots are slow; the job ends CANCELED on screen, without a reload.
    await cloud.emulator.admin.setSnapshotSpeed({ baseMs: 120_000 });
    try {
      await nav('Protection Plans');
      const planRow = page.locator('tr', { hasText: 'win-plan' });
      await planRow.getByRole('button', { name: 'Run Now' }).click();
      await page.getByText('Plan win-plan is running now.').waitFor();
      await nav('Jobs');
      const running = page.locator(`tr[data-type="backup"][data-status="RUNNING"]`, { hasText: win });
      await running.waitFor({ timeout: E2E_TIMEOUT_MS });
      const jobId = (await running.getAttribute('data-job'))!;
      await capture('19-jobs-running-cancel');
      await running.getByRole('button', { name: 'Cancel' }).click();
      await page.getByText(`Cancel of ${jobId} requested.`).waitFor();
      await page
        .locator(`tr[data-job="${jobId}"][data-status="CANCELED"]`)
        .waitFor({ timeout: E2E_TIMEOUT_MS });
      expect(
        await page.locator(`tr[data-job="${jobId}"]`).getByRole('button', { name: 'Cancel' }).count(),
      ).toBe(0);
      expect(await page.evaluate(() => (globalThis as { marker?: number }).marker)).toBe(3);
      await capture('20-jobs-canceled');
    } finally {
      await cloud.emulator.admin.setSnapshotSpeed({ baseMs: 300 });
    }

    // Delete the plan: the dialog says the backups are kept, and they are.
    await nav('Protection Plans');
    await page.locator('tr', { hasText: 'win-plan' }).getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.textContent()).toContain('The backups it made are kept until they expire.');
    await capture('21-plan-delete-confirm');
    await dialog.getByRole('button', { name: 'Delete plan' }).click();
    await page.getByText('Plan win-plan deleted; its backups are kept.').waitFor();
    await expect.poll(() => page.locator('tr', { hasText: 'win-plan' }).count()).toBe(0);
    expect((await cloud.api.get(`/plans/${planId}`)).status).toBe(404);
    await nav('Protected ECS Instances');
    const protectedRow = page.locator('tr', { hasText: win });
    expect(await protectedRow.locator('td').nth(1).textContent()).toBe('no plan');
    await protectedRow.getByRole('button', { name: 'Backups' }).click();
    const kept = page.locator('div.backups tbody tr', { hasText: point.id });
    await kept.waitFor();
    expect(await kept.textContent()).toContain('AVAILABLE');
    await capture('22-backups-kept-after-plan-delete');

    expect(browser.problems).toEqual([]);
    for (const name of [
      '18-wizard-windows-writers',
      '19-jobs-running-cancel',
      '20-jobs-canceled',
      '21-plan-delete-confirm',
      '22-backups-kept-after-plan-delete',
    ])
      expect([name, scans[name]]).toEqual([name, []]);
  });

  it('every list is paged: the instance list walks Next and Previous, and search narrows the page shown', async () => {
    const { page } = browser;
    // More instances than one page holds (20).
    await cloud.emulator.admin.bulkSeed({ instances: 20, snapshots: 0 });
    await openConsole(page, cloud.apiUrl, cloud.apiToken, '#/add');
    const rows = page.locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(20);
    const firstOf = async () => (await rows.first().locator('strong').textContent())!;
    const first = await firstOf();
    const pager = page.getByRole('navigation', { name: 'instances pages' });
    expect(await pager.getByRole('button', { name: 'Previous page' }).isDisabled()).toBe(true);
    await pager.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(firstOf).not.toBe(first);
    const second = await rows.count();
    expect(second).toBeGreaterThan(0);
    expect(second).toBeLessThanOrEqual(20);
    await capture('16-wizard-second-page');
    await pager.getByRole('button', { name: 'Previous page' }).click();
    await expect.poll(firstOf).toBe(first);
    await page.getByLabel('Search by id, name, zone or OS').fill(first);
    await expect.poll(() => rows.count()).toBe(1);
    await page.getByLabel('Search by id, name, zone or OS').fill('no-such-instance');
    await page.getByText('No instance on this page matches').waitFor();
    expect(scans['16-wizard-second-page']).toEqual([]);
  });
});
