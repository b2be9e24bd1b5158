import type { Clock } from '../../ports/clock.js';

export type Sleep = (ms: number) => Promise<void>;

export interface RateLimiterOptions {
  /** Calls per second per action; actions not listed use `defaultRatePerSecond`. */
  rateLimits?: Record<string, number>;
  defaultRatePerSecond: number;
  /**
   * Calls an action may make back to back before spacing starts. 1 = evenly spaced, which keeps
   * any one-second window of the server at or below the rate whatever its own algorithm is.
   */
  burst: number;
  clock: Clock;
  sleep: Sleep;
}

/**
 * Client-side rate limit per ECS action (a token bucket in its GCRA form: one timestamp per action).
 * ECS publishes no per-action quotas, so every rate is a setting; callers wait for their slot instead
 * of being refused, which turns a burst of jobs into a steady stream the API accepts.
 */
export class ActionRateLimiter {
  /** Theoretical arrival time of the next call per action, epoch ms. */
  private readonly tat = new Map<string, number>();

  constructor(private readonly options: RateLimiterOptions) {
    for (const [action, rate] of Object.entries(options.rateLimits ?? {})) assertRate(rate, action);
    assertRate(options.defaultRatePerSecond, 'defaultRatePerSecond');
    if (!Number.isFinite(options.burst) || options.burst < 1) throw new RangeError('burst must be >= 1');
  }

  ratePerSecond(action: string): number {
    return this.options.rateLimits?.[action] ?? this.options.defaultRatePerSecond;
  }

  /** Resolves when the call may go out. Reservations are taken synchronously, so concurrent callers queue fairly. */
  async acquire(action: string): Promise<void> {
    const wait = this.reserve(action);
    if (wait > 0) await this.options.sleep(wait);
  }

  /** Reserves the next slot and returns how long to wait for it (ms). */
  reserve(action: string): number {
    const rate = this.ratePerSecond(action);
    if (rate === Infinity) return 0;
    const interval = 1000 / rate;
    const now = this.options.clock.now();
    const tat = Math.max(this.tat.get(action) ?? now, now);
    const allowedAt = tat - (this.options.burst - 1) * interval;
    this.tat.set(action, tat + interval);
    return Math.max(0, allowedAt - now);
  }
}

function assertRate(rate: number, name: string): void {
  if (!(rate > 0)) throw new RangeError(`rate limit for ${name} must be > 0 (got ${rate})`);
}
