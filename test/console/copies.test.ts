import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../lib/domain/model.js';
import type { CloneState } from '../../lib/usecases/clone/state.js';
import { addLinuxInstance, E2E_TIMEOUT_MS, startTestCloud, type TestCloud } from '../e2e/support.js';
import { capture as captureScreen, nav as goTo, openBrowser, openConsole, type Browser } from './browser.js';

/**
 * A copy, a lock and a restore test from the console with real data on the local cloud (the
 * emulator serves cn-hangzhou and cn-shanghai, each with its own inventory): the wizard makes a plan
 * that copies to cn-shanghai, locks and verifies every backup, and backs up now; the backups list
 * follows the copy and the verification without a reload; then a disk and a whole instance are
 * cloned from the copy through the restore form's region select, and land in cn-shanghai.
 */

const SH = 'cn-shanghai';
const TARGET = 'i-shconsole0001';
/** The emulator's vSwitch of zone cn-shanghai-b and its one security group. */
const SH_VSWITCH = 'vsw-bemulator00000000';
const SECURITY_GROUP = 'sg-emulator000000000001';

interface BackupView {
  id: string;
  snapshots: { diskId: string }[];
  copies: { regionId: string; status: string; snapshotIds: string[] }[];
  verification: { status: string } | null;
  lock: { mode: string } | null;
}

