import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ECS_ACTIONS,
  MNS_ACTIONS,
  MNS_TOPIC_ACTIONS,
  OSS_BUCKET_ACTIONS,
  OSS_OBJECT_ACTIONS,
  OTS_ACTIONS,
  VPC_ACTIONS,
} from '../../../infra/ram-policy.js';
import {
  desiredState,
  functionEnvironment,
  functionPolicy,
  sha256,
  type DeployConfig,
} from '../../../infra/deploy/desired.js';
import { resolveApiToken } from '../../../infra/deploy/main.js';
import { crc64, zipFolder } from '../../../infra/deploy/package.js';
import {
  canonical,
  diffProps,
  formatPlan,
  inDependencyOrder,
  keyOf,
  planChanges,
  type Described,
  type Resource,
} from '../../../infra/deploy/plan.js';

const config: DeployConfig = {
  region: 'cn-hangzhou',
  accountId: '1234567890123456',
  name: 'ecs-backup',
  tablestoreInstance: 'ecs-backup',
  exportsBucket: 'ecs-backup-exports-1234567890123456',
  exportsExpireDays: 7,
  logProject: 'ecs-backup-logs-1234567890123456',
  logstore: 'functions',
  apiTokenSecret: 'ecs-backup-api-token',
  apiTokenSha256: sha256('the-token-0123456789'),
  codeChecksums: { api: '1', scheduler: '2', worker: '3', retention: '4' },
};

const byKey = (resources: Resource[]) => new Map(resources.map((r) => [keyOf(r), r]));

describe('the plan is a diff of desired against described state', () => {
  const role: Resource = { kind: 'ram.role', name: 'r', props: { doc: { Version: '1', S: [1, 2] }, d: 'x' } };
  const fn: Resource = {
    kind: 'fc.function',
    name: 'f',
    props: { timeout: 30, env: { A: '1', B: '2' } },
    dependsOn: ['ram.role/r'],
  };

  it('creates what is not described, updates what differs, leaves the rest', () => {
    const described = new Map<string, Described>([
      ['ram.role/r', undefined],
      ['fc.function/f', { timeout: 60, env: { A: '1', B: '2' }, codeSize: 1000 }],
    ]);
    const changes = planChanges([fn, role], described);
    expect(changes.map((c) => [keyOf(c.resource), c.action])).toEqual([
      ['ram.role/r', 'create'],
      ['fc.function/f', 'update'],
    ]);
    expect(changes[1]!.fields).toEqual([{ path: 'timeout', from: 60, to: 30 }]);
  });

  it('a second run over what the first made changes nothing (extra described fields and key order ignored)', () => {
    const described = new Map<string, Described>([
      ['ram.role/r', { d: 'x', doc: { S: [1, 2], Version: '1' }, createTime: 'now' }],
      ['fc.function/f', { env: { B: '2', A: '1', FC_ADDED: 'x' }, timeout: 30 }],
    ]);
    expect(planChanges([role, fn], described).every((c) => c.action === 'unchanged')).toBe(true);
  });

  it('compares nested objects key by key and arrays as a whole', () => {
    expect(diffProps({ env: { A: '1' }, list: [1, 2] }, { env: { A: '2', Z: '9' }, list: [2, 1] })).toEqual([
      { path: 'env.A', from: '2', to: '1' },
      { path: 'list', from: [2, 1], to: [1, 2] },
    ]);
    expect(canonical({ b: 1, a: { d: 2, c: undefined } })).toBe('{"a":{"d":2},"b":1}');
  });

  it('shows an undescribed resource as unknown with all its properties (dry run without an account)', () => {
    const lines = formatPlan(planChanges([role], new Map()));
    expect(lines[0]).toMatch(/^\? unknown +ram.role\/r$/);
    expect(lines.join('\n')).toContain('doc.S = [1,2]');
    expect(lines.at(-1)).toMatch(/1 not described/);
  });

  it('never prints a secret value, in a create or in an update', () => {
    const secret: Resource = { kind: 'kms.secret', name: 's', props: { sha: 'abc123' }, secret: ['sha'] };
    const create = formatPlan(planChanges([secret], new Map([['kms.secret/s', undefined]]))).join('\n');
    const update = formatPlan(planChanges([secret], new Map([['kms.secret/s', { sha: 'old999' }]]))).join(
      '\n',
    );
    expect(create).not.toContain('abc123');
    expect(update).not.toMatch(/abc123|old999/);
    expect(update).toContain('sha: (secret) -> (secret)');
  });

  it('orders by dependency and refuses a cycle or a missing dependency', () => {
    expect(inDependencyOrder([fn, role]).map(keyOf)).toEqual(['ram.role/r', 'fc.function/f']);
    const a: Resource = { kind: 'k', name: 'a', props: {}, dependsOn: ['k/b'] };
    const b: Resource = { kind: 'k', name: 'b', props: {}, dependsOn: ['k/a'] };
    expect(() => inDependencyOrder([a, b])).toThrow(/cycle/);
    expect(() => inDependencyOrder([fn])).toThrow(/ram.role\/r, which is not in the desired state/);
  });
});

