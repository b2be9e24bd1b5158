import type { z } from 'zod';
import type { ProtectionRule } from '../../domain/protection-rule.js';
import { previewRule } from '../../usecases/protection-rules/preview.js';
import {
  createRule,
  deleteRule,
  getRule,
  listRules,
  updateRule,
} from '../../usecases/protection-rules/rules.js';
import { API_PREFIX, created, ok, stripUndefined } from '../answers.js';
import { boundPage } from '../cursor.js';
import { unwrap } from '../outcomes.js';
import { defineRoute, type Route } from '../router.js';
import { listQuerySchema } from '../schemas/common.js';
import {
  ruleBodySchema,
  rulePage,
  rulePatchBodySchema,
  rulePathSchema,
  rulePreviewView,
  ruleView,
} from '../schemas/protection-rules.js';
import { toPageView } from '../views.js';

const iso = (t: number): string => new Date(t).toISOString();

function toRuleView(r: ProtectionRule): z.output<typeof ruleView> {
  return {
    id: r.id,
    name: r.name,
    priority: r.priority,
    match: r.match,
    disks: r.disks,
    plan: { ...r.plan },
    onUnmatch: r.onUnmatch,
    revision: r.revision,
    state: r.state,
    status: { ...r.status, reconciledAt: r.status.reconciledAt === null ? null : iso(r.status.reconciledAt) },
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
    version: r.version,
  };
}

const base = `${API_PREFIX}/protection-rules`;

export const protectionRuleRoutes: Route[] = [
  defineRoute({
    method: 'POST',
    path: base,
    operationId: 'createProtectionRule',
    summary: 'Protect every instance whose tags match, from the next scheduler tick on',
    tag: 'protection-rules',
    body: ruleBodySchema,
    bodyRequired: true,
    responses: { 201: { description: 'Created', schema: ruleView } },
    handle: async ({ body }, { deps }) => {
      const rule = unwrap(await createRule(deps, body));
      return created(toRuleView(rule), `${base}/${rule.id}`);
    },
  }),
  defineRoute({
    method: 'GET',
    path: base,
    operationId: 'listProtectionRules',
    summary: 'Protection rules, newest first, with what each protects and its conflicts',
    tag: 'protection-rules',
    query: listQuerySchema,
    responses: { 200: { description: 'One page', schema: rulePage } },
    handle: async ({ query }, { deps }) => {
      const page = await boundPage(deps, 'protection-rules', query, (p) => listRules(deps, p));
      return ok(toPageView(page, toRuleView));
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${base}/{ruleId}`,
    operationId: 'getProtectionRule',
    summary: 'One protection rule and its status',
    tag: 'protection-rules',
    params: rulePathSchema,
    responses: { 200: { description: 'The rule', schema: ruleView } },
    problems: [404],
    handle: async ({ params }, { deps }) => ok(toRuleView(unwrap(await getRule(deps, params.ruleId)))),
  }),
  defineRoute({
    method: 'PATCH',
    path: `${base}/{ruleId}`,
    operationId: 'updateProtectionRule',
    summary: 'Change a rule; takes effect at the next reconciliation',
    tag: 'protection-rules',
    params: rulePathSchema,
    body: rulePatchBodySchema,
    bodyRequired: true,
    responses: { 200: { description: 'The changed rule', schema: ruleView } },
    problems: [404, 409],
    handle: async ({ params, body }, { deps }) =>
      ok(toRuleView(unwrap(await updateRule(deps, params.ruleId, stripUndefined(body))))),
  }),
  defineRoute({
    method: 'DELETE',
    path: `${base}/{ruleId}`,
    operationId: 'deleteProtectionRule',
    summary: 'Delete a rule: its instances stay protected with their plans (released), then it is gone',
    tag: 'protection-rules',
    params: rulePathSchema,
    responses: { 200: { description: 'The rule, DELETING', schema: ruleView } },
    problems: [404],
    handle: async ({ params }, { deps }) => ok(toRuleView(unwrap(await deleteRule(deps, params.ruleId)))),
  }),
  defineRoute({
    method: 'GET',
    path: `${base}/{ruleId}/preview`,
    operationId: 'previewProtectionRule',
    summary: 'What the rule would protect, take over, hand over or unprotect now; changes nothing',
    tag: 'protection-rules',
    params: rulePathSchema,
    responses: { 200: { description: 'The preview', schema: rulePreviewView } },
    problems: [404],
    handle: async ({ params }, { deps }) => {
      const preview = unwrap(await previewRule(deps, params.ruleId));
      return ok({ ...preview, evaluatedAt: iso(preview.evaluatedAt) });
    },
  }),
];
