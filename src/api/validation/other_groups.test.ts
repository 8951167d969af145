import assert from "node:assert/strict";
import { test } from "node:test";

import { errorString } from "./field_errors.js";
import {
  validateEndpointSlice,
  validateEventsV1Event,
  validateLease,
  validatePodDisruptionBudget,
  validatePriorityClass,
  validatePriorityClassUpdate,
  validateStorageClass,
  validateStorageClassUpdate,
} from "./other_groups.js";

type Obj = Record<string, any>;
const ns = (name: string): Obj => ({ name, namespace: "default" });

const cases: { name: string; run: () => string[]; want: string[] }[] = [
  {
    name: "a lease's duration is positive",
    run: () => validateLease({ metadata: ns("l"), spec: { leaseDurationSeconds: 0 } }).map(errorString),
    want: ["spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"],
  },
  {
    name: "an endpoint slice needs a known address type",
    run: () => validateEndpointSlice({ metadata: ns("s"), addressType: "IPv5", endpoints: [] }).map(errorString),
    want: ['addressType: Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"'],
  },
  {
    name: "an endpoint needs an address of its slice's type",
    run: () =>
      validateEndpointSlice({ metadata: ns("s"), addressType: "IPv4", endpoints: [{ addresses: [] }, { addresses: ["fd00::1"] }] }).map(errorString),
    want: ["endpoints[0].addresses: Required value: must contain at least 1 address", 'endpoints[1].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address'],
  },
  {
    name: "endpoint slice ports have unique names and a protocol",
    run: () =>
      validateEndpointSlice({
        metadata: ns("s"),
        addressType: "IPv4",
        endpoints: [],
        ports: [{ name: "http", protocol: "TCP", port: 80 }, { name: "http", protocol: "TCP", port: 81 }, { name: "x", port: 70000 }],
      }).map(errorString),
    want: ['ports[1].name: Duplicate value: "http"', "ports[2].protocol: Required value", "ports[2].port: Invalid value: 70000: must be between 1 and 65535, inclusive"],
  },
  {
    name: "a disruption budget sets minAvailable or maxUnavailable, not both",
    run: () => validatePodDisruptionBudget({ metadata: ns("p"), spec: { minAvailable: 1, maxUnavailable: "10%" } }).map(errorString),
    want: ["spec: Invalid value: policy.PodDisruptionBudgetSpec{...}: minAvailable and maxUnavailable cannot be both set"],
  },
  {
    name: "a disruption budget percentage is at most 100%",
    run: () => validatePodDisruptionBudget({ metadata: ns("p"), spec: { maxUnavailable: "101%" } }).map(errorString),
    want: ["spec.maxUnavailable: Invalid value: 101%: must not be greater than 100%"],
  },
  {
    name: "a user priority class is at most one billion",
    run: () => validatePriorityClass({ metadata: { name: "huge" }, value: 1000000001 }).map(errorString),
    want: ["value: Forbidden: maximum allowed value of a user defined priority is 1000000000"],
  },
  {
    name: "the system- prefix is reserved",
    run: () => validatePriorityClass({ metadata: { name: "system-mine" }, value: 1 }).map(errorString),
    want: ["metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class"],
  },
  {
    name: "the built-in system priority classes are accepted",
    run: () => validatePriorityClass({ metadata: { name: "system-node-critical" }, value: 2000001000 }).map(errorString),
    want: [],
  },
  {
    name: "a priority class keeps its value",
    run: () => validatePriorityClassUpdate({ metadata: { name: "p", resourceVersion: "1" }, value: 2 }, { metadata: { name: "p", resourceVersion: "1" }, value: 1 }).map(errorString),
    want: ["value: Forbidden: may not be changed in an update."],
  },
  {
    name: "a storage class needs a provisioner",
    run: () => validateStorageClass({ metadata: { name: "sc" }, volumeBindingMode: "Immediate" }).map(errorString),
    want: ["provisioner: Required value"],
  },
  {
    name: "a storage class keeps its parameters",
    run: () =>
      validateStorageClassUpdate(
        { metadata: { name: "sc", resourceVersion: "1" }, provisioner: "p.io/x", parameters: { a: "2" }, volumeBindingMode: "Immediate" },
        { metadata: { name: "sc" }, provisioner: "p.io/x", parameters: { a: "1" }, volumeBindingMode: "Immediate" },
      ).map(errorString),
    want: ["parameters: Forbidden: updates to parameters are forbidden."],
  },
  {
    name: "an events.k8s.io event needs eventTime and its reporting fields",
    run: () => validateEventsV1Event({ metadata: ns("e"), type: "Normal", regarding: { namespace: "default" } }).map(errorString),
    want: ["eventTime: Required value"],
  },
  {
    name: "an events.k8s.io event with eventTime needs its controller, instance, action and reason",
    run: () => validateEventsV1Event({ metadata: ns("e"), type: "Sometimes", eventTime: "2024-01-01T00:00:00.000000Z", regarding: { namespace: "default" } }).map(errorString),
    want: [
      "reportingController: Required value",
      "reportingController: Invalid value: \"\": name part must be non-empty",
      "reportingController: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
      "reportingInstance: Required value",
      "action: Required value",
      "reason: Required value",
      'type: Invalid value: "": has invalid value: Sometimes',
    ],
  },
];

for (const c of cases) test(`other groups: ${c.name}`, () => assert.deepEqual(c.run(), c.want));
