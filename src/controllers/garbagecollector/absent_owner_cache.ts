/**
 * Owners known not to exist (upstream's ReferenceCache, an LRU of 500): dependents of an owner that was
 * seen to go skip the GET that would prove it again. Bounded: the least recently used entry goes first.
 */
import type { ObjectIdentity } from "./graph.js";

/** Upstream's size for the absent-owner cache. */
export const ABSENT_OWNER_CACHE_ENTRIES_MAX = 500;

function keyOf(id: ObjectIdentity): string {
  return `${id.apiVersion}\x00${id.kind}\x00${id.namespace}\x00${id.name}\x00${id.uid}`;
}

export class AbsentOwnerCache {
  readonly #entries = new Map<string, true>();
  constructor(readonly entriesMax: number = ABSENT_OWNER_CACHE_ENTRIES_MAX) {}

  add(id: ObjectIdentity): void {
    const k = keyOf(id);
    this.#entries.delete(k);
    this.#entries.set(k, true);
    while (this.#entries.size > this.entriesMax) this.#entries.delete(this.#entries.keys().next().value!);
  }

  has(id: ObjectIdentity): boolean {
    const k = keyOf(id);
    if (!this.#entries.has(k)) return false;
    // A hit makes it the most recently used.
    this.#entries.delete(k);
    this.#entries.set(k, true);
    return true;
  }

  get size(): number {
    return this.#entries.size;
  }
}
