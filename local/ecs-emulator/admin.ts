import type { Assistant } from './assistant.js';
import { bulkSeedAdmin } from './admin-bulk-seed.js';
import { faultAdmin } from './admin-faults.js';
import { fileAdmin } from './admin-files.js';
import { inventoryAdmin } from './admin-inventory.js';
import { observeAdmin } from './admin-observe.js';
import { timingAdmin } from './admin-timing.js';
import type { Faults } from './faults.js';
import type { Regions } from './regions.js';
import type { EcsState } from './state.js';
import type { CallRecord, EmulatorAdmin } from './types.js';

export interface AdminDeps {
  state: EcsState;
  faults: Faults;
  assistant: Assistant;
  calls: CallRecord[];
  regions: Regions;
}

/** The control surface tests and benchmarks use; the same methods answer under /__admin/<name>. */
export function createAdmin(deps: AdminDeps): EmulatorAdmin {
  const { state } = deps;
  const others = new Map<string, EmulatorAdmin>();
  const admin: EmulatorAdmin = {
    inRegion(regionId) {
      if (regionId === state.settings.regionId) return admin;
      let scoped = others.get(regionId);
      if (!scoped) {
        scoped = createAdmin({ ...deps, state: deps.regions.require(regionId) });
        others.set(regionId, scoped);
      }
      return scoped;
    },
    ...observeAdmin(deps),
    ...faultAdmin(deps),
    ...timingAdmin(deps),
    ...inventoryAdmin(deps),
    ...fileAdmin(deps),
    ...bulkSeedAdmin(deps),
  };
  return admin;
}
