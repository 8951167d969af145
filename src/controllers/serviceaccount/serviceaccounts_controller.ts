/**
 * The ServiceAccount controller (upstream's pkg/controller/serviceaccount/serviceaccounts_controller.go):
 * every active namespace has the ServiceAccounts in `serviceAccountsToEnsure` (`default`), recreated
 * when deleted. Keys are namespace names: a namespace added or changed, or one of its ServiceAccounts
 * deleted, queues the namespace.
 */
import type { Namespace, ServiceAccount } from "kubernetes-types/core/v1.js";
import type { ApiError } from "../../api/status.js";
import { Lister } from "../../client/lister.js";
import { metaNamespaceKey, objectOfDelete } from "../../client/store.js";
import { QueueController, type ControllerContext } from "../controller.js";

/** Upstream's DefaultServiceAccountsControllerOptions: one account, `default`. */
export const DEFAULT_SERVICE_ACCOUNTS: readonly string[] = ["default"];

/** Names among `wanted` that `namespace` lacks; none while the namespace is not Active (being deleted). */
export function missingServiceAccounts(namespace: Namespace | undefined, existing: (name: string) => boolean, wanted: readonly string[] = DEFAULT_SERVICE_ACCOUNTS): string[] {
  if (namespace === undefined) return [];
  // Don't create SAs in namespaces being deleted: admission would refuse them anyway.
  if (namespace.status?.phase !== "Active") return [];
  return wanted.filter((name) => !existing(name));
}

/** True for the errors a create in a vanished or terminating namespace gets: nothing to retry. */
export function namespaceGoneOrTerminating(err: unknown): boolean {
  const e = err as ApiError | undefined;
  if (e?.reason === "NotFound") return true;
  return e?.reason === "Forbidden" && (e.details?.causes ?? []).some((c) => c.reason === "NamespaceTerminating");
}

export class ServiceAccountsController extends QueueController {
  readonly #wanted: readonly string[];
  #namespaces!: Lister<Namespace>;
  #serviceAccounts!: Lister<ServiceAccount>;

  constructor(ctx: ControllerContext, options: { serviceAccounts?: readonly string[] } = {}) {
    super(ctx, "serviceaccount");
    this.#wanted = options.serviceAccounts ?? DEFAULT_SERVICE_ACCOUNTS;
  }

  init(): void {
    const nsInformer = this.ctx.informers.namespaces();
    const saInformer = this.ctx.informers.serviceAccounts();
    this.#namespaces = new Lister(nsInformer.indexer);
    this.#serviceAccounts = new Lister(saInformer.indexer);
    nsInformer.addEventHandler({
      onAdd: (ns) => this.queue.add(metaNamespaceKey(ns)),
      onUpdate: (_old, ns) => this.queue.add(metaNamespaceKey(ns)),
    });
    saInformer.addEventHandler({
      onDelete: (obj) => {
        const sa = objectOfDelete(obj);
        if (!this.#wanted.includes(sa.metadata?.name ?? "")) return;
        const ns = sa.metadata?.namespace;
        if (ns !== undefined) this.queue.add(ns);
      },
    });
  }

  protected async sync(key: string): Promise<void> {
    const ns = this.#namespaces.get("", key);
    const missing = missingServiceAccounts(ns, (name) => this.#serviceAccounts.get(key, name) !== undefined, this.#wanted);
    const accounts = this.ctx.client.resource<ServiceAccount>("", "v1", "serviceaccounts").namespace(key);
    for (const name of missing) {
      try {
        await accounts.create({ metadata: { name, namespace: key } });
        this.ctx.env.log.info("created service account", { serviceAccount: `${key}/${name}` });
      } catch (err) {
        if ((err as ApiError).reason === "AlreadyExists") continue;
        if (namespaceGoneOrTerminating(err)) return;
        throw err;
      }
    }
  }
}
