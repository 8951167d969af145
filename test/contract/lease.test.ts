// The etcd Lease contract through `etcdctl lease …` (IDs are printed in hex, and as decimal int64 in JSON).
// Expectations observed on etcd 3.4.23; the same assertions run against `tk8s datastore`.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { describe, it } from "node:test";
import type { ILeaseKeepAliveResponse } from "etcd3";
import { TEST_TIMEOUT_MS, rejectionMessage, sleep, suiteOptions, targets, uniquePrefix, useDatastore, waitFor, type ContractTarget } from "../harness/contract.js";
import {
  fromBase64,
  toBigInt,
  type LeaseGrantJson,
  type LeaseKeepAliveJson,
  type LeaseListJson,
  type LeaseTimeToLiveJson,
  type PutJson,
  type RangeJson,
} from "../harness/etcdctl.js";

const opts = { timeout: TEST_TIMEOUT_MS };
/**
 * The shortest TTL etcd grants with the default --election-timeout=1000 and --heartbeat-interval=100:
 * ceil(1.5 × election timeout) = 2 s. Shorter requests (1, 0, even -1) are rounded up to it.
 */
const LEASE_TTL_MIN_S = 2;
/** etcd's MaxLeaseTTL: a LeaseGrant asking for more fails with "too large lease TTL". */
const LEASE_TTL_MAX_S = 9_000_000_000;

interface Lease {
  readonly id: bigint;
  readonly hex: string;
  readonly ttl: number;
}

async function grant(target: ContractTarget, ttlSeconds: number): Promise<Lease> {
  const res = await target.ctlJson<LeaseGrantJson>(["lease", "grant", String(ttlSeconds)]);
  const id = toBigInt(res.ID);
  assert.ok(id > 0n, `lease grant returned ID ${id}`);
  return { id, hex: leaseHex(id), ttl: res.TTL };
}

/** etcdctl prints lease IDs as %016x: zero-padded to 16 hex digits (it accepts them unpadded too). */
function leaseHex(id: bigint): string {
  return id.toString(16).padStart(16, "0");
}

/** A lease ID no other test (or the server's own ID generator) will pick: 48 random bits. */
function randomLeaseId(): bigint {
  return BigInt(`0x${randomBytes(6).toString("hex")}`) | 1n;
}

/** The IDs LeaseLeases lists now, over the etcd3 client. */
async function listedLeases(target: ContractTarget): Promise<bigint[]> {
  return (await target.client.leaseClient.leaseLeases()).leases.map((l) => BigInt(l.ID));
}

async function exists(target: ContractTarget, key: string): Promise<boolean> {
  return (await target.ctlJson<RangeJson>(["get", key, "--keys-only"])).kvs !== undefined;
}

