/**
 * Names, labels and object metadata, as apimachinery's `util/validation` (IsDNS1123Label, IsQualifiedName,
 * …, each returning upstream's message strings) and `api/validation` (ValidateObjectMeta and its update
 * check). Messages are upstream's byte for byte; `kubectl` prints them after `is invalid:`.
 */

import {
  type FieldError,
  child,
  forbidden,
  goQuote,
  goStringSlice,
  GoValue,
  index,
  invalid,
  required,
  tooLong,
} from "./field_errors.js";

export const DNS1123_LABEL_MAX_LENGTH = 63;
export const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;
export const DNS1035_LABEL_MAX_LENGTH = 63;
export const QUALIFIED_NAME_MAX_LENGTH = 63;
export const LABEL_VALUE_MAX_LENGTH = 63;
/** Upstream's TotalAnnotationSizeLimitB: keys plus values of all annotations of one object. */
export const TOTAL_ANNOTATION_SIZE_LIMIT_BYTES = 256 * 1024;
/** `field is immutable`, upstream's FieldImmutableErrorMsg. */
export const FIELD_IMMUTABLE_ERROR_MSG = "field is immutable";
/** Upstream's IsNegativeErrorMsg. */
export const IS_NEGATIVE_ERROR_MSG = "must be greater than or equal to 0";

const DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN_ERR =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_ERR =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_ERR =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const LABEL_VALUE_ERR =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const CONFIG_MAP_KEY_FMT = "[-._a-zA-Z0-9]+";
const CONFIG_MAP_KEY_ERR = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
const ENV_VAR_NAME_FMT = "[-._a-zA-Z][-._a-zA-Z0-9]*";
const ENV_VAR_NAME_ERR =
  "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit";
const PERCENT_FMT = "[0-9]+%";
const PERCENT_ERR = "a valid percent string must be a numeric string followed by an ending '%'";
const HTTP_HEADER_NAME_FMT = "[-A-Za-z0-9]+";
const HTTP_HEADER_NAME_ERR = "a valid HTTP header must consist of alphanumeric characters or '-'";

const whole = (fmt: string): RegExp => new RegExp(`^${fmt}$`);
const DNS1123_LABEL_RE = whole(DNS1123_LABEL_FMT);
const DNS1123_SUBDOMAIN_RE = whole(DNS1123_SUBDOMAIN_FMT);
const DNS1035_LABEL_RE = whole(DNS1035_LABEL_FMT);
const QUALIFIED_NAME_RE = whole(QUALIFIED_NAME_FMT);
const LABEL_VALUE_RE = whole(LABEL_VALUE_FMT);
const CONFIG_MAP_KEY_RE = whole(CONFIG_MAP_KEY_FMT);
const ENV_VAR_NAME_RE = whole(ENV_VAR_NAME_FMT);
const PERCENT_RE = whole(PERCENT_FMT);
const HTTP_HEADER_NAME_RE = whole(HTTP_HEADER_NAME_FMT);

