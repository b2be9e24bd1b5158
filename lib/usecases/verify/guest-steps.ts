import type { Job } from '../../domain/model.js';
import { verdictFromGuest } from '../../domain/verification.js';
import { readExportOutput } from '../../guest/render-export.js';
import { renderLinuxVerifyScript } from '../../guest/render-verify.js';
import { partToken, snapshotName } from '../backup/ownership.js';
import { deviceCandidates } from '../export/guest-steps.js';
import { SETTLED, sendGuestCommandOnce } from '../jobs/guest-command.js';
import type { StepContext, StepResult } from '../jobs/job-kind.js';
import { next, pollSeconds, waitFor } from '../jobs/job-writes.js';
import { verifyParams, verifyState, type VerifyState } from './state.js';

/** The operator's check script gets this long per disk; the whole command a margin on top. */
export const SCRIPT_TIMEOUT_SECONDS = 1800;
const COMMAND_MARGIN_SECONDS = 600;

/** Sends the verify script to the helper. The token is the job's, so a resend after a crash finds the same command. */
export async function sendGuest(ctx: StepContext, job: Job): Promise<string> {
  const st = verifyState(job);
  const disks = (st.disks ?? []).map((d) => ({
    diskId: d.diskId ?? '',
    devices: deviceCandidates(d.diskId ?? '', d.device ?? null),
  }));
  const { invokeId } = await ctx.deps.ecs.runCommand({
    instanceId: st.helperId ?? '',
    type: 'RunShellScript',
    content: renderLinuxVerifyScript({
      disks,
      runScript: verifyParams(job).script,
      scriptTimeoutSeconds: SCRIPT_TIMEOUT_SECONDS,
    }),
    timeoutSeconds: SCRIPT_TIMEOUT_SECONDS * Math.max(1, disks.length) + COMMAND_MARGIN_SECONDS,
    name: snapshotName(job.id, '-verify'),
    clientToken: partToken(job.id, 'verify-guest'),
  });
  return invokeId;
}

export async function runGuestStep(ctx: StepContext, job: Job): Promise<StepResult> {
  return sendGuestCommandOnce(ctx, job, (current) => sendGuest(ctx, current), 'wait-guest', 70);
}

/** The script's verdict is kept; the disks go before it is recorded on the point. */
export async function waitGuestStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const invokeId = verifyState(job).invokeId ?? '';
  const [result] = await ctx.deps.ecs.describeInvocationResults([invokeId]);
  if (!result || !SETTLED.has(result.status)) return waitFor(ctx, job, pollSeconds(ctx));
  const verdict = verdictFromGuest(result.status, readExportOutput(result.output), result.errorInfo);
  return next<VerifyState>(ctx, job, 'remove-disks', { verdict }, 85);
}
