/**
 * A binary min-heap keyed by string, with update and delete by key (upstream's `heap.Heap` behind
 * activeQ and backoffQ). `less(a, b)` true means a comes out first.
 */
export class KeyedHeap<T> {
  #items: { key: string; value: T }[] = [];
  #index = new Map<string, number>();

  constructor(readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.#items.length;
  }
  has(key: string): boolean {
    return this.#index.has(key);
  }
  get(key: string): T | undefined {
    const i = this.#index.get(key);
    return i === undefined ? undefined : this.#items[i]!.value;
  }
  /** Adds, or replaces and re-sorts the item with the same key. */
  addOrUpdate(key: string, value: T): void {
    const i = this.#index.get(key);
    if (i !== undefined) {
      this.#items[i]!.value = value;
      this.#fix(i);
      return;
    }
    this.#items.push({ key, value });
    this.#index.set(key, this.#items.length - 1);
    this.#up(this.#items.length - 1);
  }
  delete(key: string): T | undefined {
    const i = this.#index.get(key);
    if (i === undefined) return undefined;
    const value = this.#items[i]!.value;
    this.#removeAt(i);
    return value;
  }
  peek(): T | undefined {
    return this.#items[0]?.value;
  }
  pop(): T | undefined {
    if (this.#items.length === 0) return undefined;
    const value = this.#items[0]!.value;
    this.#removeAt(0);
    return value;
  }
  values(): T[] {
    return this.#items.map((e) => e.value);
  }

  #removeAt(i: number): void {
    const last = this.#items.length - 1;
    this.#index.delete(this.#items[i]!.key);
    if (i !== last) {
      this.#items[i] = this.#items[last]!;
      this.#index.set(this.#items[i]!.key, i);
      this.#items.pop();
      this.#fix(i);
    } else {
      this.#items.pop();
    }
  }
  #fix(i: number): void {
    if (!this.#down(i)) this.#up(i);
  }
  #swap(i: number, j: number): void {
    const a = this.#items[i]!;
    const b = this.#items[j]!;
    this.#items[i] = b;
    this.#items[j] = a;
    this.#index.set(b.key, i);
    this.#index.set(a.key, j);
  }
  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(this.#items[i]!.value, this.#items[parent]!.value)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }
  #down(i0: number): boolean {
    let i = i0;
    const n = this.#items.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      let j = l;
      const r = l + 1;
      if (r < n && this.less(this.#items[r]!.value, this.#items[l]!.value)) j = r;
      if (!this.less(this.#items[j]!.value, this.#items[i]!.value)) break;
      this.#swap(i, j);
      i = j;
    }
    return i > i0;
  }
}