describe('copies, lock and verification in the console', { timeout: 3 * E2E_TIMEOUT_MS }, () => {
  let cloud: TestCloud;
  let browser: Browser;
  let instanceId: string;
  let dataDisk: string;
  let point: BackupView;
  const scans: Record<string, string[]> = {};

  beforeAll(async () => {
    cloud = await startTestCloud();
    ({
      instanceId,
      diskIds: [, dataDisk = ''],
    } = await addLinuxInstance(cloud));
    await cloud.emulator.admin.writeFile({ diskId: dataDisk, path: 'srv/orders.csv', content: 'id\n7\n' });
    await cloud.emulator.admin.inRegion(SH).addInstance({
      instanceId: TARGET,
      disks: [{ diskId: 'd-shconsole0001', type: 'system', category: 'cloud_essd' }],
    });
    browser = await openBrowser('UTC');
  });
  afterAll(async () => {
    await browser?.close();
    await cloud?.dispose();
  });

  const capture = (name: string) => captureScreen(browser.page, scans, name);
  const nav = (label: string) => goTo(browser.page, label);
  const jobRow = (type: string, status: string) =>
    browser.page.locator(`tr[data-type="${type}"][data-status="${status}"]`);
  /** The instance's backups on Protected ECS Instances (the button toggles them, so only if closed). */
  const openBackups = async () => {
    await nav('Protected ECS Instances');
    const button = browser.page
      .locator('tr', { hasText: instanceId })
      .getByRole('button', { name: 'Backups' });
    if ((await button.getAttribute('aria-expanded')) !== 'true') await button.click();
  };
  /** Reads the job id from the restore form's message, and waits on Jobs for it to complete. */
  const restoreDone = async (): Promise<Job> => {
    const said = await browser.page.getByText(/Restore job \S+ started\./).textContent();
    const id = /Restore job (\S+) started/.exec(said ?? '')![1]!;
    await nav('Jobs');
    await browser.page
      .locator(`tr[data-job="${id}"][data-status="COMPLETE"]`)
      .waitFor({ timeout: E2E_TIMEOUT_MS });
    return (await cloud.api.get<Job>(`/jobs/${id}`)).body;
  };

  it('makes the plan in the wizard and shows the copy, the verdict and the lock as they arrive', async () => {
    const { page } = browser;
    await openConsole(page, cloud.apiUrl, cloud.apiToken, '#/add');
    await page.getByRole('radio', { name: `Choose ${instanceId}` }).check();
    await page.getByLabel('Plan name').fill('copied-plan');
    await page.getByLabel('On Schedule').uncheck();
    await page.getByRole('button', { name: 'Add a copy region' }).click();
    await page.getByLabel('Region 1', { exact: true }).fill(SH);
    await page.getByLabel('Keep the copy in region 1 for').fill('30');
    await page.getByLabel('Lock each backup until it expires').selectOption('governance');
    await page.getByLabel('Restore-test one backup in N (empty: never)').fill('1');
    await capture('50-wizard-copy-lock-verify');
    // The restore test's disks stay "Creating" until the test lets them finish: the verdict then
    // arrives while the list is open.
    await cloud.emulator.admin.setAsyncOperationMs({ ms: 600_000 });
    await page.getByRole('button', { name: 'Protect and back up now' }).click();
    await page.getByText(new RegExp(`Protected ${instanceId}; backup job \\S+ started\\.`)).waitFor();
    const plans = await cloud.api.get<{ items: unknown[] }>(`/plans?instanceId=${instanceId}`);
    expect(plans.body.items).toMatchObject([
      {
        name: 'copied-plan',
        schedule: null,
        copies: [{ regionId: SH, retention: { value: 30, unit: 'days' } }],
        lock: { mode: 'governance' },
        verify: { every: 1 },
      },
    ]);

    // The backup on Jobs, then its backups list: the copy and the verification arrive while it is open.
    await nav('Jobs');
    await jobRow('backup', 'COMPLETE').waitFor({ timeout: E2E_TIMEOUT_MS });
    await page.evaluate(() => ((globalThis as { marker?: number }).marker = 5));
    await openBackups();
    point = (await cloud.api.get<{ items: BackupView[] }>(`/backups?instanceId=${instanceId}`)).body
      .items[0]!;
    const row = page.locator(`tr[data-backup="${point.id}"]`);
    const copies = row.getByRole('list', { name: `Copies of ${point.id}` });
    await expect
      .poll(() => copies.textContent(), { timeout: E2E_TIMEOUT_MS })
      .toMatch(/^cn-shanghai: available, expires/);
    expect(await row.getByText('Never verified').count()).toBe(1);
    await cloud.emulator.admin.setAsyncOperationMs({ ms: 100 });
    await cloud.emulator.admin.completeOperations();
    const verdict = row.getByTestId(`verification-${point.id}`);
    await expect.poll(() => verdict.count(), { timeout: E2E_TIMEOUT_MS }).toBe(1);
    expect(await verdict.textContent()).toMatch(/^Verification passed/);
    expect(await verdict.textContent()).toContain('2 disks checked clean');
    expect(await row.getByTestId(`lock-${point.id}`).textContent()).toMatch(/^Locked \(governance\) until /);
    expect(await row.getByTestId(`locked-reason-${point.id}`).textContent()).toContain('break-glass');
    expect(await row.getByRole('button', { name: 'Delete' }).isDisabled()).toBe(true);
    expect(await page.evaluate(() => (globalThis as { marker?: number }).marker)).toBe(5);
    await capture('51-backups-copy-verified-locked');
    // What the screen says is what the API holds.
    point = (await cloud.api.get<BackupView>(`/backups/${point.id}`)).body;
    expect(point).toMatchObject({
      copies: [{ regionId: SH, status: 'available' }],
      verification: { status: 'passed' },
      lock: { mode: 'governance' },
    });
  });

  it('clones a disk from the copy onto an instance in cn-shanghai through the region select', async () => {
    const { page } = browser;
    await openBackups();
    await page.locator(`tr[data-backup="${point.id}"]`).getByRole('button', { name: 'Restore' }).click();
    await page.getByLabel('Restore mode').selectOption('clone-disk');
    const from = page.getByLabel('Clone from');
    expect(await from.locator('option').allTextContents()).toEqual([
      'This region (the backup itself)',
      'The copy in cn-shanghai',
    ]);
    await from.selectOption(SH);
    await page.getByLabel('Disk').selectOption(dataDisk);
    await page.getByLabel('Target instance').fill(TARGET);
    await page.locator('form.panel').getByRole('button', { name: 'Restore' }).click();
    const job = await restoreDone();
    const diskId = (job.state as { diskId: string }).diskId;
    const [disk] = await cloud.deps.ecs.forRegion(SH).describeDisks([diskId]);
    expect(disk).toMatchObject({ instanceId: TARGET });
    const copied = point.copies[0]!.snapshotIds[point.snapshots.findIndex((s) => s.diskId === dataDisk)];
    expect(disk!.sourceSnapshotId).toBe(copied);
    const files = await cloud.emulator.admin.inRegion(SH).listFiles({ diskId });
    expect(files.map((f) => f.path)).toContain('srv/orders.csv');
  });

  it('clones the whole instance from the copy: the other region’s network asked for at its fields', async () => {
    const { page } = browser;
    await openBackups();
    await page.locator(`tr[data-backup="${point.id}"]`).getByRole('button', { name: 'Restore' }).click();
    await page.getByLabel('Restore mode').selectOption('clone-instance');
    await page.getByLabel('Clone from').selectOption(SH);
    await page.getByText('In another region, give its vSwitch and security groups.').waitFor();
    await page.getByLabel('Instance name').fill('orders-sh');
    await page.locator('form.panel').getByRole('button', { name: 'Restore' }).click();
    await page.locator('#clone-vSwitchId-error').waitFor();
    expect(await page.locator('#clone-securityGroupIds-error').count()).toBe(1);
    expect(await page.getByLabel('vSwitch').getAttribute('aria-invalid')).toBe('true');
    await capture('52-clone-from-copy-field-errors');
    await page.getByLabel('vSwitch').fill(SH_VSWITCH);
    await page.getByLabel('Security groups (comma separated)').fill(SECURITY_GROUP);
    await page.locator('form.panel').getByRole('button', { name: 'Restore' }).click();
    const job = await restoreDone();
    const { newInstanceId } = job.state as CloneState;
    const sh = cloud.deps.ecs.forRegion(SH);
    expect(await sh.describeInstanceAttribute(newInstanceId!)).toMatchObject({
      instanceName: 'orders-sh',
      zoneId: `${SH}-b`,
    });
    expect(await cloud.deps.ecs.describeInstances([newInstanceId!])).toEqual([]);
    const disks = await sh.describeInstanceDisks(newInstanceId!);
    expect(disks.map((d) => d.sourceSnapshotId).sort()).toEqual([...point.copies[0]!.snapshotIds].sort());

    expect(browser.problems).toEqual([]);
    expect(Object.keys(scans)).toHaveLength(3);
    expect(scans).toEqual(Object.fromEntries(Object.keys(scans).map((k) => [k, []])));
  });
});
