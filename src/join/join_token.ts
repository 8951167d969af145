/**
 * The join token `tk8s server` writes to `<data dir>/node-token` and `tk8s agent --token` reads:
 * `K10<sha256 of the cluster CA's public key, hex>::<bootstrap token>` (k3s's shape). The hash pins the
 * CA, as kubeadm's `--discovery-token-ca-cert-hash sha256:…` does, so a new node trusts the right API
 * server before it sends its token; the bootstrap token then authenticates it for one thing: asking
 * for its client certificate.
 */
import { X509Certificate, createHash } from "node:crypto";
import { formatBootstrapToken, parseBootstrapToken, type BootstrapToken } from "../apiserver/auth/bootstrap_token.js";

const PREFIX = "K10";

export interface JoinToken {
  /** Hex SHA-256 of the CA certificate's SubjectPublicKeyInfo (kubeadm's CA pin, without `sha256:`). */
  readonly caHash: string;
  readonly token: BootstrapToken;
}

/** kubeadm's CA pin: SHA-256 over the DER SubjectPublicKeyInfo of the certificate. */
export function publicKeyPin(certPemOrDer: string | Buffer): string {
  const cert = new X509Certificate(certPemOrDer);
  return createHash("sha256").update(cert.publicKey.export({ type: "spki", format: "der" })).digest("hex");
}

export function formatJoinToken(caPem: string, token: BootstrapToken): string {
  return `${PREFIX}${publicKeyPin(caPem)}::${formatBootstrapToken(token)}`;
}

/** Parses a join token; throws an Error whose message says what is wrong with it. */
export function parseJoinToken(text: string): JoinToken {
  const m = /^K10([0-9a-f]{64})::(.+)$/.exec(text.trim());
  if (m === null) throw new Error("the join token must look like K10<64 hex digits>::<id>.<secret> (the server's <data dir>/node-token)");
  const token = parseBootstrapToken(m[2]!);
  if (token === null) throw new Error("the join token's credential must be a bootstrap token: 6 and 16 characters of [a-z0-9] joined by a dot");
  return { caHash: m[1]!, token };
}
