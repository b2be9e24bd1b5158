import {
  checkExportPaths,
  driveOf,
  ExportTree,
  type ExportOs,
  nameOf,
  parseManifest,
  type ExportEntry,
} from '../../domain/export.js';
import { storedSpelling } from '../../domain/export-case.js';
import { isTerminal, newJob } from '../../domain/job.js';
import type { Job } from '../../domain/model.js';
import type { Page, PageRequest } from '../../ports/store.js';
import type { Deps } from '../deps.js';
import { enqueueJob } from '../enqueue-job.js';
import { conflict, invalid, notFound, ok, type Outcome } from '../management/outcome.js';
import { checkMount } from '../restore/check.js';
import { attachment, DOWNLOAD_URL_MS, type DownloadBytes, type DownloadLink } from './disposition.js';
import { readPacked } from './packs.js';
import { exportKeys, exportParams, exportState, type ExportParams } from './state.js';

type RequestDeps = Pick<Deps, 'store' | 'ecs' | 'jobQueue' | 'clock' | 'ids'>;

export interface ExportRequest {
  diskId?: string;
  paths: string[];
  targetInstanceId?: string;
}

/** The zone the backup was taken in: its instance's, or its disk's once the instance is gone; null if neither is left. */
async function backupZone(deps: RequestDeps, instanceId: string, diskId: string): Promise<string | null> {
  const [source] = await deps.ecs.describeInstances([instanceId]);
  if (source) return source.zoneId;
  const [disk] = await deps.ecs.describeDisks([diskId]);
  return disk?.zoneId ?? null;
}

/**
 * The letter the volume had on the backed-up instance, which absolute link targets on it use: the
 * one the request names, else C: for a system disk; unknown for a data disk named by `\\dir` only.
 */
function windowsVolume(
  raw: readonly string[],
  point: { snapshots: { diskId: string; diskType: string }[] },
  diskId: string,
) {
  const named = raw.map(driveOf).find((d) => d !== null);
  const system = point.snapshots.find((s) => s.diskId === diskId)?.diskType === 'system';
  return { os: 'windows' as const, drive: named ?? (system ? 'C' : '') };
}

/** Checks everything knowable before a write, then starts the export job. */
export async function requestExport(
  deps: RequestDeps,
  backupId: string,
  request: ExportRequest,
): Promise<Outcome<Job>> {
  const point = await deps.store.points.get(backupId);
  if (!point) return notFound('backup', backupId);
  const diskId = request.diskId ?? point.snapshots.find((s) => s.diskType === 'system')?.diskId;
  if (!diskId)
    return invalid([
      { path: 'diskId', message: `backup ${backupId} holds no system disk: name one of its disks` },
    ]);
  if (!point.snapshots.some((s) => s.diskId === diskId)) {
    return invalid([{ path: 'diskId', message: `disk ${diskId} is not in backup ${backupId}` }]);
  }
  const targetInstanceId = request.targetInstanceId ?? point.instanceId;
  const [instance] = await deps.ecs.describeInstances([targetInstanceId]);
  if (!instance) {
    return request.targetInstanceId === undefined
      ? conflict(
          `the backed-up instance ${targetInstanceId} no longer exists: pass targetInstanceId, a running instance of the backed-up OS`,
        )
      : notFound('ECS instance', targetInstanceId);
  }
  if (instance.status !== 'Running') {
    return conflict(
      `instance ${targetInstanceId} is ${instance.status}; the export runs a script on it: ${
        request.targetInstanceId === undefined
          ? 'pass targetInstanceId, a running instance of the backed-up OS, or start it'
          : 'start it first'
      }`,
    );
  }
  const zone = await backupZone(deps, point.instanceId, diskId);
  if (zone !== null && instance.zoneId !== zone) {
    return invalid([
      {
        path: 'targetInstanceId',
        message: `instance ${targetInstanceId} is in zone ${instance.zoneId}; backup ${backupId} is in zone ${zone}: pick a running instance there`,
      },
    ]);
  }
  const os: ExportOs = instance.osType === 'windows' ? 'windows' : 'linux';
  // The reader's OS must read the disk's file system: NTFS on Windows, ext4/xfs on Linux.
  const sourceOs = point.source?.osType;
  if (sourceOs && sourceOs !== os) {
    return invalid([
      {
        path: 'targetInstanceId',
        message: `instance ${targetInstanceId} runs ${os}; backup ${backupId} is of a ${sourceOs} instance: pick a running ${sourceOs} instance`,
      },
    ]);
  }
  const paths = checkExportPaths(request.paths, os);
  if (!paths.ok) return invalid(paths.issues);
  const params: ExportParams = {
    backupId,
    diskId,
    targetInstanceId,
    paths: paths.paths,
    ...(os === 'windows' ? windowsVolume(request.paths, point, diskId) : {}),
  };
  const checked = await checkMount(deps, { ...params, ttlHours: 1 });
  if (!checked.ok) return checked;
  const job = newJob(
    {
      id: deps.ids.next('export-'),
      type: 'export',
      instanceId: targetInstanceId,
      planId: point.planId,
      params: { ...params },
    },
    deps.clock.now(),
  );
  const { job: stored } = await enqueueJob(deps, { ...job, state: { pointId: backupId } });
  return ok(stored);
}

