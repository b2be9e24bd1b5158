import { addToIndex, removeFromIndex } from './ordered.js';

export type TaggedType = 'instance' | 'disk' | 'snapshot' | 'snapshotgroup';

/**
 * Which resources carry which tags: every tag is indexed under its key alone and under key and
 * value, so a filter on either is one lookup.
 */
export class TagIndex {
  private readonly index = new Map<string, Set<string>>();

  /** Indexes `id` under `tags`; the keys returned are what `remove` takes once they change. */
  add(type: TaggedType, id: string, tags: Record<string, string>): string[] {
    const keys: string[] = [];
    for (const [k, v] of Object.entries(tags)) keys.push(`${type}\u0000${k}`, `${type}\u0000${k}\u0000${v}`);
    for (const k of keys) addToIndex(this.index, k, id);
    return keys;
  }

  remove(keys: string[], id: string): void {
    for (const k of keys) removeFromIndex(this.index, k, id);
  }

  /** Ids carrying every tag (a tag without value matches any value); null = no filter. Read-only. */
  idsWithTags(
    type: TaggedType,
    tags: { key: string; value: string | undefined }[],
  ): ReadonlySet<string> | null {
    if (tags.length === 0) return null;
    const sets = tags
      .map((t) =>
        this.index.get(
          t.value === undefined ? `${type}\u0000${t.key}` : `${type}\u0000${t.key}\u0000${t.value}`,
        ),
      )
      .sort((a, b) => (a?.size ?? 0) - (b?.size ?? 0));
    const [smallest, ...rest] = sets;
    if (!smallest || rest.some((s) => !s)) return new Set();
    // One tag: the index set itself, so a filter matching 100,000 snapshots costs nothing to build.
    if (rest.length === 0) return smallest;
    const result = new Set<string>();
    for (const id of smallest) if (rest.every((s) => (s as Set<string>).has(id))) result.add(id);
    return result;
  }
}
