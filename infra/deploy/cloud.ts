import type { FunctionName } from '../build.js';
import type { DeployConfig } from './desired.js';
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

export function createCloudProviders(_options: CloudProviderOptions): CloudProviders {
  throw new Error('not yet');
}
