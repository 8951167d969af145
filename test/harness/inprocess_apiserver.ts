/**
 * A real API server inside the test's process (embedded datastore in a temp dir, the cluster PKI, HTTPS
 * on a free loopback port): for tests of components that talk to the API — clients, informers,
 * controllers, the scheduler — without a child process. It is the same server `tk8s server` runs.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootstrapCluster } from "../../src/apiserver/bootstrap.js";
import { ensureClusterPki } from "../../src/apiserver/pki/pki.js";
import { renderKubeconfig } from "../../src/apiserver/pki/kubeconfig.js";
import { ServiceAccountTokens } from "../../src/apiserver/serviceaccount/token_issuer.js";
import { ApiServer } from "../../src/apiserver/server.js";
import { EmbeddedStorage } from "../../src/apiserver/storage/embedded_storage.js";
import { newMachinery, newOpenApiServer } from "../../src/apiserver/wiring.js";
import { defaultConfig } from "../../src/etcd/config.js";
import { EtcdServer } from "../../src/etcd/server.js";
import { MemoryLogger } from "../../src/env/memory_logger.js";
import { nodeClock, nodeFileSystem, nodeRng } from "../../src/platform/node/node_env.js";

export interface InProcessApiServer {
  /** https://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** PEM: the cluster CA, and the admin's (system:masters) client certificate and key. */
  readonly ca: string;
  /** The CA's key (PEM), for tests that issue certificates of their own (a kubelet's serving certificate). */
  readonly caKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** An admin kubeconfig file for this server (for kubectl or a kubeconfig-loading client). */
  readonly kubeconfig: string;
  readonly server: ApiServer;
  stop(): Promise<void>;
}

export async function startInProcessApiServer(): Promise<InProcessApiServer> {
  const dir = mkdtempSync(join(tmpdir(), "tk8s-inproc-"));
  const log = new MemoryLogger();
  const etcd = await EtcdServer.open({ clock: nodeClock, rng: nodeRng, fs: nodeFileSystem, log } as never, defaultConfig({ name: "test", dataDir: join(dir, "etcd") }));
  const storage = new EmbeddedStorage(etcd);
  const pki = await ensureClusterPki(join(dir, "pki"), { serverNames: [] });
  const server = new ApiServer({
    storage,
    log,
    machinery: newMachinery(),
    openapi: newOpenApiServer(),
    tls: { certPem: pki.apiserver.certPem, keyPem: pki.apiserver.keyPem, caPem: pki.ca.certPem },
    bindAddress: "127.0.0.1",
    port: 0,
    kubeletClient: pki.kubeletClient,
    serviceAccountTokens: await ServiceAccountTokens.open(join(dir, "pki")),
  });
  const port = await server.start();
  await bootstrapCluster(server, { advertiseAddress: "127.0.0.1", securePort: port, caPem: pki.ca.certPem });
  server.setReady();
  const url = `https://127.0.0.1:${port}`;
  const kubeconfig = join(dir, "admin.kubeconfig");
  writeFileSync(kubeconfig, renderKubeconfig({ server: url, caPem: pki.ca.certPem, userName: "admin", clientCertPem: pki.admin.certPem, clientKeyPem: pki.admin.keyPem }));
  return {
    url,
    port,
    ca: pki.ca.certPem,
    caKey: pki.ca.keyPem,
    clientCert: pki.admin.certPem,
    clientKey: pki.admin.keyPem,
    kubeconfig,
    server,
    async stop() {
      await server.close();
      storage.close();
      await etcd.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
