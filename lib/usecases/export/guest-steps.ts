import type { Job } from '../../domain/model.js';
import { parseManifest } from '../../domain/export.js';
import { readExportOutput, renderLinuxExportScript, renderWorkList } from '../../guest/render-export.js';
import { renderWindowsExportScript } from '../../guest/render-windows-export.js';
import type { ObjectStore } from '../../ports/object-store.js';
import { partToken, snapshotName } from '../backup/ownership.js';
import { SETTLED, sendGuestCommandOnce } from '../jobs/guest-command.js';
import type { StepContext, StepResult } from '../jobs/job-kind.js';
import { next, pollSeconds, waitFor } from '../jobs/job-writes.js';
import { windDown } from '../jobs/wind-down.js';
import { checkPacks, PACK_BYTES, PACK_FILE_BYTES, PACK_FILES, packCount } from './packs.js';
import { exportKeys, exportParams, exportState, type ExportState } from './state.js';

/** The guest has this long to walk and upload; its signed URLs live a little longer. */
export const GUEST_TIMEOUT_SECONDS = 6 * 3600;
const URL_MARGIN_MS = 10 * 60_000;

export function objectStoreOf(ctx: StepContext): ObjectStore {
  const store = ctx.deps.objectStore;
  if (!store) throw new Error('no object store is configured: exports need OSS (or the local folder store)');
  return store;
}

/**
 * The names a Linux guest may give the disk: its serial under /dev/disk/by-id (ECS sets it to the
 * disk id without `d-`), then the ECS device name and its virtio form, each whole or as partition 1.
 */
export function deviceCandidates(diskId: string, device: string | null): string[] {
  const serial = diskId.replace(/^d-/, '');
  const names = [`/dev/disk/by-id/virtio-${serial}-part1`, `/dev/disk/by-id/virtio-${serial}`];
  if (device) {
    const virtio = device.replace(/^\/dev\/xvd/, '/dev/vd');
    for (const d of new Set([virtio, device])) names.push(`${d}1`, d);
  }
  return names;
}

/** The work list goes into the store first: the script fetches it, since it is too large for a command. */
export async function prepareStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const store = objectStoreOf(ctx);
  const keys = exportKeys(job.id);
  const expiresAt = ctx.deps.clock.now() + GUEST_TIMEOUT_SECONDS * 1000 + URL_MARGIN_MS;
  const { EXPORT_MAX_FILES, EXPORT_MAX_BYTES } = ctx.deps.settings;
  const uploads: string[] = [];
  for (let n = 0; n < EXPORT_MAX_FILES; n += 1) {
    uploads.push(await store.signedUrl(keys.blob(n), expiresAt, 'PUT'));
  }
  const packs: string[] = [];
  for (let n = 0; n < packCount(EXPORT_MAX_FILES, EXPORT_MAX_BYTES); n += 1) {
    packs.push(await store.signedUrl(keys.pack(n), expiresAt, 'PUT'));
  }
  await store.put(keys.work, renderWorkList(exportParams(job).paths, uploads, packs), 'text/plain');
  return next<ExportState>(ctx, job, 'run-guest', { urlsExpireAt: expiresAt }, 75);
}

async function renderScript(ctx: StepContext, job: Job): Promise<string> {
  const store = objectStoreOf(ctx);
  const st = exportState(job);
  const keys = exportKeys(job.id);
  const at = st.urlsExpireAt ?? 0;
  const common = {
    workUrl: await store.signedUrl(keys.work, at),
    manifestUrl: await store.signedUrl(keys.manifest, at, 'PUT'),
    cancelUrl: await store.signedUrl(keys.cancel, at),
    maxFiles: ctx.deps.settings.EXPORT_MAX_FILES,
    maxBytes: ctx.deps.settings.EXPORT_MAX_BYTES,
  };
  const p = exportParams(job);
  if (p.os === 'windows') {
    const diskSerial = (st.diskId ?? '').replace(/^d-/, '');
    return renderWindowsExportScript({
      ...common,
      diskSerial,
      sourceDrive: p.drive ?? '',
      pack: { fileBytes: PACK_FILE_BYTES, bytes: PACK_BYTES, files: PACK_FILES },
    });
  }
  return renderLinuxExportScript({
    ...common,
    devices: deviceCandidates(st.diskId ?? '', st.device ?? null),
    pack: { fileBytes: PACK_FILE_BYTES, bytes: PACK_BYTES, files: PACK_FILES },
  });
}

/** Sends the guest command. The token is the job's, so a resend after a crash finds the same command. */
export async function sendGuest(ctx: StepContext, job: Job): Promise<string> {
  const { invokeId } = await ctx.deps.ecs.runCommand({
    instanceId: job.instanceId,
    type: exportParams(job).os === 'windows' ? 'RunPowerShellScript' : 'RunShellScript',
    content: await renderScript(ctx, job),
    timeoutSeconds: GUEST_TIMEOUT_SECONDS,
    name: snapshotName(job.id, '-export'),
    clientToken: partToken(job.id, 'export-guest'),
  });
  return invokeId;
}

export async function runGuestStep(ctx: StepContext, job: Job): Promise<StepResult> {
  return sendGuestCommandOnce(ctx, job, (current) => sendGuest(ctx, current), 'wait-guest', 80);
}

export async function waitGuestStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const invokeId = exportState(job).invokeId ?? '';
  const [result] = await ctx.deps.ecs.describeInvocationResults([invokeId]);
  if (!result || !SETTLED.has(result.status)) return waitFor(ctx, job, pollSeconds(ctx));
  const said = readExportOutput(result.output);
  if (result.status !== 'Success') {
    const why = said.export_error ?? result.errorInfo ?? `the command ended ${result.status}`;
    return windDown(ctx, job, 'FAILED', `the export script on ${job.instanceId} failed: ${why}`);
  }
  const text = await objectStoreOf(ctx).get(exportKeys(job.id).manifest);
  if (!text) return windDown(ctx, job, 'FAILED', 'the export script ended without uploading its manifest');
  const manifest = parseManifest(text.toString('utf8'));
  const short = await checkPacks(objectStoreOf(ctx), job.id, manifest.entries);
  if (short) return windDown(ctx, job, 'FAILED', `the export script's uploads are incomplete: ${short}`);
  const files = manifest.entries.filter((e) => e.type === 'file');
  const bytes = files.reduce((sum, f) => sum + f.size, 0);
  const progress = { files: files.length, bytes, totalFiles: files.length, totalBytes: bytes };
  return next<ExportState>(ctx, job, 'remove-disk', { progress, skipped: manifest.skipped.length }, 90);
}
