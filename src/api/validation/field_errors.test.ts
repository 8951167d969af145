import assert from "node:assert/strict";
import { test } from "node:test";

import {
  type FieldError,
  duplicate,
  errorString,
  forbidden,
  goLabelSelector,
  goQuote,
  internalError,
  invalid,
  invalidError,
  notFound,
  notSupported,
  required,
  tooLong,
  tooLongMaxLength,
  tooMany,
  typeInvalid,
} from "./field_errors.js";

const cases: { name: string; err: FieldError; want: string }[] = [
  { name: "a required value has no bad value", err: required("spec.containers[0].image"), want: "spec.containers[0].image: Required value" },
  { name: "a required value may carry a detail", err: required("metadata.name", "name or generateName is required"), want: "metadata.name: Required value: name or generateName is required" },
  { name: "an invalid string is quoted", err: invalid("metadata.name", "Foo", "bad"), want: 'metadata.name: Invalid value: "Foo": bad' },
  { name: "an invalid number is bare", err: invalid("spec.replicas", -1, "must be greater than or equal to 0"), want: "spec.replicas: Invalid value: -1: must be greater than or equal to 0" },
  { name: "a missing value prints as null", err: invalid("spec.x", null, "d"), want: "spec.x: Invalid value: null: d" },
  { name: "a string map prints as Go's %#v, keys sorted", err: invalid("l", { b: "2", a: "1" }, "d"), want: 'l: Invalid value: map[string]string{"a":"1", "b":"2"}: d' },
  { name: "a string slice prints as Go's %#v", err: invalid("s", ["x", "y"], "d"), want: 's: Invalid value: []string{"x", "y"}: d' },
  {
    name: "an unsupported value lists the supported ones quoted",
    err: notSupported("spec.restartPolicy", "Sometimes", ["Always", "OnFailure", "Never"]),
    want: 'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
  },
  { name: "a duplicate shows the value", err: duplicate("spec.containers[1].name", "web"), want: 'spec.containers[1].name: Duplicate value: "web"' },
  { name: "a value not found shows the value", err: notFound("spec.containers[0].volumeMounts[0].name", "data"), want: 'spec.containers[0].volumeMounts[0].name: Not found: "data"' },
  { name: "a forbidden field shows only the detail", err: forbidden("metadata.namespace", "not allowed on this type"), want: "metadata.namespace: Forbidden: not allowed on this type" },
  { name: "too long hides the value", err: tooLong("metadata.annotations", "x".repeat(10), 262144), want: "metadata.annotations: Too long: must have at most 262144 bytes" },
  { name: "too long with a maximum length", err: tooLongMaxLength("f", "x", 63), want: "f: Too long: may not be longer than 63" },
  { name: "too many shows the count", err: tooMany("endpoints", 1001, 1000), want: "endpoints: Too many: 1001: must have at most 1000 items" },
  { name: "too many without a count shows none", err: tooMany("endpoints", -1, 1000), want: "endpoints: Too many: must have at most 1000 items" },
  { name: "a type error reads as an invalid value", err: typeInvalid("spec.replicas", "x", "must be an integer"), want: 'spec.replicas: Invalid value: "x": must be an integer' },
  { name: "an internal error shows only the detail", err: internalError("spec", "boom"), want: "spec: Internal error: boom" },
  {
    name: "a label selector prints as Go's struct dump",
    err: invalid("spec.selector", goLabelSelector({ matchLabels: { app: "a" } }), "field is immutable"),
    want: 'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"a"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
  },
];

for (const c of cases) test(`errorString: ${c.name}`, () => assert.equal(errorString(c.err), c.want));

test("goQuote: escapes quotes, backslashes and control characters as strconv.Quote", () => {
  assert.equal(goQuote('a"b\\c\nd\x01'), '"a\\"b\\\\c\\nd\\x01"');
  assert.equal(goQuote("héllo"), '"héllo"');
});

test("invalidError: one error gives its message after the kind and name", () => {
  const err = invalidError("", "Pod", "p", [required("spec.containers[0].image")]);
  assert.equal(err.code, 422);
  assert.deepEqual(err.toStatus(), {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: 'Pod "p" is invalid: spec.containers[0].image: Required value',
    reason: "Invalid",
    details: { name: "p", kind: "Pod", causes: [{ reason: "FieldValueRequired", message: "Required value", field: "spec.containers[0].image" }] },
    code: 422,
  });
});

test("invalidError: several errors are bracketed, the kind qualified by group, duplicates dropped from the message only", () => {
  const errs = [required("spec.selector"), invalid("spec.replicas", -1, "must be greater than or equal to 0"), required("spec.selector")];
  const err = invalidError("apps", "Deployment", "web", errs);
  assert.equal(err.message, 'Deployment.apps "web" is invalid: [spec.selector: Required value, spec.replicas: Invalid value: -1: must be greater than or equal to 0]');
  assert.equal(err.details?.group, "apps");
  assert.equal(err.details?.kind, "Deployment");
  assert.equal(err.details?.causes?.length, 3);
  assert.deepEqual(err.details?.causes?.[1], { reason: "FieldValueInvalid", message: "Invalid value: -1: must be greater than or equal to 0", field: "spec.replicas" });
});
