/**
 * An ordered map on a B+ tree (the `sorted-btree` package), keyed by strings compared by UTF-16 code
 * unit. Byte strings held as latin1 strings compare exactly as etcd compares keys (bytewise).
 */
import * as sortedBtree from "sorted-btree";

/** The part of sorted-btree's API we use. */
interface BTreeType<K, V> {
  readonly size: number;
  get(key: K): V | undefined;
  set(key: K, value: V, overwrite?: boolean): boolean;
  delete(key: K): boolean;
  maxKey(): K | undefined;
  forRange(low: K, high: K, includeHigh: boolean, onFound: (k: K, v: V) => { break?: boolean } | void): number;
}
type BTreeCtor = new <K, V>(entries?: [K, V][], compare?: (a: K, b: K) => number, maxNodeSize?: number) => BTreeType<K, V>;
// The package is CommonJS with `exports.default`; reach it whichever way the loader wraps it.
const BTreeImpl: BTreeCtor = ((sortedBtree as unknown as { default: { default?: BTreeCtor } }).default.default ??
  (sortedBtree as unknown as { default: BTreeCtor }).default) as BTreeCtor;

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class OrderedMap<V> {
  readonly #tree: BTreeType<string, V> = new BTreeImpl<string, V>(undefined, compareStrings, 64);

  get size(): number {
    return this.#tree.size;
  }
  get(key: string): V | undefined {
    return this.#tree.get(key);
  }
  set(key: string, value: V): void {
    this.#tree.set(key, value, true);
  }
  delete(key: string): boolean {
    return this.#tree.delete(key);
  }
  /**
   * Visits entries with `low <= key < high` in order (`high === null`: no upper bound). Return true from
   * `visit` to stop early.
   */
  forRange(low: string, high: string | null, visit: (key: string, value: V) => boolean | void): void {
    if (high !== null && high <= low) return;
    const stop = { break: true } as const;
    if (high === null) {
      this.#tree.forRange(low, this.#tree.maxKey() ?? low, true, (k, v) => (visit(k, v) === true ? stop : undefined));
    } else {
      this.#tree.forRange(low, high, false, (k, v) => (visit(k, v) === true ? stop : undefined));
    }
  }
}
