/**
 * ControllerRefs (pkg/controller/controller_ref_manager.go): an object has at most one ownerReference
 * with `controller: true`, and only that controller manages it. A controller claims the objects its
 * selector matches: it keeps those it owns and still matches, adopts matching orphans (patching its
 * controllerRef in), and releases owned objects that no longer match (patching it out). It never
 * adopts while it is being deleted, and it re-reads itself from the API once before the first
 * adoption so a stale cache cannot make a deleted controller adopt (RecheckDeletionTimestamp).
 */
import type { ObjectMeta, OwnerReference } from "kubernetes-types/meta/v1.js";
import { ApiError } from "../../api/status.js";
import type { Selector } from "../../client/label_selector.js";
import type { KubeObject, ResourceClient } from "../../client/rest_client.js";

/** The group/version/kind of an owner, e.g. { group: "apps", version: "v1", kind: "ReplicaSet" }. */
export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export function apiVersionOf(gvk: GroupVersionKind): string {
  return gvk.group === "" ? gvk.version : `${gvk.group}/${gvk.version}`;
}

export const REPLICA_SET_KIND: GroupVersionKind = { group: "apps", version: "v1", kind: "ReplicaSet" };
export const REPLICATION_CONTROLLER_KIND: GroupVersionKind = { group: "", version: "v1", kind: "ReplicationController" };
export const DEPLOYMENT_KIND: GroupVersionKind = { group: "apps", version: "v1", kind: "Deployment" };

/** The ownerReference with controller=true, if any (metav1.GetControllerOf). */
export function getControllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

/** A controller ownerReference to `owner` (metav1.NewControllerRef): controller and blockOwnerDeletion true. */
export function newControllerRef(owner: KubeObject, gvk: GroupVersionKind): OwnerReference {
  return {
    apiVersion: apiVersionOf(gvk),
    kind: gvk.kind,
    name: owner.metadata?.name ?? "",
    uid: owner.metadata?.uid ?? "",
    blockOwnerDeletion: true,
    controller: true,
  };
}

function isDeleting(meta: ObjectMeta | undefined): boolean {
  return (meta?.deletionTimestamp ?? undefined) !== undefined;
}

/**
 * A function that re-reads the controller from the API and throws if it is gone or being deleted
 * (controller.RecheckDeletionTimestamp); `getFresh` is an uncached GET.
 */
export function recheckDeletionTimestamp(controller: KubeObject, gvk: GroupVersionKind, getFresh: () => Promise<KubeObject>): () => Promise<void> {
  return async () => {
    const fresh = await getFresh();
    const m = controller.metadata ?? {};
    const fm = fresh.metadata ?? {};
    if (fm.uid !== m.uid) throw new Error(`original ${gvk.kind} ${m.namespace}/${m.name} is gone: got uid ${fm.uid}, wanted ${m.uid}`);
    if (isDeleting(fm)) throw new Error(`${gvk.kind} ${m.namespace}/${m.name} has just been deleted at ${fm.deletionTimestamp}`);
  };
}

export interface ControllerRefManagerOptions<T extends KubeObject> {
  /** The owner as the cache has it. */
  readonly controller: KubeObject;
  readonly controllerKind: GroupVersionKind;
  readonly selector: Selector;
  /** The owned resource's client, scoped to the controller's namespace: adoption and release patch through it. */
  readonly client: ResourceClient<T>;
  /** Throws if adoption must not happen (see recheckDeletionTimestamp); run at most once per manager. */
  readonly canAdopt: () => Promise<void>;
}

/** Claims objects for one controller during one sync (a new manager per sync, as upstream). */
export class ControllerRefManager<T extends KubeObject> {
  readonly #o: ControllerRefManagerOptions<T>;
  #canAdopt: Promise<void> | null = null;

  constructor(options: ControllerRefManagerOptions<T>) {
    this.#o = options;
  }

  /**
   * The objects this controller owns after claiming: owned and matching, plus adopted orphans.
   * Errors of adoption/release other than NotFound are collected and thrown after the pass, so one
   * bad object does not hide the rest (upstream aggregates them).
   */
  async claim(objects: readonly T[], filters: readonly ((obj: T) => boolean)[] = []): Promise<T[]> {
    const claimed: T[] = [];
    const errors: unknown[] = [];
    const match = (obj: T): boolean => this.#o.selector.matches(obj.metadata?.labels) && filters.every((f) => f(obj));
    for (const obj of objects) {
      try {
        if (await this.#claimObject(obj, match)) claimed.push(obj);
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `[${errors.map((e) => (e instanceof Error ? e.message : String(e))).join(", ")}]`);
    return claimed;
  }

  async #claimObject(obj: T, match: (obj: T) => boolean): Promise<boolean> {
    const ctrl = this.#o.controller;
    const ref = getControllerOf(obj);
    if (ref !== undefined) {
      if (ref.uid !== ctrl.metadata?.uid) return false; // someone else's
      if (match(obj)) return true;
      // Owned but no longer matching: release, unless we are being deleted (the GC will orphan or delete).
      if (isDeleting(ctrl.metadata)) return false;
      await this.#ignoreGone(() => this.#release(obj));
      return false;
    }
    // An orphan.
    if (isDeleting(ctrl.metadata) || !match(obj)) return false;
    if (isDeleting(obj.metadata)) return false;
    const ns = ctrl.metadata?.namespace ?? "";
    if (ns !== "" && obj.metadata?.namespace !== ns) return false;
    return this.#ignoreGone(async () => {
      await this.#adopt(obj);
      return true;
    });
  }

  async #ignoreGone(fn: () => Promise<boolean | void>): Promise<boolean> {
    try {
      return (await fn()) === true;
    } catch (err) {
      if (err instanceof ApiError && err.reason === "NotFound") return false;
      // Invalid: the object's uid changed under us (it was deleted and re-created); nothing to release.
      if (err instanceof ApiError && err.reason === "Invalid") return false;
      throw err;
    }
  }

  async #adopt(obj: T): Promise<void> {
    this.#canAdopt ??= this.#o.canAdopt();
    try {
      await this.#canAdopt;
    } catch (err) {
      const m = obj.metadata ?? {};
      throw new Error(`can't adopt ${this.#kindOf(obj)} ${m.namespace}/${m.name} (${m.uid}): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const ref = newControllerRef(this.#o.controller, this.#o.controllerKind);
    await this.#o.client.patch(obj.metadata!.name!, "strategic", { metadata: { ownerReferences: [ref], uid: obj.metadata?.uid } });
  }

  async #release(obj: T): Promise<void> {
    const uid = this.#o.controller.metadata?.uid;
    await this.#o.client.patch(obj.metadata!.name!, "strategic", { metadata: { ownerReferences: [{ $patch: "delete", uid }], uid: obj.metadata?.uid } });
  }

  #kindOf(obj: T): string {
    return obj.kind ?? this.#o.client.info.kind;
  }
}
