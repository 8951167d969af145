/**
 * The CertificateSigningRequest API and its two controllers against a real in-process API server: who
 * asked is recorded by the server, approval and status are separate subresources, validation answers
 * 422 with upstream's fields, and an approved request comes back signed by the cluster CA — with a
 * certificate the API server then accepts as that user.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { webcrypto } from "node:crypto";
import type { CertificateSigningRequest } from "kubernetes-types/certificates/v1.js";
import { ApiError } from "../../api/status.js";
import { RestClient } from "../../client/rest_client.js";
import { pollUntil, startControllerTestEnv } from "../util/controller_test_env.js";
import { CsrApprovingController } from "./csr_approving_controller.js";
import { CsrSigningController } from "./csr_signing_controller.js";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

async function userRequest(subject: string): Promise<{ request: string; keyPem: string }> {
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"])) as unknown as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: subject, keys, signingAlgorithm: alg });
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey as unknown as webcrypto.CryptoKey);
  return { request: Buffer.from(csr.toString("pem")).toString("base64"), keyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY") };
}

test("a CSR records its requester, is approved through /approval, and is signed into a certificate the API server accepts", async () => {
  const t = await startControllerTestEnv();
  try {
    await t.start(new CsrApprovingController(t.ctx), new CsrSigningController(t.ctx, { certPem: t.server.ca, keyPem: t.server.caKey }));
    const csrs = t.client.resource<CertificateSigningRequest>("certificates.k8s.io", "v1", "certificatesigningrequests");
    const { request, keyPem } = await userRequest("CN=alice, O=dev");
    const created = await csrs.create({
      metadata: { name: "alice" },
      spec: { request, signerName: "kubernetes.io/kube-apiserver-client", usages: ["client auth"], username: "mallory", groups: ["system:masters"] },
      status: { conditions: [{ type: "Approved", status: "True" }] },
    });
    assert.equal(created.spec.username, "kubernetes-admin", "the server writes who asked, whatever the body says");
    assert.deepEqual(created.spec.groups, ["system:masters", "system:authenticated"]);
    assert.equal(created.status, undefined, "nobody creates a pre-approved request");

    // Not automatic for this signer: it waits for a person (kubectl certificate approve does this PUT).
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await csrs.get("alice")).status?.certificate, undefined);
    const current = await csrs.get("alice");
    const approved = await csrs.updateSubresource<CertificateSigningRequest>("alice", "approval", {
      ...current,
      status: { certificate: "bm90IG1pbmU=", conditions: [{ type: "Approved", status: "True", reason: "KubectlApprove", message: "approved by a test" }] },
    });
    assert.equal(approved.status?.conditions?.[0]?.type, "Approved");
    assert.match(approved.status?.conditions?.[0]?.lastUpdateTime ?? "", /^\d{4}-\d\d-\d\dT/);
    assert.equal(approved.status?.certificate, undefined, "/approval cannot set the certificate");

    const signed = await pollUntil("the certificate", async () => (await csrs.get("alice")).status?.certificate);
    const certPem = Buffer.from(signed, "base64").toString("utf8");
    const asAlice = new RestClient({ server: t.server.url, ca: t.server.ca, cert: certPem, key: keyPem, userAgent: "test" });
    try {
      await assert.rejects(asAlice.resource("", "v1", "pods").namespace("default").list(), (e: unknown) =>
        e instanceof ApiError && e.code === 403 && e.message === 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"');
    } finally {
      asAlice.close();
    }
  } finally {
    await t.stop();
  }
});

test("the signer marks a request it may not sign Failed, and validation refuses malformed requests with upstream's fields", async () => {
  const t = await startControllerTestEnv();
  try {
    await t.start(new CsrSigningController(t.ctx, { certPem: t.server.ca, keyPem: t.server.caKey }));
    const csrs = t.client.resource<CertificateSigningRequest>("certificates.k8s.io", "v1", "certificatesigningrequests");
    const { request } = await userRequest("CN=bob");
    await csrs.create({ metadata: { name: "bob" }, spec: { request, signerName: "kubernetes.io/kube-apiserver-client", usages: ["server auth"] } });
    const cur = await csrs.get("bob");
    await csrs.updateSubresource("bob", "approval", { ...cur, status: { conditions: [{ type: "Approved", status: "True", reason: "Test" }] } });
    const failed = await pollUntil("a Failed condition", async () => (await csrs.get("bob")).status?.conditions?.find((c) => c.type === "Failed"));
    assert.equal(failed.reason, "SignerValidationFailure");
    assert.match(failed.message ?? "", /invalid usages: \[server auth\]/);

    const invalid = async (spec: Partial<CertificateSigningRequest["spec"]>, message: RegExp) =>
      assert.rejects(csrs.create({ metadata: { name: "bad" }, spec: { request, signerName: "kubernetes.io/kube-apiserver-client", usages: ["client auth"], ...spec } }), (e: unknown) =>
        e instanceof ApiError && e.code === 422 && message.test(e.message));
    await invalid({ request: Buffer.from("hello").toString("base64") }, /spec\.request: Invalid value: "<request>": PEM block type must be CERTIFICATE REQUEST/);
    await invalid({ usages: ["flying"] }, /spec\.usages\[0\]: Unsupported value: "flying"/);
    await invalid({ usages: [] }, /spec\.usages: Required value/);
    await invalid({ signerName: "nodomain" }, /spec\.signerName: Invalid value: "nodomain": must be a fully qualified domain and path of the form 'example.com\/signer-name'/);
    await invalid({ expirationSeconds: 599 }, /spec\.expirationSeconds: Invalid value: 599: may not specify a duration less than 600 seconds \(10 minutes\)/);

    const both = await csrs.get("bob");
    await assert.rejects(
      csrs.updateSubresource("bob", "approval", { ...both, status: { conditions: [{ type: "Approved", status: "True" }, { type: "Denied", status: "True" }] } }),
      (e: unknown) => e instanceof ApiError && e.code === 422 && /Approved and Denied conditions are mutually exclusive/.test(e.message),
    );
  } finally {
    await t.stop();
  }
});
