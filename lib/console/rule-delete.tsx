import type { ProtectionRule } from './types.js';
import { Confirm } from './ui.js';

/**
 * The confirmation before a rule is deleted, saying what the use case does (usecases/protection-rules):
 * the rule stops matching at once, the next reconciliation releases its instances with their plans
 * kept (its "on unmatch" does not apply to a delete) unless another rule takes them over, no backup
 * is deleted, and then the rule is gone.
 */
export function RuleDelete({
  rule,
  onCancel,
  onConfirm,
}: {
  rule: ProtectionRule;
  onCancel(): void;
  onConfirm(): void;
}) {
  const n = rule.status.protected;
  return (
    <Confirm
      title={`Delete rule ${rule.name}?`}
      confirmLabel="Delete rule"
      onCancel={onCancel}
      onConfirm={onConfirm}
    >
      <p>
        It stops matching now. At the next reconciliation it lets go of the{' '}
        {n === 1 ? '1 instance' : `${n} instances`} it protects
        {rule.status.reconciledAt === null ? ' (it has not been reconciled yet)' : ''}, then it is gone:
      </p>
      <ul>
        <li>
          An instance no other rule matches keeps its plan and goes on being backed up, as if protected by
          hand.
          {rule.onUnmatch === 'remove'
            ? ' The rule’s “remove its plan” applies only to instances that stop matching while it lives.'
            : ''}
        </li>
        <li>An instance another rule also matches is taken over by that rule and gets its plan.</li>
        <li>No backup is deleted: every backup taken stays until it expires.</li>
      </ul>
    </Confirm>
  );
}
