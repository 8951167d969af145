/**
 * Defaulting for the core (`""`) group, v1: what kube-apiserver 1.32's pkg/apis/core/v1 defaulters and
 * the `+default=` markers on k8s.io/api/core/v1 types fill in. Each exported function takes the whole
 * object, as the generated SetObjectDefaults_<Kind> does.
 *
 * Not here, because upstream does it elsewhere:
 * - Pod: serviceAccountName, the kube-api-access volume and mounts (ServiceAccount admission),
 *   priority and preemptionPolicy (Priority admission), the not-ready/unreachable tolerations with
 *   tolerationSeconds 300 (DefaultTolerationSeconds admission), status.phase Pending and qosClass
 *   (the pod strategy's PrepareForCreate).
 * - Service: clusterIP(s), ipFamilies, ipFamilyPolicy and nodePorts (allocated by the service registry).
 * - Namespace: spec.finalizers ["kubernetes"] (the namespace strategy).
 * - Resource quantities: SetDefaults_ResourceList rounds each up to milli precision; quantities are
 *   kept as sent here.
 */

import { defaultPodSpec, defaultPodTemplateSpec } from "./pod_spec.js";
import { defaultPersistentVolumeSource } from "./volume.js";
import { child, defaultNil, defaultZero, isEmpty, isNil, isObject, isZero, items, struct, type JsonObject } from "./fields.js";

/** As v1.DefaultClientIPServiceAffinitySeconds: three hours. */
export const CLIENT_IP_SERVICE_AFFINITY_SECONDS_DEFAULT = 10800;
/** The label SetDefaults_Namespace keeps equal to the namespace's name. */
export const LABEL_METADATA_NAME = "kubernetes.io/metadata.name";

/** SetObjectDefaults_Pod: SetDefaults_Pod, then the pod spec's defaults. */
export function defaultPod(pod: JsonObject): void {
  const spec = struct(pod, "spec");
  if (spec === undefined) return;
  // Requests default to limits per container, only in a Pod: a template leaves them for the pod.
  for (const key of ["containers", "initContainers"]) {
    for (const container of items(spec, key)) defaultRequestsToLimits(container);
  }
  defaultNil(spec, "enableServiceLinks", true);
  // With host networking a container port is a host port, so say so.
  if (spec["hostNetwork"] === true) {
    for (const key of ["containers", "initContainers"]) {
      for (const container of items(spec, key)) {
        for (const port of items(container, "ports")) {
          if (isNil(port["hostPort"]) || port["hostPort"] === 0) port["hostPort"] = port["containerPort"];
        }
      }
    }
  }
  defaultPodSpec(spec);
}

/** SetObjectDefaults_PodTemplate. */
export function defaultPodTemplate(podTemplate: JsonObject): void {
  const template = struct(podTemplate, "template");
  if (template !== undefined) defaultPodTemplateSpec(template);
}

/** SetObjectDefaults_ReplicationController: selector and labels from the template, replicas 1. */
export function defaultReplicationController(rc: JsonObject): void {
  const spec = struct(rc, "spec");
  if (spec === undefined) return;
  // The template is a pointer here (unlike apps/v1), so a missing one stays missing.
  const template = child(spec, "template");
  const labels = child(child(template ?? {}, "metadata") ?? {}, "labels");
  // An empty map is omitted on the wire upstream, so copying one would show a field upstream does not.
  if (labels !== undefined && !isEmpty(labels)) {
    if (isEmpty(spec["selector"])) spec["selector"] = { ...labels };
    const metadata = struct(rc, "metadata");
    if (metadata !== undefined && isEmpty(metadata["labels"])) metadata["labels"] = { ...labels };
  }
  // ReplicationControllerSpec.replicas carries `+default=1`.
  defaultNil(spec, "replicas", 1);
  if (template !== undefined) defaultPodTemplateSpec(template);
}

