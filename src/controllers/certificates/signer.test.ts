import { test } from "node:test";
import assert from "node:assert/strict";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { webcrypto, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CertificateSigningRequest } from "kubernetes-types/certificates/v1.js";
import { ensureClusterPki } from "../../apiserver/pki/pki.js";
import { nodeCertificateRequest } from "../../join/tls_bootstrap.js";
import { parseRequest, signerRefusal, signRequest } from "./signer.js";
import { autoApproval } from "./csr_approving_controller.js";
import { needsSigning } from "./csr_signing_controller.js";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

async function requestPem(subject: string, sans: { type: "dns" | "ip"; value: string }[] = []): Promise<string> {
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"])) as unknown as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subject,
    keys,
    signingAlgorithm: alg,
    extensions: sans.length === 0 ? [] : [new x509.SubjectAlternativeNameExtension(sans)],
  });
  return csr.toString("pem");
}

function csrObject(pem: string, signerName: string, usages: string[], extra: Partial<CertificateSigningRequest["spec"]> = {}, conditions: string[] = []): CertificateSigningRequest {
  return {
    metadata: { name: "c" },
    spec: { request: Buffer.from(pem).toString("base64"), signerName, usages, ...extra },
    status: { conditions: conditions.map((type) => ({ type, status: "True" })) },
  };
}

test("each built-in signer accepts only what its name promises", async () => {
  const kubelet = parseRequest(csrObject((await nodeCertificateRequest("n1")).csrPem, "", []));
  const serving = parseRequest(csrObject(await requestPem("CN=system:node:n1, O=system:nodes", [{ type: "ip", value: "10.0.0.1" }]), "", []));
  const alice = parseRequest(csrObject(await requestPem("CN=alice, O=dev"), "", []));
  const cases: [string, string, string[], ReturnType<typeof parseRequest>, RegExp | null][] = [
    ["kubelet client", "kubernetes.io/kube-apiserver-client-kubelet", ["digital signature", "client auth"], kubelet, null],
    ["kubelet client with server usage", "kubernetes.io/kube-apiserver-client-kubelet", ["server auth"], kubelet, /invalid usages: \[server auth\]/],
    ["user as kubelet", "kubernetes.io/kube-apiserver-client-kubelet", ["client auth"], alice, /organization is not system:nodes/],
    ["kubelet client with SANs", "kubernetes.io/kube-apiserver-client-kubelet", ["client auth"], serving, /no subjectAltNames/],
    ["kubelet serving", "kubernetes.io/kubelet-serving", ["digital signature", "server auth"], serving, null],
    ["kubelet serving without SANs", "kubernetes.io/kubelet-serving", ["server auth"], kubelet, /DNS or IP subjectAltName is required/],
    ["user client", "kubernetes.io/kube-apiserver-client", ["client auth"], alice, null],
    ["someone else's signer", "example.com/mine", ["client auth"], alice, /unknown signer example\.com\/mine/],
  ];
  for (const [what, signer, usages, req, want] of cases) {
    const refusal = signerRefusal(signer, usages, req);
    if (want === null) assert.equal(refusal, null, what);
    else assert.match(refusal ?? "", want, what);
  }
});

test("the signed certificate carries the request's subject and key, the usages, and the requested lifetime", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tk8s-signer-"));
  try {
    const pki = await ensureClusterPki(dir, { serverNames: [] });
    const { csrPem } = await nodeCertificateRequest("n1");
    const csr = csrObject(csrPem, "kubernetes.io/kube-apiserver-client-kubelet", ["digital signature", "client auth"], { expirationSeconds: 3600 });
    const req = parseRequest(csr);
    assert.equal(await req.csr.verify(), true);
    const now = Date.parse("2026-11-24T12:00:00Z");
    const cert = new X509Certificate(await signRequest(pki.ca, csr, req, now));
    assert.equal(cert.subject, "CN=system:node:n1\nO=system:nodes");
    assert.equal(cert.checkIssued(new X509Certificate(pki.ca.certPem)), true);
    assert.equal(cert.verify(new X509Certificate(pki.ca.certPem).publicKey), true);
    assert.equal(Date.parse(cert.validTo) - Date.parse(cert.validFrom), 3600_000 + 5 * 60_000, "an hour, backdated five minutes");
    assert.deepEqual(cert.keyUsage, ["1.3.6.1.5.5.7.3.2"]);
    assert.equal(cert.publicKey.export({ type: "spki", format: "der" }).equals(Buffer.from(await webcrypto.subtle.exportKey("spki", (await req.csr.publicKey.export()) as unknown as webcrypto.CryptoKey))), true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("kubelet client requests from bootstrappers and from the node itself are approved; others wait for a person", async () => {
  const { csrPem } = await nodeCertificateRequest("n1");
  const kubelet = (username: string, groups: string[], conditions: string[] = []) =>
    csrObject(csrPem, "kubernetes.io/kube-apiserver-client-kubelet", ["digital signature", "client auth"], { username, groups }, conditions);
  assert.equal(autoApproval(kubelet("system:bootstrap:abcdef", ["system:bootstrappers", "system:authenticated"]))?.message, "Auto approving kubelet client certificate after SubjectAccessReview.");
  assert.equal(autoApproval(kubelet("system:node:n1", ["system:nodes", "system:authenticated"]))?.message, "Auto approving self kubelet client certificate after SubjectAccessReview.");
  assert.equal(autoApproval(kubelet("system:node:n2", ["system:nodes", "system:authenticated"])), null, "a node renewing another node's certificate");
  assert.equal(autoApproval(kubelet("alice", ["system:authenticated"])), null, "a user");
  assert.equal(autoApproval(kubelet("system:bootstrap:abcdef", ["system:bootstrappers"], ["Denied"])), null, "already decided");
  const user = csrObject(await requestPem("CN=alice"), "kubernetes.io/kube-apiserver-client", ["client auth"], { username: "system:bootstrap:abcdef", groups: ["system:bootstrappers"] });
  assert.equal(autoApproval(user), null, "only the kubelet client signer is automatic");
});

test("the signer works on approved requests of built-in signers that have no certificate and did not fail", async () => {
  const pem = await requestPem("CN=alice");
  const csr = (signer: string, conditions: string[]) => csrObject(pem, signer, ["client auth"], {}, conditions);
  assert.equal(needsSigning(csr("kubernetes.io/kube-apiserver-client", ["Approved"])), true);
  assert.equal(needsSigning(csr("kubernetes.io/kube-apiserver-client", [])), false);
  assert.equal(needsSigning(csr("kubernetes.io/kube-apiserver-client", ["Approved", "Failed"])), false);
  assert.equal(needsSigning(csr("example.com/mine", ["Approved"])), false);
  const issued = csr("kubernetes.io/kube-apiserver-client", ["Approved"]);
  issued.status!.certificate = "eA==";
  assert.equal(needsSigning(issued), false);
});
