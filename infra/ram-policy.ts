import { JOBS_DEAD_LETTER_QUEUE, JOBS_QUEUE } from './queues.js';
import { DEFAULT_TABLE_PREFIX, TABLE_LIST } from '../lib/schema/tables.js';

/**
 * The RAM policy of the functions' role: exactly the actions the functions call, on our own
 * resources where the service lets a policy name them. `test/unit/infra/ram-policy.test.ts` checks
 * the lists against the adapters' source, so a new call without a policy line fails the build.
 * Provisioning (CreateTable, CreateQueue, SetQueueAttributes) is an operator's job and not granted here.
 */

/** ECS actions of `lib/adapters/ecs`. CreateSnapshotGroup is also sent pre-signed by the guest script. */
export const ECS_ACTIONS = [
  'AttachDisk',
  'CopySnapshot',
  'CreateDisk',
  'CreateImage',
  'CreateSnapshot',
  'CreateSnapshotGroup',
  'DeleteDisk',
  'DeleteImage',
  'DeleteInstance',
  'DeleteSnapshot',
  'DeleteSnapshotGroup',
  'DescribeAvailableResource',
  'DescribeCloudAssistantStatus',
  'DescribeDisks',
  'DescribeImages',
  'DescribeInstanceAttribute',
  'DescribeInstances',
  'DescribeInvocationResults',
  'DescribeSnapshotGroups',
  'DescribeSnapshots',
  'DetachDisk',
  'InstallCloudAssistant',
  'ListTagResources',
  'ResetDisk',
  'RunCommand',
  'RunInstances',
  'StartInstance',
  'StopInstance',
] as const;

/** VPC actions of `lib/adapters/ecs/launch.ts` (the clone checks its vSwitch first). */
export const VPC_ACTIONS = ['DescribeVSwitches'] as const;

/** Tablestore row operations of `lib/adapters/tablestore` (conditional updates are PutRow). */
export const OTS_ACTIONS = [
  'BatchGetRow',
  'BatchWriteRow',
  'DeleteRow',
  'GetRange',
  'GetRow',
  'PutRow',
] as const;

/** MNS message operations of `lib/adapters/mns` (batch receive is ReceiveMessage in RAM). */
export const MNS_ACTIONS = [
  'ChangeMessageVisibility',
  'DeleteMessage',
  'ReceiveMessage',
  'SendMessage',
] as const;

/** MNS topic operations of `lib/adapters/mns/topic-publisher.ts` (notifications to a topic). */
export const MNS_TOPIC_ACTIONS = ['PublishMessage'] as const;
/**
 * OSS object operations of `lib/adapters/oss`, as RAM names them (OSS API reference, each
 * operation's "Permissions"): PutObject also covers InitiateMultipartUpload, UploadPart,
 * CompleteMultipartUpload and the guest's signed PUTs; GetObject the signed downloads; DeleteObject
 * DeleteMultipleObjects; ListParts the parts an archive upload holds (on the object, like the
 * others). Granted on the exports prefix only.
 */
export const OSS_OBJECT_ACTIONS = [
  'AbortMultipartUpload',
  'DeleteObject',
  'GetObject',
  'ListParts',
  'PutObject',
] as const;

/** OSS bucket operations of `lib/adapters/oss`: listing what an export left, by its prefix. */
export const OSS_BUCKET_ACTIONS = ['ListMultipartUploads', 'ListObjects'] as const;

/** Where exports live in the bucket; the lifecycle rule in `infra/deploy/desired.ts` expires this prefix. */
export const EXPORTS_PREFIX = 'exports/';

export interface RamPolicyOptions {
  /** Region of the deployment, e.g. cn-hangzhou; `*` when omitted. */
  region?: string;
  /** Account id (uid); `*` when omitted. */
  accountId?: string;
  tablestoreInstance: string;
  /** Prefix of our Tablestore table names. */
  tablePrefix?: string;
  /** The exports bucket (OSS); no OSS grant without one. */
  exportsBucket?: string;
}

export interface RamPolicyDocument {
  Version: '1';
  Statement: {
    Effect: 'Allow';
    Action: string[];
    Resource: string[];
    Condition?: Record<string, Record<string, string[]>>;
  }[];
}

export function ramPolicy(options: RamPolicyOptions): RamPolicyDocument {
  const region = options.region ?? '*';
  const account = options.accountId ?? '*';
  const prefix = options.tablePrefix ?? DEFAULT_TABLE_PREFIX;
  return {
    Version: '1',
    Statement: [
      {
        Effect: 'Allow',
        Action: ECS_ACTIONS.map((a) => `ecs:${a}`),
        // Snapshot, disk and invocation ids are not known in advance; ECS scopes these by region.
        // RunInstances is also authorised on the vSwitch a clone is launched into.
        Resource: [`acs:ecs:${region}:${account}:*`, `acs:vpc:${region}:${account}:vswitch/*`],
      },
      {
        Effect: 'Allow',
        Action: OTS_ACTIONS.map((a) => `ots:${a}`),
        // `<table>*` covers the table and its global indexes (`<prefix><table>_by_...`).
        Resource: TABLE_LIST.map(
          (t) =>
            `acs:ots:${region}:${account}:instance/${options.tablestoreInstance}/table/${prefix}${t.name}*`,
        ),
      },
      {
        Effect: 'Allow',
        Action: MNS_ACTIONS.map((a) => `mns:${a}`),
        Resource: [JOBS_QUEUE, JOBS_DEAD_LETTER_QUEUE].map(
          (q) => `acs:mns:${region}:${account}:/queues/${q}/messages`,
        ),
      },
      {
        Effect: 'Allow',
        Action: VPC_ACTIONS.map((a) => `vpc:${a}`),
        Resource: [`acs:vpc:${region}:${account}:*`],
      },
      {
        Effect: 'Allow',
        // Notification subscriptions name their topic at run time (`mnsTopic`), in the account.
        Action: MNS_TOPIC_ACTIONS.map((a) => `mns:${a}`),
        Resource: [`acs:mns:${region}:${account}:/topics/*/messages`],
      },
      ...(options.exportsBucket ? ossStatements(options.exportsBucket, account) : []),
    ],
  };
}

/** Objects under the exports prefix; listing the bucket only by that prefix (`oss:Prefix`). */
function ossStatements(bucket: string, account: string): RamPolicyDocument['Statement'] {
  return [
    {
      Effect: 'Allow',
      Action: OSS_OBJECT_ACTIONS.map((a) => `oss:${a}`),
      Resource: [`acs:oss:*:${account}:${bucket}/${EXPORTS_PREFIX}*`],
    },
    {
      Effect: 'Allow',
      Action: OSS_BUCKET_ACTIONS.map((a) => `oss:${a}`),
      Resource: [`acs:oss:*:${account}:${bucket}`],
      Condition: { StringLike: { 'oss:Prefix': [`${EXPORTS_PREFIX}*`] } },
    },
  ];
}

/** `npx tsx infra/ram-policy.ts` prints the policy for TABLESTORE_INSTANCE, ECS_REGION and ACCOUNT_ID. */
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const policy = ramPolicy({
    tablestoreInstance: process.env.TABLESTORE_INSTANCE ?? '*',
    region: process.env.ECS_REGION,
    accountId: process.env.ACCOUNT_ID,
  });
  console.log(JSON.stringify(policy, null, 2));
}
