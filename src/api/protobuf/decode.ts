/**
 * Decodes a Kubernetes protobuf request body into the JSON object the client would have sent as
 * JSON. kubectl's typed clients (`kubectl create deployment`, `create secret`, …) send
 * `application/vnd.kubernetes.protobuf`; the API server works on JSON, so this is its only way in.
 *
 * The decoder is generic: the envelope names the kind, the OpenAPI definitions give every field's JSON
 * name and type, and our table (field_numbers.ts) gives each field's number. What protobuf and JSON
 * disagree on is decided here:
 *  - gogo writes every non-pointer scalar even when zero, JSON's omitempty drops it: a zero scalar is
 *    dropped unless ZERO_VALUE_FIELDS says JSON keeps it (a pointer such as `replicas`, or no omitempty);
 *  - a non-pointer struct is always written and JSON always writes it too (`status: {}`), so a nested
 *    message on the wire is kept even when empty; a nil pointer is not on the wire and stays absent;
 *  - Time/MicroTime are {seconds, nanos} (JSON: RFC 3339, `null` for the zero time), IntOrString is
 *    {type, intVal, strVal}, Quantity is {string}, RawExtension and FieldsV1 hold JSON bytes, and
 *    `format: byte` fields are base64 in JSON;
 *  - a struct embedded with `json:",inline"` (Volume's VolumeSource) is one nested message whose
 *    fields JSON flattens into the parent.
 */
import { definitionForKind } from "../openapi/definitions.js";
import { refName, resolveSchema, type Definitions, type GroupVersionKind, type Schema } from "../openapi/schema.js";
import { ApiError, badRequest } from "../status.js";
import { decodeEnvelope, hasProtobufMagic } from "./envelope.js";
import { FIELD_NUMBERS, INLINE_MESSAGES, WRAPPED_LISTS, ZERO_VALUE_FIELDS } from "./field_numbers.js";
import { ProtoReader, WIRE_BYTES, WIRE_FIXED32, WIRE_FIXED64, WIRE_VARINT, type Tag } from "./wire.js";

/** kube-apiserver's request body limit (3 MiB): the largest body it reads at all. */
export const PROTOBUF_BODY_BYTES_MAX = 3 * 1024 * 1024;
/**
 * Nested messages (and envelopes inside RawExtensions) one body may hold. The deepest served object,
 * a CronJob's pod affinity term's label selector requirement, is about 15 deep.
 */
export const PROTOBUF_DEPTH_MAX = 64;

const META = "io.k8s.apimachinery.pkg.apis.meta.v1";
const TIME = `${META}.Time`;
const MICRO_TIME = `${META}.MicroTime`;
const DURATION = `${META}.Duration`;
const FIELDS_V1 = `${META}.FieldsV1`;
const INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
const QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const RAW_EXTENSION = "io.k8s.apimachinery.pkg.runtime.RawExtension";

/** Unix seconds of Go's zero time (January 1, year 1, UTC): JSON writes that Time as `null`. */
const GO_ZERO_TIME_SECONDS = -62135596800n;

/** A field the decoder skipped: a number our table lacks, or one the OpenAPI definitions lack. */
export interface UnknownField {
  /** JSON path of the object holding it: `spec.template.spec`, or "" at the top. */
  readonly path: string;
  readonly number: number;
  /** Its JSON name when our table knows it (a field newer than the definitions). */
  readonly name?: string;
}

export interface DecodeOptions {
  /**
   * The kind the request URL implies: fills an envelope's empty group, version or kind, as
   * apimachinery's decoders default theirs.
   */
  readonly defaultGVK?: GroupVersionKind;
  /** Told of every skipped field, so the API server can report unknown fields. */
  readonly onUnknownField?: (field: UnknownField) => void;
}

interface Context {
  readonly defs: Definitions;
  readonly onUnknownField: ((field: UnknownField) => void) | undefined;
}

const utf8 = new TextDecoder();

