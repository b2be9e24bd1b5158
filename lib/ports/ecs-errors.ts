/**
 * What went wrong in a call to ECS, as classes a use case can `instanceof`. The ECS adapter turns
 * every error code into one of these (see `classifyEcsCode` in the adapter), so no use case reads
 * a raw code to decide what to do. Each keeps the ECS code, HTTP status and request id for the
 * operator and the logs.
 */

export interface EcsErrorDetails {
  statusCode?: number | null;
  requestId?: string | null;
  cause?: unknown;
}

/** ECS answered with an error code no narrower class fits; `retryable` when ECS itself failed (5xx). */
export class EcsError extends Error {
  readonly statusCode: number | null;
  readonly requestId: string | null;
  /** Asking again later may succeed: throttling, a server fault, no answer. */
  readonly retryable: boolean;

  constructor(
    readonly code: string,
    message: string,
    details: EcsErrorDetails = {},
    retryable?: boolean,
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'EcsError';
    this.statusCode = details.statusCode ?? null;
    this.requestId = details.requestId ?? null;
    this.retryable = retryable ?? (this.statusCode !== null && this.statusCode >= 500);
  }
}

/** Flow control (`Throttling.*`): always worth asking again. */
export class EcsThrottledError extends EcsError {
  constructor(code: string, message: string, details: EcsErrorDetails = {}) {
    super(code, message, details, true);
    this.name = 'EcsThrottledError';
  }
}

/** No usable answer (connection refused or reset, timeout, unreadable body). */
export class EcsUnreachableError extends EcsError {
  constructor(code: string, message: string, details: EcsErrorDetails = {}) {
    super(code, message, details, true);
    this.name = 'EcsUnreachableError';
  }
}

/**
 * "Not now": the resource is in a state that does not allow the operation yet (a disk creating a
 * snapshot, an instance starting, a request with the same ClientToken still running).
 */
export class EcsBusyError extends EcsError {
  /** `retryable` when the adapter may ask again at once (a same-token request still running). */
  constructor(code: string, message: string, details: EcsErrorDetails = {}, retryable = false) {
    super(code, message, details, retryable);
    this.name = 'EcsBusyError';
  }
}

/** The named resource does not exist (`*.NotFound`); `resource` says which kind, from the code. */
export class EcsNotFoundError extends EcsError {
  readonly resource: string;
  constructor(code: string, message: string, details: EcsErrorDetails = {}) {
    super(code, message, details, false);
    this.name = 'EcsNotFoundError';
    this.resource = resourceOf(code);
  }
}

/** The operation is not possible for this resource (a disk category, a snapshot of another disk). */
export class EcsUnsupportedError extends EcsError {
  constructor(code: string, message: string, details: EcsErrorDetails = {}) {
    super(code, message, details, false);
    this.name = 'EcsUnsupportedError';
  }
}

/** A quota or limit of the account or the resource is used up. */
export class EcsQuotaError extends EcsError {
  constructor(code: string, message: string, details: EcsErrorDetails = {}) {
    super(code, message, details, false);
    this.name = 'EcsQuotaError';
  }
}

/** ECS refused a parameter of the request: a bug on our side or a value from the plan. */
export class EcsInvalidParameterError extends EcsError {
  constructor(code: string, message: string, details: EcsErrorDetails = {}) {
    super(code, message, details, false);
    this.name = 'EcsInvalidParameterError';
  }
}

/**
 * A ClientToken was used before with other parameters (`IdempotentParameterMismatch`): the first
 * request with this token created something, which the caller can look up by its tags.
 */
export class EcsTokenReusedError extends EcsInvalidParameterError {
  constructor(code: string, message: string, details: EcsErrorDetails = {}) {
    super(code, message, details);
    this.name = 'EcsTokenReusedError';
  }
}

/** The credentials are wrong or lack a permission. */
export class EcsAuthError extends EcsError {
  constructor(code: string, message: string, details: EcsErrorDetails = {}) {
    super(code, message, details, false);
    this.name = 'EcsAuthError';
  }
}

/** `InvalidInstanceId.NotFound` -> `instance`, `InvalidSnapshotGroupId.NotFound` -> `snapshot group`. */
function resourceOf(code: string): string {
  const head = code.split('.')[0] ?? code;
  const bare = head.replace(/^Invalid/, '').replace(/Ids?$/, '');
  const words = bare.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return words === '' ? 'resource' : words;
}
