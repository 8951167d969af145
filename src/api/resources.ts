/**
 * The built-in resources the API server serves: for each, what discovery says about it (as
 * `kubectl api-resources` prints upstream), where it lives in the datastore (upstream's etcd key
 * prefixes, so an etcd written by tk8s reads like one written by kube-apiserver), and its OpenAPI
 * definition name. Every component keys on these entries; nothing else lists resources.
 */

export type Verb = "create" | "delete" | "deletecollection" | "get" | "list" | "patch" | "update" | "watch";

/** A subresource (`pods/status`) and the verbs it takes. */
export interface SubresourceInfo {
  readonly name: string;
  readonly verbs: readonly Verb[];
  /** The kind its body has, when not the parent's (scale → autoscaling/v1 Scale). */
  readonly kind?: { readonly group: string; readonly version: string; readonly kind: string };
}

export interface ResourceInfo {
  readonly group: string;
  readonly version: string;
  /** Plural, lower case: the URL segment. */
  readonly resource: string;
  readonly singular: string;
  readonly kind: string;
  readonly listKind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly verbs: readonly Verb[];
  readonly subresources: readonly SubresourceInfo[];
  /** The datastore key prefix, without the trailing slash: `/registry/pods`. */
  readonly storagePrefix: string;
  /** OpenAPI definition name: `io.k8s.api.core.v1.Pod`. */
  readonly definition: string;
}

const ALL_VERBS: readonly Verb[] = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
const STATUS: SubresourceInfo = { name: "status", verbs: ["get", "patch", "update"] };
const SCALE: SubresourceInfo = {
  name: "scale",
  verbs: ["get", "patch", "update"],
  kind: { group: "autoscaling", version: "v1", kind: "Scale" },
};

/** The Go package path OpenAPI names definitions after, per API group. */
function definitionPackage(group: string, version: string): string {
  if (group === "") return `io.k8s.api.core.${version}`;
  const short = group.replace(/\.k8s\.io$/, "").replace(/\.authorization$/, "");
  return `io.k8s.api.${short}.${version}`;
}

interface Entry {
  resource: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs?: readonly Verb[];
  subresources?: SubresourceInfo[];
  /** Overrides `/registry/<resource>`. */
  storage?: string;
  singular?: string;
}

function define(group: string, version: string, entries: Entry[]): ResourceInfo[] {
  return entries.map((e) => ({
    group,
    version,
    resource: e.resource,
    singular: e.singular ?? e.kind.toLowerCase(),
    kind: e.kind,
    listKind: `${e.kind}List`,
    namespaced: e.namespaced,
    shortNames: e.shortNames ?? [],
    categories: e.categories ?? [],
    verbs: e.verbs ?? ALL_VERBS,
    subresources: e.subresources ?? [],
    storagePrefix: e.storage ?? `/registry/${e.resource}`,
    definition: `${definitionPackage(group, version)}.${e.kind}`,
  }));
}

