import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { certificateIdentity, ensureClusterPki, subjectAltNames } from "./pki.js";
import { renderKubeconfig } from "./kubeconfig.js";
import { parse } from "yaml";

test("pki: a new cluster gets a CA, a serving certificate for its names and an admin in system:masters, all verifiable", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tk8s-pki-"));
  try {
    const pki = await ensureClusterPki(dir, { serverNames: ["node-a", "192.0.2.7"] });
    const ca = new X509Certificate(pki.ca.certPem);
    const server = new X509Certificate(pki.apiserver.certPem);
    const admin = new X509Certificate(pki.admin.certPem);
    assert.equal(ca.ca, true);
    assert.ok(server.verify(ca.publicKey) && admin.verify(ca.publicKey));
    assert.equal(server.checkHost("localhost"), "localhost");
    assert.equal(server.checkIP("127.0.0.1"), "127.0.0.1");
    assert.ok(subjectAltNames(pki.apiserver.certPem).includes("node-a"));
    assert.deepEqual(certificateIdentity(pki.admin.certPem), { commonName: "kubernetes-admin", organizations: ["system:masters"] });
    assert.equal(statSync(join(dir, "ca.key")).mode & 0o777, 0o600);
    const again = await ensureClusterPki(dir, { serverNames: ["node-a"] });
    assert.equal(again.ca.certPem, pki.ca.certPem, "a restart keeps the CA");
    assert.equal(again.admin.certPem, pki.admin.certPem);
    const wider = await ensureClusterPki(dir, { serverNames: ["node-b"] });
    assert.notEqual(wider.apiserver.certPem, pki.apiserver.certPem, "a new name re-issues the serving certificate");
    assert.equal(readFileSync(join(dir, "ca.crt"), "utf8"), pki.ca.certPem);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("kubeconfig: embeds the CA and the client credentials under one current context", () => {
  const cfg = parse(renderKubeconfig({ server: "https://127.0.0.1:6443", caPem: "CA", userName: "admin", clientCertPem: "C", clientKeyPem: "K" }));
  assert.equal(cfg["current-context"], "admin@tk8s");
  assert.equal(Buffer.from(cfg.clusters[0].cluster["certificate-authority-data"], "base64").toString(), "CA");
  assert.equal(Buffer.from(cfg.users[0].user["client-key-data"], "base64").toString(), "K");
});
