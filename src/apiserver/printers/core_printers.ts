/**
 * Printers for the core (`v1`) resources, as upstream's `AddHandlers` defines them: the same columns,
 * in the same order, with the same cell logic. Resources upstream has no printer for (LimitRange,
 * Binding) get the default table in table.ts.
 */
import type {
  ConfigMap,
  Endpoints,
  Event,
  Namespace,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  PodTemplate,
  ReplicationController,
  ResourceQuota,
  Secret,
  Service,
  ServiceAccount,
} from "kubernetes-types/core/v1.js";
import { parseTime, translateTimestampSince } from "./duration.js";
import {
  NONE,
  UNKNOWN,
  UNSET,
  PENDING,
  accessModesString,
  compareStrings,
  formatEndpoints,
  formatLabels,
  layoutContainerCells,
  loadBalancerStatusString,
  makePortString,
} from "./format.js";
import { podStatusCells } from "./pod_status.js";
import {
  AGE_COLUMN,
  CONTAINERS_DOC,
  IMAGES_DOC,
  NAME_COLUMN,
  column,
  groupResource,
  wide,
  type PrintedRow,
  type Printer,
  type TableRowCondition,
} from "./printer.js";

const age = (obj: { metadata?: { creationTimestamp?: string } }, nowMs: number) =>
  translateTimestampSince(obj.metadata?.creationTimestamp, nowMs);
const nameOf = (obj: { metadata?: { name?: string } }) => obj.metadata?.name ?? "";

const POD_SUCCEEDED: readonly TableRowCondition[] = [
  { type: "Completed", status: "True", reason: "Succeeded", message: "The pod has completed successfully." },
];
const POD_FAILED: readonly TableRowCondition[] = [{ type: "Completed", status: "True", reason: "Failed", message: "The pod failed." }];

export const podPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
    column("Status", "string", "The aggregate status of the containers in this pod."),
    column(
      "Restarts",
      "string",
      "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    AGE_COLUMN,
    wide("IP", "string", "PodStatus.podIP"),
    wide("Node", "string", "PodSpec.nodeName"),
    wide("Nominated Node", "string", "PodStatus.nominatedNodeName"),
    wide("Readiness Gates", "string", "PodSpec.readinessGates"),
  ],
  print(obj, { nowMs }) {
    const pod = obj as Pod;
    const { ready, status, restarts } = podStatusCells(pod, nowMs);
    const podIP = pod.status?.podIPs?.[0]?.ip || NONE;
    const nodeName = pod.spec?.nodeName || NONE;
    const nominatedNodeName = pod.status?.nominatedNodeName || NONE;
    let readinessGates = NONE;
    const gates = pod.spec?.readinessGates ?? [];
    if (gates.length > 0) {
      let trueConditions = 0;
      for (const gate of gates) {
        const condition = (pod.status?.conditions ?? []).find((c) => c.type === gate.conditionType);
        if (condition?.status === "True") trueConditions++;
      }
      readinessGates = `${trueConditions}/${gates.length}`;
    }
    const row: PrintedRow = {
      cells: [nameOf(pod), ready, status, restarts, age(pod, nowMs), podIP, nodeName, nominatedNodeName, readinessGates],
    };
    const phase = pod.status?.phase;
    if (phase === "Succeeded") return { ...row, conditions: POD_SUCCEEDED };
    if (phase === "Failed") return { ...row, conditions: POD_FAILED };
    return row;
  },
};

export const podTemplatePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column("Containers", "string", CONTAINERS_DOC),
    column("Images", "string", IMAGES_DOC),
    column("Pod Labels", "string", "The labels for the pod template."),
  ],
  print(obj) {
    const t = obj as PodTemplate;
    const { names, images } = layoutContainerCells(t.template?.spec?.containers);
    return { cells: [nameOf(t), names, images, formatLabels(t.template?.metadata?.labels)] };
  },
};

