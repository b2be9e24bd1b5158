/**
 * API field errors name body fields (`plan.copies.3`); the operator typed options (`--copy`). This
 * adds the option to each field error it knows, so the message points at what to change.
 */
import { ApiRefused } from '../errors.js';

/** The option for a field path: the longest field in `options` that is the path or a prefix of it. */
export function optionFor(path: string, options: Record<string, string>): string | undefined {
  const parts = path.replace(/\[(\d+)\]/g, '.$1').split('.');
  for (let n = parts.length; n > 0; n--) {
    const option = options[parts.slice(0, n).join('.')];
    if (option !== undefined) return option;
  }
  return undefined;
}

/** Runs a request; a refusal with field errors is rethrown with the options named (`path (--copy)`). */
export async function namingOptions<T>(options: Record<string, string>, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (!(e instanceof ApiRefused) || !e.problem.errors?.length) throw e;
    const errors = e.problem.errors.map((f) => {
      const path = f.path ?? f.pointer;
      const option = path === undefined ? undefined : optionFor(path, options);
      return option === undefined ? f : { ...f, path: `${path} (${option})` };
    });
    throw new ApiRefused(e.status, { ...e.problem, errors });
  }
}

/** The same fields under a body key (`plan.copies` in a protect or rule request). */
export function under(key: string, options: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(options).map(([field, option]) => [`${key}.${field}`, option]));
}

/** `backups restore`: the body fields its options set. */
export const RESTORE_FIELD_OPTIONS: Record<string, string> = {
  mode: '--mode',
  diskId: '--disk',
  targetInstanceId: '--target',
  stopInstance: '--stop-instance',
  instanceType: '--instance-type',
  vSwitchId: '--vswitch',
  securityGroupIds: '--security-group',
  instanceName: '--name',
  hostname: '--hostname',
  keyPairName: '--key-pair',
  keepImage: '--keep-image',
  regionId: '--region',
};
