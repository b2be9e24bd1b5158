import type { Plan, ProtectedInstance } from '../../domain/model.js';
import type { EcsDisk, EcsInstance } from '../../ports/ecs.js';
import type { Page, PageRequest } from '../../ports/store.js';
import type { Deps } from '../deps.js';
import type { Outcome } from './outcome.js';
import { invalid, notFound, ok } from './outcome.js';

export interface ProtectedInstanceView {
  protectedInstance: ProtectedInstance;
  plan: Plan | null;
}

export async function listProtectedInstances(
  deps: Pick<Deps, 'store'>,
  page: PageRequest,
): Promise<Page<ProtectedInstanceView>> {
  const listed = await deps.store.instances.list(page);
  const planIds = listed.items.flatMap((i) => (i.planId === null ? [] : [i.planId]));
  const plans = new Map((await deps.store.plans.getMany(planIds)).map((p) => [p.id, p]));
  const items = listed.items.map((protectedInstance) => ({
    protectedInstance,
    plan: protectedInstance.planId === null ? null : (plans.get(protectedInstance.planId) ?? null),
  }));
  return listed.cursor === undefined ? { items } : { items, cursor: listed.cursor };
}

export async function getProtectedInstance(
  deps: Pick<Deps, 'store'>,
  instanceId: string,
): Promise<Outcome<ProtectedInstanceView>> {
  const protectedInstance = await deps.store.instances.get(instanceId);
  if (protectedInstance === undefined) return notFound('protected instance', instanceId);
  const plan =
    protectedInstance.planId === null
      ? null
      : ((await deps.store.plans.get(protectedInstance.planId)) ?? null);
  return ok({ protectedInstance, plan });
}

export interface InstanceOverview {
  instance: EcsInstance;
  disks: EcsDisk[];
  /** Cloud Assistant answers on the instance; null when ECS did not say. */
  cloudAssistant: boolean | null;
  protection: ProtectedInstanceView | null;
}

export interface InstanceListRequest {
  limit: number;
  cursor?: string;
  /** true = only protected instances, false = only unprotected ones. */
  protected?: boolean;
}

/** Instances described at once per page; disks need one call per instance, so pages stay small. */
const DISK_CALLS_IN_FLIGHT = 8;

/**
 * ECS instances of the region with their disks, agent status and protection. ECS gives no creation
 * time through the port, so the order is by instance id and the cursor is the last id returned.
 */
export async function listInstances(
  deps: Pick<Deps, 'ecs' | 'store'>,
  request: InstanceListRequest,
): Promise<Outcome<Page<InstanceOverview>>> {
  let after: string | undefined;
  if (request.cursor !== undefined) {
    after = decodeInstanceCursor(request.cursor);
    if (after === undefined)
      return invalid([{ path: 'query.cursor', message: 'not a cursor returned by this list' }]);
  }
  const all = (await deps.ecs.describeInstances()).sort((a, b) =>
    a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0,
  );
  const protections = new Map(
    (await deps.store.instances.getMany(all.map((i) => i.instanceId))).map((p) => [p.instanceId, p]),
  );
  const candidates = all.filter(
    (i) =>
      (after === undefined || i.instanceId > after) &&
      (request.protected === undefined || protections.has(i.instanceId) === request.protected),
  );
  const pageItems = candidates.slice(0, request.limit);
  const ids = pageItems.map((i) => i.instanceId);
  const planIds = ids.flatMap((id) => {
    const planId = protections.get(id)?.planId;
    return planId === undefined || planId === null ? [] : [planId];
  });
  const [plans, agents, disks] = await Promise.all([
    deps.store.plans.getMany(planIds),
    ids.length === 0 ? Promise.resolve({}) : deps.ecs.cloudAssistantStatus(ids),
    mapLimited(ids, DISK_CALLS_IN_FLIGHT, (id) => deps.ecs.describeInstanceDisks(id)),
  ]);
  const planById = new Map(plans.map((p) => [p.id, p]));
  const items = pageItems.map((instance, i): InstanceOverview => {
    const protectedInstance = protections.get(instance.instanceId);
    const agent = (agents as Record<string, boolean>)[instance.instanceId];
    return {
      instance,
      disks: disks[i] ?? [],
      cloudAssistant: agent === undefined ? null : agent,
      protection:
        protectedInstance === undefined
          ? null
          : {
              protectedInstance,
              plan:
                protectedInstance.planId === null ? null : (planById.get(protectedInstance.planId) ?? null),
            },
    };
  });
  const last = pageItems[pageItems.length - 1];
  return ok(
    candidates.length > pageItems.length && last !== undefined
      ? { items, cursor: encodeInstanceCursor(last.instanceId) }
      : { items },
  );
}

function encodeInstanceCursor(instanceId: string): string {
  return Buffer.from(JSON.stringify({ a: instanceId }), 'utf8').toString('base64url');
}

function decodeInstanceCursor(cursor: string): string | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (parsed !== null && typeof parsed === 'object' && typeof (parsed as { a?: unknown }).a === 'string') {
      return (parsed as { a: string }).a;
    }
  } catch {
    // Falls through: any undecodable cursor is refused the same way.
  }
  return undefined;
}

async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next;
      next += 1;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}