/** Go measures strings in bytes. */
function byteLength(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

export function maxLenError(length: number): string {
  return `must be no more than ${length} characters`;
}

export function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  // Each example ends with ", " and they are joined by " or ", so Go prints two spaces before "or".
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(" or ")}regex used for validation is '${fmt}')`;
}

export function emptyError(): string {
  return "must be non-empty";
}

export function inclusiveRangeError(lo: number, hi: number): string {
  return `must be between ${lo} and ${hi}, inclusive`;
}

export function isDNS1123Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_LABEL_MAX_LENGTH) errs.push(maxLenError(DNS1123_LABEL_MAX_LENGTH));
  if (!DNS1123_LABEL_RE.test(value)) {
    // A valid subdomain that is not a valid label (length already checked) must contain dots.
    if (DNS1123_SUBDOMAIN_RE.test(value)) errs.push("must not contain dots");
    else errs.push(regexError(DNS1123_LABEL_ERR, DNS1123_LABEL_FMT, "my-name", "123-abc"));
  }
  return errs;
}

export function isDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!DNS1123_SUBDOMAIN_RE.test(value)) errs.push(regexError(DNS1123_SUBDOMAIN_ERR, DNS1123_SUBDOMAIN_FMT, "example.com"));
  return errs;
}

export function isDNS1035Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1035_LABEL_MAX_LENGTH) errs.push(maxLenError(DNS1035_LABEL_MAX_LENGTH));
  if (!DNS1035_LABEL_RE.test(value)) errs.push(regexError(DNS1035_LABEL_ERR, DNS1035_LABEL_FMT, "my-name", "abc-123"));
  return errs;
}

/** IsQualifiedName: `[prefix/]name`, the form of label keys, annotation keys and finalizers. */
export function isQualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split("/");
  let name: string;
  if (parts.length === 1) {
    name = parts[0]!;
  } else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push(`prefix part ${emptyError()}`);
    else for (const msg of isDNS1123Subdomain(prefix)) errs.push(`prefix part ${msg}`);
  } else {
    return [
      `a qualified name ${regexError(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errs.push(`name part ${emptyError()}`);
  else if (byteLength(name) > QUALIFIED_NAME_MAX_LENGTH) errs.push(`name part ${maxLenError(QUALIFIED_NAME_MAX_LENGTH)}`);
  if (!QUALIFIED_NAME_RE.test(name)) errs.push(`name part ${regexError(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")}`);
  return errs;
}

export function isValidLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > LABEL_VALUE_MAX_LENGTH) errs.push(maxLenError(LABEL_VALUE_MAX_LENGTH));
  if (!LABEL_VALUE_RE.test(value)) errs.push(regexError(LABEL_VALUE_ERR, LABEL_VALUE_FMT, "MyValue", "my_value", "12345"));
  return errs;
}

function hasChDirPrefix(value: string): string[] {
  if (value === ".") return ["must not be '.'"];
  if (value === "..") return ["must not be '..'"];
  if (value.startsWith("..")) return ["must not start with '..'"];
  return [];
}

/** IsConfigMapKey: keys of ConfigMap and Secret data. */
export function isConfigMapKey(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!CONFIG_MAP_KEY_RE.test(value)) errs.push(regexError(CONFIG_MAP_KEY_ERR, CONFIG_MAP_KEY_FMT, "key.name", "KEY_NAME", "key-name"));
  errs.push(...hasChDirPrefix(value));
  return errs;
}

export function isEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (!ENV_VAR_NAME_RE.test(value)) errs.push(regexError(ENV_VAR_NAME_ERR, ENV_VAR_NAME_FMT, "my.env-name", "MY_ENV.NAME", "MyEnvName1"));
  errs.push(...hasChDirPrefix(value));
  return errs;
}

export function isValidPortNum(port: number): string[] {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : [inclusiveRangeError(1, 65535)];
}

export function isInRange(value: number, min: number, max: number): string[] {
  return value >= min && value <= max ? [] : [inclusiveRangeError(min, max)];
}

/** IsValidPortName: an IANA service name, at most 15 characters with at least one letter. */
export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (byteLength(port) > 15) errs.push(maxLenError(15));
  if (!/^[-a-z0-9]+$/.test(port)) errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (!/[a-z]/.test(port)) errs.push("must contain at least one letter (a-z)");
  if (port.includes("--")) errs.push("must not contain consecutive hyphens");
  if (port.length > 0 && (port.startsWith("-") || port.endsWith("-"))) errs.push("must not begin or end with a hyphen");
  return errs;
}

export function isValidPercent(percent: string): string[] {
  return PERCENT_RE.test(percent) ? [] : [regexError(PERCENT_ERR, PERCENT_FMT, "1%", "93%")];
}

export function isHTTPHeaderName(value: string): string[] {
  return HTTP_HEADER_NAME_RE.test(value) ? [] : [regexError(HTTP_HEADER_NAME_ERR, HTTP_HEADER_NAME_FMT, "X-Header-Name")];
}

