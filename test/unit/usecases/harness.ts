import { openEmbeddedQueue } from '../../../lib/adapters/embedded-queue/index.js';
import { openSqliteStore } from '../../../lib/adapters/sqlite/index.js';
import { loadSettings } from '../../../lib/config.js';
import { isTerminal, newJob } from '../../../lib/domain/job.js';
import type { BackupJobParams, ConsistencyOptions, Job } from '../../../lib/domain/model.js';
import type { Ecs } from '../../../lib/ports/ecs.js';
import type { Queue } from '../../../lib/ports/queue.js';
import type { Deps } from '../../../lib/usecases/deps.js';
import { silentLogger } from '../../../lib/runtime/logger.js';
import {
  handleJobMessage,
  retryJobMessageLater,
  type JobMessageOutcome,
} from '../../../lib/usecases/jobs/handle-job-message.js';
import { enqueueJob } from '../../../lib/usecases/enqueue-job.js';
import { JOB_KINDS } from '../../../lib/usecases/job-kinds.js';
import { ManualClock, SequentialIds } from '../../support/clock.js';
import { FakeEcs } from './fake-ecs.js';

export const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);

export interface Harness<E extends Ecs = FakeEcs> {
  deps: Deps;
  ecs: E;
  clock: ManualClock;
  queue: Queue;
  dlq: Queue;
  outcomes: JobMessageOutcome[];
  /**
   * Kills the worker process here: throws, and from now on every store, queue and ECS call of the
   * delivery in progress fails without effect, as nothing runs in a dead process. Its message is
   * neither deleted nor sent again: the queue delivers it again (receive count + 1), as it does
   * when a new process releases a dead one's messages.
   */
  kill(why: string): never;
  /** Kills that happened (each revived before the next delivery). */
  kills: number;
  /** Delivers messages (advancing the clock to the next delayed one) until `done` or the budget ends. */
  drain(options?: {
    until?: () => Promise<boolean>;
    maxSteps?: number;
    deliverTwice?: boolean;
    /** Real time to let pass whenever nothing is visible (an emulator advancing on its own). */
    idleRealMs?: number;
  }): Promise<void>;
  close(): Promise<void>;
}

export function harness(settings: Record<string, string> = {}): Harness {
  return engineHarness(new FakeEcs(), settings);
}

/** The worker loop over an in-memory store and queue, with the given ECS (the fake, or the adapter on the emulator). */
export function engineHarness<E extends Ecs>(ecs: E, settings: Record<string, string> = {}): Harness<E> {
  const clock = new ManualClock(T0);
  const store = openSqliteStore(':memory:', { clock, synchronous: 'NORMAL' });
  const resolved = loadSettings({ DATA_DIR: '/nonexistent', MAX_RECEIVE_COUNT: '3', ...settings });
  const queueFile = ':memory:';
  const queue = openEmbeddedQueue(
    queueFile,
    'jobs',
    { visibilityTimeoutSeconds: 30, maxReceiveCount: 10 },
    clock,
  );
  const dlq = openEmbeddedQueue(
    queueFile,
    'dlq',
    { visibilityTimeoutSeconds: 30, maxReceiveCount: 1000 },
    clock,
  );
  let dead = false;
  const living = <T extends object>(target: T): T => whileAlive(target, () => dead);
  const deps: Deps = {
    store: living(store),
    jobQueue: living(queue),
    deadLetterQueue: living(dlq),
    ecs: living(ecs),
    clock,
    ids: new SequentialIds(),
    settings: resolved,
    log: silentLogger,
  };
  const outcomes: JobMessageOutcome[] = [];
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const h: Harness<E> = {
    deps,
    ecs,
    clock,
    queue,
    dlq,
    outcomes,
    kills: 0,
    kill(why) {
      dead = true;
      h.kills += 1;
      throw new Error(`worker process killed: ${why}`);
    },
    async drain(options = {}) {
      const maxSteps = options.maxSteps ?? 2000;
      let idleSeconds = 0;
      for (let step = 0; step < maxSteps; step += 1) {
        if (options.until && (await options.until())) return;
        const messages = await queue.receive({ max: 16 });
        if (messages.length === 0) {
          // Nothing visible: move time on to the next delayed message, or stop when none comes.
          if (!options.until && idleSeconds > 120) return;
          clock.advance(1000);
          idleSeconds += 1;
          if (options.idleRealMs) await sleep(options.idleRealMs);
          continue;
        }
        idleSeconds = 0;
        for (const m of messages) {
          const deliveries = options.deliverTwice ? 2 : 1;
          let killed = false;
          for (let d = 0; d < deliveries && !killed; d += 1) {
            try {
              outcomes.push(await handleJobMessage(deps, JOB_KINDS, m.body, m.receiveCount));
            } catch {
              if (!dead) await retryJobMessageLater(deps, m.body, m.receiveCount);
            }
            killed = dead;
          }
          if (killed) {
            // A new process starts: the dead one's message comes back as it was.
            dead = false;
            await queue.changeVisibility(m.receiptHandle, 1);
            continue;
          }
          await queue.delete(m.receiptHandle).catch(() => undefined);
        }
      }
      if (options.until) throw new Error('drain: condition not reached');
    },
    async close() {
      await queue.close();
      await dlq.close();
      await store.close();
    },
  };
  return h;
}

