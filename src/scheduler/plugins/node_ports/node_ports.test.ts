import { test } from "node:test";
import assert from "node:assert/strict";
import { snapshotFrom } from "../../cache/snapshot.js";
import { filterOutcomes, makeNode, makePod } from "../../test_objects.js";
import { newNodePorts } from "./node_ports.js";

const BUSY = "Unschedulable: node(s) didn't have free ports for the requested pod ports";
const withPort = (name: string, port: number, extra: { hostIP?: string; protocol?: string; nodeName?: string } = {}) =>
  makePod(name, { nodeName: extra.nodeName, containers: [{ name: "c", ports: [{ containerPort: port, hostPort: port, hostIP: extra.hostIP, protocol: extra.protocol }] }] });

const snap = snapshotFrom(
  [makeNode("a"), makeNode("b"), makeNode("c")],
  [withPort("x", 80, { nodeName: "a" }), withPort("y", 53, { protocol: "UDP", nodeName: "b" }), withPort("z", 443, { hostIP: "10.0.0.1", nodeName: "c" })],
);

const cases = [
  { name: "a pod without host ports is skipped", pod: makePod("p"), want: { a: "Success", b: "Success", c: "Success" } },
  { name: "the same TCP port on the wildcard ip conflicts", pod: withPort("p", 80), want: { a: BUSY, b: "Success", c: "Success" } },
  { name: "the same port with another protocol does not", pod: withPort("p", 53), want: { a: "Success", b: "Success", c: "Success" } },
  { name: "a wildcard request conflicts with a specific ip", pod: withPort("p", 443), want: { a: "Success", b: "Success", c: BUSY } },
  { name: "another specific ip does not conflict", pod: withPort("p", 443, { hostIP: "10.0.0.2" }), want: { a: "Success", b: "Success", c: "Success" } },
];
for (const c of cases) test(`NodePorts: ${c.name}`, () => assert.deepEqual(filterOutcomes([() => newNodePorts()], c.pod, snap), c.want));

test("NodePorts: a sidecar's host port counts, a plain init container's does not", () => {
  const side = makePod("s", { nodeName: "a", containers: [{ name: "c" }], initContainers: [{ name: "i", restartPolicy: "Always", ports: [{ containerPort: 9, hostPort: 9 }] }] });
  const init = makePod("i", { nodeName: "b", containers: [{ name: "c" }], initContainers: [{ name: "i", ports: [{ containerPort: 9, hostPort: 9 }] }] });
  const s = snapshotFrom([makeNode("a"), makeNode("b")], [side, init]);
  assert.deepEqual(filterOutcomes([() => newNodePorts()], withPort("p", 9), s), { a: BUSY, b: "Success" });
});
