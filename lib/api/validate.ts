import { z } from 'zod';
import { toValidationIssues } from '../domain/plan.js';
import type { FieldIssue } from './problem.js';
import { validationProblem } from './problem.js';
import type { Route } from './router.js';

/** Routes that name no query or body take none: an unexpected field is refused, not ignored. */
const nothing = z.strictObject({});

/** Missing fields read `required` rather than zod's "expected string, received undefined". */
const parseOptions = {
  error: (iss: { input?: unknown; code?: string }) =>
    iss.input === undefined && iss.code === 'invalid_type' ? 'required' : undefined,
};

/**
 * Validates path parameters, query and body together so one answer lists every bad field. Query and
 * path fields are named `query.<name>` and `path.<name>`; body fields by their path in the body.
 */
export function validateInput(
  route: Route,
  params: Record<string, string>,
  query: Record<string, string>,
  body: unknown,
): { params: unknown; query: unknown; body: unknown } {
  const issues: FieldIssue[] = [];
  const parse = (schema: z.ZodType | undefined, value: unknown, prefix: string[]): unknown => {
    if (schema === undefined) return undefined;
    const result = schema.safeParse(value, parseOptions);
    if (result.success) return result.data;
    issues.push(...toValidationIssues(result.error, prefix));
    return undefined;
  };
  const parsedParams = parse(route.params, params, ['path']);
  const parsedQuery = parse(route.query ?? nothing, query, ['query']);
  let parsedBody: unknown;
  if (body === undefined) {
    if (route.bodyRequired === true) issues.push({ path: '', message: 'a JSON body is required' });
  } else {
    parsedBody = parse(route.body ?? nothing, body, []);
  }
  if (issues.length > 0) throw validationProblem(issues);
  return { params: parsedParams, query: parsedQuery, body: parsedBody };
}
