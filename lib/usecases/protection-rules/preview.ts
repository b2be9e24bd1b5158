import { decideReconciliation, type RuleConflict } from '../../domain/protection-rule.js';
import type { Deps } from '../deps.js';
import { notFound, ok, type Outcome } from '../management/outcome.js';
import { readFleet } from './reconcile.js';

export interface RulePreviewRow {
  instanceId: string;
  /**
   * protect: not protected, the rule would protect it; take-over: another (lower or no longer
   * matching) rule holds it, this one would; hand-over: this rule holds it, a higher rule would take
   * it; keep: protected by this rule and stays so; unprotect: no longer matched, its plan would go;
   * release: no longer matched, its plan would stay and the rule would let go of it.
   */
  action: 'protect' | 'take-over' | 'hand-over' | 'keep' | 'unprotect' | 'release';
  otherRuleId: string | null;
}

export interface RulePreview {
  ruleId: string;
  evaluatedAt: number;
  /** Instances matching the rule now. */
  matched: number;
  rows: RulePreviewRow[];
  /** Instances the rule matches but may not take: protected by hand, or won by a higher rule. */
  conflicts: RuleConflict[];
}

/**
 * What the next reconciliation would do for one rule, read exactly as it reads (ECS listings by
 * tag, the store) and decided by the same function, with nothing written.
 */
export async function previewRule(deps: Deps, ruleId: string): Promise<Outcome<RulePreview>> {
  const rule = await deps.store.protectionRules.get(ruleId);
  if (rule === undefined) return notFound('protection rule', ruleId);
  const reading = await readFleet(deps);
  const decision = decideReconciliation(reading);
  const rows: RulePreviewRow[] = [];
  for (const action of decision.actions) {
    if (action.kind === 'rebind') {
      if (action.ruleId === ruleId)
        rows.push({ instanceId: action.instanceId, action: 'take-over', otherRuleId: action.fromRuleId });
      else if (action.fromRuleId === ruleId)
        rows.push({ instanceId: action.instanceId, action: 'hand-over', otherRuleId: action.ruleId });
      continue;
    }
    if (action.ruleId !== ruleId) continue;
    const kind = action.kind === 'release' ? (action.removePlan ? 'unprotect' : 'release') : action.kind;
    rows.push({ instanceId: action.instanceId, action: kind, otherRuleId: null });
  }
  const tally = decision.status.get(ruleId);
  return ok({
    ruleId,
    evaluatedAt: deps.clock.now(),
    matched: tally?.matched ?? 0,
    rows,
    conflicts: (tally?.conflicts ?? []).filter((c) => c.outcome !== 'won'),
  });
}
