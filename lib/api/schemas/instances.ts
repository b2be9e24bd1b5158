import { z } from 'zod';
import { cursorSchema, limit, named, pageOf } from './common.js';

export const instanceQuerySchema = z.strictObject({
  limit: limit(100, 20),
  cursor: cursorSchema,
  protected: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
});

export const instanceView = named(
  z.object({
    instanceId: z.string(),
    name: z.string(),
    status: z.string(),
    osType: z.enum(['linux', 'windows']),
    osName: z.string(),
    zoneId: z.string(),
    regionId: z.string(),
    disks: z.array(
      z.object({
        diskId: z.string(),
        name: z.string(),
        type: z.enum(['system', 'data']),
        category: z.string(),
        sizeGiB: z.number(),
        device: z.string().nullable(),
        status: z.string(),
      }),
    ),
    cloudAssistant: z.enum(['running', 'not-running', 'unknown']),
    protection: z.object({
      protected: z.boolean(),
      planId: z.string().nullable(),
      planName: z.string().nullable(),
      planState: z.enum(['ACTIVE', 'SUSPENDED']).nullable(),
      disks: z.union([z.literal('all'), z.array(z.string())]).nullable(),
    }),
  }),
  'Instance',
);

export const instancePage = pageOf(instanceView, 'InstancePage');
