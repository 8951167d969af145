/**
 * What the cluster CA signs, per signer (upstream's pkg/controller/certificates/signer): each built-in
 * signer accepts only the requests its name promises — a kubelet client certificate is
 * `system:node:<name>` in exactly `system:nodes` with client usages and no SANs; a kubelet serving
 * certificate the same subject with server usages and DNS/IP SANs; a kube-apiserver client certificate
 * any subject with client usages. The certificate lives `min(spec.expirationSeconds,
 * --cluster-signing-duration)` and is backdated five minutes for clock skew, as upstream.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { webcrypto } from "node:crypto";
import type { CertificateSigningRequest } from "kubernetes-types/certificates/v1.js";
import { SIGNING_ALGORITHM, importPrivateKey, serial } from "../../apiserver/pki/pki.js";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export const SIGNER_KUBE_APISERVER_CLIENT = "kubernetes.io/kube-apiserver-client";
export const SIGNER_KUBE_APISERVER_CLIENT_KUBELET = "kubernetes.io/kube-apiserver-client-kubelet";
export const SIGNER_KUBELET_SERVING = "kubernetes.io/kubelet-serving";
export const BUILTIN_SIGNERS = [SIGNER_KUBE_APISERVER_CLIENT, SIGNER_KUBE_APISERVER_CLIENT_KUBELET, SIGNER_KUBELET_SERVING] as const;

/** upstream's --cluster-signing-duration default: a year. */
export const CLUSTER_SIGNING_DURATION_MS = 365 * 24 * 3_600_000;
const BACKDATE_MS = 5 * 60_000;

const CLIENT_USAGES = new Set(["digital signature", "key encipherment", "client auth"]);
const SERVING_USAGES = new Set(["digital signature", "key encipherment", "server auth"]);

export interface ParsedRequest {
  readonly csr: x509.Pkcs10CertificateRequest;
  readonly commonName: string;
  readonly organizations: string[];
  readonly dnsNames: string[];
  readonly ipAddresses: string[];
  readonly otherNames: string[];
}

/** Decodes `spec.request` (base64 of a PEM CERTIFICATE REQUEST); throws with the reason. */
export function parseRequest(csrObj: CertificateSigningRequest): ParsedRequest {
  const pem = Buffer.from(csrObj.spec.request, "base64").toString("latin1");
  const csr = new x509.Pkcs10CertificateRequest(pem);
  const sanExtension = csr.extensions.find((e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension);
  const sans = sanExtension?.names.items ?? [];
  return {
    csr,
    commonName: csr.subjectName.getField("CN")[0] ?? "",
    organizations: csr.subjectName.getField("O"),
    dnsNames: sans.filter((n) => n.type === "dns").map((n) => n.value),
    ipAddresses: sans.filter((n) => n.type === "ip").map((n) => n.value),
    otherNames: sans.filter((n) => n.type !== "dns" && n.type !== "ip").map((n) => n.value),
  };
}

/** Why `signerName` may not sign this request, or null when it may. */
export function signerRefusal(signerName: string, usages: readonly string[], req: ParsedRequest): string | null {
  const badUsages = (allowed: Set<string>) => usages.filter((u) => !allowed.has(u));
  switch (signerName) {
    case SIGNER_KUBE_APISERVER_CLIENT_KUBELET: {
      if (req.organizations.length !== 1 || req.organizations[0] !== "system:nodes") return `subject organization is not system:nodes`;
      if (!req.commonName.startsWith("system:node:")) return `subject common name does not begin with system:node:`;
      if (req.dnsNames.length + req.ipAddresses.length + req.otherNames.length > 0) return `no subjectAltNames are allowed`;
      const bad = badUsages(CLIENT_USAGES);
      if (bad.length > 0 || !usages.includes("client auth")) return `invalid usages: [${bad.join(" ")}]: client auth is required, only digital signature, key encipherment and client auth are allowed`;
      return null;
    }
    case SIGNER_KUBELET_SERVING: {
      if (req.organizations.length !== 1 || req.organizations[0] !== "system:nodes") return `subject organization is not system:nodes`;
      if (!req.commonName.startsWith("system:node:")) return `subject common name does not begin with system:node:`;
      if (req.dnsNames.length + req.ipAddresses.length === 0) return `DNS or IP subjectAltName is required`;
      if (req.otherNames.length > 0) return `only DNS and IP subjectAltNames are allowed`;
      const bad = badUsages(SERVING_USAGES);
      if (bad.length > 0 || !usages.includes("server auth")) return `invalid usages: [${bad.join(" ")}]: server auth is required, only digital signature, key encipherment and server auth are allowed`;
      return null;
    }
    case SIGNER_KUBE_APISERVER_CLIENT: {
      const bad = badUsages(CLIENT_USAGES);
      if (bad.length > 0 || !usages.includes("client auth")) return `invalid usages: [${bad.join(" ")}]: client auth is required, only digital signature, key encipherment and client auth are allowed`;
      return null;
    }
    default:
      return `unknown signer ${signerName}`;
  }
}

const KEY_USAGE_FLAGS: Readonly<Record<string, number>> = {
  "digital signature": x509.KeyUsageFlags.digitalSignature,
  "key encipherment": x509.KeyUsageFlags.keyEncipherment,
};
const EXTENDED_USAGES: Readonly<Record<string, string>> = {
  "client auth": x509.ExtendedKeyUsage.clientAuth,
  "server auth": x509.ExtendedKeyUsage.serverAuth,
};

export interface SigningCa {
  readonly certPem: string;
  readonly keyPem: string;
}

/** Issues the certificate (PEM) for a request the signer accepted. */
export async function signRequest(ca: SigningCa, csrObj: CertificateSigningRequest, req: ParsedRequest, nowMs: number, maxDurationMs = CLUSTER_SIGNING_DURATION_MS): Promise<string> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await importPrivateKey(ca.keyPem);
  const requested = csrObj.spec.expirationSeconds;
  const durationMs = requested === undefined || requested === null ? maxDurationMs : Math.min(maxDurationMs, requested * 1000);
  const usages = csrObj.spec.usages ?? [];
  let keyUsage = 0;
  for (const u of usages) keyUsage |= KEY_USAGE_FLAGS[u] ?? 0;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.ExtendedKeyUsageExtension(usages.map((u) => EXTENDED_USAGES[u]).filter((u): u is string => u !== undefined)),
    await x509.AuthorityKeyIdentifierExtension.create(caCert),
  ];
  if (keyUsage !== 0) extensions.push(new x509.KeyUsagesExtension(keyUsage, true));
  if (req.dnsNames.length + req.ipAddresses.length > 0) {
    extensions.push(new x509.SubjectAlternativeNameExtension([...req.dnsNames.map((v) => ({ type: "dns" as const, value: v })), ...req.ipAddresses.map((v) => ({ type: "ip" as const, value: v }))]));
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: req.csr.subject,
    issuer: caCert.subject,
    notBefore: new Date(nowMs - BACKDATE_MS),
    notAfter: new Date(Math.min(nowMs + durationMs, caCert.notAfter.getTime())),
    signingKey: caKey,
    publicKey: await req.csr.publicKey.export(),
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions,
  });
  return cert.toString("pem") + "\n";
}
