/**
 * Remembers the slices this controller wrote until its informer shows them (upstream's
 * endpointSliceTracker): a sync that reads a cache older than its own writes would create a second
 * slice for the same endpoints, so it waits (requeues) until the cache caught up. Per service: slice
 * name → the resourceVersion written, or "deleted".
 */
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";

type Expected = { readonly kind: "written"; readonly resourceVersion: number } | { readonly kind: "deleted" };

export class EndpointSliceTracker {
  readonly #byService = new Map<string, Map<string, Expected>>();

  written(serviceKey: string, slice: EndpointSlice): void {
    this.#for(serviceKey).set(slice.metadata!.name!, { kind: "written", resourceVersion: Number(slice.metadata?.resourceVersion ?? 0) });
  }

  deleted(serviceKey: string, name: string): void {
    this.#for(serviceKey).set(name, { kind: "deleted" });
  }

  /**
   * True while `cached` (the service's slices in the informer) is older than what was written; entries
   * the cache has caught up with are forgotten. resourceVersions are compared as numbers: ours are
   * datastore revisions (clients elsewhere must treat them as opaque).
   */
  stale(serviceKey: string, cached: readonly EndpointSlice[]): boolean {
    const expected = this.#byService.get(serviceKey);
    if (expected === undefined) return false;
    const byName = new Map(cached.map((s) => [s.metadata?.name ?? "", s]));
    let stale = false;
    for (const [name, e] of expected) {
      const seen = byName.get(name);
      const caughtUp = e.kind === "deleted" ? seen === undefined : seen !== undefined && Number(seen.metadata?.resourceVersion ?? 0) >= e.resourceVersion;
      if (caughtUp) expected.delete(name);
      else stale = true;
    }
    if (expected.size === 0) this.#byService.delete(serviceKey);
    return stale;
  }

  /** Forgets a deleted service. */
  deleteService(serviceKey: string): void {
    this.#byService.delete(serviceKey);
  }

  #for(serviceKey: string): Map<string, Expected> {
    let m = this.#byService.get(serviceKey);
    if (m === undefined) this.#byService.set(serviceKey, (m = new Map()));
    return m;
  }
}
