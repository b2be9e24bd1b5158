import OpenApi, { Config, OpenApiRequest, Params } from '@alicloud/openapi-client';
import { newMnsClient, type MnsConnection } from '../lib/adapters/mns/client.js';
import { mnsErrorCode } from '../lib/adapters/mns/errors.js';
import { QUEUES, type QueueDefinition } from '../lib/schema/queues.js';

export {
  JOBS_DEAD_LETTER_QUEUE,
  JOBS_QUEUE,
  QUEUES,
  queueSettings,
  type QueueDefinition,
} from '../lib/schema/queues.js';

/**
 * Where the MNS OpenAPI (version 2022-01-19) answers for an MNS endpoint. The dead-letter
 * policy (`DlqPolicy`) exists only there, not in the XML data API that `@alicloud/mns` speaks.
 * An address that is not an Alibaba Cloud MNS host (the emulator) serves both.
 */
export function controlEndpointFor(endpoint: string): string {
  const url = new URL(endpoint);
  const region = /^\d+\.mns\.([a-z0-9-]+?)(?:-internal(?:-vpc)?)?\.aliyuncs\.com$/.exec(url.hostname)?.[1];
  return region !== undefined ? `https://mns-open.${region}.aliyuncs.com` : url.origin;
}

export interface ProvisionQueuesOptions {
  endpoint: string;
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  dryRun: boolean;
  /** Defaults to QUEUES. */
  queues?: readonly QueueDefinition[];
  /** Defaults to controlEndpointFor(endpoint). */
  controlEndpoint?: string;
  accountId?: string;
}

function attributesOf(def: QueueDefinition) {
  return {
    DelaySeconds: 0,
    MaximumMessageSize: def.maximumMessageSize,
    MessageRetentionPeriod: def.messageRetentionSeconds,
    VisibilityTimeout: def.visibilityTimeoutSeconds,
    PollingWaitSeconds: def.pollingWaitSeconds,
  };
}

function describe(def: QueueDefinition): string {
  return Object.entries(attributesOf(def))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

function dlqPolicyLine(def: QueueDefinition, control: string): string {
  const dl = def.deadLetter as NonNullable<QueueDefinition['deadLetter']>;
  return (
    `dead-letter policy on ${def.name}: after ${dl.maxReceiveCount} receives -> ${dl.queue} ` +
    `(OpenAPI 2022-01-19 SetQueueAttributes DlqPolicy at ${control})`
  );
}

type OpenApiClient = InstanceType<typeof OpenApi.default>;
// Node's ESM loader hands over `module.exports` (the class is its `default`); vitest and
// bundlers hand over the class itself.
const OpenApiClientClass: typeof OpenApi.default =
  (OpenApi as unknown as { default?: typeof OpenApi.default }).default ??
  (OpenApi as unknown as typeof OpenApi.default);

function newControlClient(options: ProvisionQueuesOptions, control: string): OpenApiClient {
  const url = new URL(control);
  return new OpenApiClientClass(
    new Config({
      accessKeyId: options.accessKeyId,
      accessKeySecret: options.accessKeySecret,
      ...(options.securityToken !== undefined ? { securityToken: options.securityToken } : {}),
      endpoint: url.host,
      protocol: url.protocol.replace(':', ''),
      readTimeout: 15_000,
      connectTimeout: 10_000,
    }),
  );
}

async function callControl(
  client: OpenApiClient,
  action: string,
  query: Record<string, string>,
): Promise<Record<string, unknown>> {
  const params = new Params({
    action,
    version: '2022-01-19',
    protocol: 'HTTPS',
    pathname: '/',
    method: 'POST',
    authType: 'AK',
    style: 'RPC',
    reqBodyType: 'formData',
    bodyType: 'json',
  });
  const res = await client.callApi(
    params,
    new OpenApiRequest({ query }),
    {} as Parameters<OpenApiClient['callApi']>[2],
  );
  return (res.body ?? {}) as Record<string, unknown>;
}

/** CreateQueue answers 201 (new), 204 (same attributes) or QueueAlreadyExist (other attributes). */
async function createOrUpdate(mns: ReturnType<typeof newMnsClient>, def: QueueDefinition): Promise<string> {
  const created = await mns.createQueue(def.name, attributesOf(def)).catch((err: unknown) => {
    if (mnsErrorCode(err) === 'QueueAlreadyExist') return undefined;
    throw err;
  });
  if (created !== undefined) {
    if (created.code >= 300) throw new Error(`CreateQueue ${def.name} answered HTTP ${created.code}`);
    return created.code === 201
      ? `created queue ${def.name} (${describe(def)})`
      : `queue ${def.name} already exists with these attributes (${describe(def)})`;
  }
  const updated = await mns.setQueueAttributes(def.name, attributesOf(def));
  if (updated.code >= 300) throw new Error(`SetQueueAttributes ${def.name} answered HTTP ${updated.code}`);
  return `updated queue ${def.name} (${describe(def)})`;
}

/**
 * Creates (or brings up to date) every queue of the definition and its dead-letter policy.
 * Returns the lines of the plan (dry run) or of what was done. Safe to run again.
 */
export async function provisionQueues(options: ProvisionQueuesOptions): Promise<string[]> {
  const queues = options.queues ?? QUEUES;
  const control = options.controlEndpoint ?? controlEndpointFor(options.endpoint);
  const lines: string[] = [];
  if (options.dryRun) {
    for (const def of queues) {
      lines.push(`would create or update queue ${def.name} (${describe(def)})`);
      if (def.deadLetter !== undefined) lines.push(`would set ${dlqPolicyLine(def, control)}`);
    }
    return lines;
  }
  const connection: MnsConnection = {
    endpoint: options.endpoint,
    accessKeyId: options.accessKeyId,
    accessKeySecret: options.accessKeySecret,
    ...(options.securityToken !== undefined ? { securityToken: options.securityToken } : {}),
    ...(options.accountId !== undefined ? { accountId: options.accountId } : {}),
  };
  const mns = newMnsClient(connection);
  let controlClient: OpenApiClient | undefined;
  for (const def of queues) {
    lines.push(await createOrUpdate(mns, def));
    if (def.deadLetter === undefined) continue;
    controlClient ??= newControlClient(options, control);
    const policy = {
      Enabled: true,
      DeadLetterTargetQueue: def.deadLetter.queue,
      MaxReceiveCount: def.deadLetter.maxReceiveCount,
    };
    await callControl(controlClient, 'SetQueueAttributes', {
      QueueName: def.name,
      DlqPolicy: JSON.stringify(policy),
    });
    // Read it back: a policy MNS silently ignored would leave poison messages looping forever.
    const got = await callControl(controlClient, 'GetQueueAttributes', { QueueName: def.name });
    const applied = (got.Data as { DlqPolicy?: Record<string, unknown> } | undefined)?.DlqPolicy;
    if (
      applied === undefined ||
      String(applied.Enabled) !== 'true' ||
      applied.DeadLetterTargetQueue !== def.deadLetter.queue ||
      Number(applied.MaxReceiveCount) !== def.deadLetter.maxReceiveCount
    ) {
      throw new Error(`dead-letter policy on ${def.name} did not take effect: ${JSON.stringify(applied)}`);
    }
    lines.push(`set ${dlqPolicyLine(def, control)}`);
  }
  return lines;
}