/** IsValidIP (the non-strict form upstream used through 1.32). */
export function isValidIP(value: string): boolean {
  return isIPv4(value) || isIPv6(value);
}

function isIPv4(value: string): boolean {
  const parts = value.split(".");
  if (parts.length !== 4) return false;
  return parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255);
}

function isIPv6(value: string): boolean {
  if (!value.includes(":") || !/^[0-9a-fA-F:.]+$/.test(value)) return false;
  const doubleColons = value.split("::").length - 1;
  if (doubleColons > 1) return false;
  let groups = value.split(":").filter((g, i, all) => !(g === "" && (i === 0 || i === all.length - 1 || doubleColons === 1)));
  let width = 8;
  const last = groups[groups.length - 1];
  if (last !== undefined && last.includes(".")) {
    if (!isIPv4(last)) return false;
    groups = groups.slice(0, -1);
    width = 6;
  }
  if (!groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return doubleColons === 1 ? groups.length < width : groups.length === width;
}

// ---- name functions: ValidateNameFunc(name, prefix) ----

/** (name, prefix) → messages; prefix means generateName, where a trailing dash is allowed. */
export type NameFn = (name: string, prefix: boolean) => string[];

// A generateName gets random characters appended, so its trailing dash is masked. Upstream drops the
// last two characters and appends "a" (sic); we keep that so the same prefixes pass.
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith("-") ? `${name.slice(0, -2)}a` : name;
}

export const nameIsDNSSubdomain: NameFn = (name, prefix) => isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);
export const nameIsDNSLabel: NameFn = (name, prefix) => isDNS1123Label(prefix ? maskTrailingDash(name) : name);
export const nameIsDNS1035Label: NameFn = (name, prefix) => isDNS1035Label(prefix ? maskTrailingDash(name) : name);
/** ValidateNamespaceName. */
export const validateNamespaceName: NameFn = nameIsDNSLabel;

// ---- field-level helpers ----

export function validateDNS1123Label(value: string, field: string): FieldError[] {
  return isDNS1123Label(value).map((msg) => invalid(field, value, msg));
}

export function validateDNS1123Subdomain(value: string, field: string): FieldError[] {
  return isDNS1123Subdomain(value).map((msg) => invalid(field, value, msg));
}

export function validateQualifiedName(value: string, field: string): FieldError[] {
  return isQualifiedName(value).map((msg) => invalid(field, value, msg));
}

/** ValidateLabelName (metav1 validation). */
export function validateLabelName(name: string, field: string): FieldError[] {
  return isQualifiedName(name).map((msg) => invalid(field, name, msg));
}

/** ValidateLabels: keys are qualified names, values label values; errors name the map, not the key. */
export function validateLabels(labels: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(asStringMap(labels))) {
    errs.push(...validateLabelName(k, field));
    for (const msg of isValidLabelValue(v)) errs.push(invalid(field, v, msg));
  }
  return errs;
}

/** ValidateAnnotations: keys are qualified names ignoring case; all of them fit 256 KiB. */
export function validateAnnotations(annotations: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const map = asStringMap(annotations);
  let totalBytes = 0;
  for (const [k, v] of Object.entries(map)) {
    for (const msg of isQualifiedName(k.toLowerCase())) errs.push(invalid(field, k, msg));
    totalBytes += byteLength(k) + byteLength(v);
  }
  if (totalBytes > TOTAL_ANNOTATION_SIZE_LIMIT_BYTES) errs.push(tooLong(field, "", TOTAL_ANNOTATION_SIZE_LIMIT_BYTES));
  return errs;
}

export function validateNonnegativeField(value: number, field: string): FieldError[] {
  return value < 0 ? [invalid(field, value, IS_NEGATIVE_ERROR_MSG)] : [];
}

/** ValidateImmutableField: deep equality (JSON-level, as apimachinery's semantic DeepEqual on the same types). */
export function validateImmutableField(newValue: unknown, oldValue: unknown, field: string, badValue: unknown = newValue): FieldError[] {
  return deepEqual(newValue, oldValue) ? [] : [invalid(field, badValue, FIELD_IMMUTABLE_ERROR_MSG)];
}

