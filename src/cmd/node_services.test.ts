import { test } from "node:test";
import assert from "node:assert/strict";
import { promises as dnsPromises } from "node:dns";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Endpoints, Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { InformerFactory } from "../client/informer_factory.js";
import { loadKubeconfig } from "../client/kubeconfig.js";
import { RestClient } from "../client/rest_client.js";
import { MemoryLogger } from "../env/memory_logger.js";
import { nodeClock, nodeFileSystem, nodeRng } from "../platform/node/node_env.js";
import { startInProcessApiServer } from "../../test/harness/inprocess_apiserver.js";
import { CLASS_IN, RRType } from "../dns/message.js";
import { startFakeUpstream } from "../dns/testing_upstream.js";
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

test("cluster DNS that cannot listen is one warning line: the node goes on without it and no kube-dns Service is made", async () => {
  const api = await startInProcessApiServer();
  const client = new RestClient(loadKubeconfig(api.kubeconfig));
  const env = { clock: nodeClock, rng: nodeRng, fs: nodeFileSystem, log: new MemoryLogger() };
  const informers = new InformerFactory(env, client);
  // Someone else holds the UDP port.
  const holder = createSocket("udp4");
  await new Promise<void>((resolve) => holder.bind(0, "127.0.0.1", resolve));
  const taken = holder.address().port;
  const progress: string[] = [];
  try {
    const services = await startNodeServices(
      {
        env, client, informers, nodeName: "n1", nodeIP: "127.0.0.1", clusterCidr: "10.244.0.0/16", runtime: "containerd",
        dns: { listen: `127.0.0.1:${taken}`, httpListen: "127.0.0.1:0", clusterDomain: "cluster.local", upstreams: [] },
        proxy: null,
      },
      (line) => progress.push(line),
    );
    try {
      assert.equal(services.dns, null);
      assert.deepEqual(services.clusterDNS, [], "the kubelet is told no cluster DNS");
      assert.equal(progress.length, 1, progress.join("\n"));
      assert.match(progress[0]!, new RegExp(`^warning: cluster DNS is not running: Cannot listen on 127\\.0\\.0\\.1:${taken} .*EADDRINUSE.*--cluster-dns-listen`));
      assert.match(services.dnsWarning ?? "", /EADDRINUSE/);
      await assert.rejects(client.resource<Service>("", "v1", "services").namespace("kube-system").get("kube-dns"), /not found/);
    } finally {
      await services.stop();
    }
  } finally {
    holder.close();
    await informers.shutdown();
    client.close();
    await api.stop();
  }
});

test("the nameservers of the kubelet's resolv.conf are cluster DNS's upstreams, and an empty --resolv-conf forwards nowhere", async () => {
  const api = await startInProcessApiServer();
  const client = new RestClient(loadKubeconfig(api.kubeconfig));
  const env = { clock: nodeClock, rng: nodeRng, fs: nodeFileSystem, log: new MemoryLogger() };
  const informers = new InformerFactory(env, client);
  const upstream = await startFakeUpstream({ records: new Map([["outside.test.", [{ name: "outside.test.", type: RRType.A, class: CLASS_IN, ttl: 60, data: { address: "192.0.2.77" } }]]]) });
  const dir = mkdtempSync(join(tmpdir(), "tk8s-node-services-"));
  const resolvConf = join(dir, "resolv.conf");
  writeFileSync(resolvConf, `nameserver 127.0.0.1:${upstream.port}\n`);
  const start = (resolvConfPath: string) =>
    startNodeServices(
      {
        env, client, informers, nodeName: "n1", nodeIP: "127.0.0.1", clusterCidr: "10.244.0.0/16", runtime: "process",
        dns: { listen: "127.0.0.1:0", httpListen: "127.0.0.1:0", clusterDomain: "cluster.local", resolvConfPath },
        proxy: null,
      },
      () => undefined,
    );
  try {
    const withUpstream = await start(resolvConf);
    try {
      assert.deepEqual(withUpstream.dns!.upstreams.map((u) => `${u.host}:${u.port}`), [`127.0.0.1:${upstream.port}`]);
      assert.equal(await withUpstream.dns!.waitReady(10_000), true);
      const resolver = new dnsPromises.Resolver({ timeout: 2000, tries: 2 });
      resolver.setServers([`127.0.0.1:${withUpstream.dns!.dnsAddress.port}`]);
      assert.deepEqual(await resolver.resolve4("outside.test"), ["192.0.2.77"]);
    } finally {
      await withUpstream.stop();
    }
    const none = await start("");
    try {
      assert.deepEqual(none.dns!.upstreams, []);
    } finally {
      await none.stop();
    }
  } finally {
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
    await informers.shutdown();
    client.close();
    await api.stop();
  }
});
