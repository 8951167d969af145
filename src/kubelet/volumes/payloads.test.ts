import assert from "node:assert/strict";
import { test } from "node:test";
import type { Pod } from "kubernetes-types/core/v1.js";
import { configMapPayload, downwardAPIPayload, formatMap, PayloadError, podFieldValue, secretPayload } from "./payloads.js";

const text = (m: Map<string, { data: Uint8Array; mode: number }>) => Object.fromEntries([...m].map(([k, v]) => [k, [Buffer.from(v.data).toString(), v.mode.toString(8)]]));

test("configMapPayload: all keys by default, items pick keys to paths with modes", () => {
  const cm = { data: { a: "1", b: "2" }, binaryData: { bin: Buffer.from("xyz").toString("base64") } };
  assert.deepEqual(text(configMapPayload("cm", cm, {})), { a: ["1", "644"], b: ["2", "644"], bin: ["xyz", "644"] });
  assert.deepEqual(text(configMapPayload("cm", cm, { items: [{ key: "b", path: "dir/b.txt", mode: 0o400 }], defaultMode: 0o600 })), { "dir/b.txt": ["2", "400"] });
});

test("configMapPayload and secretPayload: missing objects and keys fail unless optional", () => {
  assert.throws(() => configMapPayload("cm", null, {}), (e: unknown) => e instanceof PayloadError && e.message === 'configmap "cm" not found');
  assert.deepEqual(text(configMapPayload("cm", null, { optional: true })), {});
  assert.throws(() => configMapPayload("cm", { data: {} }, { items: [{ key: "x", path: "x" }] }), /configmap references non-existent config key: x/);
  assert.throws(() => secretPayload("s", null, {}), /secret "s" not found/);
  assert.deepEqual(text(secretPayload("s", { data: { p: Buffer.from("pw").toString("base64") } }, {})), { p: ["pw", "644"] });
});

test("downward API: fields, labels as sorted quoted lines", () => {
  const pod: Pod = { metadata: { name: "web", namespace: "ns", uid: "u", labels: { b: "2", a: "x\"y" } }, spec: { nodeName: "n1", containers: [] }, status: { podIP: "10.0.0.1" } };
  assert.equal(formatMap(pod.metadata!.labels), 'a="x\\"y"\nb="2"');
  assert.equal(podFieldValue(pod, { fieldPath: "metadata.labels['b']" }), "2");
  assert.equal(podFieldValue(pod, { fieldPath: "spec.nodeName" }), "n1");
  assert.deepEqual(text(downwardAPIPayload(pod, [{ path: "name", fieldRef: { fieldPath: "metadata.name" } }, { path: "ip", fieldRef: { fieldPath: "status.podIP" } }], 0o644, {})), { name: ["web", "644"], ip: ["10.0.0.1", "644"] });
});
