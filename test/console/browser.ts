import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's chromium (Playwright's own browser download is not used). */
export const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCREENSHOT_DIR = path.join(REPO, 'test-results', 'console');

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Content-Security-Policy reports and page errors seen so far. */
  problems: string[];
  /** Every URL the page requested. */
  urls: string[];
  close(): Promise<void>;
}

/** A fresh profile (its own --user-data-dir) in the operator's zone, at a laptop's size. */
export async function openBrowser(timezoneId: string): Promise<Browser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsb-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ARGS,
    headless: true,
    viewport: { width: 1280, height: 800 },
    timezoneId,
    locale: 'en-GB',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  const urls: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('request', (r) => urls.push(r.url()));
  return {
    context,
    page,
    problems,
    urls,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeFinding {
  id: string;
  impact: string | null;
  help: string;
  nodes: number;
}

/**
 * axe-core's WCAG 2 A/AA rules on the page as it is now. The script goes in through the DevTools
 * protocol, which the page's CSP does not govern, so the CSP under test stays as served.
 */
export async function axeScan(page: Page): Promise<AxeFinding[]> {
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: {
          run(
            ctx: Document,
            o: object,
          ): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: unknown[] }[] }>;
        };
      }
    ).axe;
    const result = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.length,
    }));
  });
}

export function serious(findings: AxeFinding[]): AxeFinding[] {
  return findings.filter((f) => f.impact === 'serious' || f.impact === 'critical');
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Screenshot and axe scan of the screen as it is now; the serious findings go in `scans` by name. */
export async function capture(page: Page, scans: Record<string, string[]>, name: string): Promise<void> {
  await screenshot(page, name);
  scans[name] = serious(await axeScan(page)).map((f) => `${f.id}: ${f.help} (${f.nodes})`);
}

/** Follows a header link and waits for its screen's heading. */
export async function nav(page: Page, label: string): Promise<void> {
  await page.getByRole('link', { name: label }).click();
  await page.getByRole('heading', { level: 1, name: label }).waitFor();
}

/** Opens the console at `hash` (`#/rules`), signing in when the tab has no token yet. */
export async function openConsole(page: Page, apiUrl: string, token: string, hash = ''): Promise<void> {
  await page.goto(`${apiUrl}/console${hash}`);
  const field = page.getByLabel('API token');
  const main = page.getByRole('heading', { level: 1 });
  await field.or(main).first().waitFor();
  if (await field.isVisible()) {
    await field.fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
}
