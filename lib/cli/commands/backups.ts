/** `backups ls|show|rm|expire|restore|mount` and `mounts ls|unmount`. */
import { Option, type Command } from 'commander';
import { BREAK_GLASS_ENV, breakGlassHeaders } from '../break-glass.js';
import { context, finishJob } from '../context.js';
import type { Column } from '../output.js';
import type { JobView } from '../wait.js';
import { namingOptions, RESTORE_FIELD_OPTIONS } from './field-options.js';
import { addListOptions, addWait, enc, printList, positiveInt, type ListOptions } from './common.js';

interface BackupView {
  id: string;
  instanceId: string;
  planId: string | null;
  jobId: string;
  kind: string;
  snapshots: { diskId: string; snapshotId: string; diskType: string }[];
  status: string;
  consistency: { achieved: string; reason: string | null; freezeWindowMs: number | null } | null;
  completedAt: string | null;
  expireAt: string | null;
  longTermRule: string | null;
  inUseBy: string[];
  lastError: string | null;
  lock?: { mode: string; lockedAt: string; overrides: { action: string; at: string }[] } | null;
  copies?: { regionId: string; status: string; expireAt: string | null; snapshotIds: string[] }[];
  verification?: { status: string; at: string; reason: string | null; durationSeconds: number } | null;
  [key: string]: unknown;
}

const copiesSummary = (b: BackupView) =>
  (b.copies ?? []).map((c) => `${c.regionId}:${c.status}`).join(' ') || null;

const verified = (b: BackupView) => (b.verification ? `${b.verification.status} ${b.verification.at}` : null);

const backupColumns: Column<BackupView>[] = [
  { header: 'BACKUP', value: (b) => b.id },
  { header: 'INSTANCE', value: (b) => b.instanceId },
  { header: 'STATUS', value: (b) => b.status },
  { header: 'CONSISTENCY', value: (b) => b.consistency?.achieved },
  { header: 'DISKS', value: (b) => b.snapshots.map((s) => s.diskId) },
  { header: 'COMPLETED', value: (b) => b.completedAt },
  { header: 'EXPIRES', value: (b) => b.expireAt },
  { header: 'LONG-TERM', value: (b) => b.longTermRule },
  { header: 'LOCK', value: (b) => b.lock?.mode },
  { header: 'COPIES', value: copiesSummary },
  { header: 'VERIFIED', value: (b) => b.verification?.status },
];

const backupFields: Column<BackupView>[] = [
  { header: 'id', value: (b) => b.id },
  { header: 'instance', value: (b) => b.instanceId },
  { header: 'plan', value: (b) => b.planId },
  { header: 'job', value: (b) => b.jobId },
  { header: 'status', value: (b) => b.status },
  { header: 'kind', value: (b) => b.kind },
  {
    header: 'consistency',
    value: (b) =>
      b.consistency
        ? `${b.consistency.achieved}${b.consistency.reason ? `: ${b.consistency.reason}` : ''}`
        : null,
  },
  {
    header: 'freeze window',
    value: (b) => (b.consistency?.freezeWindowMs == null ? null : `${b.consistency.freezeWindowMs} ms`),
  },
  {
    header: 'snapshots',
    value: (b) => b.snapshots.map((s) => `${s.diskId}(${s.diskType})=${s.snapshotId}`).join(' '),
  },
  { header: 'completed', value: (b) => b.completedAt },
  { header: 'expires', value: (b) => b.expireAt },
  { header: 'long-term', value: (b) => b.longTermRule },
  { header: 'in use by', value: (b) => b.inUseBy },
  { header: 'last error', value: (b) => b.lastError },
  {
    header: 'lock',
    value: (b) =>
      b.lock
        ? `${b.lock.mode} since ${b.lock.lockedAt}${b.lock.overrides.map((o) => `; overridden (${o.action}) ${o.at}`).join('')}`
        : null,
  },
  {
    header: 'copies',
    value: (b) =>
      (b.copies ?? [])
        .map((c) => `${c.regionId} ${c.status} until ${c.expireAt ?? '-'} (${c.snapshotIds.join(' ')})`)
        .join('; ') || null,
  },
  {
    header: 'verification',
    value: (b) =>
      b.verification
        ? `${verified(b)} in ${b.verification.durationSeconds} s${b.verification.reason ? `: ${b.verification.reason}` : ''}`
        : null,
  },
];

