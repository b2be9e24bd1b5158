/**
 * The middy onion around every API request. Each middleware does one thing; only `problemResponses`
 * (and `idempotencyKeys`, which must remember refusals) turns an error into a status code.
 */
import type middy from '@middy/core';
import { ValidationError } from '../domain/errors.js';
import { EcsError } from '../ports/ecs.js';
import type { Deps } from '../runtime/deps.js';
import type { FcContext, FcHttpResponse } from '../runtime/fc.js';
import { checkBearer } from './auth.js';
import type { ApiRequest, ApiResponse } from './http.js';
import { decodeFcHttpEvent, parseJsonBody } from './http.js';
import type { IdempotencyClaim } from './idempotency.js';
import { claimIdempotencyKey, rememberAnswer, requestHash, validateIdempotencyKey } from './idempotency.js';
import { HttpProblem, validationProblem } from './problem.js';
import type { RouteMatcher } from './lazy-router.js';
import type { RouteMatch } from './router.js';
import { validateInput } from './validate.js';

/** What the middlewares learn about a request, filled in layer by layer. */
export interface ApiEvent {
  raw: Buffer;
  request?: ApiRequest;
  deps?: Deps;
  match?: RouteMatch;
  input?: { params: unknown; query: unknown; body: unknown };
  idempotency?: IdempotencyClaim;
}

export type ApiMiddleware = middy.MiddlewareObj<ApiEvent, FcHttpResponse, Error, FcContext>;
type ApiMiddyRequest = middy.Request<ApiEvent, FcHttpResponse, Error, FcContext>;

const JSON_TYPE = 'application/json';
const PROBLEM_TYPE = 'application/problem+json';

export function toFcResponse(response: ApiResponse, requestId: string): FcHttpResponse {
  const headers: Record<string, string> = {
    'cache-control': 'no-store',
    'x-request-id': requestId,
    ...(response.headers ?? {}),
  };
  if (response.body === undefined) return { statusCode: response.status, headers };
  // Bytes (an exported file) travel as they are; FC carries a binary body base64-encoded.
  if (Buffer.isBuffer(response.body)) {
    headers['content-type'] ??= 'application/octet-stream';
    return {
      statusCode: response.status,
      headers,
      body: response.body.toString('base64'),
      isBase64Encoded: true,
    };
  }
  headers['content-type'] ??= JSON_TYPE;
  return { statusCode: response.status, headers, body: JSON.stringify(response.body) };
}

/** The problem an error stands for: client errors as raised, everything unexpected as an opaque 5xx. */
export function toProblem(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error instanceof ValidationError) return validationProblem(error.issues);
  if (error instanceof EcsError) {
    return error.retryable
      ? new HttpProblem('upstream-unavailable', error.message, {
          headers: { 'retry-after': '5' },
          cause: error,
        })
      : new HttpProblem('upstream-failed', error.message, { cause: error });
  }
  return new HttpProblem('internal', error instanceof Error ? error.message : String(error), {
    cause: error,
  });
}

export function problemResponse(problem: HttpProblem, event: ApiEvent, requestId: string): FcHttpResponse {
  const doc = problem.toDocument({ instance: event.request?.path, requestId });
  return toFcResponse(
    { status: problem.status, body: doc, headers: { ...problem.headers, 'content-type': PROBLEM_TYPE } },
    requestId,
  );
}

function requestIdOf(request: ApiMiddyRequest): string {
  return request.event.request?.requestId ?? request.context.requestId;
}

/** Outermost layer: every error becomes an RFC 9457 document; a 5xx's details go to the log only. */
export function problemResponses(): ApiMiddleware {
  return {
    onError: function problemResponsesOnError(request) {
      const problem = toProblem(request.error);
      if (problem.status >= 500) {
        const cause = problem.cause ?? request.error;
        const fields = {
          requestId: requestIdOf(request),
          method: request.event.request?.method,
          path: request.event.request?.path,
          problem: problem.kind,
          error: cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause),
          stack: cause instanceof Error ? cause.stack : undefined,
        };
        if (request.event.deps !== undefined) request.event.deps.log.error('api request failed', fields);
        else (request.context.logger ?? console).error('api request failed', fields);
      }
      request.response = problemResponse(problem, request.event, requestIdOf(request));
      return request.response;
    },
  };
}

export function decodeHttpEvent(): ApiMiddleware {
  return {
    before: function decodeHttpEventBefore(request) {
      request.event.request = decodeFcHttpEvent(request.event.raw, request.context.requestId);
    },
  };
}

export function injectDeps(load: () => Promise<Deps>): ApiMiddleware {
  return {
    before: async function injectDepsBefore(request) {
      request.event.deps = await load();
    },
  };
}