describe('the desired deployment', () => {
  const desired = byKey(desiredState(config));
  const functions = [...desired.values()].filter((r) => r.kind === 'fc.function');
  const trigger = (name: string) =>
    desired.get(`fc.trigger/${name}`)!.props.triggerConfig as Record<string, unknown>;

  it('has every dependency inside itself, in an order that can be applied', () => {
    expect(() => inDependencyOrder([...desired.values()])).not.toThrow();
    expect(functions.map((f) => f.name).sort()).toEqual([
      'ecs-backup-api',
      'ecs-backup-retention',
      'ecs-backup-scheduler',
      'ecs-backup-worker',
    ]);
  });

  it('runs the bundles on nodejs20 with logs going to SLS and no instance concurrency', () => {
    for (const f of functions) {
      expect(f.props).toMatchObject({ runtime: 'nodejs20', handler: 'index.handler' });
      expect(f.props.logConfig).toMatchObject({ project: config.logProject, logstore: 'functions' });
      expect(f.props).not.toHaveProperty('instanceConcurrency');
      expect(f.props.role).toBe('acs:ram::1234567890123456:role/ecs-backup-function');
    }
  });

  it('never puts the API token in a function environment; the api function names the secret', () => {
    for (const f of functions) {
      const env = f.props.environmentVariables as Record<string, string>;
      expect(env).not.toHaveProperty('API_TOKEN');
      expect(JSON.stringify(env)).not.toContain('the-token-0123456789');
    }
    const api = desired.get('fc.function/ecs-backup-api')!.props.environmentVariables as Record<
      string,
      string
    >;
    expect(api.API_TOKEN_SECRET).toBe('ecs-backup-api-token');
  });

  it('dead-letters what the worker trigger cannot deliver, and passes bodies undecoded', () => {
    const worker = trigger('ecs-backup-worker/jobs-queue');
    expect(worker).toMatchObject({
      eventSourceConfig: { eventSourceParameters: { sourceMNSParameters: { IsBase64Decode: false } } },
      runOptions: {
        deadLetterQueue: { Arn: 'acs:mns:cn-hangzhou:1234567890123456:/queues/ecs-backup-jobs-dlq' },
      },
    });
    expect(desired.get('mns.queue/ecs-backup-jobs')!.props.dlqPolicy).toMatchObject({ maxReceiveCount: 5 });
  });

  it('closes the HTTP trigger to the internet and puts API Gateway in front', () => {
    expect(trigger('ecs-backup-api/http')).toMatchObject({ disableURLInternet: true });
    const api = desired.get('apigw.api/ecs_backup_api/proxy')!;
    expect(api.props.serviceConfig).toMatchObject({
      functionComputeConfig: { fcVersion: '3.0', functionName: 'ecs-backup-api' },
    });
  });

  it('trusts Function Compute with the role, and grants exactly the adapters actions plus the token secret', () => {
    const role = desired.get('ram.role/ecs-backup-function')!.props.assumeRolePolicyDocument;
    expect(role).toMatchObject({ Statement: [{ Principal: { Service: ['fc.aliyuncs.com'] } }] });
    const actions = (functionPolicy(config).Statement as { Action: string[]; Resource: string[] }[]).flatMap(
      (s) => s.Action,
    );
    expect(actions.sort()).toEqual(
      [
        ...ECS_ACTIONS.map((a) => `ecs:${a}`),
        ...OTS_ACTIONS.map((a) => `ots:${a}`),
        ...MNS_ACTIONS.map((a) => `mns:${a}`),
        ...VPC_ACTIONS.map((a) => `vpc:${a}`),
        ...MNS_TOPIC_ACTIONS.map((a) => `mns:${a}`),
        ...[...OSS_OBJECT_ACTIONS, ...OSS_BUCKET_ACTIONS].map((a) => `oss:${a}`),
        'kms:GetSecretValue',
      ].sort(),
    );
    expect(functionPolicy(config).Statement).toContainEqual(
      expect.objectContaining({
        Resource: [`acs:oss:*:${config.accountId}:${config.exportsBucket}/exports/*`],
      }),
    );
    expect(functionEnvironment(config)).toMatchObject({ OSS_BUCKET: config.exportsBucket });
  });

  it('expires exported files with a lifecycle rule on the exports prefix', () => {
    expect(desired.get(`oss.bucket/${config.exportsBucket}`)!.props.lifecycle).toEqual([
      { id: 'expire-exports', prefix: 'exports/', status: 'Enabled', expirationDays: 7 },
    ]);
  });
});

describe('the deploy API token', () => {
  it('is generated once into a 0600 file and reused, so a second deploy changes nothing', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'deploy-token-'));
    try {
      const first = resolveApiToken({}, dir);
      const second = resolveApiToken({}, dir);
      expect(first.generated).toBe(true);
      expect(second).toEqual({ token: first.token, generated: false });
      expect(statSync(path.join(dir, 'api-token')).mode & 0o777).toBe(0o600);
      expect(resolveApiToken({ API_TOKEN: 'given-token-0123456789' }, dir).token).toBe(
        'given-token-0123456789',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('code packages', () => {
  it('checksums with CRC-64/XZ, as Function Compute reports codeChecksum', () => {
    expect(crc64(Buffer.from('123456789'))).toBe('11051210869376104954');
  });

  it('zips a folder to the same bytes every time, so an unchanged build uploads nothing', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'deploy-zip-'));
    try {
      writeFileSync(path.join(dir, 'index.mjs'), 'export const handler = async () => 1;\n');
      writeFileSync(path.join(dir, 'linux-backup.sh'), '#!/bin/sh\n');
      const first = zipFolder(dir);
      const second = zipFolder(dir);
      expect(first.equals(second)).toBe(true);
      // End of central directory: two entries.
      expect(first.readUInt32LE(first.length - 22)).toBe(0x06054b50);
      expect(first.readUInt16LE(first.length - 12)).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
