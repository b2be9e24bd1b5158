import { checkRegion, tagList, type Body, type Ctx, type Handler } from './context.js';
import { EcsApiError, missingParameter, notFound } from './errors.js';
import { GuestSandbox, type SandboxOptions } from './guest-sandbox.js';
import { pageFields, pageLimits, paginate, validateTagsForWrite } from './params.js';
import type { InstanceRecord, InvocationInstanceRecord, InvocationRecord } from './records.js';
import { iso, newId } from './ecs-format.js';
import type { EcsState } from './state.js';

const CONTENT_LIMIT = 24 * 1024;

/**
 * Cloud Assistant's API: RunCommand hands each instance's task to its agent (the guest sandbox),
 * or answers as ECS does when the instance is stopped, has no agent or the agent does not answer.
 */
export class Assistant {
  readonly sandbox: GuestSandbox;

  constructor(private readonly opts: SandboxOptions) {
    this.sandbox = new GuestSandbox(opts);
  }

  get state(): EcsState {
    return this.opts.state;
  }

  guest(endpoint: string, form: Record<string, string>): string {
    return this.sandbox.guest(endpoint, form);
  }

  close(): Promise<void> {
    return this.sandbox.close();
  }

  // ---- API actions ----

  readonly actions: Record<string, Handler> = {
    RunCommand: (ctx) => this.runCommand(ctx),
    DescribeInvocations: (ctx) => this.describeInvocations(ctx),
    DescribeInvocationResults: (ctx) => this.describeInvocationResults(ctx),
    DescribeCloudAssistantStatus: (ctx) => this.describeStatus(ctx),
    InstallCloudAssistant: (ctx) => this.install(ctx),
  };

  private runCommand(ctx: Ctx): Body {
    checkRegion(ctx);
    const p = ctx.params;
    const type = p.required('Type');
    if (!['RunShellScript', 'RunPowerShellScript', 'RunBatScript'].includes(type)) {
      throw new EcsApiError('InvalidCommandType', `The specified Type ${type} is not valid.`, 400);
    }
    const raw = p.required('CommandContent');
    const encoding = p.str('ContentEncoding') ?? 'PlainText';
    if (encoding !== 'PlainText' && encoding !== 'Base64') {
      throw new EcsApiError(
        'InvalidParameter.ContentEncoding',
        'ContentEncoding must be PlainText or Base64.',
        400,
      );
    }
    const content = encoding === 'Base64' ? Buffer.from(raw, 'base64').toString('utf8') : raw;
    if (Buffer.from(content, 'utf8').toString('base64').length > CONTENT_LIMIT) {
      throw new EcsApiError(
        'CmdContent.ExceedLimit',
        'The command content exceeds 24 KB after base64 encoding.',
        400,
      );
    }
    const instanceIds = p.list('InstanceId', 100);
    if (instanceIds.length === 0) throw missingParameter('InstanceId.1');
    const timeoutSeconds = p.int('Timeout', 1, 86400) ?? 60;
    const instances = instanceIds.map((id) => {
      const r = ctx.state.instance(id, ctx.now);
      if (!r) throw notFound('InvalidInstance.NotFound', 'instance');
      return r;
    });
    const inv: InvocationRecord = {
      invokeId: newId('t-'),
      commandId: newId('c-'),
      name: p.str('Name') ?? '',
      description: p.str('Description') ?? '',
      type,
      content,
      timeoutSeconds,
      username: p.str('Username') ?? (instances[0]?.osType === 'windows' ? 'System' : 'root'),
      workingDir: p.str('WorkingDir') ?? '',
      createdAt: ctx.now,
      tags: validateTagsForWrite(p.tags()),
      instances: instances.map((inst) => ({
        instanceId: inst.instanceId,
        status: 'Pending',
        abortAt: null,
        exitCode: null,
        output: '',
        dropped: 0,
        errorCode: '',
        errorInfo: '',
        startTime: null,
        finishTime: null,
      })),
    };
    ctx.state.putInvocation(inv);
    inv.instances.forEach((rec, i) => this.deliver(inv, rec, instances[i] as InstanceRecord, ctx.now));
    return { CommandId: inv.commandId, InvokeId: inv.invokeId };
  }

  /** Decides what the agent on one instance does with the command. */
  private deliver(
    inv: InvocationRecord,
    rec: InvocationInstanceRecord,
    inst: InstanceRecord,
    now: number,
  ): void {
    const finish = (status: InvocationInstanceRecord['status'], code: string, info: string): void => {
      rec.status = status;
      rec.errorCode = code;
      rec.errorInfo = info;
      rec.finishTime = now;
      this.state.putInvocation(inv);
    };
    if (inst.status !== 'Running') {
      return finish('Aborted', 'InstanceNotRunning', 'the instance is not running when create task');
    }
    if (!inst.agentInstalled) {
      return finish('Aborted', 'ClientNotRunning', 'the aliyun service is not running on the instance');
    }
    const applicable =
      (inst.osType === 'linux' && inv.type === 'RunShellScript') ||
      (inst.osType === 'windows' && (inv.type === 'RunPowerShellScript' || inv.type === 'RunBatScript'));
    if (!applicable) return finish('Invalid', 'CommandNotApplicable', 'the command is not applicable');
    if (!inst.agentResponsive) {
      // Nothing answers: the task stays Pending and is Aborted once delivery times out.
      rec.abortAt = now + this.state.settings.agentDeliveryTimeoutMs;
      this.state.putInvocation(inv);
      return;
    }
    inst.invocationCount += 1;
    inst.lastInvokedTime = now;
    this.state.putInstance(inst);
    rec.status = 'Running';
    rec.startTime = now;
    this.state.putInvocation(inv);
    if (inst.osType === 'windows') void this.sandbox.simulatePowerShell(inv, rec, inst);
    else this.sandbox.runShell(inv, rec, inst);
  }

