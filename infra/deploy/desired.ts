import { createHash } from 'node:crypto';
import { QUEUES } from '../../lib/schema/queues.js';
import {
  DEFAULT_TABLE_PREFIX,
  TABLE_LIST,
  physicalIndexName,
  physicalTableName,
} from '../../lib/schema/tables.js';
import { FUNCTIONS, type FunctionName } from '../build.js';
import { EXPORTS_PREFIX, ramPolicy } from '../ram-policy.js';
import type { Resource } from './plan.js';

export interface DeployConfig {
  region: string;
  /** The account (uid); a placeholder in a dry run without an account. */
  accountId: string;
  /** Prefix of every name (functions, role, log project, bucket, API group). */
  name: string;
  tablestoreInstance: string;
  tablePrefix?: string;
  /** Export downloads live here; the lifecycle rule removes them after `exportsExpireDays`. */
  exportsBucket: string;
  exportsExpireDays: number;
  logProject: string;
  logstore: string;
  /** KMS Secrets Manager secret holding the API token; the api function reads it at cold start. */
  apiTokenSecret: string;
  /** SHA-256 of the token (the plan compares and prints this, never the token). */
  apiTokenSha256: string;
  /** Checksum of each function's code package (infra/deploy/package.ts). */
  codeChecksums: Record<FunctionName, string>;
  /** Function settings beyond the endpoints (tuning; defaults below). */
  settings?: Record<string, string>;
}

/** Tuning every function gets unless the config overrides it (lib/config.ts documents each). */
export const DEFAULT_SETTINGS: Readonly<Record<string, string>> = {
  START_WINDOW_SECONDS: '3600',
  GROUP_DISK_LIMIT: '16',
  POLL_INTERVAL_SECONDS: '10',
  SCHEDULER_LOOKAHEAD_SECONDS: '90',
  MAX_RECEIVE_COUNT: '5',
  JOB_STALL_SECONDS: '600',
  ECS_RATE_LIMITS:
    'CreateSnapshotGroup=20,CreateSnapshot=20,DeleteSnapshotGroup=20,DeleteSnapshot=20,RunCommand=10',
  ECS_DEFAULT_RATE_PER_SECOND: '50',
};

const FUNCTION_SPECS: Record<FunctionName, { description: string; memorySize: number; timeout: number }> = {
  api: { description: 'ecs-backup HTTP API, behind API Gateway', memorySize: 512, timeout: 30 },
  scheduler: {
    description: 'Hands every occurrence due before the next tick to the job queue',
    memorySize: 512,
    timeout: 60,
  },
  // Longer than the longest step and shorter than the queue's visibility timeout (300 s).
  worker: { description: 'Advances jobs one persisted step at a time', memorySize: 512, timeout: 120 },
  retention: {
    description: 'Deletes expired backup points (only ours; never the latest good one)',
    memorySize: 512,
    timeout: 600,
  },
};

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export function functionName(config: DeployConfig, fn: FunctionName): string {
  return `${config.name}-${fn}`;
}

export function roleArn(config: DeployConfig): string {
  return `acs:ram::${config.accountId}:role/${config.name}-function`;
}

/** What every function reads: where the store and the queues are, and the tuning. */
export function functionEnvironment(config: DeployConfig): Record<string, string> {
  return {
    STORE: 'tablestore',
    QUEUE: 'mns',
    ECS_REGION: config.region,
    TABLESTORE_ENDPOINT: `https://${config.tablestoreInstance}.${config.region}.ots.aliyuncs.com`,
    TABLESTORE_INSTANCE: config.tablestoreInstance,
    MNS_ENDPOINT: `https://${config.accountId}.mns.${config.region}.aliyuncs.com`,
    OSS_BUCKET: config.exportsBucket,
    OSS_ENDPOINT: `https://oss-${config.region}.aliyuncs.com`,
    JOB_QUEUE: 'ecs-backup-jobs',
    DEAD_LETTER_QUEUE: 'ecs-backup-jobs-dlq',
    ...DEFAULT_SETTINGS,
    ...config.settings,
  };
}

/** The trust policy that lets Function Compute assume the functions' role. */
export function trustPolicy(): Record<string, unknown> {
  return {
    Version: '1',
    Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['fc.aliyuncs.com'] } }],
  };
}

/**
 * The functions' permission policy: the adapters' actions (ram-policy.ts), the exports prefix of
 * the bucket, and reading the API token.
 */
