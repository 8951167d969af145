import assert from "node:assert/strict";
import { test } from "node:test";
import { DatastoreCluster, LoopbackNetwork, parseMemberAddOutput } from "./datastore_cluster.js";

test("member add's text output yields the cluster to start the new member with, the new member first as etcdctl prints it", () => {
  // etcdctl 3.4.23's output for `member add m4 --peer-urls=http://127.0.0.1:4004` on a 3-member cluster.
  const stdout = [
    "Member 8211f1d0f64f3269 added to cluster ef37ad9dc622a7c4",
    "",
    'ETCD_NAME="m4"',
    'ETCD_INITIAL_CLUSTER="m4=http://127.0.0.1:4004,m1=http://127.0.0.1:4001,m2=http://127.0.0.1:4002,m3=http://127.0.0.1:4003"',
    'ETCD_INITIAL_ADVERTISE_PEER_URLS="http://127.0.0.1:4004"',
    'ETCD_INITIAL_CLUSTER_STATE="existing"',
    "",
  ].join("\n");
  assert.deepEqual(parseMemberAddOutput(stdout), [
    { name: "m4", peerUrl: "http://127.0.0.1:4004" },
    { name: "m1", peerUrl: "http://127.0.0.1:4001" },
    { name: "m2", peerUrl: "http://127.0.0.1:4002" },
    { name: "m3", peerUrl: "http://127.0.0.1:4003" },
  ]);
  assert.throws(() => parseMemberAddOutput("Error: etcdserver: unhealthy cluster\n"), /no ETCD_INITIAL_CLUSTER/);
});

test("the loopback network gives every member its own client and peer ports", async () => {
  const network = new LoopbackNetwork();
  const addresses = await Promise.all(["m1", "m2", "m3"].map((name) => network.allocate(name)));
  const urls = addresses.flatMap((a) => [a.clientUrl, a.peerUrl]);
  assert.equal(new Set(urls).size, 6);
  for (const a of addresses) {
    assert.match(a.clientUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(a.wrapper, []);
  }
});

test("a cluster size outside 1..7 is refused before anything starts", async () => {
  for (const size of [0, 8, 2.5, Number.NaN]) {
    await assert.rejects(DatastoreCluster.start("tk8s", { size }), RangeError, `size ${size}`);
  }
});
