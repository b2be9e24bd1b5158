import fs from 'node:fs';
import path from 'node:path';
import { EcsApiError } from './errors.js';
import { TreeStore } from './files.js';
import { Persistence } from './persist.js';
import { EcsState, type Settings } from './state.js';

/** The regions the emulator serves when the options name none besides the default one. */
export const DEFAULT_REGIONS = ['cn-hangzhou', 'cn-shanghai'];

/**
 * One inventory per region, each with its own settings (zones, quotas, snapshot speed) and its own
 * SQLite file and file trees. The default region keeps the data folder's top level, so state saved
 * before regions existed loads unchanged; every other region lives under `regions/<id>/`.
 */
export class Regions {
  private readonly byId = new Map<string, EcsState>();

  constructor(readonly main: EcsState) {
    this.byId.set(main.settings.regionId, main);
  }

  /** Opens (and loads) another region's inventory with the default region's settings as a start. */
  open(dataDir: string, regionId: string): EcsState {
    const existing = this.byId.get(regionId);
    if (existing) return existing;
    const dir = path.join(dataDir, 'regions', regionId);
    fs.mkdirSync(dir, { recursive: true });
    const settings: Settings = {
      ...this.main.settings,
      regionId,
      zones: [`${regionId}-b`, `${regionId}-e`],
    };
    const state = new EcsState(new Persistence(dir), new TreeStore(dir), settings);
    state.load();
    settings.regionId = regionId;
    state.saveSettings();
    this.byId.set(regionId, state);
    return state;
  }

  get(regionId: string): EcsState | undefined {
    return this.byId.get(regionId);
  }

  /** The region named by a request; an unknown one is refused as ECS refuses it. */
  require(regionId: string, code = 'InvalidRegionId.NotFound'): EcsState {
    const state = this.byId.get(regionId);
    if (!state) throw new EcsApiError(code, `The specified RegionId ${regionId} does not exist.`, 404);
    return state;
  }

  all(): EcsState[] {
    return [...this.byId.values()];
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }

  /**
   * ECS routes actions without a RegionId (DeleteSnapshot, AttachDisk, ...) by the regional
   * endpoint. The emulator has one endpoint for all regions, so it finds the region holding the
   * resource the request names (ids are unique across regions); the default region otherwise.
   */
  locate(params: Record<string, string>): EcsState {
    const snapshotId = params['SnapshotId'];
    const diskId = params['DiskId'];
    const instanceId = params['InstanceId'] ?? params['InstanceId.1'];
    for (const state of this.byId.values()) {
      if (snapshotId && state.snapshots.get(snapshotId)) return state;
      if (diskId && state.disks.get(diskId)) return state;
      if (instanceId && state.instances.get(instanceId)) return state;
    }
    return this.main;
  }

  close(): void {
    for (const state of this.byId.values()) if (state !== this.main) state.db.close();
  }
}
