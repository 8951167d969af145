/**
 * Printers for certificates, coordination, discovery, events, policy, scheduling and storage, as upstream's
 * `AddHandlers` defines them. events.k8s.io Events have no printer of their own upstream: both event
 * APIs store one internal Event, so an events.k8s.io/v1 object is mapped to the core shape and printed
 * with the core event columns.
 */
import type { CertificateSigningRequest } from "kubernetes-types/certificates/v1.js";
import type { Lease } from "kubernetes-types/coordination/v1.js";
import type { Event } from "kubernetes-types/core/v1.js";
import type { Endpoint, EndpointPort, EndpointSlice } from "kubernetes-types/discovery/v1.js";
import type { Event as EventsV1Event } from "kubernetes-types/events/v1.js";
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1.js";
import type { PriorityClass } from "kubernetes-types/scheduling/v1.js";
import type { StorageClass } from "kubernetes-types/storage/v1.js";
import { humanDuration, translateTimestampSince } from "./duration.js";
import { LIST_ENTRIES_SHOWN_MAX, intOrString, listWithMoreString } from "./format.js";
import { eventPrinter } from "./core_printers.js";
import { AGE_COLUMN, NAME_COLUMN, column, groupResource, type Printer } from "./printer.js";

const age = (obj: { metadata?: { creationTimestamp?: string } }, nowMs: number) =>
  translateTimestampSince(obj.metadata?.creationTimestamp, nowMs);
const nameOf = (obj: { metadata?: { name?: string } }) => obj.metadata?.name ?? "";

export const leasePrinter: Printer = {
  columns: [NAME_COLUMN, column("Holder", "string", "LeaseSpec.holderIdentity"), AGE_COLUMN],
  print(obj, { nowMs }) {
    const lease = obj as Lease;
    return { cells: [nameOf(lease), lease.spec?.holderIdentity ?? "", age(lease, nowMs)] };
  },
};

/** `formatDiscoveryPorts`: port numbers (or names, or `*`), three shown. */
export function formatDiscoveryPorts(ports: readonly EndpointPort[] | undefined | null): string {
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const port of ports ?? []) {
    if (list.length < LIST_ENTRIES_SHOWN_MAX) {
      list.push(port.port !== undefined && port.port !== null ? String(port.port) : (port.name ?? "*"));
    } else if (list.length === LIST_ENTRIES_SHOWN_MAX) {
      more = true;
    }
    count++;
  }
  return listWithMoreString(list, more, count, LIST_ENTRIES_SHOWN_MAX);
}

/** `formatDiscoveryEndpoints`: every endpoint's addresses, three shown. */
export function formatDiscoveryEndpoints(endpoints: readonly Endpoint[] | undefined): string {
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const endpoint of endpoints ?? []) {
    for (const address of endpoint.addresses ?? []) {
      if (list.length < LIST_ENTRIES_SHOWN_MAX) list.push(address);
      else if (list.length === LIST_ENTRIES_SHOWN_MAX) more = true;
      count++;
    }
  }
  return listWithMoreString(list, more, count, LIST_ENTRIES_SHOWN_MAX);
}

export const endpointSlicePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column("AddressType", "string", "EndpointSlice.addressType"),
    column("Ports", "string", "EndpointSlice.ports"),
    column("Endpoints", "string", "EndpointSlice.endpoints"),
    AGE_COLUMN,
  ],
  print(obj, { nowMs }) {
    const slice = obj as EndpointSlice;
    return {
      cells: [nameOf(slice), slice.addressType ?? "", formatDiscoveryPorts(slice.ports), formatDiscoveryEndpoints(slice.endpoints), age(slice, nowMs)],
    };
  },
};

/**
 * An events.k8s.io/v1 Event in core/v1 shape, field for field as upstream's conversion maps them
 * (regarding → involvedObject, note → message, deprecated* → the old fields, reportingController →
 * reportingComponent). An object already in core shape is returned unchanged.
 */
export function eventsV1ToCore(obj: object): Event {
  if ((obj as { apiVersion?: unknown }).apiVersion !== "events.k8s.io/v1") return obj as Event;
  const e = obj as EventsV1Event;
  const core: Event = {
    apiVersion: "v1",
    kind: "Event",
    metadata: e.metadata ?? {},
    involvedObject: e.regarding ?? {},
  };
  if (e.note !== undefined) core.message = e.note;
  if (e.reason !== undefined) core.reason = e.reason;
  if (e.type !== undefined) core.type = e.type;
  if (e.action !== undefined) core.action = e.action;
  if (e.related !== undefined) core.related = e.related;
  if (e.eventTime !== undefined) core.eventTime = e.eventTime;
  if (e.series !== undefined) core.series = { count: e.series.count, lastObservedTime: e.series.lastObservedTime };
  if (e.deprecatedSource !== undefined) core.source = e.deprecatedSource;
  if (e.deprecatedFirstTimestamp !== undefined) core.firstTimestamp = e.deprecatedFirstTimestamp;
  if (e.deprecatedLastTimestamp !== undefined) core.lastTimestamp = e.deprecatedLastTimestamp;
  if (e.deprecatedCount !== undefined) core.count = e.deprecatedCount;
  if (e.reportingController !== undefined) core.reportingComponent = e.reportingController;
  if (e.reportingInstance !== undefined) core.reportingInstance = e.reportingInstance;
  return core;
}

