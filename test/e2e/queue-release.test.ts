import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openEmbeddedQueue } from '../../lib/adapters/embedded-queue/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SETTINGS = { visibilityTimeoutSeconds: 600, maxReceiveCount: 10 };

/** Starts a consumer process that receives one message and holds it; resolves once it holds it. */
async function holder(file: string, name: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(here, 'children', 'queue-holder.ts'), file, name],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('\n')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`holder exited ${code} before holding a message`)));
  });
  expect(out).toMatch(/^held \S+/);
  return child;
}

async function killed(child: ChildProcess): Promise<void> {
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}

describe('embedded queue: messages held by a process that died', { timeout: 60_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsb-lease-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('are visible again as soon as the queue is opened, with their receive count kept', async () => {
    // Prepare: a consumer in another process takes the message, then is killed mid-work.
    const file = path.join(dir, 'killed.sqlite');
    const producer = openEmbeddedQueue(file, 'jobs', SETTINGS);
    await producer.send('job-1');
    await producer.close();
    const child = await holder(file, 'jobs');
    children.push(child);
    const whileAlive = openEmbeddedQueue(file, 'jobs', SETTINGS);
    expect(await whileAlive.receive({ max: 1, waitSeconds: 0 })).toEqual([]);
    await whileAlive.close();
    await killed(child);

    // Act
    const started = Date.now();
    const reopened = openEmbeddedQueue(file, 'jobs', SETTINGS);
    const got = await reopened.receive({ max: 1, waitSeconds: 0 });
    await reopened.close();

    // Assess: far inside the 600 s visibility timeout.
    expect(got.map((m) => [m.body, m.receiveCount])).toEqual([['job-1', 2]]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stay invisible while the process holding them lives', async () => {
    const file = path.join(dir, 'alive.sqlite');
    const producer = openEmbeddedQueue(file, 'jobs', SETTINGS);
    await producer.send('job-2');
    await producer.close();
    const child = await holder(file, 'jobs');
    children.push(child);

    const other = openEmbeddedQueue(file, 'jobs', SETTINGS);
    const got = await other.receive({ max: 1, waitSeconds: 0 });
    await other.close();

    expect(got).toEqual([]);
    await killed(child);
  });

  it('are released when the queue that held them was closed in a process that lives on', async () => {
    const file = path.join(dir, 'closed.sqlite');
    const first = openEmbeddedQueue(file, 'jobs', SETTINGS);
    await first.send('job-3');
    const held = await first.receive({ max: 1, waitSeconds: 0 });
    const stillOpen = openEmbeddedQueue(file, 'jobs', SETTINGS);
    const whileOpen = await stillOpen.receive({ max: 1, waitSeconds: 0 });
    await stillOpen.close();
    await first.close();

    const reopened = openEmbeddedQueue(file, 'jobs', SETTINGS);
    const got = await reopened.receive({ max: 1, waitSeconds: 0 });
    await expect(reopened.delete(held[0]!.receiptHandle)).rejects.toThrow();
    await reopened.close();

    expect(held.map((m) => m.body)).toEqual(['job-3']);
    expect(whileOpen).toEqual([]);
    expect(got.map((m) => m.body)).toEqual(['job-3']);
  });
});
