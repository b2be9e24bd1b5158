/** zod problems as the field + reason pairs every refusal carries (RFC 9457 `errors[]`). */
import type { z } from 'zod';
import { ValidationError, type ValidationIssue } from './errors.js';

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** zod issues as field + reason, one per unknown field, `required` for a missing one. */
export function toValidationIssues(
  error: z.ZodError,
  prefix: readonly PropertyKey[] = [],
): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  for (const issue of error.issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: formatPath([...path, key]), message: 'unknown field' });
    } else {
      out.push({ path: formatPath(path), message: issue.message });
    }
  }
  return out;
}

/** Parses with `schema`, or throws a ValidationError listing every problem. */
export function parseWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  prefix: readonly PropertyKey[] = [],
): z.output<S> {
  const result = schema.safeParse(input, {
    error: (iss) => (iss.input === undefined && iss.code === 'invalid_type' ? 'required' : undefined),
  });
  if (!result.success) throw new ValidationError(toValidationIssues(result.error, prefix));
  return result.data;
}
