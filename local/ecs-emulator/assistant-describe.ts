import { checkRegion, tagList, type Body, type Ctx } from './context.js';
import { iso } from './ecs-format.js';
import { EcsApiError } from './errors.js';
import type { GuestSandbox } from './guest-sandbox.js';
import { pageFields, pageLimits, paginate } from './params.js';
import type { InstanceRecord, InvocationInstanceRecord, InvocationRecord } from './records.js';
import type { EcsState } from './state.js';

// Cloud Assistant's Describe actions: invocations, their per-instance results and the agents' status.

/** A task whose agent never answered turns Aborted once its delivery time is up, settled on read. */
function settle(state: EcsState, inv: InvocationRecord, now: number): void {
  for (const rec of inv.instances) {
    if (rec.status === 'Pending' && rec.abortAt !== null && now >= rec.abortAt) {
      rec.status = 'Aborted';
      rec.errorCode = 'ClientNotResponse';
      rec.errorInfo = 'the aliyun service in the instance does not response';
      rec.finishTime = rec.abortAt;
      state.putInvocation(inv);
    }
  }
}

function overall(inv: InvocationRecord): { status: string; invokeStatus: string } {
  const s = inv.instances.map((r) => r.status);
  if (s.some((x) => x === 'Running' || x === 'Stopping'))
    return { status: 'Running', invokeStatus: 'Running' };
  if (s.every((x) => x === 'Pending')) return { status: 'Pending', invokeStatus: 'Running' };
  if (s.some((x) => x === 'Pending')) return { status: 'Running', invokeStatus: 'Running' };
  if (s.every((x) => x === 'Success')) return { status: 'Success', invokeStatus: 'Finished' };
  if (s.some((x) => x === 'Success')) return { status: 'PartialFailed', invokeStatus: 'Finished' };
  return { status: 'Failed', invokeStatus: 'Failed' };
}

function invokeRecordStatus(status: InvocationInstanceRecord['status']): string {
  if (status === 'Running' || status === 'Pending') return status;
  if (status === 'Success' || status === 'Failed' || status === 'Timeout' || status === 'Error')
    return 'Finished';
  if (status === 'Cancelled' || status === 'Terminated') return 'Stopped';
  return 'Failed';
}

function output(rec: InvocationInstanceRecord, plain: boolean): string {
  return plain ? Buffer.from(rec.output, 'base64').toString('utf8') : rec.output;
}

/** `ContentEncoding`, which RunCommand reads for its content and the Describe actions for output. */
export function contentEncoding(ctx: Ctx, fallback: 'PlainText' | 'Base64'): 'PlainText' | 'Base64' {
  const enc = ctx.params.str('ContentEncoding') ?? fallback;
  if (enc !== 'PlainText' && enc !== 'Base64') {
    throw new EcsApiError(
      'InvalidParameter.ContentEncoding',
      'ContentEncoding must be PlainText or Base64.',
      400,
    );
  }
  return enc;
}

function plainText(ctx: Ctx): boolean {
  return contentEncoding(ctx, 'Base64') === 'PlainText';
}

function selectInvocations(ctx: Ctx, state: EcsState): InvocationRecord[] {
  const invokeId = ctx.params.str('InvokeId');
  const instanceId = ctx.params.str('InstanceId');
  const commandId = ctx.params.str('CommandId');
  let list: InvocationRecord[];
  if (invokeId) {
    const inv = state.invocations.get(invokeId);
    list = inv ? [inv] : [];
  } else {
    list = state.invocations.newestFirst();
  }
  return list.filter(
    (inv) =>
      (!instanceId || inv.instances.some((r) => r.instanceId === instanceId)) &&
      (!commandId || inv.commandId === commandId),
  );
}

