/**
 * Export records (HBR's fourth tab): start an export of paths of a backed-up disk, follow it,
 * browse the exported tree one directory at a time, download a file, cancel, delete.
 */
import { exportLookupPath, nameOf, type ExportEntry } from '../../domain/export.js';
import type { Job } from '../../domain/model.js';
import { exportState, exportParams } from '../../usecases/export/state.js';
import {
  browseExport,
  deleteExport,
  downloadFile,
  getExport,
  listExports,
  requestExport,
} from '../../usecases/export/requests.js';
import { downloadArchive } from '../../usecases/export/archive.js';
import { DOWNLOAD_URL_MS, type DownloadBytes } from '../../usecases/export/disposition.js';
import { cancelJob } from '../../usecases/management/jobs.js';
import { API_PREFIX, ok, stripUndefined } from '../answers.js';
import { boundPage } from '../cursor.js';
import type { ApiResponse } from '../http.js';
import { unwrap } from '../outcomes.js';
import { defineRoute, type Route } from '../router.js';
import { backupPathSchema } from '../schemas/backups.js';
import {
  exportBodySchema,
  exportDownloadQuerySchema,
  exportEntryPage,
  exportFilesQuerySchema,
  exportPage,
  exportPathSchema,
  exportQuerySchema,
  exportStarted,
  downloadLink,
  exportView,
} from '../schemas/exports.js';
import { toJobView, toPageView } from '../views.js';

const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : null);

function toExportView(job: Job) {
  const st = exportState(job);
  const p = exportParams(job);
  return {
    id: job.id,
    status: job.status,
    backupId: p.backupId,
    diskId: p.diskId,
    instanceId: job.instanceId,
    paths: p.paths,
    progress: st.progress ?? { files: 0, bytes: 0, totalFiles: 0, totalBytes: 0 },
    skipped: st.skipped ?? 0,
    reason: job.reason,
    errors: job.errors.map((e) => ({ code: e.code, message: e.message, at: new Date(e.at).toISOString() })),
    expiresAt: iso(st.exportExpiresAt),
    deletedAt: iso(st.deletedAt),
    createdAt: new Date(job.createdAt).toISOString(),
    finishedAt: iso(job.finishedAt),
  };
}

/**
 * Views of the entries pages showed, kept as long as their (cached, unchanging) tree: a page of a
 * large directory is then a slice of ready objects, with no dates formatted and no garbage made.
 */
const entryViews = new WeakMap<ExportEntry, ReturnType<typeof entryView>>();

function toEntryView(e: ExportEntry) {
  let view = entryViews.get(e);
  if (!view) entryViews.set(e, (view = entryView(e)));
  return view;
}

function entryView(e: ExportEntry) {
  return {
    name: nameOf(e.path),
    path: e.path,
    type: e.type,
    size: e.size,
    mode: e.mode.toString(8).padStart(4, '0'),
    owner: e.owner,
    mtime: new Date(e.mtime).toISOString(),
    sha256: e.sha256,
    target: e.target,
  };
}

/**
 * A packed file, answered here (no signed URL reaches just its range): the bytes with their headers,
 * or as a link, a `data:` URL of them, which a browser saves under the file's name like any other.
 */
function packedAnswer(file: DownloadBytes, asLink: boolean, now: number): ApiResponse {
  if (asLink) {
    return ok({
      url: `data:application/octet-stream;base64,${file.body.toString('base64')}`,
      expiresAt: new Date(now + DOWNLOAD_URL_MS).toISOString(),
      filename: file.filename,
    });
  }
  return {
    status: 200,
    body: file.body,
    headers: {
      'content-type': 'application/octet-stream',
      'content-length': String(file.body.length),
      'content-disposition': file.contentDisposition,
      ...(file.etag ? { etag: file.etag } : {}),
    },
  };
}

const exportLocation = (id: string) => `${API_PREFIX}/exports/${encodeURIComponent(id)}`;

