import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import querystring from 'node:querystring';
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
import { Assistant } from './assistant.js';
import { Authenticator, ENVELOPE_PARAMS } from './auth.js';
import type { Body, Ctx, Handler } from './context.js';
import { EcsApiError } from './errors.js';
import { Faults } from './faults.js';
import { networkActions, VPC_API_VERSION, vpcActions } from './network.js';
import { TreeStore } from './files.js';
import { Params } from './params.js';
import { Persistence } from './persist.js';
import { DEFAULT_REGIONS, Regions } from './regions.js';
import { applySeed, loadSeed } from './seed.js';
import { EcsState, type Settings } from './state.js';
import type { CallRecord, EcsEmulator, EcsEmulatorOptions, EmulatorAdmin } from './types.js';

export const API_VERSION = '2014-05-26';
export const DEFAULT_ACCESS_KEY_ID = 'LTAI5tEcsEmulatorDevKey';
export const DEFAULT_ACCESS_KEY_SECRET = 'EcsEmulatorDevSecretNotForProduction';

/** Actions whose ClientToken makes a repeated request return the first result. */
const IDEMPOTENT = new Set([
  'CreateSnapshot',
  'CreateSnapshotGroup',
  'CopySnapshot',
  'CreateDisk',
  'RunCommand',
  'InstallCloudAssistant',
  'CreateImage',
  'RunInstances',
]);
const MAX_CALLS_KEPT = 500_000;

function firstValues(parsed: querystring.ParsedUrlQuery): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? (v[0] ?? '') : v;
  }
  return out;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: http.ServerResponse, status: number, body: unknown, requestId?: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json;charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...(requestId ? { 'x-acs-request-id': requestId } : {}),
  });
  res.end(text);
}

function paramsHash(params: Record<string, string>): string {
  const keys = Object.keys(params)
    .filter((k) => !ENVELOPE_PARAMS.has(k) && k !== 'ClientToken')
    .sort();
  return createHash('sha256')
    .update(JSON.stringify(keys.map((k) => [k, params[k]])))
    .digest('hex');
}

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

  async function handleApi(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    pathname: string,
    rawQuery: string,
  ): Promise<void> {
    const body = await readBody(req);
    const query = firstValues(querystring.parse(rawQuery));
    let params = query;
    const contentType = String(req.headers['content-type'] ?? '');
    if (body.length > 0 && contentType.startsWith('application/x-www-form-urlencoded')) {
      params = { ...query, ...firstValues(querystring.parse(body.toString('utf8'))) };
    }
    const requestId = randomUUID().toUpperCase();
    const headerAction = req.headers['x-acs-action'];
    const action = (Array.isArray(headerAction) ? headerAction[0] : headerAction) ?? params['Action'] ?? '';
    const started = Date.now();
    let signing = 'none';
    try {
      if (!action)
        throw new EcsApiError('MissingParameter', 'The input parameter "Action" is not supplied.', 400);
      signing = auth.verify(
        { method: req.method ?? 'GET', pathname, query, headers: req.headers, body },
        params,
        started,
      ).signing;
      const version = (req.headers['x-acs-version'] as string | undefined) ?? params['Version'];
      const vpc = version === VPC_API_VERSION;
      if (version !== API_VERSION && !vpc)
        throw new EcsApiError('InvalidVersion', 'Specified parameter Version is not valid.', 400);
      const handler = vpc ? vpcActions[action] : handlers[action];
      if (!handler) {
        throw new EcsApiError(
          'InvalidAction.NotFound',
          'Specified api is not found, please check your url and method.',
          404,
        );
      }
      faults.check(action, started);
      const delay = faults.delayFor(action);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      await faults.waitIfHeld(action);

      const regionParam = params['RegionId'];
      const target = regionParam !== undefined ? regions.require(regionParam) : regions.locate(params);
      const token = IDEMPOTENT.has(action) ? params['ClientToken'] : undefined;
      let answer: Body | undefined;
      let tokenKey: string | undefined;
      let hash: string | undefined;
      if (token) {
        if (token.length > 64 || !/^[\x20-\x7e]+$/.test(token)) {
          throw new EcsApiError('InvalidClientToken.ValueNotSupported', 'The ClientToken is not valid.', 400);
        }
        tokenKey = `${action}\u0000${token}`;
        hash = paramsHash(params);
        const seen = target.tokens.get(tokenKey);
        if (seen) {
          if (seen.hash !== hash) {
            throw new EcsApiError(
              'IdempotentParameterMismatch',
              'Request uses a client token in a previous request but is not identical to that request.',
              400,
            );
          }
          answer = seen.response;
        }
      }
      if (!answer) {
        const ctx: Ctx = {
          state: target,
          regions,
          params: new Params(params),
          now: Date.now(),
          faults,
          assistant,
        };
        answer = await handler(ctx);
        if (tokenKey && hash) target.putToken({ key: tokenKey, hash, response: answer, at: ctx.now });
      }
      send(res, 200, { RequestId: requestId, ...answer }, requestId);
      recordCall({ action, at: started, ok: true, status: 200, signing });
    } catch (err) {
      const e =
        err instanceof EcsApiError
          ? err
          : new EcsApiError(
              'InternalError',
              'The request processing has failed due to some unknown error.',
              500,
            );
      if (!(err instanceof EcsApiError))
        log(`ecs-emulator: ${action} failed: ${(err as Error).stack ?? String(err)}`);
      send(
        res,
        e.status,
        {
          RequestId: requestId,
          HostId: req.headers.host ?? '',
          Code: e.code,
          Message: e.message,
          Recommend: '',
        },
        requestId,
      );
      recordCall({
        action: action || '(none)',
        at: started,
        ok: false,
        code: e.code,
        status: e.status,
        signing,
      });
    }
  }

  async function handleAdmin(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    route: string,
    regionId: string | null,
  ): Promise<void> {
    const body = await readBody(req);
    if (route.startsWith('guest/')) {
      const form = firstValues(querystring.parse(body.toString('utf8')));
      const text = assistant.guest(route.slice('guest/'.length), form);
      res.writeHead(200, { 'content-type': 'text/plain;charset=utf-8' });
      res.end(text);
      return;
    }
    let scoped: EmulatorAdmin = admin;
    try {
      if (regionId !== null) scoped = admin.inRegion(regionId);
    } catch (err) {
      const e = err as EcsApiError;
      send(res, e.status ?? 400, { Code: e.code, Message: e.message });
      return;
    }
    const method = (scoped as unknown as Record<string, (arg?: unknown) => Promise<unknown>>)[route];
    if (
      typeof method !== 'function' ||
      route === 'inRegion' ||
      !Object.prototype.hasOwnProperty.call(scoped, route)
    ) {
      send(res, 404, { Code: 'UnknownAdminMethod', Message: `No admin method ${route}.` });
      return;
    }
    try {
      const arg = body.length > 0 ? (JSON.parse(body.toString('utf8')) as unknown) : undefined;
      const result = await method(arg);
      send(res, 200, result === undefined ? { ok: true } : result);
    } catch (err) {
      const e = err instanceof EcsApiError ? err : new EcsApiError('AdminError', (err as Error).message, 400);
      send(res, e.status, { Code: e.code, Message: e.message });
    }
  }

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
