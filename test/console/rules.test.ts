import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileProtectionRules } from '../../lib/usecases/protection-rules/reconcile.js';
import { E2E_TIMEOUT_MS, planBody, startTestCloud, type TestCloud } from '../e2e/support.js';
import { capture as captureScreen, nav as goTo, openBrowser, openConsole, type Browser } from './browser.js';

/**
 * Protection rules from the console on the local cloud, reconciled when the test says (as the
 * scheduler does after each tick), so what the screen shows between two is certain: create (the API's field errors at their fields, then the preview), edit (only the changed
 * fields sent, the preview of the take-over it causes), and delete (the confirmation says what
 * happens to the instances, and it does happen).
 */

interface ProtectedView {
  planId: string | null;
  ruleId: string | null;
  plan: { retention: unknown } | null;
}
interface RuleView {
  id: string;
  match: unknown;
  onUnmatch: string;
  revision: number;
  plan: { retention: unknown; keepLatest: boolean };
}

describe('protection rules in the console', { timeout: 3 * E2E_TIMEOUT_MS }, () => {
  let cloud: TestCloud;
  let browser: Browser;
  let web: string;
  let db: string;
  let dbRule: string;
  const scans: Record<string, string[]> = {};

  beforeAll(async () => {
    cloud = await startTestCloud({ timers: false });
    const disks = [{ type: 'system' as const, category: 'cloud_essd' }];
    const add = (tags: Record<string, string>) =>
      cloud.emulator.admin.addInstance({ osType: 'linux', status: 'Running', tags, disks });
    ({ instanceId: web } = await add({ tier: 'web', role: 'app' }));
    ({ instanceId: db } = await add({ tier: 'db', role: 'app' }));
    // A rule made elsewhere (the API) holding the db instance at a lower priority.
    const made = await cloud.api.post<{ id: string }>('/protection-rules', {
      name: 'db-rule',
      priority: 40,
      match: { tags: { tier: 'db' } },
      plan: planBody(),
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    dbRule = made.body.id;
    browser = await openBrowser('UTC');
  });
  afterAll(async () => {
    await browser?.close();
    await cloud?.dispose();
  });

  const capture = (name: string) => captureScreen(browser.page, scans, name);
  const nav = (label: string) => goTo(browser.page, label);
  /** What the scheduler does after a tick. */
  const reconcile = () => reconcileProtectionRules(cloud.deps);
  const protectedBy = async (id: string) => {
    const r = await cloud.api.get<ProtectedView>(`/protected-instances/${id}`);
    return r.status === 200 ? r.body : null;
  };
  const ruleNamed = async (name: string) =>
    (await cloud.api.get<{ items: (RuleView & { name: string })[] }>('/protection-rules')).body.items.find(
      (r) => r.name === name,
    );
  // Focus moves in an effect after the form renders: read it until it lands.
  const focusedId = () => browser.page.evaluate(() => document.activeElement?.id ?? '');
  const previewRow = (instanceId: string) =>
    browser.page.getByRole('region', { name: 'Rule preview' }).locator('tr', { hasText: instanceId });

  it('creates a rule: every field error at its field, then the preview of what it will protect', async () => {
    const { page } = browser;
    await openConsole(page, cloud.apiUrl, cloud.apiToken, '#/rules');
    await page.locator('tr[data-rule="db-rule"]').waitFor();

    await page.getByRole('button', { name: 'Create rule' }).click();
    await expect.poll(focusedId).toBe('rule-name');
    await page.getByLabel('Rule name').fill('1bad');
    await page.getByLabel('Priority (the larger wins)').fill('40');
    await page.getByLabel('Tags to match, key=value a line').fill('aliyun-x=1');
    await page.getByLabel('Zones (empty: every zone)').fill('cn-hangzhou-h, nowhere');
    await page.locator('#rule-plan-retention').fill('0');
    await page.getByRole('button', { name: 'Save rule' }).click();
    const errorOf = (id: string) => page.locator(`#${id}-error`);
    await errorOf('rule-name').waitFor();
    expect(await errorOf('rule-name').textContent()).toContain('must start with a letter');
    expect(await errorOf('rule-tags').textContent()).toContain('aliyun-x');
    expect(await errorOf('rule-zones').textContent()).toBe(
      'nowhere: must be an ECS zone id like cn-hangzhou-h',
    );
    expect(await errorOf('rule-plan-retention').textContent()).toContain('at least 1');
    for (const id of ['rule-name', 'rule-tags', 'rule-zones', 'rule-plan-retention'])
      expect([id, await page.locator(`#${id}`).getAttribute('aria-invalid')]).toEqual([id, 'true']);
    // The rule's name error is not the plan name's, and the keyboard is left on the first bad field.
    expect(await errorOf('rule-plan-name').count()).toBe(0);
    await expect.poll(focusedId).toBe('rule-name');
    await capture('40-rule-form-field-errors');

    // The priority is checked once the body is valid: it names the rule that holds it.
    await page.getByLabel('Rule name').fill('web-rule');
    await page.getByLabel('Tags to match, key=value a line').fill('tier=web');
    await page.getByLabel('Zones (empty: every zone)').fill('');
    await page.locator('#rule-plan-retention').fill('7');
    await page.getByRole('button', { name: 'Save rule' }).click();
    await expect.poll(() => errorOf('rule-priority').textContent()).toContain(`${dbRule} (db-rule)`);
    expect(await errorOf('rule-name').count()).toBe(0);
    await page.getByLabel('Priority (the larger wins)').fill('50');
    await page.getByRole('button', { name: 'Save rule' }).click();
    await page.getByText('Rule web-rule created.').waitFor();
    await previewRow(web).waitFor();
    expect(await previewRow(web).getAttribute('data-preview')).toBe('protect');
    expect(await previewRow(db).count()).toBe(0);
    await capture('41-rule-created-preview');
    expect(await ruleNamed('web-rule')).toMatchObject({
      match: { tags: { tier: 'web' } },
      onUnmatch: 'keep',
      revision: 1,
      plan: { retention: { value: 7, unit: 'days' } },
    });
    await reconcile();
    expect((await protectedBy(web))?.ruleId).toBe((await ruleNamed('web-rule'))!.id);
    expect((await protectedBy(db))?.ruleId).toBe(dbRule);
  });

  it('edits a rule with the keyboard: the form opens filled, and the preview shows the take-over', async () => {
    const { page } = browser;
    const webRule = (await ruleNamed('web-rule'))!;
    await page.locator('tr[data-rule="web-rule"]').getByRole('button', { name: 'Edit web-rule' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('form', { name: 'Edit rule web-rule' }).waitFor();
    await expect.poll(focusedId).toBe('rule-name');
    expect(await page.getByLabel('Rule name').inputValue()).toBe('web-rule');
    expect(await page.getByLabel('Tags to match, key=value a line').inputValue()).toBe('tier=web');
    expect(await page.locator('#rule-plan-retention').inputValue()).toBe('7');
    // Escape closes the form and gives the keyboard back to the button that opened it.
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('form', { name: 'Edit rule web-rule' }).count()).toBe(0);
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Edit web-rule');
    await page.keyboard.press('Enter');
    await page.getByRole('form', { name: 'Edit rule web-rule' }).waitFor();
    // Nothing changed: nothing sent, the revision stays.
    await page.getByRole('button', { name: 'Save rule' }).click();
    await page.getByText('Rule web-rule unchanged.').waitFor();
    expect((await ruleNamed('web-rule'))!.revision).toBe(1);

    await page.getByRole('button', { name: 'Edit web-rule' }).click();
    await page.getByLabel('Tags to match, key=value a line').fill('role=app');
    await page.getByLabel('When an instance stops matching').selectOption('remove');
    await page.locator('#rule-plan-retention').fill('14');
    await capture('42-rule-edit');
    await page.getByRole('button', { name: 'Save rule' }).click();
    await page.getByText('Rule web-rule changed; it applies at the next reconciliation.').waitFor();
    // The higher rule now matches the db instance too: it would take it over from db-rule.
    await previewRow(db).waitFor();
    expect(await previewRow(db).getAttribute('data-preview')).toBe('take-over');
    expect(await previewRow(db).textContent()).toContain(dbRule);
    await capture('43-rule-edited-preview');
    const changed = (await ruleNamed('web-rule'))!;
    expect(changed).toMatchObject({
      id: webRule.id,
      match: { tags: { role: 'app' } },
      onUnmatch: 'remove',
      revision: 2,
      plan: { retention: { value: 14, unit: 'days' }, keepLatest: true },
    });
    await reconcile();
    expect((await protectedBy(db))?.ruleId).toBe(webRule.id);
    expect((await protectedBy(web))?.plan?.retention).toEqual({ value: 14, unit: 'days' });
  });

  it('deletes a rule: the confirmation says what happens to its instances and backups, and it does', async () => {
    const { page } = browser;
    const webRule = (await ruleNamed('web-rule'))!;
    // The list shows the last reconciliation: both instances protected by web-rule.
    await nav('Jobs');
    await nav('Protection Rules');
    await expect.poll(() => page.locator('tr[data-rule="web-rule"] td').nth(3).textContent()).toBe('2 / 2');
    const row = page.locator('tr[data-rule="web-rule"]');
    await row.getByRole('button', { name: 'Delete web-rule' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete rule web-rule?' });
    const said = (await dialog.textContent())!;
    expect(said).toContain('lets go of the 2 instances it protects');
    expect(said).toContain('An instance no other rule matches keeps its plan and goes on being backed up');
    expect(said).toContain('“remove its plan” applies only to instances that stop matching while it lives');
    expect(said).toContain('taken over by that rule');
    expect(said).toContain('No backup is deleted');
    await capture('44-rule-delete-confirm');
    // Escape cancels: nothing is deleted.
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.count()).toBe(0);
    expect((await cloud.api.get<{ state: string }>(`/protection-rules/${webRule.id}`)).body.state).toBe(
      'ACTIVE',
    );

    await row.getByRole('button', { name: 'Delete web-rule' }).click();
    await dialog.getByRole('button', { name: 'Delete rule' }).click();
    await page.getByText('Rule web-rule is being deleted.').waitFor();
    // Until the next reconciliation it is DELETING, and can be neither edited nor deleted again.
    // The message comes before the quiet reload of the list: wait for the row to follow.
    await expect
      .poll(() => row.locator('td').first().textContent())
      .toContain('DELETING: its instances are released at the next reconciliation');
    expect(await row.getByRole('button', { name: 'Edit web-rule' }).isDisabled()).toBe(true);
    expect(await row.getByRole('button', { name: 'Delete web-rule' }).isDisabled()).toBe(true);
    await capture('45-rule-deleting');
    const planOfWeb = (await protectedBy(web))!.planId;
    await reconcile();
    // As said: web keeps its plan (now by hand) despite "remove"; db goes back to db-rule.
    expect(await protectedBy(web)).toMatchObject({ ruleId: null, planId: planOfWeb });
    expect((await protectedBy(db))?.ruleId).toBe(dbRule);
    // Then it is gone: the reconciliation after the one that let go of its last instance removes it.
    await reconcile();
    expect((await cloud.api.get(`/protection-rules/${webRule.id}`)).status).toBe(404);
    await nav('Jobs');
    await nav('Protection Rules');
    await page.locator('tr[data-rule="db-rule"]').waitFor();
    expect(await page.locator('tr[data-rule="web-rule"]').count()).toBe(0);

    // On a phone: the list and the open form fit the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'Create rule' }).click();
    await page.getByRole('form', { name: 'Create rule' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await capture('46-phone-rule-form');
    await page.setViewportSize({ width: 1280, height: 800 });

    expect(browser.problems).toEqual([]);
    expect(Object.keys(scans)).toHaveLength(7);
    expect(scans).toEqual(Object.fromEntries(Object.keys(scans).map((k) => [k, []])));
  });
});