/**
 * The JSON object a Kubernetes protobuf body holds, with `apiVersion` and `kind` from its envelope.
 * Throws ApiError 400 for a malformed body, 413 past PROTOBUF_BODY_BYTES_MAX, 415 for a kind
 * without a protobuf form.
 */
export function decodeKubernetesProtobuf(body: Uint8Array, defs: Definitions, options: DecodeOptions = {}): Record<string, unknown> {
  if (body.length > PROTOBUF_BODY_BYTES_MAX) {
    throw new ApiError("RequestEntityTooLarge", 413, `Request entity too large: limit is ${PROTOBUF_BODY_BYTES_MAX}`);
  }
  return decodeObject(body, { defs, onUnknownField: options.onUnknownField }, options.defaultGVK, "", 0);
}

function decodeObject(body: Uint8Array, ctx: Context, defaults: GroupVersionKind | undefined, path: string, depth: number): Record<string, unknown> {
  const envelope = decodeEnvelope(body);
  if (envelope.contentEncoding !== "") {
    throw badRequest(`Cannot decode protobuf: content encoding "${envelope.contentEncoding}" is not supported`);
  }
  const parsed = parseApiVersion(envelope.apiVersion);
  const gvk: GroupVersionKind = {
    group: envelope.apiVersion === "" ? (defaults?.group ?? "") : parsed.group,
    version: parsed.version === "" ? (defaults?.version ?? "") : parsed.version,
    kind: envelope.kind === "" ? (defaults?.kind ?? "") : envelope.kind,
  };
  if (gvk.kind === "") throw badRequest("Object 'Kind' is missing in protobuf body");
  const apiVersion = gvk.group === "" ? gvk.version : `${gvk.group}/${gvk.version}`;
  const found = definitionForKind(gvk, ctx.defs);
  if (found === undefined) {
    throw badRequest(`no kind "${gvk.kind}" is registered for version "${apiVersion}" in scheme "pkg/api/legacyscheme/scheme.go:30"`);
  }
  if (FIELD_NUMBERS[found.name] === undefined) {
    throw new ApiError("UnsupportedMediaType", 415, `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`);
  }
  const out: Record<string, unknown> = { apiVersion, kind: gvk.kind };
  decodeMessage(envelope.raw, found.name, found.schema, out, ctx, path, depth + 1);
  return out;
}

