import MnsClient from '@alicloud/mns';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET } from '../../local/ecs-emulator/index.js';
import { startMnsEmulator, type MnsEmulator } from '../../local/mns-emulator/index.js';
import { ecsSdkClient, tagInstance, untagInstance } from '../support/ecs-sdk.js';
import { E2E_TIMEOUT_MS, finished, planBody, startTestCloud, until, type TestCloud } from './support.js';

/**
 * Tag-based protection and topic notifications on the local cloud, driven by its own timers (the
 * scheduler function reconciles the rules after each tick, every second here): a tag added to a
 * demo instance with the official SDK gets it protected within a tick; removed, the backup stays and
 * the plan stays or goes as the rule says; an MNS topic subscription receives job.completed, read
 * from a queue subscribed to the topic.
 */

const KEEP = 'i-demoweb01';
const REMOVE = 'i-demodb01';

interface ProtectedView {
  planId: string | null;
  ruleId: string | null;
}

describe('protection rules on the local cloud', { timeout: E2E_TIMEOUT_MS }, () => {
  let cloud: TestCloud | undefined;
  let mns: MnsEmulator | undefined;

  afterAll(async () => {
    await cloud?.dispose();
    await mns?.close();
  });

  it('protects a newly tagged instance within a tick, keeps its backup when untagged, and tells a topic', async () => {
    // Prepare: an MNS whose topic feeds a queue the test reads; the local cloud publishes to it.
    mns = await startMnsEmulator({
      accessKeyId: DEFAULT_ACCESS_KEY_ID,
      accessKeySecret: DEFAULT_ACCESS_KEY_SECRET,
    });
    const sdk = new MnsClient(mns.accountId, {
      endpoint: mns.endpoint,
      accessKeyId: DEFAULT_ACCESS_KEY_ID,
      accessKeySecret: DEFAULT_ACCESS_KEY_SECRET,
    });
    await sdk.createTopic('backup-events');
    await sdk.createQueue('backup-events-in');
    await sdk.put(
      '/topics/backup-events/subscriptions/to-queue',
      'Subscription',
      `<?xml version="1.0" encoding="UTF-8"?><Subscription xmlns="http://mns.aliyuncs.com/doc/v1/">` +
        `<Endpoint>acs:mns:cn-hangzhou:${mns.accountId}:queues/backup-events-in</Endpoint>` +
        `<NotifyContentFormat>SIMPLIFIED</NotifyContentFormat></Subscription>`,
    );
    cloud = await startTestCloud({ settings: { MNS_ENDPOINT: mns.endpoint } });
    const api = cloud.api;
    const sub = await api.post<{ id: string }>('/subscriptions', {
      mnsTopic: 'backup-events',
      events: ['job.completed', 'protection.changed'],
    });
    expect(sub.status).toBe(201);
    const rule = (name: string, priority: number, value: string, onUnmatch: string) =>
      api.post<{ id: string }>('/protection-rules', {
        name,
        priority,
        match: { tags: { backup: value } },
        plan: planBody(),
        onUnmatch,
      });
    const keepRule = await rule('e2e-keep', 10, 'keep-me', 'keep');
    const removeRule = await rule('e2e-remove', 20, 'drop-me', 'remove');
    expect([keepRule.status, removeRule.status]).toEqual([201, 201]);

    // Act 1: tag two demo instances as an operator would.
    const ecs = ecsSdkClient(cloud.emulator);
    await tagInstance(ecs, cloud.emulator, KEEP, { backup: 'keep-me' });
    await tagInstance(ecs, cloud.emulator, REMOVE, { backup: 'drop-me' });
    const protectedBy = async (id: string) => {
      const r = await api.get<ProtectedView>(`/protected-instances/${id}`);
      return r.status === 200 ? r.body : null;
    };
    const keptView = await until('the tagged instance to be protected by its rule', async () => {
      const v = await protectedBy(KEEP);
      return v?.ruleId === keepRule.body.id && v.planId !== null ? v : null;
    });
    const droppedView = await until('the other one too', async () => {
      const v = await protectedBy(REMOVE);
      return v?.ruleId === removeRule.body.id && v.planId !== null ? v : null;
    });

    // A backup of each through its rule's plan.
    const run = async (planId: string) => (await api.post<{ id: string }>(`/plans/${planId}/run`)).body.id;
    const jobs = [await run(keptView.planId as string), await run(droppedView.planId as string)];
    for (const jobId of jobs) expect((await finished(cloud, jobId)).status).toBe('COMPLETE');

    // Act 2: the tags go.
    await untagInstance(ecs, cloud.emulator, KEEP, ['backup']);
    await untagInstance(ecs, cloud.emulator, REMOVE, ['backup']);
    await until(
      'the keep rule to let go of its instance',
      async () => (await protectedBy(KEEP))?.ruleId === null,
    );
    await until(
      'the remove rule to unprotect its instance',
      async () => (await protectedBy(REMOVE)) === null,
    );

    // Assess: plans kept or removed as each rule says; every backup stays.
    expect((await api.get(`/plans/${keptView.planId}`)).status).toBe(200);
    expect((await api.get(`/plans/${droppedView.planId}`)).status).toBe(404);
    for (const id of [KEEP, REMOVE]) {
      const backups = await api.get<{ items: { status: string }[] }>(`/backups?instanceId=${id}`);
      expect(backups.body.items.map((b) => b.status)).toEqual(['AVAILABLE']);
    }
    // The topic got job.completed for both backups, and the protection changes, as CloudEvents.
    const events: { type: string; data: Record<string, unknown> }[] = [];
    await until('the topic to deliver both job.completed events', async () => {
      try {
        const got = await sdk.receiveMessage('backup-events-in', 1);
        await sdk.deleteMessage('backup-events-in', got.body.ReceiptHandle ?? '');
        events.push(JSON.parse(Buffer.from(got.body.MessageBody, 'base64').toString('utf8')));
      } catch (err) {
        if ((err as Error).name !== 'MNSMessageNotExistError') throw err;
      }
      return events.filter((e) => e.type === 'com.ecs-backup.job.completed').length === 2;
    });
    const completed = events
      .filter((e) => e.type === 'com.ecs-backup.job.completed')
      .map((e) => e.data.jobId);
    expect(completed.sort()).toEqual([...jobs].sort());
    const deliveries = await api.get<{ items: { status: string; eventType: string }[] }>(
      `/subscriptions/${sub.body.id}/deliveries`,
    );
    expect(deliveries.body.items.filter((d) => d.eventType === 'job.completed').map((d) => d.status)).toEqual(
      ['DELIVERED', 'DELIVERED'],
    );
  });
});
