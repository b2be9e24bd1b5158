import { EcsApiError } from './errors.js';
import type { FaultSpec } from './types.js';

/** Injected failures, delays, throttling and per-action rate limits. */
export class Faults {
  private readonly failures = new Map<string, { remaining: number; spec: FaultSpec }[]>();
  private readonly delays = new Map<string, number>();
  private readonly throttled = new Map<string, number>();
  private readonly limits = new Map<string, number>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** diskId (or '*') -> percent at which its next snapshot fails. */
  readonly snapshotFailures = new Map<string, number>();

  constructor(rateLimits: Record<string, number> = {}) {
    for (const [action, perSecond] of Object.entries(rateLimits)) this.limits.set(action, perSecond);
  }

  failNext(spec: FaultSpec): void {
    const list = this.failures.get(spec.action) ?? [];
    list.push({ remaining: spec.count ?? 1, spec });
    this.failures.set(spec.action, list);
  }

  setDelay(action: string, ms: number): void {
    if (ms <= 0) this.delays.delete(action);
    else this.delays.set(action, ms);
  }

  setThrottle(action: string, fraction: number): void {
    if (fraction <= 0) this.throttled.delete(action);
    else this.throttled.set(action, Math.min(1, fraction));
  }

  setRateLimit(action: string, perSecond: number | null): void {
    this.buckets.delete(action);
    if (perSecond === null || perSecond <= 0) this.limits.delete(action);
    else this.limits.set(action, perSecond);
  }

  clear(): void {
    this.failures.clear();
    this.delays.clear();
    this.throttled.clear();
    this.snapshotFailures.clear();
  }

  delayFor(action: string): number {
    return this.delays.get(action) ?? this.delays.get('*') ?? 0;
  }

  /** Throws the error this call must answer with, if any. Order: rate limit, throttle, injected failure. */
  check(action: string, now: number): void {
    const limit = this.limits.get(action) ?? this.limits.get('*');
    if (limit !== undefined) {
      // A token bucket of one second's worth: short bursts pass, sustained excess is refused.
      const key = this.limits.has(action) ? action : `*:${action}`;
      const b = this.buckets.get(key) ?? { tokens: limit, at: now };
      b.tokens = Math.min(limit, b.tokens + ((now - b.at) * limit) / 1000);
      b.at = now;
      this.buckets.set(key, b);
      if (b.tokens < 1) throw throttling();
      b.tokens -= 1;
    }
    const fraction = this.throttled.get(action) ?? this.throttled.get('*');
    if (fraction !== undefined && Math.random() < fraction) throw throttling();
    for (const key of [action, '*']) {
      const list = this.failures.get(key);
      const head = list?.[0];
      if (!list || !head) continue;
      head.remaining -= 1;
      if (head.remaining <= 0) list.shift();
      if (list.length === 0) this.failures.delete(key);
      throw new EcsApiError(
        head.spec.code,
        head.spec.message ?? `Injected failure ${head.spec.code}.`,
        head.spec.status ?? 500,
      );
    }
  }

  takeSnapshotFailure(diskId: string): number | null {
    for (const key of [diskId, '*']) {
      const pct = this.snapshotFailures.get(key);
      if (pct !== undefined) {
        this.snapshotFailures.delete(key);
        return pct;
      }
    }
    return null;
  }
}

export function throttling(): EcsApiError {
  return new EcsApiError('Throttling.User', 'Request was denied due to user flow control.', 400);
}