export const exportRoutes: Route[] = [
  defineRoute({
    method: 'POST',
    path: `${API_PREFIX}/backups/{backupId}/exports`,
    operationId: 'exportBackup',
    summary: 'Export files of a backed-up disk to the object store',
    description:
      'A temporary disk from the snapshot is attached to a running instance of the backed-up OS, mounted (Linux) or brought online (Windows) read-only, and the paths are uploaded; the disk is always deleted after. Windows paths: C:\\dir\\file or \\dir\\file, stored as /dir/file.',
    tag: 'exports',
    params: backupPathSchema,
    body: exportBodySchema,
    bodyRequired: true,
    responses: { 202: { description: 'Export started', schema: exportStarted } },
    problems: [404, 409],
    handle: async ({ params, body }, { deps }) => {
      const job = unwrap(await requestExport(deps, params.backupId, stripUndefined(body) as typeof body));
      return {
        status: 202,
        body: { export: toExportView(job), job: toJobView({ job, point: null }) },
        headers: { location: exportLocation(job.id) },
      };
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${API_PREFIX}/exports`,
    operationId: 'listExports',
    summary: 'Export records, newest first',
    tag: 'exports',
    query: exportQuerySchema,
    responses: { 200: { description: 'One page', schema: exportPage } },
    handle: async ({ query }, { deps }) => {
      const filter = stripUndefined({ instanceId: query.instanceId, status: query.status });
      const page = await boundPage(deps, 'exports', query, (p) => listExports(deps, filter, p));
      return ok(toPageView(page, toExportView));
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${API_PREFIX}/exports/{exportId}`,
    operationId: 'getExport',
    summary: 'One export: status, progress, source, expiry, errors',
    tag: 'exports',
    params: exportPathSchema,
    responses: { 200: { description: 'The export', schema: exportView } },
    problems: [404],
    handle: async ({ params }, { deps }) => ok(toExportView(unwrap(await getExport(deps, params.exportId)))),
  }),
  defineRoute({
    method: 'GET',
    path: `${API_PREFIX}/exports/{exportId}/files`,
    operationId: 'browseExport',
    summary: 'One directory level of the exported tree, in name order',
    tag: 'exports',
    params: exportPathSchema,
    query: exportFilesQuerySchema,
    responses: { 200: { description: 'One page of entries', schema: exportEntryPage } },
    problems: [404, 409],
    handle: async ({ params, query }, { deps }) => {
      const dir = exportLookupPath(query.path);
      const page = await boundPage(
        deps,
        `export-files:${params.exportId}:${dir}`,
        { limit: query.limit, ...stripUndefined({ cursor: query.cursor }) },
        async (p) =>
          unwrap(
            await browseExport(
              deps,
              params.exportId,
              dir,
              stripUndefined({ cursor: p.cursor, limit: p.limit }) as { limit: number },
            ),
          ),
      );
      return ok(toPageView(page, toEntryView));
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${API_PREFIX}/exports/{exportId}/download`,
    operationId: 'downloadExport',
    summary:
      'Download one exported file, or the whole export as one tar.gz (302 to a signed URL good for 15 minutes)',
    description:
      'With `path`: that file. Without: every exported entry (files, directories, symlinks, with names, modes and times) in one tar.gz (pax format), streamed from the exported objects into the store on the first request. Either way the signed URL answers with `Content-Disposition`, `Content-Length` and an `ETag`. A small file the export packed with others is answered here instead (200, its bytes with those headers; with `as=link`, a `data:` URL), since a signed URL cannot be limited to its range of the pack.',
    tag: 'exports',
    params: exportPathSchema,
    query: exportDownloadQuerySchema,
    responses: {
      200: {
        description:
          'With `as=link`: the signed URL, its expiry and the file name. A packed small file without `as=link`: its bytes (application/octet-stream)',
        schema: downloadLink,
      },
      302: {
        description: 'A redirect to a signed URL of the file or of the archive',
        headers: { location: 'The signed URL' },
      },
    },
    problems: [404, 409],
    handle: async ({ params, query }, { deps }): Promise<ApiResponse> => {
      const link =
        query.path === undefined
          ? unwrap(await downloadArchive(deps, params.exportId))
          : unwrap(await downloadFile(deps, params.exportId, exportLookupPath(query.path)));
      if ('body' in link) return packedAnswer(link, query.as === 'link', deps.clock.now());
      if (query.as === 'link') {
        return ok({
          url: link.url,
          expiresAt: new Date(link.expiresAt).toISOString(),
          filename: link.filename,
        });
      }
      return {
        status: 302,
        body: undefined,
        headers: { location: link.url, ...(link.etag ? { etag: link.etag } : {}) },
      };
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${API_PREFIX}/exports/{exportId}/cancel`,
    operationId: 'cancelExport',
    summary: 'Cancel an export: the script stops, uploads are deleted, the disk removed; it ends CANCELED',
    tag: 'exports',
    params: exportPathSchema,
    responses: { 202: { description: 'Cancel requested', schema: exportView } },
    problems: [404, 409],
    handle: async ({ params }, { deps }) => {
      unwrap(await getExport(deps, params.exportId));
      const { job } = unwrap(await cancelJob(deps, params.exportId));
      return { status: 202, body: toExportView(job), headers: { location: exportLocation(job.id) } };
    },
  }),
  defineRoute({
    method: 'DELETE',
    path: `${API_PREFIX}/exports/{exportId}`,
    operationId: 'deleteExport',
    summary: 'Delete the exported files of a finished export (the record stays, marked deleted)',
    tag: 'exports',
    params: exportPathSchema,
    responses: { 200: { description: 'The export, deleted', schema: exportView } },
    problems: [404, 409],
    handle: async ({ params }, { deps }) =>
      ok(toExportView(unwrap(await deleteExport(deps, params.exportId)))),
  }),
];
