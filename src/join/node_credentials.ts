/**
 * A joined node's credentials on disk, as the kubelet keeps them: `<dir>/pki/ca.crt` (the pinned
 * cluster CA), `kubelet-client.crt/.key` (its identity, from the TLS bootstrap), `kubelet.crt/.key`
 * (its self-signed serving certificate) and `<dir>/kubelet.kubeconfig`. A node that restarts reuses
 * them instead of bootstrapping again (the join token may have been revoked meanwhile).
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";
import { renderKubeconfig } from "../apiserver/pki/kubeconfig.js";
import { selfSignedServingCertificate } from "../apiserver/pki/pki.js";
import type { Clock, Logger } from "../env/env.js";
import { discoverClusterCa, requestNodeClientCertificate, type KeyPairPem } from "./tls_bootstrap.js";
import type { JoinToken } from "./join_token.js";

export interface NodeCredentials {
  readonly kubeconfigPath: string;
  readonly caPem: string;
  readonly serving: KeyPairPem;
  /** True when this start bootstrapped them; false when they were read from disk. */
  readonly bootstrapped: boolean;
}

export interface EnsureNodeCredentialsOptions {
  readonly dir: string;
  readonly server: string;
  readonly join: JoinToken;
  readonly nodeName: string;
  readonly servingNames: readonly string[];
  readonly clock: Clock;
  readonly log: Logger;
  readonly approvalTimeoutMs: number;
  readonly progress: (line: string) => void;
}

async function readIfPresent(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/** The node's credentials: from disk when a valid client certificate for this node is there, else bootstrapped. */
export async function ensureNodeCredentials(o: EnsureNodeCredentialsOptions): Promise<NodeCredentials> {
  const pki = path.join(o.dir, "pki");
  await fs.mkdir(pki, { recursive: true, mode: 0o700 });
  const kubeconfigPath = path.join(o.dir, "kubelet.kubeconfig");
  const file = (name: string) => path.join(pki, name);
  let caPem = await readIfPresent(file("ca.crt"));
  let client: KeyPairPem | null = null;
  const [certPem, keyPem] = await Promise.all([readIfPresent(file("kubelet-client.crt")), readIfPresent(file("kubelet-client.key"))]);
  if (caPem !== null && certPem !== null && keyPem !== null) {
    const cert = new X509Certificate(certPem);
    const fresh = Date.parse(cert.validTo) > o.clock.wallMs() && cert.subject.includes(`CN=system:node:${o.nodeName}`);
    if (fresh) client = { certPem, keyPem };
  }
  const bootstrapped = client === null;
  if (client === null) {
    caPem = await discoverClusterCa(o.server, o.join.caHash);
    o.progress("the cluster CA matches the join token");
    client = await requestNodeClientCertificate({
      server: o.server,
      caPem,
      join: o.join,
      nodeName: o.nodeName,
      clock: o.clock,
      log: o.log,
      timeoutMs: o.approvalTimeoutMs,
      onWaiting: (name) => o.progress(`certificate signing request ${name} sent; waiting for it to be approved and signed`),
    });
    await fs.writeFile(file("ca.crt"), caPem, { mode: 0o644 });
    await fs.writeFile(file("kubelet-client.key"), client.keyPem, { mode: 0o600 });
    await fs.writeFile(file("kubelet-client.crt"), client.certPem, { mode: 0o644 });
    o.progress(`node certificate issued for system:node:${o.nodeName}`);
  }
  await fs.writeFile(
    kubeconfigPath,
    renderKubeconfig({ server: o.server, caPem: caPem!, userName: `system:node:${o.nodeName}`, clientCertPem: client.certPem, clientKeyPem: client.keyPem }),
    { mode: 0o600 },
  );
  let serving: KeyPairPem;
  const [servingCert, servingKey] = await Promise.all([readIfPresent(file("kubelet.crt")), readIfPresent(file("kubelet.key"))]);
  if (servingCert !== null && servingKey !== null) serving = { certPem: servingCert, keyPem: servingKey };
  else {
    serving = await selfSignedServingCertificate(`${o.nodeName}@${Math.floor(o.clock.wallMs() / 1000)}`, o.servingNames);
    await fs.writeFile(file("kubelet.key"), serving.keyPem, { mode: 0o600 });
    await fs.writeFile(file("kubelet.crt"), serving.certPem, { mode: 0o644 });
  }
  return { kubeconfigPath, caPem: caPem!, serving, bootstrapped };
}
