/** An error answered to the client as ECS does: `{RequestId, Code, Message}` with an HTTP status. */
export class EcsApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number = 400,
  ) {
    super(message);
    this.name = 'EcsApiError';
  }
}

export const missingParameter = (name: string): EcsApiError =>
  new EcsApiError(
    'MissingParameter',
    `The input parameter "${name}" that is mandatory for processing this request is not supplied.`,
    400,
  );

export const invalidParameter = (name: string, why = 'is not valid'): EcsApiError =>
  new EcsApiError(`InvalidParameter.${name}`, `The specified parameter "${name}" ${why}.`, 400);

export const notFound = (code: string, what: string): EcsApiError =>
  new EcsApiError(code, `The specified ${what} does not exist.`, 404);

export const incorrectInstanceStatus = (detail?: string): EcsApiError =>
  new EcsApiError(
    'IncorrectInstanceStatus',
    `The current status of the resource does not support this operation.${detail ? ` ${detail}` : ''}`,
    403,
  );

export const incorrectDiskStatus = (detail?: string): EcsApiError =>
  new EcsApiError(
    'IncorrectDiskStatus',
    `The current disk status does not support this operation.${detail ? ` ${detail}` : ''}`,
    403,
  );