/** Every built-in resource, in the order discovery lists them. */
export const BUILTIN_RESOURCES: readonly ResourceInfo[] = [
  ...define("", "v1", [
    { resource: "bindings", kind: "Binding", namespaced: true, verbs: ["create"], storage: "/registry/bindings" },
    { resource: "configmaps", kind: "ConfigMap", namespaced: true, shortNames: ["cm"] },
    { resource: "endpoints", kind: "Endpoints", namespaced: true, shortNames: ["ep"], storage: "/registry/services/endpoints", singular: "endpoints" },
    { resource: "events", kind: "Event", namespaced: true, shortNames: ["ev"] },
    { resource: "limitranges", kind: "LimitRange", namespaced: true, shortNames: ["limits"] },
    {
      resource: "namespaces",
      kind: "Namespace",
      namespaced: false,
      shortNames: ["ns"],
      verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
      subresources: [STATUS, { name: "finalize", verbs: ["update"] }],
    },
    { resource: "nodes", kind: "Node", namespaced: false, shortNames: ["no"], subresources: [STATUS], storage: "/registry/minions" },
    {
      resource: "persistentvolumeclaims",
      kind: "PersistentVolumeClaim",
      namespaced: true,
      shortNames: ["pvc"],
      subresources: [STATUS],
    },
    { resource: "persistentvolumes", kind: "PersistentVolume", namespaced: false, shortNames: ["pv"], subresources: [STATUS] },
    {
      resource: "pods",
      kind: "Pod",
      namespaced: true,
      shortNames: ["po"],
      categories: ["all"],
      subresources: [
        STATUS,
        { name: "binding", verbs: ["create"], kind: { group: "", version: "v1", kind: "Binding" } },
        { name: "eviction", verbs: ["create"], kind: { group: "policy", version: "v1", kind: "Eviction" } },
        // Served by the pod's kubelet: the API server authenticates, authorizes and proxies the stream.
        { name: "log", verbs: ["get"] },
        { name: "exec", verbs: ["create", "get"], kind: { group: "", version: "v1", kind: "PodExecOptions" } },
        { name: "attach", verbs: ["create", "get"], kind: { group: "", version: "v1", kind: "PodAttachOptions" } },
        { name: "portforward", verbs: ["create", "get"], kind: { group: "", version: "v1", kind: "PodPortForwardOptions" } },
      ],
    },
    { resource: "podtemplates", kind: "PodTemplate", namespaced: true },
    {
      resource: "replicationcontrollers",
      kind: "ReplicationController",
      namespaced: true,
      shortNames: ["rc"],
      categories: ["all"],
      subresources: [STATUS, SCALE],
      storage: "/registry/controllers",
    },
    { resource: "resourcequotas", kind: "ResourceQuota", namespaced: true, shortNames: ["quota"], subresources: [STATUS] },
    { resource: "secrets", kind: "Secret", namespaced: true },
    {
      resource: "serviceaccounts",
      kind: "ServiceAccount",
      namespaced: true,
      shortNames: ["sa"],
      subresources: [{ name: "token", verbs: ["create"], kind: { group: "authentication.k8s.io", version: "v1", kind: "TokenRequest" } }],
    },
    {
      resource: "services",
      kind: "Service",
      namespaced: true,
      shortNames: ["svc"],
      categories: ["all"],
      subresources: [STATUS],
      storage: "/registry/services/specs",
    },
  ]),
  ...define("apps", "v1", [
    { resource: "controllerrevisions", kind: "ControllerRevision", namespaced: true },
    { resource: "daemonsets", kind: "DaemonSet", namespaced: true, shortNames: ["ds"], categories: ["all"], subresources: [STATUS] },
    {
      resource: "deployments",
      kind: "Deployment",
      namespaced: true,
      shortNames: ["deploy"],
      categories: ["all"],
      subresources: [STATUS, SCALE],
    },
    { resource: "replicasets", kind: "ReplicaSet", namespaced: true, shortNames: ["rs"], categories: ["all"], subresources: [STATUS, SCALE] },
    { resource: "statefulsets", kind: "StatefulSet", namespaced: true, shortNames: ["sts"], categories: ["all"], subresources: [STATUS, SCALE] },
  ]),
  ...define("batch", "v1", [
    { resource: "cronjobs", kind: "CronJob", namespaced: true, shortNames: ["cj"], categories: ["all"], subresources: [STATUS] },
    { resource: "jobs", kind: "Job", namespaced: true, categories: ["all"], subresources: [STATUS] },
  ]),
  ...define("certificates.k8s.io", "v1", [
    {
      resource: "certificatesigningrequests",
      kind: "CertificateSigningRequest",
      namespaced: false,
      shortNames: ["csr"],
      subresources: [STATUS, { name: "approval", verbs: ["get", "patch", "update"] }],
    },
  ]),
  ...define("coordination.k8s.io", "v1", [{ resource: "leases", kind: "Lease", namespaced: true }]),
  ...define("discovery.k8s.io", "v1", [{ resource: "endpointslices", kind: "EndpointSlice", namespaced: true }]),
  // events.k8s.io/v1 Events are core/v1 Events in another shape: upstream stores both under one prefix.
  ...define("events.k8s.io", "v1", [{ resource: "events", kind: "Event", namespaced: true, shortNames: ["ev"] }]),
  ...define("policy", "v1", [
    { resource: "poddisruptionbudgets", kind: "PodDisruptionBudget", namespaced: true, shortNames: ["pdb"], subresources: [STATUS] },
  ]),
  ...define("scheduling.k8s.io", "v1", [{ resource: "priorityclasses", kind: "PriorityClass", namespaced: false, shortNames: ["pc"] }]),
  ...define("storage.k8s.io", "v1", [{ resource: "storageclasses", kind: "StorageClass", namespaced: false, shortNames: ["sc"] }]),
];

/** `apps/v1` or `v1` for the core group. */
export function groupVersionString(group: string, version: string): string {
  return group === "" ? version : `${group}/${version}`;
}

/** The resource of a group/version by its plural name, or undefined. */
export function findResource(group: string, version: string, resource: string): ResourceInfo | undefined {
  return BUILTIN_RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource);
}

/** The resource serving a kind in a group/version, or undefined. */
export function findResourceByKind(group: string, version: string, kind: string): ResourceInfo | undefined {
  return BUILTIN_RESOURCES.find((r) => r.group === group && r.version === version && r.kind === kind);
}

/** The group/versions served, each once, in discovery order (core first). */
export function servedGroupVersions(): { group: string; version: string }[] {
  const seen = new Set<string>();
  const out: { group: string; version: string }[] = [];
  for (const r of BUILTIN_RESOURCES) {
    const gv = groupVersionString(r.group, r.version);
    if (seen.has(gv)) continue;
    seen.add(gv);
    out.push({ group: r.group, version: r.version });
  }
  return out;
}
