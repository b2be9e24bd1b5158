import type { Clock } from '../../ports/clock.js';
import { SystemClock } from '../system.js';
import { EcsAdapter } from './adapter.js';
import type { Sleep } from './rate-limiter.js';
import { VPC_API_VERSION, vpcEndpointFor } from './launch.js';
import { EcsRpcClient, type AttemptEvent, type CredentialsSource } from './rpc-client.js';

export { EcsAdapter, BATCH_LIMITS } from './adapter.js';
export { EcsRpcClient, ECS_API_VERSION, parseEndpoint } from './rpc-client.js';
export type { AttemptEvent, CredentialsSource, EcsCredentials } from './rpc-client.js';
export { ActionRateLimiter } from './rate-limiter.js';
export {
  backoffDelayMs,
  classifyEcsCode,
  ecsErrorFor,
  isRetryableCode,
  NO_ANSWER_CODE,
  toEcsError,
  type EcsErrorClass,
} from './errors.js';
export { parseProgress, parseTime, decodeOutput } from './mappers.js';
export { presignRpcGetUrl, percentEncode, rpcTimestamp } from './presign.js';

export interface EcsAdapterOptions {
  /** `ecs.cn-hangzhou.aliyuncs.com`, `127.0.0.1:9090`, or a URL whose scheme sets the protocol. */
  endpoint: string;
  regionId: string;
  /** Default https, or the endpoint URL's scheme. */
  protocol?: 'http' | 'https';
  credentials: CredentialsSource;
  /** `v3` (default) = ACS3-HMAC-SHA256; `v2` = classic RPC HMAC-SHA1. Presigned URLs are always v2. */
  signatureAlgorithm?: 'v2' | 'v3';
  /** Calls per second per action name, e.g. `{ CreateSnapshotGroup: 20 }`. */
  rateLimits?: Record<string, number>;
  /** For actions not in `rateLimits`. Default 50. */
  defaultRatePerSecond?: number;
  /** Back-to-back calls allowed per action before spacing applies. Default 1 (evenly spaced). */
  burst?: number;
  /** Attempts per call including the first. Default 5. */
  maxAttempts?: number;
  /** Requests on the wire at once per client; more wait their turn before their timeouts start. Default 32. */
  maxInFlight?: number;
  /** Backoff: uniform in [0, min(maxDelayMs, baseDelayMs * 2^(n-1))]. Defaults 100 ms and 5 s. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Default 5 s; in effect never shorter than `readTimeoutMs` (the SDK applies it as the socket's idle timeout). */
  connectTimeoutMs?: number;
  /** Default 15 s. */
  readTimeoutMs?: number;
  clock?: Clock;
  sleep?: Sleep;
  random?: () => number;
  onAttempt?: (event: AttemptEvent) => void;
  /** VPC endpoint for DescribeVSwitches; default `vpc.<region>.aliyuncs.com` beside a real ECS endpoint, else the same endpoint (the local emulator serves both). */
  vpcEndpoint?: string;
}

/** The `Ecs` port on the official SDK's generic OpenAPI client (see the README for why not the typed client). */
export function createEcsAdapter(options: EcsAdapterOptions): EcsAdapter {
  const clock = options.clock ?? new SystemClock();
  const rpc = new EcsRpcClient({ ...options, clock });
  const vpc = new EcsRpcClient({
    ...options,
    endpoint: options.vpcEndpoint ?? vpcEndpointFor(options.endpoint, options.regionId),
    apiVersion: VPC_API_VERSION,
    clock,
  });
  const regional = new Map<string, EcsRpcClient>([[options.regionId, rpc]]);
  const rpcFor = (regionId: string): EcsRpcClient => {
    let client = regional.get(regionId);
    if (!client) {
      const endpoint = regionalEndpoint(options.endpoint, options.regionId, regionId);
      client = endpoint === options.endpoint ? rpc : new EcsRpcClient({ ...options, endpoint, clock });
      regional.set(regionId, client);
    }
    return client;
  };
  return new EcsAdapter(rpc, options.regionId, clock, vpc, rpcFor);
}

/**
 * ECS serves each region at `ecs.<region>.aliyuncs.com` (actions without a RegionId, such as
 * DeleteSnapshot, act in the endpoint's region): a regional endpoint is swapped for the other
 * region's. Any other endpoint (the local emulator, a proxy) serves every region itself.
 */
export function regionalEndpoint(endpoint: string, fromRegion: string, toRegion: string): string {
  return endpoint.replace(`ecs.${fromRegion}.aliyuncs.com`, `ecs.${toRegion}.aliyuncs.com`);
}
