import assert from "node:assert/strict";
import { test } from "node:test";
import { runtimeNetworkNotReadyMessage } from "./network_readiness.js";

const runtimeReady = { type: "RuntimeReady", status: true, reason: "", message: "" };
const cases = [
  { name: "a ready network gives no message", conditions: [runtimeReady, { type: "NetworkReady", status: true, reason: "", message: "" }], want: null },
  {
    name: "containerd without a CNI config reads as upstream's node condition message",
    conditions: [runtimeReady, { type: "NetworkReady", status: false, reason: "NetworkPluginNotReady", message: "Network plugin returns error: cni plugin not initialized" }],
    want: "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized",
  },
  { name: "a runtime that reports no NetworkReady condition is not ready (Go prints the nil condition)", conditions: [runtimeReady], want: "container runtime network not ready: <nil>" },
];
for (const c of cases) test(`runtimeNetworkNotReadyMessage: ${c.name}`, () => assert.equal(runtimeNetworkNotReadyMessage(c.conditions), c.want));
