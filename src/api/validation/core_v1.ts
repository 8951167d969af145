/**
 * Validation of core/v1 objects, following pkg/apis/core/validation (Kubernetes 1.32) over defaulted v1
 * JSON: the same checks, in the same order, with the same field paths and messages. The pod spec part
 * is shared with the workload kinds (apps, batch) through `validatePodTemplateSpec`.
 */

import {
  type FieldError,
  child,
  duplicate,
  forbidden,
  GoValue,
  goQuote,
  goStringMap,
  index,
  internalError,
  invalid,
  key,
  notFound,
  notSupported,
  required,
  tooLong,
} from "./field_errors.js";
import {
  IS_NEGATIVE_ERROR_MSG,
  deepEqual,
  inclusiveRangeError,
  isConfigMapKey,
  isDNS1123Subdomain,
  isEnvVarName,
  isHTTPHeaderName,
  isQualifiedName,
  isValidIP,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
  nameIsDNS1035Label,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
  objectMeta,
  validateAnnotations,
  validateDNS1123Label,
  validateDNS1123Subdomain,
  validateImmutableField,
  validateLabelName,
  validateLabels,
  validateLabelSelector,
  validateNonnegativeField,
  validateObjectMeta,
  validateObjectMetaUpdate,
  validateQualifiedName,
} from "./name_validation.js";
import { arr, num, obj, present, str, type Obj } from "./json_access.js";
import { type Quantity, compareQuantities, milliValue, parseQuantity, QuantityError, quantityString } from "./quantity.js";



const MAX_INT32 = 2147483647;
/** Upstream's MaxSecretSize (1 MiB), which also bounds ConfigMaps. */
export const MAX_SECRET_SIZE_BYTES = 1024 * 1024;

// ---- resources and quantities ----

/** A quantity from JSON, or an error at its field (the decoder would have rejected it upstream). */
function quantityAt(value: unknown, field: string, errs: FieldError[]): Quantity | undefined {
  if (typeof value !== "string" && typeof value !== "number") {
    errs.push(invalid(field, value ?? null, "must be a quantity"));
    return undefined;
  }
  try {
    return parseQuantity(value);
  } catch (err) {
    if (!(err instanceof QuantityError)) throw err;
    errs.push(invalid(field, String(value), err.message));
    return undefined;
  }
}

const STANDARD_CONTAINER_RESOURCES = new Set(["cpu", "memory", "ephemeral-storage"]);

function isNativeResource(name: string): boolean {
  return !name.includes("/") || name.includes("kubernetes.io/");
}

function isHugePageResource(name: string): boolean {
  return name.startsWith("hugepages-");
}

function isOvercommitAllowed(name: string): boolean {
  return isNativeResource(name) && !isHugePageResource(name);
}

// Extended resources (domain-prefixed, outside kubernetes.io) are counted, never split.
function isIntegerResource(name: string): boolean {
  return !isNativeResource(name) && !name.startsWith("requests.");
}

function validateResourceName(name: string, field: string): FieldError[] {
  const errs = isQualifiedName(name).map((msg) => invalid(field, name, msg));
  if (errs.length !== 0) return errs;
  if (!name.includes("/")) {
    if (!STANDARD_CONTAINER_RESOURCES.has(name) && !isHugePageResource(name)) {
      errs.push(invalid(field, name, "must be a standard resource for containers"));
    }
  } else if (!isNativeResource(name) && name.startsWith("requests.")) {
    errs.push(invalid(field, name, "doesn't follow extended resource name standard"));
  }
  return errs;
}

function validateResourceQuantityValue(resource: string, q: Quantity, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (q.mantissa < 0n) errs.push(invalid(field, quantityString(q), IS_NEGATIVE_ERROR_MSG));
  if (isIntegerResource(resource) && milliValue(q) % 1000n !== 0n) errs.push(invalid(field, new GoValue(quantityString(q)), "must be an integer"));
  return errs;
}

/** ValidateContainerResourceRequirements: names, quantities, requests ≤ limits. */
export function validateResourceRequirements(resources: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const r = obj(resources);
  const limPath = child(field, "limits");
  const reqPath = child(field, "requests");
  const limits = new Map<string, Quantity>();
  for (const [name, raw] of Object.entries(obj(r["limits"]))) {
    const p = key(limPath, name);
    errs.push(...validateResourceName(name, p));
    const q = quantityAt(raw, p, errs);
    if (q === undefined) continue;
    limits.set(name, q);
    errs.push(...validateResourceQuantityValue(name, q, p));
  }
  for (const [name, raw] of Object.entries(obj(r["requests"]))) {
    const p = key(reqPath, name);
    errs.push(...validateResourceName(name, p));
    const q = quantityAt(raw, p, errs);
    if (q === undefined) continue;
    errs.push(...validateResourceQuantityValue(name, q, p));
    const limit = limits.get(name);
    if (limit !== undefined) {
      if (compareQuantities(q, limit) !== 0 && !isOvercommitAllowed(name)) {
        errs.push(invalid(reqPath, quantityString(q), `must be equal to ${name} limit of ${quantityString(limit)}`));
      } else if (compareQuantities(q, limit) > 0) {
        errs.push(invalid(reqPath, quantityString(q), `must be less than or equal to ${name} limit of ${quantityString(limit)}`));
      }
    } else if (!isOvercommitAllowed(name)) {
      errs.push(required(limPath, "Limit must be set for non overcommitable resources"));
    }
  }
  return errs;
}

// ---- volumes ----

// The volume source fields in upstream's check order; the first one found counts, later ones are forbidden.
const VOLUME_SOURCES = [
  "emptyDir",
  "hostPath",
  "gitRepo",
  "gcePersistentDisk",
  "awsElasticBlockStore",
  "secret",
  "nfs",
  "iscsi",
  "glusterfs",
  "flocker",
  "persistentVolumeClaim",
  "rbd",
  "quobyte",
  "cinder",
  "cephfs",
  "downwardAPI",
  "fc",
  "azureFile",
  "configMap",
  "vsphereVolume",
  "azureDisk",
  "photonPersistentDisk",
  "projected",
  "portworxVolume",
  "scaleIO",
  "storageos",
  "csi",
  "ephemeral",
  "image",
] as const;

function validateVolumeSource(source: Obj, field: string): FieldError[] {
  const errs: FieldError[] = [];
  let count = 0;
  for (const name of VOLUME_SOURCES) {
    if (!present(source[name])) continue;
    const p = child(field, name);
    if (count > 0 && name !== "emptyDir") {
      errs.push(forbidden(p, "may not specify more than 1 volume type"));
      continue;
    }
    count++;
    const s = obj(source[name]);
    switch (name) {
      case "hostPath":
        if (str(s["path"]) === "") errs.push(required(child(p, "path")));
        break;
      case "secret":
        if (str(s["secretName"]) === "") errs.push(required(child(p, "secretName")));
        break;
      case "configMap":
        if (str(s["name"]) === "") errs.push(required(child(p, "name")));
        break;
      case "nfs":
        if (str(s["server"]) === "") errs.push(required(child(p, "server")));
        if (str(s["path"]) === "") errs.push(required(child(p, "path")));
        else if (!str(s["path"]).startsWith("/")) errs.push(invalid(child(p, "path"), str(s["path"]), "must be an absolute path"));
        break;
      case "persistentVolumeClaim":
        if (str(s["claimName"]) === "") errs.push(required(child(p, "claimName")));
        break;
      case "csi":
        if (str(s["driver"]) === "") errs.push(required(child(p, "driver")));
        break;
      case "emptyDir": {
        if (present(s["sizeLimit"])) {
          const q = quantityAt(s["sizeLimit"], child(p, "sizeLimit"), errs);
          if (q !== undefined && q.mantissa < 0n) errs.push(invalid(child(p, "sizeLimit"), quantityString(q), IS_NEGATIVE_ERROR_MSG));
        }
        const medium = str(s["medium"]);
        if (medium !== "" && medium !== "Memory" && !medium.startsWith("HugePages")) {
          errs.push(notSupported(child(p, "medium"), medium, ["", "Memory", "HugePages"]));
        }
        break;
      }
    }
  }
  if (count === 0) errs.push(required(field, "must specify a volume type"));
  return errs;
}

/** ValidateVolumes: unique DNS-label names, exactly one source each; returns the valid volumes by name. */
export function validateVolumes(volumes: unknown, field: string): { names: Map<string, Obj>; errs: FieldError[] } {
  const errs: FieldError[] = [];
  const names = new Map<string, Obj>();
  arr(volumes).forEach((raw, i) => {
    const vol = obj(raw);
    const p = index(field, i);
    const namePath = child(p, "name");
    const name = str(vol["name"]);
    const el = validateVolumeSource(vol, p);
    if (name.length === 0) el.push(required(namePath));
    else el.push(...validateDNS1123Label(name, namePath));
    if (names.has(name)) el.push(duplicate(namePath, name));
    if (el.length === 0) names.set(name, vol);
    else errs.push(...el);
  });
  return { names, errs };
}

// ---- containers ----

const SUPPORTED_PORT_PROTOCOLS = ["SCTP", "TCP", "UDP"];

function validateContainerPorts(ports: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  arr(ports).forEach((raw, i) => {
    const port = obj(raw);
    const p = index(field, i);
    const name = str(port["name"]);
    if (name.length > 0) {
      const msgs = isValidPortName(name);
      if (msgs.length !== 0) for (const msg of msgs) errs.push(invalid(child(p, "name"), name, msg));
      else if (names.has(name)) errs.push(duplicate(child(p, "name"), name));
      else names.add(name);
    }
    const containerPort = num(port["containerPort"]);
    if (containerPort === 0) errs.push(required(child(p, "containerPort")));
    else for (const msg of isValidPortNum(containerPort)) errs.push(invalid(child(p, "containerPort"), containerPort, msg));
    const hostPort = num(port["hostPort"]);
    if (hostPort !== 0) for (const msg of isValidPortNum(hostPort)) errs.push(invalid(child(p, "hostPort"), hostPort, msg));
    const protocol = str(port["protocol"]);
    if (protocol.length === 0) errs.push(required(child(p, "protocol")));
    else if (!SUPPORTED_PORT_PROTOCOLS.includes(protocol)) errs.push(notSupported(child(p, "protocol"), protocol, SUPPORTED_PORT_PROTOCOLS));
  });
  return errs;
}

const VALID_ENV_FIELD_PATHS = [
  "metadata.name",
  "metadata.namespace",
  "metadata.uid",
  "spec.nodeName",
  "spec.serviceAccountName",
  "status.hostIP",
  "status.hostIPs",
  "status.podIP",
  "status.podIPs",
];
const VALID_ENV_RESOURCE_PATHS = ["limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu", "requests.ephemeral-storage", "requests.memory"];