/** SetObjectDefaults_Service. */
export function defaultService(service: JsonObject): void {
  const spec = struct(service, "spec");
  if (spec === undefined) return;
  defaultZero(spec, "sessionAffinity", "None");
  if (spec["sessionAffinity"] === "None") delete spec["sessionAffinityConfig"];
  if (spec["sessionAffinity"] === "ClientIP") {
    const clientIP = child(child(spec, "sessionAffinityConfig") ?? {}, "clientIP");
    if (clientIP === undefined || isNil(clientIP["timeoutSeconds"])) {
      spec["sessionAffinityConfig"] = { clientIP: { timeoutSeconds: CLIENT_IP_SERVICE_AFFINITY_SECONDS_DEFAULT } };
    }
  }
  defaultZero(spec, "type", "ClusterIP");
  for (const port of items(spec, "ports")) {
    defaultZero(port, "protocol", "TCP");
    // targetPort is an IntOrString: unset, 0 and "" all mean "the same as port".
    if (isNil(port["targetPort"]) || port["targetPort"] === 0 || port["targetPort"] === "") {
      port["targetPort"] = typeof port["port"] === "number" ? port["port"] : 0;
    }
  }
  const type = spec["type"];
  const externalIPs = spec["externalIPs"];
  const externallyAccessible =
    type === "LoadBalancer" ||
    type === "NodePort" ||
    (type === "ClusterIP" && Array.isArray(externalIPs) && externalIPs.length > 0);
  if (externallyAccessible) defaultZero(spec, "externalTrafficPolicy", "Cluster");
  // ExternalName services have no cluster-internal endpoints, so no internal policy.
  if (type === "ClusterIP" || type === "NodePort" || type === "LoadBalancer") {
    defaultNil(spec, "internalTrafficPolicy", "Cluster");
  }
  if (type === "LoadBalancer") {
    defaultNil(spec, "allocateLoadBalancerNodePorts", true);
    const loadBalancer = child(child(service, "status") ?? {}, "loadBalancer");
    for (const ingress of loadBalancer === undefined ? [] : items(loadBalancer, "ingress")) {
      if (!isZero(ingress["ip"]) && isNil(ingress["ipMode"])) ingress["ipMode"] = "VIP";
    }
  }
}

/** SetObjectDefaults_Namespace: the name label, and phase Active. */
export function defaultNamespace(namespace: JsonObject): void {
  const metadata = child(namespace, "metadata");
  const name = metadata?.["name"];
  // A generateName namespace has no name yet; the strategy sets the label once it has one.
  if (metadata !== undefined && typeof name === "string" && name.length > 0) {
    const labels = isObject(metadata["labels"]) ? metadata["labels"] : {};
    labels[LABEL_METADATA_NAME] = name;
    metadata["labels"] = labels;
  }
  const status = struct(namespace, "status");
  if (status !== undefined) defaultZero(status, "phase", "Active");
}

/** SetObjectDefaults_Secret. */
export function defaultSecret(secret: JsonObject): void {
  defaultZero(secret, "type", "Opaque");
}

/** SetObjectDefaults_Node: allocatable defaults to capacity. */
export function defaultNode(node: JsonObject): void {
  const status = child(node, "status");
  if (status === undefined) return;
  const capacity = child(status, "capacity");
  if (isNil(status["allocatable"]) && capacity !== undefined && !isEmpty(capacity)) {
    status["allocatable"] = { ...capacity };
  }
}

/** SetObjectDefaults_PersistentVolume. */
export function defaultPersistentVolume(pv: JsonObject): void {
  const spec = struct(pv, "spec");
  const status = struct(pv, "status");
  if (status !== undefined) defaultZero(status, "phase", "Pending");
  if (spec === undefined) return;
  defaultZero(spec, "persistentVolumeReclaimPolicy", "Retain");
  defaultNil(spec, "volumeMode", "Filesystem");
  defaultPersistentVolumeSource(spec);
}

/** SetObjectDefaults_LimitRange: container limits fill default from max, defaultRequest from default or min. */
export function defaultLimitRange(limitRange: JsonObject): void {
  const spec = child(limitRange, "spec");
  if (spec === undefined) return;
  for (const item of items(spec, "limits")) {
    if (item["type"] !== "Container") continue;
    const defaults: JsonObject = { ...(child(item, "default") ?? {}) };
    const defaultRequests: JsonObject = { ...(child(item, "defaultRequest") ?? {}) };
    copyMissing(child(item, "max"), defaults);
    copyMissing(defaults, defaultRequests);
    copyMissing(child(item, "min"), defaultRequests);
    // Upstream makes empty maps, which its encoder omits; only non-empty ones show.
    if (!isEmpty(defaults)) item["default"] = defaults;
    if (!isEmpty(defaultRequests)) item["defaultRequest"] = defaultRequests;
  }
}

/** SetObjectDefaults_Endpoints: ports are TCP unless they say otherwise. */
export function defaultEndpoints(endpoints: JsonObject): void {
  for (const subset of items(endpoints, "subsets")) {
    for (const port of items(subset, "ports")) defaultZero(port, "protocol", "TCP");
  }
}

/** For a container of a Pod: every limit without a request becomes its request too. */
function defaultRequestsToLimits(container: JsonObject): void {
  const resources = child(container, "resources");
  if (resources === undefined) return;
  const limits = child(resources, "limits");
  if (limits === undefined || isEmpty(limits)) return;
  const requests: JsonObject = { ...(child(resources, "requests") ?? {}) };
  copyMissing(limits, requests);
  resources["requests"] = requests;
}

function copyMissing(from: JsonObject | undefined, to: JsonObject): void {
  if (from === undefined) return;
  for (const [key, value] of Object.entries(from)) if (!(key in to)) to[key] = value;
}
