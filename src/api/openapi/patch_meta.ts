/**
 * Our table of the Kubernetes list/map extensions (strategic merge patch and server-side apply
 * metadata) for every type we serve. Upstream writes these as Go struct tags (`patchStrategy`,
 * `patchMergeKey`) and comment markers (`+listType`, `+listMapKey`, `+mapType`, `+structType`)
 * that openapi-gen turns into `x-kubernetes-*` extensions; kubernetes-types drops them, so the
 * generator puts them back from here. The facts follow k8s.io/api, k8s.io/apimachinery and
 * k8s.io/apiextensions-apiserver at v0.30 (the version of our kubernetes-types), embedded (inline)
 * structs already folded into the definition that embeds them (Volume carries VolumeSource's).
 *
 * A missing entry is a wrong merge: without a merge key a strategic merge patch replaces the
 * whole list (`kubectl apply` of one container would drop the others), and server-side apply
 * treats the list as atomic.
 */

import type { Definitions, Schema } from "./schema.js";

/** The list/map metadata of one field. */
export interface FieldPatchMeta {
  /** `x-kubernetes-patch-merge-key`: the item field that identifies an item in a strategic merge. */
  readonly mergeKey?: string;
  /** `x-kubernetes-patch-strategy`: "merge", "retainKeys", "merge,retainKeys" or "replace". */
  readonly strategy?: string;
  /** `x-kubernetes-list-type`. */
  readonly listType?: "atomic" | "set" | "map";
  /** `x-kubernetes-list-map-keys`: the keys of a `map` list, for server-side apply. */
  readonly listMapKeys?: readonly string[];
  /** `x-kubernetes-map-type` on a map or struct field. */
  readonly mapType?: "atomic" | "granular";
}

