import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as dnsPromises } from "node:dns";
import type { Endpoints, Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { InformerFactory } from "../client/informer_factory.js";
import { loadKubeconfig } from "../client/kubeconfig.js";
import { RestClient } from "../client/rest_client.js";
import { MemoryLogger } from "../env/memory_logger.js";
import { nodeClock, nodeFileSystem, nodeRng } from "../platform/node/node_env.js";
import { startInProcessApiServer } from "../../test/harness/inprocess_apiserver.js";
import { CLUSTER_DNS_SERVICE_IP, startNodeServices } from "./node_services.js";

test("cluster DNS starts behind the kube-dns Service, answers for Services, and a restart re-points its endpoints", async () => {
  const api = await startInProcessApiServer();
  const client = new RestClient(loadKubeconfig(api.kubeconfig));
  const env = { clock: nodeClock, rng: nodeRng, fs: nodeFileSystem, log: new MemoryLogger() };
  const informers = new InformerFactory(env, client);
  const progress: string[] = [];
  const start = (runtime: "containerd" | "process") =>
    startNodeServices(
      {
        env,
        client,
        informers,
        nodeName: "n1",
        nodeIP: "127.0.0.1",
        clusterCidr: "10.244.0.0/16",
        runtime,
        dns: { listen: "127.0.0.1:0", httpListen: "127.0.0.1:0", clusterDomain: "cluster.local", upstreams: [] },
        proxy: null,
      },
      (line) => progress.push(line),
    );
  try {
    const first = await start("containerd");
    try {
      assert.deepEqual(first.clusterDNS, [CLUSTER_DNS_SERVICE_IP], "containerd pods are told the Service's ClusterIP");
      assert.match(progress.join("\n"), /cluster DNS serving cluster\.local on 127\.0\.0\.1:\d+ \(Service kube-system\/kube-dns 10\.96\.0\.10\)/);
      const svc = await client.resource<Service>("", "v1", "services").namespace("kube-system").get("kube-dns");
      assert.equal(svc.spec?.clusterIP, CLUSTER_DNS_SERVICE_IP);
      assert.deepEqual(svc.spec?.ports?.map((p) => [p.name, p.protocol, p.port]), [["dns", "UDP", 53], ["dns-tcp", "TCP", 53]]);
      const slice = await client.resource<EndpointSlice>("discovery.k8s.io", "v1", "endpointslices").namespace("kube-system").get("kube-dns-tk8s");
      assert.equal(slice.metadata?.labels?.["kubernetes.io/service-name"], "kube-dns");
      assert.deepEqual(slice.endpoints.map((e) => e.addresses), [["127.0.0.1"]]);
      assert.deepEqual(slice.ports?.map((p) => p.port), [first.dns!.dnsAddress.port, first.dns!.dnsAddress.port]);

      assert.equal(await first.dns!.waitReady(10_000), true, "DNS caches synced");
      const resolver = new dnsPromises.Resolver({ timeout: 2000, tries: 2 });
      resolver.setServers([`127.0.0.1:${first.dns!.dnsAddress.port}`]);
      assert.deepEqual(await resolver.resolve4("kubernetes.default.svc.cluster.local"), ["10.96.0.1"]);
      assert.deepEqual(await resolver.resolve4("kube-dns.kube-system.svc.cluster.local"), [CLUSTER_DNS_SERVICE_IP]);
    } finally {
      await first.stop();
    }
    // Restarted on another port (port 0 again): the Service stays, its endpoints follow.
    const second = await start("process");
    try {
      assert.deepEqual(second.clusterDNS, ["127.0.0.1"], "host-network pods are told the address DNS listens on");
      const eps = await client.resource<Endpoints>("", "v1", "endpoints").namespace("kube-system").get("kube-dns");
      assert.deepEqual(eps.subsets?.[0]?.ports?.map((p) => p.port), [second.dns!.dnsAddress.port, second.dns!.dnsAddress.port]);
      const slice = await client.resource<EndpointSlice>("discovery.k8s.io", "v1", "endpointslices").namespace("kube-system").get("kube-dns-tk8s");
      assert.deepEqual(slice.ports?.map((p) => p.port), [second.dns!.dnsAddress.port, second.dns!.dnsAddress.port]);
    } finally {
      await second.stop();
    }
  } finally {
    await informers.shutdown();
    client.close();
    await api.stop();
  }
});
