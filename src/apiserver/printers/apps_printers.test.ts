import { test } from "node:test";
import assert from "node:assert/strict";
import { controllerRevisionPrinter, daemonSetPrinter, deploymentPrinter, replicaSetPrinter, statefulSetPrinter } from "./apps_printers.js";
import type { Printer } from "./printer.js";

const NOW = Date.parse("2024-06-01T12:00:00Z");
const ctx = { nowMs: NOW };
const ago = (ms: number) => new Date(NOW - ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: "default", creationTimestamp: ago(3 * 3600_000), ...extra });
const cells = (p: Printer, obj: object) => p.print(obj, ctx).cells;
const template = { spec: { containers: [{ name: "nginx", image: "nginx:1.27" }, { name: "log", image: "busybox" }] } };

test("deployment: NAME READY UP-TO-DATE AVAILABLE AGE, CONTAINERS IMAGES SELECTOR with -o wide", () => {
  assert.deepEqual(
    deploymentPrinter.columns.map((c) => [c.name, c.type, c.priority]),
    [
      ["Name", "string", 0],
      ["Ready", "string", 0],
      ["Up-to-date", "string", 0],
      ["Available", "string", 0],
      ["Age", "string", 0],
      ["Containers", "string", 1],
      ["Images", "string", 1],
      ["Selector", "string", 1],
    ],
  );
  const d = {
    metadata: meta("web"),
    spec: { replicas: 3, selector: { matchLabels: { app: "web" } }, template },
    status: { replicas: 3, updatedReplicas: 3, readyReplicas: 2, availableReplicas: 2 },
  };
  assert.deepEqual(cells(deploymentPrinter, d), ["web", "2/3", 3, 2, "3h", "nginx,log", "nginx:1.27,busybox", "app=web"]);
});

test("deployment: a new deployment with no status shows 0/N and zeros; an invalid selector shows <invalid>", () => {
  const d = { metadata: meta("new"), spec: { replicas: 2, selector: { matchExpressions: [{ key: "a", operator: "Bogus" }] }, template } };
  assert.deepEqual(cells(deploymentPrinter, d), ["new", "0/2", 0, 0, "3h", "nginx,log", "nginx:1.27,busybox", "<invalid>"]);
  // spec.replicas unset means the default of 1.
  assert.equal(cells(deploymentPrinter, { metadata: meta("one"), spec: { template } })[1], "0/1");
});

test("replicaset: desired, current, ready as integers", () => {
  const rs = { metadata: meta("web-5d4f"), spec: { replicas: 3, selector: { matchLabels: { app: "web", "pod-template-hash": "5d4f" } }, template }, status: { replicas: 3, readyReplicas: 1 } };
  assert.deepEqual(cells(replicaSetPrinter, rs), ["web-5d4f", 3, 3, 1, "3h", "nginx,log", "nginx:1.27,busybox", "app=web,pod-template-hash=5d4f"]);
});

test("statefulset: READY as ready/desired", () => {
  const sts = { metadata: meta("db"), spec: { replicas: 3, template, selector: { matchLabels: { app: "db" } } }, status: { readyReplicas: 1 } };
  assert.deepEqual(cells(statefulSetPrinter, sts), ["db", "1/3", "3h", "nginx,log", "nginx:1.27,busybox"]);
  assert.deepEqual(statefulSetPrinter.columns.map((c) => c.name), ["Name", "Ready", "Age", "Containers", "Images"]);
});

test("daemonset: the scheduling counts and the node selector", () => {
  const ds = {
    metadata: meta("kube-proxy"),
    spec: { selector: { matchLabels: { k8s: "proxy" } }, template: { spec: { nodeSelector: { "kubernetes.io/os": "linux" }, containers: [{ name: "kube-proxy", image: "kube-proxy:v1.32.0" }] } } },
    status: { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3, numberAvailable: 2 },
  };
  assert.deepEqual(cells(daemonSetPrinter, ds), ["kube-proxy", 3, 3, 2, 3, 2, "kubernetes.io/os=linux", "3h", "kube-proxy", "kube-proxy:v1.32.0", "k8s=proxy"]);
  assert.equal(cells(daemonSetPrinter, { metadata: meta("x"), spec: { template: { spec: { containers: [] } } } })[6], "<none>");
});

test("controllerrevision: the controller as kind.group/name, and the revision", () => {
  const cr = {
    metadata: meta("db-7c9", { ownerReferences: [{ apiVersion: "apps/v1", kind: "StatefulSet", name: "db", uid: "u", controller: true }] }),
    revision: 2,
  };
  assert.deepEqual(cells(controllerRevisionPrinter, cr), ["db-7c9", "statefulset.apps/db", 2, "3h"]);
  const orphan = { metadata: meta("x", { ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "p", uid: "u" }] }), revision: 1 };
  assert.equal(cells(controllerRevisionPrinter, orphan)[1], "<none>");
  const core = { metadata: meta("y", { ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "p", uid: "u", controller: true }] }), revision: 1 };
  assert.equal(cells(controllerRevisionPrinter, core)[1], "pod/p");
});