/** Field metadata by definition name, then JSON field name. */
export const FIELD_PATCH_META: Readonly<Record<string, Readonly<Record<string, FieldPatchMeta>>>> = {
  "io.k8s.api.apps.v1.DaemonSetStatus": {
    conditions: { mergeKey: "type", strategy: "merge", listType: "map", listMapKeys: ["type"] },
  },
  "io.k8s.api.apps.v1.DeploymentSpec": {
    strategy: { strategy: "retainKeys" },
  },
  "io.k8s.api.apps.v1.DeploymentStatus": {
    conditions: { mergeKey: "type", strategy: "merge", listType: "map", listMapKeys: ["type"] },
  },
  "io.k8s.api.apps.v1.ReplicaSetStatus": {
    conditions: { mergeKey: "type", strategy: "merge", listType: "map", listMapKeys: ["type"] },
  },
  "io.k8s.api.apps.v1.StatefulSetSpec": {
    volumeClaimTemplates: { listType: "atomic" },
  },
  "io.k8s.api.apps.v1.StatefulSetStatus": {
    conditions: { mergeKey: "type", strategy: "merge", listType: "map", listMapKeys: ["type"] },
  },
  "io.k8s.api.batch.v1.CronJobStatus": {
    active: { listType: "atomic" },
  },
  "io.k8s.api.batch.v1.JobStatus": {
    conditions: { mergeKey: "type", strategy: "merge", listType: "atomic" },
  },
  "io.k8s.api.batch.v1.PodFailurePolicy": {
    rules: { listType: "atomic" },
  },
  "io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement": {
    values: { listType: "set" },
  },
  "io.k8s.api.batch.v1.PodFailurePolicyRule": {
    onPodConditions: { listType: "atomic" },
  },
  "io.k8s.api.batch.v1.SuccessPolicy": {
    rules: { listType: "atomic" },
  },
  "io.k8s.api.batch.v1.UncountedTerminatedPods": {
    failed: { listType: "set" },
    succeeded: { listType: "set" },
  },
  "io.k8s.api.core.v1.Capabilities": {
    add: { listType: "atomic" },
    drop: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.CephFSPersistentVolumeSource": {
    monitors: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.CephFSVolumeSource": {
    monitors: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.ComponentStatus": {
    conditions: { mergeKey: "type", strategy: "merge", listType: "map", listMapKeys: ["type"] },
  },
  "io.k8s.api.core.v1.ConfigMapProjection": {
    items: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.ConfigMapVolumeSource": {
    items: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.Container": {
    args: { listType: "atomic" },
    command: { listType: "atomic" },
    env: { mergeKey: "name", strategy: "merge", listType: "map", listMapKeys: ["name"] },
    envFrom: { listType: "atomic" },
    ports: { mergeKey: "containerPort", strategy: "merge", listType: "map", listMapKeys: ["containerPort", "protocol"] },
    resizePolicy: { listType: "atomic" },
    volumeDevices: { mergeKey: "devicePath", strategy: "merge", listType: "map", listMapKeys: ["devicePath"] },
    volumeMounts: { mergeKey: "mountPath", strategy: "merge", listType: "map", listMapKeys: ["mountPath"] },
  },
  "io.k8s.api.core.v1.ContainerImage": {
    names: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.ContainerStatus": {
    volumeMounts: { mergeKey: "mountPath", strategy: "merge", listType: "map", listMapKeys: ["mountPath"] },
  },
  "io.k8s.api.core.v1.DownwardAPIProjection": {
    items: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.DownwardAPIVolumeSource": {
    items: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.EndpointSubset": {
    addresses: { listType: "atomic" },
    notReadyAddresses: { listType: "atomic" },
    ports: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.Endpoints": {
    subsets: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.ExecAction": {
    command: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.FCVolumeSource": {
    targetWWNs: { listType: "atomic" },
    wwids: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.HTTPGetAction": {
    httpHeaders: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.HostAlias": {
    hostnames: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.ISCSIPersistentVolumeSource": {
    portals: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.ISCSIVolumeSource": {
    portals: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.LimitRangeSpec": {
    limits: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.LoadBalancerIngress": {
    ports: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.LoadBalancerStatus": {
    ingress: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.NamespaceSpec": {
    finalizers: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.NamespaceStatus": {
    conditions: { mergeKey: "type", strategy: "merge", listType: "map", listMapKeys: ["type"] },
  },
  "io.k8s.api.core.v1.NodeAffinity": {
    preferredDuringSchedulingIgnoredDuringExecution: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.NodeSelector": {
    nodeSelectorTerms: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.NodeSelectorRequirement": {
    values: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.NodeSelectorTerm": {
    matchExpressions: { listType: "atomic" },
    matchFields: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.NodeSpec": {
    podCIDRs: { strategy: "merge", listType: "set" },
    taints: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.NodeStatus": {
    addresses: { mergeKey: "type", strategy: "merge", listType: "map", listMapKeys: ["type"] },
    conditions: { mergeKey: "type", strategy: "merge", listType: "map", listMapKeys: ["type"] },
    images: { listType: "atomic" },
    runtimeHandlers: { listType: "atomic" },
    volumesAttached: { listType: "atomic" },
    volumesInUse: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.PersistentVolumeClaimSpec": {
    accessModes: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.PersistentVolumeClaimStatus": {
    accessModes: { listType: "atomic" },
    allocatedResourceStatuses: { mapType: "granular" },
    conditions: { mergeKey: "type", strategy: "merge", listType: "map", listMapKeys: ["type"] },
  },
  "io.k8s.api.core.v1.PersistentVolumeSpec": {
    accessModes: { listType: "atomic" },
    claimRef: { mapType: "granular" },
    mountOptions: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.PodAffinity": {
    preferredDuringSchedulingIgnoredDuringExecution: { listType: "atomic" },
    requiredDuringSchedulingIgnoredDuringExecution: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.PodAffinityTerm": {
    matchLabelKeys: { listType: "atomic" },
    mismatchLabelKeys: { listType: "atomic" },
    namespaces: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.PodAntiAffinity": {
    preferredDuringSchedulingIgnoredDuringExecution: { listType: "atomic" },
    requiredDuringSchedulingIgnoredDuringExecution: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.PodDNSConfig": {
    nameservers: { listType: "atomic" },
    options: { listType: "atomic" },
    searches: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.PodSecurityContext": {
    supplementalGroups: { listType: "atomic" },
    sysctls: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.PodSpec": {
    containers: { mergeKey: "name", strategy: "merge", listType: "map", listMapKeys: ["name"] },
    ephemeralContainers: { mergeKey: "name", strategy: "merge", listType: "map", listMapKeys: ["name"] },
    hostAliases: { mergeKey: "ip", strategy: "merge", listType: "map", listMapKeys: ["ip"] },
    imagePullSecrets: { mergeKey: "name", strategy: "merge", listType: "map", listMapKeys: ["name"] },
    initContainers: { mergeKey: "name", strategy: "merge", listType: "map", listMapKeys: ["name"] },
    nodeSelector: { mapType: "atomic" },
    readinessGates: { listType: "atomic" },
    resourceClaims: { mergeKey: "name", strategy: "merge,retainKeys", listType: "map", listMapKeys: ["name"] },
    schedulingGates: { mergeKey: "name", strategy: "merge", listType: "map", listMapKeys: ["name"] },
    tolerations: { listType: "atomic" },
    topologySpreadConstraints: { mergeKey: "topologyKey", strategy: "merge", listType: "map", listMapKeys: ["topologyKey", "whenUnsatisfiable"] },
    volumes: { mergeKey: "name", strategy: "merge,retainKeys", listType: "map", listMapKeys: ["name"] },
  },
  "io.k8s.api.core.v1.PodStatus": {
    conditions: { mergeKey: "type", strategy: "merge", listType: "map", listMapKeys: ["type"] },
    containerStatuses: { listType: "atomic" },
    ephemeralContainerStatuses: { listType: "atomic" },
    hostIPs: { mergeKey: "ip", strategy: "merge", listType: "atomic" },
    initContainerStatuses: { listType: "atomic" },
    podIPs: { mergeKey: "ip", strategy: "merge", listType: "map", listMapKeys: ["ip"] },
    resourceClaimStatuses: { mergeKey: "name", strategy: "merge,retainKeys", listType: "map", listMapKeys: ["name"] },
  },
  "io.k8s.api.core.v1.ProjectedVolumeSource": {
    sources: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.RBDPersistentVolumeSource": {
    monitors: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.RBDVolumeSource": {
    monitors: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.ReplicationControllerSpec": {
    selector: { mapType: "atomic" },
  },
  "io.k8s.api.core.v1.ReplicationControllerStatus": {
    conditions: { mergeKey: "type", strategy: "merge", listType: "map", listMapKeys: ["type"] },
  },
  "io.k8s.api.core.v1.ResourceQuotaSpec": {
    scopes: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.ResourceRequirements": {
    claims: { listType: "map", listMapKeys: ["name"] },
  },
  "io.k8s.api.core.v1.ScopeSelector": {
    matchExpressions: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.ScopedResourceSelectorRequirement": {
    values: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.SecretProjection": {
    items: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.SecretVolumeSource": {
    items: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.ServiceAccount": {
    imagePullSecrets: { listType: "atomic" },
    secrets: { mergeKey: "name", strategy: "merge", listType: "map", listMapKeys: ["name"] },
  },
  "io.k8s.api.core.v1.ServiceSpec": {
    clusterIPs: { listType: "atomic" },
    externalIPs: { listType: "atomic" },
    ipFamilies: { listType: "atomic" },
    loadBalancerSourceRanges: { listType: "atomic" },
    ports: { mergeKey: "port", strategy: "merge", listType: "map", listMapKeys: ["port", "protocol"] },
    selector: { mapType: "atomic" },
  },
  "io.k8s.api.core.v1.ServiceStatus": {
    conditions: { mergeKey: "type", strategy: "merge", listType: "map", listMapKeys: ["type"] },
  },
  "io.k8s.api.core.v1.TopologySelectorLabelRequirement": {
    values: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.TopologySelectorTerm": {
    matchLabelExpressions: { listType: "atomic" },
  },
  "io.k8s.api.core.v1.TopologySpreadConstraint": {
    matchLabelKeys: { listType: "atomic" },
  },
  "io.k8s.api.discovery.v1.Endpoint": {
    addresses: { listType: "set" },
  },
  "io.k8s.api.discovery.v1.EndpointHints": {
    forZones: { listType: "atomic" },
  },
  "io.k8s.api.discovery.v1.EndpointSlice": {
    endpoints: { listType: "atomic" },
    ports: { listType: "atomic" },
  },
  "io.k8s.api.policy.v1.PodDisruptionBudgetSpec": {
    selector: { strategy: "replace" },
  },
  "io.k8s.api.policy.v1.PodDisruptionBudgetStatus": {
    conditions: { mergeKey: "type", strategy: "merge", listType: "map", listMapKeys: ["type"] },
  },
  "io.k8s.api.storage.v1.CSIDriverSpec": {
    tokenRequests: { listType: "atomic" },
    volumeLifecycleModes: { listType: "set" },
  },
  "io.k8s.api.storage.v1.CSINodeDriver": {
    topologyKeys: { listType: "atomic" },
  },
  "io.k8s.api.storage.v1.CSINodeSpec": {
    drivers: { mergeKey: "name", strategy: "merge", listType: "map", listMapKeys: ["name"] },
  },
  "io.k8s.api.storage.v1.StorageClass": {
    allowedTopologies: { listType: "atomic" },
    mountOptions: { listType: "atomic" },
  },
  "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionNames": {
    categories: { listType: "atomic" },
    shortNames: { listType: "atomic" },
  },
  "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionSpec": {
    versions: { listType: "atomic" },
  },
  "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionStatus": {
    conditions: { listType: "map", listMapKeys: ["type"] },
    storedVersions: { listType: "atomic" },
  },
  "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionVersion": {
    additionalPrinterColumns: { listType: "atomic" },
    selectableFields: { listType: "atomic" },
  },
  "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps": {
    allOf: { listType: "atomic" },
    anyOf: { listType: "atomic" },
    enum: { listType: "atomic" },
    oneOf: { listType: "atomic" },
    required: { listType: "atomic" },
    "x-kubernetes-list-map-keys": { listType: "atomic" },
    "x-kubernetes-validations": { mergeKey: "rule", strategy: "merge", listType: "map", listMapKeys: ["rule"] },
  },
  "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.WebhookConversion": {
    conversionReviewVersions: { listType: "atomic" },
  },
  "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup": {
    serverAddressByClientCIDRs: { listType: "atomic" },
    versions: { listType: "atomic" },
  },
  "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList": {
    groups: { listType: "atomic" },
  },
  "io.k8s.apimachinery.pkg.apis.meta.v1.APIResource": {
    categories: { listType: "atomic" },
    shortNames: { listType: "atomic" },
  },
  "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList": {
    resources: { listType: "atomic" },
  },
  "io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions": {
    serverAddressByClientCIDRs: { listType: "atomic" },
    versions: { listType: "atomic" },
  },
  "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions": {
    dryRun: { listType: "atomic" },
  },
  "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector": {
    matchExpressions: { listType: "atomic" },
  },
  "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement": {
    values: { listType: "atomic" },
  },
  "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {
    finalizers: { strategy: "merge", listType: "set" },
    managedFields: { listType: "atomic" },
    ownerReferences: { mergeKey: "uid", strategy: "merge", listType: "map", listMapKeys: ["uid"] },
  },
  "io.k8s.apimachinery.pkg.apis.meta.v1.Status": {
    details: { listType: "atomic" },
  },
  "io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails": {
    causes: { listType: "atomic" },
  },
  "io.k8s.apimachinery.pkg.apis.meta.v1.Table": {
    columnDefinitions: { listType: "atomic" },
    rows: { listType: "atomic" },
  },
  "io.k8s.apimachinery.pkg.apis.meta.v1.TableRow": {
    cells: { listType: "atomic" },
    conditions: { listType: "atomic" },
  },
};

