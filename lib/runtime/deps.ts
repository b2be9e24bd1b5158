import type { Deps } from '../usecases/deps.js';

export type { Deps, EngineHooks, Logger } from '../usecases/deps.js';

let current: Deps | undefined;
let factory: (() => Promise<Deps>) | undefined;

/** The local cloud and tests install their dependencies here; FC cold start installs a factory. */
export function setDeps(deps: Deps | undefined): void {
  current = deps;
}

export function setDepsFactory(build: () => Promise<Deps>): void {
  factory = build;
}

export async function getDeps(): Promise<Deps> {
  if (current) return current;
  if (!factory) throw new Error('dependencies are not configured: call setDeps() or setDepsFactory() first');
  current = await factory();
  return current;
}
