import { describe, expect, it } from 'vitest';
import { desiredState, sha256, type DeployConfig } from '../../../infra/deploy/desired.js';
import { CloudError, type ApiCall } from '../../../infra/deploy/http.js';
import { keyOf, planChanges, type Described, type Resource } from '../../../infra/deploy/plan.js';
import {
  apiGatewayProviders,
  fcFunctionProvider,
  fcTriggerProvider,
} from '../../../infra/deploy/providers-compute.js';
import { kmsSecretProvider, ramProviders } from '../../../infra/deploy/providers-platform.js';

const config: DeployConfig = {
  region: 'cn-hangzhou',
  accountId: '1234567890123456',
  name: 'ecs-backup',
  tablestoreInstance: 'ecs-backup',
  exportsBucket: 'b',
  exportsExpireDays: 7,
  logProject: 'p',
  logstore: 'functions',
  apiTokenSecret: 'ecs-backup-api-token',
  apiTokenSha256: sha256('token-0123456789abcdef'),
  codeChecksums: { api: '11', scheduler: '22', worker: '33', retention: '44' },
};
const desired = new Map(desiredState(config).map((r) => [keyOf(r), r]));
/** One resource, planned on its own (its dependencies are not under test here). */
const get = (key: string): Resource => ({ ...(desired.get(key) as Resource), dependsOn: [] });

/** A cloud that keeps what it is told, answering as the service does, and records every call. */
function fakeCloud() {
  const calls: ApiCall[] = [];
  const store = new Map<string, Record<string, unknown>>();
  const notFound = (what: string) => new CloudError(`${what} not found`, 'EntityNotExist', 404);
  const call = async (c: ApiCall): Promise<Record<string, unknown>> => {
    calls.push(c);
    const body = (c.body ?? {}) as Record<string, unknown>;
    const q = c.query ?? {};
    switch (c.action) {
      case 'GetFunction': {
        const f = store.get(`fn:${c.pathname!.split('/').pop()}`);
        if (!f) throw notFound('function');
        return f;
      }
      case 'CreateFunction':
      case 'UpdateFunction': {
        const name = (body.functionName as string) ?? c.pathname!.split('/').pop();
        const { code, ...rest } = body as { code?: { zipFile: string } };
        const prev = store.get(`fn:${name}`) ?? {};
        store.set(`fn:${name}`, {
          ...prev,
          ...rest,
          codeChecksum: code ? `crc-of-${code.zipFile}` : prev.codeChecksum,
          codeSize: 1,
        });
        return {};
      }
      case 'GetTrigger': {
        const t = store.get(`trigger:${c.pathname}`);
        if (!t) throw notFound('trigger');
        return t;
      }
      case 'CreateTrigger':
        store.set(`trigger:${c.pathname}/${String(body.triggerName)}`, { ...body, createdTime: 'now' });
        return {};
      case 'GetRole': {
        const r = store.get(`role:${q.RoleName}`);
        if (!r) throw notFound('role');
        return { Role: r };
      }
      case 'CreateRole':
        store.set(`role:${q.RoleName}`, {
          AssumeRolePolicyDocument: q.AssumeRolePolicyDocument,
          Description: q.Description,
        });
        return {};
      case 'GetSecretValue': {
        const s = store.get(`secret:${q.SecretName}`);
        if (!s) throw new CloudError('no secret', 'Forbidden.ResourceNotFound', 404);
        return s;
      }
      case 'DescribeSecret':
        return { Description: store.get(`secret:${q.SecretName}`)?.Description };
      case 'CreateSecret':
        store.set(`secret:${q.SecretName}`, { SecretData: q.SecretData, Description: q.Description });
        return {};
      default:
        throw new Error(`unexpected ${c.action}`);
    }
  };
  return { call, calls };
}

