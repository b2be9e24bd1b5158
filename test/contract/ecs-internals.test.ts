import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  ActionRateLimiter,
  backoffDelayMs,
  createEcsAdapter,
  decodeOutput,
  isRetryableCode,
  parseEndpoint,
  parseProgress,
  parseTime,
  percentEncode,
  presignRpcGetUrl,
  rpcTimestamp,
  toEcsError,
  type AttemptEvent,
} from '../../lib/adapters/ecs/index.js';
import { parseSnapshotGroup } from '../../lib/adapters/ecs/mappers.js';
import { EcsError } from '../../lib/ports/ecs.js';
import { ManualClock } from '../support/clock.js';

/** Pieces of the ECS adapter that need no emulator: limits, backoff, parsing, signing, error mapping. */

describe('ActionRateLimiter', () => {
  it('spaces calls of one action evenly and leaves other actions alone', () => {
    const clock = new ManualClock(1_000_000);
    const limiter = new ActionRateLimiter({
      rateLimits: { CreateSnapshotGroup: 20 },
      defaultRatePerSecond: 100,
      burst: 1,
      clock,
      sleep: async () => undefined,
    });

    expect([1, 2, 3, 4].map(() => limiter.reserve('CreateSnapshotGroup'))).toEqual([0, 50, 100, 150]);
    expect(limiter.reserve('DescribeSnapshotGroups')).toBe(0);
    expect(limiter.reserve('DescribeSnapshotGroups')).toBe(10);
    clock.advance(1_000);
    expect(limiter.reserve('CreateSnapshotGroup')).toBe(0);
  });

  it('lets a burst through, then spaces', () => {
    const clock = new ManualClock(0);
    const limiter = new ActionRateLimiter({
      defaultRatePerSecond: 10,
      burst: 3,
      clock,
      sleep: async () => undefined,
    });

    expect([1, 2, 3, 4, 5].map(() => limiter.reserve('X'))).toEqual([0, 0, 0, 100, 200]);
  });

  it('never admits more than rate x seconds + burst calls, whatever the arrival pattern', () => {
    const clock = new ManualClock(0);
    const limiter = new ActionRateLimiter({
      defaultRatePerSecond: 7,
      burst: 1,
      clock,
      sleep: async () => undefined,
    });
    const admitted: number[] = [];
    for (let i = 0; i < 200; i += 1) {
      clock.advance((i * 37) % 90);
      admitted.push(clock.now() + limiter.reserve('X'));
    }
    admitted.sort((a, b) => a - b);
    for (let i = 7; i < admitted.length; i += 1)
      expect(admitted[i]! - admitted[i - 7]!).toBeGreaterThanOrEqual(1000 - 1e-6);
  });

  it('refuses a rate that is not positive', () => {
    const clock = new ManualClock(0);
    expect(
      () =>
        new ActionRateLimiter({
          rateLimits: { X: 0 },
          defaultRatePerSecond: 1,
          burst: 1,
          clock,
          sleep: async () => {},
        }),
    ).toThrow(/rate limit for X/);
  });
});

describe('retry classification and backoff', () => {
  it.each([
    ['Throttling', 400, true],
    ['Throttling.User', 400, true],
    ['Throttling.Api', 503, true],
    ['Rejected.Throttling', 400, true],
    ['InternalError', 500, true],
    ['ServiceUnavailable', 503, true],
    ['IdempotentProcessing', 403, true],
    ['SomethingNew', 502, true],
    ['IncorrectDiskStatus.CreatingSnapshot', 403, false],
    ['QuotaExceed.Snapshot', 403, false],
    ['IdempotentParameterMismatch', 400, false],
    ['InvalidInstanceId.NotFound', 404, false],
    ['SignatureDoesNotMatch', 400, false],
  ])('%s (HTTP %i) retryable: %s', (code, status, retryable) => {
    expect(isRetryableCode(code, status)).toBe(retryable);
  });

  it('full jitter stays within [0, min(max, base * 2^(n-1))]', () => {
    expect(backoffDelayMs(1, 100, 5000, () => 0.999)).toBe(99);
    expect(backoffDelayMs(4, 100, 5000, () => 0.999)).toBe(799);
    expect(backoffDelayMs(20, 100, 5000, () => 0.999)).toBe(4995);
    expect(backoffDelayMs(3, 100, 5000, () => 0)).toBe(0);
  });
});

