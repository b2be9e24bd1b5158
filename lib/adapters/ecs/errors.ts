import {
  EcsAuthError,
  EcsBusyError,
  EcsError,
  EcsInvalidParameterError,
  EcsNotFoundError,
  EcsQuotaError,
  EcsThrottledError,
  EcsTokenReusedError,
  EcsUnreachableError,
  EcsUnsupportedError,
  type EcsErrorDetails,
} from '../../ports/ecs.js';

/** Code given to failures where ECS never answered (connection refused or reset, timeout, unreadable body). */
export const NO_ANSWER_CODE = 'NetworkError';

export type EcsErrorClass =
  | 'throttled'
  | 'unreachable'
  | 'busy'
  | 'not-found'
  | 'unsupported'
  | 'quota'
  | 'token-reused'
  | 'invalid-parameter'
  | 'auth'
  | 'other';

/**
 * The error codes of the ECS API reference (and of the STS/signature layer in front of it) sorted
 * into what a caller can do about them. Order matters: the first rule that matches wins.
 * - busy: the resource is in a state that does not allow the call *yet* (ECS documents these as
 *   "try again later": `IncorrectDiskStatus.*`, `IncorrectInstanceStatus.*`, a snapshot not ready,
 *   a same-token request still being processed).
 * - auth: credentials, signatures, timestamps, tokens, RAM permissions.
 */
const RULES: [EcsErrorClass, (code: string) => boolean][] = [
  ['unreachable', (c) => c === NO_ANSWER_CODE],
  ['throttled', (c) => c === 'Throttling' || c.startsWith('Throttling.') || c.includes('.Throttling')],
  ['token-reused', (c) => c === 'IdempotentParameterMismatch'],
  [
    'busy',
    (c) =>
      /^Incorrect(Disk|Instance|Snapshot|Image)Status(\.|$)/.test(c) ||
      [
        'IdempotentProcessing',
        'LastTokenProcessing',
        'Operation.Conflict',
        'InvalidSnapshot.NotReady',
        'InvalidSnapshotId.NotReady',
      ].includes(c),
  ],
  [
    'auth',
    (c) =>
      /^(Forbidden|InvalidAccessKeyId|InvalidSecurityToken|InvalidTimeStamp|InvalidSignatureMethod)(\.|$)/.test(
        c,
      ) ||
      /^(SignatureDoesNotMatch|SignatureNonceUsed|IncompleteSignature|MissingSignature|MissingSignatureNonce|MissingTimestamp|InvalidCredentials)$/.test(
        c,
      ),
  ],
  [
    'quota',
    (c) =>
      c.startsWith('QuotaExceed') ||
      /LimitExceed(ed)?$/.test(c) ||
      c === 'InvalidTagCount' ||
      c === 'DiskInArrears' ||
      c === 'OperationDenied.NoStock',
  ],
  [
    'unsupported',
    (c) =>
      /\.(OperationNotSupported|NotBelongToDisk|NotBelongToInstance|Unsupported|ZoneNotSupported|NotSupported)$/.test(
        c,
      ) ||
      /^(InstanceDiskZoneMismatch|InstanceLockedForSecurity|SnapshotCreatedDisk|SnapshotCreatedImage|DryRunOperation)$/.test(
        c,
      ) ||
      // CopySnapshot's answer to a destination equal to the source region (API reference, error codes).
      c === 'InvalidOperation.NotSupportCopyInSameRegion',
  ],
  ['not-found', (c) => c.endsWith('.NotFound') || c === 'FileNotFound'],
  [
    'invalid-parameter',
    (c) =>
      c.startsWith('InvalidParameter') ||
      c.startsWith('MissingParameter') ||
      c.endsWith('.Malformed') ||
      c.endsWith('.ValueNotSupported') ||
      c.endsWith('.Duplicated') ||
      c.endsWith('.Mismatch') ||
      c.endsWith('.ExceedLimit') ||
      // CopySnapshot: a KMSKeyId given for a copy that is not encrypted (API reference, error codes).
      c === 'InvalidEncrypted.NotMatchKmsKeyId' ||
      /^Invalid[A-Za-z]+$/.test(c),
  ],
];