  private settle(inv: InvocationRecord, now: number): void {
    for (const rec of inv.instances) {
      if (rec.status === 'Pending' && rec.abortAt !== null && now >= rec.abortAt) {
        rec.status = 'Aborted';
        rec.errorCode = 'ClientNotResponse';
        rec.errorInfo = 'the aliyun service in the instance does not response';
        rec.finishTime = rec.abortAt;
        this.state.putInvocation(inv);
      }
    }
  }

  private overall(inv: InvocationRecord): { status: string; invokeStatus: string } {
    const s = inv.instances.map((r) => r.status);
    if (s.some((x) => x === 'Running' || x === 'Stopping'))
      return { status: 'Running', invokeStatus: 'Running' };
    if (s.every((x) => x === 'Pending')) return { status: 'Pending', invokeStatus: 'Running' };
    if (s.some((x) => x === 'Pending')) return { status: 'Running', invokeStatus: 'Running' };
    if (s.every((x) => x === 'Success')) return { status: 'Success', invokeStatus: 'Finished' };
    if (s.some((x) => x === 'Success')) return { status: 'PartialFailed', invokeStatus: 'Finished' };
    return { status: 'Failed', invokeStatus: 'Failed' };
  }

  private recordStatus(status: InvocationInstanceRecord['status']): string {
    if (status === 'Running' || status === 'Pending') return status;
    if (status === 'Success' || status === 'Failed' || status === 'Timeout' || status === 'Error')
      return 'Finished';
    if (status === 'Cancelled' || status === 'Terminated') return 'Stopped';
    return 'Failed';
  }

  private output(rec: InvocationInstanceRecord, plain: boolean): string {
    return plain ? Buffer.from(rec.output, 'base64').toString('utf8') : rec.output;
  }

  private encoding(ctx: Ctx): boolean {
    const enc = ctx.params.str('ContentEncoding') ?? 'Base64';
    if (enc !== 'PlainText' && enc !== 'Base64') {
      throw new EcsApiError(
        'InvalidParameter.ContentEncoding',
        'ContentEncoding must be PlainText or Base64.',
        400,
      );
    }
    return enc === 'PlainText';
  }

  private selectInvocations(ctx: Ctx): InvocationRecord[] {
    const invokeId = ctx.params.str('InvokeId');
    const instanceId = ctx.params.str('InstanceId');
    const commandId = ctx.params.str('CommandId');
    let list: InvocationRecord[];
    if (invokeId) {
      const inv = this.state.invocations.get(invokeId);
      list = inv ? [inv] : [];
    } else {
      list = this.state.invocations.newestFirst();
    }
    return list.filter(
      (inv) =>
        (!instanceId || inv.instances.some((r) => r.instanceId === instanceId)) &&
        (!commandId || inv.commandId === commandId),
    );
  }

  private describeInvocations(ctx: Ctx): Body {
    checkRegion(ctx);
    const plain = this.encoding(ctx);
    const includeOutput = ctx.params.bool('IncludeOutput') ?? false;
    const wanted = ctx.params.str('InvokeStatus');
    const cmdType = ctx.params.str('CommandType');
    const all = this.selectInvocations(ctx).filter((inv) => {
      this.settle(inv, ctx.now);
      return (!cmdType || inv.type === cmdType) && (!wanted || this.overall(inv).invokeStatus === wanted);
    });
    const page = paginate(ctx.params, all, pageLimits(50));
    return {
      Invocations: {
        Invocation: page.items.map((inv) => {
          const o = this.overall(inv);
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
                InstanceInvokeStatus: this.recordStatus(r.status),
                ExitCode: r.exitCode ?? 0,
                Output: includeOutput ? this.output(r, plain) : '',
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

  private describeInvocationResults(ctx: Ctx): Body {
    checkRegion(ctx);
    const plain = this.encoding(ctx);
    const instanceId = ctx.params.str('InstanceId');
    const wanted = ctx.params.str('InvokeRecordStatus');
    const rows: Body[] = [];
    for (const inv of this.selectInvocations(ctx)) {
      this.settle(inv, ctx.now);
      for (const r of inv.instances) {
        if (instanceId && r.instanceId !== instanceId) continue;
        const recordStatus = this.recordStatus(r.status);
        if (wanted && recordStatus !== wanted) continue;
        rows.push({
          InvokeId: inv.invokeId,
          CommandId: inv.commandId,
          InstanceId: r.instanceId,
          InvocationStatus: r.status,
          InvokeRecordStatus: recordStatus,
          ExitCode: r.exitCode ?? 0,
          Output: this.output(r, plain),
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

  private describeStatus(ctx: Ctx): Body {
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
          const active = this.sandbox.activeTasks(r.instanceId);
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

  private install(ctx: Ctx): Body {
    checkRegion(ctx);
    const ids = ctx.params.list('InstanceId', 50);
    if (ids.length === 0) throw missingParameter('InstanceId.1');
    const instances = ids.map((id) => {
      const r = ctx.state.instance(id, ctx.now);
      if (!r) throw notFound('InvalidInstance.NotFound', 'instance');
      return r;
    });
    for (const r of instances) {
      if (!r.agentInstalled) {
        r.agentInstallPending = true;
        ctx.state.putInstance(r);
      }
    }
    return {};
  }
}