export async function getExport(deps: Pick<Deps, 'store'>, id: string): Promise<Outcome<Job>> {
  const job = await deps.store.jobs.get(id);
  return job && job.type === 'export' ? ok(job) : notFound('export', id);
}

export async function listExports(
  deps: Pick<Deps, 'store'>,
  filter: { instanceId?: string; status?: Job['status'][] },
  page: PageRequest,
): Promise<Page<Job>> {
  return deps.store.jobs.list({ type: 'export', ...filter }, page);
}

/** Parsed manifests of recent exports: a browse page is then a lookup, not a parse of the whole tree. */
const trees = new Map<string, ExportTree>();
const TREE_CACHE = 8;

export async function readyExport(
  deps: Pick<Deps, 'store' | 'objectStore'>,
  id: string,
): Promise<Outcome<ExportTree>> {
  const found = await getExport(deps, id);
  if (!found.ok) return found;
  const job = found.value;
  if (job.status !== 'COMPLETE')
    return conflict(`export ${id} is ${job.status}; its files can be read once it is COMPLETE`);
  if (exportState(job).deletedAt) return conflict(`export ${id} was deleted; its files are gone`);
  const cached = trees.get(id);
  if (cached) return ok(cached);
  const text = await deps.objectStore?.get(exportKeys(id).manifest);
  if (!text) return conflict(`export ${id} has no manifest in the object store`);
  const tree = new ExportTree(parseManifest(text.toString('utf8')).entries);
  trees.set(id, tree);
  if (trees.size > TREE_CACHE) trees.delete(trees.keys().next().value!);
  return ok(tree);
}

export async function browseExport(
  deps: Pick<Deps, 'store' | 'objectStore'>,
  id: string,
  dir: string,
  page: { cursor?: string; limit: number },
): Promise<Outcome<Page<ExportEntry>>> {
  const tree = await readyExport(deps, id);
  if (!tree.ok) return tree;
  let at = dir;
  if (at !== '/' && !tree.value.hasDir(at)) at = await anyCase(deps, id, tree.value, at);
  if (at !== '/' && !tree.value.hasDir(at)) {
    return invalid([{ path: 'path', message: `${dir} is not a directory of export ${id}` }]);
  }
  return ok(tree.value.list(at, page.cursor, page.limit));
}

/** A Windows export's names match in any case, as on NTFS; asked only on a miss, so a hit costs nothing. */
async function anyCase(
  deps: Pick<Deps, 'store'>,
  id: string,
  tree: ExportTree,
  path: string,
): Promise<string> {
  const job = await deps.store.jobs.get(id);
  if (!job || exportParams(job).os !== 'windows') return path;
  return storedSpelling(tree, path) ?? path;
}

/** A file's signed download URL, good for 15 minutes, answering with the file's name. */
export async function downloadFile(
  deps: Pick<Deps, 'store' | 'objectStore' | 'clock'>,
  id: string,
  path: string,
): Promise<Outcome<DownloadLink | DownloadBytes>> {
  const tree = await readyExport(deps, id);
  if (!tree.ok) return tree;
  const entry = tree.value.entry(path) ?? tree.value.entry(await anyCase(deps, id, tree.value, path));
  if (entry?.type === 'file' && entry.pack) return ok(await readPacked(deps.objectStore!, id, entry));
  if (!entry || entry.type !== 'file' || entry.blob === null) {
    return invalid([{ path: 'path', message: `${path} is not a file of export ${id}` }]);
  }
  const filename = nameOf(entry.path);
  const expiresAt = deps.clock.now() + DOWNLOAD_URL_MS;
  const url = await deps.objectStore!.signedUrl(exportKeys(id).blob(entry.blob), expiresAt, 'GET', {
    contentDisposition: attachment(filename),
  });
  return ok({ url, expiresAt, filename, ...(entry.sha256 ? { etag: `"${entry.sha256}"` } : {}) });
}

/** Deletes the exported objects of a finished export; the record stays, marked deleted. */
export async function deleteExport(
  deps: Pick<Deps, 'store' | 'objectStore' | 'clock'>,
  id: string,
): Promise<Outcome<Job>> {
  const found = await getExport(deps, id);
  if (!found.ok) return found;
  const job = found.value;
  if (!isTerminal(job.status))
    return conflict(`export ${id} is ${job.status}: cancel it (POST /api/v1/exports/${id}/cancel)`);
  // An archive still being written (a download building one) must not outlive the delete.
  await deps.objectStore?.abortUploads(exportKeys(id).prefix);
  await deps.objectStore?.delete(exportKeys(id).prefix);
  trees.delete(id);
  if (exportState(job).deletedAt) return ok(job);
  const now = deps.clock.now();
  const written = await deps.store.jobs.update(
    { ...job, state: { ...job.state, deletedAt: now }, updatedAt: now, version: job.version + 1 },
    job.version,
  );
  return ok(written.ok ? written.value : job);
}

export const exportPaths = (job: Job) => exportParams(job).paths;
