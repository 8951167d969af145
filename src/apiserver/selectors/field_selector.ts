/**
 * Field selectors (`kubectl get pods --field-selector spec.nodeName=n1,status.phase!=Running`): only
 * `=`, `==` and `!=`, and only over the fields each resource declares selectable, as upstream's
 * `GetAttrs` functions do. Any other field is a 400 `field label not supported: <field>`.
 */
import { badRequest } from "../../api/status.js";

export interface FieldRequirement {
  readonly field: string;
  readonly operator: "=" | "!=";
  readonly value: string;
}

export type FieldSelector = readonly FieldRequirement[];

/** Splits on unescaped commas and reads each `field(=|==|!=)value` term (values may escape `\,` `\=` `\\`). */
export function parseFieldSelector(input: string): FieldSelector {
  const terms: string[] = [];
  let cur = "";
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c === "\\" && i + 1 < input.length) {
      cur += c + input[i + 1];
      i++;
    } else if (c === ",") {
      terms.push(cur);
      cur = "";
    } else cur += c;
  }
  terms.push(cur);
  const out: FieldRequirement[] = [];
  for (const term of terms) {
    if (term.trim() === "") continue;
    const m = /^(.*?)(!=|==|=)(.*)$/s.exec(term);
    if (m === null) throw badRequest(`invalid selector: '${input}'; can't understand '${term}'`);
    const value = m[3]!.replace(/\\(.)/g, "$1");
    out.push({ field: m[1]!.trim(), operator: m[2] === "!=" ? "!=" : "=", value });
  }
  return out;
}

type Obj = Record<string, any>;
type Getter = (o: Obj) => string | undefined;

const str = (v: unknown): string => (v === undefined || v === null ? "" : String(v));
const metaFields: Record<string, Getter> = {
  "metadata.name": (o) => str(o.metadata?.name),
  "metadata.namespace": (o) => str(o.metadata?.namespace),
};

/** Selectable fields beyond metadata.name / metadata.namespace, per resource (upstream's GetAttrs). */
const RESOURCE_FIELDS: Record<string, Record<string, Getter>> = {
  pods: {
    "spec.nodeName": (o) => str(o.spec?.nodeName),
    "spec.restartPolicy": (o) => str(o.spec?.restartPolicy),
    "spec.schedulerName": (o) => str(o.spec?.schedulerName),
    "spec.serviceAccountName": (o) => str(o.spec?.serviceAccountName),
    "spec.hostNetwork": (o) => String(o.spec?.hostNetwork === true),
    "status.phase": (o) => str(o.status?.phase),
    "status.podIP": (o) => str(o.status?.podIP),
    "status.nominatedNodeName": (o) => str(o.status?.nominatedNodeName),
  },
  events: {
    "involvedObject.kind": (o) => str(o.involvedObject?.kind),
    "involvedObject.namespace": (o) => str(o.involvedObject?.namespace),
    "involvedObject.name": (o) => str(o.involvedObject?.name),
    "involvedObject.uid": (o) => str(o.involvedObject?.uid),
    "involvedObject.apiVersion": (o) => str(o.involvedObject?.apiVersion),
    "involvedObject.resourceVersion": (o) => str(o.involvedObject?.resourceVersion),
    "involvedObject.fieldPath": (o) => str(o.involvedObject?.fieldPath),
    reason: (o) => str(o.reason),
    reportingComponent: (o) => str(o.reportingComponent),
    source: (o) => str(o.source?.component),
    type: (o) => str(o.type),
  },
  secrets: { type: (o) => str(o.type) },
  namespaces: { "status.phase": (o) => str(o.status?.phase) },
  nodes: { "spec.unschedulable": (o) => String(o.spec?.unschedulable === true) },
  replicationcontrollers: { "status.replicas": (o) => str(o.status?.replicas ?? 0) },
  replicasets: { "status.replicas": (o) => str(o.status?.replicas ?? 0) },
  jobs: { "status.successful": (o) => str(o.status?.successful ?? 0) },
  persistentvolumeclaims: { "spec.volumeName": (o) => str(o.spec?.volumeName) },
  persistentvolumes: { "spec.storageClassName": (o) => str(o.spec?.storageClassName) },
};

/** Checks every field is selectable for `resource`; throws 400 otherwise. */
export function checkSelectableFields(resource: string, selector: FieldSelector): void {
  for (const r of selector) {
    if (metaFields[r.field] === undefined && RESOURCE_FIELDS[resource]?.[r.field] === undefined) {
      // Kinds with selectable fields of their own word it as their conversion function does; the rest
      // get the default check's message.
      if (RESOURCE_FIELDS[resource] !== undefined) throw badRequest(`field label not supported: ${r.field}`);
      throw badRequest(`"${r.field}" is not a known field selector: only "metadata.name", "metadata.namespace"`);
    }
  }
}

export function matchesFields(resource: string, selector: FieldSelector, obj: Obj): boolean {
  for (const r of selector) {
    const get = metaFields[r.field] ?? RESOURCE_FIELDS[resource]?.[r.field];
    if (get === undefined) return false;
    const v = get(obj) ?? "";
    if (r.operator === "=" ? v !== r.value : v === r.value) return false;
  }
  return true;
}

/** The single name a selector pins (`metadata.name=x`), used to narrow a watch or list to one key. */
export function selectedName(selector: FieldSelector): string | null {
  const r = selector.find((x) => x.field === "metadata.name" && x.operator === "=");
  return r === undefined ? null : r.value;
}
