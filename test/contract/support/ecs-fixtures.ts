import * as EcsModels from '@alicloud/ecs20140526';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { createEcsAdapter, type EcsAdapterOptions } from '../../../lib/adapters/ecs/index.js';
import { EcsError, type Ecs } from '../../../lib/ports/ecs.js';
import {
  startEcsEmulator,
  type EcsEmulator,
  type EcsEmulatorOptions,
} from '../../../local/ecs-emulator/index.js';
import { ecsSdkClient, type EcsSdkClient } from '../../support/ecs-sdk.js';

export interface EmulatorFixture {
  emu: EcsEmulator;
  /** Stops the emulator and removes its data directory. */
  close(): Promise<void>;
}

/** An ECS emulator on a data directory of its own, named `<prefix>…` under /var/tmp. */
export async function startEmulatorIn(
  prefix: string,
  options: Omit<EcsEmulatorOptions, 'dataDir'> = {},
): Promise<EmulatorFixture> {
  const dataDir = await mkdtemp(path.join('/var/tmp', prefix));
  const emu = await startEcsEmulator({ ...options, dataDir }).catch(async (err: unknown) => {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  });
  return {
    emu,
    close: async () => {
      await emu.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The ECS adapter (official SDK) on `emu`, its client-side rate limit out of the way. */
export function adapterFor(emu: EcsEmulator, overrides: Partial<EcsAdapterOptions> = {}): Ecs {
  return createEcsAdapter({
    endpoint: emu.endpoint,
    protocol: 'http',
    regionId: emu.regionId,
    credentials: { accessKeyId: emu.accessKeyId, accessKeySecret: emu.accessKeySecret },
    defaultRatePerSecond: 1000,
    ...overrides,
  });
}

/** The EcsError `p` fails with; succeeding, or failing with anything else, fails the test. */
export async function caught(p: Promise<unknown>): Promise<EcsError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(EcsError);
    return err as EcsError;
  }
  throw new Error('expected an EcsError');
}

/** Reads until `done` holds for what was read, for `ms` at most; answers the last read. */
export async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`condition not met in ${ms} ms: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const sorted = (ids: string[]): string[] => [...ids].sort();

export interface TagFleet extends EmulatorFixture {
  sdk: EcsSdkClient;
  adapter(): Ecs;
}

/**
 * An emulator serving zones h and i of cn-hangzhou for fleets seeded by tag, with the official SDK
 * on it and `adapter()` for an adapter with a fresh cache each time.
 */
export async function startTagFleet(prefix: string): Promise<TagFleet> {
  const fixture = await startEmulatorIn(prefix, { seed: { zones: ['cn-hangzhou-h', 'cn-hangzhou-i'] } });
  return {
    ...fixture,
    sdk: ecsSdkClient(fixture.emu),
    adapter: () => adapterFor(fixture.emu, { defaultRatePerSecond: 100_000, burst: 1000 }),
  };
}

/** `count` instances in `zoneId`, each with one disk and carrying `tags`; answers their ids. */
export async function seedTagged(
  emu: EcsEmulator,
  count: number,
  zoneId: string,
  tags: Record<string, string>,
): Promise<string[]> {
  const seeded = await emu.admin.bulkSeed({
    instances: count,
    snapshots: 0,
    disksPerInstance: 1,
    zoneId,
    tags,
  });
  return seeded.instanceIds;
}

/**
 * Every page the official SDK's DescribeInstances answers for the instances tagged `key=value`,
 * 100 at most a page, following NextToken to the last one.
 */
export async function describePagesByTag(
  fleet: TagFleet,
  tag: { key: string; value: string },
): Promise<{ ids: string[]; totalCount: number | undefined }[]> {
  const pages: { ids: string[]; totalCount: number | undefined }[] = [];
  let nextToken: string | undefined;
  do {
    const res = await fleet.sdk.describeInstances(
      new EcsModels.DescribeInstancesRequest({
        regionId: fleet.emu.regionId,
        tag: [new EcsModels.DescribeInstancesRequestTag(tag)],
        maxResults: 100,
        ...(nextToken === undefined ? {} : { nextToken }),
      }),
    );
    const ids = (res.body?.instances?.instance ?? []).map((i) => i.instanceId ?? '');
    pages.push({ ids, totalCount: res.body?.totalCount });
    nextToken = res.body?.nextToken || undefined;
  } while (nextToken !== undefined);
  return pages;
}
