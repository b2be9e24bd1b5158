/**
 * At most `limit` requests of one client on the wire at once; the rest wait their turn in order.
 * A request's timeouts start when it goes out, so they measure how long ECS takes to answer, not how
 * long our own burst queues behind it: without the cap, a thousand jobs starting together put a
 * thousand requests in flight, the last ones outlive the read timeout while ECS is still working
 * through the first, and each retry adds one more request ECS then carries out twice.
 */
export class InFlightLimit {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`in-flight limit must be an integer >= 1 (got ${limit})`);
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active += 1;
    try {
      return await fn();
    } finally {
      // The slot passes straight to the next waiter, so a newcomer cannot overtake the queue.
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }

  /** Requests waiting for a slot (tests, metrics). */
  get queued(): number {
    return this.waiting.length;
  }
}
