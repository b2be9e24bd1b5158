/** Records in creation order with a cached newest-first array for listings. */
export class Ordered<T> {
  readonly byId = new Map<string, T>();
  private cache: T[] | null = null;

  set(id: string, value: T): void {
    if (!this.byId.has(id)) this.cache = null;
    this.byId.set(id, value);
  }

  delete(id: string): void {
    if (this.byId.delete(id)) this.cache = null;
  }

  get(id: string): T | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.byId.size;
  }

  newestFirst(): T[] {
    if (this.cache === null) this.cache = [...this.byId.values()].reverse();
    return this.cache;
  }
}

/** Secondary indexes: a key's set of ids, dropped once empty. */
export function addToIndex(index: Map<string, Set<string>>, key: string, id: string): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(id);
}

export function removeFromIndex(index: Map<string, Set<string>>, key: string, id: string): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(id);
  if (set.size === 0) index.delete(key);
}
