import { z } from 'zod';

/**
 * Every setting the product reads, in one place, from the environment.
 * Bad values fail at start-up with the variable's name and the reason.
 */

const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

export const settingsSchema = z.object({
  DATA_DIR: z.string().min(1).default('./.data'),
  PORT: int(8080, 0, 65_535),
  API_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Lets a governance-mode backup lock be overridden (README "Backup lock"); unset = no override at all. */
  BREAK_GLASS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  STORE: z.enum(['sqlite', 'tablestore']).default('sqlite'),
  QUEUE: z.enum(['embedded', 'mns']).default('embedded'),
  ECS_ENDPOINT: z.string().optional(),
  ECS_REGION: z.string().min(1).default('cn-hangzhou'),
  /** Regions a plan may copy backups to (comma-separated); the local cloud sets its emulator's. */
  COPY_REGIONS: z
    .string()
    .default(
      'cn-qingdao,cn-beijing,cn-zhangjiakou,cn-huhehaote,cn-wulanchabu,cn-hangzhou,cn-shanghai,cn-nanjing,cn-fuzhou,cn-shenzhen,cn-heyuan,cn-guangzhou,cn-chengdu,cn-hongkong,ap-northeast-1,ap-northeast-2,ap-southeast-1,ap-southeast-3,ap-southeast-5,ap-southeast-6,ap-southeast-7,us-east-1,us-west-1,eu-west-1,eu-central-1,me-east-1,me-central-1',
    )
    .transform((s) =>
      s
        .split(',')
        .map((r) => r.trim())
        .filter((r) => r !== ''),
    ),
  ALIBABA_CLOUD_ACCESS_KEY_ID: z.string().optional(),
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: z.string().optional(),
  ALIBABA_CLOUD_SECURITY_TOKEN: z.string().optional(),
  TABLESTORE_ENDPOINT: z.string().optional(),
  TABLESTORE_INSTANCE: z.string().optional(),
  MNS_ENDPOINT: z.string().optional(),
  JOB_QUEUE: z.string().min(1).default('ecs-backup-jobs'),
  DEAD_LETTER_QUEUE: z.string().min(1).default('ecs-backup-jobs-dlq'),
  /** A missed or delayed occurrence still runs when younger than this (design §3). */
  START_WINDOW_SECONDS: int(3600, 60, 7 * 86_400),
  /** Disks per snapshot group; sources disagree (10, 16, 128), so it is a setting. */
  GROUP_DISK_LIMIT: int(16, 1, 128),
  /** Seconds between progress polls of a running backup. */
  POLL_INTERVAL_SECONDS: int(10, 1, 3600),
  /** The scheduler runs every minute and looks this far ahead (must exceed the tick period). */
  SCHEDULER_LOOKAHEAD_SECONDS: int(90, 60, 3600),
  /**
   * Scheduled job messages arrive this many seconds before their occurrence; the worker prepares
   * (reads disks, decides consistency) and holds the job until its second, then starts it.
   */
  SCHEDULE_LEAD_SECONDS: int(3, 0, 30),
  /** A queue message received this many times without success is dead-lettered and its job FAILED. */
  MAX_RECEIVE_COUNT: int(5, 1, 100),
  /** Seconds a received job message stays invisible (the embedded queue; MNS has it set by lib/schema/queues.ts). */
  QUEUE_VISIBILITY_TIMEOUT_SECONDS: int(300, 1, 43_200),
  /** A running job whose record has not changed for this long gets its message re-sent by the scheduler. */
  JOB_STALL_SECONDS: int(600, 30, 86_400),
  /** A queued job never picked up this long after its first message was due gets that message re-sent. */
  JOB_DISPATCH_GRACE_SECONDS: int(60, 10, 3600),
  /** Local cloud: seconds between scheduler timer events (FC fires every minute; the look-ahead must cover it). */
  SCHEDULER_TICK_SECONDS: int(10, 1, 60),
  /** Local cloud: seconds between retention timer events (FC: hourly). */
  RETENTION_TICK_SECONDS: int(3600, 1, 86_400),
  /** Local cloud: worker invocations in flight at once. */
  WORKER_CONCURRENCY: int(8, 1, 256),
  /** Local cloud: messages per worker invocation (MNS trigger batch size, 1-16). */
  WORKER_BATCH_SIZE: int(4, 1, 16),
  /** Client-side ECS rate limit for actions not in ECS_RATE_LIMITS (calls per second per action). */
  ECS_DEFAULT_RATE_PER_SECOND: int(50, 1, 10_000),
  /** Per-action limits, `Action=perSecond` comma-separated, e.g. `CreateSnapshotGroup=20,RunCommand=10`. */
  ECS_RATE_LIMITS: z
    .string()
    .regex(
      /^(\s*[A-Za-z]+\s*=\s*\d+(\.\d+)?\s*)(,\s*[A-Za-z]+\s*=\s*\d+(\.\d+)?\s*)*$|^$/,
      'must be Action=perSecond[,...]',
    )
    .default(''),
  /** Attempts per ECS call (first included) on throttling, 5xx or no answer. */
  ECS_MAX_ATTEMPTS: int(5, 1, 20),
  /** ECS requests one process keeps on the wire at once; more wait their turn (their timeouts not yet running). */
  ECS_MAX_IN_FLIGHT: int(32, 1, 10_000),
  /** Local cloud: the ECS emulator's port (0 = any free port), region and access key pair. */
  ECS_EMULATOR_PORT: int(9090, 0, 65_535),
  ECS_EMULATOR_REGION: z.string().min(1).optional(),
  ECS_EMULATOR_ACCESS_KEY_ID: z.string().min(1).optional(),
  ECS_EMULATOR_ACCESS_KEY_SECRET: z.string().min(1).optional(),
  /** `simulated`: Linux guest scripts are simulated even where the emulator could run them (README). */
  ECS_EMULATOR_GUEST: z.enum(['auto', 'simulated']).default('auto'),
  /** Point deletions retention runs in parallel (each is one or a few ECS calls). */
  RETENTION_CONCURRENCY: int(8, 1, 64),
  /** `true`: webhooks may target loopback, link-local and private addresses (a receiver on the same network). */
  WEBHOOK_ALLOW_PRIVATE: z.enum(['true', 'false']).default('false'),
  /** Seconds before the first retry of a failed notification; each later wait doubles. */
  NOTIFY_FIRST_RETRY_SECONDS: int(30, 1, 3600),
  /** A notification still failing this long after its event is dead-lettered. */
  NOTIFY_RETRY_WINDOW_SECONDS: int(86_400, 1, 7 * 86_400),
  /** The longest wait between two attempts of one notification. */
  NOTIFY_MAX_DELAY_SECONDS: int(6 * 3600, 1, 86_400),
  /** Seconds a webhook receiver has to answer. */
  WEBHOOK_TIMEOUT_SECONDS: int(10, 1, 60),
  /** Exported files are deleted this many days after their export completes. */
  EXPORT_TTL_DAYS: int(7, 1, 3650),
  /** Limits of one export: files, and bytes of file content. */
  EXPORT_MAX_FILES: int(10_000, 1, 1_000_000),
  EXPORT_MAX_BYTES: int(100 * 1024 ** 3, 1, Number.MAX_SAFE_INTEGER),
  /**
   * The archive step: bytes of the tar stream per gzip member (an uploaded part holds one or more;
   * held in memory while it uploads), and what one delivery may do before handing the rest to the
   * next (bytes of the tar stream, seconds): under the worker's timeout, whatever the export's size.
   */
  EXPORT_ARCHIVE_PART_BYTES: int(32 * 1024 ** 2, 1024, 1024 ** 3),
  EXPORT_ARCHIVE_DELIVERY_BYTES: int(4 * 1024 ** 3, 1, Number.MAX_SAFE_INTEGER),
  EXPORT_ARCHIVE_DELIVERY_SECONDS: int(60, 1, 3600),
  /** Deployed: the exports bucket (OSS). Without it a deployed function has no object store. */
  OSS_BUCKET: z.string().min(3).optional(),
  /** `https://oss-cn-hangzhou.aliyuncs.com`; default: the public endpoint of ECS_REGION. */
  OSS_ENDPOINT: z.string().optional(),
  /** `true`: OSS_ENDPOINT serves the bucket itself (a bound domain, or the local OSS emulator). */
  OSS_CNAME: z.enum(['true', 'false']).default('false'),
});

export type Settings = z.output<typeof settingsSchema>;

/** `ECS_RATE_LIMITS` as a map of action name to calls per second. */
export function ecsRateLimits(settings: Settings): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of settings.ECS_RATE_LIMITS.split(',')) {
    const [action, rate] = part.split('=').map((x) => x.trim());
    if (action && rate) out[action] = Number(rate);
  }
  return out;
}

export function loadSettings(env: Record<string, string | undefined> = process.env): Settings {
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid settings:\n  ${lines.join('\n  ')}`);
  }
  // The break-glass token is a second secret held by other people; the everyday token must not open it.
  if (
    parsed.data.BREAK_GLASS_TOKEN !== undefined &&
    parsed.data.BREAK_GLASS_TOKEN === parsed.data.API_TOKEN
  ) {
    throw new Error('invalid settings:\n  BREAK_GLASS_TOKEN: must differ from API_TOKEN');
  }
  return parsed.data;
}