function validateKeySelector(sel: Obj, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(sel["name"]);
  for (const msg of nameIsDNSSubdomain(name, false)) errs.push(invalid(child(field, "name"), name, msg));
  const k = str(sel["key"]);
  if (k.length === 0) errs.push(required(child(field, "key")));
  else for (const msg of isConfigMapKey(k)) errs.push(invalid(child(field, "key"), k, msg));
  return errs;
}

function validateEnv(env: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  arr(env).forEach((raw, i) => {
    const ev = obj(raw);
    const p = index(field, i);
    const name = str(ev["name"]);
    if (name.length === 0) errs.push(required(child(p, "name")));
    else for (const msg of isEnvVarName(name)) errs.push(invalid(child(p, "name"), name, msg));
    if (!present(ev["valueFrom"])) return;
    const from = obj(ev["valueFrom"]);
    const fp = child(p, "valueFrom");
    let sources = 0;
    if (present(from["fieldRef"])) {
      sources++;
      const ref = obj(from["fieldRef"]);
      const rp = child(fp, "fieldRef");
      const fieldPath = str(ref["fieldPath"]);
      if (str(ref["apiVersion"]) === "") errs.push(required(child(rp, "apiVersion")));
      else if (fieldPath === "") errs.push(required(child(rp, "fieldPath")));
      else {
        const m = /^(metadata\.(?:labels|annotations))\['(.*)'\]$/.exec(fieldPath);
        if (m !== null) {
          const sub = m[1] === "metadata.annotations" ? m[2]!.toLowerCase() : m[2]!;
          errs.push(...validateQualifiedName(sub, rp));
        } else if (!VALID_ENV_FIELD_PATHS.includes(fieldPath)) {
          errs.push(notSupported(child(rp, "fieldPath"), fieldPath, VALID_ENV_FIELD_PATHS));
        }
      }
    }
    if (present(from["resourceFieldRef"])) {
      sources++;
      const ref = obj(from["resourceFieldRef"]);
      const rp = child(fp, "resourceFieldRef");
      const resource = str(ref["resource"]);
      if (resource === "") errs.push(required(child(rp, "resource")));
      else if (!VALID_ENV_RESOURCE_PATHS.includes(resource) && !/^(requests|limits)\.hugepages-/.test(resource)) {
        errs.push(notSupported(child(rp, "resource"), resource, VALID_ENV_RESOURCE_PATHS));
      }
    }
    if (present(from["configMapKeyRef"])) {
      sources++;
      errs.push(...validateKeySelector(obj(from["configMapKeyRef"]), child(fp, "configMapKeyRef")));
    }
    if (present(from["secretKeyRef"])) {
      sources++;
      errs.push(...validateKeySelector(obj(from["secretKeyRef"]), child(fp, "secretKeyRef")));
    }
    if (sources === 0) errs.push(invalid(fp, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"));
    else if (str(ev["value"]).length !== 0) errs.push(invalid(fp, "", "may not be specified when `value` is not empty"));
    else if (sources > 1) errs.push(invalid(fp, "", "may not have more than one field specified at a time"));
  });
  return errs;
}

function validateEnvFrom(envFrom: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  arr(envFrom).forEach((raw, i) => {
    const ev = obj(raw);
    const p = index(field, i);
    const prefix = str(ev["prefix"]);
    if (prefix.length > 0) for (const msg of isEnvVarName(prefix)) errs.push(invalid(child(p, "prefix"), prefix, msg));
    let sources = 0;
    for (const ref of ["configMapRef", "secretRef"]) {
      if (!present(ev[ref])) continue;
      sources++;
      const name = str(obj(ev[ref])["name"]);
      if (name.length === 0) errs.push(required(child(p, ref, "name")));
      else for (const msg of nameIsDNSSubdomain(name, true)) errs.push(invalid(child(p, ref, "name"), name, msg));
    }
    if (sources === 0) errs.push(invalid(field, "", "must specify one of: `configMapRef` or `secretRef`"));
    else if (sources > 1) errs.push(invalid(field, "", "may not have more than one field specified at a time"));
  });
  return errs;
}

function validateVolumeMounts(mounts: unknown, volumes: Map<string, Obj>, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const paths = new Set<string>();
  arr(mounts).forEach((raw, i) => {
    const m = obj(raw);
    const p = index(field, i);
    const name = str(m["name"]);
    const mountPath = str(m["mountPath"]);
    if (name.length === 0) errs.push(required(child(p, "name")));
    if (!volumes.has(name)) errs.push(notFound(child(p, "name"), name));
    if (mountPath.length === 0) errs.push(required(child(p, "mountPath")));
    if (paths.has(mountPath)) errs.push(invalid(child(p, "mountPath"), mountPath, "must be unique"));
    paths.add(mountPath);
    const subPath = str(m["subPath"]);
    if (subPath.length > 0) errs.push(...validateLocalDescendingPath(subPath, child(field, "subPath")));
    const subPathExpr = str(m["subPathExpr"]);
    if (subPathExpr.length > 0) {
      if (subPath.length > 0) errs.push(invalid(child(p, "subPathExpr"), subPathExpr, "subPathExpr and subPath are mutually exclusive"));
      errs.push(...validateLocalDescendingPath(subPathExpr, child(field, "subPathExpr")));
    }
    if (present(m["mountPropagation"])) {
      const mp = str(m["mountPropagation"]);
      const valid = ["Bidirectional", "HostToContainer", "None"];
      if (!valid.includes(mp)) errs.push(notSupported(child(field, "mountPropagation"), mp, valid));
    }
  });
  return errs;
}

function validateLocalDescendingPath(target: string, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (target.startsWith("/")) errs.push(invalid(field, target, "must be a relative path"));
  if (target.split(/[\\/]/).includes("..")) errs.push(invalid(field, target, "must not contain '..'"));
  return errs;
}

function validatePortNumOrName(port: unknown, field: string): FieldError[] {
  if (typeof port === "number") return isValidPortNum(port).map((msg) => invalid(field, port, msg));
  if (typeof port === "string") return isValidPortName(port).map((msg) => invalid(field, port, msg));
  return [internalError(field, "unknown type: 0")];
}

function validateHandler(handler: Obj, field: string, gracePeriod: number | undefined, lifecycle: boolean): FieldError[] {
  const errs: FieldError[] = [];
  let handlers = 0;
  const kinds = lifecycle ? ["exec", "httpGet", "tcpSocket", "sleep"] : ["exec", "httpGet", "tcpSocket", "grpc"];
  for (const kind of kinds) {
    if (!present(handler[kind])) continue;
    const p = child(field, kind);
    if (handlers > 0) {
      errs.push(forbidden(p, "may not specify more than 1 handler type"));
      continue;
    }
    handlers++;
    const h = obj(handler[kind]);
    switch (kind) {
      case "exec":
        if (arr(h["command"]).length === 0) errs.push(required(child(p, "command")));
        break;
      case "httpGet": {
        if (str(h["path"]).length === 0) errs.push(required(child(p, "path")));
        errs.push(...validatePortNumOrName(h["port"], child(p, "port")));
        const scheme = str(h["scheme"]);
        if (scheme !== "HTTP" && scheme !== "HTTPS") errs.push(notSupported(child(p, "scheme"), scheme, ["HTTP", "HTTPS"]));
        for (const header of arr(h["httpHeaders"])) {
          const hn = str(obj(header)["name"]);
          for (const msg of isHTTPHeaderName(hn)) errs.push(invalid(child(p, "httpHeaders"), hn, msg));
        }
        break;
      }
      case "tcpSocket":
        errs.push(...validatePortNumOrName(h["port"], child(p, "port")));
        break;
      case "grpc":
        errs.push(...validatePortNumOrName(num(h["port"]), child(p, "port")));
        break;
      case "sleep": {
        const seconds = num(h["seconds"]);
        if (gracePeriod !== undefined && (seconds <= 0 || seconds > gracePeriod)) {
          errs.push(
            invalid(
              p,
              seconds,
              `must be greater than 0 and less than terminationGracePeriodSeconds (${gracePeriod}). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.`,
            ),
          );
        }
        break;
      }
    }
  }
  if (handlers === 0) errs.push(required(field, "must specify a handler type"));
  return errs;
}

function validateProbe(probe: Obj, field: string, gracePeriod: number | undefined): FieldError[] {
  const errs = validateHandler(probe, field, gracePeriod, false);
  for (const f of ["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"]) {
    errs.push(...validateNonnegativeField(num(probe[f]), child(field, f)));
  }
  const tgps = probe["terminationGracePeriodSeconds"];
  if (typeof tgps === "number" && tgps <= 0) errs.push(invalid(child(field, "terminationGracePeriodSeconds"), tgps, "must be greater than 0"));
  return errs;
}

function validateProbes(ctr: Obj, p: string, gracePeriod: number | undefined): FieldError[] {
  const errs: FieldError[] = [];
  if (present(ctr["lifecycle"])) {
    const lc = obj(ctr["lifecycle"]);
    for (const hook of ["postStart", "preStop"]) {
      if (present(lc[hook])) errs.push(...validateHandler(obj(lc[hook]), child(p, "lifecycle", hook), gracePeriod, true));
    }
  }
  if (present(ctr["livenessProbe"])) {
    const probe = obj(ctr["livenessProbe"]);
    errs.push(...validateProbe(probe, child(p, "livenessProbe"), gracePeriod));
    if (num(probe["successThreshold"]) !== 1) errs.push(invalid(child(p, "livenessProbe", "successThreshold"), num(probe["successThreshold"]), "must be 1"));
  }
  if (present(ctr["readinessProbe"])) {
    const probe = obj(ctr["readinessProbe"]);
    errs.push(...validateProbe(probe, child(p, "readinessProbe"), gracePeriod));
    if (present(probe["terminationGracePeriodSeconds"])) {
      errs.push(invalid(child(p, "readinessProbe", "terminationGracePeriodSeconds"), probe["terminationGracePeriodSeconds"], "must not be set for readinessProbes"));
    }
  }
  if (present(ctr["startupProbe"])) {
    const probe = obj(ctr["startupProbe"]);
    errs.push(...validateProbe(probe, child(p, "startupProbe"), gracePeriod));
    if (num(probe["successThreshold"]) !== 1) errs.push(invalid(child(p, "startupProbe", "successThreshold"), num(probe["successThreshold"]), "must be 1"));
  }
  return errs;
}

function validatePullPolicy(policy: string, field: string): FieldError[] {
  if (policy === "Always" || policy === "IfNotPresent" || policy === "Never") return [];
  if (policy === "") return [required(field)];
  return [notSupported(field, policy, ["Always", "IfNotPresent", "Never"])];
}

function validateSecurityContext(sc: unknown, field: string): FieldError[] {
  if (!present(sc)) return [];
  const s = obj(sc);
  const errs: FieldError[] = [];
  for (const f of ["runAsUser", "runAsGroup"]) {
    const v = s[f];
    if (typeof v === "number" && (v < 0 || v > 0xffffffff)) errs.push(invalid(child(field, f), v, inclusiveRangeError(0, 4294967295)));
  }
  if (s["privileged"] === true && s["allowPrivilegeEscalation"] === false) {
    errs.push(invalid(field, new GoValue("core.SecurityContext{...}"), "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"));
  }
  return errs;
}

/** validateContainerCommon: what every container kind shares. */
function validateContainerCommon(ctr: Obj, volumes: Map<string, Obj>, p: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(ctr["name"]);
  if (name.length === 0) errs.push(required(child(p, "name")));
  else errs.push(...validateDNS1123Label(name, child(p, "name")));
  if (str(ctr["image"]).length === 0) errs.push(required(child(p, "image")));
  const tmp = str(ctr["terminationMessagePolicy"]);
  if (tmp === "") errs.push(required(child(p, "terminationMessagePolicy")));
  else if (tmp !== "File" && tmp !== "FallbackToLogsOnError") {
    errs.push(notSupported(child(p, "terminationMessagePolicy"), tmp, ["File", "FallbackToLogsOnError"]));
  }
  errs.push(...validateContainerPorts(ctr["ports"], child(p, "ports")));
  errs.push(...validateEnv(ctr["env"], child(p, "env")));
  errs.push(...validateEnvFrom(ctr["envFrom"], child(p, "envFrom")));
  errs.push(...validateVolumeMounts(ctr["volumeMounts"], volumes, child(p, "volumeMounts")));
  errs.push(...validatePullPolicy(str(ctr["imagePullPolicy"]), child(p, "imagePullPolicy")));
  errs.push(...validateResourceRequirements(ctr["resources"], child(p, "resources")));
  errs.push(...validateSecurityContext(ctr["securityContext"], child(p, "securityContext")));
  return errs;
}

/** Host ports must not collide within one list (protocol/hostIP/port). */
function checkHostPortConflicts(containers: unknown[], field: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  containers.forEach((raw, ci) => {
    arr(obj(raw)["ports"]).forEach((rawPort, pi) => {
      const port = obj(rawPort);
      const hostPort = num(port["hostPort"]);
      if (hostPort === 0) return;
      const k = `${str(port["protocol"])}/${str(port["hostIP"])}/${hostPort}`;
      if (seen.has(k)) errs.push(duplicate(child(index(child(index(field, ci), "ports"), pi), "hostPort"), k));
      else seen.add(k);
    });
  });
  return errs;
}

function validateContainers(containers: unknown, volumes: Map<string, Obj>, gracePeriod: number | undefined, field: string): FieldError[] {
  const list = arr(containers);
  if (list.length === 0) return [required(field)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  list.forEach((raw, i) => {
    const ctr = obj(raw);
    const p = index(field, i);
    errs.push(...validateContainerCommon(ctr, volumes, p));
    const name = str(ctr["name"]);
    if (names.has(name)) errs.push(duplicate(child(p, "name"), name));
    else names.add(name);
    errs.push(...validateProbes(ctr, p, gracePeriod));
    if (present(ctr["restartPolicy"])) errs.push(forbidden(child(p, "restartPolicy"), "may not be set for non-init containers"));
  });
  errs.push(...checkHostPortConflicts(list, field));
  return errs;
}

function validateInitContainers(
  containers: unknown,
  regular: unknown,
  volumes: Map<string, Obj>,
  gracePeriod: number | undefined,
  field: string,
): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set(arr(regular).map((c) => str(obj(c)["name"])));
  arr(containers).forEach((raw, i) => {
    const ctr = obj(raw);
    const p = index(field, i);
    errs.push(...validateContainerCommon(ctr, volumes, p));
    let restartAlways = false;
    if (present(ctr["restartPolicy"])) {
      const rp = str(ctr["restartPolicy"]);
      if (rp !== "Always") errs.push(notSupported(child(p, "restartPolicy"), rp, ["Always"]));
      restartAlways = rp === "Always";
    }
    const name = str(ctr["name"]);
    if (names.has(name)) errs.push(duplicate(child(p, "name"), name));
    else if (name.length > 0) names.add(name);
    errs.push(...checkHostPortConflicts([ctr], field));
    if (restartAlways) {
      errs.push(...validateProbes(ctr, p, gracePeriod));
    } else {
      for (const f of ["lifecycle", "livenessProbe", "readinessProbe", "startupProbe"]) {
        if (present(ctr[f])) errs.push(forbidden(child(p, f), "may not be set for init containers without restartPolicy=Always"));
      }
    }
  });
  return errs;
}

// ---- pod spec ----

/** validateRestartPolicy; the pod spec and every workload template share it. */
export function validateRestartPolicy(policy: string, field: string): FieldError[] {
  if (policy === "Always" || policy === "OnFailure" || policy === "Never") return [];
  if (policy === "") return [required(field)];
  return [notSupported(field, policy, ["Always", "OnFailure", "Never"])];
}

function validateDNSPolicy(policy: string, field: string): FieldError[] {
  const valid = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
  if (valid.includes(policy)) return [];
  if (policy === "") return [required(field)];
  return [notSupported(field, policy, valid)];
}

function validateTaintEffect(effect: string, allowEmpty: boolean, field: string): FieldError[] {
  if (!allowEmpty && effect.length === 0) return [required(field)];
  const valid = ["NoSchedule", "PreferNoSchedule", "NoExecute"];
  return valid.includes(effect) ? [] : [notSupported(field, effect, valid)];
}

/** ValidateTolerations. */
export function validateTolerations(tolerations: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  arr(tolerations).forEach((raw, i) => {
    const t = obj(raw);
    const p = index(field, i);
    const k = str(t["key"]);
    const operator = str(t["operator"]);
    const value = str(t["value"]);
    const effect = str(t["effect"]);
    if (k.length > 0) errs.push(...validateLabelName(k, child(p, "key")));
    if (k.length === 0 && operator !== "Exists") {
      errs.push(invalid(child(p, "operator"), operator, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (present(t["tolerationSeconds"]) && effect !== "NoExecute") {
      errs.push(invalid(child(p, "effect"), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    switch (operator) {
      case "Equal":
      case "": {
        const msgs = isValidLabelValue(value);
        if (msgs.length !== 0) errs.push(invalid(child(p, "operator"), value, msgs.join(";")));
        break;
      }
      case "Exists":
        if (value.length > 0) errs.push(invalid(child(p, "operator"), value, "value must be empty when `operator` is 'Exists'"));
        break;
      default:
        errs.push(notSupported(child(p, "operator"), operator, ["Equal", "Exists"]));
    }
    if (effect.length > 0) errs.push(...validateTaintEffect(effect, true, child(p, "effect")));
  });
  return errs;
}

function validateNodeSelectorTerms(nodeSelector: Obj, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const termsPath = child(field, "nodeSelectorTerms");
  const terms = arr(nodeSelector["nodeSelectorTerms"]);
  if (terms.length === 0) return [required(termsPath, "must have at least one node selector term")];
  terms.forEach((rawTerm, ti) => {
    arr(obj(rawTerm)["matchExpressions"]).forEach((rawReq, ri) => {
      const req = obj(rawReq);
      const p = index(child(index(termsPath, ti), "matchExpressions"), ri);
      const values = arr(req["values"]).map(str);
      const operator = str(req["operator"]);
      switch (operator) {
        case "In":
        case "NotIn":
          if (values.length === 0) errs.push(required(child(p, "values"), "must be specified when `operator` is 'In' or 'NotIn'"));
          break;
        case "Exists":
        case "DoesNotExist":
          if (values.length > 0) errs.push(forbidden(child(p, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
          break;
        case "Gt":
        case "Lt":
          if (values.length !== 1) errs.push(required(child(p, "values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"));
          break;
        default:
          errs.push(invalid(child(p, "operator"), operator, "not a valid selector operator"));
      }
      errs.push(...validateLabelName(str(req["key"]), child(p, "key")));
      values.forEach((v, vi) => {
        for (const msg of isValidLabelValue(v)) errs.push(invalid(index(child(p, "values"), vi), v, msg));
      });
    });
  });
  return errs;
}

function validateAffinity(affinity: unknown, field: string): FieldError[] {
  if (!present(affinity)) return [];
  const errs: FieldError[] = [];
  const a = obj(affinity);
  const na = obj(a["nodeAffinity"]);
  if (present(na["requiredDuringSchedulingIgnoredDuringExecution"])) {
    errs.push(
      ...validateNodeSelectorTerms(
        obj(na["requiredDuringSchedulingIgnoredDuringExecution"]),
        child(field, "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"),
      ),
    );
  }
  arr(na["preferredDuringSchedulingIgnoredDuringExecution"]).forEach((raw, i) => {
    const term = obj(raw);
    const p = index(child(field, "nodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution"), i);
    const weight = num(term["weight"]);
    if (weight <= 0 || weight > 100) errs.push(invalid(child(p, "weight"), weight, inclusiveRangeError(1, 100)));
  });
  for (const kind of ["podAffinity", "podAntiAffinity"]) {
    const pa = obj(a[kind]);
    arr(pa["requiredDuringSchedulingIgnoredDuringExecution"]).forEach((raw, i) => {
      const term = obj(raw);
      const p = index(child(field, kind, "requiredDuringSchedulingIgnoredDuringExecution"), i);
      errs.push(...validateLabelSelector(term["labelSelector"], child(p, "labelSelector")));
      if (str(term["topologyKey"]).length === 0) errs.push(required(child(p, "topologyKey"), "can not be empty"));
      else errs.push(...validateLabelName(str(term["topologyKey"]), child(p, "topologyKey")));
    });
  }
  return errs;
}

function validatePodDNSConfig(dnsConfig: unknown, dnsPolicy: string, field: string): FieldError[] {
  if (dnsPolicy === "None") {
    if (!present(dnsConfig)) return [required(field, "must provide `dnsConfig` when `dnsPolicy` is None")];
    if (arr(obj(dnsConfig)["nameservers"]).length === 0) {
      return [required(child(field, "nameservers"), "must provide at least one DNS nameserver when `dnsPolicy` is None")];
    }
  }
  if (!present(dnsConfig)) return [];
  const errs: FieldError[] = [];
  const c = obj(dnsConfig);
  const nameservers = arr(c["nameservers"]).map(str);
  if (nameservers.length > 3) errs.push(invalid(child(field, "nameservers"), nameservers, "must not have more than 3 nameservers"));
  nameservers.forEach((ns, i) => {
    if (!isValidIP(ns)) errs.push(invalid(index(child(field, "nameservers"), i), ns, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"));
  });
  const searches = arr(c["searches"]).map(str);
  if (searches.length > 32) errs.push(invalid(child(field, "searches"), searches, "must not have more than 32 search paths"));
  if (searches.join(" ").length > 2048) {
    errs.push(invalid(child(field, "searches"), searches, "must not have more than 2048 characters (including spaces) in the search list"));
  }
  searches.forEach((s, i) => errs.push(...validateDNS1123Subdomain(s.replace(/\.$/, ""), index(child(field, "searches"), i))));
  arr(c["options"]).forEach((o, i) => {
    if (str(obj(o)["name"]).length === 0) errs.push(required(index(child(field, "options"), i), "must not be empty"));
  });
  return errs;
}

function validateHostNetworkDeps(spec: Obj, field: string, resourceIsPod: boolean): FieldError[] {
  if (spec["hostNetwork"] !== true) return [];
  const errs: FieldError[] = [];
  arr(spec["containers"]).forEach((raw, ci) => {
    arr(obj(raw)["ports"]).forEach((rawPort, pi) => {
      const port = obj(rawPort);
      const hp = num(port["hostPort"]);
      const cp = num(port["containerPort"]);
      if ((resourceIsPod || hp !== 0) && hp !== cp) {
        errs.push(invalid(child(index(child(index(child(field, "containers"), ci), "ports"), pi), "hostPort"), hp, "must match `containerPort` when `hostNetwork` is true"));
      }
    });
  });
  return errs;
}

function validatePodSecurityContext(sc: unknown, field: string): FieldError[] {
  if (!present(sc)) return [];
  const s = obj(sc);
  const errs: FieldError[] = [];
  for (const f of ["fsGroup", "runAsUser", "runAsGroup"]) {
    const v = s[f];
    if (typeof v === "number" && (v < 0 || v > 0xffffffff)) errs.push(invalid(child(field, f), v, inclusiveRangeError(0, 4294967295)));
  }
  arr(s["supplementalGroups"]).forEach((g, i) => {
    if (typeof g === "number" && (g < 0 || g > 0xffffffff)) errs.push(invalid(index(child(field, "supplementalGroups"), i), g, inclusiveRangeError(0, 4294967295)));
  });
  if (present(s["fsGroupChangePolicy"])) {
    const p = str(s["fsGroupChangePolicy"]);
    if (p !== "Always" && p !== "OnRootMismatch") errs.push(notSupported(child(field, "fsGroupChangePolicy"), p, ["Always", "OnRootMismatch"]));
  }
  return errs;
}

export interface PodSpecOptions {
  /** The spec is a Pod's own (not a template in a workload): host ports must then equal container ports. */
  readonly resourceIsPod: boolean;
}

/** ValidatePodSpec. */
export function validatePodSpec(specRaw: unknown, field: string, options: PodSpecOptions): FieldError[] {
  const spec = obj(specRaw);
  const errs: FieldError[] = [];
  const tgps = spec["terminationGracePeriodSeconds"];
  if (!present(tgps)) errs.push(required(child(field, "terminationGracePeriodSeconds")));
  const gracePeriod = typeof tgps === "number" ? tgps : undefined;
  const vols = validateVolumes(spec["volumes"], child(field, "volumes"));
  errs.push(...vols.errs);
  errs.push(...validateContainers(spec["containers"], vols.names, gracePeriod, child(field, "containers")));
  errs.push(...validateInitContainers(spec["initContainers"], spec["containers"], vols.names, gracePeriod, child(field, "initContainers")));
  errs.push(...validateHostNetworkDeps(spec, field, options.resourceIsPod));
  errs.push(...validateRestartPolicy(str(spec["restartPolicy"]), child(field, "restartPolicy")));
  errs.push(...validateDNSPolicy(str(spec["dnsPolicy"]), child(field, "dnsPolicy")));
  errs.push(...validateLabels(spec["nodeSelector"], child(field, "nodeSelector")));
  errs.push(...validatePodSecurityContext(spec["securityContext"], child(field, "securityContext")));
  arr(spec["imagePullSecrets"]).forEach((s, i) => {
    const keys = Object.keys(obj(s)).filter((k) => k !== "name");
    if (keys.length !== 0) errs.push(invalid(index(child(field, "imagePullSecrets"), i), new GoValue(`core.LocalObjectReference{Name:${goQuote(str(obj(s)["name"]))}}`), "only name may be set"));
  });
  errs.push(...validateAffinity(spec["affinity"], child(field, "affinity")));
  errs.push(...validatePodDNSConfig(spec["dnsConfig"], str(spec["dnsPolicy"]), child(field, "dnsConfig")));
  arr(spec["readinessGates"]).forEach((g, i) =>
    errs.push(...validateQualifiedName(str(obj(g)["conditionType"]), child(index(child(field, "readinessGates"), i), "conditionType"))),
  );
  const gates = new Set<string>();
  arr(spec["schedulingGates"]).forEach((g, i) => {
    const name = str(obj(g)["name"]);
    const p = index(child(field, "schedulingGates"), i);
    errs.push(...validateQualifiedName(name, p));
    if (gates.has(name)) errs.push(duplicate(p, name));
    gates.add(name);
  });
  const sa = str(spec["serviceAccountName"]);
  if (sa.length > 0) for (const msg of nameIsDNSSubdomain(sa, false)) errs.push(invalid(child(field, "serviceAccountName"), sa, msg));
  const nodeName = str(spec["nodeName"]);
  if (nodeName.length > 0) for (const msg of nameIsDNSSubdomain(nodeName, false)) errs.push(invalid(child(field, "nodeName"), nodeName, msg));
  const ads = spec["activeDeadlineSeconds"];
  if (typeof ads === "number" && (ads < 1 || ads > MAX_INT32)) errs.push(invalid(child(field, "activeDeadlineSeconds"), ads, inclusiveRangeError(1, MAX_INT32)));
  const hostname = str(spec["hostname"]);
  if (hostname.length > 0) errs.push(...validateDNS1123Label(hostname, child(field, "hostname")));
  const subdomain = str(spec["subdomain"]);
  if (subdomain.length > 0) errs.push(...validateDNS1123Label(subdomain, child(field, "subdomain")));
  if (arr(spec["tolerations"]).length > 0) errs.push(...validateTolerations(spec["tolerations"], child(field, "tolerations")));
  arr(spec["hostAliases"]).forEach((a, i) => {
    const p = index(child(field, "hostAliases"), i);
    const ip = str(obj(a)["ip"]);
    if (!isValidIP(ip)) errs.push(invalid(child(p, "ip"), ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"));
    arr(obj(a)["hostnames"]).forEach((h, j) => errs.push(...validateDNS1123Subdomain(str(h), index(child(p, "hostnames"), j))));
  });
  const pcn = str(spec["priorityClassName"]);
  if (pcn.length > 0) for (const msg of nameIsDNSSubdomain(pcn, false)) errs.push(invalid(child(field, "priorityClassName"), pcn, msg));
  if (present(spec["runtimeClassName"])) {
    const rcn = str(spec["runtimeClassName"]);
    for (const msg of nameIsDNSSubdomain(rcn, false)) errs.push(invalid(child(field, "runtimeClassName"), rcn, msg));
  }
  if (present(spec["preemptionPolicy"])) {
    const pp = str(spec["preemptionPolicy"]);
    if (pp === "") errs.push(required(child(field, "preemptionPolicy")));
    else if (pp !== "PreemptLowerPriority" && pp !== "Never") errs.push(notSupported(child(field, "preemptionPolicy"), pp, ["PreemptLowerPriority", "Never"]));
  }
  if (present(spec["os"])) {
    const os = str(obj(spec["os"])["name"]);
    if (os === "") errs.push(required(child(field, "os", "name")));
    else if (os !== "linux" && os !== "windows") errs.push(notSupported(child(field, "os", "name"), os, ["linux", "windows"]));
  }
  return errs;
}

/**
 * ValidatePodTemplateSpec. Upstream reports template label and annotation errors at
 * `<template>.labels`, without `.metadata` (unlike the selector mismatch); we keep that.
 */
export function validatePodTemplateSpec(template: unknown, field: string): FieldError[] {
  const t = obj(template);
  const meta = obj(t["metadata"]);
  const errs = [...validateLabels(meta["labels"], child(field, "labels")), ...validateAnnotations(meta["annotations"], child(field, "annotations"))];
  errs.push(...validatePodSpec(t["spec"], child(field, "spec"), { resourceIsPod: false }));
  if (arr(obj(t["spec"])["ephemeralContainers"]).length > 0) {
    errs.push(forbidden(child(field, "spec", "ephemeralContainers"), "ephemeral containers not allowed in pod template"));
  }
  return errs;
}

// ---- Pod ----

function validatePodMetadataAndSpec(pod: Obj): FieldError[] {
  const meta = objectMeta(pod);
  const errs = validateObjectMeta(meta, true, nameIsDNSSubdomain);
  const annotations = obj(meta.annotations);
  const spec = obj(pod["spec"]);
  if (present(annotations["kubernetes.io/config.mirror"]) && str(spec["nodeName"]).length === 0) {
    errs.push(invalid(key("metadata.annotations", "kubernetes.io/config.mirror"), str(annotations["kubernetes.io/config.mirror"]), "must set spec.nodeName if mirror pod annotation is set"));
  }
  const cost = annotations["controller.kubernetes.io/pod-deletion-cost"];
  if (present(cost) && !/^[+-]?[0-9]+$/.test(str(cost))) {
    errs.push(invalid(key("metadata.annotations", "controller.kubernetes.io/pod-deletion-cost"), str(cost), "must be a 32bit integer"));
  }
  errs.push(...validatePodSpec(spec, "spec", { resourceIsPod: true }));
  if (str(spec["serviceAccountName"]) === "") {
    arr(spec["volumes"]).forEach((v, vi) => {
      arr(obj(obj(v)["projected"])["sources"]).forEach((s, si) => {
        if (present(obj(s)["serviceAccountToken"])) {
          errs.push(forbidden(`spec.volumes[${vi}].projected.sources[${si}].serviceAccountToken`, "must not be specified when serviceAccountName is not set"));
        }
      });
    });
  }
  for (const list of ["containers", "initContainers"]) {
    arr(spec[list]).forEach((c, i) => {
      const image = str(obj(c)["image"]);
      if (image !== image.trim()) errs.push(invalid(`spec.${list}[${i}].image`, image, "must not have leading or trailing whitespace"));
    });
  }
  return errs;
}

/** ValidatePodCreate. */
export function validatePodCreate(pod: Obj): FieldError[] {
  const errs = validatePodMetadataAndSpec(pod);
  const spec = obj(pod["spec"]);
  if (arr(spec["ephemeralContainers"]).length > 0) errs.push(forbidden("spec.ephemeralContainers", "cannot be set on create"));
  if (str(spec["nodeName"]) !== "" && arr(spec["schedulingGates"]).length !== 0) {
    errs.push(forbidden("spec.nodeName", "cannot be set until all schedulingGates have been cleared"));
  }
  return errs;
}

/** The fields a pod update may change, as upstream lists them in its Forbidden message. */
export const UPDATABLE_POD_SPEC_FIELDS = [
  "`spec.containers[*].image`",
  "`spec.initContainers[*].image`",
  "`spec.activeDeadlineSeconds`",
  "`spec.tolerations` (only additions to existing tolerations)",
  "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
];

function validateContainerUpdates(newList: unknown, oldList: unknown, field: string): { errs: FieldError[]; stop: boolean } {
  const n = arr(newList);
  if (n.length !== arr(oldList).length) return { errs: [forbidden(field, "pod updates may not add or remove containers")], stop: true };
  const errs: FieldError[] = [];
  n.forEach((c, i) => {
    const image = str(obj(c)["image"]);
    if (image.length === 0) errs.push(required(child(index(field, i), "image")));
    if (image.trim().length !== image.length) errs.push(invalid(child(index(field, i), "image"), image, "must not have leading or trailing whitespace"));
  });
  return { errs, stop: false };
}

function tolerationEqualIgnoringSeconds(a: Obj, b: Obj): boolean {
  return deepEqual({ ...a, tolerationSeconds: null }, { ...b, tolerationSeconds: null });
}

/** A line-per-field description of what changed, standing in for upstream's cmp.Diff output. */
export function specDiff(oldSpec: unknown, newSpec: unknown, path = ""): string[] {
  if (deepEqual(oldSpec, newSpec)) return [];
  const o = oldSpec;
  const n = newSpec;
  const bothObjects = o !== null && n !== null && typeof o === "object" && typeof n === "object" && Array.isArray(o) === Array.isArray(n);
  if (!bothObjects) return [`- ${path}: ${JSON.stringify(o ?? null)}`, `+ ${path}: ${JSON.stringify(n ?? null)}`];
  const lines: string[] = [];
  if (Array.isArray(o) && Array.isArray(n)) {
    const len = Math.max(o.length, n.length);
    for (let i = 0; i < len; i++) lines.push(...specDiff(o[i], n[i], `${path}[${i}]`));
    return lines;
  }
  const oo = o as Obj;
  const nn = n as Obj;
  for (const k of new Set([...Object.keys(oo), ...Object.keys(nn)])) lines.push(...specDiff(oo[k], nn[k], path === "" ? k : `${path}.${k}`));
  return lines;
}

/** ValidatePodUpdate: only images, activeDeadlineSeconds, added tolerations and removed scheduling gates may change. */
export function validatePodUpdate(pod: Obj, old: Obj): FieldError[] {
  const errs = validateObjectMetaUpdate(objectMeta(pod), objectMeta(old));
  errs.push(...validatePodMetadataAndSpec(pod));
  const oldAnnotations = obj(objectMeta(old).annotations);
  const newAnnotations = obj(objectMeta(pod).annotations);
  const mirror = "kubernetes.io/config.mirror";
  if (present(oldAnnotations[mirror]) && oldAnnotations[mirror] !== newAnnotations[mirror]) {
    errs.push(forbidden(key("metadata.annotations", mirror), "may not remove or update mirror pod annotation"));
  } else if (!present(oldAnnotations[mirror]) && present(newAnnotations[mirror])) {
    errs.push(forbidden(key("metadata.annotations", mirror), "may not add mirror pod annotation"));
  }
  const spec = obj(pod["spec"]);
  const oldSpec = obj(old["spec"]);
  for (const list of ["containers", "initContainers"]) {
    const r = validateContainerUpdates(spec[list], oldSpec[list], `spec.${list}`);
    errs.push(...r.errs);
    if (r.stop) return errs;
  }
  const ads = spec["activeDeadlineSeconds"];
  const oldAds = oldSpec["activeDeadlineSeconds"];
  if (typeof ads === "number") {
    if (ads < 0 || ads > MAX_INT32) {
      errs.push(invalid("spec.activeDeadlineSeconds", ads, inclusiveRangeError(0, MAX_INT32)));
      return errs;
    }
    if (typeof oldAds === "number" && oldAds < ads) {
      errs.push(invalid("spec.activeDeadlineSeconds", ads, "must be less than or equal to previous value"));
      return errs;
    }
  } else if (typeof oldAds === "number") {
    errs.push(invalid("spec.activeDeadlineSeconds", null, "must not update from a positive integer to nil value"));
  }
  const newTolerations = arr(spec["tolerations"]).map(obj);
  for (const oldT of arr(oldSpec["tolerations"]).map(obj)) {
    if (!newTolerations.some((t) => tolerationEqualIgnoringSeconds(oldT, t))) {
      errs.push(forbidden("spec.tolerations", "existing toleration can not be modified except its tolerationSeconds"));
      break;
    }
  }
  if (!errs.some((e) => e.field === "spec.tolerations")) errs.push(...validateTolerations(spec["tolerations"], "spec.tolerations"));
  const oldGates = new Set(arr(oldSpec["schedulingGates"]).map((g) => str(obj(g)["name"])));
  arr(spec["schedulingGates"]).forEach((g, i) => {
    const name = str(obj(g)["name"]);
    if (!oldGates.has(name)) errs.push(forbidden(`spec.schedulingGates[${i}].name`, `only deletion is allowed, but found new scheduling gate '${name}'`));
  });
  if (deepEqual(spec, oldSpec)) return errs;

  // Mask the fields that may change, then anything still different is forbidden.
  const munged: Obj = { ...spec };
  for (const list of ["containers", "initContainers"]) {
    if (!present(spec[list])) continue;
    munged[list] = arr(spec[list]).map((c, i) => ({ ...obj(c), image: obj(arr(oldSpec[list])[i])["image"] }));
  }
  munged["activeDeadlineSeconds"] = oldSpec["activeDeadlineSeconds"];
  munged["schedulingGates"] = oldSpec["schedulingGates"];
  munged["tolerations"] = oldSpec["tolerations"];
  const oldTgps = oldSpec["terminationGracePeriodSeconds"];
  if (typeof oldTgps === "number" && oldTgps < 0 && munged["terminationGracePeriodSeconds"] === 1) munged["terminationGracePeriodSeconds"] = oldTgps;
  // Gated pods may gain node selectors and affinity terms; upstream checks those in detail.
  if (oldGates.size > 0) {
    munged["nodeSelector"] = oldSpec["nodeSelector"];
    munged["affinity"] = oldSpec["affinity"];
  }
  if (!deepEqual(munged, oldSpec)) {
    const diff = specDiff(oldSpec, munged).map((l) => `  ${l}`).join("\n");
    errs.push(forbidden("spec", `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS.join(",")}\n${diff}\n`));
  }
  return errs;
}

// ---- PodTemplate, ReplicationController ----

export function validatePodTemplate(t: Obj): FieldError[] {
  return [...validateObjectMeta(objectMeta(t), true, nameIsDNSSubdomain), ...validatePodTemplateSpec(t["template"], "template")];
}

export function validatePodTemplateUpdate(t: Obj, old: Obj): FieldError[] {
  return [...validateObjectMetaUpdate(objectMeta(t), objectMeta(old)), ...validatePodTemplateSpec(t["template"], "template")];
}

function labelSetMatches(selector: Record<string, string>, labels: unknown): boolean {
  const set = obj(labels);
  return Object.entries(selector).every(([k, v]) => set[k] === v);
}

function validateReplicationControllerSpec(specRaw: unknown, field: string): FieldError[] {
  const spec = obj(specRaw);
  const errs: FieldError[] = [];
  errs.push(...validateNonnegativeField(num(spec["minReadySeconds"]), child(field, "minReadySeconds")));
  const selector = obj(spec["selector"]) as Record<string, string>;
  if (Object.keys(selector).length === 0) errs.push(required(child(field, "selector")));
  else errs.push(...validateLabels(selector, child(field, "selector")));
  errs.push(...validateNonnegativeField(num(spec["replicas"]), child(field, "replicas")));
  const tp = child(field, "template");
  if (!present(spec["template"])) {
    errs.push(required(tp));
    return errs;
  }
  const template = obj(spec["template"]);
  const labels = obj(template["metadata"])["labels"];
  if (Object.keys(selector).length !== 0 && !labelSetMatches(selector, labels)) {
    errs.push(invalid(child(tp, "metadata", "labels"), new GoValue(goStringMap(labels as Record<string, string> | undefined)), "`selector` does not match template `labels`"));
  }
  errs.push(...validatePodTemplateSpec(template, tp));
  const tspec = obj(template["spec"]);
  if (str(tspec["restartPolicy"]) !== "Always") errs.push(notSupported(child(tp, "spec", "restartPolicy"), str(tspec["restartPolicy"]), ["Always"]));
  if (present(tspec["activeDeadlineSeconds"])) {
    errs.push(forbidden(child(tp, "spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in ReplicationController is not Supported"));
  }
  return errs;
}

export function validateReplicationController(rc: Obj): FieldError[] {
  return [...validateObjectMeta(objectMeta(rc), true, nameIsDNSSubdomain), ...validateReplicationControllerSpec(rc["spec"], "spec")];
}

export function validateReplicationControllerUpdate(rc: Obj, old: Obj): FieldError[] {
  return [...validateObjectMetaUpdate(objectMeta(rc), objectMeta(old)), ...validateReplicationControllerSpec(rc["spec"], "spec")];
}

// ---- Service ----

const SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];

function isHeadless(spec: Obj): boolean {
  return str(spec["clusterIP"]) === "None";
}

function goServicePortKey(protocol: string, port: number): GoValue {
  return new GoValue(
    `core.ServicePort{Name:"", Protocol:${goQuote(protocol)}, AppProtocol:(*string)(nil), Port:${port}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`,
  );
}

/** ValidateService. */
export function validateService(svc: Obj): FieldError[] {
  const errs = validateObjectMeta(objectMeta(svc), true, nameIsDNS1035Label);
  const spec = obj(svc["spec"]);
  const type = str(spec["type"]);
  const ports = arr(spec["ports"]);
  if (ports.length === 0 && !isHeadless(spec) && type !== "ExternalName") errs.push(required("spec.ports"));
  if (type === "ExternalName") {
    const clusterIPs = arr(spec["clusterIPs"]);
    if (str(spec["clusterIP"]) !== "" || clusterIPs.length > 0) errs.push(forbidden("spec.clusterIPs", "may not be set for ExternalName services"));
    const cname = str(spec["externalName"]).replace(/\.$/, "");
    if (cname.length === 0) errs.push(required("spec.externalName"));
    else {
      const msgs = isDNS1123Subdomain(cname);
      if (msgs.length > 0) errs.push(invalid("spec.externalName", cname, msgs.join(",")));
      else if (cname.split(".").length < 2) errs.push(invalid("spec.externalName", cname, "should be a domain with at least two segments separated by dots"));
    }
  }
  const names = new Set<string>();
  ports.forEach((raw, i) => {
    const sp = obj(raw);
    const p = index("spec.ports", i);
    const name = str(sp["name"]);
    if (ports.length > 1 && name.length === 0) errs.push(required(child(p, "name")));
    else if (name.length !== 0) {
      errs.push(...validateDNS1123Label(name, child(p, "name")));
      if (names.has(name)) errs.push(duplicate(child(p, "name"), name));
      else names.add(name);
    }
    const port = num(sp["port"]);
    for (const msg of isValidPortNum(port)) errs.push(invalid(child(p, "port"), port, msg));
    const protocol = str(sp["protocol"]);
    if (protocol.length === 0) errs.push(required(child(p, "protocol")));
    else if (!SUPPORTED_PORT_PROTOCOLS.includes(protocol)) errs.push(notSupported(child(p, "protocol"), protocol, SUPPORTED_PORT_PROTOCOLS));
    if (present(sp["targetPort"])) errs.push(...validatePortNumOrName(sp["targetPort"], child(p, "targetPort")));
    if (present(sp["appProtocol"])) errs.push(...validateQualifiedName(str(sp["appProtocol"]), child(p, "appProtocol")));
  });
  if (present(spec["selector"])) errs.push(...validateLabels(spec["selector"], "spec.selector"));
  const affinity = str(spec["sessionAffinity"]);
  if (affinity.length === 0) errs.push(required("spec.sessionAffinity"));
  else if (affinity !== "ClientIP" && affinity !== "None") errs.push(notSupported("spec.sessionAffinity", affinity, ["ClientIP", "None"]));
  if (affinity === "ClientIP") {
    const timeout = obj(obj(obj(spec["sessionAffinityConfig"])["clientIP"]))["timeoutSeconds"];
    if (!present(spec["sessionAffinityConfig"])) errs.push(required("spec.sessionAffinityConfig", "when session affinity type is ClientIP"));
    else if (typeof timeout === "number" && (timeout <= 0 || timeout > 86400)) {
      errs.push(invalid("spec.sessionAffinityConfig.clientIP.timeoutSeconds", timeout, "must be greater than 0 and less than 86400"));
    }
  } else if (present(spec["sessionAffinityConfig"])) {
    errs.push(forbidden("spec.sessionAffinityConfig", `must not be set when session affinity is ${affinity}`));
  }
  const clusterIPs = arr(spec["clusterIPs"]).map(str);
  if (clusterIPs.length === 0 && str(spec["clusterIP"]) !== "") clusterIPs.push(str(spec["clusterIP"]));
  clusterIPs.forEach((ip, i) => {
    if (ip === "None" && i === 0) {
      if (type === "LoadBalancer" || type === "NodePort") errs.push(invalid(index("spec.clusterIPs", 0), ip, `may not be set to 'None' for ${type} services`));
      return;
    }
    if (!isValidIP(ip)) errs.push(invalid(index("spec.clusterIPs", i), ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"));
  });
  if (type.length === 0) errs.push(required("spec.type"));
  else if (!SERVICE_TYPES.includes(type)) errs.push(notSupported("spec.type", type, SERVICE_TYPES));
  if (type === "ClusterIP") {
    ports.forEach((raw, i) => {
      if (num(obj(raw)["nodePort"]) !== 0) errs.push(forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'"));
    });
  }
  const nodePorts = new Set<string>();
  const portKeys = new Set<string>();
  ports.forEach((raw, i) => {
    const sp = obj(raw);
    const np = num(sp["nodePort"]);
    if (np !== 0) {
      for (const msg of isValidPortNum(np)) errs.push(invalid(`spec.ports[${i}].nodePort`, np, msg));
      const k = `${str(sp["protocol"])}/${np}`;
      if (nodePorts.has(k)) errs.push(duplicate(`spec.ports[${i}].nodePort`, np));
      nodePorts.add(k);
    }
    const pk = `${str(sp["protocol"])}/${num(sp["port"])}`;
    if (portKeys.has(pk)) errs.push(duplicate(`spec.ports[${i}]`, goServicePortKey(str(sp["protocol"]), num(sp["port"]))));
    portKeys.add(pk);
  });
  const lb = type === "LoadBalancer";
  if (present(spec["allocateLoadBalancerNodePorts"]) && !lb) errs.push(forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'"));
  // Upstream's path lacks the `spec.` prefix here.
  if (lb && !present(spec["allocateLoadBalancerNodePorts"])) errs.push(required("allocateLoadBalancerNodePorts"));
  const externallyAccessible = lb || type === "NodePort" || (type === "ClusterIP" && arr(spec["externalIPs"]).length > 0);
  const etp = str(spec["externalTrafficPolicy"]);
  if (!externallyAccessible) {
    if (etp !== "") errs.push(invalid("spec.externalTrafficPolicy", etp, "may only be set for externally-accessible services"));
  } else if (etp === "") {
    errs.push(required("spec.externalTrafficPolicy"));
  } else if (etp !== "Cluster" && etp !== "Local") {
    errs.push(notSupported("spec.externalTrafficPolicy", etp, ["Cluster", "Local"]));
  }
  const itp = spec["internalTrafficPolicy"];
  if (!present(itp) && (type === "NodePort" || lb || type === "ClusterIP")) errs.push(required("spec.internalTrafficPolicy"));
  if (present(itp) && itp !== "Cluster" && itp !== "Local") errs.push(notSupported("spec.internalTrafficPolicy", str(itp), ["Cluster", "Local"]));
  return errs;
}

/** ValidateServiceUpdate: the primary cluster IP may not change once set (unless moving to/from ExternalName). */
export function validateServiceUpdate(svc: Obj, old: Obj): FieldError[] {
  const errs = validateObjectMetaUpdate(objectMeta(svc), objectMeta(old));
  const spec = obj(svc["spec"]);
  const oldSpec = obj(old["spec"]);
  const oldIPs = arr(oldSpec["clusterIPs"]).map(str);
  const newIPs = arr(spec["clusterIPs"]).map(str);
  if (oldIPs.length === 0 && str(oldSpec["clusterIP"]) !== "") oldIPs.push(str(oldSpec["clusterIP"]));
  if (newIPs.length === 0 && str(spec["clusterIP"]) !== "") newIPs.push(str(spec["clusterIP"]));
  const externalName = str(spec["type"]) === "ExternalName" || str(oldSpec["type"]) === "ExternalName";
  if (!externalName && oldIPs.length > 0 && newIPs.length > 0 && oldIPs[0] !== newIPs[0]) {
    errs.push(invalid("spec.clusterIPs[0]", newIPs, "may not change once set"));
  }
  errs.push(...validateService(svc));
  return errs;
}

// ---- ConfigMap, Secret ----

function dataSize(m: Obj): number {
  let size = 0;
  for (const [k, v] of Object.entries(m)) size += Buffer.byteLength(k) + Buffer.byteLength(str(v));
  return size;
}

/** ValidateConfigMap: keys are config keys, no key in both data and binaryData, at most 1 MiB. */
export function validateConfigMap(cm: Obj): FieldError[] {
  const errs = validateObjectMeta(objectMeta(cm), true, nameIsDNSSubdomain);
  const data = obj(cm["data"]);
  const binary = obj(cm["binaryData"]);
  for (const k of Object.keys(data)) for (const msg of isConfigMapKey(k)) errs.push(invalid(key("data", k), k, msg));
  for (const k of Object.keys(binary)) {
    for (const msg of isConfigMapKey(k)) errs.push(invalid(key("binaryData", k), k, msg));
    if (Object.prototype.hasOwnProperty.call(data, k)) errs.push(invalid(key("binaryData", k), k, "duplicate of key present in data"));
  }
  // binaryData travels base64-encoded; its decoded size is what counts.
  let size = dataSize(data);
  for (const [k, v] of Object.entries(binary)) size += Buffer.byteLength(k) + Buffer.from(str(v), "base64").length;
  if (size > MAX_SECRET_SIZE_BYTES) errs.push(tooLong("", "", MAX_SECRET_SIZE_BYTES));
  return errs;
}

function validateImmutableData(n: Obj, o: Obj, fields: string[]): FieldError[] {
  if (o["immutable"] !== true) return [];
  const errs: FieldError[] = [];
  if (n["immutable"] !== true) errs.push(forbidden("immutable", "field is immutable when `immutable` is set"));
  for (const f of fields) if (!deepEqual(n[f], o[f])) errs.push(forbidden(f, "field is immutable when `immutable` is set"));
  return errs;
}

export function validateConfigMapUpdate(cm: Obj, old: Obj): FieldError[] {
  return [
    ...validateObjectMetaUpdate(objectMeta(cm), objectMeta(old)),
    ...validateImmutableData(cm, old, ["data", "binaryData"]),
    ...validateConfigMap(cm).filter((e) => !e.field.startsWith("metadata.")),
  ];
}

/** ValidateSecret: data keys, total size and the per-type required keys. */
export function validateSecret(secret: Obj): FieldError[] {
  const meta = objectMeta(secret);
  const errs = validateObjectMeta(meta, true, nameIsDNSSubdomain);
  const data = obj(secret["data"]);
  let size = 0;
  for (const [k, v] of Object.entries(data)) {
    for (const msg of isConfigMapKey(k)) errs.push(invalid(key("data", k), k, msg));
    size += Buffer.from(str(v), "base64").length;
  }
  if (size > MAX_SECRET_SIZE_BYTES) errs.push(tooLong("data", "", MAX_SECRET_SIZE_BYTES));
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(data, k);
  switch (str(secret["type"])) {
    case "kubernetes.io/service-account-token":
      if (str(obj(meta.annotations)["kubernetes.io/service-account.name"]) === "") {
        errs.push(required(key("metadata.annotations", "kubernetes.io/service-account.name")));
      }
      break;
    case "kubernetes.io/dockercfg":
      if (!has(".dockercfg")) errs.push(required(key("data", ".dockercfg")));
      break;
    case "kubernetes.io/dockerconfigjson":
      if (!has(".dockerconfigjson")) errs.push(required(key("data", ".dockerconfigjson")));
      break;
    case "kubernetes.io/basic-auth":
      if (!has("username") && !has("password")) {
        errs.push(required(key("data", "username")), required(key("data", "password")));
      }
      break;
    case "kubernetes.io/ssh-auth":
      if (!has("ssh-privatekey")) errs.push(required(key("data", "ssh-privatekey")));
      break;
    case "kubernetes.io/tls":
      if (!has("tls.key")) errs.push(required(key("data", "tls.key")));
      if (!has("tls.crt")) errs.push(required(key("data", "tls.crt")));
      break;
  }
  return errs;
}

export function validateSecretUpdate(secret: Obj, old: Obj): FieldError[] {
  return [
    ...validateObjectMetaUpdate(objectMeta(secret), objectMeta(old)),
    ...validateImmutableField(str(secret["type"]), str(old["type"]), "type"),
    ...validateImmutableData(secret, old, ["data"]),
    ...validateSecret(secret).filter((e) => !e.field.startsWith("metadata.")),
  ];
}

// ---- Namespace ----

function validateFinalizerName(name: string, field: string): FieldError[] {
  const errs = isQualifiedName(name).map((msg) => invalid(field, name, msg));
  if (errs.length === 0 && !name.includes("/") && name !== "kubernetes") {
    errs.push(invalid(field, name, "name is neither a standard finalizer name nor is it fully qualified"));
  }
  return errs;
}

export function validateNamespace(ns: Obj): FieldError[] {
  const errs = validateObjectMeta(objectMeta(ns), false, nameIsDNSLabel);
  arr(obj(ns["spec"])["finalizers"]).forEach((f, i) => errs.push(...validateFinalizerName(str(f), index("spec.finalizers", i))));
  return errs;
}

export function validateNamespaceUpdate(ns: Obj, old: Obj): FieldError[] {
  return validateObjectMetaUpdate(objectMeta(ns), objectMeta(old));
}

// ---- Node ----

/** validateNodeTaints: keys are label names, effect required, key+effect unique. */
function validateTaints(taints: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  arr(taints).forEach((raw, i) => {
    const t = obj(raw);
    const p = index(field, i);
    const k = str(t["key"]);
    errs.push(...validateLabelName(k, child(p, "key")));
    const value = str(t["value"]);
    for (const msg of isValidLabelValue(value)) errs.push(invalid(child(p, "value"), value, msg));
    const effect = str(t["effect"]);
    errs.push(...validateTaintEffect(effect, false, child(p, "effect")));
    const pair = `${k}/${effect}`;
    if (seen.has(pair)) errs.push(duplicate(p, new GoValue(`core.Taint{Key:${goQuote(k)}, Value:${goQuote(value)}, Effect:${goQuote(effect)}, TimeAdded:<nil>}`)));
    seen.add(pair);
  });
  return errs;
}

export function validateNode(node: Obj): FieldError[] {
  const errs = validateObjectMeta(objectMeta(node), false, nameIsDNSSubdomain);
  const spec = obj(node["spec"]);
  errs.push(...validateTaints(spec["taints"], "spec.taints"));
  const cidrs = arr(spec["podCIDRs"]).map(str);
  if (cidrs.length > 2) errs.push(invalid("spec.podCIDRs", cidrs, "may specify no more than one CIDR for each IP family"));
  return errs;
}

export function validateNodeUpdate(node: Obj, old: Obj): FieldError[] {
  const errs = validateObjectMetaUpdate(objectMeta(node), objectMeta(old));
  const spec = obj(node["spec"]);
  const oldSpec = obj(old["spec"]);
  errs.push(...validateTaints(spec["taints"], "spec.taints"));
  const oldCidrs = arr(oldSpec["podCIDRs"]).map(str);
  const newCidrs = arr(spec["podCIDRs"]).map(str);
  if (oldCidrs.length > 0 && !deepEqual(oldCidrs, newCidrs)) errs.push(forbidden("spec.podCIDRs", "node updates may not change podCIDR except from \"\" to valid"));
  if (str(oldSpec["providerID"]) !== "" && str(oldSpec["providerID"]) !== str(spec["providerID"])) {
    errs.push(forbidden("spec.providerID", "node updates may not change providerID except from \"\" to valid"));
  }
  return errs;
}

// ---- PersistentVolume, PersistentVolumeClaim ----

const ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];
const PV_SOURCES = [
  "gcePersistentDisk",
  "awsElasticBlockStore",
  "hostPath",
  "glusterfs",
  "nfs",
  "rbd",
  "quobyte",
  "cinder",
  "cephfs",
  "iscsi",
  "fc",
  "flocker",
  "azureFile",
  "vsphereVolume",
  "azureDisk",
  "photonPersistentDisk",
  "portworxVolume",
  "scaleIO",
  "local",
  "storageos",
  "csi",
];

function validateAccessModes(modes: unknown, field: string, requiredDetail: string): FieldError[] {
  const list = arr(modes).map(str);
  if (list.length === 0) return [required(field, requiredDetail)];
  const errs: FieldError[] = [];
  for (const m of list) if (!ACCESS_MODES.includes(m)) errs.push(notSupported(field, m, ACCESS_MODES));
  if (list.includes("ReadWriteOncePod") && list.length > 1) errs.push(forbidden(field, "may not use ReadWriteOncePod with other access modes"));
  return errs;
}

export function validatePersistentVolume(pv: Obj): FieldError[] {
  const errs = validateObjectMeta(objectMeta(pv), false, nameIsDNSSubdomain);
  const spec = obj(pv["spec"]);
  errs.push(...validateAccessModes(spec["accessModes"], "spec.accessModes", ""));
  const capacity = obj(spec["capacity"]);
  if (Object.keys(capacity).length === 0) errs.push(required("spec.capacity"));
  else if (!present(capacity["storage"]) || Object.keys(capacity).length > 1) {
    errs.push(notSupported("spec.capacity", new GoValue(`core.ResourceList{${Object.keys(capacity).map((k) => `${goQuote(k)}:resource.Quantity{...}`).join(", ")}}`), ["storage"]));
  }
  for (const [k, v] of Object.entries(capacity)) {
    const q = quantityAt(v, key("spec.capacity", k), errs);
    if (q !== undefined && q.mantissa <= 0n) errs.push(invalid(key("spec.capacity", k), quantityString(q), "must be greater than zero"));
  }
  const policy = str(spec["persistentVolumeReclaimPolicy"]);
  if (policy !== "" && !["Delete", "Recycle", "Retain"].includes(policy)) {
    errs.push(notSupported("spec.persistentVolumeReclaimPolicy", policy, ["Delete", "Recycle", "Retain"]));
  }
  let sources = 0;
  for (const s of PV_SOURCES) {
    if (!present(spec[s])) continue;
    if (sources > 0) errs.push(forbidden(child("spec", s), "may not specify more than 1 volume type"));
    else {
      sources++;
      const src = obj(spec[s]);
      if ((s === "hostPath" || s === "local") && str(src["path"]) === "") errs.push(required(child("spec", s, "path")));
      if (s === "nfs" && str(src["server"]) === "") errs.push(required("spec.nfs.server"));
      if (s === "csi" && str(src["driver"]) === "") errs.push(required("spec.csi.driver"));
    }
  }
  if (sources === 0) errs.push(required("spec", "must specify a volume type"));
  const mode = spec["volumeMode"];
  if (present(mode) && mode !== "Block" && mode !== "Filesystem") errs.push(notSupported("spec.volumeMode", str(mode), ["Block", "Filesystem"]));
  return errs;
}

export function validatePersistentVolumeUpdate(pv: Obj, old: Obj): FieldError[] {
  const errs = validateObjectMetaUpdate(objectMeta(pv), objectMeta(old));
  errs.push(...validatePersistentVolume(pv).filter((e) => !e.field.startsWith("metadata.")));
  const spec = obj(pv["spec"]);
  const oldSpec = obj(old["spec"]);
  const source = (s: Obj): Obj => Object.fromEntries(PV_SOURCES.filter((k) => present(s[k])).map((k) => [k, s[k]]));
  if (!deepEqual(source(spec), source(oldSpec))) {
    const diff = specDiff(source(oldSpec), source(spec)).map((l) => `  ${l}`).join("\n");
    errs.push(forbidden("spec.persistentvolumesource", `spec.persistentvolumesource is immutable after creation\n${diff}\n`));
  }
  errs.push(...validateImmutableField(spec["volumeMode"] ?? null, oldSpec["volumeMode"] ?? null, "volumeMode"));
  return errs;
}

function validatePersistentVolumeClaimSpec(specRaw: unknown, field: string): FieldError[] {
  const spec = obj(specRaw);
  const errs = validateAccessModes(spec["accessModes"], child(field, "accessModes"), "at least 1 access mode is required");
  if (present(spec["selector"])) errs.push(...validateLabelSelector(spec["selector"], child(field, "selector")));
  const requests = obj(obj(spec["resources"])["requests"]);
  const storagePath = key(child(field, "resources"), "storage");
  if (!present(requests["storage"])) errs.push(required(storagePath));
  else {
    const q = quantityAt(requests["storage"], storagePath, errs);
    if (q !== undefined && q.mantissa <= 0n) errs.push(invalid(storagePath, quantityString(q), "must be greater than zero"));
  }
  const scn = spec["storageClassName"];
  if (typeof scn === "string" && scn.length > 0) for (const msg of nameIsDNSSubdomain(scn, false)) errs.push(invalid(child(field, "storageClassName"), scn, msg));
  const mode = spec["volumeMode"];
  if (present(mode) && mode !== "Block" && mode !== "Filesystem") errs.push(notSupported(child(field, "volumeMode"), str(mode), ["Block", "Filesystem"]));
  return errs;
}

export function validatePersistentVolumeClaim(pvc: Obj): FieldError[] {
  return [...validateObjectMeta(objectMeta(pvc), true, nameIsDNSSubdomain), ...validatePersistentVolumeClaimSpec(pvc["spec"], "spec")];
}

/** ValidatePersistentVolumeClaimUpdate: only resources.requests (growing) of a bound claim may change. */
export function validatePersistentVolumeClaimUpdate(pvc: Obj, old: Obj): FieldError[] {
  const errs = validateObjectMetaUpdate(objectMeta(pvc), objectMeta(old));
  errs.push(...validatePersistentVolumeClaimSpec(pvc["spec"], "spec"));
  const spec = obj(pvc["spec"]);
  const oldSpec = obj(old["spec"]);
  const bound = str(obj(old["status"])["phase"]) === "Bound";
  const masked: Obj = { ...spec };
  // The binder fills volumeName once; a claim may also gain the class its beta annotation named.
  if (str(oldSpec["volumeName"]) === "") masked["volumeName"] = oldSpec["volumeName"];
  if (!present(oldSpec["storageClassName"])) masked["storageClassName"] = oldSpec["storageClassName"];
  if (bound) {
    masked["resources"] = { ...obj(spec["resources"]), requests: obj(obj(oldSpec["resources"])["requests"]) };
    masked["volumeAttributesClassName"] = oldSpec["volumeAttributesClassName"];
  }
  if (!deepEqual(masked, oldSpec)) {
    const diff = specDiff(oldSpec, masked).map((l) => `  ${l}`).join("\n");
    errs.push(forbidden("spec", `spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n${diff}\n`));
  }
  const errsQ: FieldError[] = [];
  const newSize = quantityAt(obj(obj(spec["resources"])["requests"])["storage"] ?? "0", "spec.resources.requests.storage", errsQ);
  const oldSize = quantityAt(obj(obj(oldSpec["resources"])["requests"])["storage"] ?? "0", "spec.resources.requests.storage", errsQ);
  if (newSize !== undefined && oldSize !== undefined && compareQuantities(newSize, oldSize) < 0) {
    errs.push(forbidden("spec.resources.requests.storage", "field can not be less than previous value"));
  }
  errs.push(...validateImmutableField(spec["volumeMode"] ?? null, oldSpec["volumeMode"] ?? null, "volumeMode"));
  return errs;
}

// ---- ServiceAccount, Endpoints, LimitRange, ResourceQuota, Event, Binding ----

export function validateServiceAccount(sa: Obj): FieldError[] {
  const errs = validateObjectMeta(objectMeta(sa), true, nameIsDNSSubdomain);
  arr(sa["secrets"]).forEach((s, i) => {
    const name = str(obj(s)["name"]);
    if (name === "") errs.push(required(child(index("secrets", i), "name")));
  });
  return errs;
}

export function validateEndpoints(ep: Obj): FieldError[] {
  const errs = validateObjectMeta(objectMeta(ep), true, nameIsDNSSubdomain);
  arr(ep["subsets"]).forEach((rawSubset, si) => {
    const subset = obj(rawSubset);
    const sp = index("subsets", si);
    const addresses = arr(subset["addresses"]);
    const notReady = arr(subset["notReadyAddresses"]);
    if (addresses.length === 0 && notReady.length === 0) errs.push(required(sp, "must specify `addresses` or `notReadyAddresses`"));
    for (const [listName, list] of [
      ["addresses", addresses],
      ["notReadyAddresses", notReady],
    ] as const) {
      list.forEach((a, ai) => {
        const ip = str(obj(a)["ip"]);
        if (!isValidIP(ip)) errs.push(invalid(child(index(child(sp, listName), ai), "ip"), ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"));
      });
    }
    const portNames = new Set<string>();
    const ports = arr(subset["ports"]);
    ports.forEach((rawPort, pi) => {
      const port = obj(rawPort);
      const pp = index(child(sp, "ports"), pi);
      const name = str(port["name"]);
      if (ports.length > 1 && name.length === 0) errs.push(required(child(pp, "name")));
      else if (name.length !== 0) {
        errs.push(...validateDNS1123Label(name, child(pp, "name")));
        if (portNames.has(name)) errs.push(duplicate(child(pp, "name"), name));
        portNames.add(name);
      }
      const n = num(port["port"]);
      for (const msg of isValidPortNum(n)) errs.push(invalid(child(pp, "port"), n, msg));
      const protocol = str(port["protocol"]);
      if (protocol === "") errs.push(required(child(pp, "protocol")));
      else if (!SUPPORTED_PORT_PROTOCOLS.includes(protocol)) errs.push(notSupported(child(pp, "protocol"), protocol, SUPPORTED_PORT_PROTOCOLS));
    });
  });
  return errs;
}

export function validateLimitRange(lr: Obj): FieldError[] {
  const errs = validateObjectMeta(objectMeta(lr), true, nameIsDNSSubdomain);
  const types = ["Container", "PersistentVolumeClaim", "Pod"];
  arr(obj(lr["spec"])["limits"]).forEach((raw, i) => {
    const item = obj(raw);
    const p = index("spec.limits", i);
    const type = str(item["type"]);
    if (!types.includes(type) && !type.includes("/")) errs.push(notSupported(child(p, "type"), type, types));
    for (const f of ["max", "min", "default", "defaultRequest", "maxLimitRequestRatio"]) {
      for (const [k, v] of Object.entries(obj(item[f]))) quantityAt(v, key(child(p, f), k), errs);
    }
  });
  return errs;
}

export function validateResourceQuota(rq: Obj): FieldError[] {
  const errs = validateObjectMeta(objectMeta(rq), true, nameIsDNSSubdomain);
  for (const [k, v] of Object.entries(obj(obj(rq["spec"])["hard"]))) {
    const p = key("spec.hard", k);
    errs.push(...isQualifiedName(k).map((msg) => invalid(p, k, msg)));
    const q = quantityAt(v, p, errs);
    if (q !== undefined && q.mantissa < 0n) errs.push(invalid(p, quantityString(q), IS_NEGATIVE_ERROR_MSG));
  }
  const scopes = ["BestEffort", "CrossNamespacePodAffinity", "NotBestEffort", "NotTerminating", "PriorityClass", "Terminating"];
  arr(obj(rq["spec"])["scopes"]).forEach((s) => {
    if (!scopes.includes(str(s))) errs.push(notSupported("spec.scopes", str(s), scopes));
  });
  return errs;
}

/** Event limits of upstream's event validation. */
const EVENT_REPORTING_INSTANCE_LENGTH_MAX = 128;
const EVENT_ACTION_LENGTH_MAX = 128;
const EVENT_REASON_LENGTH_MAX = 128;
const EVENT_NOTE_LENGTH_MAX = 1024;

/** Go's zero time.Time in JSON (`metav1.MicroTime`/`Time` marshal it as null), so missing or null. */
function isZeroTime(v: unknown): boolean {
  return !present(v) || v === "" || v === "0001-01-01T00:00:00Z";
}

/**
 * ValidateEventCreate over the internal (core) Event shape: legacy checks for every request, and the
 * strict ones for events.k8s.io/v1 (`strict`). Field paths use core names (`involvedObject`, `message`).
 */
export function validateEventCore(ev: Obj, strict: boolean, reportingField = "reportingController"): FieldError[] {
  const meta = objectMeta(ev);
  const namespace = str(meta.namespace);
  const errs: FieldError[] = [];
  const involvedNs = str(obj(ev["involvedObject"])["namespace"]);
  if (isZeroTime(ev["eventTime"])) {
    if (involvedNs.length === 0) {
      if (namespace !== "" && namespace !== "default") errs.push(invalid("involvedObject.namespace", involvedNs, "does not match event.namespace"));
    } else if (namespace !== involvedNs) {
      errs.push(invalid("involvedObject.namespace", involvedNs, "does not match event.namespace"));
    }
  } else {
    if (involvedNs.length === 0 && namespace !== "default" && namespace !== "kube-system") {
      errs.push(invalid("involvedObject.namespace", involvedNs, "does not match event.namespace"));
    }
    const controller = str(ev["reportingComponent"] ?? ev["reportingController"]);
    if (controller.length === 0) errs.push(required(reportingField));
    errs.push(...validateQualifiedName(controller, reportingField));
    const instance = str(ev["reportingInstance"]);
    if (instance.length === 0) errs.push(required("reportingInstance"));
    if (instance.length > EVENT_REPORTING_INSTANCE_LENGTH_MAX) errs.push(invalid("reportingInstance", "", `can have at most ${EVENT_REPORTING_INSTANCE_LENGTH_MAX} characters`));
    const action = str(ev["action"]);
    if (action.length === 0) errs.push(required("action"));
    if (action.length > EVENT_ACTION_LENGTH_MAX) errs.push(invalid("action", "", `can have at most ${EVENT_ACTION_LENGTH_MAX} characters`));
    const reason = str(ev["reason"]);
    if (reason.length === 0) errs.push(required("reason"));
    if (reason.length > EVENT_REASON_LENGTH_MAX) errs.push(invalid("reason", "", `can have at most ${EVENT_REASON_LENGTH_MAX} characters`));
    if (str(ev["message"]).length > EVENT_NOTE_LENGTH_MAX) errs.push(invalid("message", "", `can have at most ${EVENT_NOTE_LENGTH_MAX} characters`));
  }
  for (const msg of isDNS1123Subdomain(namespace)) errs.push(invalid("namespace", namespace, msg));
  if (!strict) return errs;
  errs.push(...validateObjectMeta(meta, true, nameIsDNSSubdomain));
  if (isZeroTime(ev["eventTime"])) errs.push(required("eventTime"));
  const type = str(ev["type"]);
  if (type !== "Normal" && type !== "Warning") errs.push(invalid("type", "", `has invalid value: ${type}`));
  if (!isZeroTime(ev["firstTimestamp"])) errs.push(invalid("firstTimestamp", "", "needs to be unset"));
  if (!isZeroTime(ev["lastTimestamp"])) errs.push(invalid("lastTimestamp", "", "needs to be unset"));
  if (num(ev["count"]) !== 0) errs.push(invalid("count", "", "needs to be unset"));
  const source = obj(ev["source"]);
  if (str(source["component"]) !== "" || str(source["host"]) !== "") errs.push(invalid("source", "", "needs to be unset"));
  return errs;
}

/** core/v1 Events get only the legacy checks, plus a name (the generic metadata check every create runs). */
export function validateEvent(ev: Obj): FieldError[] {
  const name = objectMeta(ev).name ?? "";
  const errs = name === "" ? [required("metadata.name", "name or generateName is required")] : [];
  return [...errs, ...validateEventCore(ev, false, "reportingComponent")];
}

export function validateBinding(b: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const target = obj(b["target"]);
  const kind = str(target["kind"]);
  if (kind !== "" && kind !== "Node") errs.push(notSupported("target.kind", kind, ["Node", "<empty>"]));
  if (str(target["name"]) === "") errs.push(required("target.name"));
  return errs;
}

/** The update checks shared by kinds whose spec is freely mutable: metadata plus the create rules. */
export function updateWith(validate: (o: Obj) => FieldError[]): (o: Obj, old: Obj) => FieldError[] {
  return (o, old) => [...validateObjectMetaUpdate(objectMeta(o), objectMeta(old)), ...validate(o).filter((e) => !e.field.startsWith("metadata."))];
}
