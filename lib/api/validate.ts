import { z } from 'zod';
import { toValidationIssues } from '../domain/plan.js';
import type { FieldIssue } from './problem.js';
import { validationProblem } from './problem.js';
import type { Route } from './router.js';
import { listParameters } from './schemas/common.js';

/** Routes that name no query or body take none: an unexpected field is refused, not ignored. */
const nothing = z.strictObject({});

/** Missing fields read `required` rather than zod's "expected string, received undefined". */
const parseOptions = {
  error: (iss: { input?: unknown; code?: string }) =>
    iss.input === undefined && iss.code === 'invalid_type' ? 'required' : undefined,
};

/**
 * FC hands a repeated query parameter over once, its values joined with commas. Where one value is
 * meant, keeping either would silently drop the other, so a comma there is refused by name (no
 * value the API takes has a comma); list parameters (`status`) read it as the list it is.
 */
function singleValued(
  schema: z.ZodType,
  query: Record<string, string>,
): { query: Record<string, string>; issues: FieldIssue[] } {
  const shape = schema instanceof z.ZodObject ? (schema.shape as Record<string, z.ZodType>) : {};
  const kept: Record<string, string> = {};
  const issues: FieldIssue[] = [];
  for (const [name, value] of Object.entries(query)) {
    const field = shape[name];
    if (field !== undefined && value.includes(',') && !listParameters.has(field)) {
      issues.push({
        path: `query.${name}`,
        message: 'takes one value; it was given more than once (or as a comma list)',
      });
    } else kept[name] = value;
  }
  return { query: kept, issues };
}

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
  const single = singleValued(route.query ?? nothing, query);
  issues.push(...single.issues);
  const parsedQuery = parse(route.query ?? nothing, single.query, ['query']);
  let parsedBody: unknown;
  if (body === undefined) {
    if (route.bodyRequired === true) issues.push({ path: '', message: 'a JSON body is required' });
  } else {
    parsedBody = parse(route.body ?? nothing, body, []);
  }
  if (issues.length > 0) throw validationProblem(issues);
  return { params: parsedParams, query: parsedQuery, body: parsedBody };
}
