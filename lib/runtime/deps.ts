import type { Settings } from '../config.js';
import type { Job } from '../domain/model.js';
import type { Clock, IdSource } from '../ports/clock.js';
import type { Ecs } from '../ports/ecs.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { Queue } from '../ports/queue.js';
import type { Store } from '../ports/store.js';

/**
 * Everything a use case may touch. Each function module builds one at cold start and passes it
 * down as an argument; the local cloud and tests build their own. There is no global locator.
 */
export interface Deps {
  store: Store;
  jobQueue: Queue;
  deadLetterQueue: Queue;
  ecs: Ecs;
  clock: Clock;
  ids: IdSource;
  objectStore?: ObjectStore;
  settings: Settings;
  log: Logger;
  /** Test seams; absent in production. */
  hooks?: EngineHooks;
}

export interface EngineHooks {
  /** Called after each job step is persisted; throwing here stands for the worker dying at that boundary. */
  afterJobStep?(job: Job): void | Promise<void>;
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}
