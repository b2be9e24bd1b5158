import { provisionQueues, QUEUES, controlEndpointFor } from '../queues.js';
import { TablestoreClient, provisionTables } from '../../lib/adapters/tablestore/index.js';
import { isNotFound, signedRequest, type ApiCall, type Credentials } from './http.js';
import { sha256 } from './desired.js';
import type { Provider } from './providers-compute.js';
import type { Resource } from './plan.js';

type Call = (call: ApiCall) => Promise<Record<string, unknown>>;

async function orUndefined<T>(work: Promise<T>): Promise<T | undefined> {
  try {
    return await work;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** RAM (2015-05-01): the functions' role, its policy and the attachment. */
export function ramProviders(call: Call): Record<string, Provider> {
  const ram = (action: string, query: Record<string, string>) =>
    call({ endpoint: 'ram.aliyuncs.com', version: '2015-05-01', action, style: 'RPC', query });
  return {
    'ram.role': {
      async describe(r) {
        const got = await orUndefined(ram('GetRole', { RoleName: r.name }));
        const role = got?.Role as { AssumeRolePolicyDocument?: string; Description?: string } | undefined;
        if (role === undefined) return undefined;
        return {
          assumeRolePolicyDocument: JSON.parse(role.AssumeRolePolicyDocument ?? '{}'),
          description: role.Description,
        };
      },
      async create(r) {
        await ram('CreateRole', {
          RoleName: r.name,
          AssumeRolePolicyDocument: JSON.stringify(r.props.assumeRolePolicyDocument),
          Description: String(r.props.description),
        });
      },
      async update(r) {
        await ram('UpdateRole', {
          RoleName: r.name,
          NewAssumeRolePolicyDocument: JSON.stringify(r.props.assumeRolePolicyDocument),
          NewDescription: String(r.props.description),
        });
      },
    },
    'ram.policy': {
      async describe(r) {
        const got = await orUndefined(ram('GetPolicy', { PolicyName: r.name, PolicyType: 'Custom' }));
        const version = got?.DefaultPolicyVersion as { PolicyDocument?: string } | undefined;
        return version === undefined
          ? undefined
          : { policyDocument: JSON.parse(version.PolicyDocument ?? '{}') };
      },
      async create(r) {
        await ram('CreatePolicy', {
          PolicyName: r.name,
          PolicyDocument: JSON.stringify(r.props.policyDocument),
        });
      },
      async update(r) {
        await ram('CreatePolicyVersion', {
          PolicyName: r.name,
          PolicyDocument: JSON.stringify(r.props.policyDocument),
          SetAsDefault: 'true',
          RotateStrategy: 'DeleteOldestNonDefaultVersionWhenLimitExceeded',
        });
      },
    },
    'ram.attachment': {
      async describe(r) {
        const roleName = String(r.props.roleName);
        const got = await orUndefined(ram('ListPoliciesForRole', { RoleName: roleName }));
        const policies =
          (got?.Policies as { Policy?: { PolicyName: string; PolicyType: string }[] })?.Policy ?? [];
        const found = policies.find((p) => p.PolicyName === r.props.policyName);
        return found === undefined
          ? undefined
          : { roleName, policyName: found.PolicyName, policyType: found.PolicyType };
      },
      async create(r) {
        await ram('AttachPolicyToRole', {
          PolicyType: String(r.props.policyType),
          PolicyName: String(r.props.policyName),
          RoleName: String(r.props.roleName),
        });
      },
      async update(r) {
        await this.create(r);
      },
    },
  };
}

/** KMS Secrets Manager (2016-01-20): the API token; compared by its SHA-256, never printed. */
export function kmsSecretProvider(call: Call, region: string, token: string): Provider {
  const kms = (action: string, query: Record<string, string>) =>
    call({ endpoint: `kms.${region}.aliyuncs.com`, version: '2016-01-20', action, style: 'RPC', query });
  const version = () =>
    `v${new Date()
      .toISOString()
      .replace(/[^0-9]/g, '')
      .slice(0, 14)}`;
  return {
    async describe(r) {
      const got = await orUndefined(kms('GetSecretValue', { SecretName: r.name }));
      if (got === undefined) return undefined;
      const described = await kms('DescribeSecret', { SecretName: r.name });
      return { secretDataSha256: sha256(String(got.SecretData ?? '')), description: described.Description };
    },
    async create(r) {
      await kms('CreateSecret', {
        SecretName: r.name,
        SecretData: token,
        VersionId: version(),
        Description: String(r.props.description),
      });
    },
    async update(r, changed) {
      if (changed.includes('secretDataSha256'))
        await kms('PutSecretValue', { SecretName: r.name, SecretData: token, VersionId: version() });
      if (changed.includes('description'))
        await kms('UpdateSecret', { SecretName: r.name, Description: String(r.props.description) });
    },
  };
}

/** Tablestore: the instance (OTS 2016-06-20) and the tables with their indexes (the SDK). */
export function tablestoreProviders(
  call: Call,
  region: string,
  credentials: Credentials,
  instanceName: string,
  prefix: string,
): Record<string, Provider> {
  const ots = (action: string, query: Record<string, string>) =>
    call({ endpoint: `ots.${region}.aliyuncs.com`, version: '2016-06-20', action, style: 'RPC', query });
  const client = () =>
    new TablestoreClient({
      endpoint: `https://${instanceName}.${region}.ots.aliyuncs.com`,
      instanceName,
      ...credentials,
    });
  return {
    'ots.instance': {
      async describe(r) {
        const got = await orUndefined(ots('GetInstance', { InstanceName: r.name }));
        const info = (got?.InstanceInfo ?? got) as { ClusterType?: string } | undefined;
        return got === undefined
          ? undefined
          : { instanceName: r.name, clusterType: info?.ClusterType === 'HYBRID' ? 'HYBRID' : 'SSD' };
      },
      async create(r) {
        await ots('InsertInstance', { InstanceName: r.name, ClusterType: String(r.props.clusterType) });
      },
      async update() {
        throw new Error('a Tablestore instance cannot change its cluster type; create another instance');
      },
    },
    'ots.table': {
      async describe(r) {
        try {
          const got = (await client().read((sdk) => sdk.describeTable({ tableName: r.name }))) as unknown as {
            tableMeta: { primaryKey: { name: string; type: number | string }[] };
            tableOptions: { timeToLive: number };
            indexMetas?: { name: string }[];
          };
          return {
            primaryKey: got.tableMeta.primaryKey.map((k) => ({ name: k.name, type: 'STRING' })),
            timeToLive: got.tableOptions.timeToLive,
            indexes: (got.indexMetas ?? []).map((i) => i.name).sort(),
          };
        } catch (err) {
          if (/OTSObjectNotExist|does not exist/i.test(String((err as Error).message))) return undefined;
          throw err;
        }
      },
      async create() {
        // Creates every missing table and index of lib/schema/tables.ts; existing ones are kept.
        await provisionTables(client(), { prefix, dryRun: false });
      },
      async update(r, changed) {
        if (changed.every((p) => p === 'indexes')) return this.create(r);
        throw new Error(
          `table ${r.name}: ${changed.join(', ')} cannot change in place; migrate by hand (README)`,
        );
      },
    },
  };
}

/** MNS queues and their dead-letter policy, through infra/queues.ts (the same code the tests run). */
export function mnsQueueProvider(
  call: Call,
  region: string,
  accountId: string,
  credentials: Credentials,
): Provider {
  const endpoint = `https://${accountId}.mns.${region}.aliyuncs.com`;
  const control = new URL(controlEndpointFor(endpoint)).host;
  const apply = async (r: Resource) => {
    const def = QUEUES.find((q) => q.name === r.name);
    if (def === undefined) throw new Error(`queue ${r.name} is not in lib/schema/queues.ts`);
    await provisionQueues({ endpoint, ...credentials, dryRun: false, queues: [def], accountId });
  };
  return {
    async describe(r) {
      const got = await orUndefined(
        call({
          endpoint: control,
          version: '2022-01-19',
          action: 'GetQueueAttributes',
          style: 'RPC',
          query: { QueueName: r.name },
        }),
      );
      const data = got?.Data as Record<string, unknown> | undefined;
      if (data === undefined) return undefined;
      const dlq = data.DlqPolicy as
        { Enabled?: boolean; DeadLetterTargetQueue?: string; MaxReceiveCount?: number | string } | undefined;
      return {
        visibilityTimeout: Number(data.VisibilityTimeout),
        maximumMessageSize: Number(data.MaximumMessageSize),
        pollingWaitSeconds: Number(data.PollingWaitSeconds),
        messageRetentionPeriod: Number(data.MessageRetentionPeriod),
        ...(dlq?.Enabled
          ? {
              dlqPolicy: {
                enabled: true,
                deadLetterTargetQueue: dlq.DeadLetterTargetQueue,
                maxReceiveCount: Number(dlq.MaxReceiveCount),
              },
            }
          : {}),
      };
    },
    create: apply,
    update: apply,
  };
}

/** The exports bucket (OSS): private, with the lifecycle rule that removes old exports. */
export function ossBucketProvider(region: string, credentials: Credentials, origin?: string): Provider {
  const host = (bucket: string) => `${bucket}.oss-${region}.aliyuncs.com`;
  const lifecycleXml = (r: Resource) => {
    const rules = (
      r.props.lifecycle as { id: string; prefix: string; status: string; expirationDays: number }[]
    )
      .map(
        (l) =>
          `<Rule><ID>${l.id}</ID><Prefix>${l.prefix}</Prefix><Status>${l.status}</Status><Expiration><Days>${l.expirationDays}</Days></Expiration></Rule>`,
      )
      .join('');
    return `<?xml version="1.0" encoding="UTF-8"?><LifecycleConfiguration>${rules}</LifecycleConfiguration>`;
  };
  const request = (
    r: Resource,
    method: 'GET' | 'PUT',
    sub: string,
    body?: string,
    headers?: Record<string, string>,
  ) =>
    signedRequest({
      service: 'oss',
      credentials,
      method,
      host: host(r.name),
      path: `/${sub ? `?${sub}` : ''}`,
      resource: `/${r.name}/${sub ? `?${sub}` : ''}`,
      ...(origin !== undefined ? { origin } : {}),
      ...(body !== undefined ? { body, contentType: 'application/xml' } : {}),
      ...(headers ? { headers } : {}),
    });
  const check = (what: string, res: { status: number; text: string }) => {
    if (res.status >= 300) throw new Error(`OSS ${what}: ${res.status} ${res.text.slice(0, 300)}`);
  };
  const tag = (xml: string, name: string) =>
    [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((m) => m[1]!);
  return {
    async describe(r) {
      const info = await request(r, 'GET', 'bucketInfo');
      if (info.status === 404) return undefined;
      check('GetBucketInfo', info);
      const life = await request(r, 'GET', 'lifecycle');
      const ids = tag(life.text, 'ID');
      const prefixes = tag(life.text, 'Prefix');
      const statuses = tag(life.text, 'Status');
      const days = tag(life.text, 'Days');
      return {
        acl: tag(info.text, 'Grant')[0],
        storageClass: tag(info.text, 'StorageClass')[0],
        lifecycle: ids.map((id, i) => ({
          id,
          prefix: prefixes[i],
          status: statuses[i],
          expirationDays: Number(days[i]),
        })),
      };
    },
    async create(r) {
      const body = `<?xml version="1.0" encoding="UTF-8"?><CreateBucketConfiguration><StorageClass>${String(r.props.storageClass)}</StorageClass></CreateBucketConfiguration>`;
      check('PutBucket', await request(r, 'PUT', '', body, { 'x-oss-acl': String(r.props.acl) }));
      check('PutBucketLifecycle', await request(r, 'PUT', 'lifecycle', lifecycleXml(r)));
    },
    async update(r, changed) {
      if (changed.includes('acl'))
        check(
          'PutBucketAcl',
          await request(r, 'PUT', 'acl', undefined, { 'x-oss-acl': String(r.props.acl) }),
        );
      if (changed.includes('lifecycle'))
        check('PutBucketLifecycle', await request(r, 'PUT', 'lifecycle', lifecycleXml(r)));
    },
  };
}

/** Simple Log Service: the project and the logstore the functions write to. */
export function slsProviders(
  region: string,
  credentials: Credentials,
  origin?: string,
): Record<string, Provider> {
  const sls = (project: string, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown) =>
    signedRequest({
      service: 'sls',
      credentials,
      method,
      host: `${project}.${region}.log.aliyuncs.com`,
      path,
      resource: path,
      ...(origin !== undefined ? { origin } : {}),
      ...(body !== undefined ? { body: JSON.stringify(body), contentType: 'application/json' } : {}),
    });
  const check = (what: string, res: { status: number; text: string }) => {
    if (res.status >= 300) throw new Error(`SLS ${what}: ${res.status} ${res.text.slice(0, 300)}`);
  };
  const split = (name: string) => name.split('/') as [string, string];
  return {
    'sls.project': {
      async describe(r) {
        const res = await sls(r.name, 'GET', '/');
        if (res.status === 404) return undefined;
        check('GetProject', res);
        return { description: (JSON.parse(res.text) as { description?: string }).description };
      },
      async create(r) {
        check(
          'CreateProject',
          await sls(r.name, 'POST', '/', { projectName: r.name, description: r.props.description }),
        );
      },
      async update(r) {
        check('UpdateProject', await sls(r.name, 'PUT', '/', { description: r.props.description }));
      },
    },
    'sls.logstore': {
      async describe(r) {
        const [project, store] = split(r.name);
        const res = await sls(project, 'GET', `/logstores/${store}`);
        if (res.status === 404) return undefined;
        check('GetLogStore', res);
        const got = JSON.parse(res.text) as { ttl?: number; shardCount?: number };
        return { ttl: got.ttl, shardCount: got.shardCount };
      },
      async create(r) {
        const [project, store] = split(r.name);
        check(
          'CreateLogStore',
          await sls(project, 'POST', '/logstores', { logstoreName: store, ...r.props }),
        );
      },
      async update(r) {
        const [project, store] = split(r.name);
        check(
          'UpdateLogStore',
          await sls(project, 'PUT', `/logstores/${store}`, { logstoreName: store, ...r.props }),
        );
      },
    },
  };
}