function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? { group: "", version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

const reverseTables = new Map<string, Map<number, string>>();

/** Field number → JSON name for one table entry, built once. */
function namesByNumber(table: string): Map<number, string> {
  let names = reverseTables.get(table);
  if (names === undefined) {
    names = new Map(Object.entries(FIELD_NUMBERS[table] ?? {}).map(([name, n]) => [n, name]));
    reverseTables.set(table, names);
  }
  return names;
}

/**
 * Decodes one message into `out` (which may already hold fields: protobuf merges a message field
 * that occurs twice, and an inline struct writes into its parent). `table` names the field numbers,
 * `schema` the JSON fields: they differ for an inline struct, whose fields the parent's schema lists.
 */
function decodeMessage(
  bytes: Uint8Array,
  table: string,
  schema: Schema,
  out: Record<string, unknown>,
  ctx: Context,
  path: string,
  depth: number,
): void {
  if (depth > PROTOBUF_DEPTH_MAX) throw badRequest(`Cannot decode protobuf: messages nest deeper than ${PROTOBUF_DEPTH_MAX}`);
  const message = table.slice(table.lastIndexOf(".") + 1);
  const names = namesByNumber(table);
  const inline = INLINE_MESSAGES[table];
  const wrapped = WRAPPED_LISTS[table];
  const scalarsSet = new Set<string>();
  const r = new ProtoReader(bytes);
  while (!r.done) {
    const tag = r.readTag(message);
    const inlineTable = inline?.[tag.field];
    if (inlineTable !== undefined) {
      expectWireType(tag, WIRE_BYTES, inlineTable);
      decodeMessage(r.readBytes(), inlineTable, schema, out, ctx, path, depth + 1);
      continue;
    }
    const name = names.get(tag.field);
    const prop = name === undefined ? undefined : schema.properties?.[name];
    if (name === undefined || prop === undefined) {
      ctx.onUnknownField?.({ path, number: tag.field, ...(name === undefined ? {} : { name }) });
      r.skip(tag, message);
      continue;
    }
    const fieldPath = path === "" ? name : `${path}.${name}`;
    const resolved = resolveSchema(prop, ctx.defs) ?? {};
    if (resolved.type === "array" && specialOf(prop) === undefined) {
      const list = Array.isArray(out[name]) ? (out[name] as unknown[]) : [];
      out[name] = list;
      const items = resolved.items ?? {};
      if (wrapped?.includes(name) === true) {
        expectWireType(tag, WIRE_BYTES, name);
        decodeWrappedList(r.readBytes(), items, list, ctx, fieldPath, depth + 1);
      } else {
        decodeRepeated(r, tag, items, list, ctx, `${fieldPath}[${list.length}]`, depth);
      }
      continue;
    }
    if (isMap(prop, resolved)) {
      expectWireType(tag, WIRE_BYTES, name);
      const map = isPlainObject(out[name]) ? (out[name] as Record<string, unknown>) : {};
      out[name] = map;
      decodeMapEntry(r.readBytes(), resolved.additionalProperties as Schema, map, ctx, fieldPath, depth + 1);
      continue;
    }
    const value = decodeValue(r, tag, prop, name, out[name], ctx, fieldPath, depth);
    out[name] = value.value;
    if (value.scalar) scalarsSet.add(name);
  }
  // gogo wrote every non-pointer scalar; JSON would have omitted the zero ones (omitempty).
  const keep = ZERO_VALUE_FIELDS[table];
  for (const name of scalarsSet) {
    if (isZeroScalar(out[name]) && keep?.includes(name) !== true) delete out[name];
  }
}

function expectWireType(tag: Tag, want: number, field: string): void {
  if (tag.wireType !== want) throw badRequest(`proto: wrong wireType = ${tag.wireType} for field ${goFieldName(field)}`);
}

/** gogo names fields by their Go names in errors: `Replicas` for `replicas`. */
function goFieldName(name: string): string {
  const short = name.slice(name.lastIndexOf(".") + 1);
  return short.charAt(0).toUpperCase() + short.slice(1);
}

function isPlainObject(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isZeroScalar(v: unknown): boolean {
  return v === "" || v === 0 || v === false;
}

/** The definition a property refers to, when it is one the decoder handles itself. */
function specialOf(prop: Schema): string | undefined {
  const ref = prop.$ref ?? (prop.allOf?.length === 1 ? prop.allOf[0]!.$ref : undefined);
  if (ref === undefined) return undefined;
  const name = refName(ref);
  return [TIME, MICRO_TIME, DURATION, FIELDS_V1, INT_OR_STRING, QUANTITY, RAW_EXTENSION].includes(name) ? name : undefined;
}

/** The definition a property refers to, or undefined for an inline schema. */
function refOf(prop: Schema): string | undefined {
  const ref = prop.$ref ?? (prop.allOf?.length === 1 ? prop.allOf[0]!.$ref : undefined);
  return ref === undefined ? undefined : refName(ref);
}

function isMap(prop: Schema, resolved: Schema): boolean {
  return (
    specialOf(prop) === undefined &&
    resolved.type === "object" &&
    resolved.properties === undefined &&
    typeof resolved.additionalProperties === "object"
  );
}

/** One occurrence of a repeated field: one element, or (scalars only) a packed run of them. */
function decodeRepeated(r: ProtoReader, tag: Tag, items: Schema, list: unknown[], ctx: Context, path: string, depth: number): void {
  const item = resolveSchema(items, ctx.defs) ?? {};
  const packable = specialOf(items) === undefined && (item.type === "integer" || item.type === "boolean" || item.type === "number");
  if (packable && tag.wireType === WIRE_BYTES) {
    // proto2 writes repeated scalars one tag each, but a packed run is equally valid protobuf.
    const run = new ProtoReader(r.readBytes());
    const elementWire = item.type === "number" ? (item.format === "float" ? WIRE_FIXED32 : WIRE_FIXED64) : WIRE_VARINT;
    while (!run.done) list.push(decodeValue(run, { field: tag.field, wireType: elementWire }, items, "", undefined, ctx, path, depth).value);
    return;
  }
  list.push(decodeValue(r, tag, items, "", undefined, ctx, path, depth).value);
}

/** `type Verbs []string`: a message {repeated items = 1} holding the list. */
function decodeWrappedList(bytes: Uint8Array, items: Schema, list: unknown[], ctx: Context, path: string, depth: number): void {
  const r = new ProtoReader(bytes);
  while (!r.done) {
    const tag = r.readTag("Wrapper");
    if (tag.field !== 1) {
      r.skip(tag, "Wrapper");
      continue;
    }
    decodeRepeated(r, tag, items, list, ctx, `${path}[${list.length}]`, depth);
  }
}

/** A map entry {key 1: string, value 2}; a missing part is its zero value, as in Go. */
function decodeMapEntry(bytes: Uint8Array, valueSchema: Schema, map: Record<string, unknown>, ctx: Context, path: string, depth: number): void {
  if (depth > PROTOBUF_DEPTH_MAX) throw badRequest(`Cannot decode protobuf: messages nest deeper than ${PROTOBUF_DEPTH_MAX}`);
  const r = new ProtoReader(bytes);
  let key = "";
  let value: unknown;
  let seen = false;
  while (!r.done) {
    const tag = r.readTag("MapEntry");
    if (tag.field === 1) {
      expectWireType(tag, WIRE_BYTES, "key");
      key = utf8.decode(r.readBytes());
    } else if (tag.field === 2) {
      value = decodeValue(r, tag, valueSchema, "value", undefined, ctx, path, depth).value;
      seen = true;
    } else {
      r.skip(tag, "MapEntry");
    }
  }
  map[key] = seen ? value : zeroValue(valueSchema, ctx, path, depth);
}

/** What Go holds for a map value the entry left out, as JSON. */
function zeroValue(schema: Schema, ctx: Context, path: string, depth: number): unknown {
  // Decoding an empty message (a zero length, 0x00) gives exactly Go's zero value of that type.
  const special = specialOf(schema);
  const resolved = resolveSchema(schema, ctx.defs) ?? {};
  if (special !== undefined || resolved.properties !== undefined || refOf(schema) !== undefined) {
    return decodeValue(new ProtoReader(Uint8Array.of(0x00)), { field: 2, wireType: WIRE_BYTES }, schema, "value", undefined, ctx, path, depth).value;
  }
  switch (resolved.type) {
    case "integer":
    case "number":
      return 0;
    case "boolean":
      return false;
    case "string":
      return "";
    default:
      return null;
  }
}

/** One value of a field: `scalar` when omitempty could apply to it. `prior` is an earlier occurrence, to merge into. */
function decodeValue(
  r: ProtoReader,
  tag: Tag,
  prop: Schema,
  name: string,
  prior: unknown,
  ctx: Context,
  path: string,
  depth: number,
): { value: unknown; scalar: boolean } {
  const special = specialOf(prop);
  if (special !== undefined) {
    expectWireType(tag, WIRE_BYTES, name);
    return { value: decodeSpecial(special, r.readBytes(), ctx, path, depth + 1), scalar: false };
  }
  const resolved = resolveSchema(prop, ctx.defs) ?? {};
  const ref = refOf(prop);
  if (resolved["x-kubernetes-int-or-string"] === true) {
    expectWireType(tag, WIRE_BYTES, name);
    return { value: decodeSpecial(INT_OR_STRING, r.readBytes(), ctx, path, depth + 1), scalar: false };
  }
  if (ref !== undefined || resolved.type === "object" || resolved.properties !== undefined) {
    expectWireType(tag, WIRE_BYTES, name);
    const table = ref ?? "";
    if (FIELD_NUMBERS[table] === undefined) {
      // Our table covers every message the served definitions reach; a gap is ours, not the client's.
      throw new ApiError("InternalError", 500, `Cannot decode protobuf: no field numbers for ${table === "" ? `the object at ${path}` : table}`);
    }
    const out = isPlainObject(prior) ? (prior as Record<string, unknown>) : {};
    decodeMessage(r.readBytes(), table, resolved, out, ctx, path, depth + 1);
    return { value: out, scalar: false };
  }
  switch (resolved.type) {
    case "string": {
      expectWireType(tag, WIRE_BYTES, name);
      const bytes = r.readBytes();
      // Go's JSON encoder writes []byte as base64; invalid UTF-8 in a string becomes U+FFFD there as here.
      return { value: resolved.format === "byte" ? Buffer.from(bytes).toString("base64") : utf8.decode(bytes), scalar: true };
    }
    case "boolean":
      expectWireType(tag, WIRE_VARINT, name);
      return { value: r.readVarint() !== 0n, scalar: true };
    case "integer": {
      expectWireType(tag, WIRE_VARINT, name);
      const v = r.readVarint();
      // Go's int32(v) keeps the low 32 bits: a negative int32 arrives as a 10-byte varint.
      return { value: Number(resolved.format === "int32" ? BigInt.asIntN(32, v) : BigInt.asIntN(64, v)), scalar: true };
    }
    case "number": {
      if (tag.wireType === WIRE_FIXED32) return { value: r.readFixed32().getFloat32(0, true), scalar: true };
      expectWireType(tag, WIRE_FIXED64, name);
      return { value: r.readFixed64().getFloat64(0, true), scalar: true };
    }
    default:
      throw new ApiError("InternalError", 500, `Cannot decode protobuf: the schema of ${path} has no type`);
  }
}

/** The types whose JSON form is not their message form. */
function decodeSpecial(special: string, bytes: Uint8Array, ctx: Context, path: string, depth: number): unknown {
  if (depth > PROTOBUF_DEPTH_MAX) throw badRequest(`Cannot decode protobuf: messages nest deeper than ${PROTOBUF_DEPTH_MAX}`);
  const fields = readFlatMessage(bytes, special.slice(special.lastIndexOf(".") + 1));
  switch (special) {
    case TIME:
    case MICRO_TIME:
      // gogo writes Go's zero time as an empty message; JSON writes it as null.
      if (bytes.length === 0) return null;
      return formatTime(varintOf(fields.get(1), "Seconds"), varintOf(fields.get(2), "Nanos"), special === MICRO_TIME);
    case DURATION:
      return formatDuration(varintOf(fields.get(1), "Duration"));
    case INT_OR_STRING: {
      const type = varintOf(fields.get(1), "Type");
      if (type === 0n) return Number(BigInt.asIntN(32, varintOf(fields.get(2), "IntVal")));
      if (type === 1n) return stringOf(fields.get(3), "StrVal");
      throw badRequest("impossible IntOrString.Type");
    }
    case QUANTITY: {
      const s = stringOf(fields.get(1), "String");
      // An empty string is Go's zero Quantity, which JSON writes as "0".
      return s === "" ? "0" : s;
    }
    case FIELDS_V1:
    case RAW_EXTENSION: {
      const raw = bytesOf(fields.get(1), "Raw");
      // Both write nil raw bytes as JSON null.
      if (raw.length === 0) return null;
      // An embedded object may itself be Kubernetes protobuf; otherwise it is JSON.
      if (special === RAW_EXTENSION && hasProtobufMagic(raw)) return decodeObject(raw, ctx, undefined, path, depth);
      try {
        return JSON.parse(utf8.decode(raw)) as unknown;
      } catch (e) {
        throw new ApiError("BadRequest", 400, `Cannot decode protobuf: ${path} does not hold JSON: ${(e as Error).message}`, undefined, { cause: e });
      }
    }
  }
  throw new ApiError("InternalError", 500, `Cannot decode protobuf: ${special} has no decoder`);
}

type FlatValue = { readonly wireType: number; readonly varint?: bigint; readonly bytes?: Uint8Array };

/** The last value of each field of a message of scalars (Time, IntOrString, …). */
function readFlatMessage(bytes: Uint8Array, message: string): Map<number, FlatValue> {
  const r = new ProtoReader(bytes);
  const fields = new Map<number, FlatValue>();
  while (!r.done) {
    const tag = r.readTag(message);
    if (tag.wireType === WIRE_VARINT) fields.set(tag.field, { wireType: tag.wireType, varint: r.readVarint() });
    else if (tag.wireType === WIRE_BYTES) fields.set(tag.field, { wireType: tag.wireType, bytes: r.readBytes() });
    else r.skip(tag, message);
  }
  return fields;
}

function varintOf(v: FlatValue | undefined, field: string): bigint {
  if (v === undefined) return 0n;
  if (v.varint === undefined) throw badRequest(`proto: wrong wireType = ${v.wireType} for field ${field}`);
  return v.varint;
}

function bytesOf(v: FlatValue | undefined, field: string): Uint8Array {
  if (v === undefined) return new Uint8Array(0);
  if (v.bytes === undefined) throw badRequest(`proto: wrong wireType = ${v.wireType} for field ${field}`);
  return v.bytes;
}

function stringOf(v: FlatValue | undefined, field: string): string {
  return utf8.decode(bytesOf(v, field));
}

const SECONDS_0000 = -62167219200n; // 0000-01-01T00:00:00Z
const SECONDS_10000 = 253402300800n; // 10000-01-01T00:00:00Z

/**
 * A Time's {seconds, nanos} as its JSON: RFC 3339 in UTC, whole seconds for Time and six fraction
 * digits for MicroTime; `null` for Go's zero time (year 1).
 */
export function formatTime(secondsVarint: bigint, nanosVarint: bigint, micro: boolean): string | null {
  let seconds = BigInt.asIntN(64, secondsVarint);
  let nanos = Number(BigInt.asIntN(32, nanosVarint));
  // time.Unix normalizes nanoseconds outside [0, 1e9) into the seconds.
  const carry = Math.floor(nanos / 1e9);
  seconds += BigInt(carry);
  nanos -= carry * 1e9;
  if (seconds === GO_ZERO_TIME_SECONDS && nanos === 0) return null;
  if (seconds < SECONDS_0000 || seconds >= SECONDS_10000) throw badRequest("Time.MarshalJSON: year outside of range [0,9999]");
  const iso = new Date(Number(seconds) * 1000).toISOString(); // 2024-01-02T03:04:05.000Z
  const day = iso.startsWith("+") || iso.startsWith("-") ? iso.slice(3) : iso; // years 0-9999 only
  const whole = day.slice(0, 19);
  return micro ? `${whole}.${String(Math.floor(nanos / 1000)).padStart(6, "0")}Z` : `${whole}Z`;
}

/** Go's time.Duration.String(): `1h0m0s`, `1.5s`, `300ms`, `0s`. */
export function formatDuration(nanosUnsigned: bigint): string {
  let d = BigInt.asIntN(64, nanosUnsigned);
  if (d === 0n) return "0s";
  const sign = d < 0n ? "-" : "";
  if (d < 0n) d = -d;
  if (d < 1_000_000_000n) {
    const [unit, size] = d < 1000n ? ["ns", 1n] : d < 1_000_000n ? ["µs", 1000n] : ["ms", 1_000_000n];
    return `${sign}${fraction(d, size)}${unit}`;
  }
  const h = d / 3_600_000_000_000n;
  const m = (d / 60_000_000_000n) % 60n;
  const s = fraction(d % 60_000_000_000n, 1_000_000_000n);
  if (h > 0n) return `${sign}${h}h${m}m${s}s`;
  if (m > 0n) return `${sign}${m}m${s}s`;
  return `${sign}${s}s`;
}

/** `v / size` with the fraction's trailing zeros dropped: 1500000n / 1000000n → "1.5". */
function fraction(v: bigint, size: bigint): string {
  const whole = v / size;
  const rest = v % size;
  if (rest === 0n) return `${whole}`;
  const digits = String(size).length - 1;
  return `${whole}.${String(rest).padStart(digits, "0").replace(/0+$/, "")}`;
}
