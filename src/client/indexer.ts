/**
 * The informer's cache: objects by key plus secondary indices (client-go thread_safe_store.go, index.go).
 * An index function maps an object to index values; the index maps each value to the keys having it:
 *
 *   indexers { namespace: o => [o.metadata.namespace], nodeName: p => [p.spec.nodeName] }
 *   add default/a (node-1), default/b (node-2), kube-system/c (node-1)
 *   indices.namespace = { default: {default/a, default/b}, kube-system: {kube-system/c} }
 *   indices.nodeName  = { node-1: {default/a, kube-system/c}, node-2: {default/b} }
 *
 * Every write updates the indices from the old and the new object, so a lookup never scans the store.
 * Objects are shared with the informer's handlers: callers must not modify them (copy first).
 */
import type { KubeObject } from "./rest_client.js";
import { metaNamespaceKey } from "./store.js";

export type IndexFunc<T> = (obj: T) => readonly string[];
export type Indexers<T> = Readonly<Record<string, IndexFunc<T>>>;

export const NAMESPACE_INDEX = "namespace";

/** The index every informer gets: objects by metadata.namespace. */
export function namespaceIndexFunc(obj: KubeObject): string[] {
  return [obj.metadata?.namespace ?? ""];
}

export class Indexer<T extends KubeObject> {
  readonly #items = new Map<string, T>();
  readonly #indexers = new Map<string, IndexFunc<T>>();
  /** index name → index value → keys */
  readonly #indices = new Map<string, Map<string, Set<string>>>();
  readonly #keyFunc: (obj: T) => string;

  constructor(indexers: Indexers<T> = { [NAMESPACE_INDEX]: namespaceIndexFunc }, keyFunc: (obj: T) => string = metaNamespaceKey) {
    this.#keyFunc = keyFunc;
    this.addIndexers(indexers);
  }

  keyOf(obj: T): string {
    return this.#keyFunc(obj);
  }

  /** Adds index functions; existing objects are indexed by them at once. */
  addIndexers(indexers: Indexers<T>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      if (this.#indexers.has(name)) throw new Error(`indexer conflict: ${name}`);
      this.#indexers.set(name, fn);
      this.#indices.set(name, new Map());
      for (const [key, obj] of this.#items) this.#index(name, fn, key, obj, +1);
    }
  }

  hasIndex(name: string): boolean {
    return this.#indexers.has(name);
  }

  /** Adds or replaces an object; returns the object it replaced. */
  upsert(obj: T): T | undefined {
    const key = this.#keyFunc(obj);
    const old = this.#items.get(key);
    this.#items.set(key, obj);
    this.#reindex(key, old, obj);
    return old;
  }

  /** Removes by key; returns what was there. */
  deleteByKey(key: string): T | undefined {
    const old = this.#items.get(key);
    if (old === undefined) return undefined;
    this.#items.delete(key);
    this.#reindex(key, old, undefined);
    return old;
  }

  /** Replaces the whole content (after a list). */
  replace(objs: readonly T[]): void {
    this.#items.clear();
    for (const idx of this.#indices.values()) idx.clear();
    for (const obj of objs) this.upsert(obj);
  }

  get(obj: T): T | undefined {
    return this.#items.get(this.#keyFunc(obj));
  }

  getByKey(key: string): T | undefined {
    return this.#items.get(key);
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  listKeys(): string[] {
    return [...this.#items.keys()];
  }

  size(): number {
    return this.#items.size;
  }

  /** Objects whose index function yields `value`. */
  byIndex(indexName: string, value: string): T[] {
    return this.indexKeys(indexName, value).map((k) => this.#items.get(k)!);
  }

  /** Keys whose index function yields `value`. */
  indexKeys(indexName: string, value: string): string[] {
    const idx = this.#indices.get(indexName);
    if (idx === undefined) throw new Error(`Index with name ${indexName} does not exist`);
    return [...(idx.get(value) ?? [])];
  }

  /** Every value an index has. */
  listIndexFuncValues(indexName: string): string[] {
    return [...(this.#indices.get(indexName)?.keys() ?? [])];
  }

  #reindex(key: string, old: T | undefined, obj: T | undefined): void {
    for (const [name, fn] of this.#indexers) {
      if (old !== undefined) this.#index(name, fn, key, old, -1);
      if (obj !== undefined) this.#index(name, fn, key, obj, +1);
    }
  }

  #index(name: string, fn: IndexFunc<T>, key: string, obj: T, sign: 1 | -1): void {
    const idx = this.#indices.get(name)!;
    for (const value of new Set(fn(obj))) {
      let keys = idx.get(value);
      if (sign > 0) {
        if (keys === undefined) idx.set(value, (keys = new Set()));
        keys.add(key);
      } else if (keys !== undefined) {
        keys.delete(key);
        if (keys.size === 0) idx.delete(value);
      }
    }
  }
}
