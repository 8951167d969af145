/**
 * The cluster's certificates, made on first start as kubeadm would: a self-signed CA, the API server's
 * serving certificate (SANs: localhost, 127.0.0.1, the host name and any extra names), and an admin
 * client certificate in group `system:masters`. Files are PEM under `<dataDir>/pki/`, keys 0600; later
 * starts reuse them, so kubeconfigs already handed out stay valid.
 */
// @peculiar/x509 resolves its ASN.1 classes through a dependency-injection container that needs the
// Reflect metadata API at import time; the polyfill must be loaded before it.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { webcrypto } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { isIP } from "node:net";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

/** Every key of the cluster: ECDSA P-256, signing with SHA-256 (also the CSRs nodes send and the certificates csrsigning issues). */
export const KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;
export const SIGNING_ALGORITHM = { name: "ECDSA", hash: "SHA-256" } as const;
/** kubeadm's CA lives ten years, leaf certificates one; we give leaves the CA's span: nothing renews them yet. */
const CA_VALIDITY_DAYS = 3650;
const LEAF_VALIDITY_DAYS = 3650;

export interface KeyPairPem {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface ClusterPki {
  readonly ca: KeyPairPem;
  readonly apiserver: KeyPairPem;
  readonly admin: KeyPairPem;
  /** The API server's client certificate towards kubelets (logs, exec, attach, port-forward), as kubeadm's apiserver-kubelet-client. */
  readonly kubeletClient: KeyPairPem;
}

interface Issued {
  readonly cert: x509.X509Certificate;
  readonly keys: CryptoKeyPair;
}

function days(n: number): Date {
  return new Date(Date.now() + n * 86_400_000);
}

/** A random positive 128-bit certificate serial number (hex). */
export function serial(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString("hex").replace(/^[89a-f]/, "1");
}

/** A private key as PKCS#8 PEM (without a trailing newline). */
export async function keyToPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey("pkcs8", key as unknown as webcrypto.CryptoKey);
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

export async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"])) as unknown as CryptoKeyPair;
}

/** A PKCS#8 PEM private key of KEY_ALGORITHM, for signing. */
export async function importPrivateKey(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return (await webcrypto.subtle.importKey("pkcs8", der, KEY_ALGORITHM, true, ["sign"])) as unknown as CryptoKey;
}

