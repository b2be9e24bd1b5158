/**
 * RFC 9457 problem documents: the only error shape the API answers with. `HttpProblem` is raised
 * by the HTTP edge (decoding, auth, validation, mapping of use-case outcomes) and turned into a
 * response by the error middleware; anything else that escapes is an internal error whose detail
 * stays in the log.
 */

export interface FieldIssue {
  /** Dotted path with array indices (`plan.longTerm[0].keep.unit`); `query.limit`, `path.id` outside the body. */
  path: string;
  message: string;
}

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  requestId?: string;
  errors?: FieldIssue[];
}

/** Each kind has one stable `type` URI and title, so clients can branch on `type` alone. */
export const PROBLEM_KINDS = {
  'validation-failed': { status: 400, title: 'Validation failed' },
  'malformed-json': { status: 400, title: 'Malformed JSON' },
  'bad-request': { status: 400, title: 'Bad request' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  'idempotency-in-progress': { status: 409, title: 'Request with this Idempotency-Key in progress' },
  'payload-too-large': { status: 413, title: 'Payload too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'idempotency-key-reused': { status: 422, title: 'Idempotency-Key reused with another request' },
  internal: { status: 500, title: 'Internal error' },
  'upstream-failed': { status: 502, title: 'Cloud API error' },
  'upstream-unavailable': { status: 503, title: 'Cloud API unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemKind = keyof typeof PROBLEM_KINDS;

export const PROBLEM_TYPE_PREFIX = 'urn:ecs-backup:problem:';

export function problemType(kind: ProblemKind): string {
  return `${PROBLEM_TYPE_PREFIX}${kind}`;
}

export class HttpProblem extends Error {
  readonly kind: ProblemKind;
  readonly status: number;
  readonly detail: string;
  readonly errors: FieldIssue[] | undefined;
  readonly headers: Record<string, string>;

  constructor(
    kind: ProblemKind,
    detail: string,
    options: { errors?: FieldIssue[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = 'HttpProblem';
    this.kind = kind;
    this.status = PROBLEM_KINDS[kind].status;
    this.detail = detail;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }

  /** Client errors say what went wrong; server errors never expose internals (middy's `expose = status < 500`). */
  get expose(): boolean {
    return this.status < 500;
  }

  toDocument(extra: { instance?: string; requestId?: string } = {}): ProblemDocument {
    const doc: ProblemDocument = {
      type: problemType(this.kind),
      title: PROBLEM_KINDS[this.kind].title,
      status: this.status,
      detail: this.expose
        ? this.detail
        : (GENERIC_SERVER_DETAIL[this.kind] ?? GENERIC_SERVER_DETAIL.internal),
    };
    if (extra.instance !== undefined) doc.instance = extra.instance;
    if (extra.requestId !== undefined) doc.requestId = extra.requestId;
    if (this.errors !== undefined && this.expose) doc.errors = this.errors;
    return doc;
  }
}

const GENERIC_SERVER_DETAIL: Partial<Record<ProblemKind, string>> & { internal: string } = {
  internal: 'The request could not be completed. Quote the requestId when reporting it.',
  'upstream-failed': 'The cloud API refused or failed the request. Quote the requestId when reporting it.',
  'upstream-unavailable': 'The cloud API is busy or unreachable. Retry later.',
};

export function validationProblem(issues: FieldIssue[], detail?: string): HttpProblem {
  const summary =
    detail ?? (issues.length === 1 ? `${describeIssue(issues[0]!)}` : `${issues.length} fields are invalid`);
  return new HttpProblem('validation-failed', summary, { errors: issues });
}

function describeIssue(issue: FieldIssue): string {
  return issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`;
}

export function notFound(resource: string, id: string): HttpProblem {
  return new HttpProblem('not-found', `${resource} ${id} does not exist`);
}
