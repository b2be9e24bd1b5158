import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { imageActions } from './actions-images.js';
import { diskResetActions } from './actions-disk-reset.js';
import { diskActions } from './actions-disks.js';
import { instanceActions } from './actions-instances.js';
import { launchActions } from './actions-launch.js';
import { copyActions } from './actions-copy.js';
import { snapshotCreateActions } from './actions-snapshot-create.js';
import { snapshotDeleteActions } from './actions-snapshot-delete.js';
import { snapshotDescribeActions } from './actions-snapshot-describe.js';
import { zoneActions } from './actions-zones.js';
import { tagActions } from './actions-tags.js';
import { tagFilterCapActions } from './actions-tag-filter-cap.js';
import { createAdmin } from './admin.js';
import { createAdminHandler } from './admin-route.js';
import { createApiHandler } from './api-request.js';
import { Assistant } from './assistant.js';
import { Authenticator } from './auth.js';
import type { Handler } from './context.js';
import { Faults } from './faults.js';
import { networkActions } from './network.js';
import { TreeStore } from './files.js';
import { send } from './http-io.js';
import { Persistence } from './persist.js';
import { DEFAULT_REGIONS, Regions } from './regions.js';
import { applySeed, loadSeed } from './seed.js';
import { EcsState, type Settings } from './state.js';
import type { CallRecord, EcsEmulator, EcsEmulatorOptions, EmulatorAdmin } from './types.js';

export { API_VERSION } from './api-request.js';
export const DEFAULT_ACCESS_KEY_ID = 'LTAI5tEcsEmulatorDevKey';
export const DEFAULT_ACCESS_KEY_SECRET = 'EcsEmulatorDevSecretNotForProduction';

const MAX_CALLS_KEPT = 500_000;

export async function startEcsEmulator(options: EcsEmulatorOptions): Promise<EcsEmulator> {
  const log = options.log ?? (() => undefined);
  const dataDir = path.resolve(options.dataDir);
  if (options.reset) fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });

  const regionId = options.regionId ?? 'cn-hangzhou';
  const settings: Settings = {
    regionId,
    zones: [`${regionId}-h`, `${regionId}-i`],
    snapshotSpeedBytesPerSec: 128 * 1024 * 1024,
    snapshotBaseMs: 1000,
    groupDiskLimit: 16,
    snapshotQuotaPerDisk: 256,
    asyncOperationMs: 500,
    agentDeliveryTimeoutMs: 60_000,
  };
  const db = new Persistence(dataDir);
  const trees = new TreeStore(dataDir);
  const state = new EcsState(db, trees, settings);
  state.load();
  // Explicit options win over settings an earlier run changed through the admin API.
  settings.regionId = regionId;
  if (options.snapshotSpeedBytesPerSec !== undefined)
    settings.snapshotSpeedBytesPerSec = options.snapshotSpeedBytesPerSec;
  if (options.snapshotBaseMs !== undefined) settings.snapshotBaseMs = options.snapshotBaseMs;
  if (options.groupDiskLimit !== undefined) settings.groupDiskLimit = options.groupDiskLimit;
  if (options.snapshotQuotaPerDisk !== undefined)
    settings.snapshotQuotaPerDisk = options.snapshotQuotaPerDisk;
  if (options.asyncOperationMs !== undefined) settings.asyncOperationMs = options.asyncOperationMs;
  if (options.agentDeliveryTimeoutMs !== undefined)
    settings.agentDeliveryTimeoutMs = options.agentDeliveryTimeoutMs;
  if (state.isEmpty() && options.seed !== undefined) applySeed(state, loadSeed(options.seed), Date.now());
  state.saveSettings();
  const regions = new Regions(state);
  for (const id of options.regions ?? DEFAULT_REGIONS) if (id !== regionId) regions.open(dataDir, id);

  const creds = {
    accessKeyId: options.accessKeyId ?? DEFAULT_ACCESS_KEY_ID,
    accessKeySecret: options.accessKeySecret ?? DEFAULT_ACCESS_KEY_SECRET,
    ...(options.securityToken !== undefined ? { securityToken: options.securityToken } : {}),
  };
  const toleranceMs = (options.timestampToleranceSeconds ?? 900) * 1000;
  const auth = new Authenticator(
    (keyId) => options.keys?.find(keyId) ?? creds,
    () => toleranceMs,
  );
  const faults = new Faults(options.rateLimits);
  const calls: CallRecord[] = [];
  let baseUrl = '';
  const assistant = new Assistant({
    state,
    adminUrl: () => `${baseUrl}/__admin`,
    marker: randomUUID(),
    log,
    forceSimulated: options.guest === 'simulated',
  });
  const handlers: Record<string, Handler> = {
    ...zoneActions,
    ...instanceActions,
    ...diskActions,
    ...diskResetActions,
    ...snapshotCreateActions,
    ...snapshotDescribeActions,
    ...snapshotDeleteActions,
    ...copyActions,
    ...tagActions,
    ...assistant.actions,
    ...imageActions,
    ...launchActions,
    ...networkActions,
    ...tagFilterCapActions,
  };
  const admin = createAdmin({ state, faults, assistant, calls, regions });

  const recordCall = (c: CallRecord): void => {
    calls.push(c);
    if (calls.length > MAX_CALLS_KEPT) calls.splice(0, calls.length - MAX_CALLS_KEPT / 2);
  };

  const handleApi = createApiHandler({ auth, faults, regions, assistant, handlers, recordCall, log });
  const handleAdmin = createAdminHandler(admin, assistant);

  // The SDK sends every parameter in the query string, and a 24 KB CommandContent grows by a third
  // in base64 and again in percent-encoding: Node's default 16 KB header limit would answer 431.
  const server = http.createServer({ maxHeaderSize: 512 * 1024 }, (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q >= 0 ? url.slice(0, q) : url;
    const rawQuery = q >= 0 ? url.slice(q + 1) : '';
    const work = pathname.startsWith('/__admin/')
      ? handleAdmin(
          req,
          res,
          decodeURIComponent(pathname.slice('/__admin/'.length)),
          new URLSearchParams(rawQuery).get('region'),
        )
      : handleApi(req, res, pathname, rawQuery);
    work.catch((err: unknown) => {
      log(`ecs-emulator: request failed: ${String(err)}`);
      if (!res.headersSent) send(res, 500, { Code: 'InternalError', Message: 'internal error' });
    });
  });
  server.keepAliveTimeout = 30_000;

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const endpoint = `${host}:${port}`;
  baseUrl = `http://${endpoint}`;
  log(`ecs-emulator: listening on ${baseUrl} (region ${regionId}, data ${dataDir})`);

  let closed = false;
  return {
    endpoint,
    url: baseUrl,
    regionId,
    accessKeyId: creds.accessKeyId,
    accessKeySecret: creds.accessKeySecret,
    admin: admin as EmulatorAdmin,
    guestMode: assistant.sandbox.mode,
    async close() {
      if (closed) return;
      closed = true;
      await assistant.close();
      regions.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      db.close();
    },
  };
}
