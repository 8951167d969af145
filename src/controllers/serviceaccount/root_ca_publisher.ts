/**
 * The root CA publisher (upstream's pkg/controller/certificates/rootcacertpublisher/publisher.go): a
 * ConfigMap `kube-root-ca.crt` in every namespace, holding the cluster CA under `ca.crt` and the
 * upstream description annotation; recreated when deleted, rewritten when edited. Pods read it through
 * the kube-api-access projected volume to trust the API server.
 */
import type { ConfigMap, Namespace } from "kubernetes-types/core/v1.js";
import { Lister } from "../../client/lister.js";
import { metaNamespaceKey, objectOfDelete } from "../../client/store.js";
import { QueueController, type ControllerContext } from "../controller.js";
import { namespaceGoneOrTerminating } from "./serviceaccounts_controller.js";

export const ROOT_CA_CONFIG_MAP_NAME = "kube-root-ca.crt";
export const DESCRIPTION_ANNOTATION = "kubernetes.io/description";
export const DESCRIPTION =
  "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

export type RootCaAction = { readonly kind: "none" } | { readonly kind: "create"; readonly configMap: ConfigMap } | { readonly kind: "update"; readonly configMap: ConfigMap };

function sameData(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>>): boolean {
  const ak = Object.keys(a ?? {});
  return ak.length === Object.keys(b).length && ak.every((k) => a![k] === b[k]);
}

/** What to do in `namespace` given its current ConfigMap (undefined when absent). */
export function rootCaAction(namespace: string, current: ConfigMap | undefined, caPem: string): RootCaAction {
  const data = { "ca.crt": caPem };
  if (current === undefined) {
    return {
      kind: "create",
      configMap: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: ROOT_CA_CONFIG_MAP_NAME, namespace, annotations: { [DESCRIPTION_ANNOTATION]: DESCRIPTION } }, data },
    };
  }
  if (sameData(current.data, data) && (current.metadata?.annotations?.[DESCRIPTION_ANNOTATION] ?? "") !== "") return { kind: "none" };
  const copy = structuredClone(current);
  copy.data = data;
  copy.metadata = { ...copy.metadata, annotations: { ...copy.metadata?.annotations, [DESCRIPTION_ANNOTATION]: DESCRIPTION } };
  return { kind: "update", configMap: copy };
}

export class RootCaCertPublisher extends QueueController {
  readonly #caPem: string;
  #configMaps!: Lister<ConfigMap>;
  #namespaces!: Lister<Namespace>;

  constructor(ctx: ControllerContext, caPem: string) {
    super(ctx, "root-ca-cert-publisher");
    this.#caPem = caPem;
  }

  init(): void {
    const cmInformer = this.ctx.informers.configMaps();
    const nsInformer = this.ctx.informers.namespaces();
    this.#configMaps = new Lister(cmInformer.indexer);
    this.#namespaces = new Lister(nsInformer.indexer);
    const onConfigMap = (cm: ConfigMap) => {
      if (cm.metadata?.name !== ROOT_CA_CONFIG_MAP_NAME || cm.metadata.namespace === undefined) return;
      this.queue.add(cm.metadata.namespace);
    };
    cmInformer.addEventHandler({
      onUpdate: (_old, cm) => onConfigMap(cm),
      onDelete: (obj) => onConfigMap(objectOfDelete(obj)),
    });
    nsInformer.addEventHandler({
      onAdd: (ns) => this.queue.add(metaNamespaceKey(ns)),
      onUpdate: (_old, ns) => {
        if (ns.status?.phase !== "Active") return;
        this.queue.add(metaNamespaceKey(ns));
      },
    });
  }

  protected async sync(ns: string): Promise<void> {
    if (this.#namespaces.get("", ns) === undefined) return;
    const action = rootCaAction(ns, this.#configMaps.get(ns, ROOT_CA_CONFIG_MAP_NAME), this.#caPem);
    const client = this.ctx.client.resource<ConfigMap>("", "v1", "configmaps").namespace(ns);
    if (action.kind === "none") return;
    if (action.kind === "create") {
      try {
        await client.create(action.configMap);
      } catch (err) {
        // Don't retry a create if the namespace doesn't exist or is terminating.
        if (namespaceGoneOrTerminating(err)) return;
        throw err;
      }
      return;
    }
    await client.update(action.configMap);
  }
}
