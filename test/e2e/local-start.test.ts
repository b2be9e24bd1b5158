import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { QUEUE_FILE, SQLITE_FILE } from '../../lib/runtime/build-deps.js';
import { E2E_TIMEOUT_MS } from './support.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Runs `npm start`'s entry point until its banner is out, then stops it with SIGTERM. */
async function startOnce(
  dataDir: string,
  extraEnv: Record<string, string> = {},
  whileUp: () => void = () => undefined,
): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'local/main.ts')], {
    cwd: root,
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: process.env['HOME'] ?? '/root',
      DATA_DIR: dataDir,
      PORT: '0',
      ECS_EMULATOR_PORT: '0',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const deadline = Date.now() + 60_000;
  while (!out.includes('Ctrl-C stops')) {
    if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) throw new Error(`no banner within 60 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    whileUp();
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
  return out;
}

const mode = (p: string): string => (fs.statSync(p).mode & 0o777).toString(8);

describe('npm start', { timeout: E2E_TIMEOUT_MS }, () => {
  const dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ecsb-start-')), 'data');
  afterAll(() => fs.rmSync(path.dirname(dataDir), { recursive: true, force: true }));

  it('prints the generated token in full once, then only a shortened form; curl reads the file', async () => {
    const first = await startOnce(dataDir);
    const token = fs.readFileSync(path.join(dataDir, 'api-token'), 'utf8').trim();
    const second = await startOnce(dataDir);

    expect(first.split(token).length - 1).toBe(1);
    expect(second).not.toContain(token);
    expect(second).toContain(`${token.slice(0, 4)}…${token.slice(-2)}`);
    for (const out of [first, second])
      expect(out).toContain(`Bearer $(cat ${path.join(dataDir, 'api-token')})`);
  });

  it('never prints a token given in API_TOKEN', async () => {
    const token = 'configured-token-0123456789abcdef';
    const out = await startOnce(dataDir, { API_TOKEN: token });

    expect(out).not.toContain(token);
    expect(out).toContain('Bearer $API_TOKEN');
  });

  it('keeps the data folder 0700 and its databases 0600, tightening an older folder', async () => {
    // Prepare: a folder and database left world-readable by an older version.
    fs.chmodSync(dataDir, 0o755);
    fs.chmodSync(path.join(dataDir, SQLITE_FILE), 0o644);

    await startOnce(dataDir);

    expect(mode(dataDir)).toBe('700');
    for (const db of [SQLITE_FILE, QUEUE_FILE]) {
      const file = path.join(dataDir, db);
      expect(mode(file)).toBe('600');
      // SQLite gives its side files the database's mode; those present must not be readable by others.
      for (const side of [`${file}-wal`, `${file}-shm`])
        if (fs.existsSync(side)) expect(mode(side)).toBe('600');
    }
    expect(mode(path.join(dataDir, 'api-token'))).toBe('600');
  });
});
