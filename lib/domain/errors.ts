import type { JobStatus } from './model.js';

/** Base of every error the domain raises on purpose; `name` is the subclass name so logs stay readable. */
export class DomainError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export interface ValidationIssue {
  /** Dotted field path with array indices, e.g. `longTerm[0].keep.unit`; empty for the whole input. */
  path: string;
  message: string;
}

/** Bad input: every issue names the field and the reason, so the HTTP edge can return them as they are. */
export class ValidationError extends DomainError {
  readonly issues: ValidationIssue[];

  constructor(issues: ValidationIssue[], options?: { cause?: unknown }) {
    super(`invalid input: ${issues.map(formatIssue).join('; ')}`, options);
    this.issues = issues;
  }
}

function formatIssue(issue: ValidationIssue): string {
  return issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`;
}

export class IllegalTransitionError extends DomainError {
  readonly from: JobStatus;
  readonly to: JobStatus;

  constructor(from: JobStatus, to: JobStatus, jobId?: string) {
    super(`illegal job transition ${from} -> ${to}${jobId === undefined ? '' : ` (job ${jobId})`}`);
    this.from = from;
    this.to = to;
  }
}
