import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import {
  E2E_TIMEOUT_MS,
  addLinuxInstance,
  finished,
  protect,
  startTestCloud,
  until,
  type TestCloud,
} from './support.js';

interface Received {
  headers: Record<string, string>;
  body: string;
  answered: number;
}

describe('webhooks on the local cloud', { timeout: E2E_TIMEOUT_MS }, () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecsb-notify-'));
  const received: Received[] = [];
  let answer = 503;
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      received.push({ headers, body, answered: answer });
      res.writeHead(answer).end();
    });
  });
  let cloud: TestCloud | undefined;
  const settings = { WEBHOOK_ALLOW_PRIVATE: 'true', NOTIFY_FIRST_RETRY_SECONDS: '1' };

  afterAll(async () => {
    await cloud?.close();
    await new Promise((resolve) => receiver.close(resolve));
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers every event signed, retrying a failing receiver across a restart of the local cloud', async () => {
    // Prepare: a receiver that fails until the cloud has been stopped and started again.
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    cloud = await startTestCloud({ dataDir, timers: false, settings });
    const sub = await cloud.api.post<{ id: string; secret: string }>('/subscriptions', {
      url,
      events: ['job.completed', 'protection.changed'],
    });
    expect(sub.status).toBe(201);

    // Act: protecting without a plan raises protection.changed and runs one backup (job.completed).
    const { instanceId } = await addLinuxInstance(cloud);
    const { jobId } = await protect(cloud, instanceId);
    expect((await finished(cloud, jobId!)).status).toBe('COMPLETE');
    const types = () => new Set(received.map((r) => (JSON.parse(r.body) as { type: string }).type));
    await until('both events to be tried and refused', async () => types().size === 2);
    await cloud.close();
    cloud = undefined;
    answer = 204;
    cloud = await startTestCloud({ dataDir, timers: false, settings });
    const deliveries = async () =>
      (
        await cloud!.api.get<{ items: { status: string; attempts: unknown[] }[] }>(
          `/subscriptions/${sub.body.id}/deliveries`,
        )
      ).body.items;
    await until('both deliveries to succeed', async () => {
      const items = await deliveries();
      return items.length === 2 && items.every((d) => d.status === 'DELIVERED');
    });

    // Assess
    const accepted = received.filter((r) => r.answered === 204);
    expect(new Set(accepted.map((r) => (JSON.parse(r.body) as { type: string }).type))).toEqual(
      new Set(['com.ecs-backup.job.completed', 'com.ecs-backup.protection.changed']),
    );
    for (const r of received) {
      expect(new Webhook(sub.body.secret).verify(r.body, r.headers)).toMatchObject({ specversion: '1.0' });
    }
    for (const d of await deliveries()) expect(d.attempts.length).toBeGreaterThanOrEqual(2);
  });
});