export const replicationControllerPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column("Desired", "integer", "ReplicationControllerSpec.replicas"),
    column("Current", "integer", "ReplicationControllerStatus.replicas"),
    column("Ready", "integer", "ReplicationControllerStatus.readyReplicas"),
    AGE_COLUMN,
    wide("Containers", "string", CONTAINERS_DOC),
    wide("Images", "string", IMAGES_DOC),
    wide("Selector", "string", "ReplicationControllerSpec.selector"),
  ],
  print(obj, { nowMs }) {
    const rc = obj as ReplicationController;
    const { names, images } = layoutContainerCells(rc.spec?.template?.spec?.containers);
    return {
      cells: [
        nameOf(rc),
        // Defaulting sets spec.replicas to 1 before upstream ever prints it.
        rc.spec?.replicas ?? 1,
        rc.status?.replicas ?? 0,
        rc.status?.readyReplicas ?? 0,
        age(rc, nowMs),
        names,
        images,
        formatLabels(rc.spec?.selector),
      ],
    };
  },
};

/** `getServiceExternalIP` with wide output (the server never clips the load balancer list). */
export function serviceExternalIP(svc: Service): string {
  const externalIPs = svc.spec?.externalIPs ?? [];
  switch (svc.spec?.type ?? "ClusterIP") {
    case "ClusterIP":
    case "NodePort":
      return externalIPs.length > 0 ? externalIPs.join(",") : NONE;
    case "LoadBalancer": {
      const lbIPs = loadBalancerStatusString(svc.status?.loadBalancer);
      if (externalIPs.length > 0) {
        const results = lbIPs.length > 0 ? lbIPs.split(",") : [];
        return [...results, ...externalIPs].join(",");
      }
      return lbIPs.length > 0 ? lbIPs : PENDING;
    }
    case "ExternalName":
      return svc.spec?.externalName ?? "";
    default:
      return UNKNOWN;
  }
}

export const servicePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column("Type", "string", "ServiceSpec.type"),
    column("Cluster-IP", "string", "ServiceSpec.clusterIP"),
    column("External-IP", "string", "ServiceSpec.externalIPs"),
    column("Port(s)", "string", "ServiceSpec.ports"),
    AGE_COLUMN,
    wide("Selector", "string", "ServiceSpec.selector"),
  ],
  print(obj, { nowMs }) {
    const svc = obj as Service;
    // spec.clusterIPs is filled from spec.clusterIP by the apiserver; read either.
    const clusterIPs = svc.spec?.clusterIPs ?? (svc.spec?.clusterIP ? [svc.spec.clusterIP] : []);
    const internalIP = clusterIPs.length > 0 ? clusterIPs[0]! : NONE;
    const ports = makePortString(svc.spec?.ports) || NONE;
    return {
      cells: [
        nameOf(svc),
        svc.spec?.type ?? "ClusterIP",
        internalIP,
        serviceExternalIP(svc),
        ports,
        age(svc, nowMs),
        formatLabels(svc.spec?.selector),
      ],
    };
  },
};

export const endpointsPrinter: Printer = {
  columns: [NAME_COLUMN, column("Endpoints", "string", "Endpoints.subsets"), AGE_COLUMN],
  print(obj, { nowMs }) {
    const ep = obj as Endpoints;
    return { cells: [nameOf(ep), formatEndpoints(ep.subsets), age(ep, nowMs)] };
  },
};

/** The node-role label prefix: `node-role.kubernetes.io/control-plane=""` makes the role `control-plane`. */
export const LABEL_NODE_ROLE_PREFIX = "node-role.kubernetes.io/";
/** The older role label: `kubernetes.io/role=master`. */
export const NODE_LABEL_ROLE = "kubernetes.io/role";

