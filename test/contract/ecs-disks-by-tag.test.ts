import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEcsAdapter } from '../../lib/adapters/ecs/index.js';
import type { Ecs } from '../../lib/ports/ecs.js';
import { startEcsEmulator, type EcsEmulator } from '../../local/ecs-emulator/index.js';

/** Disks by tag, as the sweep of verification leftovers reads them: DescribeDisks with a tag filter. */

let emu: EcsEmulator;
let dir: string;
let ecs: Ecs;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ecsb-disk-tags-'));
  emu = await startEcsEmulator({ dataDir: dir });
  ecs = createEcsAdapter({
    endpoint: emu.url,
    regionId: emu.regionId,
    credentials: { accessKeyId: emu.accessKeyId, accessKeySecret: emu.accessKeySecret },
    defaultRatePerSecond: 100_000,
    burst: 1000,
  });
}, 60_000);

afterAll(async () => {
  await emu?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('findDisksByTag', () => {
  it('answers exactly the disks carrying the tag, with their tags and status', async () => {
    const { diskIds } = await emu.admin.addInstance({
      osType: 'linux',
      disks: [
        { type: 'system', category: 'cloud_essd', sizeGiB: 40 },
        { type: 'data', category: 'cloud_essd', sizeGiB: 20 },
        { type: 'data', category: 'cloud_essd', sizeGiB: 20 },
      ],
    });
    const tag = { key: 'ecs-backup:verify', value: 'bp-1.verify' };
    await emu.admin.updateDisk({ diskId: diskIds[1]!, tags: { [tag.key]: tag.value } });
    await emu.admin.updateDisk({ diskId: diskIds[2]!, tags: { 'ecs-backup:verify': 'other' } });

    const found = await ecs.findDisksByTag(tag);

    expect(found.map((d) => d.diskId)).toEqual([diskIds[1]]);
    expect(found[0]?.tags).toContainEqual(tag);
    expect(found[0]?.status).toBe('In_use');
    expect(await ecs.findDisksByTag({ key: 'ecs-backup:verify', value: 'none' })).toEqual([]);
  });
});
