import type { JobKind } from '../jobs/job-kind.js';
import { enforceRetention } from '../retention.js';
import { cancelWhileGuestRuns, cancelWithSnapshots, createdSnapshots } from './cancel-backup.js';
import { guestWaitStep } from './guest-step.js';
import { pollStep } from './poll-step.js';
import { recordStep } from './record-step.js';
import { snapshotStep } from './snapshot-step.js';
import { prepareStep, startStep } from './start-step.js';

/**
 * A backup job (design §2): start (plan check, disks, consistency, overlap; becomes RUNNING) →
 * snapshot (group, per-disk, or the guest script) → [guest-wait] → poll → record → COMPLETE or
 * PARTIAL_COMPLETE. Failure or cancel deletes what it created (`createdSnapshots`).
 */
export const backupKind: JobKind = {
  type: 'backup',
  firstStep: 'start',
  steps: {
    start: startStep,
    // Records written by an older version may sit at these preparation steps.
    'resolve-disks': prepareStep,
    consistency: prepareStep,
    snapshot: snapshotStep,
    'guest-wait': guestWaitStep,
    poll: pollStep,
    record: recordStep,
  },
  cancel: {
    snapshot: cancelWhileGuestRuns,
    'guest-wait': cancelWhileGuestRuns,
    poll: cancelWithSnapshots,
    record: cancelWithSnapshots,
  },
  holds: [createdSnapshots],
  /** Retention after each completed backup of the instance: the newest point may let an older one go. */
  async afterFinish(deps, job) {
    if (job.status !== 'COMPLETE' && job.status !== 'PARTIAL_COMPLETE') return;
    await enforceRetention(deps, deps.clock.now(), { instanceId: job.instanceId });
  },
};
