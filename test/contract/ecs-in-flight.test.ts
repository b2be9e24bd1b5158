import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createEcsAdapter } from '../../lib/adapters/ecs/index.js';
import { InFlightLimit } from '../../lib/adapters/ecs/in-flight.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('InFlightLimit', () => {
  it('runs at most `limit` at once, starts waiters in arrival order, and frees the slot of a failure', async () => {
    const limit = new InFlightLimit(3);
    let active = 0;
    let peak = 0;
    const started: number[] = [];
    const task = (n: number) => async () => {
      started.push(n);
      active += 1;
      peak = Math.max(peak, active);
      await tick(5);
      active -= 1;
      if (n === 1) throw new Error('refused');
      return n;
    };

    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, n) => limit.run(task(n))));

    expect(peak).toBe(3);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(9);
    expect(limit.queued).toBe(0);
    await expect(limit.run(async () => 'free again')).resolves.toBe('free again');
  });

  it('refuses a limit that is not a whole number of at least 1', () => {
    expect(() => new InFlightLimit(0)).toThrow(/in-flight limit/);
    expect(() => new InFlightLimit(1.5)).toThrow(/in-flight limit/);
  });
});

/** A server that answers every request after `ms` and records how many were open at once. */
async function slowServer(ms: number) {
  const seen = { requests: 0, open: 0, peak: 0 };
  const server = http.createServer((_req, res) => {
    seen.requests += 1;
    seen.open += 1;
    seen.peak = Math.max(seen.peak, seen.open);
    setTimeout(() => {
      seen.open -= 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ RequestId: 'ok', Disks: { Disk: [] } }));
    }, ms);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    seen,
    endpoint: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((r) => server.close(r)),
  };
}

describe('ECS adapter: requests in flight (against a slow server)', () => {
  it.each([
    { maxInFlight: 4, peakAtMost: 4 },
    { maxInFlight: 1000, peakAtMost: 30 },
  ])(
    'a burst of 30 calls with maxInFlight $maxInFlight: one request each, never more than the cap open',
    async ({ maxInFlight, peakAtMost }) => {
      const server = await slowServer(50);
      try {
        const ecs = createEcsAdapter({
          endpoint: server.endpoint,
          protocol: 'http',
          regionId: 'cn-hangzhou',
          credentials: { accessKeyId: 'ak', accessKeySecret: 'sk' },
          defaultRatePerSecond: Infinity,
          maxInFlight,
        });

        await Promise.all(Array.from({ length: 30 }, (_, n) => ecs.describeInstanceDisks(`i-${n}`)));

        expect(server.seen.requests).toBe(30);
        expect(server.seen.peak).toBeLessThanOrEqual(peakAtMost);
        // Without the cap the burst really is concurrent, so the cap is what holds the peak down.
        if (maxInFlight > 30) expect(server.seen.peak).toBeGreaterThan(4);
        else expect(server.seen.peak).toBe(maxInFlight);
      } finally {
        await server.close();
      }
    },
  );
});
