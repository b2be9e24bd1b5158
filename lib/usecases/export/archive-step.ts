import { performance } from 'node:perf_hooks';
import type { Job } from '../../domain/model.js';
import {
  MIN_UPLOAD_PART_BYTES,
  UploadNotFoundError,
  type ObjectStore,
  type UploadedPart,
} from '../../ports/object-store.js';
import type { StepContext, StepResult } from '../jobs/job-kind.js';
import { record, save, waitFor, withState } from '../jobs/job-writes.js';
import { windDown } from '../jobs/wind-down.js';
import { completeRecovery } from '../restore/held-resources.js';
import { ArchiveBudget, partSizeFor, planArchiveParts, type ArchivePart } from './archive-plan.js';
import { checkBlobs, gzipMember, readLayout, type ArchiveLayout } from './archive-stream.js';
import { objectStoreOf } from './guest-steps.js';
import { exportKeys, exportState, type ArchiveProgress, type ExportState } from './state.js';

const DAY_MS = 86_400_000;
const FIRST_PROGRESS = 95;

/**
 * The members that make the next uploaded part, from member `from`: one, or more while they stay
 * below OSS's smallest part (a member of zeros can compress a thousandfold). Returns the part's
 * bytes, the member after it, and how much of the tar stream it holds.
 */
async function nextPart(
  store: ObjectStore,
  id: string,
  layout: ArchiveLayout,
  plan: readonly ArchivePart[],
  from: number,
): Promise<{ body: Buffer; next: number; tarBytes: number }> {
  const members: Buffer[] = [];
  let size = 0;
  let next = from;
  do {
    const member = await gzipMember(store, id, layout, plan[next]!);
    members.push(member);
    size += member.length;
    next += 1;
  } while (size < MIN_UPLOAD_PART_BYTES && next < plan.length);
  const body = members.length === 1 ? members[0]! : Buffer.concat(members);
  return { body, next, tarBytes: plan[next - 1]!.end - plan[from]!.start };
}

/**
 * Publishes the archive from parts 1 to `parts`; false, publishing nothing, when the stored parts
 * do not add up to the bytes recorded: a stale delivery that lost its race may have replaced a part
 * with bytes grouped otherwise (another zlib after a deploy). A delivery that died after the
 * completion finds the upload gone and the object there. Uploads of the key other than the
 * recorded one were started by deliveries that died before recording their id: they are aborted.
 */
async function completeArchive(store: ObjectStore, key: string, st: ArchiveProgress): Promise<boolean> {
  let listed: UploadedPart[] | null = null;
  try {
    listed = await store.listParts(key, st.uploadId);
  } catch (err) {
    if (!(err instanceof UploadNotFoundError) || !(await store.list(key)).some((o) => o.key === key))
      throw err;
  }
  if (listed) {
    const byNumber = new Map(listed.map((p) => [p.number, p]));
    const parts = Array.from({ length: st.parts }, (_, i) => {
      const part = byNumber.get(i + 1);
      if (!part)
        throw new Error(`archive part ${i + 1} of ${st.parts} is missing from upload ${st.uploadId}`);
      return part;
    });
    if (parts.reduce((n, p) => n + p.size, 0) !== st.bytes) return false;
    await store.completeUpload(key, st.uploadId, parts);
  }
  for (const u of await store.listUploads(key)) {
    if (u.key === key && u.uploadId !== st.uploadId) await store.abortUpload(u.key, u.uploadId);
  }
  return true;
}

/** The upload starts once the files are known to be whole; its id is recorded before any part. */
async function startArchive(
  ctx: StepContext,
  job: Job,
  layout: ArchiveLayout,
): Promise<{ job: Job; st: ArchiveProgress } | { failed: string }> {
  const store = objectStoreOf(ctx);
  const wrong = await checkBlobs(store, job.id, layout.entries);
  if (wrong) return { failed: `the archive cannot be made: ${wrong}` };
  const uploadId = await store.createUpload(exportKeys(job.id).archive, 'application/gzip');
  const partBytes = partSizeFor(layout.total, ctx.deps.settings.EXPORT_ARCHIVE_PART_BYTES);
  const st: ArchiveProgress = { uploadId, partBytes, members: 0, parts: 0, bytes: 0 };
  return { job: await record<ExportState>(ctx, job, { archive: st }), st };
}

/**
 * The export job's last step: the whole export as one tar.gz in the store, made as a multi-member
 * gzip uploaded part by part. Each delivery makes parts until its budget (bytes of the tar stream,
 * seconds) is spent, recording each part on the job, then hands the rest to a fresh delivery; one
 * that dies redoes only the part it was making. Memory holds one part.
 */
export async function archiveStep(ctx: StepContext, job: Job): Promise<StepResult> {
  const store = objectStoreOf(ctx);
  const key = exportKeys(job.id).archive;
  const layout = await readLayout(store, job.id);
  let current = job;
  let st = exportState(job).archive;
  if (!st) {
    const started = await startArchive(ctx, job, layout);
    if ('failed' in started) return windDown(ctx, job, 'FAILED', started.failed);
    ({ job: current, st } = started);
  }
  const plan = planArchiveParts(layout.spans, st.partBytes);
  const { EXPORT_ARCHIVE_DELIVERY_BYTES: bytes, EXPORT_ARCHIVE_DELIVERY_SECONDS: seconds } =
    ctx.deps.settings;
  const budget = new ArchiveBudget({ bytes, ms: seconds * 1000 }, () => performance.now());
  while (st.members < plan.length) {
    if (budget.spent()) return waitFor(ctx, current, 1);
    const part = await nextPart(store, job.id, layout, plan, st.members);
    const uploaded = await store.uploadPart(key, st.uploadId, st.parts + 1, part.body);
    st = { ...st, members: part.next, parts: st.parts + 1, bytes: st.bytes + uploaded.size };
    const progress = FIRST_PROGRESS + Math.floor((4 * st.members) / plan.length);
    current = await save(ctx, current, {
      ...current,
      progress: Math.max(current.progress, progress),
      state: withState<ExportState>(current, { archive: st }),
      updatedAt: ctx.deps.clock.now(),
    });
    budget.spend(part.tarBytes);
  }
  if (!(await completeArchive(store, key, st))) {
    await store.abortUpload(key, st.uploadId);
    const again = await record<ExportState>(ctx, current, { archive: undefined });
    ctx.deps.log.warn('archive parts did not add up; the archive starts over', { jobId: job.id });
    return waitFor(ctx, again, 1);
  }
  const exportExpiresAt = ctx.deps.clock.now() + ctx.deps.settings.EXPORT_TTL_DAYS * DAY_MS;
  return completeRecovery(ctx, current, exportState(current).outcome ?? 'exported', {
    release: current.id,
    patch: { exportExpiresAt } as Partial<ExportState>,
    progress: 100,
  });
}
