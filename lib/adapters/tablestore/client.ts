import TableStore from 'tablestore';

/**
 * The official SDK behind bounded retries and readable errors.
 *
 * The SDK's own retry policy is process-global and can keep a call retrying for about 40 s; it is
 * switched off (`maxRetries: 0`) and replaced by a few attempts with jittered exponential backoff.
 * Its errors are awkward: when the service answers with an error body the SDK cannot parse, `code`
 * is the HTTP status (e.g. 403) and the Tablestore code (`OTSConditionCheckFail`) is only inside
 * `message`, next to protobuf framing bytes. `translateError` recovers the real code.
 */

export interface TablestoreCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  /** STS token (Function Compute role credentials). */
  securityToken?: string;
}

export interface TablestoreConnection extends Partial<TablestoreCredentials> {
  endpoint: string;
  instanceName: string;
  /**
   * Read before every request when given, instead of the fixed keys: STS credentials expire and
   * Function Compute hands out fresh ones per invocation.
   */
  credentials?: () => TablestoreCredentials;
}

export interface RetryOptions {
  /** Attempts after the first; default 3. */
  maxRetries?: number;
  /** First backoff; doubles per attempt, with full jitter. Default 100 ms. */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Per-request socket timeout; default 10 s. */
  requestTimeoutMs?: number;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export class TablestoreError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number | undefined,
    readonly requestId: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TablestoreError';
  }
}

/** A conditional write whose condition did not hold. `ambiguous`: an earlier attempt may have been applied. */
export class ConditionFailed extends Error {
  constructor(readonly ambiguous: boolean) {
    super('OTSConditionCheckFail');
    this.name = 'ConditionFailed';
  }
}

/** Refused before being applied: safe to repeat. */
const REJECTED = new Set([
  'OTSServerBusy',
  'OTSNotEnoughCapacityUnit',
  'OTSOperationThrottled',
  'OTSQuotaExhausted',
  'OTSRowOperationConflict',
  'OTSPartitionUnavailable',
  'OTSTableNotReady',
]);

/** May or may not have been applied: retry, then check what a retried write actually did. */
const IN_DOUBT = new Set([
  'OTSTimeout',
  'OTSInternalServerError',
  'OTSServerUnavailable',
  'NetworkingError',
  'TimeoutError',
  'HTTP500',
  'HTTP502',
  'HTTP503',
  'HTTP504',
]);

export function isConditionFailed(err: unknown): boolean {
  if (err instanceof ConditionFailed) return true;
  if (err instanceof TablestoreError) return err.code === 'OTSConditionCheckFail';
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e === null || typeof e !== 'object') return false;
  if (e.code === 'OTSConditionCheckFail') return true;
  return (
    (e.code === 403 || e.code === '403') &&
    typeof e.message === 'string' &&
    e.message.includes('OTSConditionCheckFail')
  );
}

export function translateError(err: unknown): TablestoreError {
  if (err instanceof TablestoreError) return err;
  const e = (err ?? {}) as { code?: unknown; message?: unknown; headers?: Record<string, string> };
  const raw = typeof e.message === 'string' ? e.message : String(err);
  const requestId =
    e.headers?.['x-ots-requestid'] ?? e.headers?.['x-ots-request-id'] ?? /requestId:(\S+)/.exec(raw)?.[1];
  const status =
    typeof e.code === 'number' ? e.code : /^\d{3}$/.test(String(e.code)) ? Number(e.code) : undefined;
  const embedded = /\b(OTS[A-Za-z]+)\b/.exec(raw)?.[1];
  const code =
    typeof e.code === 'string' && !/^\d+$/.test(e.code)
      ? e.code
      : (embedded ?? (status !== undefined ? `HTTP${status}` : 'Unknown'));
  // Strip the protobuf framing bytes so the message reads as text in logs.
  const text = Array.from(raw.replace(/requestId:\S+/, ''), (ch) => (ch.charCodeAt(0) < 0x20 ? ' ' : ch))
    .join('')
    .replace(/ {2,}/g, ' ')
    .trim();
  return new TablestoreError(text === '' ? code : text, code, status, requestId, { cause: err });
}

export function isRetryable(err: TablestoreError): boolean {
  if (REJECTED.has(err.code) || IN_DOUBT.has(err.code)) return true;
  return err.status !== undefined && err.status >= 500;
}

