import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { ConfigMap, Namespace, Pod } from "kubernetes-types/core/v1.js";
import { NamespaceController } from "./namespace_controller.js";
import { pollUntil, startControllerTestEnv, type ControllerTestEnv } from "../util/controller_test_env.js";

/** True when the read fails with NotFound: the object is gone. */
async function isGone(read: Promise<unknown>): Promise<boolean> {
  try {
    await read;
    return false;
  } catch (err) {
    if ((err as { reason?: string }).reason === "NotFound") return true;
    throw err;
  }
}

let c: ControllerTestEnv;
before(async () => {
  c = await startControllerTestEnv();
  await c.start(new NamespaceController(c.ctx));
});
after(async () => c.stop());

const namespaces = () => c.client.resource<Namespace>("", "v1", "namespaces");
const configMaps = (ns: string) => c.client.resource<ConfigMap>("", "v1", "configmaps").namespace(ns);
const pods = (ns: string) => c.client.resource<Pod>("", "v1", "pods").namespace(ns);

test("deleting a namespace deletes its configmaps and pods, then the namespace itself", async () => {
  await namespaces().create({ metadata: { name: "doomed" } });
  for (const n of ["a", "b"]) await configMaps("doomed").create({ metadata: { name: n }, data: { k: n } });
  // Pods without spec.nodeName: no kubelet has to confirm their termination, so the API server deletes
  // them at once. A bound pod would wait out its grace period (30 s) for a kubelet this test lacks.
  for (const n of ["p1", "p2"]) await pods("doomed").create({ metadata: { name: n }, spec: { containers: [{ name: "c", image: "busybox" }] } });

  await namespaces().delete("doomed");
  await pollUntil("namespace doomed to be gone", async () => ((await isGone(namespaces().get("doomed"))) ? true : undefined));
  // Everything in it went through the API before the finalizer was removed.
  assert.deepEqual((await configMaps("doomed").list()).items, []);
  assert.deepEqual((await pods("doomed").list()).items, []);
});

test("content held by a finalizer keeps the namespace Terminating with conditions saying why, until the finalizer goes", async () => {
  await namespaces().create({ metadata: { name: "held" } });
  await configMaps("held").create({ metadata: { name: "keep", finalizers: ["example.com/hold"] } });
  await namespaces().delete("held");

  const ns = await pollUntil("the content conditions on namespace held", async () => {
    const ns = await namespaces().get("held");
    const remaining = ns.status?.conditions?.find((x) => x.type === "NamespaceFinalizersRemaining");
    return remaining?.status === "True" ? ns : undefined;
  });
  assert.equal(ns.status?.phase, "Terminating");
  const byType = new Map((ns.status?.conditions ?? []).map((x) => [x.type, x]));
  assert.equal(byType.get("NamespaceContentRemaining")?.message, "Some resources are remaining: configmaps. has 1 resource instances");
  assert.equal(byType.get("NamespaceFinalizersRemaining")?.message, "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances");
  assert.equal(byType.get("NamespaceDeletionContentFailure")?.status, "False");
  assert.deepEqual(ns.spec?.finalizers, ["kubernetes"]);

  await configMaps("held").patch("keep", "merge", { metadata: { finalizers: null } });
  await pollUntil("namespace held to be gone", async () => ((await isGone(namespaces().get("held"))) ? true : undefined));
});

test("a namespace that is not being deleted is left alone", async () => {
  await namespaces().create({ metadata: { name: "alive" } });
  await configMaps("alive").create({ metadata: { name: "x" } });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await configMaps("alive").list()).items.length, 1);
  assert.equal((await namespaces().get("alive")).status?.phase, "Active");
});
