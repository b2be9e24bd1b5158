/**
 * Deploying is a diff: the desired state (desired.ts) against the state the cloud describes, one
 * resource at a time. A resource is created when it is not described, updated when one of the
 * properties we set differs, and left alone otherwise; properties the cloud adds are ignored. So
 * running the deploy twice changes nothing the second time.
 */

export interface Resource {
  /** Provider kind, e.g. `fc.function`, `ram.role`. */
  kind: string;
  /** Name within the kind (unique per kind). */
  name: string;
  /** The properties we own; compared field by field with what the cloud describes. */
  props: Record<string, unknown>;
  /** Property paths whose values are never printed (the plan shows `(secret)`). */
  secret?: readonly string[];
  /** Resources (`kind/name`) that must exist first. */
  dependsOn?: readonly string[];
}

export type Described = Record<string, unknown> | undefined;

export interface FieldChange {
  path: string;
  from: unknown;
  to: unknown;
}

export interface Change {
  action: 'create' | 'update' | 'unchanged' | 'unknown';
  resource: Resource;
  fields: FieldChange[];
}

export const keyOf = (r: Pick<Resource, 'kind' | 'name'>) => `${r.kind}/${r.name}`;

/** JSON with object keys sorted, so key order never counts as a change. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * Fields of `desired` whose value differs from `actual`. Nested objects are compared key by key
 * (only the keys we set); arrays and scalars as whole values.
 */
export function diffProps(
  desired: Record<string, unknown>,
  actual: Record<string, unknown>,
  prefix = '',
): FieldChange[] {
  const out: FieldChange[] = [];
  for (const [key, want] of Object.entries(desired)) {
    if (want === undefined) continue;
    const have = actual[key];
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const isObject = (v: unknown): v is Record<string, unknown> =>
      v !== null && typeof v === 'object' && !Array.isArray(v);
    if (isObject(want) && isObject(have)) {
      out.push(...diffProps(want, have, path));
    } else if (canonical(want) !== canonical(have)) {
      out.push({ path, from: have, to: want });
    }
  }
  return out;
}

/** Orders resources so that each comes after what it depends on; refuses a cycle or a missing one. */
export function inDependencyOrder(resources: readonly Resource[]): Resource[] {
  const byKey = new Map(resources.map((r) => [keyOf(r), r]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const out: Resource[] = [];
  const visit = (r: Resource) => {
    const key = keyOf(r);
    if (done.has(key)) return;
    if (visiting.has(key)) throw new Error(`dependency cycle through ${key}`);
    visiting.add(key);
    for (const dep of r.dependsOn ?? []) {
      const target = byKey.get(dep);
      if (target === undefined)
        throw new Error(`${key} depends on ${dep}, which is not in the desired state`);
      visit(target);
    }
    visiting.delete(key);
    done.add(key);
    out.push(r);
  };
  for (const r of resources) visit(r);
  return out;
}

/**
 * The plan: every desired resource with its action. `described` holds what the cloud answered per
 * `kind/name` (undefined: it does not exist); a key absent from the map means the state is unknown
 * (a dry run without an account), shown as such rather than guessed.
 */
export function planChanges(
  desired: readonly Resource[],
  described: ReadonlyMap<string, Described>,
): Change[] {
  return inDependencyOrder(desired).map((resource) => {
    const key = keyOf(resource);
    if (!described.has(key)) return { action: 'unknown', resource, fields: [] };
    const actual = described.get(key);
    if (actual === undefined) return { action: 'create', resource, fields: [] };
    const fields = diffProps(resource.props, actual);
    return { action: fields.length === 0 ? 'unchanged' : 'update', resource, fields };
  });
}

function show(resource: Resource, path: string, value: unknown): string {
  if (resource.secret?.some((s) => path === s || path.startsWith(`${s}.`))) return '(secret)';
  return typeof value === 'string' ? value : canonical(value);
}

function flatten(value: unknown, prefix: string, out: [string, unknown][]): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>))
      flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (value !== undefined) {
    out.push([prefix, value]);
  }
}

/** Human-readable plan lines, secrets masked. */
export function formatPlan(changes: readonly Change[]): string[] {
  const lines: string[] = [];
  const sign = { create: '+', update: '~', unchanged: '=', unknown: '?' } as const;
  for (const c of changes) {
    const what = `${sign[c.action]} ${c.action.padEnd(9)} ${keyOf(c.resource)}`;
    lines.push(what);
    if (c.action === 'create' || c.action === 'unknown') {
      const props: [string, unknown][] = [];
      flatten(c.resource.props, '', props);
      for (const [path, value] of props) lines.push(`      ${path} = ${show(c.resource, path, value)}`);
    } else if (c.action === 'update') {
      for (const f of c.fields)
        lines.push(
          `      ${f.path}: ${show(c.resource, f.path, f.from)} -> ${show(c.resource, f.path, f.to)}`,
        );
    }
  }
  const count = (a: Change['action']) => changes.filter((c) => c.action === a).length;
  lines.push(
    '',
    `${count('create')} to create, ${count('update')} to change, ${count('unchanged')} unchanged` +
      (count('unknown') > 0
        ? `, ${count('unknown')} not described (no account: the whole desired state is shown)`
        : ''),
  );
  return lines;
}
