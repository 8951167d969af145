/**
 * Validation of apps/v1 workloads, following pkg/apis/apps/validation (Kubernetes 1.32): a selector that
 * is required, non-empty and matches the template's labels, a pod template that restarts Always, the
 * rollout strategy, and a selector that never changes after creation.
 */

import { type FieldError, child, forbidden, goIntOrString, goLabelSelector, GoValue, goQuote, goStringMap, invalid, notSupported, required } from "./field_errors.js";
import { validatePodTemplateSpec } from "./core_v1.js";
import {
  FIELD_IMMUTABLE_ERROR_MSG,
  type NameFn,
  deepEqual,
  isValidPercent,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
  objectMeta,
  selectorIsEmpty,
  selectorMatches,
  validateLabelSelector,
  validateNonnegativeField,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from "./name_validation.js";
import { num, obj, present, str, type Obj } from "./json_access.js";



/** The selector checks every workload shares; `kindWord` is upstream's (ReplicaSet says "deployment", sic). */
function validateSelector(selector: unknown, field: string, kindWord: string): FieldError[] {
  if (!present(selector)) return [required(field)];
  const errs = validateLabelSelector(selector, field);
  if (selectorIsEmpty(selector)) errs.push(invalid(field, goLabelSelector(selector), `empty selector is invalid for ${kindWord}`));
  return errs;
}

/** ValidatePodTemplateSpecForReplicaSet: labels match the selector, restartPolicy Always, no deadline. */
function validateTemplateForWorkload(template: unknown, selector: unknown, field: string, kind: string): FieldError[] {
  if (!present(template)) return [required(field)];
  const errs: FieldError[] = [];
  const t = obj(template);
  const labels = obj(t["metadata"])["labels"];
  if (present(selector) && !selectorIsEmpty(selector) && !selectorMatches(selector, labels)) {
    errs.push(invalid(child(field, "metadata", "labels"), new GoValue(goStringMap(labels as Record<string, string> | undefined)), "`selector` does not match template `labels`"));
  }
  errs.push(...validatePodTemplateSpec(t, field));
  const spec = obj(t["spec"]);
  const restartPolicy = str(spec["restartPolicy"]);
  if (restartPolicy !== "Always") errs.push(notSupported(child(field, "spec", "restartPolicy"), restartPolicy, ["Always"]));
  if (present(spec["activeDeadlineSeconds"])) {
    if (kind === "StatefulSet") errs.push(forbidden(child(field, "spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in StatefulSet is not Supported"));
    else errs.push(invalid(child(field, "spec", "activeDeadlineSeconds"), spec["activeDeadlineSeconds"], `activeDeadlineSeconds in ${kind} is not Supported`));
  }
  return errs;
}

/** ValidatePositiveIntOrPercent. */
function validatePositiveIntOrPercent(v: unknown, field: string): FieldError[] {
  if (typeof v === "string") return isValidPercent(v).map((msg) => invalid(field, goIntOrString(v), msg));
  if (typeof v === "number") return validateNonnegativeField(v, field);
  return [invalid(field, goIntOrString(v), "must be an integer or percentage (e.g '5%')")];
}

function intOrPercentValue(v: unknown): number {
  if (typeof v === "number") return v;
  const m = /^([0-9]+)%$/.exec(str(v));
  return m === null ? -1 : Number(m[1]);
}

function isNotMoreThan100Percent(v: unknown, field: string): FieldError[] {
  if (typeof v !== "string" || !/^[0-9]+%$/.test(v)) return [];
  return intOrPercentValue(v) <= 100 ? [] : [invalid(field, goIntOrString(v), "must not be greater than 100%")];
}

function validateRollingUpdate(ru: Obj, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const maxUnavailable = ru["maxUnavailable"];
  const maxSurge = ru["maxSurge"];
  errs.push(...validatePositiveIntOrPercent(maxUnavailable, child(field, "maxUnavailable")));
  errs.push(...validatePositiveIntOrPercent(maxSurge, child(field, "maxSurge")));
  if (intOrPercentValue(maxUnavailable) === 0 && intOrPercentValue(maxSurge) === 0) {
    errs.push(invalid(child(field, "maxUnavailable"), goIntOrString(maxUnavailable), "may not be 0 when `maxSurge` is 0"));
  }
  errs.push(...isNotMoreThan100Percent(maxUnavailable, child(field, "maxUnavailable")));
  return errs;
}

function goDeploymentStrategy(s: Obj): GoValue {
  const ru = present(s["rollingUpdate"]) ? "(*apps.RollingUpdateDeployment)(0xc000000000)" : "(*apps.RollingUpdateDeployment)(nil)";
  return new GoValue(`apps.DeploymentStrategy{Type:${goQuote(str(s["type"]))}, RollingUpdate:${ru}}`);
}

function validateDeploymentStrategy(strategy: Obj, field: string): FieldError[] {
  switch (str(strategy["type"])) {
    case "Recreate":
      return present(strategy["rollingUpdate"]) ? [forbidden(child(field, "rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")] : [];
    case "RollingUpdate":
      if (!present(strategy["rollingUpdate"])) return [required(child(field, "rollingUpdate"), "this should be defaulted and never be nil")];
      return validateRollingUpdate(obj(strategy["rollingUpdate"]), child(field, "rollingUpdate"));
    default:
      return [notSupported(field, goDeploymentStrategy(strategy), ["Recreate", "RollingUpdate"])];
  }
}

/** ValidateDeploymentSpec. */
function validateDeploymentSpec(specRaw: unknown, field: string): FieldError[] {
  const spec = obj(specRaw);
  const errs = validateNonnegativeField(num(spec["replicas"]), child(field, "replicas"));
  errs.push(...validateSelector(spec["selector"], child(field, "selector"), "deployment"));
  errs.push(...validateTemplateForWorkload(spec["template"], spec["selector"], child(field, "template"), "Deployment"));
  errs.push(...validateDeploymentStrategy(obj(spec["strategy"]), child(field, "strategy")));
  errs.push(...validateNonnegativeField(num(spec["minReadySeconds"]), child(field, "minReadySeconds")));
  if (present(spec["revisionHistoryLimit"])) errs.push(...validateNonnegativeField(num(spec["revisionHistoryLimit"]), child(field, "revisionHistoryLimit")));
  if (present(spec["progressDeadlineSeconds"])) {
    const pds = num(spec["progressDeadlineSeconds"]);
    errs.push(...validateNonnegativeField(pds, child(field, "progressDeadlineSeconds")));
    if (pds <= num(spec["minReadySeconds"])) errs.push(invalid(child(field, "progressDeadlineSeconds"), pds, "must be greater than minReadySeconds"));
  }
  return errs;
}

function selectorImmutable(n: Obj, o: Obj): FieldError[] {
  const ns = obj(n["spec"])["selector"];
  const os = obj(o["spec"])["selector"];
  return deepEqual(ns, os) ? [] : [invalid("spec.selector", goLabelSelector(ns), FIELD_IMMUTABLE_ERROR_MSG)];
}

function create(nameFn: NameFn, validateSpec: (spec: unknown, field: string) => FieldError[]): (o: Obj) => FieldError[] {
  return (o) => [...validateObjectMeta(objectMeta(o), true, nameFn), ...validateSpec(o["spec"], "spec")];
}

export const validateDeployment = create(nameIsDNSSubdomain, validateDeploymentSpec);

export function validateDeploymentUpdate(d: Obj, old: Obj): FieldError[] {
  return [...validateObjectMetaUpdate(objectMeta(d), objectMeta(old)), ...validateDeploymentSpec(d["spec"], "spec"), ...selectorImmutable(d, old)];
}

/** ValidateReplicaSetSpec. */
function validateReplicaSetSpec(specRaw: unknown, field: string): FieldError[] {
  const spec = obj(specRaw);
  const errs = validateNonnegativeField(num(spec["replicas"]), child(field, "replicas"));
  errs.push(...validateNonnegativeField(num(spec["minReadySeconds"]), child(field, "minReadySeconds")));
  errs.push(...validateSelector(spec["selector"], child(field, "selector"), "deployment"));
  errs.push(...validateTemplateForWorkload(spec["template"], spec["selector"], child(field, "template"), "ReplicaSet"));
  return errs;
}

export const validateReplicaSet = create(nameIsDNSSubdomain, validateReplicaSetSpec);

export function validateReplicaSetUpdate(rs: Obj, old: Obj): FieldError[] {
  return [...validateObjectMetaUpdate(objectMeta(rs), objectMeta(old)), ...validateReplicaSetSpec(rs["spec"], "spec"), ...selectorImmutable(rs, old)];
}

/** ValidateStatefulSetSpec. */
function validateStatefulSetSpec(specRaw: unknown, field: string): FieldError[] {
  const spec = obj(specRaw);
  const errs: FieldError[] = [];
  const pmp = str(spec["podManagementPolicy"]);
  if (pmp === "") errs.push(required(child(field, "podManagementPolicy")));
  else if (pmp !== "OrderedReady" && pmp !== "Parallel") errs.push(invalid(child(field, "podManagementPolicy"), pmp, "must be 'OrderedReady' or 'Parallel'"));
  const strategy = obj(spec["updateStrategy"]);
  switch (str(strategy["type"])) {
    case "":
      errs.push(required(child(field, "updateStrategy")));
      break;
    case "OnDelete":
      if (present(strategy["rollingUpdate"])) {
        errs.push(invalid(child(field, "updateStrategy", "rollingUpdate"), new GoValue("(*apps.RollingUpdateStatefulSetStrategy)(0xc000000000)"), "only allowed for updateStrategy 'RollingUpdate'"));
      }
      break;
    case "RollingUpdate": {
      const ru = obj(strategy["rollingUpdate"]);
      if (present(ru["partition"])) errs.push(...validateNonnegativeField(num(ru["partition"]), child(field, "updateStrategy", "rollingUpdate", "partition")));
      if (present(ru["maxUnavailable"])) {
        const p = child(field, "updateStrategy", "rollingUpdate", "maxUnavailable");
        errs.push(...validatePositiveIntOrPercent(ru["maxUnavailable"], p));
        if (intOrPercentValue(ru["maxUnavailable"]) === 0) errs.push(invalid(p, goIntOrString(ru["maxUnavailable"]), "cannot be 0"));
        errs.push(...isNotMoreThan100Percent(ru["maxUnavailable"], p));
      }
      break;
    }
    default:
      errs.push(invalid(child(field, "updateStrategy"), new GoValue(`apps.StatefulSetUpdateStrategy{Type:${goQuote(str(strategy["type"]))}, RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}`), "must be 'RollingUpdate' or 'OnDelete'"));
  }
  const retention = obj(spec["persistentVolumeClaimRetentionPolicy"]);
  for (const f of ["whenDeleted", "whenScaled"]) {
    const v = retention[f];
    if (present(v) && v !== "Retain" && v !== "Delete") errs.push(notSupported(child(field, "persistentVolumeClaimRetentionPolicy", f), str(v), ["Retain", "Delete"]));
  }
  errs.push(...validateNonnegativeField(num(spec["replicas"]), child(field, "replicas")));
  errs.push(...validateNonnegativeField(num(spec["minReadySeconds"]), child(field, "minReadySeconds")));
  if (present(spec["ordinals"])) errs.push(...validateNonnegativeField(num(obj(spec["ordinals"])["start"]), child(field, "ordinals", "start")));
  errs.push(...validateSelector(spec["selector"], child(field, "selector"), "statefulset"));
  const tp = child(field, "template");
  const t = obj(spec["template"]);
  const labels = obj(t["metadata"])["labels"];
  if (present(spec["selector"]) && !selectorIsEmpty(spec["selector"]) && !selectorMatches(spec["selector"], labels)) {
    errs.push(invalid(child(tp, "metadata", "labels"), new GoValue(goStringMap(labels as Record<string, string> | undefined)), "`selector` does not match template `labels`"));
  }
  errs.push(...validatePodTemplateSpec(t, tp));
  const tspec = obj(t["spec"]);
  if (str(tspec["restartPolicy"]) !== "Always") errs.push(notSupported(child(tp, "spec", "restartPolicy"), str(tspec["restartPolicy"]), ["Always"]));
  if (present(tspec["activeDeadlineSeconds"])) errs.push(forbidden(child(tp, "spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in StatefulSet is not Supported"));
  return errs;
}

// Pods of a StatefulSet are named <set>-<ordinal> and used as hostnames, so the set name is a DNS label.
export const validateStatefulSet = create(nameIsDNSLabel, validateStatefulSetSpec);

/** The spec fields a StatefulSet update may change, as upstream's message lists them. */
const STATEFULSET_MUTABLE = ["replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"];

export function validateStatefulSetUpdate(sts: Obj, old: Obj): FieldError[] {
  const errs = [...validateObjectMetaUpdate(objectMeta(sts), objectMeta(old)), ...validateStatefulSetSpec(sts["spec"], "spec")];
  const spec = { ...obj(sts["spec"]) };
  const oldSpec = { ...obj(old["spec"]) };
  for (const f of STATEFULSET_MUTABLE) {
    delete spec[f];
    delete oldSpec[f];
  }
  if (!deepEqual(spec, oldSpec)) {
    errs.push(
      forbidden(
        "spec",
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      ),
    );
  }
  return errs;
}

/** ValidateDaemonSetSpec. */
function validateDaemonSetSpec(specRaw: unknown, field: string): FieldError[] {
  const spec = obj(specRaw);
  const errs: FieldError[] = [];
  errs.push(...validateSelector(spec["selector"], child(field, "selector"), "daemonset"));
  const tp = child(field, "template");
  const t = obj(spec["template"]);
  const labels = obj(t["metadata"])["labels"];
  if (present(spec["selector"]) && !selectorMatches(spec["selector"], labels)) {
    errs.push(invalid(child(tp, "metadata", "labels"), new GoValue(goStringMap(labels as Record<string, string> | undefined)), "`selector` does not match template `labels`"));
  }
  errs.push(...validatePodTemplateSpec(t, tp));
  const tspec = obj(t["spec"]);
  if (str(tspec["restartPolicy"]) !== "Always") errs.push(notSupported(child(tp, "spec", "restartPolicy"), str(tspec["restartPolicy"]), ["Always"]));
  if (present(tspec["activeDeadlineSeconds"])) {
    errs.push(invalid(child(tp, "spec", "activeDeadlineSeconds"), tspec["activeDeadlineSeconds"], "activeDeadlineSeconds in DaemonSet is not Supported"));
  }
  errs.push(...validateNonnegativeField(num(spec["minReadySeconds"]), child(field, "minReadySeconds")));
  errs.push(...validateNonnegativeField(num(spec["templateGeneration"]), child(field, "templateGeneration")));
  const strategy = obj(spec["updateStrategy"]);
  const sp = child(field, "updateStrategy");
  switch (str(strategy["type"])) {
    case "OnDelete":
      break;
    case "RollingUpdate": {
      const ru = obj(strategy["rollingUpdate"]);
      if (!present(strategy["rollingUpdate"])) {
        errs.push(required(child(sp, "rollingUpdate")));
        break;
      }
      const rp = child(sp, "rollingUpdate");
      errs.push(...validatePositiveIntOrPercent(ru["maxUnavailable"], child(rp, "maxUnavailable")));
      errs.push(...validatePositiveIntOrPercent(ru["maxSurge"], child(rp, "maxSurge")));
      const mu = intOrPercentValue(ru["maxUnavailable"]);
      const ms = intOrPercentValue(ru["maxSurge"]);
      if (mu === 0 && ms === 0) errs.push(invalid(child(rp, "maxUnavailable"), goIntOrString(ru["maxUnavailable"]), "may not be 0 when `maxSurge` is 0"));
      if (mu !== 0 && ms !== 0) errs.push(invalid(child(rp, "maxSurge"), goIntOrString(ru["maxSurge"]), "may not be set when maxUnavailable is non-zero"));
      errs.push(...isNotMoreThan100Percent(ru["maxUnavailable"], child(rp, "maxUnavailable")));
      break;
    }
    default:
      errs.push(notSupported(child(sp, "type"), new GoValue(`apps.DaemonSetUpdateStrategy{Type:${goQuote(str(strategy["type"]))}, RollingUpdate:(*apps.RollingUpdateDaemonSet)(nil)}`), ["OnDelete", "RollingUpdate"]));
  }
  if (present(spec["revisionHistoryLimit"])) errs.push(...validateNonnegativeField(num(spec["revisionHistoryLimit"]), child(field, "revisionHistoryLimit")));
  return errs;
}

export const validateDaemonSet = create(nameIsDNSSubdomain, validateDaemonSetSpec);

export function validateDaemonSetUpdate(ds: Obj, old: Obj): FieldError[] {
  const errs = [...validateObjectMetaUpdate(objectMeta(ds), objectMeta(old)), ...validateDaemonSetSpec(ds["spec"], "spec"), ...selectorImmutable(ds, old)];
  const tg = num(obj(ds["spec"])["templateGeneration"]);
  const oldTg = num(obj(old["spec"])["templateGeneration"]);
  if (tg < oldTg) errs.push(invalid("spec.templateGeneration", tg, "must not be decremented"));
  return errs;
}

/** ValidateControllerRevision: data is required and revision non-negative. */
export function validateControllerRevision(cr: Obj): FieldError[] {
  const errs = validateObjectMeta(objectMeta(cr), true, nameIsDNSSubdomain);
  if (!present(cr["data"])) errs.push(required("data", "data is mandatory"));
  errs.push(...validateNonnegativeField(num(cr["revision"]), "revision"));
  return errs;
}

export function validateControllerRevisionUpdate(cr: Obj, old: Obj): FieldError[] {
  const errs = [...validateObjectMetaUpdate(objectMeta(cr), objectMeta(old)), ...validateNonnegativeField(num(cr["revision"]), "revision")];
  if (!deepEqual(cr["data"], old["data"])) errs.push(invalid("data", new GoValue("runtime.RawExtension{...}"), FIELD_IMMUTABLE_ERROR_MSG));
  return errs;
}
