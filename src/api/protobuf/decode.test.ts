import { test } from "node:test";
import assert from "node:assert/strict";
import { loadDefinitions } from "../openapi/definitions.js";
import { ApiError } from "../status.js";
import { decodeKubernetesProtobuf, formatDuration, formatTime, PROTOBUF_BODY_BYTES_MAX, type UnknownField } from "./decode.js";

// A few builders for protobuf bytes: just enough to write the cases by field number, as gogo would.
function varint(v: bigint | number): number[] {
  let x = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  do {
    const low = Number(x & 0x7fn);
    x >>= 7n;
    out.push(x === 0n ? low : low | 0x80);
  } while (x !== 0n);
  return out;
}
function cat(parts: readonly (Uint8Array | number[])[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}
const key = (field: number, wire: number): number[] => varint((field << 3) | wire);
/** A varint field: int32, int64, bool, enum. */
const int = (field: number, v: bigint | number | boolean): Uint8Array => cat([key(field, 0), varint(typeof v === "boolean" ? Number(v) : v)]);
/** A length-delimited field holding raw bytes. */
const raw = (field: number, bytes: Uint8Array | number[]): Uint8Array => cat([key(field, 2), varint(bytes.length), bytes]);
const str = (field: number, s: string): Uint8Array => raw(field, new TextEncoder().encode(s));
/** A nested message field. */
const msg = (field: number, ...parts: Uint8Array[]): Uint8Array => raw(field, cat(parts));
/** A map entry of a map field. */
const entry = (field: number, k: string, value: Uint8Array): Uint8Array => msg(field, str(1, k), value);

const MAGIC = [0x6b, 0x38, 0x73, 0x00];
/** A whole body: the magic, then runtime.Unknown {typeMeta {apiVersion, kind}, raw}. */
function body(apiVersion: string, kind: string, ...object: Uint8Array[]): Uint8Array {
  return cat([MAGIC, msg(1, str(1, apiVersion), str(2, kind)), raw(2, cat(object))]);
}

const JAN_2_2024 = 1704164645; // 2024-01-02T03:04:05Z

const cases: { name: string; body: Uint8Array; want: Record<string, unknown> }[] = [
  {
    name: "a zero non-pointer scalar is dropped, as omitempty drops it, and a zero pointer scalar is kept",
    body: body("apps/v1", "Deployment", msg(1, str(1, "web"), str(2, ""), int(7, 0)), msg(2, int(1, 0), int(5, 0), int(7, false))),
    want: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" }, spec: { replicas: 0 } },
  },
  {
    name: "a zero scalar of a field without omitempty is kept",
    body: body("scheduling.k8s.io/v1", "PriorityClass", msg(1, str(1, "zero")), int(2, 0), int(3, false)),
    want: { apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "zero" }, value: 0 },
  },
  {
    name: "an empty nested message is kept as {} and an absent one stays absent",
    body: body("apps/v1", "Deployment", msg(1), msg(2, msg(4)), msg(3)),
    want: { apiVersion: "apps/v1", kind: "Deployment", metadata: {}, spec: { strategy: {} }, status: {} },
  },
  {
    name: "a negative int32 arrives as a ten-byte varint and a large int64 keeps its value",
    body: body("apps/v1", "Deployment", msg(1, int(7, 2n ** 53n - 1n)), msg(2, int(6, -1), int(9, -5))),
    want: { apiVersion: "apps/v1", kind: "Deployment", metadata: { generation: 2 ** 53 - 1 }, spec: { revisionHistoryLimit: -1, progressDeadlineSeconds: -5 } },
  },
  {
    name: "repeated scalars decode both unpacked (as proto2 writes them) and packed",
    body: body("v1", "Pod", msg(2, msg(14, int(4, 1), int(4, 2), raw(4, [...varint(3), ...varint(-4)])))),
    want: { apiVersion: "v1", kind: "Pod", spec: { securityContext: { supplementalGroups: [1, 2, 3, -4] } } },
  },
  {
    name: "Time is RFC 3339 in whole seconds, an empty Time is null, and MicroTime has six fraction digits",
    body: body(
      "coordination.k8s.io/v1",
      "Lease",
      msg(1, msg(8, int(1, JAN_2_2024), int(2, 999_000_000)), msg(9)),
      msg(2, str(1, "node-a"), msg(3, int(1, JAN_2_2024), int(2, 123_456_789)), msg(4, int(1, 0), int(2, 0))),
    ),
    want: {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { creationTimestamp: "2024-01-02T03:04:05Z", deletionTimestamp: null },
      spec: { holderIdentity: "node-a", acquireTime: "2024-01-02T03:04:05.123456Z", renewTime: "1970-01-01T00:00:00.000000Z" },
    },
  },
  {
    name: "IntOrString becomes a number or a string by its type",
    body: body("v1", "Service", msg(2, msg(1, int(3, 80), msg(4, int(1, 1), str(3, "http"))), msg(1, int(3, 443), msg(4, int(1, 0), int(2, 8443))))),
    want: { apiVersion: "v1", kind: "Service", spec: { ports: [{ port: 80, targetPort: "http" }, { port: 443, targetPort: 8443 }] } },
  },
  {
    name: "a map of quantities decodes each entry, and an entry without a value holds the zero quantity",
    body: body("v1", "ResourceQuota", msg(2, entry(1, "cpu", msg(2, str(1, "500m"))), entry(1, "pods", msg(2, str(1, "10"))), msg(1, str(1, "memory")))),
    want: { apiVersion: "v1", kind: "ResourceQuota", spec: { hard: { cpu: "500m", pods: "10", memory: "0" } } },
  },
  {
    name: "bytes are base64 in JSON and a map keeps an empty value",
    body: body("v1", "Secret", entry(2, "bin", raw(2, [0xff, 0x00])), entry(2, "empty", raw(2, [])), str(3, "Opaque"), entry(4, "plain", str(2, ""))),
    want: { apiVersion: "v1", kind: "Secret", data: { bin: "/wA=", empty: "" }, type: "Opaque", stringData: { plain: "" } },
  },
  {
    name: "a RawExtension holds JSON, and one holding Kubernetes protobuf is decoded too",
    body: body(
      "apps/v1",
      "ControllerRevision",
      msg(2, str(1, '{"spec":{"template":{}}}')),
      int(3, 4),
    ),
    want: { apiVersion: "apps/v1", kind: "ControllerRevision", data: { spec: { template: {} } }, revision: 4 },
  },
  {
    name: "a RawExtension holding a protobuf envelope decodes into the object it holds",
    body: body("apps/v1", "ControllerRevision", msg(2, raw(1, body("v1", "ConfigMap", msg(1, str(1, "inner"))))), int(3, 1)),
    want: { apiVersion: "apps/v1", kind: "ControllerRevision", data: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "inner" } }, revision: 1 },
  },
  {
    name: "an inline struct (Volume's VolumeSource, a selector's LocalObjectReference) flattens into its parent",
    body: body(
      "v1",
      "Pod",
      msg(
        2,
        msg(1, str(1, "cfg"), msg(2, msg(19, msg(1, str(1, "settings")), int(3, 420)))),
        msg(2, str(1, "app"), msg(7, str(1, "TOKEN"), msg(3, msg(4, msg(1, str(1, "creds")), str(2, "token"))))),
      ),
    ),
    want: {
      apiVersion: "v1",
      kind: "Pod",
      spec: {
        volumes: [{ name: "cfg", configMap: { name: "settings", defaultMode: 420 } }],
        containers: [{ name: "app", env: [{ name: "TOKEN", valueFrom: { secretKeyRef: { name: "creds", key: "token" } } }] }],
      },
    },
  },
  {
    name: "a message field sent twice merges, as protobuf merges it",
    body: body("v1", "ConfigMap", msg(1, str(1, "a")), msg(1, entry(11, "tier", str(2, "web"))), entry(2, "k", str(2, "v"))),
    want: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", labels: { tier: "web" } }, data: { k: "v" } },
  },
  {
    name: "managedFields keep their FieldsV1 JSON and operation time",
    body: body(
      "v1",
      "ConfigMap",
      msg(1, msg(17, str(1, "kubectl"), str(2, "Update"), str(3, "v1"), msg(4, int(1, JAN_2_2024)), str(6, "FieldsV1"), msg(7, str(1, '{"f:data":{".":{}}}')))),
    ),
    want: {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        managedFields: [{ manager: "kubectl", operation: "Update", apiVersion: "v1", time: "2024-01-02T03:04:05Z", fieldsType: "FieldsV1", fieldsV1: { "f:data": { ".": {} } } }],
      },
    },
  },
  {
    name: "a kind with a metav1 body (DeleteOptions in a group version) decodes",
    body: body("apps/v1", "DeleteOptions", int(1, 0), str(4, "Foreground"), msg(2, str(1, "uid-1")), str(5, "All")),
    want: { apiVersion: "apps/v1", kind: "DeleteOptions", gracePeriodSeconds: 0, propagationPolicy: "Foreground", preconditions: { uid: "uid-1" }, dryRun: ["All"] },
  },
  {
    name: "a subresource body (policy/v1 Eviction) decodes",
    body: body("policy/v1", "Eviction", msg(1, str(1, "web-0"), str(3, "default")), msg(2, int(1, 30))),
    want: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "web-0", namespace: "default" }, deleteOptions: { gracePeriodSeconds: 30 } },
  },
];

