import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEcsEmulator } from '../../local/ecs-emulator/index.js';
import { Ecs, REGION, startHarness, waitFor, type Harness } from './helpers.js';

/**
 * Owners and modes of a disk's files are part of its tree: a snapshot keeps them as they were, and a
 * disk created from it or reset to it gets them back exactly, whoever runs the emulator (owners are
 * recorded, never set with chown on the host).
 */
describe('ECS emulator: file owners and modes through snapshots and restores', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecs-emu-owners-'));
  let h: Harness;
  afterAll(async () => {
    await h?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const DISK = 'd-demobatch01data';
  const FILES = [
    { path: 'etc/app.conf', content: 'a=1\n', owner: 'root', mode: '0644' },
    { path: 'home/user/notes.txt', content: 'private\n', owner: 'user', mode: '0600' },
    { path: 'srv/www/index.html', content: '<h1/>\n', owner: 33, mode: '0640' },
    { path: 'usr/local/bin/tool', content: '#!/bin/sh\n', owner: 'root', mode: '4755' },
    { path: 'var/lib/db/data', content: 'rows\n', owner: 999, mode: '0700' },
  ] as const;
  const listing = (where: { diskId: string } | { snapshotId: string }) =>
    h.emu.admin.listFiles(where).then((files) => files.filter((f) => FILES.some((g) => g.path === f.path)));
  const diskStatus = async (diskId: string): Promise<string | undefined> => {
    const r = await h.ecs.describeDisks(
      new Ecs.DescribeDisksRequest({ regionId: REGION, diskIds: JSON.stringify([diskId]) }),
    );
    return r.body?.disks?.disk?.[0]?.status;
  };

  it('keeps owners and modes byte for byte in a snapshot, a disk made from it, a reset and a restart', async () => {
    // Prepare
    h = await startHarness({ dataDir });
    for (const f of FILES) await h.emu.admin.writeFile({ diskId: DISK, ...f });
    const before = await listing({ diskId: DISK });
    const snap = await h.ecs.createSnapshot(new Ecs.CreateSnapshotRequest({ diskId: DISK }));
    const snapshotId = snap.body!.snapshotId!;
    await h.emu.admin.completeSnapshots();
    // Change every owner and mode on the source after the snapshot.
    for (const f of FILES) await h.emu.admin.writeFile({ diskId: DISK, ...f, owner: 4321, mode: '0666' });
    const changed = await listing({ diskId: DISK });

    // Act
    const clone = await h.ecs.createDisk(
      new Ecs.CreateDiskRequest({
        regionId: REGION,
        zoneId: 'cn-hangzhou-i',
        snapshotId,
        diskCategory: 'cloud_essd',
      }),
    );
    const cloneId = clone.body!.diskId!;
    await waitFor(async () => ((await diskStatus(cloneId)) === 'Available' ? true : undefined));
    await h.ecs.resetDisk(new Ecs.ResetDiskRequest({ diskId: DISK, snapshotId }));
    await h.emu.admin.completeOperations();
    await waitFor(async () => ((await diskStatus(DISK)) === 'In_use' ? true : undefined));
    const inSnapshot = await listing({ snapshotId });
    const inClone = await listing({ diskId: cloneId });
    const afterReset = await listing({ diskId: DISK });
    await h.emu.close();
    const again = await startEcsEmulator({ dataDir });
    const afterRestart = await again.admin.listFiles({ diskId: cloneId });
    h.emu = again;

    // Assess
    expect(before.map((f) => [f.path, f.owner, f.mode])).toEqual([
      ['etc/app.conf', 0, '0644'],
      ['home/user/notes.txt', 1000, '0600'],
      ['srv/www/index.html', 33, '0640'],
      ['usr/local/bin/tool', 0, '4755'],
      ['var/lib/db/data', 999, '0700'],
    ]);
    expect(changed.every((f) => f.owner === 4321 && f.mode === '0666')).toBe(true);
    expect(inSnapshot).toEqual(before);
    expect(inClone).toEqual(before);
    expect(afterReset).toEqual(before);
    expect(afterRestart.filter((f) => FILES.some((g) => g.path === f.path))).toEqual(before);
    // Nothing was chowned on the host: every file belongs to whoever runs the emulator.
    const hostOwners = new Set(
      FILES.map((f) => fs.statSync(path.join(dataDir, 'disks', cloneId, f.path)).uid),
    );
    expect([...hostOwners]).toEqual([process.geteuid?.()]);
  });
});
