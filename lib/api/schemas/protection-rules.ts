import { z } from 'zod';
import { rulePatchSchema, ruleSpecSchema } from '../../domain/protection-rule.js';
import { isoTime, named, nullableIsoTime, opaqueId, pageOf } from './common.js';

export const ruleBodySchema = named(
  ruleSpecSchema,
  'ProtectionRuleRequest',
  'Protect every instance whose tags (and zone, OS) match with one plan. The larger priority wins an instance two rules match.',
);

export const rulePatchBodySchema = named(
  rulePatchSchema,
  'ProtectionRuleChange',
  'Any subset; a new plan is applied to every plan the rule made at the next reconciliation.',
);

export const rulePathSchema = z.strictObject({ ruleId: opaqueId });

const conflictView = z.object({
  instanceId: z.string(),
  outcome: z.enum(['won', 'lost', 'by-hand']),
  otherRuleIds: z.array(z.string()),
});

export const ruleView = named(
  z.object({
    id: z.string(),
    name: z.string(),
    priority: z.int(),
    match: z.object({
      tags: z.record(z.string(), z.string()),
      zoneIds: z.array(z.string()).optional(),
      osType: z.enum(['linux', 'windows']).optional(),
    }),
    disks: z.literal('all'),
    plan: z.record(z.string(), z.unknown()).describe('The plan body, defaults filled in'),
    onUnmatch: z.enum(['keep', 'remove']),
    revision: z.int().describe('Raised when plan or disks change; the rule plans follow it'),
    state: z.enum(['ACTIVE', 'DELETING']),
    status: z.object({
      reconciledAt: nullableIsoTime,
      matched: z.int(),
      protected: z.int(),
      conflictCount: z.int(),
      conflicts: z.array(conflictView).describe('The first 50'),
      error: z.string().nullable(),
    }),
    createdAt: isoTime,
    updatedAt: isoTime,
    version: z.int(),
  }),
  'ProtectionRule',
);

export const rulePage = pageOf(ruleView, 'ProtectionRulePage');

export const rulePreviewView = named(
  z.object({
    ruleId: z.string(),
    evaluatedAt: isoTime,
    matched: z.int(),
    rows: z.array(
      z.object({
        instanceId: z.string(),
        action: z.enum(['protect', 'take-over', 'hand-over', 'keep', 'unprotect', 'release']),
        otherRuleId: z.string().nullable(),
      }),
    ),
    conflicts: z.array(conflictView),
  }),
  'ProtectionRulePreview',
);
