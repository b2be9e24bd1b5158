import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { provisionQueues, type QueueDefinition } from '../../../infra/queues.js';
import { openEmbeddedQueue } from '../../../lib/adapters/embedded-queue/index.js';
import { createMnsQueue } from '../../../lib/adapters/mns/index.js';
import type { QueueSettings } from '../../../lib/ports/queue.js';
import { startMnsEmulator, type MnsEmulator } from '../../../local/mns-emulator/index.js';
import type { QueueFixture } from '../queue.contract.js';

export const TEST_KEY = { accessKeyId: 'test-key-id', accessKeySecret: 'test-key-secret' };

/** Every queue in one temporary SQLite file, as the local runtime keeps them. */
export async function embeddedQueueFixture(): Promise<QueueFixture & { file: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ecsb-queue-'));
  const file = path.join(dir, 'queue.db');
  return {
    file,
    open: async (name, settings) => openEmbeddedQueue(file, name, settings),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * A test queue as infra/queues.ts would provision it. PollingWaitSeconds is deliberately not 0,
 * so a receive that forgets to say `waitseconds=0` would block and fail the suite.
 */
export function definitionFor(name: string, settings: QueueSettings): QueueDefinition {
  return {
    name,
    visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
    maximumMessageSize: 65_536,
    pollingWaitSeconds: 10,
    messageRetentionSeconds: 604_800,
    ...(settings.deadLetterQueue !== undefined
      ? { deadLetter: { queue: settings.deadLetterQueue, maxReceiveCount: settings.maxReceiveCount } }
      : {}),
  };
}

/** The official SDK against the emulator; queues provisioned through infra/queues.ts. */
export async function mnsQueueFixture(): Promise<QueueFixture & { emulator: MnsEmulator }> {
  const emulator = await startMnsEmulator(TEST_KEY);
  const connection = { endpoint: emulator.endpoint, ...TEST_KEY };
  return {
    emulator,
    open: async (name, settings) => {
      await provisionQueues({ ...connection, dryRun: false, queues: [definitionFor(name, settings)] });
      return createMnsQueue({ ...connection, name, settings });
    },
    dispose: () => emulator.close(),
  };
}
