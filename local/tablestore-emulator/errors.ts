/** Errors as Tablestore answers them: an error code, a message and the HTTP status. */

export class OtsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'OtsError';
  }
}

export const invalid = (message: string): OtsError => new OtsError('OTSParameterInvalid', message, 400);
export const conditionFailed = (): OtsError =>
  new OtsError('OTSConditionCheckFail', 'Condition check failed.', 403);
export const tableMissing = (): OtsError =>
  new OtsError('OTSObjectNotExist', 'Requested table does not exist.', 404);