/** Which kind of failure an ECS error code is; `other` for what no rule knows (5xx ones stay retryable). */
export function classifyEcsCode(code: string): EcsErrorClass {
  return RULES.find(([, test]) => test(code))?.[0] ?? 'other';
}

/**
 * What ECS documents as transient: throttling of any kind, internal errors and unavailability.
 * `IdempotentProcessing` means a request with the same ClientToken is still running, so asking
 * again later returns its result.
 */
export function isRetryableCode(code: string, statusCode: number | null): boolean {
  const kind = classifyEcsCode(code);
  if (kind === 'throttled' || kind === 'unreachable') return true;
  if (code === 'InternalError' || code === 'ServiceUnavailable' || code === 'UnknownError') return true;
  if (code === 'IdempotentProcessing') return true;
  return statusCode !== null && statusCode >= 500;
}

/** The typed error for an ECS error code: the one place codes become classes. */
export function ecsErrorFor(code: string, message: string, details: EcsErrorDetails = {}): EcsError {
  const status = details.statusCode ?? null;
  switch (classifyEcsCode(code)) {
    case 'throttled':
      return new EcsThrottledError(code, message, details);
    case 'unreachable':
      return new EcsUnreachableError(code, message, details);
    case 'busy':
      return new EcsBusyError(code, message, details, isRetryableCode(code, status));
    case 'not-found':
      return new EcsNotFoundError(code, message, details);
    case 'unsupported':
      return new EcsUnsupportedError(code, message, details);
    case 'quota':
      return new EcsQuotaError(code, message, details);
    case 'token-reused':
      return new EcsTokenReusedError(code, message, details);
    case 'invalid-parameter':
      return new EcsInvalidParameterError(code, message, details);
    case 'auth':
      return new EcsAuthError(code, message, details);
    case 'other':
      return new EcsError(code, message, details, isRetryableCode(code, status));
  }
}

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
  data?: unknown;
}

/**
 * Turns whatever the SDK threw into a typed `EcsError`. The SDK throws a `ResponseError` carrying
 * the JSON error body in `data` when ECS answered 4xx/5xx; anything else (socket errors, timeouts,
 * an error page that is not JSON) means no usable answer.
 */
export function toEcsError(err: unknown, action: string): EcsError {
  if (err instanceof EcsError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorShape;
  const data = typeof e.data === 'object' && e.data !== null ? (e.data as Record<string, unknown>) : null;
  const statusCode = numberOrNull(e.statusCode) ?? numberOrNull(data?.statusCode);
  if (statusCode !== null && data !== null) {
    const code = stringOr(data.Code ?? data.code, stringOr(e.code, `HTTP${statusCode}`));
    const message = stringOr(data.Message ?? data.message, `${action} failed with HTTP ${statusCode}`);
    const requestId = stringOr(data.RequestId ?? data.requestId, '');
    const full = requestId === '' ? message : `${message} (RequestId ${requestId})`;
    return ecsErrorFor(code, full, { statusCode, requestId: requestId || null, cause: err });
  }
  const detail = stringOr(e.message, String(err));
  const sysCode = typeof e.code === 'string' && e.code !== '' ? `${e.code}: ` : '';
  return new EcsUnreachableError(NO_ANSWER_CODE, `${action}: no answer from ECS: ${sysCode}${detail}`, {
    cause: err,
  });
}

function numberOrNull(v: unknown): number | null {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : null;
}

function stringOr(v: unknown, fallback: string): string {
  return typeof v === 'string' && v !== '' && v !== 'undefined' ? v : fallback;
}

/** Full-jitter exponential backoff: uniform in [0, min(max, base * 2^(attempt-1))]. */
export function backoffDelayMs(
  attempt: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number,
) {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}