export function describeInvocations(ctx: Ctx, state: EcsState): Body {
  checkRegion(ctx);
  const plain = plainText(ctx);
  const includeOutput = ctx.params.bool('IncludeOutput') ?? false;
  const wanted = ctx.params.str('InvokeStatus');
  const cmdType = ctx.params.str('CommandType');
  const all = selectInvocations(ctx, state).filter((inv) => {
    settle(state, inv, ctx.now);
    return (!cmdType || inv.type === cmdType) && (!wanted || overall(inv).invokeStatus === wanted);
  });
  const page = paginate(ctx.params, all, pageLimits(50));
  return {
    Invocations: {
      Invocation: page.items.map((inv) => {
        const o = overall(inv);
        return {
          InvokeId: inv.invokeId,
          CommandId: inv.commandId,
          CommandName: inv.name,
          CommandDescription: inv.description,
          CommandType: inv.type,
          CommandContent: plain ? inv.content : Buffer.from(inv.content, 'utf8').toString('base64'),
          CreationTime: iso(inv.createdAt),
          InvocationStatus: o.status,
          InvokeStatus: o.invokeStatus,
          Timeout: inv.timeoutSeconds,
          Username: inv.username,
          WorkingDir: inv.workingDir,
          RepeatMode: 'Once',
          Timed: false,
          Frequency: '',
          Parameters: '{}',
          Tags: tagList(inv.tags, 'TagKey'),
          InvokeInstances: {
            InvokeInstance: inv.instances.map((r) => ({
              InstanceId: r.instanceId,
              InvocationStatus: r.status,
              InstanceInvokeStatus: invokeRecordStatus(r.status),
              ExitCode: r.exitCode ?? 0,
              Output: includeOutput ? output(r, plain) : '',
              Dropped: r.dropped,
              ErrorCode: r.errorCode,
              ErrorInfo: r.errorInfo,
              CreationTime: iso(inv.createdAt),
              StartTime: r.startTime ? iso(r.startTime) : '',
              FinishTime: r.finishTime ? iso(r.finishTime) : '',
              UpdateTime: iso(r.finishTime ?? r.startTime ?? inv.createdAt),
              Repeats: 1,
              Timed: false,
            })),
          },
        };
      }),
    },
    ...pageFields(page),
  };
}

export function describeInvocationResults(ctx: Ctx, state: EcsState): Body {
  checkRegion(ctx);
  const plain = plainText(ctx);
  const instanceId = ctx.params.str('InstanceId');
  const wanted = ctx.params.str('InvokeRecordStatus');
  const rows: Body[] = [];
  for (const inv of selectInvocations(ctx, state)) {
    settle(state, inv, ctx.now);
    for (const r of inv.instances) {
      if (instanceId && r.instanceId !== instanceId) continue;
      const recordStatus = invokeRecordStatus(r.status);
      if (wanted && recordStatus !== wanted) continue;
      rows.push({
        InvokeId: inv.invokeId,
        CommandId: inv.commandId,
        InstanceId: r.instanceId,
        InvocationStatus: r.status,
        InvokeRecordStatus: recordStatus,
        ExitCode: r.exitCode ?? 0,
        Output: output(r, plain),
        Dropped: r.dropped,
        ErrorCode: r.errorCode,
        ErrorInfo: r.errorInfo,
        StartTime: r.startTime ? iso(r.startTime) : '',
        FinishedTime: r.finishTime ? iso(r.finishTime) : '',
        StopTime: '',
        Repeats: 1,
        Username: inv.username,
        Tags: tagList(inv.tags, 'TagKey'),
      });
    }
  }
  const page = paginate(ctx.params, rows, pageLimits(50));
  return { Invocation: { InvocationResults: { InvocationResult: page.items }, ...pageFields(page) } };
}

export function describeAssistantStatus(ctx: Ctx, sandbox: GuestSandbox): Body {
  checkRegion(ctx);
  const ids = ctx.params.list('InstanceId', 100);
  const osType = ctx.params.str('OSType')?.toLowerCase();
  const list =
    ids.length > 0
      ? ids.map((id) => ctx.state.instance(id, ctx.now)).filter((r): r is InstanceRecord => r !== undefined)
      : [...ctx.state.instances.newestFirst()]
          .reverse()
          .map((r) => ctx.state.instance(r.instanceId, ctx.now) as InstanceRecord);
  const matching = list.filter((r) => !osType || r.osType === osType);
  const page = paginate(ctx.params, matching, pageLimits(50));
  return {
    InstanceCloudAssistantStatusSet: {
      InstanceCloudAssistantStatus: page.items.map((r) => {
        const alive = r.agentInstalled && r.agentResponsive && r.status === 'Running';
        const active = sandbox.activeTasks(r.instanceId);
        return {
          InstanceId: r.instanceId,
          CloudAssistantStatus: alive ? 'true' : 'false',
          CloudAssistantVersion: r.agentInstalled ? '2.2.3.857' : '',
          OSType: r.osType === 'windows' ? 'Windows' : 'Linux',
          LastHeartbeatTime: alive ? iso(ctx.now) : '',
          ActiveTaskCount: active,
          InvocationCount: r.invocationCount,
          LastInvokedTime: r.lastInvokedTime ? iso(r.lastInvokedTime) : '',
          SupportSessionManager: r.agentInstalled,
        };
      }),
    },
    ...pageFields(page),
  };
}
