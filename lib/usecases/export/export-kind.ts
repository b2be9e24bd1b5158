import type { Job } from '../../domain/model.js';
import type { CancelDecision, JobKind, StepContext, StepResult } from '../jobs/job-kind.js';
import { next, pollSeconds, stepTimedOut, waitFor } from '../jobs/job-writes.js';
import { windDown } from '../jobs/wind-down.js';
import { checkMount, refusalReason } from '../restore/check.js';
import { attachStep, createDiskStep, waitAttachStep, waitDiskStep } from '../restore/disk-steps.js';
import { completeRecovery, createdDisk, pointClaim, removeDisk } from '../restore/held-resources.js';
import { claimStep, enterClaim } from '../restore/restore-kind.js';
import { archiveExport } from './archive.js';
import { prepareStep, runGuestStep, waitGuestStep } from './guest-steps.js';
import { guestCommand, uploadedObjects } from './held.js';
import { hashPacksStep } from './pack-hashes.js';
import { exportParams, exportState, type ExportState } from './state.js';

const DAY_MS = 86_400_000;

/** Re-checks what the API checked: the world may have changed while the job was queued. */
async function startExport(ctx: StepContext, job: Job): Promise<StepResult> {
  const p = exportParams(job);
  const checked = await checkMount(ctx.deps, { ...p, ttlHours: 1 });
  if (!checked.ok) return windDown(ctx, job, 'FAILED', refusalReason(checked));
  if (checked.value.instance.status !== 'Running') {
    return windDown(
      ctx,
      job,
      'FAILED',
      `instance ${job.instanceId} is ${checked.value.instance.status}; the export script needs it Running`,
    );
  }
  const os = checked.value.instance.osType === 'windows' ? 'windows' : 'linux';
  if (os !== (p.os ?? 'linux')) {
    return windDown(
      ctx,
      job,
      'FAILED',
      `instance ${job.instanceId} runs ${os} now; the export was asked of a ${p.os ?? 'linux'} instance`,
    );
  }
  return enterClaim(ctx, job, checked.value);
}

async function attached(ctx: StepContext, job: Job, device: string | null): Promise<StepResult> {
  return next<ExportState>(ctx, job, 'prepare', { device }, 72);
}

/**
 * The files are in the store: the temporary disk goes, then packed files are hashed
 * (pack-hashes.ts) and the archive is made (archive.ts).
 */
async function removeDiskStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const st = exportState(job);
  const removal = await removeDisk(ctx, st.diskId ?? '', job.id);
  if (removal.state === 'wait') {
    if (stepTimedOut(ctx, job)) {
      return windDown(ctx, job, 'FAILED', `disk ${st.diskId} could not be detached and deleted in time`);
    }
    return waitFor(ctx, job, pollSeconds(ctx));
  }
  const p = st.progress;
  const reason = [
    `${p?.files ?? 0} files (${p?.bytes ?? 0} bytes) exported from disk ${exportParams(job).diskId}`,
    ...(st.skipped ? [`${st.skipped} entries skipped (listed in the export)`] : []),
    removal.note ?? `disk ${st.diskId} deleted`,
  ].join('; ');
  return next<ExportState>(ctx, job, 'hash-packs', { outcome: reason }, 90);
}

/** The whole-export archive is in the store: the export completes and its TTL starts. */
async function archiveStep(ctx: StepContext, job: Job): Promise<StepResult> {
  await archiveExport(ctx, job);
  const exportExpiresAt = ctx.deps.clock.now() + ctx.deps.settings.EXPORT_TTL_DAYS * DAY_MS;
  return completeRecovery(ctx, job, exportState(job).outcome ?? 'exported', {
    release: job.id,
    patch: { exportExpiresAt } as Partial<ExportState>,
    progress: 100,
  });
}

/** Once the files are all uploaded a cancel cannot take the export back: it completes. */
function tooLate(): CancelDecision {
  return {
    action: 'too-late',
    note: 'cancel arrived after every file was uploaded; the export was completed',
  };
}

/**
 * An export job: start → claim → create-disk → wait-disk → attach → wait-attach → prepare (work list
 * and signed URLs into the store) → run-guest → wait-guest (manifest read) → remove-disk →
 * hash-packs (packed files hashed from the store, one pack a step) → archive (the whole export as one
 * tar.gz) → COMPLETE.
 * Failure and cancel stop the script, delete what it uploaded, detach and delete the disk and
 * release the backup, in that order.
 */
export const exportKind: JobKind = {
  type: 'export',
  firstStep: 'start',
  steps: {
    start: startExport,
    claim: claimStep(() => 'create-disk'),
    'create-disk': createDiskStep,
    'wait-disk': waitDiskStep,
    attach: attachStep,
    'wait-attach': waitAttachStep(attached),
    prepare: prepareStep,
    'run-guest': runGuestStep,
    'wait-guest': waitGuestStep,
    'remove-disk': removeDiskStep,
    'hash-packs': hashPacksStep,
    archive: archiveStep,
  },
  cancel: { 'remove-disk': tooLate, 'hash-packs': tooLate, archive: tooLate },
  holds: [guestCommand, uploadedObjects, createdDisk, pointClaim],
};
