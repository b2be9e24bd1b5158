/**
 * The CLI's exit codes and the errors that carry them, so every command fails the same way:
 * 0 ok, 1 the awaited job ended FAILED/CANCELED/SKIPPED/EXPIRED, 2 usage, 3 the API refused, 4 the
 * API could not be reached.
 */
export const EXIT = { ok: 0, jobFailed: 1, usage: 2, refused: 3, unreachable: 4 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

export interface FieldError {
  path?: string;
  pointer?: string;
  message?: string;
  detail?: string;
}

/** An RFC 9457 problem document as the API returns it; printed whole (detail and every field). */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  requestId?: string;
  errors?: FieldError[];
}

export class ApiRefused extends CliError {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(describeProblem(status, problem), EXIT.refused);
  }
}

export class Unreachable extends CliError {
  constructor(endpoint: string, cause: string) {
    super(`cannot reach the API at ${endpoint}: ${cause}`, EXIT.unreachable);
  }
}

function describeProblem(status: number, problem: Problem): string {
  const head = `${problem.title ?? 'Request refused'} (HTTP ${status})`;
  const fields = problem.errors ?? [];
  // A validation detail usually repeats the first field error; print it only when it adds something.
  const repeats = fields.some((e) => problem.detail?.includes(e.message ?? e.detail ?? '\0'));
  const lines = [
    problem.detail && problem.detail !== problem.title && !repeats ? `${head}: ${problem.detail}` : head,
  ];
  for (const e of fields)
    lines.push(`  ${e.path ?? e.pointer ?? '(request)'}: ${e.message ?? e.detail ?? 'invalid'}`);
  if (status === 401) lines.push('  check the token (--token, ECS_BACKUP_TOKEN or `ecs-backup login`)');
  if (problem.requestId) lines.push(`  request id: ${problem.requestId}`);
  return lines.join('\n');
}