/**
 * Definitions that are atomic as a whole (`+structType=atomic`): server-side apply replaces them
 * instead of merging field by field (a LabelSelector is one value, not a set of fields).
 */
export const TYPE_MAP_TYPE: Readonly<Record<string, "atomic" | "granular">> = {
  "io.k8s.api.autoscaling.v1.CrossVersionObjectReference": "atomic",
  "io.k8s.api.core.v1.ConfigMapKeySelector": "atomic",
  "io.k8s.api.core.v1.EndpointAddress": "atomic",
  "io.k8s.api.core.v1.EndpointPort": "atomic",
  "io.k8s.api.core.v1.LocalObjectReference": "atomic",
  "io.k8s.api.core.v1.NodeSelector": "atomic",
  "io.k8s.api.core.v1.NodeSelectorTerm": "atomic",
  "io.k8s.api.core.v1.ObjectFieldSelector": "atomic",
  "io.k8s.api.core.v1.ObjectReference": "atomic",
  "io.k8s.api.core.v1.ResourceFieldSelector": "atomic",
  "io.k8s.api.core.v1.ScopeSelector": "atomic",
  "io.k8s.api.core.v1.SecretKeySelector": "atomic",
  "io.k8s.api.core.v1.SecretReference": "atomic",
  "io.k8s.api.core.v1.TopologySelectorTerm": "atomic",
  "io.k8s.api.core.v1.TypedLocalObjectReference": "atomic",
  "io.k8s.api.discovery.v1.EndpointPort": "atomic",
  "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector": "atomic",
  "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference": "atomic",
};