export function functionPolicy(config: DeployConfig): Record<string, unknown> {
  const base = ramPolicy({
    region: config.region,
    accountId: config.accountId,
    tablestoreInstance: config.tablestoreInstance,
    ...(config.tablePrefix !== undefined ? { tablePrefix: config.tablePrefix } : {}),
    exportsBucket: config.exportsBucket,
  });
  return {
    ...base,
    Statement: [
      ...base.Statement,
      {
        Effect: 'Allow',
        Action: ['kms:GetSecretValue'],
        Resource: [`acs:kms:${config.region}:${config.accountId}:secret/${config.apiTokenSecret}`],
      },
    ],
  };
}

function storage(config: DeployConfig): Resource[] {
  const prefix = config.tablePrefix ?? DEFAULT_TABLE_PREFIX;
  const instance: Resource = {
    kind: 'ots.instance',
    name: config.tablestoreInstance,
    props: { instanceName: config.tablestoreInstance, clusterType: 'SSD' },
  };
  const tables: Resource[] = TABLE_LIST.map((t) => ({
    kind: 'ots.table',
    name: physicalTableName(t, prefix),
    props: {
      primaryKey: [{ name: t.primaryKey, type: 'STRING' }],
      timeToLive: t.ttl?.seconds ?? -1,
      indexes: t.indexes.map((ix) => physicalIndexName(ix, prefix)).sort(),
    },
    dependsOn: [`ots.instance/${config.tablestoreInstance}`],
  }));
  const queues: Resource[] = QUEUES.map((q) => ({
    kind: 'mns.queue',
    name: q.name,
    props: {
      visibilityTimeout: q.visibilityTimeoutSeconds,
      maximumMessageSize: q.maximumMessageSize,
      pollingWaitSeconds: q.pollingWaitSeconds,
      messageRetentionPeriod: q.messageRetentionSeconds,
      ...(q.deadLetter !== undefined
        ? {
            dlqPolicy: {
              enabled: true,
              deadLetterTargetQueue: q.deadLetter.queue,
              maxReceiveCount: q.deadLetter.maxReceiveCount,
            },
          }
        : {}),
    },
    ...(q.deadLetter !== undefined ? { dependsOn: [`mns.queue/${q.deadLetter.queue}`] } : {}),
  }));
  const bucket: Resource = {
    kind: 'oss.bucket',
    name: config.exportsBucket,
    props: {
      acl: 'private',
      storageClass: 'Standard',
      lifecycle: [
        {
          id: 'expire-exports',
          prefix: EXPORTS_PREFIX,
          status: 'Enabled',
          expirationDays: config.exportsExpireDays,
        },
      ],
    },
  };
  return [instance, ...tables, ...queues, bucket];
}

function identityAndLogs(config: DeployConfig): Resource[] {
  const role = `${config.name}-function`;
  return [
    {
      kind: 'ram.role',
      name: role,
      props: { assumeRolePolicyDocument: trustPolicy(), description: 'ecs-backup functions' },
    },
    {
      kind: 'ram.policy',
      name: `${config.name}-function`,
      props: { policyDocument: functionPolicy(config) },
    },
    {
      kind: 'ram.attachment',
      name: `${role}:${config.name}-function`,
      props: { roleName: role, policyName: `${config.name}-function`, policyType: 'Custom' },
      dependsOn: [`ram.role/${role}`, `ram.policy/${config.name}-function`],
    },
    { kind: 'sls.project', name: config.logProject, props: { description: 'ecs-backup function logs' } },
    {
      kind: 'sls.logstore',
      name: `${config.logProject}/${config.logstore}`,
      props: { ttl: 30, shardCount: 2 },
      dependsOn: [`sls.project/${config.logProject}`],
    },
    {
      kind: 'kms.secret',
      name: config.apiTokenSecret,
      props: { secretDataSha256: config.apiTokenSha256, description: 'ecs-backup API bearer token' },
      secret: ['secretDataSha256'],
    },
  ];
}

function functions(config: DeployConfig): Resource[] {
  const env = functionEnvironment(config);
  return FUNCTIONS.map((fn) => ({
    kind: 'fc.function',
    name: functionName(config, fn),
    props: {
      runtime: 'nodejs20',
      handler: 'index.handler',
      ...FUNCTION_SPECS[fn],
      role: roleArn(config),
      codeChecksum: config.codeChecksums[fn],
      environmentVariables: fn === 'api' ? { ...env, API_TOKEN_SECRET: config.apiTokenSecret } : env,
      logConfig: {
        project: config.logProject,
        logstore: config.logstore,
        enableRequestMetrics: true,
        logBeginRule: 'DefaultRegex',
      },
    },
    dependsOn: [
      `ram.attachment/${config.name}-function:${config.name}-function`,
      `sls.logstore/${config.logProject}/${config.logstore}`,
      ...(fn === 'api' ? [`kms.secret/${config.apiTokenSecret}`] : []),
    ],
  }));
}

