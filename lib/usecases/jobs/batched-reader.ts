import type { Clock } from '../../ports/clock.js';

export interface BatchedReaderOptions<T> {
  /** ECS's per-call id limit for the action (10 groups, 100 snapshots, ...). */
  maxBatch: number;
  /** How long an observation answers later questions about the same id. */
  ttlMs: number;
  /** How long the first request of a batch waits for others to join it. */
  windowMs: number;
  /** An id nobody asked about for this long is no longer refreshed on the side. */
  forgetAfterMs: number;
  clock: Clock;
  fetch(ids: string[]): Promise<T[]>;
  keyOf(item: T): string;
}

interface Pending<T> {
  resolve(value: T | null): void;
  reject(err: unknown): void;
}

interface Entry<T> {
  value: T | null;
  at: number;
}

/**
 * Reads the state of many ECS resources with few calls. Requests made close together share one
 * call, and every call is filled up to the action's id limit with other ids being watched (the
 * other jobs' snapshots in progress), so a job that polls a moment later finds a fresh answer in
 * the cache. N jobs polling make about N / maxBatch calls per poll round instead of N.
 */
export class BatchedReader<T> {
  private readonly cache = new Map<string, Entry<T>>();
  private readonly watched = new Map<string, number>();
  private readonly pending = new Map<string, Pending<T>[]>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  calls = 0;

  constructor(private readonly options: BatchedReaderOptions<T>) {}

  /** Keep refreshing `id` on the side of other reads until it is unwatched or forgotten. */
  watch(id: string): void {
    this.watched.set(id, this.options.clock.now());
  }

  unwatch(id: string): void {
    this.watched.delete(id);
    this.cache.delete(id);
  }

  /** The resource, or null when ECS does not know it. `maxAgeMs` overrides the cache lifetime. */
  get(id: string, maxAgeMs = this.options.ttlMs): Promise<T | null> {
    const now = this.options.clock.now();
    if (this.watched.has(id)) this.watched.set(id, now);
    const hit = this.cache.get(id);
    if (hit && now - hit.at <= maxAgeMs) return Promise.resolve(hit.value);
    return new Promise<T | null>((resolve, reject) => {
      const waiting = this.pending.get(id);
      if (waiting) waiting.push({ resolve, reject });
      else this.pending.set(id, [{ resolve, reject }]);
      if (this.pending.size >= this.options.maxBatch) this.flushSoon(0);
      else this.flushSoon(this.options.windowMs);
    });
  }

  private flushSoon(delayMs: number): void {
    if (this.timer !== null) {
      if (delayMs > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, delayMs);
  }

  private async flush(): Promise<void> {
    const { maxBatch, clock } = this.options;
    const requested = [...this.pending.keys()].slice(0, maxBatch);
    const waiters = new Map<string, Pending<T>[]>();
    for (const id of requested) {
      waiters.set(id, this.pending.get(id) ?? []);
      this.pending.delete(id);
    }
    if (this.pending.size > 0) this.flushSoon(0);
    const ids = [...requested, ...this.sideIds(maxBatch - requested.length, new Set(requested))];
    try {
      this.calls += 1;
      const items = await this.options.fetch(ids);
      const at = clock.now();
      const found = new Map(items.map((item) => [this.options.keyOf(item), item]));
      for (const id of ids) this.cache.set(id, { value: found.get(id) ?? null, at });
      for (const [id, list] of waiters) for (const w of list) w.resolve(found.get(id) ?? null);
    } catch (err) {
      for (const list of waiters.values()) for (const w of list) w.reject(err);
    }
  }

  /** Watched ids with the oldest observations, to ride along in a call that has room. */
  private sideIds(room: number, exclude: Set<string>): string[] {
    if (room <= 0) return [];
    const now = this.options.clock.now();
    const candidates: { id: string; age: number }[] = [];
    for (const [id, lastAsked] of this.watched) {
      if (now - lastAsked > this.options.forgetAfterMs) {
        this.watched.delete(id);
        this.cache.delete(id);
        continue;
      }
      if (exclude.has(id)) continue;
      const seen = this.cache.get(id);
      const age = seen ? now - seen.at : Number.POSITIVE_INFINITY;
      // A fresh observation gains nothing from another read.
      if (age > this.options.ttlMs / 2) candidates.push({ id, age });
    }
    candidates.sort((a, b) => b.age - a.age);
    return candidates.slice(0, room).map((c) => c.id);
  }
}
