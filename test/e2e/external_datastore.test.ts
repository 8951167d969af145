/**
 * `tk8s server --datastore-endpoint`: the same API server over an external etcd v3 endpoint — real etcd
 * and tk8s's own datastore process — driven by real kubectl. Objects land under upstream's key layout,
 * which etcdctl can read.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { kubectl, kubectlAvailable, kubectlOk, startApiServer, type ApiServerProcess } from "../harness/apiserver_process.js";
import { startDatastore, type DatastoreProcess } from "../harness/datastore_process.js";
import { etcdctl } from "../harness/etcdctl.js";
import { startKubectl } from "./background_kubectl.js";
import { requirePrerequisites, suiteOptions, targets } from "../harness/contract.js";

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
`;

for (const kind of targets()) {
  describe(`tk8s server over an external ${kind} datastore`, { ...suiteOptions(kind), timeout: 120_000 }, () => {
    let datastore: DatastoreProcess;
    let server: ApiServerProcess;
    before(async () => {
      requirePrerequisites(kind);
      if (!kubectlAvailable()) throw new Error("kubectl is missing");
      datastore = await startDatastore(kind);
      server = await startApiServer({ datastoreEndpoint: datastore.clientUrl });
    }, { timeout: 60_000 });
    after(async () => {
      await server?.stop();
      await datastore?.stop();
    }, { timeout: 30_000 });

    it("bootstraps the system namespaces and the kubernetes Service in the external store", () => {
      const names = kubectlOk(server, ["get", "ns", "-o", "jsonpath={.items[*].metadata.name}"]).split(" ").sort();
      assert.deepEqual(names, ["default", "kube-node-lease", "kube-public", "kube-system"]);
      assert.equal(kubectlOk(server, ["get", "svc", "kubernetes", "-o", "jsonpath={.spec.clusterIP}"]), "10.96.0.1");
    });

    it("stores objects under upstream's key layout, readable with etcdctl, with resourceVersion = mod revision", async () => {
      kubectlOk(server, ["apply", "-f", "-"], { input: DEPLOYMENT });
      const rv = kubectlOk(server, ["get", "deploy", "web", "-o", "jsonpath={.metadata.resourceVersion}"]);
      const got = await etcdctl(datastore.clientUrl, ["get", "/registry/deployments/default/web", "-w", "json"]);
      assert.equal(got.code, 0, got.stderr);
      const kv = JSON.parse(got.stdout).kvs[0];
      assert.equal(String(kv.mod_revision), rv);
      const stored = JSON.parse(Buffer.from(kv.value, "base64").toString());
      assert.equal(stored.spec.replicas, 2);
      assert.equal(stored.metadata.resourceVersion, undefined, "the revision is not stored inside the value");
    });

    it("scales, patches and watches through the external store", async () => {
      kubectlOk(server, ["scale", "deploy", "web", "--replicas=4"]);
      kubectlOk(server, ["patch", "deploy", "web", "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.28"}]}}}}']);
      const out = kubectlOk(server, ["get", "deploy", "web", "-o", "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image} {.metadata.generation}"]);
      assert.equal(out, "4 nginx:1.28 3");
      const watch = startKubectl(server, ["get", "deploy", "web", "--watch-only", "-o", "jsonpath={.spec.replicas}{\"\\n\"}"]);
      try {
        // The watch is established once kubectl has connected; a change after that must stream in.
        await new Promise((r) => setTimeout(r, 500));
        kubectlOk(server, ["scale", "deploy", "web", "--replicas=5"]);
        await watch.waitFor((out) => out.split("\n").includes("5"), 10_000);
      } finally {
        await watch.stop();
      }
      const missing = kubectl(server, ["get", "deploy", "nope"]);
      assert.equal(missing.code, 1);
      assert.equal(missing.stderr.trim(), 'Error from server (NotFound): deployments.apps "nope" not found');
    });
  });
}