export function routeRequest(router: RouteMatcher): ApiMiddleware {
  return {
    before: async function routeRequestBefore(request) {
      const http = request.event.request!;
      request.event.match = await router.match(http.method, http.path);
    },
  };
}

/**
 * Runs before the route is known to exist, so an unauthenticated caller learns nothing about which
 * paths exist; only routes marked public (health) skip it.
 */
export function bearerAuth(): ApiMiddleware {
  return {
    before: function bearerAuthBefore(request) {
      const match = request.event.match;
      if (match?.kind === 'found' && match.route.public === true) return;
      checkBearer(request.event.request!.headers.authorization, request.event.deps!.settings.API_TOKEN);
    },
  };
}

const METHODS_WITH_BODY = new Set(['POST', 'PATCH', 'PUT']);

/** Unknown route, wrong method, then media type, size and JSON syntax, then every field. */
export function validateRequest(): ApiMiddleware {
  return {
    before: function validateRequestBefore(request) {
      const match = request.event.match!;
      if (match.kind === 'not-found') {
        throw new HttpProblem('not-found', `no route ${request.event.request!.path}`);
      }
      if (match.kind === 'method-not-allowed') {
        throw new HttpProblem('method-not-allowed', `${request.event.request!.method} is not allowed here`, {
          headers: { allow: match.allow.join(', ') },
        });
      }
      const http = request.event.request!;
      const body = METHODS_WITH_BODY.has(http.method) ? parseJsonBody(http) : undefined;
      request.event.input = validateInput(match.route, match.params, http.query, body);
    },
  };
}

/**
 * Sits after validation, so a request that fails validation takes no lease and is not remembered
 * (it changed nothing and will fail the same way again).
 */
export function idempotencyKeys(): ApiMiddleware {
  return {
    before: async function idempotencyKeysBefore(request) {
      const http = request.event.request!;
      const key = http.headers['idempotency-key'];
      if (http.method !== 'POST' || key === undefined) return undefined;
      validateIdempotencyKey(key);
      const deps = request.event.deps!;
      const hash = requestHash(http.method, http.path, request.event.input?.body);
      const decision = await claimIdempotencyKey(deps.store.idempotency, deps.clock, key, hash);
      if (decision.kind === 'proceed') {
        request.event.idempotency = decision.claim;
        return undefined;
      }
      return replayed(decision.answer, http.requestId);
    },
    after: async function idempotencyKeysAfter(request) {
      const claim = request.event.idempotency;
      if (claim === undefined || request.response === null) return;
      request.response = await remember(request, claim, request.response);
    },
    onError: async function idempotencyKeysOnError(request) {
      const claim = request.event.idempotency;
      if (claim === undefined) return undefined;
      const problem = toProblem(request.error);
      // A 5xx is not an answer to remember: the lease expires and a retry runs the work again.
      if (problem.status >= 500) return undefined;
      request.response = await remember(
        request,
        claim,
        problemResponse(problem, request.event, requestIdOf(request)),
      );
      return request.response;
    },
  };
}

async function remember(
  request: ApiMiddyRequest,
  claim: IdempotencyClaim,
  response: FcHttpResponse,
): Promise<FcHttpResponse> {
  const deps = request.event.deps!;
  const headers = { ...(response.headers ?? {}) };
  delete headers['x-request-id'];
  const stored = await rememberAnswer(deps.store.idempotency, deps.clock, claim, {
    status: response.statusCode,
    headers,
    ...(response.body === undefined ? {} : { body: response.body }),
  });
  if (stored.status === response.statusCode && stored.body === response.body) return response;
  return replayed(stored, requestIdOf(request));
}

function replayed(
  answer: { status: number; headers: Record<string, string>; body?: string },
  requestId: string,
): FcHttpResponse {
  const headers = { ...answer.headers, 'x-request-id': requestId, 'idempotent-replayed': 'true' };
  return answer.body === undefined
    ? { statusCode: answer.status, headers }
    : { statusCode: answer.status, headers, body: answer.body };
}

/** The innermost handler: the matched route with its validated input. */
export async function dispatch(event: ApiEvent, context: FcContext): Promise<FcHttpResponse> {
  const match = event.match;
  if (match?.kind !== 'found' || event.request === undefined || event.deps === undefined) {
    throw new Error('dispatch reached without a matched, decoded request');
  }
  const input = event.input ?? { params: undefined, query: undefined, body: undefined };
  const response = await match.route.handle(input as Parameters<typeof match.route.handle>[0], {
    deps: event.deps,
    request: event.request,
  });
  return toFcResponse(response, event.request.requestId ?? context.requestId);
}