export const crashConsistency: ConsistencyOptions = {
  applicationConsistent: false,
  fsFreeze: true,
  windowsWriters: true,
  timeoutSeconds: 30,
  onPreScriptFailure: 'continue',
  onAgentUnavailable: 'continue',
};

export function backupParams(overrides: Partial<BackupJobParams> = {}): BackupJobParams {
  return {
    disks: 'all',
    retention: { value: 7, unit: 'days' },
    longTerm: [],
    consistency: crashConsistency,
    timeZone: 'UTC',
    keepLatest: true,
    trigger: 'manual',
    ...overrides,
  };
}

let counter = 0;

/** A manual backup job, stored and announced as the API would. */
export async function startBackup(
  h: Pick<Harness<Ecs>, 'deps' | 'clock'>,
  instanceId: string,
  params: Partial<BackupJobParams> = {},
  fields: { id?: string; planId?: string; scheduledAt?: number } = {},
): Promise<Job> {
  counter += 1;
  const job = newJob(
    {
      id: fields.id ?? `job-test${counter}`,
      type: 'backup',
      instanceId,
      planId: fields.planId ?? null,
      scheduledAt: fields.scheduledAt ?? null,
      params: backupParams(params) as unknown as Record<string, unknown>,
    },
    h.clock.now(),
  );
  return (await enqueueJob(h.deps, job)).job;
}

export async function jobOf(h: Pick<Harness<Ecs>, 'deps'>, id: string): Promise<Job> {
  const job = await h.deps.store.jobs.get(id);
  if (!job) throw new Error(`no job ${id}`);
  return job;
}

/** Runs the engine until job `id` has ended, whichever way, and answers the job as it ended. */
export async function finished(h: Pick<Harness<Ecs>, 'deps' | 'drain'>, id: string): Promise<Job> {
  await h.drain({ until: async () => isTerminal((await jobOf(h, id)).status) });
  return jobOf(h, id);
}

/**
 * `target` with every method (nested objects included) refusing to run once `isDead()`: what a
 * killed process's in-flight code can still "do" after the kill is nothing.
 */
function whileAlive<T extends object>(target: T, isDead: () => boolean): T {
  const wrapped = new WeakMap<object, unknown>();
  const wrap = <O extends object>(obj: O): O => {
    const known = wrapped.get(obj);
    if (known) return known as O;
    const proxy = new Proxy(obj, {
      get(t, prop) {
        const value: unknown = Reflect.get(t, prop, t);
        if (typeof value === 'function') {
          return (...args: unknown[]) => {
            if (isDead()) throw new Error('the worker process is dead');
            return (value as (...a: unknown[]) => unknown).apply(t, args);
          };
        }
        if (value !== null && typeof value === 'object' && !(value instanceof Date)) return wrap(value);
        return value;
      },
    });
    wrapped.set(obj, proxy);
    return proxy;
  };
  return wrap(target);
}
