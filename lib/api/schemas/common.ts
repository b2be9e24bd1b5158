/**
 * Shapes every resource shares: the registry that names schemas in the OpenAPI document, instants,
 * ids, paging, pages, problems. The handlers validate with the same zod schemas the document is
 * generated from, so the two cannot drift apart.
 */
import { z } from 'zod';
import {
  diskIdSchema,
  diskSelectionSchema,
  instanceIdSchema,
  longTermRuleSchema,
  planSpecSchema,
  retentionSchema,
  scheduleSchema,
} from '../../domain/plan.js';
import { parseStartAt } from '../../domain/schedule.js';

/** Schemas named here become `components/schemas` entries and are referenced by name. */
export const apiRegistry = z.registry<{ id: string; description?: string }>();

export function named<S extends z.ZodType>(schema: S, id: string, description?: string): S {
  apiRegistry.add(schema, description === undefined ? { id } : { id, description });
  return schema;
}

// Plan bodies reuse the domain's schemas unchanged: a plan is written the same way on every route.
named(instanceIdSchema, 'InstanceId', 'ECS instance id');
named(diskIdSchema, 'DiskId', 'ECS disk id');
named(
  diskSelectionSchema,
  'DiskSelection',
  '"all" (every disk attached when each backup starts) or a list of disk ids',
);
named(scheduleSchema, 'Schedule', 'First run (ISO 8601 with seconds and offset) and fixed interval');
named(retentionSchema, 'Retention', 'How long a backup is kept; months and years are calendar units');
named(longTermRuleSchema, 'LongTermRule', 'Keep the first backup of each period longer');
named(planSpecSchema, 'PlanSpec', 'A backup plan as written by an operator');

/** An instant given by a client: ISO 8601 with seconds and an explicit offset, like a schedule start. */
export const instantSchema = z
  .string({ error: 'must be a string' })
  .superRefine((s, ctx) => {
    try {
      parseStartAt(s);
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: 'must be ISO 8601 with seconds and an offset, e.g. 2027-01-01T00:00:00Z',
      });
    }
  })
  .transform((s) => parseStartAt(s));

export const opaqueId = z
  .string()
  .min(1)
  .max(128, { error: 'must be at most 128 characters' })
  .regex(/^[A-Za-z0-9_.:-]+$/, { error: 'must hold only letters, digits, ".", "_", ":" and "-"' });

/** Query values are strings; these read them as the numbers and lists they stand for. */
export const limit = (max: number, fallback: number) =>
  z.coerce
    .number({ error: `must be a whole number 1-${max}` })
    .int({ error: `must be a whole number 1-${max}` })
    .min(1, { error: `must be a whole number 1-${max}` })
    .max(max, { error: `must be a whole number 1-${max}` })
    .default(fallback);

export const cursorSchema = z.string().min(1).max(1024).optional();

export const paging = {
  limit: limit(1000, 50),
  cursor: cursorSchema,
  order: z.enum(['desc', 'asc'], { error: 'must be desc or asc' }).default('desc'),
};

/** Query parameters that take several values (a comma list, or the parameter repeated). */
export const listParameters = new WeakSet<z.ZodType>();

export function commaList<const T extends readonly [string, ...string[]]>(values: T) {
  const list = z
    .string()
    .transform((s) => s.split(',').map((v) => v.trim()))
    .pipe(z.array(z.enum(values, { error: `each value must be one of ${values.join(', ')}` })).min(1))
    .optional();
  listParameters.add(list);
  return list;
}

export const listQuerySchema = z.strictObject({ ...paging });

export const isoTime = z.string().describe('ISO 8601 UTC time');
export const nullableIsoTime = isoTime.nullable();

export const consistencyLevels = z.enum(['application', 'filesystem', 'crash']);

export function pageOf<S extends z.ZodType>(item: S, id: string, description?: string) {
  return named(
    z.object({
      items: z.array(item),
      nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
    }),
    id,
    description,
  );
}

export const healthView = named(z.object({ status: z.literal('ok') }), 'Health');

export const problemView = named(
  z.object({
    type: z.string().describe('URI naming the kind of problem'),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    instance: z.string().optional(),
    requestId: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
  'Problem',
  'RFC 9457 problem document',
);
