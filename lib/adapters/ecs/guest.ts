import type { InvocationResult, RunCommandRequest } from '../../ports/ecs.js';
import { BATCH_LIMITS, clientToken, indexed, required, type EcsCaller } from './caller.js';
import { list, obj, parseInvocationResult, str } from './mappers.js';

/** Cloud Assistant: the agent's status and install, and running a script inside the guest. */

export async function cloudAssistantStatus(
  c: EcsCaller,
  instanceIds: string[],
): Promise<Record<string, boolean>> {
  const out: Record<string, boolean> = {};
  for (const id of instanceIds) out[id] = false;
  const rows = await c.batched(instanceIds, BATCH_LIMITS.cloudAssistantInstances, (ids) =>
    c.paged(
      'DescribeCloudAssistantStatus',
      c.region(indexed('InstanceId', ids)),
      (body) => list(obj(body.InstanceCloudAssistantStatusSet), 'InstanceCloudAssistantStatus'),
      BATCH_LIMITS.cloudAssistantPageSize,
    ),
  );
  for (const row of rows) {
    const id = str(row.InstanceId);
    if (id in out) out[id] = str(row.CloudAssistantStatus).toLowerCase() === 'true';
  }
  return out;
}

export async function installCloudAssistant(c: EcsCaller, instanceIds: string[]): Promise<void> {
  await c.batched(instanceIds, BATCH_LIMITS.cloudAssistantInstances, async (ids) => {
    await c.rpc.call('InstallCloudAssistant', c.region(indexed('InstanceId', ids)));
    return [];
  });
}

export async function runCommand(c: EcsCaller, request: RunCommandRequest): Promise<{ invokeId: string }> {
  const body = await c.rpc.call(
    'RunCommand',
    c.region({
      Type: request.type,
      ContentEncoding: 'Base64',
      'InstanceId.1': request.instanceId,
      Timeout: String(Math.max(1, Math.round(request.timeoutSeconds))),
      Name: request.name,
      ClientToken: clientToken(request.clientToken),
    }),
    // In the body, not the query string: a 16 KB script is ~22 KB of base64, larger than many
    // servers accept in a request line.
    { body: { CommandContent: Buffer.from(request.content, 'utf8').toString('base64') } },
  );
  return { invokeId: required(body, 'InvokeId', 'RunCommand') };
}

export async function describeInvocationResults(
  c: EcsCaller,
  invokeIds: string[],
): Promise<InvocationResult[]> {
  const unique = [...new Set(invokeIds)];
  // DescribeInvocationResults takes one InvokeId per call.
  const perInvoke = await Promise.all(
    unique.map((invokeId) =>
      c.paged(
        'DescribeInvocationResults',
        c.region({ InvokeId: invokeId, ContentEncoding: 'Base64' }),
        (b) => list(obj(obj(b.Invocation).InvocationResults), 'InvocationResult'),
        BATCH_LIMITS.cloudAssistantPageSize,
      ),
    ),
  );
  return perInvoke.flat().map(parseInvocationResult);
}
