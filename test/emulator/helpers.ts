import EcsDefault, * as EcsModels from '@alicloud/ecs20140526';
import * as $OpenApi from '@alicloud/openapi-client';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DEMO_SEED_PATH,
  percentEncode,
  rpcSignature,
  startEcsEmulator,
  type EcsEmulator,
  type EcsEmulatorOptions,
} from '../../local/ecs-emulator/index.js';

/**
 * Node's ESM loader hands the CommonJS module object to a default import, vitest's interop the
 * class itself: resolve the client class either way. Request models come from the namespace.
 */
type ClientClass = typeof EcsDefault.default;
const EcsClientClass = (typeof EcsDefault === 'function' ? EcsDefault : EcsDefault.default) as ClientClass;
export const Ecs = EcsModels;
export type EcsClient = InstanceType<ClientClass>;

export interface Harness {
  emu: EcsEmulator;
  ecs: EcsClient;
  dataDir: string;
  client(
    overrides?: Partial<{
      accessKeyId: string;
      accessKeySecret: string;
      securityToken: string;
      signatureAlgorithm: string;
    }>,
  ): EcsClient;
  stop(): Promise<void>;
}

/** An emulator on a free port with its own data folder, seeded with the demo inventory. */
export async function startHarness(options: Partial<EcsEmulatorOptions> = {}): Promise<Harness> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ecs-emu-test-'));
  const emu = await startEcsEmulator({
    seed: DEMO_SEED_PATH,
    snapshotBaseMs: 300,
    snapshotSpeedBytesPerSec: 4 * 1024 ** 3,
    asyncOperationMs: 100,
    ...options,
    dataDir,
  });
  const client: Harness['client'] = (overrides = {}) =>
    new EcsClientClass(
      new $OpenApi.Config({
        accessKeyId: emu.accessKeyId,
        accessKeySecret: emu.accessKeySecret,
        endpoint: emu.endpoint,
        protocol: 'http',
        regionId: emu.regionId,
        ...overrides,
      }),
    );
  return {
    emu,
    ecs: client(),
    dataDir,
    client,
    async stop() {
      await emu.close();
      if (!options.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The error the SDK threw, with its ECS code and HTTP status. */
export async function ecsError(
  p: Promise<unknown>,
): Promise<{ code: string; statusCode: number; name: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code: string; statusCode: number; name: string };
    return { code: e.code, statusCode: e.statusCode, name: e.name };
  }
  throw new Error('expected the call to fail');
}

/** Polls until check returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const REGION = 'cn-hangzhou';

/** A v2 RPC URL signed for `method`, as a caller without the SDK (the guest script) would send it. */
export function presignedUrl(
  emu: EcsEmulator,
  action: string,
  params: Record<string, string>,
  options: { method?: string; timestamp?: Date; nonce?: string; secret?: string } = {},
): string {
  const all: Record<string, string> = {
    Action: action,
    Version: '2014-05-26',
    Format: 'JSON',
    AccessKeyId: emu.accessKeyId,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: options.nonce ?? randomUUID(),
    Timestamp: (options.timestamp ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    RegionId: emu.regionId,
    ...params,
  };
  all['Signature'] = rpcSignature(options.method ?? 'GET', all, options.secret ?? emu.accessKeySecret);
  const query = Object.entries(all)
    .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
    .join('&');
  return `${emu.url}/?${query}`;
}
