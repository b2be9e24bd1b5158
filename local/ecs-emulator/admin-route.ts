import type http from 'node:http';
import querystring from 'node:querystring';
import type { Assistant } from './assistant.js';
import { EcsApiError } from './errors.js';
import { firstValues, readBody, send } from './http-io.js';
import type { EmulatorAdmin } from './types.js';

/**
 * `/__admin/<method>`: the admin API over HTTP, its argument the JSON body, scoped to another
 * region by `?region=`; `/__admin/guest/...` is where guest scripts call back.
 */
export function createAdminHandler(admin: EmulatorAdmin, assistant: Assistant) {
  return async function handleAdmin(
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
  };
}
