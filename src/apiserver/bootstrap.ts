/**
 * What a new cluster has before anyone asks (upstream's bootstrap controller and system namespaces):
 * the namespaces default, kube-system, kube-public and kube-node-lease, a `default` ServiceAccount in
 * each, and the `kubernetes` Service with its Endpoints and EndpointSlice pointing at this API server.
 * Idempotent: every start ensures the objects exist and the endpoints are current.
 */
import { ApiError } from "../api/status.js";
import type { KubeObject } from "./registry/codec.js";
import type { ResourceStore, WriteContext } from "./registry/store.js";

export const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"] as const;
/** The first address of the default --service-cluster-ip-range (10.96.0.0/12): the `kubernetes` Service's. */
export const KUBERNETES_SERVICE_IP = "10.96.0.1";

export interface BootstrapStores {
  store(group: string, version: string, resource: string): ResourceStore;
}

async function ensure(store: ResourceStore, namespace: string, obj: KubeObject, ctx: WriteContext): Promise<void> {
  // Look first: on a restart everything exists, and a create can fail for other reasons than the
  // name (the kubernetes Service's address is taken — by itself).
  try {
    await store.get(namespace, String(obj.metadata.name));
    return;
  } catch (err) {
    if (!(err instanceof ApiError) || err.code !== 404) throw err;
  }
  try {
    await store.create(namespace, obj, ctx);
  } catch (err) {
    if (err instanceof ApiError && err.reason === "AlreadyExists") return;
    throw err;
  }
}

/** Puts `obj` in place of what is stored (create, or replace spec/subsets), without touching identity. */
async function ensureCurrent(store: ResourceStore, namespace: string, obj: KubeObject, ctx: WriteContext): Promise<void> {
  try {
    await store.create(namespace, obj, ctx);
  } catch (err) {
    if (!(err instanceof ApiError) || err.reason !== "AlreadyExists") throw err;
    await store.guaranteedUpdate(namespace, obj.metadata.name, ctx, "", async (cur) => {
      const { metadata: _m, ...rest } = obj;
      return { ...cur, ...rest, metadata: { ...cur.metadata, labels: obj.metadata.labels ?? cur.metadata.labels } };
    });
  }
}

export async function bootstrapCluster(stores: BootstrapStores, options: { advertiseAddress: string; securePort: number; caPem?: string }): Promise<void> {
  const ctx: WriteContext = { dryRun: false, now: new Date(), manager: "kube-apiserver", warnings: [] };
  const namespaces = stores.store("", "v1", "namespaces");
  const serviceAccounts = stores.store("", "v1", "serviceaccounts");
  for (const ns of SYSTEM_NAMESPACES) {
    await ensure(namespaces, "", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels: { "kubernetes.io/metadata.name": ns } } }, ctx);
    await ensure(serviceAccounts, ns, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: ns } }, ctx);
    // What the root-ca-cert-publisher controller keeps in every namespace: pods read the CA from it.
    if (options.caPem !== undefined) {
      await ensureCurrent(stores.store("", "v1", "configmaps"), ns, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "kube-root-ca.crt", namespace: ns }, data: { "ca.crt": options.caPem } }, ctx);
    }
  }
  await ensure(
    stores.store("", "v1", "services"),
    "default",
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "kubernetes", namespace: "default", labels: { component: "apiserver", provider: "kubernetes" } },
      spec: {
        type: "ClusterIP",
        clusterIP: KUBERNETES_SERVICE_IP,
        clusterIPs: [KUBERNETES_SERVICE_IP],
        ipFamilies: ["IPv4"],
        ipFamilyPolicy: "SingleStack",
        ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: options.securePort }],
        sessionAffinity: "None",
        internalTrafficPolicy: "Cluster",
      },
    },
    ctx,
  );
  await ensureCurrent(
    stores.store("", "v1", "endpoints"),
    "default",
    {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name: "kubernetes", namespace: "default", labels: { "endpointslice.kubernetes.io/skip-mirror": "true" } },
      subsets: [{ addresses: [{ ip: options.advertiseAddress }], ports: [{ name: "https", port: options.securePort, protocol: "TCP" }] }],
    },
    ctx,
  );
  await ensureCurrent(
    stores.store("discovery.k8s.io", "v1", "endpointslices"),
    "default",
    {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: "kubernetes", namespace: "default", labels: { "kubernetes.io/service-name": "kubernetes" } },
      addressType: "IPv4",
      endpoints: [{ addresses: [options.advertiseAddress], conditions: { ready: true } }],
      ports: [{ name: "https", port: options.securePort, protocol: "TCP" }],
    },
    ctx,
  );
}
