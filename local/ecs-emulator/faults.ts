import { EcsApiError } from './errors.js';
import type { FaultSpec } from './types.js';

/** Injected failures, delays, held calls, throttling and per-action rate limits. */
export class Faults {
  private readonly failures = new Map<string, { remaining: number; spec: FaultSpec }[]>();
  private readonly delays = new Map<string, number>();
  private readonly throttled = new Map<string, number>();
  private readonly limits = new Map<string, number>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** action (or '*') -> how many of its next calls still have to be held. */
  private readonly holds = new Map<string, number>();
  private readonly heldCalls: { action: string; release: () => void }[] = [];
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
    this.release();
  }

  hold(action: string, count: number): void {
    this.holds.set(action, (this.holds.get(action) ?? 0) + Math.max(1, Math.floor(count)));
  }

  /** Calls waiting in `waitIfHeld` now, of one action or of all. */
  held(action?: string): number {
    return this.heldCalls.filter((c) => action === undefined || c.action === action).length;
  }

  /**
   * Lets the held calls of the action (all when none is given) go on, and drops holds not taken yet,
   * so a test that releases never leaves a trap for the next call.
   */
  release(action?: string): number {
    if (action === undefined) this.holds.clear();
    else this.holds.delete(action);
    const go = this.heldCalls.filter((c) => action === undefined || c.action === action);
    for (const c of go) this.heldCalls.splice(this.heldCalls.indexOf(c), 1);
    for (const c of go) c.release();
    return go.length;
  }

  /** Resolves at once, unless a hold on this action (or '*') is pending: then when it is released. */
  async waitIfHeld(action: string): Promise<void> {
    for (const key of [action, '*']) {
      const remaining = this.holds.get(key);
      if (remaining === undefined) continue;
      if (remaining <= 1) this.holds.delete(key);
      else this.holds.set(key, remaining - 1);
      await new Promise<void>((resolve) => this.heldCalls.push({ action, release: resolve }));
      return;
    }
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