for (const kind of targets()) {
  describe(`${kind}: lease`, suiteOptions(kind), () => {
    const target = useDatastore(kind);

    it("lease grant returns an ID and the requested TTL; timetolive reports granted and remaining TTL", opts, async () => {
      const lease = await grant(target, 30);
      assert.equal(lease.ttl, 30);
      const text = await target.ctl(["lease", "grant", "30"]);
      assert.match(text.stdout, /^lease [0-9a-f]+ granted with TTL\(30s\)\n$/);

      const ttl = await target.ctlJson<LeaseTimeToLiveJson>(["lease", "timetolive", lease.hex]);
      assert.equal(toBigInt(ttl.id), lease.id);
      assert.equal(ttl["granted-ttl"], 30);
      assert.ok(ttl.ttl >= 28 && ttl.ttl <= 30, `remaining ttl ${ttl.ttl}`);
      assert.equal((await target.ctl(["lease", "revoke", lease.hex])).code, 0);
    });

    it(`a TTL below the minimum is raised to ${LEASE_TTL_MIN_S} s`, opts, async () => {
      const lease = await grant(target, 1);
      assert.equal(lease.ttl, LEASE_TTL_MIN_S);
      const raw = await target.client.leaseClient.leaseGrant({ TTL: 0 });
      assert.equal(raw.TTL, String(LEASE_TTL_MIN_S));
      await target.ctl(["lease", "revoke", lease.hex]);
      await target.ctl(["lease", "revoke", leaseHex(BigInt(raw.ID))]);
    });

    it("keys put with --lease carry the lease; timetolive --keys lists them; lease list includes the lease", opts, async () => {
      const p = uniquePrefix("lease/attach");
      const lease = await grant(target, 60);
      for (const name of ["b", "a"]) await target.ctlJson<PutJson>(["put", `${p}${name}`, "v", `--lease=${lease.hex}`]);
      const got = await target.ctlJson<RangeJson>(["get", p, "--prefix"]);
      assert.deepEqual((got.kvs ?? []).map((kv) => toBigInt(kv.lease)), [lease.id, lease.id]);

      const ttl = await target.ctlJson<LeaseTimeToLiveJson>(["lease", "timetolive", lease.hex, "--keys"]);
      assert.deepEqual((ttl.keys ?? []).map(fromBase64).sort(), [`${p}a`, `${p}b`]);
      const text = await target.ctl(["lease", "timetolive", lease.hex, "--keys"]);
      assert.match(text.stdout, new RegExp(`^lease ${lease.hex} granted with TTL\\(60s\\), remaining\\(\\d+s\\), attached keys\\(\\[${p}[ab] ${p}[ab]\\]\\)\\n$`));

      const list = await target.ctlJson<LeaseListJson>(["lease", "list"]);
      assert.ok((list.leases ?? []).some((l) => toBigInt(l.id) === lease.id), "lease list includes the granted lease");
      const listText = await target.ctl(["lease", "list"]);
      assert.match(listText.stdout, /^found \d+ leases\n/);
      assert.ok(listText.stdout.split("\n").includes(lease.hex));
      await target.ctl(["lease", "revoke", lease.hex]);
    });

    it("keep-alive --once resets the remaining TTL to the granted TTL", opts, async () => {
      const lease = await grant(target, 10);
      await sleep(1_100);
      const before = await target.ctlJson<LeaseTimeToLiveJson>(["lease", "timetolive", lease.hex]);
      assert.ok(before.ttl <= 8, `after 1.1 s the remaining ttl is ${before.ttl}`);
      const kept = await target.ctlJson<LeaseKeepAliveJson>(["lease", "keep-alive", "--once", lease.hex]);
      assert.equal(toBigInt(kept.ID), lease.id);
      assert.equal(kept.TTL, 10);
      const after = await target.ctlJson<LeaseTimeToLiveJson>(["lease", "timetolive", lease.hex]);
      assert.ok(after.ttl >= 9, `right after keep-alive the remaining ttl is ${after.ttl}`);
      const text = await target.ctl(["lease", "keep-alive", "--once", lease.hex]);
      assert.equal(text.stdout, `lease ${lease.hex} keepalived with TTL(10)\n`);
      await target.ctl(["lease", "revoke", lease.hex]);
    });

    it("keepaliveOnce (etcd3 client) resets the remaining TTL to the granted TTL; LeaseLeases lists the lease", opts, async () => {
      const lease = target.client.lease(10, { autoKeepAlive: false });
      const id = BigInt(await lease.grant());
      try {
        await sleep(1_100);
        const before = await target.client.leaseClient.leaseTimeToLive({ ID: id.toString() });
        assert.ok(Number(before.TTL) <= 8, `after 1.1 s the remaining ttl is ${before.TTL}`);
        const kept = await lease.keepaliveOnce();
        assert.deepEqual({ id: BigInt(kept.ID), ttl: kept.TTL }, { id, ttl: "10" });
        const after = await target.client.leaseClient.leaseTimeToLive({ ID: id.toString() });
        assert.deepEqual({ id: BigInt(after.ID), granted: after.grantedTTL }, { id, granted: "10" });
        assert.ok(Number(after.TTL) >= 9, `right after keepaliveOnce the remaining ttl is ${after.TTL}`);
        assert.ok((await listedLeases(target)).includes(id), "LeaseLeases lists the lease");
      } finally {
        await lease.revoke();
      }
      assert.ok(!(await listedLeases(target)).includes(id), "a revoked lease is no longer listed");
      assert.match(await rejectionMessage(lease.keepaliveOnce()), /is expired or revoked/);
    });

    it(`the etcd3 client's keep-alive stream keeps a ${LEASE_TTL_MIN_S} s lease and its key alive past the TTL`, opts, async () => {
      const key = `${uniquePrefix("lease/keep-alive-stream")}k`;
      const lease = target.client.lease(LEASE_TTL_MIN_S);
      const kept: ILeaseKeepAliveResponse[] = [];
      lease.on("keepaliveSucceeded", (res) => kept.push(res));
      const lost = once(lease, "lost").then(([err]) => err as Error);
      try {
        await lease.put(key).value("v").exec();
        const id = BigInt(await lease.grant());
        await sleep(LEASE_TTL_MIN_S * 1_000 + 500);
        assert.ok(await exists(target, key), "the key outlived the TTL");
        const ttl = await target.client.leaseClient.leaseTimeToLive({ ID: id.toString(), keys: true });
        assert.equal(ttl.grantedTTL, String(LEASE_TTL_MIN_S));
        assert.ok(Number(ttl.TTL) > 0, `remaining ttl ${ttl.TTL}`);
        assert.deepEqual(ttl.keys.map((k) => k.toString()), [key]);
        // The client sends a keep-alive every TTL/3; each answer carries the lease and its full TTL.
        assert.ok(kept.length >= 2, `${kept.length} keep-alives answered`);
        for (const res of kept) assert.deepEqual({ id: BigInt(res.ID), ttl: res.TTL }, { id, ttl: String(LEASE_TTL_MIN_S) });
        assert.equal(await Promise.race([lost, sleep(0).then(() => "not lost")]), "not lost");
      } finally {
        await lease.revoke();
      }
      assert.ok(!(await exists(target, key)), "revoking deleted the key");
    });

    it("LeaseGrant with an explicit ID grants that ID (even a negative one); granting it again fails with 'lease already exists'", opts, async () => {
      const client = target.client;
      for (const id of [randomLeaseId(), -randomLeaseId()]) {
        const granted = await client.leaseClient.leaseGrant({ TTL: 30, ID: id.toString() });
        assert.deepEqual({ id: granted.ID, ttl: granted.TTL, error: granted.error }, { id: id.toString(), ttl: "30", error: "" });
        assert.ok((await listedLeases(target)).includes(id), `LeaseLeases lists ${id}`);
        for (const ttl of [30, 60]) {
          assert.equal(await rejectionMessage(client.leaseClient.leaseGrant({ TTL: ttl, ID: id.toString() })), "9 FAILED_PRECONDITION: etcdserver: lease already exists");
        }
        const ttl = await client.leaseClient.leaseTimeToLive({ ID: id.toString() });
        assert.equal(ttl.grantedTTL, "30", "the refused grant left the lease as it was");
        await client.leaseClient.leaseRevoke({ ID: id.toString() });
        // Once revoked, the ID is free again.
        const again = await client.leaseClient.leaseGrant({ TTL: 30, ID: id.toString() });
        assert.equal(again.ID, id.toString());
        await client.leaseClient.leaseRevoke({ ID: id.toString() });
      }
    });

    it(`a TTL above ${LEASE_TTL_MAX_S} s fails with 'too large lease TTL'; ${LEASE_TTL_MAX_S} s itself is granted`, opts, async () => {
      const client = target.client;
      assert.equal(await rejectionMessage(client.leaseClient.leaseGrant({ TTL: String(LEASE_TTL_MAX_S + 1) })), "11 OUT_OF_RANGE: etcdserver: too large lease TTL");
      assert.equal(await rejectionMessage(client.leaseClient.leaseGrant({ TTL: "9223372036854775807" })), "11 OUT_OF_RANGE: etcdserver: too large lease TTL");
      const max = await client.leaseClient.leaseGrant({ TTL: String(LEASE_TTL_MAX_S) });
      assert.equal(max.TTL, String(LEASE_TTL_MAX_S));
      const ttl = await client.leaseClient.leaseTimeToLive({ ID: max.ID });
      assert.equal(ttl.grantedTTL, String(LEASE_TTL_MAX_S));
      await client.leaseClient.leaseRevoke({ ID: max.ID });
    });

    it("revoke deletes every attached key in one revision; the lease is then gone", opts, async () => {
      const p = uniquePrefix("lease/revoke");
      const lease = await grant(target, 60);
      await target.ctlJson<PutJson>(["put", `${p}a`, "1", `--lease=${lease.hex}`]);
      const before = (await target.ctlJson<PutJson>(["put", `${p}b`, "2", `--lease=${lease.hex}`])).header.revision!;
      await target.ctlJson<PutJson>(["put", `${p}unleased`, "3"]);
      const revoked = await target.ctl(["lease", "revoke", lease.hex]);
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.equal(revoked.stdout, `lease ${lease.hex} revoked\n`);
      const got = await target.ctlJson<RangeJson>(["get", p, "--prefix"]);
      assert.deepEqual((got.kvs ?? []).map((kv) => fromBase64(kv.key)), [`${p}unleased`]);
      assert.equal(got.header.revision, before + 2, "the unleased put, then one revision for both deletes");

      const again = await target.ctl(["lease", "revoke", lease.hex]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /^Error: failed to revoke lease \(etcdserver: requested lease not found\)$/m);
      const ttl = await target.ctlJson<LeaseTimeToLiveJson>(["lease", "timetolive", lease.hex]);
      assert.deepEqual({ ttl: ttl.ttl, granted: ttl["granted-ttl"] }, { ttl: -1, granted: 0 }, "timetolive of a missing lease is not an error");
      assert.equal((await target.ctl(["lease", "timetolive", lease.hex])).stdout, `lease ${lease.hex} already expired\n`);
      const keepAlive = await target.ctl(["lease", "keep-alive", "--once", lease.hex]);
      assert.notEqual(keepAlive.code, 0);
      assert.match(keepAlive.stderr, /etcdserver: requested lease not found/);
      const putOnRevoked = await target.ctl(["put", `${p}late`, "v", `--lease=${lease.hex}`]);
      assert.equal(putOnRevoked.code, 1);
      assert.match(putOnRevoked.stderr, /^Error: etcdserver: requested lease not found$/m);
      assert.match(
        await rejectionMessage(target.client.kv.put({ key: Buffer.from(`${p}late`), value: Buffer.from("v"), lease: lease.id.toString() })),
        /5 NOT_FOUND: etcdserver: requested lease not found/,
      );
    });

    it(`keys attached to a lease are deleted when it expires (TTL ${LEASE_TTL_MIN_S} s)`, opts, async () => {
      const p = uniquePrefix("lease/expiry");
      const grantedAt = Date.now();
      const lease = await grant(target, LEASE_TTL_MIN_S);
      await target.ctlJson<PutJson>(["put", `${p}a`, "1", `--lease=${lease.hex}`]);
      await target.ctlJson<PutJson>(["put", `${p}b`, "2", `--lease=${lease.hex}`]);
      await sleep(Math.max(0, grantedAt + 1_000 - Date.now()));
      assert.ok(await exists(target, `${p}a`), "the key is still there halfway through the TTL");
      await waitFor("the leased keys to be deleted", async () => ((await exists(target, `${p}a`)) || (await exists(target, `${p}b`)) ? undefined : true), {
        timeoutMs: LEASE_TTL_MIN_S * 1_000 + 5_000,
      });
      const elapsedMs = Date.now() - grantedAt;
      assert.ok(elapsedMs >= LEASE_TTL_MIN_S * 1_000 - 500, `keys vanished after ${elapsedMs} ms, before the TTL ran out`);
      const ttl = await target.ctlJson<LeaseTimeToLiveJson>(["lease", "timetolive", lease.hex, "--keys"]);
      assert.deepEqual({ ttl: ttl.ttl, granted: ttl["granted-ttl"], keys: ttl.keys }, { ttl: -1, granted: 0, keys: null });
    });
  });
}
