/** kubeconfig files as kubectl reads them (clientcmd's v1 Config), with credentials embedded. */
import { stringify } from "yaml";

export interface KubeconfigOptions {
  readonly server: string;
  readonly caPem: string;
  readonly clusterName?: string;
  readonly userName: string;
  readonly clientCertPem?: string;
  readonly clientKeyPem?: string;
  readonly token?: string;
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

export function renderKubeconfig(o: KubeconfigOptions): string {
  const cluster = o.clusterName ?? "tk8s";
  const user: Record<string, string> = {};
  if (o.clientCertPem !== undefined) user["client-certificate-data"] = b64(o.clientCertPem);
  if (o.clientKeyPem !== undefined) user["client-key-data"] = b64(o.clientKeyPem);
  if (o.token !== undefined) user.token = o.token;
  const context = `${o.userName}@${cluster}`;
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: cluster, cluster: { server: o.server, "certificate-authority-data": b64(o.caPem) } }],
    users: [{ name: o.userName, user }],
    contexts: [{ name: context, context: { cluster, user: o.userName } }],
    "current-context": context,
    preferences: {},
  });
}