describe('toEcsError', () => {
  it('keeps the code, message, status and request id of an ECS answer', () => {
    const sdkError = Object.assign(new Error('QuotaExceed.Snapshot: code: 403, ...'), {
      code: 'QuotaExceed.Snapshot',
      statusCode: 403,
      data: {
        Code: 'QuotaExceed.Snapshot',
        Message: 'Too many snapshots.',
        RequestId: 'R-1',
        statusCode: 403,
      },
    });
    const e = toEcsError(sdkError, 'CreateSnapshot');
    expect(e).toBeInstanceOf(EcsError);
    expect(e).toMatchObject({ code: 'QuotaExceed.Snapshot', statusCode: 403, retryable: false });
    expect(e.message).toBe('Too many snapshots. (RequestId R-1)');
    expect(e.cause).toBe(sdkError);
  });

  it('treats a socket error, a timeout or an unreadable body as no answer (retryable)', () => {
    for (const err of [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('ReadTimeout(15000). GET http://x failed.'), { name: 'RequestTimeoutError' }),
      new SyntaxError('Unexpected token < in JSON at position 0'),
      'a string',
    ]) {
      const e = toEcsError(err, 'DescribeDisks');
      expect(e).toMatchObject({ code: 'NetworkError', statusCode: null, retryable: true });
      expect(e.message).toMatch(/^DescribeDisks: no answer from ECS: /);
    }
  });

  it('passes an EcsError through unchanged', () => {
    const original = new EcsError('X', 'y', { statusCode: 400 });
    expect(toEcsError(original, 'A')).toBe(original);
  });
});

describe('parsing ECS answers', () => {
  it.each([
    ['73%', 73],
    ['100%', 100],
    ['0%', 0],
    ['12.5%', 12.5],
    ['', 0],
    [undefined, 0],
    ['abc', 0],
    ['150%', 100],
    [42, 42],
  ])('progress %j -> %d', (raw, n) => {
    expect(parseProgress(raw)).toBe(n);
  });

  it.each([
    ['2024-05-01T08:00:00Z', Date.UTC(2024, 4, 1, 8, 0, 0)],
    ['2024-05-01T08:00Z', Date.UTC(2024, 4, 1, 8, 0, 0)],
    ['2024-05-01T08:00:00.123Z', Date.UTC(2024, 4, 1, 8, 0, 0, 123)],
    ['2024-05-01T16:00:00+08:00', Date.UTC(2024, 4, 1, 8, 0, 0)],
    ['2024-05-01 08:00:00', Date.UTC(2024, 4, 1, 8, 0, 0)],
    ['', null],
    ['yesterday', null],
    [null, null],
  ])('time %j -> %j', (raw, t) => {
    expect(parseTime(raw)).toBe(t);
  });

  it('derives member snapshot status from progress and the group', () => {
    const group = parseSnapshotGroup({
      SnapshotGroupId: 'ssg-1',
      InstanceId: 'i-1',
      Status: 'progressing',
      CreationTime: '2024-05-01T08:00:00Z',
      Tags: { Tag: [{ Key: 'k', Value: 'v' }] },
      Snapshots: {
        Snapshot: [
          {
            SnapshotId: 's-1',
            SourceDiskId: 'd-1',
            SourceDiskType: 'System',
            Progress: '100%',
            Available: true,
          },
          {
            SnapshotId: 's-2',
            SourceDiskId: 'd-2',
            SourceDiskType: 'Data',
            Progress: '40%',
            Available: false,
          },
        ],
      },
    });
    expect(group.tags).toEqual([{ key: 'k', value: 'v' }]);
    expect(group.snapshots.map((s) => [s.sourceDiskType, s.status, s.progress, s.createdAt])).toEqual([
      ['system', 'accomplished', 100, Date.UTC(2024, 4, 1, 8)],
      ['data', 'progressing', 40, Date.UTC(2024, 4, 1, 8)],
    ]);
    const failed = parseSnapshotGroup({
      SnapshotGroupId: 'ssg-2',
      Status: 'failed',
      Snapshots: { Snapshot: { SnapshotId: 's-3', Progress: '10%' } },
    });
    expect(failed.snapshots.map((s) => s.status)).toEqual(['failed']);
  });

  it('decodes base64 command output as UTF-8', () => {
    expect(decodeOutput(Buffer.from('héllo\nECSB x=1\n').toString('base64'))).toBe('héllo\nECSB x=1\n');
    expect(decodeOutput('')).toBe('');
  });

  it('reads an endpoint as host or URL', () => {
    expect(parseEndpoint('ecs.cn-hangzhou.aliyuncs.com')).toEqual({
      host: 'ecs.cn-hangzhou.aliyuncs.com',
      protocol: 'https',
    });
    expect(parseEndpoint('http://127.0.0.1:9090/')).toEqual({ host: '127.0.0.1:9090', protocol: 'http' });
    expect(parseEndpoint('127.0.0.1:9090', 'http')).toEqual({ host: '127.0.0.1:9090', protocol: 'http' });
    expect(() => parseEndpoint('')).toThrow(RangeError);
    expect(() => parseEndpoint('host/path')).toThrow(RangeError);
  });
});

