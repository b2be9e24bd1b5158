import type * as OpenApi from '@alicloud/openapi-client';
import type { Clock } from '../../ports/clock.js';
import { EcsAuthError, type EcsError } from '../../ports/ecs.js';
import { backoffDelayMs, toEcsError } from './errors.js';
import { InFlightLimit } from './in-flight.js';
import { ActionRateLimiter, type Sleep } from './rate-limiter.js';

export const ECS_API_VERSION = '2014-05-26';

export interface EcsCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

/** Static keys, or a function asked before every request (FC hands out rotating STS credentials per invocation). */
export type CredentialsSource = EcsCredentials | (() => EcsCredentials | Promise<EcsCredentials>);

export interface RpcClientOptions {
  /** `host[:port]`, or a URL whose scheme sets the protocol. */
  endpoint: string;
  protocol?: 'http' | 'https';
  credentials: CredentialsSource;
  /** `v3` = ACS3-HMAC-SHA256 (the SDK's default); `v2` = classic RPC HMAC-SHA1. */
  signatureAlgorithm?: 'v2' | 'v3';
  rateLimits?: Record<string, number>;
  defaultRatePerSecond?: number;
  burst?: number;
  /** Attempts per call, the first included. */
  maxAttempts?: number;
  /** Requests on the wire at once; more wait their turn before their timeouts start. Default 32. */
  maxInFlight?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  connectTimeoutMs?: number;
  readTimeoutMs?: number;
  clock: Clock;
  sleep?: Sleep;
  random?: () => number;
  /** Observes every attempt (tests, metrics). */
  onAttempt?: (event: AttemptEvent) => void;
  /** Default ECS's 2014-05-26; VPC calls (DescribeVSwitches) use 2016-04-28. */
  apiVersion?: string;
}

export interface AttemptEvent {
  action: string;
  attempt: number;
  error: EcsError | null;
  /** Backoff before the next attempt, when one follows. */
  retryInMs: number | null;
}

export interface CallOptions {
  /** Parameters sent in the form body instead of the query string (large values such as a script). */
  body?: Record<string, string>;
}

type Query = Record<string, string>;

interface SdkCredentialModel {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  type: 'access_key' | 'sts';
}

type OpenApiClient = InstanceType<typeof OpenApi.default.default>;

/**
 * The SDK is CommonJS with `exports.default = Client`. Node's ESM loader hands that whole object
 * over as `default`, bundlers and vitest unwrap it: accept both.
 */
export function cjsDefault<T>(mod: { default: unknown }): T {
  const d = mod.default as { default?: unknown } | undefined;
  return (typeof d === 'function' ? d : d?.default) as T;
}

/**
 * Node's ESM loader finds the SDK's named exports (`Config`, `Params`, ...); a bundle's chunk for a
 * CommonJS module exports only `default`, the `exports` object itself.
 */
function cjsNamespace(mod: typeof OpenApi): typeof OpenApi {
  return typeof (mod as Partial<typeof OpenApi>).Config === 'function'
    ? mod
    : (mod.default as unknown as typeof OpenApi);
}

/**
 * The SDK module, imported on the first call: requiring it (with its credentials, XML and HTTP
 * packages) is the largest part of a function's cold start, and most invocations of the API,
 * scheduler and retention functions never call ECS.
 */
