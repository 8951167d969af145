/**
 * `tk8s server` stopped and started again on the same data directory: the cluster comes back with its
 * objects (the datastore, the PKI and the bootstrap objects are reused, not recreated) and the admin
 * kubeconfig it wrote the first time still works.
 */
import assert from "node:assert/strict";
import { removeKubeletMemoryDir } from "../../src/kubelet/memory_dir.js";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { kubectlAvailable, kubectlOk, startApiServer } from "../harness/apiserver_process.js";

const dataDir = mkdtempSync(join(tmpdir(), "tk8s-restart-"));
after(() => {
  rmSync(dataDir, { recursive: true, force: true });
  removeKubeletMemoryDir(join(dataDir, "kubelet"));
});

test("a restarted server keeps its objects, its CA and a Ready node", { timeout: 120_000 }, async () => {
  if (!kubectlAvailable()) throw new Error("kubectl is missing");
  const first = await startApiServer({ cluster: true, dataDir });
  let ca: string;
  try {
    kubectlOk(first, ["create", "configmap", "survivor", "--from-literal=a=b"]);
    ca = readFileSync(join(dataDir, "pki", "ca.crt"), "utf8");
  } finally {
    await first.stop();
  }
  const second = await startApiServer({ cluster: true, dataDir });
  try {
    assert.equal(readFileSync(join(dataDir, "pki", "ca.crt"), "utf8"), ca, "the CA is reused");
    assert.equal(kubectlOk(second, ["get", "configmap", "survivor", "-o", "jsonpath={.data.a}"]), "b");
    assert.equal(kubectlOk(second, ["get", "svc", "kubernetes", "-o", "jsonpath={.spec.clusterIP}"]), "10.96.0.1");
    assert.equal(kubectlOk(second, ["get", "nodes", "-o", "jsonpath={.items[0].status.conditions[?(@.type==\"Ready\")].status}"]), "True");
  } finally {
    await second.stop();
  }
});