describe('presignRpcGetUrl', () => {
  it('signs exactly as the Alibaba Cloud RPC v1.0 spec says (independent HMAC-SHA1 check)', async () => {
    const url = await presignRpcGetUrl({
      host: 'ecs.cn-hangzhou.aliyuncs.com',
      protocol: 'https',
      action: 'CreateSnapshotGroup',
      params: {
        RegionId: 'cn-hangzhou',
        InstanceId: 'i-1',
        'DiskId.1': 'd-1',
        Name: "a b*c'~",
        ClientToken: 'job-1',
      },
      credentials: { accessKeyId: 'AKID', accessKeySecret: 'SECRET', securityToken: 'STS/TOKEN+=' },
      now: Date.UTC(2026, 10, 27, 16, 32, 40, 999),
      nonce: 'nonce-1',
    });
    const parsed = new URL(url);
    expect(parsed.origin).toBe('https://ecs.cn-hangzhou.aliyuncs.com');
    const params = Object.fromEntries(parsed.searchParams);
    expect(params).toMatchObject({
      Action: 'CreateSnapshotGroup',
      Version: '2014-05-26',
      Format: 'JSON',
      SignatureMethod: 'HMAC-SHA1',
      SignatureVersion: '1.0',
      SignatureNonce: 'nonce-1',
      Timestamp: '2026-11-27T16:32:40Z',
      SecurityToken: 'STS/TOKEN+=',
      AccessKeyId: 'AKID',
      Name: "a b*c'~",
    });
    const { Signature, ...signed } = params;
    const canonical = Object.keys(signed)
      .sort()
      .map((k) => `${percentEncode(k)}=${percentEncode(signed[k]!)}`)
      .join('&');
    const expected = createHmac('sha1', 'SECRET&')
      .update(`GET&${percentEncode('/')}&${percentEncode(canonical)}`)
      .digest('base64');
    expect(Signature).toBe(expected);
    // Spaces are %20 (never +) and * is %2A, as the signature was computed over.
    expect(url).toContain('Name=a%20b%2Ac%27~');
  });

  it('formats timestamps to the second in UTC', () => {
    expect(rpcTimestamp(Date.UTC(2030, 0, 2, 3, 4, 5, 678))).toBe('2030-01-02T03:04:05Z');
  });
});

describe('EcsRpcClient retry loop (against a scripted server)', () => {
  it('retries with bounded full-jitter delays and never sleeps longer than maxDelayMs', async () => {
    let n = 0;
    const server = http.createServer((_req, res) => {
      n += 1;
      const fail = n <= 4;
      res.writeHead(fail ? 400 : 200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          fail
            ? { Code: 'Throttling.User', Message: 'slow down', RequestId: `r${n}` }
            : { RequestId: 'ok', Instances: { Instance: [] } },
        ),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const slept: number[] = [];
    const events: AttemptEvent[] = [];
    try {
      const ecs = createEcsAdapter({
        endpoint: `127.0.0.1:${(server.address() as AddressInfo).port}`,
        protocol: 'http',
        regionId: 'cn-hangzhou',
        credentials: { accessKeyId: 'ak', accessKeySecret: 'sk' },
        maxAttempts: 6,
        baseDelayMs: 100,
        maxDelayMs: 300,
        defaultRatePerSecond: Infinity,
        random: () => 0.999,
        sleep: async (ms) => {
          slept.push(ms);
        },
        onAttempt: (e) => events.push(e),
      });
      expect(await ecs.describeInstances(['i-1'])).toEqual([]);
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(n).toBe(5);
    expect(slept).toEqual([99, 199, 299, 299]);
    expect(events.map((e) => e.error?.code ?? 'ok')).toEqual([
      'Throttling.User',
      'Throttling.User',
      'Throttling.User',
      'Throttling.User',
      'ok',
    ]);
  });
});

describe('deleteSnapshotGroup (against a scripted server)', () => {
  it('turns a per-snapshot failure inside a 200 answer into a non-retryable EcsError naming the snapshot', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          RequestId: 'r',
          OperationProgressSet: {
            OperationProgress: [
              {
                OperationStatus: 'Success',
                RelatedItemSet: { RelatedItem: [{ Name: 'SnapshotId', Value: 's-ok' }] },
              },
              {
                OperationStatus: 'Failed',
                ErrorCode: 'SnapshotCreatedImage',
                ErrorMsg: 'The snapshot has been used to create a custom image.',
                RelatedItemSet: { RelatedItem: [{ Name: 'SnapshotId', Value: 's-image' }] },
              },
            ],
          },
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const ecs = createEcsAdapter({
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        regionId: 'cn-hangzhou',
        credentials: { accessKeyId: 'ak', accessKeySecret: 'sk' },
      });
      const err = await ecs.deleteSnapshotGroup('ssg-1').then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EcsError);
      expect(err).toMatchObject({ code: 'SnapshotCreatedImage', retryable: false });
      expect((err as EcsError).message).toBe(
        'The snapshot has been used to create a custom image. (SnapshotId=s-image)',
      );
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
