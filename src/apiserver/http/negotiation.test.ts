import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError } from "../../api/status.js";
import { negotiate } from "./negotiation.js";

test("negotiation: kubectl get's Accept picks a v1 Table", () => {
  const n = negotiate("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json", true);
  assert.deepEqual(n, { contentType: "application/json", transform: "table", transformVersion: "v1" });
});

test("negotiation: protobuf first falls back to JSON; protobuf only is 406", () => {
  assert.equal(negotiate("application/vnd.kubernetes.protobuf,application/json", true).contentType, "application/json");
  assert.throws(() => negotiate("application/vnd.kubernetes.protobuf", true), (e: unknown) => e instanceof ApiError && e.code === 406);
  assert.equal(negotiate(undefined, true).transform, "none");
  assert.equal(negotiate("application/yaml", true).contentType, "application/yaml");
});
