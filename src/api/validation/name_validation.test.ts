import assert from "node:assert/strict";
import { test } from "node:test";

import { errorString } from "./field_errors.js";
import {
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isEnvVarName,
  isQualifiedName,
  isValidLabelValue,
  isValidPortName,
  nameIsDNSSubdomain,
  selectorMatches,
  validateAnnotations,
  validateLabelSelector,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from "./name_validation.js";

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const QNAME_PART =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

const checks: { name: string; fn: (v: string) => string[]; value: string; want: string[] }[] = [
  { name: "a subdomain may contain dots", fn: isDNS1123Subdomain, value: "a.b-c.d", want: [] },
  { name: "a subdomain may not contain capitals", fn: isDNS1123Subdomain, value: "Foo", want: [SUBDOMAIN_MSG] },
  { name: "a subdomain over 253 bytes is too long", fn: isDNS1123Subdomain, value: "a".repeat(254), want: ["must be no more than 253 characters"] },
  { name: "a label may not contain dots", fn: isDNS1123Label, value: "a.b", want: ["must not contain dots"] },
  { name: "a label may not end with a dash", fn: isDNS1123Label, value: "a-", want: [LABEL_MSG] },
  { name: "a label may start with a digit", fn: isDNS1123Label, value: "1a", want: [] },
  { name: "a label over 63 bytes is too long", fn: isDNS1123Label, value: "a".repeat(64), want: ["must be no more than 63 characters"] },
  { name: "a DNS-1035 label may not start with a digit", fn: isDNS1035Label, value: "1web", want: [DNS1035_MSG] },
  { name: "a qualified name may have a prefix", fn: isQualifiedName, value: "example.com/My_Name", want: [] },
  { name: "a qualified name needs a name part", fn: isQualifiedName, value: "example.com/", want: ["name part must be non-empty", QNAME_PART] },
  { name: "a qualified name's prefix must be a subdomain", fn: isQualifiedName, value: "Example.com/x", want: [`prefix part ${SUBDOMAIN_MSG}`] },
  {
    name: "a qualified name has at most one slash",
    fn: isQualifiedName,
    value: "a/b/c",
    want: [
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ],
  },
  { name: "a label value may be empty", fn: isValidLabelValue, value: "", want: [] },
  {
    name: "a label value may not start with a dash",
    fn: isValidLabelValue,
    value: "-x",
    want: [
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ],
  },
  {
    name: "a config key may not contain a slash",
    fn: isConfigMapKey,
    value: "a/b",
    want: ["a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"],
  },
  { name: "a config key may not be '..'", fn: isConfigMapKey, value: "..", want: ["must not be '..'"] },
  {
    name: "an env var name may not start with a digit",
    fn: isEnvVarName,
    value: "1A",
    want: [
      "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')",
    ],
  },
  { name: "a port name needs a letter", fn: isValidPortName, value: "80", want: ["must contain at least one letter (a-z)"] },
  {
    name: "a port name is at most 15 characters",
    fn: isValidPortName,
    value: "a-very-long-port-name",
    want: ["must be no more than 15 characters"],
  },
];

for (const c of checks) test(`name checks: ${c.name}`, () => assert.deepEqual(c.fn(c.value), c.want));

test("nameIsDNSSubdomain: a generateName may end with a dash", () => {
  assert.deepEqual(nameIsDNSSubdomain("web-", true), []);
  assert.deepEqual(nameIsDNSSubdomain("web-", false), [SUBDOMAIN_MSG]);
});

const metaCases: { name: string; meta: Record<string, any>; namespaced: boolean; want: string[] }[] = [
  { name: "a name is required", meta: { namespace: "default" }, namespaced: true, want: ["metadata.name: Required value: name or generateName is required"] },
  { name: "a namespace is required for namespaced kinds", meta: { name: "a" }, namespaced: true, want: ["metadata.namespace: Required value"] },
  { name: "a namespace is forbidden for cluster kinds", meta: { name: "a", namespace: "x" }, namespaced: false, want: ["metadata.namespace: Forbidden: not allowed on this type"] },
  {
    name: "a namespace must be a DNS label",
    meta: { name: "a", namespace: "a.b" },
    namespaced: true,
    want: ['metadata.namespace: Invalid value: "a.b": must not contain dots'],
  },
  {
    name: "label keys and values are checked against the labels map",
    meta: { name: "a", namespace: "d", labels: { "bad key": "v" } },
    namespaced: true,
    want: [`metadata.labels: Invalid value: "bad key": ${QNAME_PART}`],
  },
  {
    name: "an owner reference needs its fields",
    meta: { name: "a", namespace: "d", ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs" }] },
    namespaced: true,
    want: ['metadata.ownerReferences.uid: Invalid value: "": must not be empty'],
  },
  {
    name: "only one owner may be the controller",
    meta: {
      name: "a",
      namespace: "d",
      ownerReferences: [
        { apiVersion: "v1", kind: "A", name: "x", uid: "1", controller: true },
        { apiVersion: "v1", kind: "B", name: "y", uid: "2", controller: true },
      ],
    },
    namespaced: true,
    want: [
      'metadata.ownerReferences: Invalid value: []v1.OwnerReference{v1.OwnerReference{APIVersion:"v1", Kind:"A", Name:"x", UID:"1", Controller:(*bool)(true), BlockOwnerDeletion:(*bool)(nil)}, v1.OwnerReference{APIVersion:"v1", Kind:"B", Name:"y", UID:"2", Controller:(*bool)(true), BlockOwnerDeletion:(*bool)(nil)}}: Only one reference can have Controller set to true. Found "true" in references for A/x and B/y',
    ],
  },
  {
    name: "finalizers are qualified names",
    meta: { name: "a", namespace: "d", finalizers: ["example.com/ok", "not ok"] },
    namespaced: true,
    want: [`metadata.finalizers: Invalid value: "not ok": ${QNAME_PART}`],
  },
];

for (const c of metaCases) {
  test(`validateObjectMeta: ${c.name}`, () => assert.deepEqual(validateObjectMeta(c.meta, c.namespaced, nameIsDNSSubdomain).map(errorString), c.want));
}

test("validateAnnotations: more than 256 KiB in total is too long", () => {
  const big = { a: "x".repeat(256 * 1024) };
  assert.deepEqual(validateAnnotations(big, "metadata.annotations").map(errorString), ["metadata.annotations: Too long: must have at most 262144 bytes"]);
  assert.deepEqual(validateAnnotations({ a: "x".repeat(256 * 1024 - 1) }, "metadata.annotations"), []);
});

test("validateObjectMetaUpdate: name, namespace, uid and creationTimestamp are immutable", () => {
  const old = { name: "a", namespace: "n", uid: "u1", creationTimestamp: "2024-01-02T03:04:05Z" };
  const updated = { name: "b", namespace: "m", uid: "u2", creationTimestamp: "2024-01-02T03:04:06Z", resourceVersion: "7" };
  assert.deepEqual(validateObjectMetaUpdate(updated, old).map(errorString), [
    'metadata.name: Invalid value: "b": field is immutable',
    'metadata.namespace: Invalid value: "m": field is immutable',
    'metadata.uid: Invalid value: "u2": field is immutable',
    "metadata.creationTimestamp: Invalid value: 2024-01-02 03:04:06 +0000 UTC: field is immutable",
  ]);
});

test("validateObjectMetaUpdate: no finalizer may be added while deleting", () => {
  const old = { name: "a", deletionTimestamp: "2024-01-01T00:00:00Z", finalizers: ["a/x"] };
  const updated = { ...old, finalizers: ["a/x", "b/y"], resourceVersion: "7" };
  assert.deepEqual(validateObjectMetaUpdate(updated, old).map(errorString), [
    'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"b/y"}',
  ]);
});

test("validateObjectMetaUpdate: an update must carry a resourceVersion", () => {
  assert.deepEqual(validateObjectMetaUpdate({ name: "a" }, { name: "a" }).map(errorString), ['metadata.resourceVersion: Invalid value: "": must be specified for an update']);
});

test("validateLabelSelector: operators and values are checked", () => {
  const sel = { matchExpressions: [{ key: "a", operator: "In" }, { key: "b", operator: "Exists", values: ["x"] }, { key: "c", operator: "Near" }] };
  assert.deepEqual(validateLabelSelector(sel, "spec.selector").map(errorString), [
    "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
    "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
    'spec.selector.matchExpressions[2].operator: Invalid value: "Near": not a valid selector operator',
  ]);
});

test("selectorMatches: matchLabels and expressions must all hold", () => {
  const sel = { matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "NotIn", values: ["db"] }] };
  assert.equal(selectorMatches(sel, { app: "web", tier: "front" }), true);
  assert.equal(selectorMatches(sel, { app: "web", tier: "db" }), false);
  assert.equal(selectorMatches(sel, { app: "api" }), false);
});
