import type { FunctionName } from '../build.js';
import type { DeployConfig } from './desired.js';
import { openApiCaller } from './http.js';
import {
  apiGatewayProviders,
  fcFunctionProvider,
  fcTriggerProvider,
  type Provider,
} from './providers-compute.js';
import {
  kmsSecretProvider,
  mnsQueueProvider,
  ossBucketProvider,
  ramProviders,
  slsProviders,
  tablestoreProviders,
} from './providers-platform.js';
import type { Change, Described, Resource } from './plan.js';

export interface CloudProviders {
  describe(resource: Resource): Promise<Described>;
  apply(change: Change): Promise<void>;
}

export interface CloudProviderOptions {
  region: string;
  accountId: string;
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string };
  packages: Record<FunctionName, Buffer>;
  apiToken: string;
  config: DeployConfig;
}

/**
 * Describes and changes each kind of resource in a real account, through the services' own APIs:
 * FC 3.0 (2023-03-30), RAM, KMS, Tablestore, MNS, OSS, SLS and API Gateway.
 */
export function createCloudProviders(options: CloudProviderOptions): CloudProviders {
  const { region, accountId, credentials, config } = options;
  const call = openApiCaller(credentials);
  const fcEndpoint = `${accountId}.${region}.fc.aliyuncs.com`;
  const apiFunction = `${config.name}-api`;
  const intranetUrl = async () => {
    const got = await call({
      endpoint: fcEndpoint,
      version: '2023-03-30',
      action: 'GetTrigger',
      style: 'ROA',
      method: 'GET',
      pathname: `/2023-03-30/functions/${apiFunction}/triggers/http`,
    });
    const url = (got.httpTrigger as { urlIntranet?: string } | undefined)?.urlIntranet;
    if (!url) throw new Error(`the HTTP trigger of ${apiFunction} has no intranet address yet`);
    return url;
  };
  const providers: Record<string, Provider> = {
    'fc.function': fcFunctionProvider(call, fcEndpoint, options.packages, config.name),
    'fc.trigger': fcTriggerProvider(call, fcEndpoint),
    'kms.secret': kmsSecretProvider(call, region, options.apiToken),
    'mns.queue': mnsQueueProvider(call, region, accountId, credentials),
    'oss.bucket': ossBucketProvider(region, credentials),
    ...ramProviders(call),
    ...slsProviders(region, credentials),
    ...tablestoreProviders(
      call,
      region,
      credentials,
      config.tablestoreInstance,
      config.tablePrefix ?? 'ecsb_',
    ),
    ...apiGatewayProviders(call, region, intranetUrl),
  };
  const providerOf = (r: Resource) => {
    const p = providers[r.kind];
    if (p === undefined) throw new Error(`no provider for ${r.kind}`);
    return p;
  };
  return {
    describe: (r) => providerOf(r).describe(r),
    async apply(change) {
      const p = providerOf(change.resource);
      if (change.action === 'create') await p.create(change.resource);
      else if (change.action === 'update')
        await p.update(
          change.resource,
          change.fields.map((f) => f.path.split('.')[0]!),
        );
    },
  };
}
