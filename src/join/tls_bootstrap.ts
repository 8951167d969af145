/**
 * How a new node gets its identity, as upstream's kubelet TLS bootstrap does:
 * 1. Discovery: connect to the API server without trusting it yet, and take the CA from the
 *    certificate chain it presents only if the CA's public key matches the pin in the join token.
 * 2. With the bootstrap token, create a CertificateSigningRequest for `system:node:<name>` in
 *    `system:nodes` (signer `kubernetes.io/kube-apiserver-client-kubelet`), which the
 *    controller-manager's csrapproving controller approves and csrsigning signs.
 * 3. Wait for the certificate; the node then talks to the API server as itself.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { X509Certificate, randomBytes, webcrypto } from "node:crypto";
import { isIP } from "node:net";
import * as tls from "node:tls";
import type { CertificateSigningRequest } from "kubernetes-types/certificates/v1.js";
import type { Clock, Logger } from "../env/env.js";
import { RestClient } from "../client/rest_client.js";
import { userAgentFor } from "../client/kubeconfig.js";
import { formatBootstrapToken } from "../apiserver/auth/bootstrap_token.js";
import { NODES_GROUP } from "../apiserver/auth/authorizer.js";
import { SIGNING_ALGORITHM, keyToPem, newKeys } from "../apiserver/pki/pki.js";
import { publicKeyPin, type JoinToken } from "./join_token.js";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export const KUBELET_CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client-kubelet";
/** The usages a kubelet asks for with an ECDSA key (RSA keys add "key encipherment"). */
export const KUBELET_CLIENT_USAGES = ["digital signature", "client auth"] as const;
const DISCOVERY_TIMEOUT_MS = 10_000;

export interface KeyPairPem {
  readonly certPem: string;
  readonly keyPem: string;
}

/**
 * The cluster CA of the API server at `serverUrl`, found in the chain it presents and accepted only
 * if its public key hashes to `caHash`; then checked by connecting again trusting only that CA.
 */
export async function discoverClusterCa(serverUrl: string, caHash: string): Promise<string> {
  const url = new URL(serverUrl);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port || 443);
  const chain = await new Promise<tls.DetailedPeerCertificate>((resolve, reject) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false, ...(isIP(host) !== 0 ? {} : { servername: host }) }, () => {
      const peer = socket.getPeerCertificate(true);
      socket.end();
      resolve(peer);
    });
    socket.setTimeout(DISCOVERY_TIMEOUT_MS, () => socket.destroy(new Error(`no TLS handshake with ${url.host} within ${DISCOVERY_TIMEOUT_MS / 1000} s`)));
    socket.once("error", reject);
  });
  let caPem: string | null = null;
  const seen = new Set<string>();
  for (let cert: tls.DetailedPeerCertificate | undefined = chain; cert?.raw !== undefined && !seen.has(cert.fingerprint256); cert = cert.issuerCertificate) {
    seen.add(cert.fingerprint256);
    if (publicKeyPin(cert.raw) === caHash) {
      caPem = new X509Certificate(cert.raw).toString();
      break;
    }
  }
  if (caPem === null) throw new Error(`the server at ${url.host} presented no CA matching the join token's CA hash: a different cluster, or someone in between`);
  // The pinned CA must also be the one that signed the server's certificate for this address.
  await new Promise<void>((resolve, reject) => {
    const socket = tls.connect({ host, port, ca: caPem!, rejectUnauthorized: true, ...(isIP(host) !== 0 ? {} : { servername: host }) }, () => {
      socket.end();
      resolve();
    });
    socket.setTimeout(DISCOVERY_TIMEOUT_MS, () => socket.destroy(new Error(`no TLS handshake with ${url.host}`)));
    socket.once("error", (err) => reject(new Error(`the server's certificate does not verify against the pinned CA for ${url.host}: ${err.message}`)));
  });
  return caPem;
}

/** A new ECDSA P-256 key and a PKCS#10 request for `system:node:<nodeName>` in `system:nodes`. */
export async function nodeCertificateRequest(nodeName: string): Promise<{ csrPem: string; keyPem: string }> {
  const keys = await newKeys();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=system:node:${nodeName}, O=${NODES_GROUP}`, keys, signingAlgorithm: SIGNING_ALGORITHM });
  return { csrPem: csr.toString("pem") + "\n", keyPem: (await keyToPem(keys.privateKey)) + "\n" };
}

export interface BootstrapOptions {
  readonly server: string;
  readonly caPem: string;
  readonly join: JoinToken;
  readonly nodeName: string;
  readonly clock: Clock;
  readonly log: Logger;
  /** How long to wait for approval and signing (upstream waits up to an hour). */
  readonly timeoutMs: number;
  /** Called once while waiting, with the CSR's name (progress for the CLI). */
  readonly onWaiting?: (csrName: string) => void;
}

/** Steps 2 and 3: the node's client certificate and key, signed by the cluster CA. */
export async function requestNodeClientCertificate(o: BootstrapOptions): Promise<KeyPairPem> {
  const client = new RestClient({ server: o.server, ca: o.caPem, token: formatBootstrapToken(o.join.token), userAgent: userAgentFor("agent") });
  try {
    const { csrPem, keyPem } = await nodeCertificateRequest(o.nodeName);
    const csrs = client.resource<CertificateSigningRequest>("certificates.k8s.io", "v1", "certificatesigningrequests");
    const created = await csrs.create({
      apiVersion: "certificates.k8s.io/v1",
      kind: "CertificateSigningRequest",
      metadata: { name: `node-csr-${randomBytes(8).toString("hex")}` },
      spec: { request: Buffer.from(csrPem).toString("base64"), signerName: KUBELET_CLIENT_SIGNER, usages: [...KUBELET_CLIENT_USAGES] },
    });
    const name = created.metadata?.name ?? "";
    o.log.info("certificate signing request created", { name, node: o.nodeName });
    o.onWaiting?.(name);
    const deadline = o.clock.nowMs() + o.timeoutMs;
    while (o.clock.nowMs() < deadline) {
      const csr = await csrs.get(name);
      const conditions = csr.status?.conditions ?? [];
      const refused = conditions.find((c) => c.type === "Denied" || c.type === "Failed");
      if (refused !== undefined) throw new Error(`certificate signing request ${name} was ${refused.type === "Denied" ? "denied" : "not signed"}: ${refused.reason ?? ""} ${refused.message ?? ""}`.trim());
      const certificate = csr.status?.certificate;
      if (certificate !== undefined && certificate !== "") return { certPem: Buffer.from(certificate, "base64").toString("utf8"), keyPem };
      await new Promise<void>((resolve) => o.clock.setTimer(250, resolve, { keepProcessAlive: true }));
    }
    throw new Error(`certificate signing request ${name} was not approved and signed within ${Math.round(o.timeoutMs / 1000)} s: is the controller-manager running? (kubectl certificate approve ${name})`);
  } finally {
    client.close();
  }
}
