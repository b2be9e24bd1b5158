import { z } from 'zod';
import type { CloneRequest } from '../../usecases/clone/check.js';

/**
 * The fields of a clone-instance restore, each as ECS documents it for RunInstances. There is no
 * password: a body carrying one is refused as an unknown field, so none is ever stored or logged.
 */

export const CLONE_INSTANCE = 'clone-instance';

const name = (what: string, max: number) =>
  z
    .string()
    .regex(new RegExp(`^[A-Za-z\\u4e00-\\u9fa5][A-Za-z0-9\\u4e00-\\u9fa5._:-]{1,${max - 1}}$`), {
      error: `${what}: 2-${max} characters, starting with a letter; letters, digits, '.', '_', ':' and '-'`,
    })
    .refine((v) => !/^https?:/i.test(v), { error: `${what} must not start with http: or https:` });

const tag = z.strictObject({
  key: z
    .string()
    .min(1, { error: 'a tag key is 1-128 characters' })
    .max(128, { error: 'a tag key is 1-128 characters' })
    .refine((k) => !/^(aliyun|acs:|https?:\/\/)/i.test(k), {
      error: 'must not start with aliyun, acs: or http(s)://',
    })
    .refine((k) => !k.startsWith('ecs-backup:'), { error: 'ecs-backup: keys are the service own' }),
  value: z.string().max(128, { error: 'a tag value is at most 128 characters' }),
});

export const cloneFields = {
  instanceType: z
    .string()
    .regex(/^ecs\.[a-z0-9-]+\.[a-z0-9-]+$/, { error: 'an ECS instance type, e.g. ecs.g7.large' })
    .optional()
    .describe('clone-instance: default the type of the backed-up instance; checked against the zone'),
  vSwitchId: z
    .string()
    .regex(/^vsw-[a-z0-9]{4,40}$/, { error: 'a vSwitch id, e.g. vsw-bp1...' })
    .optional()
    .describe("clone-instance: default the backed-up instance's; its zone is the clone's zone"),
  securityGroupIds: z
    .array(z.string().regex(/^sg-[a-z0-9]{4,40}$/, { error: 'a security group id, e.g. sg-bp1...' }))
    .min(1, { error: 'at least one security group' })
    .max(5, { error: 'at most 5 security groups' })
    .refine((ids) => new Set(ids).size === ids.length, { error: 'each security group once' })
    .optional()
    .describe("clone-instance: default the backed-up instance's"),
  instanceName: name('instanceName', 128)
    .optional()
    .describe("clone-instance: default the backed-up instance's name with -clone"),
  hostname: z
    .string()
    .regex(/^(?![.-])(?!.*[.-]{2})[A-Za-z0-9.-]{2,64}(?<![.-])$/, {
      error: "2-64 letters, digits, '.' and '-', not at either end nor two together",
    })
    .optional()
    .describe('clone-instance: default as ECS sets it'),
  keyPairName: name('keyPairName', 128)
    .optional()
    .describe('clone-instance: the key pair to log in with (Linux)'),
  tags: z
    .array(tag)
    .max(20, { error: 'at most 20 tags' })
    .optional()
    .describe("clone-instance: default the backed-up instance's tags; the service adds its own"),
  keepImage: z
    .boolean({ error: 'must be true or false' })
    .optional()
    .describe('clone-instance: keep the image the clone is launched from (default false: deleted)'),
};

export const CLONE_FIELDS = Object.keys(cloneFields) as (keyof typeof cloneFields)[];

/** The clone-instance fields of a restore body, the ones sent only. */
export function cloneRequest(
  body: Partial<Record<keyof typeof cloneFields, unknown>> & z.output<z.ZodObject<typeof cloneFields>>,
): CloneRequest {
  const out: CloneRequest = {};
  if (body.instanceType !== undefined) out.instanceType = body.instanceType;
  if (body.vSwitchId !== undefined) out.vSwitchId = body.vSwitchId;
  if (body.securityGroupIds !== undefined) out.securityGroupIds = body.securityGroupIds;
  if (body.instanceName !== undefined) out.instanceName = body.instanceName;
  if (body.hostname !== undefined) out.hostname = body.hostname;
  if (body.keyPairName !== undefined) out.keyPairName = body.keyPairName;
  if (body.tags !== undefined) out.tags = body.tags;
  if (body.keepImage !== undefined) out.keepImage = body.keepImage;
  return out;
}
