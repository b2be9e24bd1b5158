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
  STORE: z.enum(['sqlite', 'tablestore']).default('sqlite'),
  QUEUE: z.enum(['embedded', 'mns']).default('embedded'),
  ECS_ENDPOINT: z.string().optional(),
  ECS_REGION: z.string().min(1).default('cn-hangzhou'),
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
});

export type Settings = z.output<typeof settingsSchema>;

export function loadSettings(env: Record<string, string | undefined> = process.env): Settings {
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid settings:\n  ${lines.join('\n  ')}`);
  }
  return parsed.data;
}