function triggers(config: DeployConfig): Resource[] {
  const fn = (f: FunctionName) => functionName(config, f);
  const dlqArn = `acs:mns:${config.region}:${config.accountId}:/queues/ecs-backup-jobs-dlq`;
  return [
    {
      kind: 'fc.trigger',
      name: `${fn('api')}/http`,
      props: {
        triggerType: 'http',
        // Closed to the internet: API Gateway reaches it over the internal network.
        triggerConfig: {
          authType: 'anonymous',
          disableURLInternet: true,
          methods: ['GET', 'POST', 'PATCH', 'DELETE'],
        },
      },
      dependsOn: [`fc.function/${fn('api')}`],
    },
    {
      kind: 'fc.trigger',
      name: `${fn('scheduler')}/every-minute`,
      props: {
        triggerType: 'timer',
        triggerConfig: { cronExpression: '@every 1m', enable: true, payload: '' },
      },
      dependsOn: [`fc.function/${fn('scheduler')}`],
    },
    {
      kind: 'fc.trigger',
      name: `${fn('retention')}/hourly`,
      props: {
        triggerType: 'timer',
        triggerConfig: { cronExpression: 'CRON_TZ=UTC 0 0 * * * *', enable: true, payload: '' },
      },
      dependsOn: [`fc.function/${fn('retention')}`],
    },
    {
      kind: 'fc.trigger',
      name: `${fn('worker')}/jobs-queue`,
      props: {
        triggerType: 'eventbridge',
        triggerConfig: {
          triggerEnable: true,
          asyncInvocationType: false,
          eventRuleFilterPattern: '{}',
          eventSourceConfig: {
            eventSourceType: 'MNS',
            // Off: the worker gets the body as sent (base64, or `z:` + deflated base64) and decodes it.
            eventSourceParameters: {
              sourceMNSParameters: { QueueName: 'ecs-backup-jobs', IsBase64Decode: false },
            },
          },
          eventSinkConfig: { deliveryOption: { mode: 'event-streaming', eventSchema: 'CloudEvents' } },
          runOptions: {
            mode: 'event-streaming',
            batchWindow: { CountBasedWindow: 10, TimeBasedWindow: 1 },
            retryStrategy: { PushRetryStrategy: 'BACKOFF_RETRY' },
            errorsTolerance: 'ALL',
            // A push that keeps failing lands here instead of being discarded.
            deadLetterQueue: { Arn: dlqArn },
          },
        },
      },
      dependsOn: [
        `fc.function/${fn('worker')}`,
        'mns.queue/ecs-backup-jobs',
        'mns.queue/ecs-backup-jobs-dlq',
      ],
    },
  ];
}

function apiGateway(config: DeployConfig): Resource[] {
  const group = `${config.name.replace(/-/g, '_')}_api`;
  return [
    { kind: 'apigw.group', name: group, props: { description: 'ecs-backup operators API' } },
    {
      kind: 'apigw.api',
      name: `${group}/proxy`,
      props: {
        // Every path and method goes to the api function, which checks the bearer token itself.
        requestConfig: {
          requestProtocol: 'HTTPS',
          requestHttpMethod: 'ANY',
          requestPath: '/*',
          requestMode: 'PASSTHROUGH',
        },
        serviceConfig: {
          serviceProtocol: 'FunctionCompute',
          functionComputeConfig: {
            fcVersion: '3.0',
            fcRegionId: config.region,
            functionName: functionName(config, 'api'),
            fcType: 'HttpTrigger',
          },
        },
        authType: 'ANONYMOUS',
        stage: 'RELEASE',
      },
      dependsOn: [`apigw.group/${group}`, `fc.trigger/${functionName(config, 'api')}/http`],
    },
  ];
}

/** Everything `npm run deploy` makes exist, in dependency order once planned. */
export function desiredState(config: DeployConfig): Resource[] {
  return [
    ...storage(config),
    ...identityAndLogs(config),
    ...functions(config),
    ...triggers(config),
    ...apiGateway(config),
  ];
}
