import type { FunctionName } from '../build.js';
import { isNotFound, type ApiCall } from './http.js';
import type { Described, Resource } from './plan.js';

type Call = (call: ApiCall) => Promise<Record<string, unknown>>;

export interface Provider {
  describe(resource: Resource): Promise<Described>;
  create(resource: Resource): Promise<void>;
  update(resource: Resource, changedPaths: string[]): Promise<void>;
}

const FC_VERSION = '2023-03-30';

async function orUndefined<T>(work: Promise<T>): Promise<T | undefined> {
  try {
    return await work;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Function Compute 3.0 functions, through its OpenAPI (ROA, 2023-03-30). */
export function fcFunctionProvider(
  call: Call,
  endpoint: string,
  packages: Record<FunctionName, Buffer>,
  prefix: string,
): Provider {
  const fc = (action: string, method: ApiCall['method'], pathname: string, body?: unknown) =>
    call({
      endpoint,
      version: FC_VERSION,
      action,
      style: 'ROA',
      method,
      pathname,
      ...(body !== undefined ? { body } : {}),
    });
  const input = (r: Resource, withCode: boolean) => {
    const { codeChecksum: _checksum, ...props } = r.props;
    const fn = r.name.slice(prefix.length + 1) as FunctionName;
    return { ...props, ...(withCode ? { code: { zipFile: packages[fn].toString('base64') } } : {}) };
  };
  return {
    async describe(r) {
      const got = await orUndefined(fc('GetFunction', 'GET', `/${FC_VERSION}/functions/${r.name}`));
      if (got === undefined) return undefined;
      const pick = (k: string) => got[k];
      return {
        runtime: pick('runtime'),
        handler: pick('handler'),
        description: pick('description'),
        memorySize: pick('memorySize'),
        timeout: pick('timeout'),
        role: pick('role'),
        codeChecksum: pick('codeChecksum'),
        environmentVariables: pick('environmentVariables') ?? {},
        logConfig: pick('logConfig') ?? {},
      };
    },
    async create(r) {
      await fc('CreateFunction', 'POST', `/${FC_VERSION}/functions`, {
        functionName: r.name,
        ...input(r, true),
      });
    },
    async update(r, changed) {
      await fc(
        'UpdateFunction',
        'PUT',
        `/${FC_VERSION}/functions/${r.name}`,
        input(r, changed.includes('codeChecksum')),
      );
    },
  };
}

/** Triggers of FC 3.0 functions; the config travels as a JSON string. */
export function fcTriggerProvider(call: Call, endpoint: string): Provider {
  const fc = (action: string, method: ApiCall['method'], pathname: string, body?: unknown) =>
    call({
      endpoint,
      version: FC_VERSION,
      action,
      style: 'ROA',
      method,
      pathname,
      ...(body !== undefined ? { body } : {}),
    });
  const split = (name: string) => {
    const [fn, trigger] = name.split('/') as [string, string];
    return { fn, trigger };
  };
  return {
    async describe(r) {
      const { fn, trigger } = split(r.name);
      const got = await orUndefined(
        fc('GetTrigger', 'GET', `/${FC_VERSION}/functions/${fn}/triggers/${trigger}`),
      );
      if (got === undefined) return undefined;
      const config = got.triggerConfig;
      return {
        triggerType: got.triggerType,
        triggerConfig: typeof config === 'string' ? JSON.parse(config) : config,
      };
    },
    async create(r) {
      const { fn, trigger } = split(r.name);
      await fc('CreateTrigger', 'POST', `/${FC_VERSION}/functions/${fn}/triggers`, {
        triggerName: trigger,
        triggerType: r.props.triggerType,
        triggerConfig: JSON.stringify(r.props.triggerConfig),
        qualifier: 'LATEST',
      });
    },
    async update(r) {
      const { fn, trigger } = split(r.name);
      await fc('UpdateTrigger', 'PUT', `/${FC_VERSION}/functions/${fn}/triggers/${trigger}`, {
        triggerConfig: JSON.stringify(r.props.triggerConfig),
      });
    },
  };
}

/** API Gateway (CloudAPI 2016-07-14): a group, one pass-through API to the api function, deployed to RELEASE. */
export function apiGatewayProviders(
  call: Call,
  region: string,
  intranetUrl: () => Promise<string>,
): Record<string, Provider> {
  const endpoint = `apigateway.${region}.aliyuncs.com`;
  const api = (action: string, query: Record<string, string>) =>
    call({ endpoint, version: '2016-07-14', action, style: 'RPC', query });
  const groupId = async (name: string): Promise<string | undefined> => {
    const got = await api('DescribeApiGroups', { GroupName: name });
    const groups =
      (got.ApiGroupAttributes as { ApiGroupAttribute?: { GroupId: string; GroupName: string }[] })
        ?.ApiGroupAttribute ?? [];
    return groups.find((g) => g.GroupName === name)?.GroupId;
  };
  const apiQuery = async (r: Resource, id: string) => {
    const [, apiName] = r.name.split('/') as [string, string];
    const service = r.props.serviceConfig as { functionComputeConfig: Record<string, string> };
    const request = r.props.requestConfig as Record<string, string>;
    return {
      GroupId: id,
      ApiName: apiName,
      Visibility: 'PRIVATE',
      AuthType: String(r.props.authType),
      ResultType: 'PASSTHROUGH',
      ResultSample: '{}',
      RequestConfig: JSON.stringify({
        RequestProtocol: request.requestProtocol,
        RequestHttpMethod: request.requestHttpMethod,
        RequestPath: request.requestPath,
        RequestMode: request.requestMode,
      }),
      ServiceConfig: JSON.stringify({
        ServiceProtocol: 'FunctionCompute',
        FunctionComputeConfig: {
          FcVersion: service.functionComputeConfig.fcVersion,
          FcRegionId: service.functionComputeConfig.fcRegionId,
          FunctionName: service.functionComputeConfig.functionName,
          FcType: service.functionComputeConfig.fcType,
          FcBaseUrl: await intranetUrl(),
          Path: '/',
          Method: 'ANY',
        },
      }),
    };
  };
  const deploy = (groupIdValue: string, apiId: string) =>
    api('DeployApi', {
      GroupId: groupIdValue,
      ApiId: apiId,
      StageName: 'RELEASE',
      Description: 'npm run deploy',
    });
  return {
    'apigw.group': {
      async describe(r) {
        return (await groupId(r.name)) === undefined ? undefined : { description: r.props.description };
      },
      async create(r) {
        await api('CreateApiGroup', { GroupName: r.name, Description: String(r.props.description) });
      },
      async update() {},
    },
    'apigw.api': {
      async describe(r) {
        const [group, apiName] = r.name.split('/') as [string, string];
        const id = await groupId(group);
        if (id === undefined) return undefined;
        const got = await api('DescribeApis', { GroupId: id, ApiName: apiName });
        const found = ((got.ApiSummarys as { ApiSummary?: { ApiId: string }[] })?.ApiSummary ?? [])[0];
        // The API's shape is ours alone; once it exists its settings are re-applied only when asked.
        return found === undefined ? undefined : { ...r.props };
      },
      async create(r) {
        const [group] = r.name.split('/') as [string];
        const id = await groupId(group);
        if (id === undefined) throw new Error(`API group ${group} does not exist`);
        const created = await api('CreateApi', await apiQuery(r, id));
        await deploy(id, String(created.ApiId));
      },
      async update() {},
    },
  };
}
