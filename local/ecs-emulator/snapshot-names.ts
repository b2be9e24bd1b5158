import { EcsApiError } from './errors.js';

/** The rules ECS applies to the names of snapshots, snapshot groups and snapshot copies. */
export function checkName(value: string | undefined, code: string, field: string, forbidAuto: boolean): void {
  if (value === undefined) return;
  if (
    value.length < 2 ||
    value.length > 128 ||
    !/^[A-Za-z\u4e00-\u9fa5]/.test(value) ||
    /^https?:\/\//.test(value) ||
    (forbidAuto && /^auto/.test(value))
  ) {
    throw new EcsApiError(code, `The specified ${field} is not valid.`, 400);
  }
}

export function checkDescription(value: string | undefined): void {
  if (value !== undefined && (value.length < 2 || value.length > 256 || /^https?:\/\//.test(value))) {
    throw new EcsApiError('InvalidDescription.Malformed', 'The specified Description is not valid.', 400);
  }
}
