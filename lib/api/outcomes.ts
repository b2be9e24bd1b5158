import { ValidationError } from '../domain/errors.js';
import type { Outcome } from '../usecases/management/outcome.js';
import { HttpProblem, notFound, validationProblem } from './problem.js';

/** The one place a use case's refusal becomes an HTTP status. */
export function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  switch (outcome.error) {
    case 'not_found':
      return throwing(notFound(outcome.resource, outcome.id));
    case 'conflict':
      return throwing(
        new HttpProblem(
          'conflict',
          outcome.detail,
          outcome.field === undefined ? {} : { errors: [{ path: outcome.field, message: outcome.detail }] },
        ),
      );
    case 'invalid':
      return throwing(validationProblem(outcome.issues));
  }
}

function throwing(problem: HttpProblem): never {
  throw problem;
}

/** Stores refuse a cursor they did not issue with a ValidationError on `cursor`; it came from the query. */
export async function withClientCursor<T>(list: () => Promise<T>): Promise<T> {
  try {
    return await list();
  } catch (err) {
    if (err instanceof ValidationError) {
      throw validationProblem(
        err.issues.map((i) => ({ path: i.path === 'cursor' ? 'query.cursor' : i.path, message: i.message })),
      );
    }
    throw err;
  }
}
