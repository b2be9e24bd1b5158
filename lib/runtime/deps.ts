/**
 * Everything a use case may touch is one typed argument (`Deps`, defined beside the use cases). Each
 * function module builds one at cold start and passes it down; the local cloud and tests build their
 * own. There is no global locator.
 */
export type { Deps, EngineHooks, Logger } from '../usecases/deps.js';
