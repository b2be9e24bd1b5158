import middy from '@middy/core';
import type { z } from 'zod';
import type { Logger } from '../../lib/runtime/deps.js';
import type { FcContext } from '../../lib/runtime/fc.js';

/** The event could not be decoded or failed validation: retrying the same event cannot help. */
export class BadEventError extends Error {
  constructor(
    message: string,
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'BadEventError';
  }
}

// middy's types are written for AWS Lambda; FC's (event, context) pair has the same shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Request = middy.Request<any, any, Error, any>;

/** FC passes the event as a Buffer of JSON; turn it into a value (a string event is accepted too). */
export function decodeJsonEvent(): middy.MiddlewareObj {
  return {
    before: function decodeJsonEventBefore(request: Request) {
      const raw: unknown = request.event;
      const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : typeof raw === 'string' ? raw : null;
      if (text === null) return;
      try {
        request.event = text.trim() === '' ? {} : JSON.parse(text);
      } catch (err) {
        throw new BadEventError(`event is not JSON: ${(err as Error).message}`);
      }
    },
  };
}

export function validateEvent<S extends z.ZodType>(schema: S): middy.MiddlewareObj {
  return {
    before: function validateEventBefore(request: Request) {
      const parsed = schema.safeParse(request.event);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => ({
          path: i.path.map(String).join('.'),
          message: i.message,
        }));
        throw new BadEventError(
          `event does not match the expected shape: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`,
          issues,
        );
      }
      request.event = parsed.data;
    },
  };
}

/** One line when the invocation starts and one when it ends, with the request id and the duration. */
export function logInvocation(functionName: string, log: Logger): middy.MiddlewareObj {
  const startedAt = new WeakMap<object, number>();
  const elapsed = (request: Request) =>
    Math.round(performance.now() - (startedAt.get(request) ?? performance.now()));
  const line = (
    level: 'info' | 'error',
    message: string,
    request: Request,
    fields: Record<string, unknown>,
  ) => {
    const context = request.context as FcContext | undefined;
    log[level](message, { function: functionName, requestId: context?.requestId, ...fields });
  };
  return {
    before: function logInvocationBefore(request: Request) {
      startedAt.set(request, performance.now());
    },
    after: function logInvocationAfter(request: Request) {
      line('info', 'invocation done', request, { ms: elapsed(request) });
    },
    onError: function logInvocationError(request: Request) {
      line('error', 'invocation failed', request, {
        ms: elapsed(request),
        error: request.error?.message,
        errorName: request.error?.name,
      });
    },
  };
}

/**
 * A bad event is answered, not thrown: FC would retry an async invocation that throws, and the same
 * bad event fails the same way every time. Anything else is rethrown so FC retries it.
 */
export function answerBadEvents(): middy.MiddlewareObj {
  return {
    onError: function answerBadEventsOnError(request: Request) {
      if (request.error instanceof BadEventError) {
        request.response = { ok: false, error: request.error.message, issues: request.error.issues };
      }
    },
  };
}

/**
 * The common onion of the timer and queue functions; invocation lines go to `log`. middy's own
 * early-timeout is off: FC has no getRemainingTimeInMillis.
 */
export function fcFunction<R>(
  name: string,
  schema: z.ZodType,
  handler: (event: never, context: FcContext) => Promise<R>,
  log: Logger,
): (event: Buffer, context: FcContext) => Promise<R> {
  const wrapped = middy({ timeoutEarlyInMillis: 0 })
    .use(logInvocation(name, log))
    .use(answerBadEvents())
    .use(decodeJsonEvent())
    .use(validateEvent(schema))
    .handler(handler as never);
  return (event, context) => wrapped(event as never, context as never) as Promise<R>;
}