for (const c of cases) {
  test(`decodeKubernetesProtobuf: ${c.name}`, () => {
    assert.deepEqual(decodeKubernetesProtobuf(c.body, loadDefinitions()), c.want);
  });
}

test("decodeKubernetesProtobuf: fields it cannot place are skipped and reported with where they were", () => {
  const unknown: UnknownField[] = [];
  const got = decodeKubernetesProtobuf(
    body("apps/v1", "Deployment", msg(2, int(1, 3), int(99, 7), msg(3, msg(2, msg(40), str(9, "sa")))), str(15, "trailing")),
    loadDefinitions(),
    { onUnknownField: (f) => unknown.push(f) },
  );
  assert.deepEqual(got, { apiVersion: "apps/v1", kind: "Deployment", spec: { replicas: 3, template: { spec: { serviceAccount: "sa" } } } });
  assert.deepEqual(unknown, [
    { path: "spec", number: 99 },
    // PodSpec.resources (1.32) is in our table but not in the 1.30 definitions.
    { path: "spec.template.spec", number: 40, name: "resources" },
    { path: "", number: 15 },
  ]);
});

test("decodeKubernetesProtobuf: an envelope without a type takes it from the defaults", () => {
  const b = cat([MAGIC, msg(1), raw(2, msg(1, str(1, "cfg")))]);
  assert.deepEqual(decodeKubernetesProtobuf(b, loadDefinitions(), { defaultGVK: { group: "", version: "v1", kind: "ConfigMap" } }), {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "cfg" },
  });
});