/** `findNodeRoles`: roles from both label forms, sorted and deduplicated. */
export function findNodeRoles(labels: Readonly<Record<string, string>> | undefined): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (k.startsWith(LABEL_NODE_ROLE_PREFIX)) {
      const role = k.slice(LABEL_NODE_ROLE_PREFIX.length);
      if (role.length > 0) roles.add(role);
    } else if (k === NODE_LABEL_ROLE && v !== "") {
      roles.add(v);
    }
  }
  return [...roles].sort(compareStrings);
}

export const nodePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column("Status", "string", "The status of the node"),
    column("Roles", "string", "The roles of the node"),
    AGE_COLUMN,
    column("Version", "string", "NodeSystemInfo.kubeletVersion"),
    wide("Internal-IP", "string", "NodeStatus.addresses"),
    wide("External-IP", "string", "NodeStatus.addresses"),
    wide("OS-Image", "string", "NodeSystemInfo.osImage"),
    wide("Kernel-Version", "string", "NodeSystemInfo.kernelVersion"),
    wide("Container-Runtime", "string", "NodeSystemInfo.containerRuntimeVersion"),
  ],
  print(obj, { nowMs }) {
    const node = obj as Node;
    const status: string[] = [];
    // Only the Ready condition makes it into STATUS (upstream's NodeAllConditions); the last entry of a type wins.
    const ready = (node.status?.conditions ?? []).filter((c) => c.type === "Ready").pop();
    if (ready !== undefined) status.push(ready.status === "True" ? "Ready" : "NotReady");
    if (status.length === 0) status.push("Unknown");
    if (node.spec?.unschedulable) status.push("SchedulingDisabled");
    const roles = findNodeRoles(node.metadata?.labels).join(",") || NONE;
    const info = node.status?.nodeInfo;
    const address = (type: string) => (node.status?.addresses ?? []).find((a) => a.type === type)?.address ?? NONE;
    return {
      cells: [
        nameOf(node),
        status.join(","),
        roles,
        age(node, nowMs),
        info?.kubeletVersion ?? "",
        address("InternalIP"),
        address("ExternalIP"),
        info?.osImage || UNKNOWN,
        info?.kernelVersion || UNKNOWN,
        info?.containerRuntimeVersion || UNKNOWN,
      ],
    };
  },
};

/** `formatEventSource`: component (or reporting controller), then `, host` (or reporting instance) when known. */
function formatEventSource(ev: Event): string {
  const component = ev.source?.component || ev.reportingComponent || "";
  const instance = ev.source?.host || ev.reportingInstance || "";
  return instance.length === 0 ? component : `${component}, ${instance}`;
}

/** A MicroTime age: `<unknown>` for the zero time. */
const since = (ts: string | undefined, nowMs: number) => translateTimestampSince(ts, nowMs);

export const eventPrinter: Printer = {
  columns: [
    column("Last Seen", "string", "Event.lastTimestamp"),
    column("Type", "string", "Event.type"),
    column("Reason", "string", "Event.reason"),
    column("Object", "string", "Event.involvedObject"),
    wide("Subobject", "string", "ObjectReference.fieldPath"),
    wide("Source", "string", "Event.source"),
    column("Message", "string", "Event.message"),
    wide("First Seen", "string", "Event.firstTimestamp"),
    wide("Count", "string", "Event.count"),
    column("Name", "string", "ObjectMeta.name", { priority: 1, format: "name" }),
  ],
  print(obj, { nowMs }) {
    const ev = obj as Event;
    let firstTimestamp = since(ev.firstTimestamp, nowMs);
    if (parseTime(ev.firstTimestamp) === null) firstTimestamp = since(ev.eventTime, nowMs);
    let lastTimestamp = since(ev.lastTimestamp, nowMs);
    if (parseTime(ev.lastTimestamp) === null) lastTimestamp = firstTimestamp;
    let count = ev.count ?? 0;
    if (ev.series !== undefined && ev.series !== null) {
      lastTimestamp = since(ev.series.lastObservedTime, nowMs);
      count = ev.series.count ?? 0;
    } else if (count === 0) {
      // Singleton events of the events.k8s.io API carry no count.
      count = 1;
    }
    const kind = (ev.involvedObject?.kind ?? "").toLowerCase();
    const target = ev.involvedObject?.name ? `${kind}/${ev.involvedObject.name}` : kind;
    return {
      cells: [
        lastTimestamp,
        ev.type ?? "",
        ev.reason ?? "",
        target,
        ev.involvedObject?.fieldPath ?? "",
        formatEventSource(ev),
        (ev.message ?? "").trim(),
        firstTimestamp,
        count,
        nameOf(ev),
      ],
    };
  },
};

