import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coldStart } from '../../../lib/runtime/cold-start.js';
import type { Deps } from '../../../lib/runtime/deps.js';

const CLOUD_ENV = {
  STORE: 'tablestore',
  QUEUE: 'mns',
  TABLESTORE_ENDPOINT: 'http://127.0.0.1:9',
  TABLESTORE_INSTANCE: 'ecs-backup',
  MNS_ENDPOINT: 'http://127.0.0.1:9',
  ECS_REGION: 'cn-hangzhou',
};
const context = {
  requestId: 'r1',
  credentials: { accessKeyId: 'STS.a', accessKeySecret: 's', securityToken: 't' },
};

describe('coldStart', () => {
  let kms: http.Server;
  let kmsUrl: string;
  const kmsRequests: string[] = [];
  beforeAll(async () => {
    // Answers GetSecretValue as KMS does; records what was asked.
    kms = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        kmsRequests.push(`${String(req.headers['x-acs-action'])} ${req.url ?? ''} ${body}`);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ SecretName: 'ecs-backup-api-token', SecretData: 'token-from-kms-0123456789' }),
        );
      });
    });
    await new Promise<void>((r) => kms.listen(0, '127.0.0.1', r));
    kmsUrl = `http://127.0.0.1:${(kms.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => kms.close(() => r())));

  it('builds the dependencies once per instance and hands them to the function', async () => {
    const built: Deps[] = [];
    const handler = coldStart((deps) => {
      built.push(deps);
      return async () => deps.settings.STORE;
    }, CLOUD_ENV);

    const answers = [await handler(Buffer.from('{}'), context), await handler(Buffer.from('{}'), context)];

    expect(answers).toEqual(['tablestore', 'tablestore']);
    expect(built).toHaveLength(1);
  });

  it('logs once, when the instance is ready, how long after the process started', async () => {
    const lines: Record<string, unknown>[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      const text = String(chunk);
      if (text.includes('instance ready')) lines.push(JSON.parse(text) as Record<string, unknown>);
      return write(chunk, ...rest);
    }) as typeof process.stdout.write;
    try {
      const handler = coldStart(() => async () => 'ok', CLOUD_ENV);
      await handler(Buffer.from('{}'), context);
      await handler(Buffer.from('{}'), context);
    } finally {
      process.stdout.write = write;
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', message: 'instance ready' });
    expect(lines[0]!.msSinceProcessStart).toBeGreaterThan(0);
    expect(lines[0]!.msSinceProcessStart).toBeLessThanOrEqual(Math.round(performance.now()));
  });

  it('refuses SQLite or the embedded queue: a deployed function runs on Tablestore and MNS', async () => {
    const handler = coldStart(() => async () => 'never', { ...CLOUD_ENV, STORE: 'sqlite' });
    await expect(handler(Buffer.from('{}'), context)).rejects.toThrow(/STORE=tablestore and QUEUE=mns/);
  });

  it('tries again after a failed build instead of keeping the failure', async () => {
    const env: Record<string, string | undefined> = { ...CLOUD_ENV, TABLESTORE_ENDPOINT: undefined };
    const handler = coldStart((deps) => async () => deps.settings.TABLESTORE_ENDPOINT, env);
    await expect(handler(Buffer.from('{}'), context)).rejects.toThrow(/TABLESTORE_ENDPOINT/);
    env.TABLESTORE_ENDPOINT = 'http://127.0.0.1:9';
    expect(await handler(Buffer.from('{}'), context)).toBe('http://127.0.0.1:9');
  });

  it('reads the API token from KMS Secrets Manager when API_TOKEN_SECRET names it', async () => {
    const handler = coldStart((deps) => async () => deps.settings.API_TOKEN, {
      ...CLOUD_ENV,
      API_TOKEN_SECRET: 'ecs-backup-api-token',
      KMS_ENDPOINT: kmsUrl,
    });

    expect(await handler(Buffer.from('{}'), context)).toBe('token-from-kms-0123456789');
    expect(kmsRequests.some((r) => r.includes('GetSecretValue') && r.includes('ecs-backup-api-token'))).toBe(
      true,
    );
  });
});