function nestedRevisions(levels: number): Uint8Array {
  let b = body("v1", "ConfigMap");
  for (let i = 0; i < levels; i++) b = body("apps/v1", "ControllerRevision", msg(2, raw(1, b)));
  return b;
}

const errors: { name: string; body: Uint8Array; code: number; message: string | RegExp }[] = [
  { name: "a body without the magic", body: Uint8Array.from([0x7b, 0x7d]), code: 400, message: "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]" },
  { name: "a truncated varint", body: cat([MAGIC, [0x0a, 0x80]]), code: 400, message: "unexpected EOF" },
  { name: "a length past the end", body: cat([MAGIC, [0x0a, 0x05, 0x0a]]), code: 400, message: "unexpected EOF" },
  { name: "a varint longer than ten bytes", body: cat([MAGIC, [0x48, ...Array(10).fill(0xff), 0x01]]), code: 400, message: "proto: integer overflow" },
  { name: "a negative length", body: cat([MAGIC, [0x12, ...Array(9).fill(0xff), 0x01]]), code: 400, message: "proto: negative length found during unmarshaling" },
  { name: "an end-group tag", body: cat([MAGIC, [0x0c]]), code: 400, message: "proto: Unknown: wiretype end group for non-group" },
  { name: "field number zero", body: cat([MAGIC, [0x02, 0x00]]), code: 400, message: "proto: Unknown: illegal tag 0 (wire type 2)" },
  { name: "a known field with the wrong wire type", body: body("apps/v1", "Deployment", msg(2, str(1, "3"))), code: 400, message: "proto: wrong wireType = 2 for field Replicas" },
  { name: "a kind no definition has", body: body("apps/v1", "Gadget"), code: 400, message: 'no kind "Gadget" is registered for version "apps/v1" in scheme "pkg/api/legacyscheme/scheme.go:30"' },
  { name: "an envelope without a kind", body: cat([MAGIC, raw(2, [])]), code: 400, message: "Object 'Kind' is missing in protobuf body" },
  { name: "an IntOrString of a third type", body: body("policy/v1", "PodDisruptionBudget", msg(2, msg(1, int(1, 2)))), code: 400, message: "impossible IntOrString.Type" },
  { name: "a RawExtension that holds neither JSON nor protobuf", body: body("apps/v1", "ControllerRevision", msg(2, str(1, "{nope"))), code: 400, message: /^Cannot decode protobuf: data does not hold JSON/ },
  { name: "a Time past year 9999", body: body("v1", "ConfigMap", msg(1, msg(8, int(1, 253402300800)))), code: 400, message: "Time.MarshalJSON: year outside of range [0,9999]" },
  { name: "objects nested deeper than the limit", body: nestedRevisions(40), code: 400, message: "Cannot decode protobuf: messages nest deeper than 64" },
  { name: "a body over the size limit", body: new Uint8Array(PROTOBUF_BODY_BYTES_MAX + 1), code: 413, message: `Request entity too large: limit is ${PROTOBUF_BODY_BYTES_MAX}` },
];

