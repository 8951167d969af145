import { test } from "node:test";
import assert from "node:assert/strict";
import type { LabelSelector } from "kubernetes-types/meta/v1.js";
import {
  accessModesString,
  boolString,
  formatEndpoints,
  formatLabelSelector,
  formatLabels,
  joinHostPort,
  labelSelectorString,
  layoutContainerCells,
  loadBalancerStatusString,
  makePortString,
} from "./format.js";

test("formatLabels: sorted k=v pairs, <none> for no labels", () => {
  assert.equal(formatLabels({ tier: "web", app: "shop" }), "app=shop,tier=web");
  assert.equal(formatLabels({}), "<none>");
  assert.equal(formatLabels(undefined), "<none>");
});

const selectorCases: { name: string; sel: LabelSelector | undefined; want: string; formatted: string }[] = [
  { name: "nil selects nothing and prints empty", sel: undefined, want: "", formatted: "<none>" },
  { name: "an empty selector prints empty", sel: {}, want: "", formatted: "<none>" },
  { name: "matchLabels print as k=v sorted by key", sel: { matchLabels: { b: "2", a: "1" } }, want: "a=1,b=2", formatted: "a=1,b=2" },
  {
    name: "expressions print in selector syntax, values sorted, all sorted by key",
    sel: {
      matchLabels: { app: "web" },
      matchExpressions: [
        { key: "tier", operator: "In", values: ["front", "back"] },
        { key: "env", operator: "NotIn", values: ["prod"] },
        { key: "zz", operator: "Exists" },
        { key: "canary", operator: "DoesNotExist" },
      ],
    },
    want: "app=web,!canary,env notin (prod),tier in (back,front),zz",
    formatted: "app=web,!canary,env notin (prod),tier in (back,front),zz",
  },
];
for (const c of selectorCases) {
  test(`labelSelectorString: ${c.name}`, () => {
    assert.equal(labelSelectorString(c.sel), c.want);
    assert.equal(formatLabelSelector(c.sel), c.formatted);
  });
}

test("labelSelectorString: an unknown operator or an In without values is an error; formatted as <error>", () => {
  const bad = { matchExpressions: [{ key: "a", operator: "Near" }] };
  assert.ok(labelSelectorString(bad) instanceof Error);
  assert.equal(formatLabelSelector(bad), "<error>");
  assert.ok(labelSelectorString({ matchExpressions: [{ key: "a", operator: "In", values: [] }] }) instanceof Error);
});

test("layoutContainerCells: names and images comma-joined in order", () => {
  assert.deepEqual(
    layoutContainerCells([
      { name: "web", image: "nginx:1.27" },
      { name: "sidecar", image: "busybox" },
    ]),
    { names: "web,sidecar", images: "nginx:1.27,busybox" },
  );
  assert.deepEqual(layoutContainerCells(undefined), { names: "", images: "" });
});

test("makePortString: port/protocol, with the node port when allocated, protocol defaulting to TCP", () => {
  assert.equal(
    makePortString([
      { port: 80, protocol: "TCP" },
      { port: 443, nodePort: 30443, protocol: "TCP" },
      { port: 53, protocol: "UDP" },
      { port: 8080 },
    ]),
    "80/TCP,443:30443/TCP,53/UDP,8080/TCP",
  );
  assert.equal(makePortString([]), "");
});

test("loadBalancerStatusString: IPs or hostnames, sorted, each once", () => {
  assert.equal(loadBalancerStatusString({ ingress: [{ ip: "10.0.0.9" }, { hostname: "lb.example.com" }, { ip: "10.0.0.10" }, { ip: "10.0.0.9" }] }), "10.0.0.10,10.0.0.9,lb.example.com");
  assert.equal(loadBalancerStatusString(undefined), "");
});

test("joinHostPort: brackets IPv6", () => {
  assert.equal(joinHostPort("10.1.2.3", 80), "10.1.2.3:80");
  assert.equal(joinHostPort("fd00::1", 80), "[fd00::1]:80");
});

test("formatEndpoints: ip:port for each port and address, three shown then a count of the rest", () => {
  assert.equal(formatEndpoints(undefined), "<none>");
  assert.equal(formatEndpoints([{ addresses: [{ ip: "10.0.0.1" }], ports: [{ port: 80 }, { port: 443 }] }]), "10.0.0.1:80,10.0.0.1:443");
  assert.equal(formatEndpoints([{ addresses: [{ ip: "10.0.0.1" }, { ip: "10.0.0.2" }] }]), "10.0.0.1,10.0.0.2");
  assert.equal(
    formatEndpoints([{ addresses: [{ ip: "10.0.0.1" }, { ip: "10.0.0.2" }, { ip: "10.0.0.3" }, { ip: "10.0.0.4" }, { ip: "10.0.0.5" }], ports: [{ port: 80 }] }]),
    "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more...",
  );
  // Only subsets without ready addresses: nothing to list, but subsets exist.
  assert.equal(formatEndpoints([{ notReadyAddresses: [{ ip: "10.0.0.9" }], ports: [{ port: 80 }] }]), "");
});

test("accessModesString: fixed order, duplicates once", () => {
  assert.equal(accessModesString(["ReadWriteMany", "ReadWriteOnce", "ReadWriteOnce"]), "RWO,RWX");
  assert.equal(accessModesString(["ReadWriteOncePod", "ReadOnlyMany"]), "ROX,RWOP");
  assert.equal(accessModesString(undefined), "");
});

test("boolString: True, False, <unset>", () => {
  assert.equal(boolString(true), "True");
  assert.equal(boolString(false), "False");
  assert.equal(boolString(undefined), "<unset>");
});
