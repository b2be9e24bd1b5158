import { createHash, randomUUID } from 'node:crypto';
import type http from 'node:http';
import querystring from 'node:querystring';
import type { Assistant } from './assistant.js';
import { ENVELOPE_PARAMS, type Authenticator } from './auth.js';
import type { Body, Ctx, Handler } from './context.js';
import { EcsApiError } from './errors.js';
import type { Faults } from './faults.js';
import { firstValues, readBody, send } from './http-io.js';
import { VPC_API_VERSION, vpcActions } from './network.js';
import { Params } from './params.js';
import type { Regions } from './regions.js';
import type { EcsState } from './state.js';
import type { CallRecord } from './types.js';

export const API_VERSION = '2014-05-26';

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

function paramsHash(params: Record<string, string>): string {
  const keys = Object.keys(params)
    .filter((k) => !ENVELOPE_PARAMS.has(k) && k !== 'ClientToken')
    .sort();
  return createHash('sha256')
    .update(JSON.stringify(keys.map((k) => [k, params[k]])))
    .digest('hex');
}

/**
 * A request's ClientToken: the first answer to replay when the token was seen with the same
 * parameters, a mismatch refused when it was seen with others, and `remember` for a first answer.
 */
function clientToken(
  target: EcsState,
  action: string,
  params: Record<string, string>,
): { replay: Body | undefined; remember(answer: Body, at: number): void } {
  const token = IDEMPOTENT.has(action) ? params['ClientToken'] : undefined;
  if (!token) return { replay: undefined, remember: () => undefined };
  if (token.length > 64 || !/^[\x20-\x7e]+$/.test(token)) {
    throw new EcsApiError('InvalidClientToken.ValueNotSupported', 'The ClientToken is not valid.', 400);
  }
  const key = `${action}\u0000${token}`;
  const hash = paramsHash(params);
  const seen = target.tokens.get(key);
  if (seen && seen.hash !== hash) {
    throw new EcsApiError(
      'IdempotentParameterMismatch',
      'Request uses a client token in a previous request but is not identical to that request.',
      400,
    );
  }
  return {
    replay: seen?.response,
    remember: (answer, at) => target.putToken({ key, hash, response: answer, at }),
  };
}

export interface ApiDeps {
  auth: Authenticator;
  faults: Faults;
  regions: Regions;
  assistant: Assistant;
  /** The ECS actions by name (the VPC ones are apart, by their API version). */
  handlers: Record<string, Handler>;
  recordCall(call: CallRecord): void;
  log(line: string): void;
}

/**
 * One ECS or VPC API request: its signature, version and action checked, the faults a test set
 * applied, a repeated ClientToken answered from the first call, and every call recorded.
 */
export function createApiHandler({ auth, faults, regions, assistant, handlers, recordCall, log }: ApiDeps) {
  return async function handleApi(
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
      const token = clientToken(target, action, params);
      let answer = token.replay;
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
        token.remember(answer, ctx.now);
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
  };
}