function isInDoubt(err: TablestoreError): boolean {
  return IN_DOUBT.has(err.code) || (err.status !== undefined && err.status >= 500 && !REJECTED.has(err.code));
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class TablestoreClient {
  private sdk: TableStore.Client;
  private current: TablestoreCredentials;
  private readonly maxRetries: number;
  private readonly baseDelay: number;
  private readonly maxDelay: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    private connection: TablestoreConnection,
    private readonly retry: RetryOptions = {},
  ) {
    this.maxRetries = Math.max(0, retry.maxRetries ?? 3);
    this.baseDelay = retry.retryBaseDelayMs ?? 100;
    this.maxDelay = retry.retryMaxDelayMs ?? 2000;
    this.sleep = retry.sleep ?? defaultSleep;
    this.random = retry.random ?? Math.random;
    this.current = this.credentialsNow();
    this.sdk = this.build(this.current);
  }

  private credentialsNow(): TablestoreCredentials {
    const c = this.connection.credentials?.() ?? this.connection;
    if (!c.accessKeyId || !c.accessKeySecret) {
      throw new TypeError('Tablestore needs accessKeyId and accessKeySecret (or a credentials provider)');
    }
    return {
      accessKeyId: c.accessKeyId,
      accessKeySecret: c.accessKeySecret,
      ...(c.securityToken ? { securityToken: c.securityToken } : {}),
    };
  }

  private build(c: TablestoreCredentials): TableStore.Client {
    return new TableStore.Client({
      endpoint: this.connection.endpoint,
      instancename: this.connection.instanceName,
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.accessKeySecret,
      ...(c.securityToken ? { stsToken: c.securityToken } : {}),
      maxRetries: 0,
      httpOptions: { timeout: this.retry.requestTimeoutMs ?? 10_000, maxSockets: 64 },
    });
  }

  /** Fixed credentials replaced at once (a provider, when configured, still wins on the next call). */
  setCredentials(credentials: TablestoreCredentials): void {
    this.connection = { ...this.connection, ...credentials };
    this.current = this.credentialsNow();
    this.sdk = this.build(this.current);
  }

  /** The SDK client with the credentials in force now. */
  get raw(): TableStore.Client {
    if (this.connection.credentials !== undefined) {
      const c = this.credentialsNow();
      const was = this.current;
      if (
        c.accessKeyId !== was.accessKeyId ||
        c.accessKeySecret !== was.accessKeySecret ||
        c.securityToken !== was.securityToken
      ) {
        this.current = c;
        this.sdk = this.build(c);
      }
    }
    return this.sdk;
  }

  backoff(attempt: number): number {
    const cap = Math.min(this.maxDelay, this.baseDelay * 2 ** attempt);
    return Math.floor(this.random() * cap);
  }

  /**
   * Runs `fn` with bounded retries. A failed condition becomes `ConditionFailed`, marked ambiguous
   * when an earlier attempt ended in doubt (its write may have landed and tripped our own condition).
   */
  async call<T>(fn: (sdk: TableStore.Client) => Promise<T>): Promise<{ value: T; ambiguous: boolean }> {
    let ambiguous = false;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return { value: await fn(this.raw), ambiguous };
      } catch (raw) {
        if (isConditionFailed(raw)) throw new ConditionFailed(ambiguous);
        const err = translateError(raw);
        if (!isRetryable(err) || attempt >= this.maxRetries) throw err;
        if (isInDoubt(err)) ambiguous = true;
        await this.sleep(this.backoff(attempt));
      }
    }
  }

  /** `call` for reads, where doubt does not matter. */
  async read<T>(fn: (sdk: TableStore.Client) => Promise<T>): Promise<T> {
    return (await this.call(fn)).value;
  }

  /** Runs `fn` for per-row batch results: retries rows whose error code is retryable, up to the limit. */
  async retryRows<R>(
    rows: R[],
    attempt: (rows: R[]) => Promise<{ row: R; retry: boolean }[]>,
  ): Promise<void> {
    let pending = rows;
    for (let round = 0; pending.length > 0; round += 1) {
      const outcome = await attempt(pending);
      pending = outcome.filter((o) => o.retry).map((o) => o.row);
      if (pending.length === 0) return;
      if (round >= this.maxRetries) {
        throw new TablestoreError(
          `${pending.length} batch rows still failing after retries`,
          'BatchRowsFailed',
          undefined,
          undefined,
        );
      }
      await this.sleep(this.backoff(round));
    }
  }
}

/** A row error after which the row may or may not have been written. */
export function isInDoubtRowError(code: string | null | undefined): boolean {
  return code !== null && code !== undefined && IN_DOUBT.has(code);
}

export function isRetryableRowError(code: string | null | undefined): boolean {
  return code !== null && code !== undefined && (REJECTED.has(code) || IN_DOUBT.has(code));
}
