import MnsClient from '@alicloud/mns';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  controlEndpointFor,
  JOBS_DEAD_LETTER_QUEUE,
  JOBS_QUEUE,
  provisionQueues,
  QUEUES,
  queueSettings,
} from '../../infra/queues.js';
import { createMnsQueue } from '../../lib/adapters/mns/index.js';
import { startMnsEmulator, type MnsEmulator } from '../../local/mns-emulator/index.js';
import { TEST_KEY } from './support/queue-fixtures.js';

describe('infra/queues.ts', () => {
  let emulator: MnsEmulator;
  let sdk: MnsClient;
  const options = (dryRun: boolean) => ({ endpoint: emulator.endpoint, ...TEST_KEY, dryRun });

  beforeEach(async () => {
    emulator = await startMnsEmulator(TEST_KEY);
    sdk = new MnsClient(emulator.accountId, { endpoint: emulator.endpoint, ...TEST_KEY });
  });
  afterEach(() => emulator.close());

  it('defines the jobs queue and its dead-letter queue once, for both adapters', () => {
    expect(QUEUES.map((q) => q.name)).toEqual([JOBS_DEAD_LETTER_QUEUE, JOBS_QUEUE]);
    expect(queueSettings(JOBS_QUEUE)).toEqual({
      visibilityTimeoutSeconds: 300,
      maxReceiveCount: 5,
      deadLetterQueue: JOBS_DEAD_LETTER_QUEUE,
    });
    expect(queueSettings(JOBS_DEAD_LETTER_QUEUE).deadLetterQueue).toBeUndefined();
    expect(() => queueSettings('nope')).toThrow(/not defined/);
  });

  it('finds the OpenAPI endpoint of a region from the MNS endpoint', () => {
    expect(controlEndpointFor('https://1234.mns.cn-hangzhou.aliyuncs.com')).toBe(
      'https://mns-open.cn-hangzhou.aliyuncs.com',
    );
    expect(controlEndpointFor('http://1234.mns.ap-southeast-1-internal.aliyuncs.com')).toBe(
      'https://mns-open.ap-southeast-1.aliyuncs.com',
    );
    expect(controlEndpointFor('http://1234.mns.cn-beijing-internal-vpc.aliyuncs.com')).toBe(
      'https://mns-open.cn-beijing.aliyuncs.com',
    );
    expect(controlEndpointFor('http://127.0.0.1:9999/')).toBe('http://127.0.0.1:9999');
  });

  it('prints the plan on a dry run and touches nothing', async () => {
    const lines = await provisionQueues({ ...options(true), endpoint: 'http://127.0.0.1:1' });
    expect(lines).toEqual([
      expect.stringMatching(/^would create or update queue ecs-backup-jobs-dlq \(.*VisibilityTimeout=60/),
      expect.stringMatching(
        /^would create or update queue ecs-backup-jobs \(.*MaximumMessageSize=65536.*VisibilityTimeout=300 PollingWaitSeconds=10\)$/,
      ),
      expect.stringMatching(
        /^would set dead-letter policy on ecs-backup-jobs: after 5 receives -> ecs-backup-jobs-dlq/,
      ),
    ]);
    await provisionQueues(options(true));
    expect((await sdk.listQueue(undefined, 1000, '')).body ?? []).toEqual([]);
  });

  it('creates the queues with their attributes and dead-letter policy, and is safe to run again', async () => {
    const first = await provisionQueues(options(false));
    expect(first).toEqual([
      expect.stringMatching(/^created queue ecs-backup-jobs-dlq/),
      expect.stringMatching(/^created queue ecs-backup-jobs /),
      expect.stringMatching(
        /^set dead-letter policy on ecs-backup-jobs: after 5 receives -> ecs-backup-jobs-dlq/,
      ),
    ]);
    const { body } = await sdk.getQueueAttributes(JOBS_QUEUE);
    expect(body).toMatchObject({
      VisibilityTimeout: '300',
      MaximumMessageSize: '65536',
      PollingWaitSeconds: '10',
      MessageRetentionPeriod: '604800',
    });
    const again = await provisionQueues(options(false));
    expect(again[0]).toMatch(/^queue ecs-backup-jobs-dlq already exists with these attributes/);
    expect(again[1]).toMatch(/^queue ecs-backup-jobs already exists with these attributes/);

    // A queue whose attributes drifted is brought back.
    await sdk.setQueueAttributes(JOBS_QUEUE, { VisibilityTimeout: 10 });
    const fixed = await provisionQueues(options(false));
    expect(fixed[1]).toMatch(/^updated queue ecs-backup-jobs /);
    expect((await sdk.getQueueAttributes(JOBS_QUEUE)).body.VisibilityTimeout).toBe('300');
  });

  it('provisions queues the MNS adapter can use straight away', async () => {
    await provisionQueues(options(false));
    const jobs = createMnsQueue({ ...options(false), name: JOBS_QUEUE, settings: queueSettings(JOBS_QUEUE) });
    await jobs.send('{"v":1,"jobId":"job-1"}');
    const [m] = await jobs.receive({ waitSeconds: 20 });
    expect(m?.body).toBe('{"v":1,"jobId":"job-1"}');
    await jobs.delete(m!.receiptHandle);
    await jobs.close();
  });

  it('fails loudly when the endpoint refuses the credentials', async () => {
    await expect(provisionQueues({ ...options(false), accessKeySecret: 'wrong' })).rejects.toMatchObject({
      name: 'MNSSignatureDoesNotMatchError',
    });
  });
});
