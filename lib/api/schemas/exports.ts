import { z } from 'zod';
import { JOB_STATUSES } from '../../domain/job.js';
import { MAX_EXPORT_PATHS, MAX_PATH_LENGTH } from '../../domain/export.js';
import { diskIdSchema, instanceIdSchema } from '../../domain/plan.js';
import {
  commaList,
  cursorSchema,
  isoTime,
  limit,
  named,
  nullableIsoTime,
  opaqueId,
  pageOf,
  paging,
} from './common.js';
import { jobView } from './jobs.js';

export const exportPathSchema = z.strictObject({ exportId: opaqueId });

export const exportBodySchema = named(
  z.strictObject({
    diskId: diskIdSchema.optional().describe('The disk of the backup to read (default: its system disk)'),
    paths: z
      .array(
        z
          .string({ error: 'must be a string' })
          .max(MAX_PATH_LENGTH, { error: `must be at most ${MAX_PATH_LENGTH} characters` }),
        {
          error: 'must be an array of absolute paths',
        },
      )
      .min(1, { error: 'must list at least one path' })
      .max(MAX_EXPORT_PATHS, { error: `must list at most ${MAX_EXPORT_PATHS} paths` })
      .describe('Absolute paths on the disk: /var/www on Linux, C:\\dir or \\dir on Windows'),
    targetInstanceId: instanceIdSchema
      .optional()
      .describe('The running instance that reads the disk (default: the backed-up instance)'),
  }),
  'ExportRequest',
  'Export files of one disk of a backup to the object store',
);

export const exportQuerySchema = z.strictObject({
  ...paging,
  instanceId: instanceIdSchema.optional(),
  status: commaList(JOB_STATUSES),
});

export const exportFilesQuerySchema = z.strictObject({
  path: z.string().min(1).max(MAX_PATH_LENGTH).default('/').describe('The directory to list'),
  limit: limit(1000, 100),
  cursor: cursorSchema,
});

export const exportDownloadQuerySchema = z.strictObject({
  path: z
    .string()
    .min(1)
    .max(MAX_PATH_LENGTH)
    .optional()
    .describe('One file; absent: the whole export as tar.gz'),
  as: z
    .enum(['redirect', 'link'])
    .optional()
    .describe(
      '`redirect` (default): 302 to the signed URL; `link`: 200 with the URL, for a client that cannot follow a redirect to another origin (a browser holding a bearer token)',
    ),
});

export const downloadLink = named(
  z.object({ url: z.string(), expiresAt: isoTime, filename: z.string() }),
  'DownloadLink',
);

export const exportView = named(
  z.object({
    id: z.string(),
    status: z.enum(JOB_STATUSES),
    backupId: z.string(),
    diskId: z.string(),
    instanceId: z.string(),
    paths: z.array(z.string()),
    progress: z.object({ files: z.int(), bytes: z.number(), totalFiles: z.int(), totalBytes: z.number() }),
    skipped: z
      .int()
      .describe('Entries left out (special files, over a limit, off the disk); browse lists them'),
    reason: z.string().nullable(),
    errors: z.array(z.object({ code: z.string(), message: z.string(), at: isoTime })),
    expiresAt: nullableIsoTime,
    deletedAt: nullableIsoTime,
    createdAt: isoTime,
    finishedAt: nullableIsoTime,
  }),
  'Export',
);

export const exportPage = pageOf(exportView, 'ExportPage');

export const exportStarted = named(z.object({ export: exportView, job: jobView }), 'ExportStarted');

export const exportEntryView = named(
  z.object({
    name: z.string(),
    path: z.string(),
    type: z.enum(['file', 'dir', 'symlink']),
    size: z.number(),
    mode: z.string().describe('Octal permission bits'),
    owner: z.string(),
    mtime: isoTime,
    sha256: z.string().nullable(),
    target: z.string().nullable(),
  }),
  'ExportEntry',
);

export const exportEntryPage = pageOf(exportEntryView, 'ExportEntryPage');
