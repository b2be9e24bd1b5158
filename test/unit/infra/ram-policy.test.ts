import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ECS_ACTIONS,
  MNS_ACTIONS,
  OSS_BUCKET_ACTIONS,
  OSS_OBJECT_ACTIONS,
  OTS_ACTIONS,
  VPC_ACTIONS,
  ramPolicy,
} from '../../../infra/ram-policy.js';

const root = path.resolve(import.meta.dirname, '../../..');

function sources(dir: string): string {
  return readdirSync(path.join(root, dir))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(path.join(root, dir, f), 'utf8'))
    .join('\n');
}

function matches(text: string, re: RegExp): string[] {
  return [...new Set([...text.matchAll(re)].map((m) => m[1] as string))].sort();
}

describe('RAM policy of the functions', () => {
  it('grants exactly the ECS actions the ECS adapter calls', () => {
    const called = matches(sources('lib/adapters/ecs'), /(?:\.call|paged)\(\s*'([A-Z][A-Za-z]+)'/g);
    expect(called.length).toBeGreaterThan(10);
    expect(called).toEqual([...ECS_ACTIONS].sort());
    const vpc = matches(sources('lib/adapters/ecs'), /\.callVpc\(\s*'([A-Z][A-Za-z]+)'/g);
    expect(vpc).toEqual([...VPC_ACTIONS].sort());
  });

  it('grants exactly the Tablestore row operations the store calls at run time', () => {
    const called = matches(
      sources('lib/adapters/tablestore'),
      /\.(putRow|getRow|updateRow|deleteRow|getRange|batchGetRow|batchWriteRow)\(/g,
    ).map((m) => m[0]!.toUpperCase() + m.slice(1));
    expect(called).toEqual([...OTS_ACTIONS].sort());
  });

  it('grants the MNS message operations the queue adapter performs', () => {
    const text = sources('lib/adapters/mns');
    const used = matches(
      text,
      /'(SendMessage|ReceiveMessage|BatchReceiveMessage|DeleteMessage|ChangeMessageVisibility)'/g,
    )
      .map((a) => (a === 'BatchReceiveMessage' ? 'ReceiveMessage' : a))
      .filter((a, i, all) => all.indexOf(a) === i)
      .sort();
    expect(used).toEqual([...MNS_ACTIONS].sort());
  });

  it('grants exactly the OSS actions the object store adapter calls, on the exports prefix of the bucket', () => {
    // ali-oss method -> the RAM action that authorizes it (OSS API reference, "Permissions").
    const ramAction: Record<string, string> = {
      put: 'PutObject',
      initMultipartUpload: 'PutObject',
      uploadPart: 'PutObject',
      completeMultipartUpload: 'PutObject',
      abortMultipartUpload: 'AbortMultipartUpload',
      listParts: 'ListParts',
      get: 'GetObject',
      // HeadObject is authorized by oss:GetObject.
      head: 'GetObject',
      getStream: 'GetObject',
      deleteMulti: 'DeleteObject',
      list: 'ListObjects',
      listUploads: 'ListMultipartUploads',
    };
    const text = sources('lib/adapters/oss');
    const calls = matches(text, /this\.client\.([a-zA-Z]+)\(/g);
    expect(calls.filter((c) => c !== 'signatureUrl' && !(c in ramAction))).toEqual([]);
    const signed = matches(text, /SignedMethod = '(GET|PUT)'/g).concat(['GET', 'PUT']);
    const needed = new Set([
      ...calls.filter((c) => c in ramAction).map((c) => ramAction[c]!),
      ...signed.map((m) => (m === 'PUT' ? 'PutObject' : 'GetObject')),
    ]);
    expect([...needed].sort()).toEqual([...OSS_OBJECT_ACTIONS, ...OSS_BUCKET_ACTIONS].sort());

    const policy = ramPolicy({ tablestoreInstance: 'b', accountId: '123', exportsBucket: 'ecsb-exports' });
    const oss = policy.Statement.filter((st) => st.Action.some((a) => a.startsWith('oss:')));
    expect(oss.map((st) => [st.Resource, st.Condition ?? null])).toEqual([
      [['acs:oss:*:123:ecsb-exports/exports/*'], null],
      [['acs:oss:*:123:ecsb-exports'], { StringLike: { 'oss:Prefix': ['exports/*'] } }],
    ]);
    expect(ramPolicy({ tablestoreInstance: 'b' }).Statement.flatMap((st) => st.Action)).not.toContain(
      'oss:GetObject',
    );
  });

  it('scopes Tablestore and MNS grants to our tables and queues', () => {
    const policy = ramPolicy({ tablestoreInstance: 'backup', region: 'cn-hangzhou', accountId: '123' });
    const [ecs, ots, mns] = policy.Statement;
    expect(ecs?.Action).toContain('ecs:CreateSnapshotGroup');
    expect(ots?.Resource).toContain('acs:ots:cn-hangzhou:123:instance/backup/table/ecsb_jobs*');
    expect(ots?.Resource.every((r) => r.includes('/table/ecsb_'))).toBe(true);
    expect(mns?.Resource).toEqual([
      'acs:mns:cn-hangzhou:123:/queues/ecs-backup-jobs/messages',
      'acs:mns:cn-hangzhou:123:/queues/ecs-backup-jobs-dlq/messages',
    ]);
    expect(policy.Statement.flatMap((s) => s.Action)).not.toContain('ots:CreateTable');
  });

  it('grants PublishMessage on topics, which the topic publisher calls and nothing else', () => {
    const policy = ramPolicy({ tablestoreInstance: 'backup', region: 'cn-hangzhou', accountId: '123' });
    const topics = policy.Statement.find((st) => st.Action.some((a) => a === 'mns:PublishMessage'));
    expect(topics).toEqual({
      Effect: 'Allow',
      Action: ['mns:PublishMessage'],
      Resource: ['acs:mns:cn-hangzhou:123:/topics/*/messages'],
    });
    expect(matches(sources('lib/adapters/mns'), /\.(publishMessage)\(/g)).toEqual(['publishMessage']);
  });
});
