import type { Settings } from '../config.js';
import type { Job } from '../domain/model.js';
import type { Clock, IdSource } from '../ports/clock.js';
import type { Ecs } from '../ports/ecs.js';
import type { Notifier } from '../ports/notifier.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { Queue } from '../ports/queue.js';
import type { Store } from '../ports/store.js';
import type { TopicPublisher } from '../ports/topic-publisher.js';

/** Everything a use case may touch, passed as a plain argument. Each entry point builds one. */
export interface Deps {
  store: Store;
  jobQueue: Queue;
  deadLetterQueue: Queue;
  ecs: Ecs;
  clock: Clock;
  ids: IdSource;
  objectStore?: ObjectStore;
  /** Sends webhooks; absent where notifications are not delivered (the API, tests that do not need it). */
  notifier?: Notifier;
  /** Publishes to MNS topics; absent where no MNS endpoint is configured. */
  topics?: TopicPublisher;
  settings: Settings;
  log: Logger;
  /** Test seams; absent in production. */
  hooks?: EngineHooks;
}

/**
 * Points where a test makes the worker "die": throwing from a hook stands for the process ending
 * there, before anything after it runs. The job engine calls them; nothing else does.
 */
export interface EngineHooks {
  /** After each write of a job record. */
  afterJobStep?(job: Job): void | Promise<void>;
  /** After each ECS call a job step makes has answered, before the step saves what it learned. */
  afterEcsCall?(job: Job, method: string): void | Promise<void>;
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}