describe('deploy providers against a cloud that keeps what it is told', () => {
  it('creates the function with its code, then a second plan finds nothing to change', async () => {
    const cloud = fakeCloud();
    const packages = {
      api: Buffer.from('A'),
      scheduler: Buffer.from('S'),
      worker: Buffer.from('W'),
      retention: Buffer.from('R'),
    };
    const fn = fcFunctionProvider(cloud.call, 'fc.example', packages, 'ecs-backup');
    const resource = get('fc.function/ecs-backup-worker');
    const checksum = `crc-of-${packages.worker.toString('base64')}`;
    const wanted: Resource = { ...resource, props: { ...resource.props, codeChecksum: checksum } };

    expect(await fn.describe(wanted)).toBeUndefined();
    await fn.create(wanted);
    const again = planChanges(
      [wanted],
      new Map<string, Described>([[keyOf(wanted), await fn.describe(wanted)]]),
    );

    const create = cloud.calls.find((c) => c.action === 'CreateFunction')!;
    expect(create).toMatchObject({ method: 'POST', pathname: '/2023-03-30/functions', style: 'ROA' });
    expect(create.body).toMatchObject({
      functionName: 'ecs-backup-worker',
      runtime: 'nodejs20',
      code: { zipFile: 'Vw==' },
    });
    expect(create.body).not.toHaveProperty('codeChecksum');
    expect(again[0]!.action).toBe('unchanged');
  });

  it('sends a trigger config as a JSON string and reads it back as an object', async () => {
    const cloud = fakeCloud();
    const triggers = fcTriggerProvider(cloud.call, 'fc.example');
    const resource = get('fc.trigger/ecs-backup-worker/jobs-queue');

    await triggers.create(resource);
    const described = await triggers.describe(resource);

    const create = cloud.calls.find((c) => c.action === 'CreateTrigger')!;
    expect(create.pathname).toBe('/2023-03-30/functions/ecs-backup-worker/triggers');
    expect(typeof (create.body as { triggerConfig: unknown }).triggerConfig).toBe('string');
    expect(planChanges([resource], new Map([[keyOf(resource), described]]))[0]!.action).toBe('unchanged');
  });

  it('creates the RAM role with its trust policy for Function Compute', async () => {
    const cloud = fakeCloud();
    const ram = ramProviders(cloud.call)['ram.role']!;
    const resource = get('ram.role/ecs-backup-function');

    expect(await ram.describe(resource)).toBeUndefined();
    await ram.create(resource);

    const create = cloud.calls.find((c) => c.action === 'CreateRole')!;
    expect(JSON.parse(create.query!.AssumeRolePolicyDocument!)).toMatchObject({
      Statement: [{ Principal: { Service: ['fc.aliyuncs.com'] } }],
    });
    expect(
      planChanges([resource], new Map([[keyOf(resource), await ram.describe(resource)]]))[0]!.action,
    ).toBe('unchanged');
  });

  it('stores the API token in KMS and compares it by hash only', async () => {
    const cloud = fakeCloud();
    const kms = kmsSecretProvider(cloud.call, 'cn-hangzhou', 'token-0123456789abcdef');
    const resource = get('kms.secret/ecs-backup-api-token');

    await kms.create(resource);
    const described = await kms.describe(resource);

    expect(cloud.calls.find((c) => c.action === 'CreateSecret')!.query!.SecretData).toBe(
      'token-0123456789abcdef',
    );
    expect(described).toEqual({
      secretDataSha256: sha256('token-0123456789abcdef'),
      description: 'ecs-backup API bearer token',
    });
    expect(planChanges([resource], new Map([[keyOf(resource), described]]))[0]!.action).toBe('unchanged');
  });
});

describe('the API Gateway provider', () => {
  it('creates the group, then the pass-through API to the function intranet address, and publishes it', async () => {
    const calls: ApiCall[] = [];
    const groups: { GroupId: string; GroupName: string }[] = [];
    const apis: { ApiId: string }[] = [];
    const call = async (c: ApiCall): Promise<Record<string, unknown>> => {
      calls.push(c);
      const q = c.query ?? {};
      if (c.action === 'DescribeApiGroups') return { ApiGroupAttributes: { ApiGroupAttribute: groups } };
      if (c.action === 'CreateApiGroup') groups.push({ GroupId: 'g-1', GroupName: q.GroupName! });
      if (c.action === 'DescribeApis') return { ApiSummarys: { ApiSummary: apis } };
      if (c.action === 'CreateApi') {
        apis.push({ ApiId: 'api-1' });
        return { ApiId: 'api-1' };
      }
      return {};
    };
    const providers = apiGatewayProviders(call, 'cn-hangzhou', async () => 'https://internal.example/');
    const group = get('apigw.group/ecs_backup_api');
    const api = get('apigw.api/ecs_backup_api/proxy');

    expect(await providers['apigw.group']!.describe(group)).toBeUndefined();
    await providers['apigw.group']!.create(group);
    expect(await providers['apigw.api']!.describe(api)).toBeUndefined();
    await providers['apigw.api']!.create(api);

    const create = calls.find((c) => c.action === 'CreateApi')!;
    expect(create.query).toMatchObject({
      GroupId: 'g-1',
      ApiName: 'proxy',
      AuthType: 'ANONYMOUS',
      ResultType: 'PASSTHROUGH',
    });
    expect(JSON.parse(create.query!.ServiceConfig!)).toMatchObject({
      ServiceProtocol: 'FunctionCompute',
      FunctionComputeConfig: {
        FcVersion: '3.0',
        FunctionName: 'ecs-backup-api',
        FcBaseUrl: 'https://internal.example/',
      },
    });
    expect(calls.find((c) => c.action === 'DeployApi')!.query).toMatchObject({
      GroupId: 'g-1',
      ApiId: 'api-1',
      StageName: 'RELEASE',
    });
    expect(await providers['apigw.api']!.describe(api)).toEqual(api.props);
  });
});
