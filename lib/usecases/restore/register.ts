/**
 * Registers the restore, mount and unmount job runners with the worker. Imported once by the worker
 * function for its side effect, so the backup engine does not depend on these job types.
 */
import { registerJobRunner } from '../backup/handle-job-message.js';
import { runMountStep, runUnmountStep } from '../mount/mount-job.js';
import { runRestoreStep } from './restore-job.js';

registerJobRunner('restore', runRestoreStep);
registerJobRunner('mount', runMountStep);
registerJobRunner('unmount', runUnmountStep);