for (const c of errors) {
  test(`decodeKubernetesProtobuf: ${c.name} is rejected with ${c.code}`, () => {
    assert.throws(
      () => decodeKubernetesProtobuf(c.body, loadDefinitions()),
      (e: unknown) => {
        assert.ok(e instanceof ApiError, String(e));
        assert.equal(e.code, c.code);
        if (typeof c.message === "string") assert.equal(e.message, c.message);
        else assert.match(e.message, c.message);
        return true;
      },
    );
  });
}

test("decodeKubernetesProtobuf: objects nested just within the limit decode", () => {
  const got = decodeKubernetesProtobuf(nestedRevisions(20), loadDefinitions());
  let depth = 0;
  for (let o = got; o.kind === "ControllerRevision"; o = o.data as Record<string, unknown>) depth++;
  assert.equal(depth, 20);
});

const times = [
  { name: "whole seconds", seconds: 1704164645n, nanos: 0n, micro: false, want: "2024-01-02T03:04:05Z" },
  { name: "a Time drops the fraction", seconds: 1704164645n, nanos: 999_999_999n, micro: false, want: "2024-01-02T03:04:05Z" },
  { name: "a MicroTime keeps six digits", seconds: 1704164645n, nanos: 5_000n, micro: true, want: "2024-01-02T03:04:05.000005Z" },
  { name: "before 1970", seconds: -1n, nanos: 0n, micro: false, want: "1969-12-31T23:59:59Z" },
  { name: "year 1 is Go's zero time", seconds: -62135596800n, nanos: 0n, micro: false, want: null },
  { name: "nanoseconds past a second carry", seconds: 0n, nanos: 1_500_000_000n, micro: true, want: "1970-01-01T00:00:01.500000Z" },
];
for (const c of times) test(`formatTime: ${c.name}`, () => assert.equal(formatTime(BigInt.asUintN(64, c.seconds), c.nanos, c.micro), c.want));

const durations = [
  { nanos: 0n, want: "0s" },
  { nanos: 1_500_000_000n, want: "1.5s" },
  { nanos: 3_600_000_000_000n, want: "1h0m0s" },
  { nanos: 300_000_000n, want: "300ms" },
  { nanos: 1_500n, want: "1.5µs" },
  { nanos: -123_000_000_000n, want: "-2m3s" },
];
for (const c of durations) test(`formatDuration: ${c.nanos}ns is ${c.want}`, () => assert.equal(formatDuration(BigInt.asUintN(64, c.nanos)), c.want));
