import type { Job } from '../../domain/model.js';
import type { RecoveryState } from '../restore/state.js';

export interface ExportParams {
  backupId: string;
  diskId: string;
  targetInstanceId: string;
  /** Normalized absolute paths on the disk (`/` separators on Windows too). */
  paths: string[];
  /** Absent on Linux. */
  os?: 'windows';
  /** Windows: the volume's drive letter on the backed-up instance ('' when unknown). */
  drive?: string;
}

export interface ExportProgress {
  files: number;
  bytes: number;
  totalFiles: number;
  totalBytes: number;
}

/** An export job's state: a mount's (the temporary disk), then the guest command and what it uploaded. */
export interface ExportState extends RecoveryState {
  /** The work list is in the store; the signed URLs in it and in the script expire then (epoch ms). */
  urlsExpireAt?: number;
  /** RunCommand was sent (with the job's ClientToken), so a command may run before its id is known. */
  guestRequested?: boolean;
  invokeId?: string;
  progress?: ExportProgress;
  skipped?: number;
  /** Packs whose files are hashed (pack-hashes.ts). */
  hashedPacks?: number;
  /** What the export did (files, skipped entries, the disk's removal), its reason once COMPLETE. */
  outcome?: string;
  /** The exported files are deleted then (a completed export). */
  exportExpiresAt?: number;
  /** When the exported objects were deleted (DELETE or expiry). */
  deletedAt?: number;
}

export function exportState(job: Job): ExportState {
  return job.state as ExportState;
}

export function exportParams(job: Job): ExportParams {
  return job.params as unknown as ExportParams;
}

/** Where an export's objects live: nothing in a key comes from a file name. */
export const exportKeys = (jobId: string) => {
  const prefix = `exports/${jobId}/`;
  return {
    prefix,
    work: `${prefix}work`,
    manifest: `${prefix}manifest`,
    cancel: `${prefix}cancel`,
    /** The whole export as one tar.gz, made on the first download that asks for it. */
    archive: `${prefix}archive.tar.gz`,
    blob: (n: number) => `${prefix}blobs/${n}`,
    /** Small files, many to an object (see packs.ts). */
    packs: `${prefix}packs/`,
    pack: (n: number) => `${prefix}packs/${n}`,
    /** The sha256 of pack n's files, one a line in the order of their bytes (pack-hashes.ts). */
    packSums: (n: number) => `${prefix}sums/${n}`,
  };
};
