import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { ConfigMap, Namespace, ServiceAccount } from "kubernetes-types/core/v1.js";
import { missingServiceAccounts, namespaceGoneOrTerminating, ServiceAccountsController } from "./serviceaccounts_controller.js";
import { DESCRIPTION, DESCRIPTION_ANNOTATION, RootCaCertPublisher, rootCaAction } from "./root_ca_publisher.js";
import { ApiError } from "../../api/status.js";
import { pollUntil, startControllerTestEnv, type ControllerTestEnv } from "../util/controller_test_env.js";

const ns = (phase: string): Namespace => ({ metadata: { name: "n" }, status: { phase } });
const missingCases: { name: string; ns: Namespace | undefined; has: string[]; want: string[] }[] = [
  { name: "an active namespace without `default` needs it", ns: ns("Active"), has: [], want: ["default"] },
  { name: "an active namespace with `default` needs nothing", ns: ns("Active"), has: ["default"], want: [] },
  { name: "a terminating namespace gets nothing", ns: ns("Terminating"), has: [], want: [] },
  { name: "a namespace not in the cache gets nothing", ns: undefined, has: [], want: [] },
];
for (const c of missingCases) test(`missingServiceAccounts: ${c.name}`, () => assert.deepEqual(missingServiceAccounts(c.ns, (n) => c.has.includes(n)), c.want));

test("a create refused because the namespace is terminating is not retried", () => {
  const terminating = new ApiError("Forbidden", 403, "forbidden", { causes: [{ reason: "NamespaceTerminating", message: "", field: "metadata.namespace" }] });
  assert.equal(namespaceGoneOrTerminating(terminating), true);
  assert.equal(namespaceGoneOrTerminating(new ApiError("Forbidden", 403, "rbac says no")), false);
  assert.equal(namespaceGoneOrTerminating(new ApiError("NotFound", 404, "gone")), true);
});

const rootCaCases = [
  { name: "an absent ConfigMap is created with the CA and the description", current: undefined, want: "create" },
  { name: "an equal ConfigMap with the description is left alone", current: { metadata: { name: "kube-root-ca.crt", annotations: { [DESCRIPTION_ANNOTATION]: DESCRIPTION } }, data: { "ca.crt": "CA" } }, want: "none" },
  { name: "edited data is put back", current: { metadata: { name: "kube-root-ca.crt", annotations: { [DESCRIPTION_ANNOTATION]: DESCRIPTION } }, data: { "ca.crt": "x", extra: "y" } }, want: "update" },
  { name: "a missing description is added", current: { metadata: { name: "kube-root-ca.crt" }, data: { "ca.crt": "CA" } }, want: "update" },
];
for (const c of rootCaCases) {
  test(`rootCaAction: ${c.name}`, () => {
    const a = rootCaAction("n", c.current as ConfigMap | undefined, "CA");
    assert.equal(a.kind, c.want);
    if (a.kind !== "none") {
      assert.deepEqual(a.configMap.data, { "ca.crt": "CA" });
      assert.equal(a.configMap.metadata?.annotations?.[DESCRIPTION_ANNOTATION], DESCRIPTION);
    }
  });
}

let c: ControllerTestEnv;
before(async () => {
  c = await startControllerTestEnv();
  await c.start(new ServiceAccountsController(c.ctx), new RootCaCertPublisher(c.ctx, c.server.ca));
});
after(async () => c.stop());

const accounts = (n: string) => c.client.resource<ServiceAccount>("", "v1", "serviceaccounts").namespace(n);
const configMaps = (n: string) => c.client.resource<ConfigMap>("", "v1", "configmaps").namespace(n);

test("a new namespace gets the `default` ServiceAccount and the kube-root-ca.crt ConfigMap", async () => {
  await c.client.resource<Namespace>("", "v1", "namespaces").create({ metadata: { name: "fresh" } });
  await pollUntil("default ServiceAccount in fresh", () => accounts("fresh").get("default"));
  const cm = await pollUntil("kube-root-ca.crt in fresh", () => configMaps("fresh").get("kube-root-ca.crt"));
  assert.equal(cm.data?.["ca.crt"], c.server.ca);
  assert.equal(cm.metadata?.annotations?.[DESCRIPTION_ANNOTATION], DESCRIPTION);
});

test("a deleted `default` ServiceAccount is recreated, and an edited CA ConfigMap is put back", async () => {
  await c.client.resource<Namespace>("", "v1", "namespaces").create({ metadata: { name: "edited" } });
  const first = await pollUntil("default ServiceAccount in edited", () => accounts("edited").get("default"));
  await accounts("edited").delete("default");
  await pollUntil("a new default ServiceAccount", async () => {
    const sa = await accounts("edited").get("default");
    return sa.metadata?.uid !== first.metadata?.uid ? sa : undefined;
  });

  await pollUntil("kube-root-ca.crt in edited", () => configMaps("edited").get("kube-root-ca.crt"));
  await configMaps("edited").patch("kube-root-ca.crt", "merge", { data: { "ca.crt": "tampered" } });
  await pollUntil("the CA to be restored", async () => ((await configMaps("edited").get("kube-root-ca.crt")).data?.["ca.crt"] === c.server.ca ? true : undefined));
  await configMaps("edited").delete("kube-root-ca.crt");
  await pollUntil("the CA ConfigMap to be recreated", async () => ((await configMaps("edited").get("kube-root-ca.crt")).data?.["ca.crt"] === c.server.ca ? true : undefined));
});

test("the system namespaces' CA ConfigMaps get the upstream description", async () => {
  await pollUntil("the description on default/kube-root-ca.crt", async () =>
    (await configMaps("default").get("kube-root-ca.crt")).metadata?.annotations?.[DESCRIPTION_ANNOTATION] === DESCRIPTION ? true : undefined,
  );
});
