import { checkRegion, type Body, type Ctx, type Handler } from './context.js';
import { EcsApiError, missingParameter, notFound } from './errors.js';
import { GuestSandbox, type SandboxOptions } from './guest-sandbox.js';
import { validateTagsForWrite } from './params.js';
import {
  contentEncoding,
  describeAssistantStatus,
  describeInvocationResults,
  describeInvocations,
} from './assistant-describe.js';
import type { InstanceRecord, InvocationInstanceRecord, InvocationRecord } from './records.js';
import { newId } from './ecs-format.js';
import type { EcsState } from './state.js';

const CONTENT_LIMIT = 24 * 1024;

/** The instances a command or an agent install is for; Cloud Assistant's own code for an unknown one. */
function targets(ctx: Ctx, ids: string[]): InstanceRecord[] {
  return ids.map((id) => {
    const r = ctx.state.instance(id, ctx.now);
    if (!r) throw notFound('InvalidInstance.NotFound', 'instance');
    return r;
  });
}

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
    DescribeInvocations: (ctx) => describeInvocations(ctx, this.state),
    DescribeInvocationResults: (ctx) => describeInvocationResults(ctx, this.state),
    DescribeCloudAssistantStatus: (ctx) => describeAssistantStatus(ctx, this.sandbox),
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
    const encoding = contentEncoding(ctx, 'PlainText');
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
    const instances = targets(ctx, instanceIds);
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

  private install(ctx: Ctx): Body {
    checkRegion(ctx);
    const ids = ctx.params.list('InstanceId', 50);
    if (ids.length === 0) throw missingParameter('InstanceId.1');
    const instances = targets(ctx, ids);
    for (const r of instances) {
      if (!r.agentInstalled) {
        r.agentInstallPending = true;
        ctx.state.putInstance(r);
      }
    }
    return {};
  }
}
