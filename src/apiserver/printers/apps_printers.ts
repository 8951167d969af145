/** Printers for `apps/v1`, as upstream's `AddHandlers` defines them. */
import type { ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet } from "kubernetes-types/apps/v1.js";
import { translateTimestampSince } from "./duration.js";
import { NONE, formatLabelSelector, formatLabels, labelSelectorString, layoutContainerCells } from "./format.js";
import { AGE_COLUMN, CONTAINERS_DOC, IMAGES_DOC, NAME_COLUMN, column, groupResource, wide, type Printer } from "./printer.js";

const age = (obj: { metadata?: { creationTimestamp?: string } }, nowMs: number) =>
  translateTimestampSince(obj.metadata?.creationTimestamp, nowMs);
const nameOf = (obj: { metadata?: { name?: string } }) => obj.metadata?.name ?? "";

export const deploymentPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column("Ready", "string", "Number of the pod with ready state"),
    column("Up-to-date", "string", "DeploymentStatus.updatedReplicas"),
    column("Available", "string", "DeploymentStatus.availableReplicas"),
    AGE_COLUMN,
    wide("Containers", "string", CONTAINERS_DOC),
    wide("Images", "string", IMAGES_DOC),
    wide("Selector", "string", "DeploymentSpec.selector"),
  ],
  print(obj, { nowMs }) {
    const d = obj as Deployment;
    // Unlike the other workloads, the deployment's selector cell is the bare selector string ("" for none).
    const selector = labelSelectorString(d.spec?.selector);
    const { names, images } = layoutContainerCells(d.spec?.template?.spec?.containers);
    return {
      cells: [
        nameOf(d),
        // Defaulting sets spec.replicas to 1 before upstream ever prints it.
        `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`,
        d.status?.updatedReplicas ?? 0,
        d.status?.availableReplicas ?? 0,
        age(d, nowMs),
        names,
        images,
        selector instanceof Error ? "<invalid>" : selector,
      ],
    };
  },
};

export const replicaSetPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column("Desired", "integer", "ReplicaSetSpec.replicas"),
    column("Current", "integer", "ReplicaSetStatus.replicas"),
    column("Ready", "integer", "ReplicaSetStatus.readyReplicas"),
    AGE_COLUMN,
    wide("Containers", "string", CONTAINERS_DOC),
    wide("Images", "string", IMAGES_DOC),
    wide("Selector", "string", "ReplicaSetSpec.selector"),
  ],
  print(obj, { nowMs }) {
    const rs = obj as ReplicaSet;
    const { names, images } = layoutContainerCells(rs.spec?.template?.spec?.containers);
    return {
      cells: [
        nameOf(rs),
        rs.spec?.replicas ?? 1,
        rs.status?.replicas ?? 0,
        rs.status?.readyReplicas ?? 0,
        age(rs, nowMs),
        names,
        images,
        formatLabelSelector(rs.spec?.selector),
      ],
    };
  },
};

export const statefulSetPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column("Ready", "string", "Number of the pod with ready state"),
    AGE_COLUMN,
    wide("Containers", "string", CONTAINERS_DOC),
    wide("Images", "string", IMAGES_DOC),
  ],
  print(obj, { nowMs }) {
    const sts = obj as StatefulSet;
    const { names, images } = layoutContainerCells(sts.spec?.template?.spec?.containers);
    return { cells: [nameOf(sts), `${sts.status?.readyReplicas ?? 0}/${sts.spec?.replicas ?? 1}`, age(sts, nowMs), names, images] };
  },
};

export const daemonSetPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column("Desired", "integer", "DaemonSetStatus.desiredNumberScheduled"),
    column("Current", "integer", "DaemonSetStatus.currentNumberScheduled"),
    column("Ready", "integer", "DaemonSetStatus.numberReady"),
    column("Up-to-date", "integer", "DaemonSetStatus.updatedNumberScheduled"),
    column("Available", "integer", "DaemonSetStatus.numberAvailable"),
    column("Node Selector", "string", "PodSpec.nodeSelector"),
    AGE_COLUMN,
    wide("Containers", "string", CONTAINERS_DOC),
    wide("Images", "string", IMAGES_DOC),
    wide("Selector", "string", "DaemonSetSpec.selector"),
  ],
  print(obj, { nowMs }) {
    const ds = obj as DaemonSet;
    const s = ds.status;
    const { names, images } = layoutContainerCells(ds.spec?.template?.spec?.containers);
    return {
      cells: [
        nameOf(ds),
        s?.desiredNumberScheduled ?? 0,
        s?.currentNumberScheduled ?? 0,
        s?.numberReady ?? 0,
        s?.updatedNumberScheduled ?? 0,
        s?.numberAvailable ?? 0,
        formatLabels(ds.spec?.template?.spec?.nodeSelector),
        age(ds, nowMs),
        names,
        images,
        formatLabelSelector(ds.spec?.selector),
      ],
    };
  },
};

/** `formatResourceName(gvk.GroupKind(), name, true)`: `statefulset.apps/web`, `pod/x` for the core group. */
function controllerName(apiVersion: string, kind: string, name: string): string {
  const slash = apiVersion.indexOf("/");
  const group = slash < 0 ? "" : apiVersion.slice(0, slash);
  if (kind === "" && group === "") return name;
  return `${(group === "" ? kind : `${kind}.${group}`).toLowerCase()}/${name}`;
}

export const controllerRevisionPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column("Controller", "string", "Controller of the object"),
    column("Revision", "string", "ControllerRevision.revision"),
    AGE_COLUMN,
  ],
  print(obj, { nowMs }) {
    const cr = obj as ControllerRevision;
    const ref = (cr.metadata?.ownerReferences ?? []).find((r) => r.controller === true);
    const controller = ref === undefined ? NONE : controllerName(ref.apiVersion, ref.kind, ref.name);
    return { cells: [nameOf(cr), controller, cr.revision ?? 0, age(cr, nowMs)] };
  },
};

/** apps/v1 printers by GroupResource. */
export const APPS_PRINTERS: ReadonlyMap<string, Printer> = new Map([
  [groupResource("apps", "deployments"), deploymentPrinter],
  [groupResource("apps", "replicasets"), replicaSetPrinter],
  [groupResource("apps", "statefulsets"), statefulSetPrinter],
  [groupResource("apps", "daemonsets"), daemonSetPrinter],
  [groupResource("apps", "controllerrevisions"), controllerRevisionPrinter],
]);