async function newCa(commonName: string): Promise<Issued> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}`,
    notBefore: days(-1),
    notAfter: days(CA_VALIDITY_DAYS),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

/** An RFC 4514 subject: CN plus one O per group (Kubernetes reads groups from O). */
function subject(commonName: string, organizations: readonly string[]): string {
  const escape = (v: string) => v.replace(/([,+"\\<>;=])/g, "\\$1");
  return [`CN=${escape(commonName)}`, ...organizations.map((o) => `O=${escape(o)}`)].join(", ");
}

interface LeafRequest {
  readonly commonName: string;
  readonly organizations?: readonly string[];
  readonly usage: "server" | "client";
  readonly sans?: readonly string[];
}

async function issue(ca: { cert: x509.X509Certificate; privateKey: CryptoKey }, req: LeafRequest): Promise<Issued> {
  const keys = await newKeys();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([req.usage === "server" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
    await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
  ];
  if (req.sans !== undefined && req.sans.length > 0) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(req.sans.map((s) => (isIP(s) !== 0 ? { type: "ip" as const, value: s } : { type: "dns" as const, value: s }))),
    );
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: subject(req.commonName, req.organizations ?? []),
    issuer: ca.cert.subject,
    notBefore: days(-1),
    notAfter: days(LEAF_VALIDITY_DAYS),
    signingKey: ca.privateKey,
    publicKey: keys.publicKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions,
  });
  return { cert, keys };
}

async function readPair(dir: string, name: string): Promise<KeyPairPem | null> {
  try {
    const [certPem, keyPem] = await Promise.all([
      fs.readFile(path.join(dir, `${name}.crt`), "utf8"),
      fs.readFile(path.join(dir, `${name}.key`), "utf8"),
    ]);
    return { certPem, keyPem };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

async function writePair(dir: string, name: string, issued: Issued): Promise<KeyPairPem> {
  const pair = { certPem: issued.cert.toString("pem") + "\n", keyPem: (await keyToPem(issued.keys.privateKey)) + "\n" };
  await fs.writeFile(path.join(dir, `${name}.key`), pair.keyPem, { mode: 0o600 });
  await fs.writeFile(path.join(dir, `${name}.crt`), pair.certPem, { mode: 0o644 });
  return pair;
}

/** The SANs of a certificate, as strings (for tests and for deciding whether to re-issue). */
export function subjectAltNames(certPem: string): string[] {
  const cert = new x509.X509Certificate(certPem);
  const ext = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return ext === null ? [] : ext.names.items.map((n) => n.value);
}

/** The subject's CN and O values of a certificate. */
export function certificateIdentity(certPem: string): { commonName: string; organizations: string[] } {
  const cert = new x509.X509Certificate(certPem);
  return {
    commonName: cert.subjectName.getField("CN")[0] ?? "",
    organizations: cert.subjectName.getField("O"),
  };
}

export interface PkiOptions {
  /** Names and addresses the serving certificate must cover, beyond localhost and 127.0.0.1. */
  readonly serverNames: readonly string[];
}

/**
 * Loads `<pkiDir>`'s certificates, creating whichever are missing. A serving certificate that lacks a
 * requested name is re-issued from the same CA (clients trust the CA, not the leaf).
 */
export async function ensureClusterPki(pkiDir: string, options: PkiOptions): Promise<ClusterPki> {
  await fs.mkdir(pkiDir, { recursive: true, mode: 0o700 });
  let ca = await readPair(pkiDir, "ca");
  if (ca === null) ca = await writePair(pkiDir, "ca", await newCa("kubernetes"));
  const signer = { cert: new x509.X509Certificate(ca.certPem), privateKey: await importPrivateKey(ca.keyPem) };

  const sans = [...new Set(["localhost", "127.0.0.1", "kubernetes", "kubernetes.default", "kubernetes.default.svc", ...options.serverNames])];
  let apiserver = await readPair(pkiDir, "apiserver");
  if (apiserver === null || !sans.every((s) => subjectAltNames(apiserver!.certPem).includes(s))) {
    apiserver = await writePair(pkiDir, "apiserver", await issue(signer, { commonName: "kube-apiserver", usage: "server", sans }));
  }
  let admin = await readPair(pkiDir, "admin");
  if (admin === null) {
    admin = await writePair(pkiDir, "admin", await issue(signer, { commonName: "kubernetes-admin", organizations: ["system:masters"], usage: "client" }));
  }
  let kubeletClient = await readPair(pkiDir, "apiserver-kubelet-client");
  if (kubeletClient === null) {
    kubeletClient = await writePair(pkiDir, "apiserver-kubelet-client", await issue(signer, { commonName: "kube-apiserver-kubelet-client", organizations: ["system:masters"], usage: "client" }));
  }
  return { ca, apiserver, admin, kubeletClient };
}

/** Issues a client certificate from the cluster CA (kubelets, controllers, users). */
export async function issueClientCertificate(ca: KeyPairPem, commonName: string, organizations: readonly string[]): Promise<KeyPairPem> {
  const signer = { cert: new x509.X509Certificate(ca.certPem), privateKey: await importPrivateKey(ca.keyPem) };
  const issued = await issue(signer, { commonName, organizations, usage: "client" });
  return { certPem: issued.cert.toString("pem") + "\n", keyPem: (await keyToPem(issued.keys.privateKey)) + "\n" };
}

/** Issues a serving certificate from the cluster CA (a kubelet's, for its HTTPS port). */
export async function issueServingCertificate(ca: KeyPairPem, commonName: string, sans: readonly string[]): Promise<KeyPairPem> {
  const signer = { cert: new x509.X509Certificate(ca.certPem), privateKey: await importPrivateKey(ca.keyPem) };
  const issued = await issue(signer, { commonName, usage: "server", sans });
  return { certPem: issued.cert.toString("pem") + "\n", keyPem: (await keyToPem(issued.keys.privateKey)) + "\n" };
}

/**
 * A self-signed serving certificate (a kubelet's, when it has no serving certificate from the cluster
 * CA — upstream's kubelet default): the API server does not verify kubelets' serving certificates
 * unless given --kubelet-certificate-authority.
 */
export async function selfSignedServingCertificate(commonName: string, sans: readonly string[]): Promise<KeyPairPem> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: subject(commonName, []),
    notBefore: days(-1),
    notAfter: days(365),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(sans.map((s) => (isIP(s) !== 0 ? { type: "ip" as const, value: s } : { type: "dns" as const, value: s }))),
    ],
  });
  return { certPem: cert.toString("pem") + "\n", keyPem: (await keyToPem(keys.privateKey)) + "\n" };
}
