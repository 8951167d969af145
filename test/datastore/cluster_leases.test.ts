/**
 * Leases on a 3-member tk8s datastore: only the leader's clock decides expiry, so a keep-alive sent to a
 * follower must reach the leader (forwarded to its peer URL, as etcd's /leases) or the lease expires while
 * its client thinks it is alive.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DatastoreCluster } from "../harness/datastore_cluster.js";
import { etcdctl } from "../harness/etcdctl.js";

const TTL_SECONDS = 3;

describe("leases on a 3-member tk8s datastore", { timeout: 90_000 }, () => {
  let cluster: DatastoreCluster;
  before(async () => {
    cluster = await DatastoreCluster.start("tk8s", { size: 3 });
  }, { timeout: 60_000 });
  after(async () => {
    await cluster?.stop();
  }, { timeout: 30_000 });

  it("keep-alives sent to a follower keep a lease alive past its TTL; without them it expires and takes its key", async () => {
    const { leader } = await cluster.waitForLeader({ timeoutMs: 10_000 });
    const follower = cluster.running().find((m) => m !== leader)!;
    const granted = await etcdctl(leader.clientUrl, ["lease", "grant", String(TTL_SECONDS)]);
    assert.equal(granted.code, 0, granted.stderr);
    const id = /lease ([0-9a-f]+) granted/.exec(granted.stdout)![1]!;
    const put = await etcdctl(leader.clientUrl, ["put", "--lease", id, "leased", "v"]);
    assert.equal(put.code, 0, put.stderr);
    // Twice the TTL, renewed through the follower only.
    const until = Date.now() + 2 * TTL_SECONDS * 1000;
    while (Date.now() < until) {
      const ka = await etcdctl(follower.clientUrl, ["lease", "keep-alive", "--once", id]);
      assert.equal(ka.code, 0, ka.stderr);
      assert.match(ka.stdout, new RegExp(`lease ${id} keepalived with TTL\\(${TTL_SECONDS}\\)`));
      await new Promise((r) => setTimeout(r, 700));
    }
    const alive = await etcdctl(follower.clientUrl, ["get", "leased", "--print-value-only"]);
    assert.equal(alive.stdout.trim(), "v", "the key outlived its TTL because the keep-alives reached the leader");
    const ttl = await etcdctl(follower.clientUrl, ["lease", "timetolive", id]);
    assert.match(ttl.stdout, /remaining\((\d+)s\)/, "time-to-live through a follower is the leader's");
    // No more keep-alives: the leader expires it and deletes the key everywhere.
    const deadline = Date.now() + (TTL_SECONDS + 5) * 1000;
    let value = "v";
    while (value !== "" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      value = (await etcdctl(follower.clientUrl, ["get", "leased", "--print-value-only"])).stdout.trim();
    }
    assert.equal(value, "", "the lease expired once its keep-alives stopped");
  });
});
