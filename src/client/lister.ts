/**
 * Listers read an informer's cache (client-go's generated listers): never the API server. Objects are
 * shared with the cache and every other reader: copy before modifying.
 */
import type { Indexer } from "./indexer.js";
import { NAMESPACE_INDEX } from "./indexer.js";
import { everything, parseSelector, Selector } from "./label_selector.js";
import type { KubeObject } from "./rest_client.js";

function asSelector(s: Selector | string | undefined): Selector {
  if (s === undefined) return everything();
  return typeof s === "string" ? parseSelector(s) : s;
}

export class Lister<T extends KubeObject> {
  constructor(readonly indexer: Indexer<T>) {}

  /** Every cached object whose labels match (all of them without a selector). */
  list(selector?: Selector | string): T[] {
    const sel = asSelector(selector);
    const all = this.indexer.list();
    return sel.empty() ? all : all.filter((o) => sel.matches(o.metadata?.labels));
  }

  /** One object: `get("default", "web")`, or `get("", "node-1")` for cluster-scoped resources. */
  get(namespace: string, name: string): T | undefined {
    return this.indexer.getByKey(namespace === "" ? name : `${namespace}/${name}`);
  }

  /** The objects of one namespace. */
  namespace(namespace: string): NamespaceLister<T> {
    return new NamespaceLister<T>(this.indexer, namespace);
  }

  /** Objects by a custom index: `byIndex("nodeName", "node-1")`. */
  byIndex(indexName: string, value: string): T[] {
    return this.indexer.byIndex(indexName, value);
  }
}

export class NamespaceLister<T extends KubeObject> {
  constructor(
    readonly indexer: Indexer<T>,
    readonly namespaceName: string,
  ) {}

  list(selector?: Selector | string): T[] {
    const sel = asSelector(selector);
    const items = this.indexer.byIndex(NAMESPACE_INDEX, this.namespaceName);
    return sel.empty() ? items : items.filter((o) => sel.matches(o.metadata?.labels));
  }

  get(name: string): T | undefined {
    return this.indexer.getByKey(`${this.namespaceName}/${name}`);
  }
}
