import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP, consoleResponse, loadConsoleFiles, type ConsoleFiles } from '../../lib/api/console.js';
import { buildConsole, type BuiltConsole } from '../../infra/console.js';
import { zipFolder } from '../../infra/deploy/package.js';

describe('the console files as the API function serves them', () => {
  let dir: string;
  let built: BuiltConsole;
  let files: ConsoleFiles;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsb-console-'));
    built = await buildConsole(path.join(dir, 'console'));
    files = loadConsoleFiles(built.dir)!;
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('builds content-hashed assets and a page with no inline script or style', () => {
    expect(built.assets).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^assets\/main-[A-Z0-9]{8}\.js$/),
        expect.stringMatching(/^assets\/main-[A-Z0-9]{8}\.css$/),
      ]),
    );
    expect(files.index).toContain(`src="/console/${built.assets.find((a) => a.endsWith('.js'))}"`);
    expect(files.index).not.toMatch(/<script>|<style|style=|\son[a-z]+=/);
    expect(built.jsGzipBytes).toBeLessThanOrEqual(150 * 1024);
  });

  it('answers the page uncached under the CSP, and assets cached for a year', () => {
    const page = consoleResponse(files, 'GET', '/console')!;
    expect(page.statusCode).toBe(200);
    expect(page.headers).toMatchObject({
      'cache-control': 'no-cache',
      'content-security-policy': CONSOLE_CSP,
      'content-type': 'text/html; charset=utf-8',
    });
    expect(consoleResponse(files, 'GET', '/console/jobs')!.body).toBe(files.index);
    const js = built.assets.find((a) => a.endsWith('.js'))!;
    const asset = consoleResponse(files, 'GET', `/console/${js}`)!;
    expect(asset.headers?.['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.body).toBe(files.assets.get(js));
  });

  it('refuses what it does not serve, and leaves the API alone', () => {
    expect(consoleResponse(files, 'GET', '/console/assets/main-NOPE.js')!.statusCode).toBe(404);
    expect(consoleResponse(files, 'POST', '/console')!.statusCode).toBe(405);
    expect(consoleResponse(null, 'GET', '/console')!.statusCode).toBe(503);
    expect(consoleResponse(files, 'GET', '/api/v1/jobs')).toBeNull();
    expect(consoleResponse(files, 'GET', '/consoles')).toBeNull();
    expect(loadConsoleFiles(path.join(dir, 'missing'))).toBeNull();
  });

  it('goes into the API code package with its folders', () => {
    const zip = zipFolder(dir).toString('latin1');
    expect(zip).toContain('console/index.html');
    for (const asset of built.assets) expect(zip).toContain(`console/${asset}`);
  });
});
