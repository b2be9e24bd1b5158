import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  E2E_TIMEOUT_MS,
  backupNow,
  finished,
  isoIn,
  planBody,
  pointOf,
  protect,
  startTestCloud,
  type TestCloud,
} from '../e2e/support.js';
import { capture as captureScreen, nav as goTo, openBrowser, type Browser } from './browser.js';

/**
 * The console screens for the features issues #13 and #14 added to the API: a locked backup, a
 * clone-instance restore, protection rules with their preview, and notification subscriptions.
 */
const HOOK = 'https://93.184.216.34/ecs-backup';

describe('the console catches up with the API', { timeout: 3 * E2E_TIMEOUT_MS }, () => {
  let cloud: TestCloud;
  let browser: Browser;
  let locked: string;
  let tagged: string;
  const scans: Record<string, string[]> = {};

  beforeAll(async () => {
    cloud = await startTestCloud();
    const disks = [{ type: 'system' as const, category: 'cloud_essd' }];
    ({ instanceId: locked } = await cloud.emulator.admin.addInstance({
      osType: 'linux',
      status: 'Running',
      disks,
    }));
    ({ instanceId: tagged } = await cloud.emulator.admin.addInstance({
      osType: 'linux',
      status: 'Running',
      tags: { tier: 'web' },
      disks,
    }));
    // A plan that does not run during the test: the backups come from backupNow alone.
    await protect(
      cloud,
      locked,
      planBody({ schedule: { startAt: isoIn(86_400), every: { value: 1, unit: 'days' } } }),
    );
    const job = await finished(cloud, await backupNow(cloud, locked, { lock: { mode: 'compliance' } }));
    expect(job.status, job.reason ?? '').toBe('COMPLETE');
    expect((await pointOf(cloud, job)).lock?.mode).toBe('compliance');
    browser = await openBrowser('UTC');
  });
  afterAll(async () => {
    await browser?.close();
    await cloud?.dispose();
  });

  const capture = (name: string) => captureScreen(browser.page, scans, name);
  const nav = (label: string) => goTo(browser.page, label);

  it('shows the lock, keeps delete disabled with the reason, and starts a clone-instance restore', async () => {
    const { page } = browser;
    await page.goto(`${cloud.apiUrl}/console`);
    await page.getByLabel('API token').fill(cloud.apiToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await nav('Protected ECS Instances');
    await page.getByRole('button', { name: 'Backups' }).click();
    const point = (await cloud.api.get<{ items: { id: string }[] }>(`/backups?instanceId=${locked}`)).body
      .items[0]!.id;
    const row = page.locator('tr', { has: page.getByText(point, { exact: true }) });
    await expect.poll(() => row.getByTestId(`lock-${point}`).textContent()).toContain('Locked (compliance)');
    const del = row.getByRole('button', { name: 'Delete' });
    expect(await del.isDisabled()).toBe(true);
    expect(await row.getByTestId(`locked-reason-${point}`).textContent()).toMatch(
      /Locked \(compliance\) until .*no one can delete it/,
    );
    // The reason is the button's description, so a screen reader says it too.
    expect(await del.getAttribute('aria-describedby')).toBe(`locked-${point}`);
    expect(await row.getByText('Never verified').count()).toBe(1);
    await capture('30-backups-locked');

    await row.getByRole('button', { name: 'Restore' }).click();
    await page.getByLabel('Restore mode').selectOption('clone-instance');
    expect(await page.getByLabel('Disk').count()).toBe(0);
    await page.getByLabel('Instance name').fill('1bad');
    await page.locator('form.panel').getByRole('button', { name: 'Restore' }).click();
    await page.locator('#clone-instanceName-error').waitFor();
    expect(await page.getByLabel('Instance name').getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('Instance name').fill('web-clone');
    await capture('31-restore-clone-instance');
    await page.locator('form.panel').getByRole('button', { name: 'Restore' }).click();
    const started = await page.getByText(/Restore job .* started\./).textContent();
    const jobId = /Restore job (\S+) started/.exec(started ?? '')![1]!;
    const job = await cloud.api.get<{ type: string; instanceId: string }>(`/jobs/${jobId}`);
    expect(job.body).toMatchObject({ type: 'clone', instanceId: locked });
  });

  it('sets copies, lock and verify in the plan form, with the API field errors at their fields', async () => {
    const { page } = browser;
    await nav('Protection Plans');
    await page.getByRole('button', { name: 'Modify' }).click();
    await page.getByRole('button', { name: 'Add a copy region' }).click();
    await page.locator('#modify-copy-0-region').fill('Shanghai');
    await page.getByRole('button', { name: 'Save plan' }).click();
    await page.locator('#modify-copy-0-region-error').waitFor();
    expect(await page.locator('#modify-copy-0-region-error').textContent()).toContain('region id');
    expect(await page.locator('#modify-copy-0-region').getAttribute('aria-invalid')).toBe('true');
    await capture('32-plan-copies-field-error');
    await page.getByRole('button', { name: 'Remove region 1' }).click();
    await page.getByLabel('Lock each backup until it expires').selectOption('governance');
    await page.getByLabel('Restore-test one backup in N (empty: never)').fill('3');
    await page.getByRole('button', { name: 'Save plan' }).click();
    await page.getByText(/Plan .* changed\./).waitFor();
    const plans = await cloud.api.get<{ items: unknown[] }>(`/plans?instanceId=${locked}`);
    expect(plans.body.items).toMatchObject([
      { lock: { mode: 'governance' }, verify: { every: 3 }, copies: [] },
    ]);
  });

  it('creates a protection rule and shows its preview, then deletes it', async () => {
    const { page } = browser;
    await nav('Protection Rules');
    await page.getByText('No protection rule yet.').waitFor();
    await page.getByRole('button', { name: 'Create rule' }).click();
    await page.getByLabel('Rule name').fill('web-rule');
    await page.getByLabel('Tags to match, key=value a line').fill('tier=web');
    await page.getByRole('button', { name: 'Save rule' }).click();
    await page.getByText('Rule web-rule created.').waitFor();
    await page.getByRole('button', { name: 'Preview web-rule' }).click();
    const preview = page.getByRole('region', { name: 'Rule preview' });
    await preview.getByRole('cell', { name: tagged }).waitFor();
    expect(await preview.getByRole('cell', { name: locked }).count()).toBe(0);
    await capture('33-rules-preview');
    const rules = await cloud.api.get<{ items: { name: string; match: unknown }[] }>('/protection-rules');
    expect(rules.body.items).toMatchObject([{ name: 'web-rule', match: { tags: { tier: 'web' } } }]);

    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Delete rule' }).click();
    await page.getByText('Rule web-rule is being deleted.').waitFor();
  });

  it('creates a subscription and shows its secret once', async () => {
    const { page } = browser;
    await nav('Notifications');
    await page.getByRole('button', { name: 'Create subscription' }).click();
    await page.getByLabel('Webhook URL').fill('https://127.0.0.1:9/hook');
    await page.getByRole('button', { name: 'Subscribe' }).click();
    await page.locator('#sub-target-error').waitFor();
    expect(await page.locator('#sub-target-error').textContent()).toMatch(/loopback/);
    // A public address literal: it resolves without DNS, so the check passes offline too.
    await page.getByLabel('Webhook URL').fill(HOOK);
    // Events no job of this test raises, so the delivery list stays empty.
    await page.getByLabel('job.failed').uncheck();
    await page.getByLabel('backup.lock-drift').check();
    await page.getByLabel('backup.expired').check();
    await page.getByRole('button', { name: 'Subscribe' }).click();
    const secret = await page.getByTestId('secret').locator('code').textContent();
    expect(secret).toMatch(/^whsec_/);
    await capture('34-notifications-secret');
    const subs = await cloud.api.get<{ items: { events: string[] }[] }>('/subscriptions');
    expect(subs.body.items).toMatchObject([{ url: HOOK, events: ['backup.lock-drift', 'backup.expired'] }]);
    // Shown once: away and back, the list is there and the secret is not.
    await nav('Jobs');
    await nav('Notifications');
    await page.getByRole('cell', { name: HOOK }).waitFor();
    expect(await page.getByTestId('secret').count()).toBe(0);
    expect(await page.getByText(secret!).count()).toBe(0);
    await page.getByRole('button', { name: 'Deliveries' }).click();
    await page.getByText('Nothing delivered yet.').waitFor();
    await capture('35-notifications-deliveries');
  });

  it('has no serious accessibility findings on the new screens', () => {
    expect(Object.keys(scans)).toHaveLength(6);
    expect(scans).toEqual(Object.fromEntries(Object.keys(scans).map((k) => [k, []])));
  });
});