export const namespacePrinter: Printer = {
  columns: [NAME_COLUMN, column("Status", "string", "The status of the namespace"), AGE_COLUMN],
  print(obj, { nowMs }) {
    const ns = obj as Namespace;
    return { cells: [nameOf(ns), ns.status?.phase ?? "", age(ns, nowMs)] };
  },
};

export const secretPrinter: Printer = {
  columns: [NAME_COLUMN, column("Type", "string", "Secret.type"), column("Data", "string", "Secret.data"), AGE_COLUMN],
  print(obj, { nowMs }) {
    const secret = obj as Secret;
    // Upstream counts the internal object's data, into which stringData has been merged on the way in.
    const keys = new Set([...Object.keys(secret.data ?? {}), ...Object.keys(secret.stringData ?? {})]);
    return { cells: [nameOf(secret), secret.type ?? "Opaque", keys.size, age(secret, nowMs)] };
  },
};

export const serviceAccountPrinter: Printer = {
  columns: [NAME_COLUMN, column("Secrets", "string", "ServiceAccount.secrets"), AGE_COLUMN],
  print(obj, { nowMs }) {
    const sa = obj as ServiceAccount;
    return { cells: [nameOf(sa), sa.secrets?.length ?? 0, age(sa, nowMs)] };
  },
};

/** The storage class of a PV or PVC: the beta annotation wins over `spec.storageClassName`. */
const STORAGE_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class";

export const persistentVolumePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column("Capacity", "string", "PersistentVolumeSpec.capacity"),
    column("Access Modes", "string", "PersistentVolumeSpec.accessModes"),
    column("Reclaim Policy", "string", "PersistentVolumeSpec.persistentVolumeReclaimPolicy"),
    column("Status", "string", "PersistentVolumeStatus.phase"),
    column("Claim", "string", "PersistentVolumeSpec.claimRef"),
    column("StorageClass", "string", "StorageClass of the pv"),
    column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
    column("Reason", "string", "PersistentVolumeStatus.reason"),
    AGE_COLUMN,
    wide("VolumeMode", "string", "PersistentVolumeSpec.volumeMode"),
  ],
  print(obj, { nowMs }) {
    const pv = obj as PersistentVolume;
    const claimRef = pv.spec?.claimRef ? `${pv.spec.claimRef.namespace ?? ""}/${pv.spec.claimRef.name ?? ""}` : "";
    const phase = pv.metadata?.deletionTimestamp ? "Terminating" : (pv.status?.phase ?? "");
    const storageClass = pv.metadata?.annotations?.[STORAGE_CLASS_ANNOTATION] ?? pv.spec?.storageClassName ?? "";
    return {
      cells: [
        nameOf(pv),
        pv.spec?.capacity?.["storage"] ?? "0",
        accessModesString(pv.spec?.accessModes),
        pv.spec?.persistentVolumeReclaimPolicy ?? "",
        phase,
        claimRef,
        storageClass,
        pv.spec?.volumeAttributesClassName ?? UNSET,
        pv.status?.reason ?? "",
        age(pv, nowMs),
        pv.spec?.volumeMode ?? UNSET,
      ],
    };
  },
};