interface MountView {
  jobId: string;
  backupId: string;
  instanceId: string;
  diskId: string;
  device: string | null;
  sourceDiskId: string;
  expiresAt?: string;
  [key: string]: unknown;
}

const mountColumns: Column<MountView>[] = [
  { header: 'MOUNT JOB', value: (m) => m.jobId },
  { header: 'BACKUP', value: (m) => m.backupId },
  { header: 'INSTANCE', value: (m) => m.instanceId },
  { header: 'DISK', value: (m) => m.diskId },
  { header: 'DEVICE', value: (m) => m.device },
  { header: 'FROM DISK', value: (m) => m.sourceDiskId },
  { header: 'EXPIRES', value: (m) => m.expiresAt },
];

const BREAK_GLASS_HELP = `override a governance lock with the break-glass token (from ${BREAK_GLASS_ENV}, else asked for on the terminal)`;

export function registerBackups(program: Command): void {
  const backups = program.command('backups').description('backup points');
  addListOptions(
    backups
      .command('ls')
      .description('list backups, newest first')
      .option('--instance <instanceId>', 'backups of one instance')
      .option('--plan <planId>', 'backups of one plan')
      .option('--status <list>', 'statuses, comma separated (e.g. AVAILABLE,COPIES_ONLY)')
      .option('--from <time>', 'completed at or after (ISO 8601)')
      .option('--to <time>', 'completed before (ISO 8601)'),
  ).action(
    async (
      o: ListOptions & { instance?: string; plan?: string; status?: string; from?: string; to?: string },
      cmd: Command,
    ) => {
      const ctx = context(cmd);
      const filters = { instanceId: o.instance, planId: o.plan, status: o.status, from: o.from, to: o.to };
      await printList(ctx, '/backups', o, filters, backupColumns, 'no backups');
    },
  );

  backups
    .command('show')
    .description('one backup: snapshots, consistency, expiry')
    .argument('<backupId>')
    .action(async (backupId: string, _o: unknown, cmd: Command) => {
      const ctx = context(cmd);
      ctx.out.item(await ctx.client.get<BackupView>(`/backups/${enc(backupId)}`), backupFields);
    });

  backups
    .command('rm')
    .description('delete a backup and its snapshots (refused while in use)')
    .argument('<backupId>')
    .option('--confirm-last-good', 'delete it even when it is the instance’s only good backup')
    .option('--break-glass', BREAK_GLASS_HELP)
    .action(
      async (backupId: string, o: { confirmLastGood?: boolean; breakGlass?: boolean }, cmd: Command) => {
        const ctx = context(cmd);
        const query = o.confirmLastGood ? { confirm: 'last-good-backup' } : undefined;
        const headers = await breakGlassHeaders(ctx, o.breakGlass);
        const backup = await ctx.client.del<BackupView>(`/backups/${enc(backupId)}`, query, headers);
        ctx.out.done(`backup ${backup.id} ${backup.status}`, backup);
      },
    );

  backups
    .command('expire')
    .description('set when a backup expires')
    .argument('<backupId>')
    .argument('<time>', 'ISO 8601, e.g. 2027-01-01T00:00:00Z')
    .option('--break-glass', BREAK_GLASS_HELP)
    .action(async (backupId: string, time: string, o: { breakGlass?: boolean }, cmd: Command) => {
      const ctx = context(cmd);
      const headers = await breakGlassHeaders(ctx, o.breakGlass);
      const backup = await ctx.client.patch<BackupView>(
        `/backups/${enc(backupId)}`,
        { expireAt: time },
        headers,
      );
      ctx.out.done(`backup ${backup.id} expires ${backup.expireAt}`, backup);
    });

  addWait(
    backups
      .command('restore')
      .description('roll back a disk or the instance, clone a disk to an instance, or clone the instance')
      .argument('<backupId>')
      .addOption(
        new Option('--mode <mode>', 'what to restore')
          .choices(['rollback-disk', 'rollback-instance', 'clone-disk', 'clone-instance'])
          .makeOptionMandatory(),
      )
      .option('--disk <diskId>', 'the disk of the backup (rollback-disk, clone-disk)')
      .option('--target <instanceId>', 'clone-disk: the instance that receives the disk')
      .option('--stop-instance', 'stop a running instance for the rollback and start it again')
      .option('--instance-type <type>', 'clone-instance: default the backed-up instance type')
      .option('--vswitch <vSwitchId>', "clone-instance: default the backed-up instance's")
      .option('--security-group <sgId...>', "clone-instance: up to 5; default the backed-up instance's")
      .option('--name <instanceName>', 'clone-instance: the new instance name')
      .option('--hostname <hostname>', 'clone-instance: the new host name')
      .option('--key-pair <name>', 'clone-instance: the key pair to log in with (there is no password)')
      .option('--keep-image', 'clone-instance: keep the image the clone is launched from')
      .option(
        '--region <regionId>',
        'clone-disk, clone-instance: clone from the backup’s copy in this region',
      ),
  ).action(async (backupId: string, o: RestoreOptions, cmd: Command) => {
    const ctx = context(cmd);
    const body = {
      mode: o.mode,
      ...(o.disk ? { diskId: o.disk } : {}),
      ...(o.target ? { targetInstanceId: o.target } : {}),
      ...(o.stopInstance ? { stopInstance: true } : {}),
      ...(o.instanceType ? { instanceType: o.instanceType } : {}),
      ...(o.vswitch ? { vSwitchId: o.vswitch } : {}),
      ...(o.securityGroup ? { securityGroupIds: o.securityGroup } : {}),
      ...(o.name ? { instanceName: o.name } : {}),
      ...(o.hostname ? { hostname: o.hostname } : {}),
      ...(o.keyPair ? { keyPairName: o.keyPair } : {}),
      ...(o.keepImage ? { keepImage: true } : {}),
      ...(o.region ? { regionId: o.region } : {}),
    };
    const job = await namingOptions(RESTORE_FIELD_OPTIONS, () =>
      ctx.client.post<JobView>(`/backups/${enc(backupId)}/restore`, body),
    );
    await finishJob(ctx, job, o.wait === true, `restore of ${backupId} started`);
  });

  addWait(
    backups
      .command('mount')
      .description('attach a disk made from a backup to an instance for a while')
      .argument('<backupId>')
      .requiredOption('--disk <diskId>', 'the disk of the backup to mount')
      .requiredOption('--target <instanceId>', 'the instance that gets the disk')
      .option('--ttl-hours <n>', 'unmounted after this long (1-168, default 24)'),
  ).action(
    async (
      backupId: string,
      o: { disk: string; target: string; ttlHours?: string; wait?: boolean },
      cmd: Command,
    ) => {
      const ctx = context(cmd);
      const ttlHours = positiveInt('--ttl-hours', o.ttlHours);
      const body = {
        diskId: o.disk,
        targetInstanceId: o.target,
        ...(ttlHours === undefined ? {} : { ttlHours }),
      };
      const job = await ctx.client.post<JobView>(`/backups/${enc(backupId)}/mount`, body);
      await finishJob(ctx, job, o.wait === true, `mount of ${backupId} started`);
    },
  );

  const mounts = program.command('mounts').description('disks mounted from backups');
  addListOptions(mounts.command('ls').description('active mounts')).action(
    async (o: ListOptions, cmd: Command) => {
      const ctx = context(cmd);
      await printList(ctx, '/mounts', o, {}, mountColumns, 'no mounts');
    },
  );
  addWait(
    mounts
      .command('unmount')
      .description('detach and delete the disk, release the backup')
      .argument('<mountJobId>'),
  ).action(async (jobId: string, o: { wait?: boolean }, cmd: Command) => {
    const ctx = context(cmd);
    const job = await ctx.client.post<JobView>(`/mounts/${enc(jobId)}/unmount`);
    await finishJob(ctx, job, o.wait === true, 'unmount started');
  });
}

interface RestoreOptions {
  mode: string;
  disk?: string;
  target?: string;
  stopInstance?: boolean;
  instanceType?: string;
  vswitch?: string;
  securityGroup?: string[];
  name?: string;
  hostname?: string;
  keyPair?: string;
  keepImage?: boolean;
  region?: string;
  wait?: boolean;
}
