/**
 * `exports create|ls|browse|download|cancel|rm`: files exported from a backup (the export routes
 * of `/api/v1/exports`). A download streams to a file (or stdout with `-o -`), never into memory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Command } from 'commander';
import { context, finishJob } from '../context.js';
import type { Column } from '../output.js';
import type { JobView } from '../wait.js';
import { addListOptions, addWait, enc, printList, type ListOptions } from './common.js';

interface ExportView {
  id: string;
  status: string;
  backupId?: string;
  instanceId?: string;
  diskId?: string;
  progress?: { files?: number; bytes?: number; totalFiles?: number; totalBytes?: number };
  expiresAt?: string | null;
  createdAt?: string;
  [key: string]: unknown;
}

interface FileEntry {
  name?: string;
  path?: string;
  type: string;
  size?: number | null;
  mode?: string | number | null;
  mtime?: string | number | null;
  sha256?: string | null;
  target?: string | null;
  [key: string]: unknown;
}

const progressText = (e: ExportView) =>
  e.progress
    ? `${e.progress.files ?? 0}/${e.progress.totalFiles ?? '?'} files, ${e.progress.bytes ?? 0}/${e.progress.totalBytes ?? '?'} B`
    : null;

const exportColumns: Column<ExportView>[] = [
  { header: 'EXPORT', value: (e) => e.id },
  { header: 'STATUS', value: (e) => e.status },
  { header: 'BACKUP', value: (e) => e.backupId },
  { header: 'INSTANCE', value: (e) => e.instanceId },
  { header: 'DISK', value: (e) => e.diskId },
  { header: 'PROGRESS', value: progressText },
  { header: 'EXPIRES', value: (e) => e.expiresAt },
];

const fileColumns: Column<FileEntry>[] = [
  { header: 'TYPE', value: (f) => f.type },
  { header: 'SIZE', value: (f) => f.size },
  {
    header: 'MODE',
    value: (f) => (typeof f.mode === 'number' ? f.mode.toString(8).padStart(4, '0') : f.mode),
  },
  { header: 'MODIFIED', value: (f) => f.mtime },
  {
    header: 'NAME',
    value: (f) => {
      const name = f.name ?? path.posix.basename(f.path ?? '');
      return f.target ? `${name} -> ${f.target}` : name;
    },
  },
];

/** The file name of a download: `-o`, else the Content-Disposition name, else one from the path. */
function downloadTarget(
  output: string | undefined,
  res: Response,
  exportId: string,
  filePath: string | undefined,
): string {
  if (output) return output;
  const disposition = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(
    res.headers.get('content-disposition') ?? '',
  );
  const name = disposition?.[1]
    ? decodeURIComponent(disposition[1])
    : filePath
      ? path.posix.basename(filePath)
      : `${exportId}.tar.gz`;
  return path.basename(name) || `${exportId}.download`;
}

export function registerExports(program: Command): void {
  const exports = program.command('exports').description('files exported from backups');
  addWait(
    exports
      .command('create')
      .description('export files of a backup to the object store')
      .argument('<backupId>')
      .requiredOption('--path <path...>', 'absolute paths on the backed-up disk (repeatable)')
      .option('--disk <diskId>', 'the disk (default: the system disk)')
      .option('--target <instanceId>', 'the running instance that reads the disk'),
  ).action(
    async (
      backupId: string,
      o: { path: string[]; disk?: string; target?: string; wait?: boolean },
      cmd: Command,
    ) => {
      const ctx = context(cmd);
      const body = {
        paths: o.path,
        ...(o.disk ? { diskId: o.disk } : {}),
        ...(o.target ? { targetInstanceId: o.target } : {}),
      };
      const answer = await ctx.client.post<{ export: ExportView; job: JobView }>(
        `/backups/${enc(backupId)}/exports`,
        body,
      );
      await finishJob(ctx, answer.job, o.wait === true, `export ${answer.export.id} started`);
    },
  );

  addListOptions(
    exports
      .command('ls')
      .description('list exports')
      .option('--instance <instanceId>', 'exports of one instance')
      .option('--status <list>', 'statuses, comma separated'),
  ).action(async (o: ListOptions & { instance?: string; status?: string }, cmd: Command) => {
    const ctx = context(cmd);
    const filters = { instanceId: o.instance, status: o.status };
    await printList(ctx, '/exports', o, filters, exportColumns, 'no exports');
  });

  addListOptions(
    exports
      .command('browse')
      .description('one directory level of an exported tree')
      .argument('<exportId>')
      .argument('[path]', 'directory', '/'),
  ).action(async (exportId: string, dir: string, o: ListOptions, cmd: Command) => {
    const ctx = context(cmd);
    await printList(ctx, `/exports/${enc(exportId)}/files`, o, { path: dir }, fileColumns, `${dir} is empty`);
  });

  exports
    .command('download')
    .description('download one file, or the whole export as tar.gz without a path')
    .argument('<exportId>')
    .argument('[path]', 'a file of the export')
    .option('-f, --file <file>', 'where to write (- for stdout)')
    .action(async (exportId: string, filePath: string | undefined, o: { file?: string }, cmd: Command) => {
      const ctx = context(cmd);
      const res = await ctx.client.fetch(
        'GET',
        `/exports/${enc(exportId)}/download`,
        filePath ? { query: { path: filePath } } : {},
      );
      if (!res.body) throw new Error('the download answered without a body');
      const source = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
      if (o.file === '-') return pipeline(source, process.stdout);
      const target = downloadTarget(o.file, res, exportId, filePath);
      // Written beside the target and renamed, so an interrupted download never looks complete.
      const partial = `${target}.partial`;
      await pipeline(source, fs.createWriteStream(partial));
      fs.renameSync(partial, target);
      ctx.out.done(`${fs.statSync(target).size} bytes written to ${target}`, {
        file: target,
        bytes: fs.statSync(target).size,
      });
    });

  addWait(
    exports.command('cancel').description('cancel an export in progress').argument('<exportId>'),
  ).action(async (exportId: string, o: { wait?: boolean }, cmd: Command) => {
    const ctx = context(cmd);
    await ctx.client.post<ExportView>(`/exports/${enc(exportId)}/cancel`);
    // An export is a job under the same id: following it is following that job.
    const job = await ctx.client.get<JobView>(`/jobs/${enc(exportId)}`);
    await finishJob(ctx, job, o.wait === true, `export ${exportId} cancel requested`);
  });

  exports
    .command('rm')
    .description('delete the exported files (the record stays, marked deleted)')
    .argument('<exportId>')
    .action(async (exportId: string, _o: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const answer = await ctx.client.del<ExportView>(`/exports/${enc(exportId)}`);
      ctx.out.done(`export ${exportId} deleted; the backup is kept`, answer);
    });
}
