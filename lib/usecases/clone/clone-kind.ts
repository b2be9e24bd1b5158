import type { JobKind } from '../jobs/job-kind.js';
import { pointClaim } from '../restore/held-resources.js';
import { launchedInstance, temporaryImage } from './held.js';
import {
  claimStep,
  createImageStep,
  deleteImageStep,
  launchStep,
  startStep,
  waitImageStep,
  waitRunningStep,
} from './steps.js';

/**
 * Clone the whole instance from a backup (restore mode `clone-instance`). A cancel before the new
 * instance runs winds down: the instance (if any) is released, the image deleted, the claim dropped.
 * Once the instance runs it is the result: a cancel at delete-image comes too late.
 */
export const cloneKind: JobKind = {
  type: 'clone',
  firstStep: 'start',
  steps: {
    start: startStep,
    claim: claimStep,
    'create-image': createImageStep,
    'wait-image': waitImageStep,
    launch: launchStep,
    'wait-running': waitRunningStep,
    'delete-image': deleteImageStep,
  },
  cancel: {
    'delete-image': () => ({
      action: 'too-late',
      note: 'cancel arrived after the new instance was running; the clone was completed',
    }),
  },
  holds: [launchedInstance, temporaryImage, pointClaim],
  failureHint: 'fix the cause and clone again',
};
