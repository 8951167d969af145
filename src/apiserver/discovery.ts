/**
 * Discovery documents, as kube-apiserver serves them: the legacy per-level documents (`/api`,
 * `/apis`, `/apis/<group>`, `/api/v1`, `/apis/<group>/<version>`) and aggregated discovery
 * (`apidiscovery.k8s.io/v2` APIGroupDiscoveryList on `/api` and `/apis`), which kubectl 1.32 asks
 * for first so one request tells it every resource.
 */
import { createHash } from "node:crypto";
import { BUILTIN_RESOURCES, groupVersionString, servedGroupVersions, type ResourceInfo } from "../api/resources.js";

export const AGGREGATED_DISCOVERY_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
export const AGGREGATED_DISCOVERY_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

/** upstream's storageVersionHash: 8 bytes of sha256 over the storage group/version/kind, base64. */
function storageVersionHash(r: ResourceInfo): string {
  return createHash("sha256").update(`${r.group}/${r.version}/${r.kind}`).digest().subarray(0, 8).toString("base64");
}

function groupsOf(): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const gv of servedGroupVersions()) {
    const list = groups.get(gv.group) ?? [];
    list.push(gv.version);
    groups.set(gv.group, list);
  }
  return groups;
}

export function apiVersions(serverAddress: string): object {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

function apiGroup(name: string, versions: string[]): object {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

export function apiGroupList(): object {
  const groups = [...groupsOf()].filter(([g]) => g !== "").map(([g, vs]) => apiGroup(g, vs));
  return { kind: "APIGroupList", apiVersion: "v1", groups };
}

/** `/apis/<group>`, or null when the group is not served. */
export function apiGroupDocument(group: string): object | null {
  const versions = groupsOf().get(group);
  if (versions === undefined || group === "") return null;
  return { kind: "APIGroup", apiVersion: "v1", ...apiGroup(group, versions) };
}

/** `/api/v1` or `/apis/<group>/<version>`, or null when not served. */
export function apiResourceList(group: string, version: string): object | null {
  const rs = BUILTIN_RESOURCES.filter((r) => r.group === group && r.version === version);
  if (rs.length === 0) return null;
  const resources: object[] = [];
  for (const r of rs) {
    resources.push({
      name: r.resource,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}),
      ...(r.categories.length > 0 ? { categories: r.categories } : {}),
      storageVersionHash: storageVersionHash(r),
    });
    for (const s of r.subresources) {
      resources.push({
        name: `${r.resource}/${s.name}`,
        singularName: "",
        namespaced: r.namespaced,
        ...(s.kind !== undefined ? { group: s.kind.group, version: s.kind.version, kind: s.kind.kind } : { kind: r.kind }),
        verbs: s.verbs,
      });
    }
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: groupVersionString(group, version), resources };
}

function discoveryResource(r: ResourceInfo): object {
  return {
    resource: r.resource,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? "Namespaced" : "Cluster",
    singularResource: r.singular,
    verbs: r.verbs,
    ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}),
    ...(r.categories.length > 0 ? { categories: r.categories } : {}),
    ...(r.subresources.length > 0
      ? {
          subresources: r.subresources.map((s) => ({
            subresource: s.name,
            responseKind: s.kind ?? { group: r.group, version: r.version, kind: r.kind },
            verbs: s.verbs,
          })),
        }
      : {}),
  };
}

/** The aggregated document for `/api` (core only) or `/apis` (every named group). */
export function aggregatedDiscovery(legacy: boolean, apiVersion: "apidiscovery.k8s.io/v2" | "apidiscovery.k8s.io/v2beta1"): object {
  const items: object[] = [];
  for (const [group, versions] of groupsOf()) {
    if ((group === "") !== legacy) continue;
    items.push({
      metadata: { name: group, creationTimestamp: null },
      versions: versions.map((v) => ({
        version: v,
        resources: BUILTIN_RESOURCES.filter((r) => r.group === group && r.version === v).map(discoveryResource),
        freshness: "Current",
      })),
    });
  }
  return { kind: "APIGroupDiscoveryList", apiVersion, metadata: {}, items };
}
