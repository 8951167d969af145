import { test } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import { ApiError } from "../../api/status.js";
import { ApiEventRecorder } from "../events/recorder.js";
import { startControllerTestEnv } from "./controller_test_env.js";
import { newControllerRef, REPLICA_SET_KIND } from "./controller_ref.js";
import { PodControl, podFromTemplate, podsPrefix } from "./pod_control.js";

test("pods are named <owner>- unless that is not a valid name prefix", () => {
  assert.equal(podsPrefix("web"), "web-");
  assert.equal(podsPrefix("Web_1"), "Web_1");
});

test("a pod from a template copies labels, annotations, finalizers and spec and is owned by the controller", () => {
  const owner = { apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name: "web", uid: "u1" } };
  const tpl = { metadata: { labels: { app: "web" }, annotations: { a: "b" }, finalizers: ["f"], name: "ignored" }, spec: { containers: [{ name: "c", image: "i" }] } };
  const pod = podFromTemplate(tpl, owner, newControllerRef(owner, REPLICA_SET_KIND));
  assert.deepEqual(pod.metadata, {
    generateName: "web-",
    labels: { app: "web" },
    annotations: { a: "b" },
    finalizers: ["f"],
    ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web", uid: "u1", controller: true, blockOwnerDeletion: true }],
  });
  assert.deepEqual(pod.spec, tpl.spec);
  assert.notEqual(pod.spec, tpl.spec);
});

test("PodControl creates and deletes pods through the API and records upstream's events", async () => {
  const t = await startControllerTestEnv();
  try {
    const recorder = new ApiEventRecorder(t.env, t.client, { component: "test" });
    const pc = new PodControl(t.client, recorder);
    const owner = { apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name: "web", namespace: "default", uid: "u1" } };
    const tpl = { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "i" }] } };
    const pod = await pc.createPods("default", tpl, owner, undefined);
    assert.match(pod.metadata!.name!, /^web-[a-z0-9]{5}$/);
    await assert.rejects(pc.createPods("default", { spec: tpl.spec }, owner, undefined), /unable to create pods, no labels/);
    await assert.rejects(pc.createPods("default", { metadata: tpl.metadata, spec: { containers: [] } }, owner, undefined), (e) => e instanceof ApiError && e.reason === "Invalid");
    await pc.deletePod("default", pod.metadata!.name!, owner);
    await assert.rejects(pc.deletePod("default", pod.metadata!.name!, owner), (e) => e instanceof ApiError && e.reason === "NotFound");
    await recorder.flush();
    const lines = (await t.client.resource("", "v1", "events").namespace("default").list()).items.map((e) => {
      const ev = e as { type: string; reason: string; message: string };
      return `${ev.type} ${ev.reason} ${ev.message}`;
    });
    assert.ok(lines.includes(`Normal SuccessfulCreate Created pod: ${pod.metadata!.name}`), lines.join("\n"));
    assert.ok(lines.includes(`Normal SuccessfulDelete Deleted pod: ${pod.metadata!.name}`), lines.join("\n"));
    assert.ok(lines.some((l) => l.startsWith("Warning FailedCreate Error creating: Pod ") && l.includes("spec.containers: Required value")), lines.join("\n"));
    const remaining = (await t.client.resource<Pod>("", "v1", "pods").namespace("default").list()).items;
    assert.equal(remaining.length, 0);
  } finally {
    await t.stop();
  }
});