export const eventsV1EventPrinter: Printer = {
  columns: eventPrinter.columns,
  print(obj, ctx) {
    return eventPrinter.print(eventsV1ToCore(obj), ctx);
  },
};

export const podDisruptionBudgetPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column("Min Available", "string", "The minimum number of pods that must be available."),
    column("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
    column("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
    AGE_COLUMN,
  ],
  print(obj, { nowMs }) {
    const pdb = obj as PodDisruptionBudget;
    const min = pdb.spec?.minAvailable;
    const max = pdb.spec?.maxUnavailable;
    return {
      cells: [
        nameOf(pdb),
        min === undefined || min === null ? "N/A" : intOrString(min),
        max === undefined || max === null ? "N/A" : intOrString(max),
        pdb.status?.disruptionsAllowed ?? 0,
        age(pdb, nowMs),
      ],
    };
  },
};

export const priorityClassPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column("Value", "integer", "PriorityClass.value"),
    column("Global-Default", "boolean", "PriorityClass.globalDefault"),
    AGE_COLUMN,
    // Upstream declares it without a priority, so kubectl shows it without -o wide.
    column("PreemptionPolicy", "string", "PriorityClass.preemptionPolicy"),
  ],
  print(obj, { nowMs }) {
    const pc = obj as PriorityClass;
    return { cells: [nameOf(pc), pc.value ?? 0, pc.globalDefault ?? false, age(pc, nowMs), pc.preemptionPolicy ?? ""] };
  },
};

/** The annotations that mark the cluster's default StorageClass (GA and beta spellings). */
export const IS_DEFAULT_STORAGE_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class";
export const BETA_IS_DEFAULT_STORAGE_CLASS_ANNOTATION = "storageclass.beta.kubernetes.io/is-default-class";

export const storageClassPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column("Provisioner", "string", "StorageClass.provisioner"),
    column("ReclaimPolicy", "string", "StorageClass.reclaimPolicy"),
    column("VolumeBindingMode", "string", "StorageClass.volumeBindingMode"),
    column("AllowVolumeExpansion", "string", "StorageClass.allowVolumeExpansion"),
    AGE_COLUMN,
  ],
  print(obj, { nowMs }) {
    const sc = obj as StorageClass;
    const annotations = sc.metadata?.annotations ?? {};
    const isDefault =
      annotations[IS_DEFAULT_STORAGE_CLASS_ANNOTATION] === "true" || annotations[BETA_IS_DEFAULT_STORAGE_CLASS_ANNOTATION] === "true";
    return {
      cells: [
        isDefault ? `${nameOf(sc)} (default)` : nameOf(sc),
        sc.provisioner ?? "",
        sc.reclaimPolicy ?? "Delete",
        sc.volumeBindingMode ?? "Immediate",
        sc.allowVolumeExpansion ?? false,
        age(sc, nowMs),
      ],
    };
  },
};

/** upstream's extractCSRStatus: Denied, Approved or Pending, then `,Failed` and `,Issued` as they apply. */
export function csrCondition(csr: CertificateSigningRequest): string {
  const types = new Set((csr.status?.conditions ?? []).map((c) => c.type));
  let status = types.has("Denied") ? "Denied" : types.has("Approved") ? "Approved" : "Pending";
  if (types.has("Failed")) status += ",Failed";
  if ((csr.status?.certificate ?? "") !== "") status += ",Issued";
  return status;
}

export const certificateSigningRequestPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    AGE_COLUMN,
    column("SignerName", "string", "CertificateSigningRequestSpec.signerName"),
    column("Requestor", "string", "CertificateSigningRequestSpec.request"),
    column("RequestedDuration", "string", "CertificateSigningRequestSpec.expirationSeconds"),
    column("Condition", "string", "CertificateSigningRequestStatus.conditions"),
  ],
  print(obj, { nowMs }) {
    const csr = obj as CertificateSigningRequest;
    const seconds = csr.spec?.expirationSeconds;
    return {
      cells: [
        nameOf(csr),
        age(csr, nowMs),
        csr.spec?.signerName || "<none>",
        csr.spec?.username ?? "",
        seconds === undefined || seconds === null ? "<none>" : humanDuration(seconds * 1000),
        csrCondition(csr),
      ],
    };
  },
};

/** Printers of the remaining groups by GroupResource. */
export const OTHER_PRINTERS: ReadonlyMap<string, Printer> = new Map([
  [groupResource("certificates.k8s.io", "certificatesigningrequests"), certificateSigningRequestPrinter],
  [groupResource("coordination.k8s.io", "leases"), leasePrinter],
  [groupResource("discovery.k8s.io", "endpointslices"), endpointSlicePrinter],
  [groupResource("events.k8s.io", "events"), eventsV1EventPrinter],
  [groupResource("policy", "poddisruptionbudgets"), podDisruptionBudgetPrinter],
  [groupResource("scheduling.k8s.io", "priorityclasses"), priorityClassPrinter],
  [groupResource("storage.k8s.io", "storageclasses"), storageClassPrinter],
]);