/** Structural equality of JSON values, treating a missing field, null and an empty map or list alike. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (isEmptyish(a) && isEmptyish(b)) return true;
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) if (!deepEqual(ao[k], bo[k])) return false;
  return true;
}

function isEmptyish(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === "object") return Object.keys(v as object).length === 0;
  return false;
}

// ---- label selectors (metav1 validation) ----

/** ValidateLabelSelector: matchLabels, then each requirement's operator, key and values. */
export function validateLabelSelector(selector: unknown, field: string): FieldError[] {
  if (selector === undefined || selector === null) return [];
  const sel = selector as { matchLabels?: unknown; matchExpressions?: unknown[] };
  const errs = validateLabels(sel.matchLabels, child(field, "matchLabels"));
  (sel.matchExpressions ?? []).forEach((raw, i) => {
    const req = (raw ?? {}) as { key?: string; operator?: string; values?: string[] };
    const p = index(child(field, "matchExpressions"), i);
    const values = req.values ?? [];
    switch (req.operator) {
      case "In":
      case "NotIn":
        if (values.length === 0) errs.push(required(child(p, "values"), "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case "Exists":
      case "DoesNotExist":
        if (values.length > 0) errs.push(forbidden(child(p, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(invalid(child(p, "operator"), req.operator ?? "", "not a valid selector operator"));
    }
    errs.push(...validateLabelName(req.key ?? "", child(p, "key")));
    values.forEach((v, vi) => {
      for (const msg of isValidLabelValue(v)) errs.push(invalid(index(child(p, "values"), vi), v, msg));
    });
  });
  return errs;
}

/** Whether a label selector (matchLabels + matchExpressions) selects a label set. Empty matches all. */
export function selectorMatches(selector: unknown, labels: unknown): boolean {
  const sel = (selector ?? {}) as { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  const set = asStringMap(labels);
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (set[k] !== v) return false;
  for (const raw of sel.matchExpressions ?? []) {
    const r = (raw ?? {}) as { key?: string; operator?: string; values?: string[] };
    const has = Object.prototype.hasOwnProperty.call(set, r.key ?? "");
    const value = set[r.key ?? ""];
    const values = r.values ?? [];
    switch (r.operator) {
      case "In":
        if (!has || !values.includes(value!)) return false;
        break;
      case "NotIn":
        if (has && values.includes(value!)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** A selector with no requirements: upstream's `selector.Empty()`. */
export function selectorIsEmpty(selector: unknown): boolean {
  const sel = (selector ?? {}) as { matchLabels?: object; matchExpressions?: unknown[] };
  return Object.keys(sel.matchLabels ?? {}).length + (sel.matchExpressions ?? []).length === 0;
}

// ---- ObjectMeta ----

/** The metadata fields validation reads; everything else in ObjectMeta is free-form or server-set. */
export interface ObjectMetaLike {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string | null;
  deletionTimestamp?: string | null;
  deletionGracePeriodSeconds?: number | null;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: unknown[];
  finalizers?: string[];
}

export function objectMeta(obj: unknown): ObjectMetaLike {
  const m = (obj as { metadata?: unknown } | null)?.metadata;
  return m !== null && typeof m === "object" ? (m as ObjectMetaLike) : {};
}

/**
 * ValidateObjectMeta: name (or generateName) by the kind's name function, namespace required for
 * namespaced kinds and forbidden otherwise, then labels, annotations, owner references, finalizers.
 */
export function validateObjectMeta(meta: ObjectMetaLike, namespaced: boolean, nameFn: NameFn, field = "metadata"): FieldError[] {
  const errs: FieldError[] = [];
  const generateName = meta.generateName ?? "";
  if (generateName.length !== 0) {
    for (const msg of nameFn(generateName, true)) errs.push(invalid(child(field, "generateName"), generateName, msg));
  }
  const name = meta.name ?? "";
  if (name.length === 0) errs.push(required(child(field, "name"), "name or generateName is required"));
  else for (const msg of nameFn(name, false)) errs.push(invalid(child(field, "name"), name, msg));
  errs.push(...validateObjectMetaCommon(meta, namespaced, field));
  return errs;
}

function validateObjectMetaCommon(meta: ObjectMetaLike, namespaced: boolean, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const namespace = meta.namespace ?? "";
  if (namespaced) {
    if (namespace.length === 0) errs.push(required(child(field, "namespace")));
    else for (const msg of validateNamespaceName(namespace, false)) errs.push(invalid(child(field, "namespace"), namespace, msg));
  } else if (namespace.length !== 0) {
    errs.push(forbidden(child(field, "namespace"), "not allowed on this type"));
  }
  errs.push(...validateNonnegativeField(meta.generation ?? 0, child(field, "generation")));
  errs.push(...validateLabels(meta.labels, child(field, "labels")));
  errs.push(...validateAnnotations(meta.annotations, child(field, "annotations")));
  errs.push(...validateOwnerReferences(meta.ownerReferences, child(field, "ownerReferences")));
  errs.push(...validateFinalizers(meta.finalizers, child(field, "finalizers")));
  return errs;
}

interface OwnerReferenceLike {
  apiVersion?: string;
  kind?: string;
  name?: string;
  uid?: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** `%#v` of a metav1.OwnerReference, the bad value of a banned owner. */
function goOwnerReference(r: OwnerReferenceLike): string {
  const ptr = (v: boolean | undefined): string => (v === undefined ? "(*bool)(nil)" : `(*bool)(${v})`);
  return `v1.OwnerReference{APIVersion:${goQuote(r.apiVersion ?? "")}, Kind:${goQuote(r.kind ?? "")}, Name:${goQuote(r.name ?? "")}, UID:${goQuote(r.uid ?? "")}, Controller:${ptr(r.controller)}, BlockOwnerDeletion:${ptr(r.blockOwnerDeletion)}}`;
}

export function validateOwnerReferences(refs: unknown[] | undefined, field: string): FieldError[] {
  const errs: FieldError[] = [];
  let firstController = "";
  for (const raw of refs ?? []) {
    const r = (raw ?? {}) as OwnerReferenceLike;
    const apiVersion = r.apiVersion ?? "";
    const slash = apiVersion.indexOf("/");
    const group = slash < 0 ? "" : apiVersion.slice(0, slash);
    const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
    if (version.length === 0) errs.push(invalid(child(field, "apiVersion"), apiVersion, "version must not be empty"));
    if ((r.kind ?? "").length === 0) errs.push(invalid(child(field, "kind"), r.kind ?? "", "must not be empty"));
    if ((r.name ?? "").length === 0) errs.push(invalid(child(field, "name"), r.name ?? "", "must not be empty"));
    if ((r.uid ?? "").length === 0) errs.push(invalid(child(field, "uid"), r.uid ?? "", "must not be empty"));
    if (group === "" && version === "v1" && r.kind === "Event") {
      // schema.GroupVersionKind.String() of core/v1 Event: "/v1, Kind=Event".
      errs.push(invalid(field, new GoValue(goOwnerReference(r)), "/v1, Kind=Event is disallowed from being an owner"));
    }
    if (r.controller === true) {
      const current = `${r.kind ?? ""}/${r.name ?? ""}`;
      if (firstController !== "") {
        errs.push(
          invalid(
            field,
            new GoValue(`[]v1.OwnerReference{${(refs ?? []).map((x) => goOwnerReference((x ?? {}) as OwnerReferenceLike)).join(", ")}}`),
            `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${current}`,
          ),
        );
      } else {
        firstController = current;
      }
    }
  }
  return errs;
}

/** ValidateFinalizers: qualified names, and not both orphan and foreground deletion. */
export function validateFinalizers(finalizers: string[] | undefined, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const list = finalizers ?? [];
  for (const f of list) errs.push(...validateQualifiedName(f, field));
  if (list.includes("orphan") && list.includes("foregroundDeletion")) {
    errs.push(invalid(field, list, "finalizer orphan and foregroundDeletion cannot be both set"));
  }
  return errs;
}

/** metav1.Time's String(): Go's time.Time format, `2024-01-02 03:04:05 +0000 UTC`. */
function goTime(value: string | null | undefined): GoValue {
  if (value === null || value === undefined || value === "") return new GoValue("0001-01-01 00:00:00 +0000 UTC");
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return new GoValue(value);
  const iso = d.toISOString(); // 2024-01-02T03:04:05.000Z
  return new GoValue(`${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000 UTC`);
}

/**
 * ValidateObjectMetaUpdate (1.32): finalizers frozen while deleting, a resourceVersion required (the
 * store fills it in for unconditional updates before validating), generation never decreases, and
 * name/namespace/uid/creationTimestamp/deletionTimestamp/deletionGracePeriodSeconds immutable; labels,
 * annotations and owner references revalidated (finalizer names are not, as upstream).
 */
export function validateObjectMetaUpdate(newMeta: ObjectMetaLike, oldMeta: ObjectMetaLike, field = "metadata"): FieldError[] {
  const errs: FieldError[] = [];
  if (oldMeta.deletionTimestamp !== undefined && oldMeta.deletionTimestamp !== null) {
    const old = new Set(oldMeta.finalizers ?? []);
    const extra = [...new Set(newMeta.finalizers ?? [])].filter((f) => !old.has(f)).sort();
    if (extra.length !== 0) {
      errs.push(
        forbidden(
          child(field, "finalizers"),
          `no new finalizers can be added if the object is being deleted, found new finalizers ${goStringSlice(extra)}`,
        ),
      );
    }
  }
  if ((newMeta.resourceVersion ?? "") === "") {
    errs.push(invalid(child(field, "resourceVersion"), newMeta.resourceVersion ?? "", "must be specified for an update"));
  }
  if ((newMeta.generation ?? 0) < (oldMeta.generation ?? 0)) {
    errs.push(invalid(child(field, "generation"), newMeta.generation ?? 0, "must not be decremented"));
  }
  errs.push(...validateImmutableField(newMeta.name ?? "", oldMeta.name ?? "", child(field, "name")));
  errs.push(...validateImmutableField(newMeta.namespace ?? "", oldMeta.namespace ?? "", child(field, "namespace")));
  errs.push(...validateImmutableField(newMeta.uid ?? "", oldMeta.uid ?? "", child(field, "uid")));
  errs.push(
    ...validateImmutableField(
      normalizeTime(newMeta.creationTimestamp),
      normalizeTime(oldMeta.creationTimestamp),
      child(field, "creationTimestamp"),
      goTime(newMeta.creationTimestamp),
    ),
  );
  errs.push(
    ...validateImmutableField(
      normalizeTime(newMeta.deletionTimestamp),
      normalizeTime(oldMeta.deletionTimestamp),
      child(field, "deletionTimestamp"),
      newMeta.deletionTimestamp ? goTime(newMeta.deletionTimestamp) : null,
    ),
  );
  errs.push(
    ...validateImmutableField(
      newMeta.deletionGracePeriodSeconds ?? null,
      oldMeta.deletionGracePeriodSeconds ?? null,
      child(field, "deletionGracePeriodSeconds"),
    ),
  );
  errs.push(...validateLabels(newMeta.labels, child(field, "labels")));
  errs.push(...validateAnnotations(newMeta.annotations, child(field, "annotations")));
  errs.push(...validateOwnerReferences(newMeta.ownerReferences, child(field, "ownerReferences")));
  return errs;
}

// Timestamps compare at second precision, as metav1.Time does after a round trip.
function normalizeTime(v: string | null | undefined): number | null {
  if (v === null || v === undefined || v === "") return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.floor(t / 1000);
}

export function asStringMap(v: unknown): Record<string, string> {
  if (v === null || v === undefined || typeof v !== "object" || Array.isArray(v)) return {};
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = typeof x === "string" ? x : String(x);
  return out;
}