let sdk: Promise<typeof OpenApi> | undefined;
function loadSdk(): Promise<typeof OpenApi> {
  // A failed load is not kept: the next call tries again.
  sdk ??= import('@alicloud/openapi-client').then(cjsNamespace, (err: unknown) => {
    sdk = undefined;
    throw err;
  });
  return sdk;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_READ_TIMEOUT_MS = 15_000;
const DEFAULT_MAX_IN_FLIGHT = 32;

/**
 * The SDK's HTTP layer (httpx) hands `connectTimeout` to Node as the request's `timeout`, which is
 * the socket's idle timeout: it fires while the answer is awaited too, not only while connecting.
 * A connect timeout shorter than the read timeout therefore turns every answer slower than it into
 * "no answer" and a retry of a request ECS already carried out (measured: 141 extra DescribeDisks for
 * 300 backups started together). It is never shorter than the read timeout.
 */
function sdkConnectTimeoutMs(connectTimeoutMs?: number, readTimeoutMs?: number): number {
  return Math.max(connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS);
}

export const defaultSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One ECS RPC call = client-side rate limit, SDK request (signing, HTTP), bounded retries with
 * full-jitter backoff on transient failures, and translation into `EcsError`. The SDK's own retry
 * loop stays off: it retries without jitter and loses the original error when it gives up.
 */
export class EcsRpcClient {
  readonly endpoint: string;
  readonly protocol: 'http' | 'https';
  /** Built on the first call, with the SDK. */
  private client: Promise<OpenApiClient> | undefined;
  private readonly sdkClient: () => Promise<OpenApiClient>;
  private readonly limiter: ActionRateLimiter;
  private readonly inFlight: InFlightLimit;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly sleep: Sleep;
  private readonly random: () => number;

  constructor(private readonly options: RpcClientOptions) {
    const { host, protocol } = parseEndpoint(options.endpoint, options.protocol);
    this.endpoint = host;
    this.protocol = protocol;
    this.maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? 5));
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 5_000;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.inFlight = new InFlightLimit(options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
    this.limiter = new ActionRateLimiter({
      rateLimits: options.rateLimits,
      defaultRatePerSecond: options.defaultRatePerSecond ?? 50,
      burst: options.burst ?? 1,
      clock: options.clock,
      sleep: this.sleep,
    });
    const credentialProvider = {
      getCredential: async (): Promise<SdkCredentialModel> => {
        const c = await this.credentials();
        return {
          accessKeyId: c.accessKeyId,
          accessKeySecret: c.accessKeySecret,
          securityToken: c.securityToken,
          type: c.securityToken ? 'sts' : 'access_key',
        };
      },
    };
    this.sdkClient = async () => {
      const OpenApiSdk = await loadSdk();
      const OpenApiClientClass = cjsDefault<typeof OpenApi.default.default>(OpenApiSdk);
      return new OpenApiClientClass(
        new OpenApiSdk.Config({
          endpoint: host,
          protocol,
          signatureAlgorithm: options.signatureAlgorithm === 'v2' ? 'v2' : undefined,
          connectTimeout: sdkConnectTimeoutMs(options.connectTimeoutMs, options.readTimeoutMs),
          readTimeout: options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS,
          // The SDK only needs getCredential() from a credential object; a provider that asks our
          // source on every request lets STS credentials rotate without rebuilding the client.
          credential: credentialProvider as unknown as OpenApi.Config['credential'],
        }),
      );
    };
  }

  async credentials(): Promise<EcsCredentials> {
    const source = this.options.credentials;
    const c = typeof source === 'function' ? await source() : source;
    if (!c.accessKeyId || !c.accessKeySecret) {
      throw new EcsAuthError('InvalidCredentials', 'ECS credentials are missing an access key id or secret');
    }
    return c;
  }

  ratePerSecond(action: string): number {
    return this.limiter.ratePerSecond(action);
  }

  async call(action: string, query: Query, callOptions: CallOptions = {}): Promise<Record<string, unknown>> {
    const OpenApiSdk = await loadSdk();
    this.client ??= this.sdkClient().catch((err: unknown) => {
      this.client = undefined;
      throw err;
    });
    const client = await this.client;
    const params = new OpenApiSdk.Params({
      action,
      version: this.options.apiVersion ?? ECS_API_VERSION,
      protocol: this.protocol.toUpperCase(),
      pathname: '/',
      method: 'POST',
      authType: 'AK',
      style: 'RPC',
      reqBodyType: 'formData',
      bodyType: 'json',
    });
    for (let attempt = 1; ; attempt += 1) {
      await this.limiter.acquire(action);
      let error: EcsError;
      try {
        const request = new OpenApiSdk.OpenApiRequest({ query: { ...query }, body: callOptions.body });
        const response = (await this.inFlight.run(() => client.callApi(params, request, {} as never))) as {
          body?: unknown;
        };
        this.options.onAttempt?.({ action, attempt, error: null, retryInMs: null });
        const body = response.body;
        return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
      } catch (err) {
        error = toEcsError(err, action);
      }
      const last = !error.retryable || attempt >= this.maxAttempts;
      const delay = last ? null : backoffDelayMs(attempt, this.baseDelayMs, this.maxDelayMs, this.random);
      this.options.onAttempt?.({ action, attempt, error, retryInMs: delay });
      if (delay === null) throw error;
      if (delay > 0) await this.sleep(delay);
    }
  }
}

export function parseEndpoint(
  endpoint: string,
  protocol?: 'http' | 'https',
): { host: string; protocol: 'http' | 'https' } {
  const m = /^(https?):\/\/([^/]+)\/?$/i.exec(endpoint.trim());
  if (m) {
    const scheme = m[1]!.toLowerCase() as 'http' | 'https';
    return { host: m[2]!, protocol: protocol ?? scheme };
  }
  const host = endpoint.trim().replace(/\/+$/, '');
  if (host === '' || /[/\s]/.test(host))
    throw new RangeError(`invalid ECS endpoint: ${JSON.stringify(endpoint)}`);
  return { host, protocol: protocol ?? 'https' };
}
