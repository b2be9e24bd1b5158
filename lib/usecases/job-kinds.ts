import { backupKind } from './backup/backup-kind.js';
import { cloneKind } from './clone/clone-kind.js';
import { cloneParams } from './clone/state.js';
import { copyKind } from './copy/copy-kind.js';
import { exportKind } from './export/export-kind.js';
import type { JobKinds } from './jobs/job-kind.js';
import { mountKind, unmountKind } from './mount/mount-kind.js';
import { restoreKind } from './restore/restore-kind.js';
import { regional } from './restore/from-copy.js';
import { restoreParams } from './restore/state.js';
import { verifyKind } from './verify/verify-kind.js';

/** Every job kind the worker runs. The worker entry passes this to `handleJobMessage`. */
export const JOB_KINDS: JobKinds = {
  backup: backupKind,
  // A restore from a copy in another region runs the same steps against that region.
  restore: regional(restoreKind, (job) => restoreParams(job).regionId),
  mount: mountKind,
  unmount: unmountKind,
  export: exportKind,
  clone: regional(cloneKind, (job) => cloneParams(job).regionId),
  copy: copyKind,
  verify: verifyKind,
};