/** The extensions `meta` sets on a field's schema, as upstream names them. */
export function patchMetaExtensions(meta: FieldPatchMeta): Schema {
  const out: Schema = {};
  if (meta.mergeKey !== undefined) out["x-kubernetes-patch-merge-key"] = meta.mergeKey;
  if (meta.strategy !== undefined) out["x-kubernetes-patch-strategy"] = meta.strategy;
  if (meta.listType !== undefined) out["x-kubernetes-list-type"] = meta.listType;
  if (meta.listMapKeys !== undefined) out["x-kubernetes-list-map-keys"] = [...meta.listMapKeys];
  if (meta.mapType !== undefined) out["x-kubernetes-map-type"] = meta.mapType;
  return out;
}

/**
 * Returns `defs` with the table applied: field extensions on the fields' schemas and
 * `x-kubernetes-map-type` on atomic definitions. A table entry naming a definition or field that
 * `defs` lacks is returned in `missing` (the generator fails on it: the table and the types drifted).
 */
export function applyPatchMeta(defs: Definitions): { defs: Record<string, Schema>; missing: string[] } {
  const out: Record<string, Schema> = { ...defs };
  const missing: string[] = [];
  for (const [name, fields] of Object.entries(FIELD_PATCH_META)) {
    const def = out[name];
    if (def === undefined) {
      missing.push(name);
      continue;
    }
    const properties = { ...def.properties };
    for (const [field, meta] of Object.entries(fields)) {
      const prop = properties[field];
      if (prop === undefined) {
        missing.push(`${name}.${field}`);
        continue;
      }
      properties[field] = { ...prop, ...patchMetaExtensions(meta) };
    }
    out[name] = { ...def, properties };
  }
  for (const [name, mapType] of Object.entries(TYPE_MAP_TYPE)) {
    const def = out[name];
    if (def === undefined) {
      missing.push(name);
      continue;
    }
    out[name] = { ...def, "x-kubernetes-map-type": mapType };
  }
  return { defs: out, missing };
}
