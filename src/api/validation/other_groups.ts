/**
 * Validation of the smaller groups, following Kubernetes 1.32: coordination.k8s.io Lease,
 * discovery.k8s.io EndpointSlice, events.k8s.io Event, policy PodDisruptionBudget, scheduling.k8s.io
 * PriorityClass and storage.k8s.io StorageClass.
 */

import { type FieldError, child, duplicate, forbidden, goIntOrString, GoValue, index, invalid, notSupported, required, tooLong, tooMany } from "./field_errors.js";
import { validateEventCore } from "./core_v1.js";
import {
  deepEqual,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidIP,
  isValidPercent,
  isValidPortNum,
  nameIsDNSSubdomain,
  objectMeta,
  validateDNS1123Label,
  validateImmutableField,
  validateLabelSelector,
  validateNonnegativeField,
  validateObjectMeta,
  validateObjectMetaUpdate,
  validateQualifiedName,
} from "./name_validation.js";
import { arr, obj, present, str, type Obj } from "./json_access.js";



// ---- coordination.k8s.io Lease ----

function validateLeaseSpec(specRaw: unknown): FieldError[] {
  const spec = obj(specRaw);
  const errs: FieldError[] = [];
  const duration = spec["leaseDurationSeconds"];
  if (typeof duration === "number" && duration <= 0) errs.push(invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"));
  const transitions = spec["leaseTransitions"];
  if (typeof transitions === "number" && transitions < 0) errs.push(invalid("spec.leaseTransitions", transitions, "must be greater than or equal to 0"));
  if (present(spec["strategy"])) {
    const strategy = str(spec["strategy"]);
    if (strategy !== "OldestEmulationVersion") errs.push(notSupported("spec.strategy", strategy, ["OldestEmulationVersion"]));
  }
  if (str(spec["preferredHolder"]) !== "" && str(spec["strategy"]) === "") {
    errs.push(forbidden("spec.preferredHolder", "may only be specified if `strategy` is defined"));
  }
  return errs;
}

export function validateLease(lease: Obj): FieldError[] {
  return [...validateObjectMeta(objectMeta(lease), true, nameIsDNSSubdomain), ...validateLeaseSpec(lease["spec"])];
}

export function validateLeaseUpdate(lease: Obj, old: Obj): FieldError[] {
  return [...validateObjectMetaUpdate(objectMeta(lease), objectMeta(old)), ...validateLeaseSpec(lease["spec"])];
}

// ---- discovery.k8s.io EndpointSlice ----

const ENDPOINTS_PER_SLICE_MAX = 1000;
const ADDRESSES_PER_ENDPOINT_MAX = 100;
const PORTS_PER_SLICE_MAX = 20000;
const ADDRESS_TYPES = ["FQDN", "IPv4", "IPv6"];
const PORT_PROTOCOLS = ["SCTP", "TCP", "UDP"];

function validateAddress(address: string, addressType: string, field: string): FieldError[] {
  switch (addressType) {
    case "IPv4":
      return isValidIP(address) && !address.includes(":") ? [] : [invalid(field, address, "must be a valid IPv4 address")];
    case "IPv6":
      return isValidIP(address) && address.includes(":") ? [] : [invalid(field, address, "must be a valid IPv6 address")];
    case "FQDN": {
      const name = address.replace(/\.$/, "");
      const msgs = isDNS1123Subdomain(name);
      if (msgs.length > 0) return [invalid(field, name, msgs.join(","))];
      if (name.split(".").length < 2) return [invalid(field, name, "should be a domain with at least two segments separated by dots")];
      for (const label of name.split(".")) {
        const labelMsgs = isDNS1123Label(label);
        if (labelMsgs.length > 0) return [invalid(field, label, labelMsgs.join(","))];
      }
      return [];
    }
    default:
      return [];
  }
}

function validateEndpointSliceBody(slice: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const addressType = str(slice["addressType"]);
  const endpoints = arr(slice["endpoints"]);
  if (endpoints.length > ENDPOINTS_PER_SLICE_MAX) errs.push(tooMany("endpoints", endpoints.length, ENDPOINTS_PER_SLICE_MAX));
  endpoints.forEach((raw, i) => {
    const ep = obj(raw);
    const p = index("endpoints", i);
    const addressPath = child(p, "addresses");
    const addresses = arr(ep["addresses"]).map(str);
    if (addresses.length === 0) errs.push(required(addressPath, "must contain at least 1 address"));
    else if (addresses.length > ADDRESSES_PER_ENDPOINT_MAX) errs.push(tooMany(addressPath, addresses.length, ADDRESSES_PER_ENDPOINT_MAX));
    addresses.forEach((a, ai) => errs.push(...validateAddress(a, addressType, index(addressPath, ai))));
    if (present(ep["nodeName"])) {
      const nodeName = str(ep["nodeName"]);
      for (const msg of nameIsDNSSubdomain(nodeName, false)) errs.push(invalid(child(p, "nodeName"), nodeName, msg));
    }
    if (present(ep["hostname"])) errs.push(...validateDNS1123Label(str(ep["hostname"]), child(p, "hostname")));
  });
  const ports = arr(slice["ports"]);
  if (ports.length > PORTS_PER_SLICE_MAX) errs.push(tooMany("ports", ports.length, PORTS_PER_SLICE_MAX));
  const names = new Set<string>();
  ports.forEach((raw, i) => {
    const port = obj(raw);
    const p = index("ports", i);
    if (!present(port["name"])) errs.push(required(child(p, "name")));
    else {
      const name = str(port["name"]);
      if (name.length > 0) errs.push(...validateDNS1123Label(name, child(p, "name")));
      if (names.has(name)) errs.push(duplicate(child(p, "name"), name));
      else names.add(name);
    }
    if (!present(port["protocol"])) errs.push(required(child(p, "protocol")));
    else if (!PORT_PROTOCOLS.includes(str(port["protocol"]))) errs.push(notSupported(child(p, "protocol"), str(port["protocol"]), PORT_PROTOCOLS));
    if (present(port["appProtocol"])) errs.push(...validateQualifiedName(str(port["appProtocol"]), child(p, "appProtocol")));
    if (present(port["port"])) {
      const n = typeof port["port"] === "number" ? port["port"] : 0;
      for (const msg of isValidPortNum(n)) errs.push(invalid(child(p, "port"), n, msg));
    }
  });
  return errs;
}

export function validateEndpointSlice(slice: Obj): FieldError[] {
  const errs = validateObjectMeta(objectMeta(slice), true, nameIsDNSSubdomain);
  errs.push(...validateEndpointSliceBody(slice));
  const addressType = str(slice["addressType"]);
  if (addressType === "") errs.push(required("addressType"));
  else if (!ADDRESS_TYPES.includes(addressType)) errs.push(notSupported("addressType", addressType, ADDRESS_TYPES));
  return errs;
}

export function validateEndpointSliceUpdate(slice: Obj, old: Obj): FieldError[] {
  const errs = [...validateObjectMetaUpdate(objectMeta(slice), objectMeta(old)), ...validateEndpointSliceBody(slice)];
  // Slices of a now-unsupported address type may be kept, but the type itself never changes.
  if (ADDRESS_TYPES.includes(str(old["addressType"]))) errs.push(...validateImmutableField(str(slice["addressType"]), str(old["addressType"]), "addressType"));
  return errs;
}

// ---- events.k8s.io Event ----

/** The events.k8s.io/v1 shape in core names: note→message, regarding→involvedObject, deprecated* unwrapped. */
function eventsV1ToCore(ev: Obj): Obj {
  return {
    ...ev,
    message: ev["note"],
    involvedObject: ev["regarding"],
    related: ev["related"],
    firstTimestamp: ev["deprecatedFirstTimestamp"],
    lastTimestamp: ev["deprecatedLastTimestamp"],
    count: ev["deprecatedCount"],
    source: ev["deprecatedSource"],
  };
}

export function validateEventsV1Event(ev: Obj): FieldError[] {
  return validateEventCore(eventsV1ToCore(ev), true);
}

/** ValidateEventUpdate: everything but the series, count and timestamps is fixed once written. */
export function validateEventsV1EventUpdate(ev: Obj, old: Obj): FieldError[] {
  const n = eventsV1ToCore(ev);
  const o = eventsV1ToCore(old);
  const errs = [...validateObjectMetaUpdate(objectMeta(ev), objectMeta(old)), ...validateEventCore(n, true)];
  for (const f of ["involvedObject", "reason", "message", "source", "firstTimestamp", "action", "reportingController", "reportingInstance", "type", "eventTime", "related"]) {
    if (!deepEqual(n[f], o[f])) errs.push(invalid(f, new GoValue(JSON.stringify(n[f] ?? null)), "field is immutable"));
  }
  return errs;
}

// ---- policy PodDisruptionBudget ----

function validateIntOrPercent(v: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (typeof v === "string") for (const msg of isValidPercent(v)) errs.push(invalid(field, goIntOrString(v), msg));
  else if (typeof v === "number") errs.push(...validateNonnegativeField(v, field));
  else errs.push(invalid(field, goIntOrString(v), "must be an integer or percentage (e.g '5%')"));
  if (typeof v === "string" && /^[0-9]+%$/.test(v) && Number(v.slice(0, -1)) > 100) errs.push(invalid(field, goIntOrString(v), "must not be greater than 100%"));
  return errs;
}

function validatePodDisruptionBudgetSpec(specRaw: unknown): FieldError[] {
  const spec = obj(specRaw);
  const errs: FieldError[] = [];
  if (present(spec["minAvailable"]) && present(spec["maxUnavailable"])) {
    errs.push(invalid("spec", new GoValue("policy.PodDisruptionBudgetSpec{...}"), "minAvailable and maxUnavailable cannot be both set"));
  }
  if (present(spec["minAvailable"])) errs.push(...validateIntOrPercent(spec["minAvailable"], "spec.minAvailable"));
  if (present(spec["maxUnavailable"])) errs.push(...validateIntOrPercent(spec["maxUnavailable"], "spec.maxUnavailable"));
  errs.push(...validateLabelSelector(spec["selector"], "spec.selector"));
  if (present(spec["unhealthyPodEvictionPolicy"])) {
    const policy = str(spec["unhealthyPodEvictionPolicy"]);
    if (policy !== "AlwaysAllow" && policy !== "IfHealthyBudget") errs.push(notSupported("spec.unhealthyPodEvictionPolicy", policy, ["AlwaysAllow", "IfHealthyBudget"]));
  }
  return errs;
}

export function validatePodDisruptionBudget(pdb: Obj): FieldError[] {
  return [...validateObjectMeta(objectMeta(pdb), true, nameIsDNSSubdomain), ...validatePodDisruptionBudgetSpec(pdb["spec"])];
}

export function validatePodDisruptionBudgetUpdate(pdb: Obj, old: Obj): FieldError[] {
  return [...validateObjectMetaUpdate(objectMeta(pdb), objectMeta(old)), ...validatePodDisruptionBudgetSpec(pdb["spec"])];
}

// ---- scheduling.k8s.io PriorityClass ----

/** Only these may use the `system-` prefix, with exactly these values. */
const SYSTEM_PRIORITY_CLASSES: Readonly<Record<string, number>> = { "system-node-critical": 2000001000, "system-cluster-critical": 2000000000 };
/** Upstream's HighestUserDefinablePriority. */
export const HIGHEST_USER_DEFINABLE_PRIORITY = 1000000000;

export function validatePriorityClass(pc: Obj): FieldError[] {
  const meta = objectMeta(pc);
  const errs = validateObjectMeta(meta, false, nameIsDNSSubdomain);
  const name = meta.name ?? "";
  const value = typeof pc["value"] === "number" ? pc["value"] : 0;
  const globalDefault = pc["globalDefault"] === true;
  if (name.startsWith("system-")) {
    const known = SYSTEM_PRIORITY_CLASSES[name];
    let problem: string | undefined;
    if (known === undefined) problem = `${name} is not a known system priority class`;
    else if (known !== value) problem = `value of ${name} PriorityClass must be ${known}`;
    else if (globalDefault) problem = `globalDefault of ${name} PriorityClass must be false`;
    if (problem !== undefined) {
      errs.push(forbidden("metadata.name", `priority class names with 'system-' prefix are reserved for system use only. error: ${problem}`));
    }
  } else if (value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    errs.push(forbidden("value", `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
  }
  if (present(pc["preemptionPolicy"])) {
    const pp = str(pc["preemptionPolicy"]);
    if (pp === "") errs.push(required("preemptionPolicy"));
    else if (pp !== "PreemptLowerPriority" && pp !== "Never") errs.push(notSupported("preemptionPolicy", pp, ["PreemptLowerPriority", "Never"]));
  }
  return errs;
}

export function validatePriorityClassUpdate(pc: Obj, old: Obj): FieldError[] {
  const errs = validateObjectMetaUpdate(objectMeta(pc), objectMeta(old));
  if (pc["value"] !== old["value"]) errs.push(forbidden("value", "may not be changed in an update."));
  errs.push(...validateImmutableField(pc["preemptionPolicy"] ?? null, old["preemptionPolicy"] ?? null, "preemptionPolicy"));
  return errs;
}

// ---- storage.k8s.io StorageClass ----

const PROVISIONER_PARAMETERS_MAX = 512;
const PROVISIONER_PARAMETERS_BYTES_MAX = 256 * 1024;

function validateStorageClassBody(sc: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const provisioner = str(sc["provisioner"]);
  if (provisioner.length === 0) errs.push(required("provisioner", provisioner));
  else for (const msg of isQualifiedName(provisioner.toLowerCase())) errs.push(invalid("provisioner", provisioner, msg));
  const params = obj(sc["parameters"]);
  const keys = Object.keys(params);
  if (keys.length > PROVISIONER_PARAMETERS_MAX) errs.push(tooLong("parameters", "Provisioner Parameters exceeded max allowed", PROVISIONER_PARAMETERS_MAX));
  let size = 0;
  for (const k of keys) {
    if (k.length < 1) errs.push(invalid("parameters", k, "field can not be empty."));
    size += Buffer.byteLength(k) + Buffer.byteLength(str(params[k]));
  }
  if (size > PROVISIONER_PARAMETERS_BYTES_MAX) errs.push(tooLong("parameters", "", PROVISIONER_PARAMETERS_BYTES_MAX));
  const reclaim = str(sc["reclaimPolicy"]);
  if (reclaim.length > 0 && reclaim !== "Delete" && reclaim !== "Retain") errs.push(notSupported("reclaimPolicy", reclaim, ["Delete", "Retain"]));
  if (!present(sc["volumeBindingMode"])) errs.push(required("volumeBindingMode"));
  else {
    const mode = str(sc["volumeBindingMode"]);
    if (mode !== "Immediate" && mode !== "WaitForFirstConsumer") errs.push(notSupported("volumeBindingMode", mode, ["Immediate", "WaitForFirstConsumer"]));
  }
  return errs;
}

export function validateStorageClass(sc: Obj): FieldError[] {
  return [...validateObjectMeta(objectMeta(sc), false, nameIsDNSSubdomain), ...validateStorageClassBody(sc)];
}

/** ValidateStorageClassUpdate: parameters, provisioner, reclaimPolicy and volumeBindingMode are fixed. */
export function validateStorageClassUpdate(sc: Obj, old: Obj): FieldError[] {
  const errs = [...validateObjectMetaUpdate(objectMeta(sc), objectMeta(old)), ...validateStorageClassBody(sc)];
  if (!deepEqual(sc["parameters"], old["parameters"])) errs.push(forbidden("parameters", "updates to parameters are forbidden."));
  if (str(sc["provisioner"]) !== str(old["provisioner"])) errs.push(forbidden("provisioner", "updates to provisioner are forbidden."));
  if (str(sc["reclaimPolicy"]) !== str(old["reclaimPolicy"])) errs.push(forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden."));
  errs.push(...validateImmutableField(sc["volumeBindingMode"] ?? null, old["volumeBindingMode"] ?? null, "volumeBindingMode"));
  return errs;
}