export const persistentVolumeClaimPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column("Status", "string", "PersistentVolumeClaimStatus.phase"),
    column("Volume", "string", "PersistentVolumeClaimSpec.volumeName"),
    column("Capacity", "string", "PersistentVolumeClaimStatus.capacity"),
    column("Access Modes", "string", "PersistentVolumeClaimStatus.accessModes"),
    column("StorageClass", "string", "StorageClass of the pvc"),
    column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
    AGE_COLUMN,
    wide("VolumeMode", "string", "PersistentVolumeClaimSpec.volumeMode"),
  ],
  print(obj, { nowMs }) {
    const pvc = obj as PersistentVolumeClaim;
    const phase = pvc.metadata?.deletionTimestamp ? "Terminating" : (pvc.status?.phase ?? "");
    let capacity = "";
    let accessModes = "";
    // Capacity and modes are the bound volume's; an unbound claim shows neither.
    if (pvc.spec?.volumeName) {
      accessModes = accessModesString(pvc.status?.accessModes);
      capacity = pvc.status?.capacity?.["storage"] ?? "0";
    }
    const storageClass = pvc.metadata?.annotations?.[STORAGE_CLASS_ANNOTATION] ?? pvc.spec?.storageClassName ?? "";
    return {
      cells: [
        nameOf(pvc),
        phase,
        pvc.spec?.volumeName ?? "",
        capacity,
        accessModes,
        storageClass,
        pvc.spec?.volumeAttributesClassName ?? UNSET,
        age(pvc, nowMs),
        pvc.spec?.volumeMode ?? UNSET,
      ],
    };
  },
};

export const configMapPrinter: Printer = {
  columns: [NAME_COLUMN, column("Data", "string", "ConfigMap.data"), AGE_COLUMN],
  print(obj, { nowMs }) {
    const cm = obj as ConfigMap;
    return { cells: [nameOf(cm), Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length, age(cm, nowMs)] };
  },
};

export const resourceQuotaPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume."),
    column(
      "Limit",
      "string",
      "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
    ),
    AGE_COLUMN,
  ],
  print(obj, { nowMs }) {
    const quota = obj as ResourceQuota;
    const hard = quota.status?.hard ?? {};
    const used = quota.status?.used ?? {};
    const requests: string[] = [];
    const limits: string[] = [];
    for (const resource of Object.keys(hard).sort(compareStrings)) {
      const entry = `${resource}: ${used[resource] ?? "0"}/${hard[resource]}`;
      // `limits.cpu`, `limits.memory`… go to LIMIT; everything else, `requests.*` and counts, to REQUEST.
      const pieces = resource.split(".");
      if (pieces.length > 1 && pieces[0] === "limits") limits.push(entry);
      else requests.push(entry);
    }
    return { cells: [nameOf(quota), requests.join(", "), limits.join(", "), age(quota, nowMs)] };
  },
};

/** Core printers by GroupResource. */
export const CORE_PRINTERS: ReadonlyMap<string, Printer> = new Map([
  [groupResource("", "pods"), podPrinter],
  [groupResource("", "podtemplates"), podTemplatePrinter],
  [groupResource("", "replicationcontrollers"), replicationControllerPrinter],
  [groupResource("", "services"), servicePrinter],
  [groupResource("", "endpoints"), endpointsPrinter],
  [groupResource("", "nodes"), nodePrinter],
  [groupResource("", "events"), eventPrinter],
  [groupResource("", "namespaces"), namespacePrinter],
  [groupResource("", "secrets"), secretPrinter],
  [groupResource("", "serviceaccounts"), serviceAccountPrinter],
  [groupResource("", "persistentvolumes"), persistentVolumePrinter],
  [groupResource("", "persistentvolumeclaims"), persistentVolumeClaimPrinter],
  [groupResource("", "configmaps"), configMapPrinter],
  [groupResource("", "resourcequotas"), resourceQuotaPrinter],
]);
