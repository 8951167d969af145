// The etcd KV contract through real etcdctl and the etcd3 client. Every expectation here was observed on
// etcd 3.4.23; the same assertions run against `tk8s datastore`. Revisions are compared relative to each
// other (never absolute, never across implementations).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TEST_TIMEOUT_MS, rejectionMessage, suiteOptions, targets, uniquePrefix, useDatastore, type ContractTarget } from "../harness/contract.js";
import { fromBase64, jsonText, toBigInt, type DeleteJson, type KeyValueJson, type LeaseGrantJson, type PutJson, type RangeJson } from "../harness/etcdctl.js";
import { rawEtcdClient, type RawEtcdClient, type RawHeader, type RawKeyValue, type RawRangeResponse } from "../harness/grpc_client.js";

const opts = { timeout: TEST_TIMEOUT_MS };

/** The header revision of a successful `put -w json`. */
async function put(target: ContractTarget, key: string, value: string, extra: string[] = []): Promise<number> {
  const res = await target.ctlJson<PutJson>(["put", key, value, ...extra]);
  assert.ok(res.header.revision !== undefined && res.header.revision > 0, `put ${key} returned no revision`);
  return res.header.revision;
}

async function get(target: ContractTarget, args: string[]): Promise<RangeJson> {
  return target.ctlJson<RangeJson>(["get", ...args]);
}

function keysOf(range: RangeJson): string[] {
  return (range.kvs ?? []).map((kv) => fromBase64(kv.key));
}

/** A bare gRPC client for `fn` (fields etcdctl cannot send: revision filters, raw sort enums, binary keys), closed afterwards. */
async function withRaw<T>(target: ContractTarget, fn: (raw: RawEtcdClient) => Promise<T>): Promise<T> {
  const raw = rawEtcdClient(target.endpoint);
  try {
    return await fn(raw);
  } finally {
    raw.close();
  }
}

/** A raw Range's kvs as [key without `prefix`, value, create_revision, mod_revision, version], plus count and more. */
function rangeShape(res: RawRangeResponse, prefix: string): { kvs: Array<[string, string, number, number, number]>; count: number; more: boolean } {
  return {
    kvs: res.kvs.map((kv) => [kv.key.toString().slice(prefix.length), kv.value.toString(), Number(kv.create_revision), Number(kv.mod_revision), Number(kv.version)]),
    count: Number(res.count),
    more: res.more,
  };
}

function only(range: RangeJson): KeyValueJson {
  assert.equal(range.kvs?.length, 1, `expected exactly one kv, got ${jsonText(range.kvs)}`);
  return range.kvs![0]!;
}

for (const kind of targets()) {
  describe(`${kind}: kv`, suiteOptions(kind), () => {
    const target = useDatastore(kind);

    it("put then get returns the value; a new key has create_revision = mod_revision = the put's revision and version 1", opts, async () => {
      const key = `${uniquePrefix("kv/put-get")}k`;
      const simple = await target.ctl(["put", key, "v1"]);
      assert.equal(simple.code, 0, simple.stderr);
      assert.equal(simple.stdout, "OK\n");
      const got = await get(target, [key]);
      const kv = only(got);
      assert.equal(fromBase64(kv.key), key);
      assert.equal(fromBase64(kv.value), "v1");
      assert.equal(kv.version, 1);
      assert.equal(kv.create_revision, kv.mod_revision);
      assert.equal(kv.mod_revision, got.header.revision, "nothing else was written since the put");
      assert.equal(got.count, 1);
      assert.equal(got.more, undefined, "etcdctl omits more=false");
      assert.equal(kv.lease, undefined, "etcdctl omits lease 0");

      const text = await target.ctl(["get", key]);
      assert.equal(text.code, 0, text.stderr);
      assert.equal(text.stdout, `${key}\nv1\n`);
    });

    it("a get of a missing key succeeds with no kvs and no count", opts, async () => {
      const key = `${uniquePrefix("kv/missing")}nope`;
      const got = await get(target, [key]);
      assert.equal(got.kvs, undefined);
      assert.equal(got.count, undefined);
      assert.ok((got.header.revision ?? 0) > 0, "the header still carries the current revision");
      const text = await target.ctl(["get", key]);
      assert.equal(text.code, 0, text.stderr);
      assert.equal(text.stdout, "");
    });

    it("each put advances the revision by one; mod_revision and version follow, create_revision stays", opts, async () => {
      const key = `${uniquePrefix("kv/put-put")}k`;
      const rev1 = await put(target, key, "a");
      const rev2 = await put(target, key, "b");
      assert.equal(rev2, rev1 + 1);
      const kv = only(await get(target, [key]));
      assert.deepEqual(
        { create: kv.create_revision, mod: kv.mod_revision, version: kv.version, value: fromBase64(kv.value) },
        { create: rev1, mod: rev2, version: 2, value: "b" },
      );
    });

    it("put, put, delete, put starts a new generation: version restarts at 1 and create_revision moves", opts, async () => {
      const key = `${uniquePrefix("kv/generation")}k`;
      const rev1 = await put(target, key, "g1-a");
      const rev2 = await put(target, key, "g1-b");
      const del = await target.ctlJson<DeleteJson>(["del", key]);
      assert.equal(del.deleted, 1);
      const rev3 = del.header.revision!;
      assert.equal(rev3, rev2 + 1, "a delete is a revision of its own");
      assert.equal((await get(target, [key])).kvs, undefined, "deleted keys are not returned");
      const rev4 = await put(target, key, "g2-a");
      assert.equal(rev4, rev3 + 1);

      const now = only(await get(target, [key]));
      assert.deepEqual({ create: now.create_revision, mod: now.mod_revision, version: now.version }, { create: rev4, mod: rev4, version: 1 });

      // History: each revision reads as it was then.
      const atRev1 = only(await get(target, [key, `--rev=${rev1}`]));
      assert.deepEqual({ create: atRev1.create_revision, mod: atRev1.mod_revision, version: atRev1.version, value: fromBase64(atRev1.value) }, { create: rev1, mod: rev1, version: 1, value: "g1-a" });
      const atRev2 = only(await get(target, [key, `--rev=${rev2}`]));
      assert.deepEqual({ create: atRev2.create_revision, mod: atRev2.mod_revision, version: atRev2.version, value: fromBase64(atRev2.value) }, { create: rev1, mod: rev2, version: 2, value: "g1-b" });
      const atRev3 = await get(target, [key, `--rev=${rev3}`]);
      assert.equal(atRev3.kvs, undefined, "at the tombstone's revision the key does not exist");
      assert.equal(atRev3.header.revision, rev4, "the header of a historical read is the current revision, not --rev");
    });

    it("get --prefix returns only keys under the prefix, in key order", opts, async () => {
      const prefix = uniquePrefix("kv/prefix");
      for (const name of ["c", "a", "b"]) await put(target, `${prefix}${name}`, name);
      // Shares the prefix's characters but is not under "<prefix>" (no trailing slash).
      await put(target, `${prefix.slice(0, -1)}-sibling`, "x");
      const got = await get(target, [prefix, "--prefix"]);
      assert.deepEqual(keysOf(got), [`${prefix}a`, `${prefix}b`, `${prefix}c`]);
      assert.equal(got.count, 3);

      const text = await target.ctl(["get", prefix, "--prefix"]);
      assert.equal(text.stdout, `${prefix}a\na\n${prefix}b\nb\n${prefix}c\nc\n`);
    });

    it("get KEY RANGE_END is the half-open interval [KEY, RANGE_END)", opts, async () => {
      const prefix = uniquePrefix("kv/interval");
      for (const name of ["a", "b", "c", "d"]) await put(target, `${prefix}${name}`, name);
      const got = await get(target, [`${prefix}b`, `${prefix}d`, "--keys-only"]);
      assert.deepEqual(keysOf(got), [`${prefix}b`, `${prefix}c`]);
    });

    it("get --from-key returns every key >= KEY in key order", opts, async () => {
      const prefix = uniquePrefix("kv/from-key");
      for (const name of ["a", "b", "c", "d"]) await put(target, `${prefix}${name}`, name);
      // Other tests' keys sort after ours, so look at the first two and at what is not there.
      const got = await get(target, [`${prefix}c`, "--from-key", "--keys-only", "--limit=2"]);
      assert.deepEqual(keysOf(got), [`${prefix}c`, `${prefix}d`]);
      assert.ok((got.count ?? 0) >= 2, "count covers the whole open range");
      const all = keysOf(await get(target, [`${prefix}c`, "--from-key", "--keys-only"]));
      assert.ok(!all.includes(`${prefix}a`) && !all.includes(`${prefix}b`), "keys below KEY are excluded");
      assert.ok(all.every((key, i) => i === 0 || all[i - 1]! < key), "in ascending key order");
    });

    it("a limited range returns the first N keys with more=true and count = the size of the whole range", opts, async () => {
      const prefix = uniquePrefix("kv/limit");
      for (const name of ["a", "b", "c", "d", "e"]) await put(target, `${prefix}${name}`, name);
      const got = await get(target, [prefix, "--prefix", "--limit=2"]);
      assert.deepEqual(keysOf(got), [`${prefix}a`, `${prefix}b`]);
      assert.equal(got.more, true);
      assert.equal(got.count, 5);

      const exact = await get(target, [prefix, "--prefix", "--limit=5"]);
      assert.equal(exact.kvs?.length, 5);
      assert.equal(exact.more, undefined, "more is false when the limit equals the range size");
      assert.equal(exact.count, 5);
    });

    it("sort order and target: KEY, CREATE, MODIFY, VERSION and VALUE, ascending and descending", opts, async () => {
      const prefix = uniquePrefix("kv/sort");
      // Final state: c {create 1st, mod 1st, version 1, "x"}, a {create 2nd, mod last, version 2, "z"},
      // b {create 3rd, mod 5th, version 3, "y"}: every target orders the three keys differently.
      await put(target, `${prefix}c`, "x");
      await put(target, `${prefix}a`, "z");
      await put(target, `${prefix}b`, "y");
      await put(target, `${prefix}b`, "y");
      await put(target, `${prefix}b`, "y");
      await put(target, `${prefix}a`, "z");
      const cases = [
        { flags: [], want: "abc" },
        { flags: ["--order=DESCEND"], want: "cba" },
        { flags: ["--sort-by=KEY", "--order=DESCEND"], want: "cba" },
        { flags: ["--sort-by=CREATE"], want: "cab" },
        { flags: ["--sort-by=CREATE", "--order=DESCEND"], want: "bac" },
        { flags: ["--sort-by=MODIFY"], want: "cba" },
        { flags: ["--sort-by=MODIFY", "--order=DESCEND"], want: "abc" },
        { flags: ["--sort-by=VERSION"], want: "cab" },
        { flags: ["--sort-by=VERSION", "--order=DESCEND"], want: "bac" },
        { flags: ["--sort-by=VALUE"], want: "cba" },
        { flags: ["--sort-by=VALUE", "--order=DESCEND"], want: "abc" },
      ];
      for (const c of cases) {
        const got = keysOf(await get(target, [prefix, "--prefix", "--keys-only", ...c.flags])).map((key) => key.slice(prefix.length)).join("");
        assert.equal(got, c.want, `get --prefix ${c.flags.join(" ")}`);
      }
      // Sorting happens before the limit: the newest modification first, then cut to one.
      const newest = await get(target, [prefix, "--prefix", "--keys-only", "--sort-by=MODIFY", "--order=DESCEND", "--limit=1"]);
      assert.deepEqual(keysOf(newest), [`${prefix}a`]);
      assert.equal(newest.more, true);
      assert.equal(newest.count, 3);
    });

    it("--keys-only returns keys and revisions without values", opts, async () => {
      const prefix = uniquePrefix("kv/keys-only");
      await put(target, `${prefix}a`, "1");
      await put(target, `${prefix}b`, "2");
      const got = await get(target, [prefix, "--prefix", "--keys-only"]);
      assert.deepEqual(keysOf(got), [`${prefix}a`, `${prefix}b`]);
      for (const kv of got.kvs ?? []) {
        assert.equal(kv.value, undefined);
        assert.equal(kv.version, 1);
        assert.ok((kv.mod_revision ?? 0) > 0);
      }
      assert.equal((await target.ctl(["get", prefix, "--prefix", "--keys-only"])).stdout, `${prefix}a\n\n${prefix}b\n\n`);
      assert.deepEqual(await target.client.getAll().prefix(prefix).keys(), [`${prefix}a`, `${prefix}b`]);
    });

    it("count_only returns the count and no kvs (etcd3 client: etcdctl 3.4 has no --count-only)", opts, async () => {
      const prefix = uniquePrefix("kv/count-only");
      for (const name of ["a", "b", "c"]) await put(target, `${prefix}${name}`, name);
      assert.equal(await target.client.getAll().prefix(prefix).count(), 3);
      const raw = await target.client.kv.range({ key: Buffer.from(prefix), range_end: Buffer.from(prefixEnd(prefix)), count_only: true });
      assert.equal(raw.kvs.length, 0);
      assert.equal(raw.count, "3");
      assert.equal(raw.more, false);
    });

    it("a serializable get returns the latest write on a single member", opts, async () => {
      const key = `${uniquePrefix("kv/serializable")}k`;
      const rev = await put(target, key, "s1");
      const got = await get(target, [key, "--consistency=s"]);
      assert.equal(fromBase64(only(got).value), "s1");
      assert.equal(only(got).mod_revision, rev);
      assert.equal(await target.client.get(key).serializable(true).string(), "s1");
    });

    it("put --prev-kv returns the overwritten kv, and nothing for a new key", opts, async () => {
      const key = `${uniquePrefix("kv/prev-kv")}k`;
      const first = await target.ctlJson<PutJson>(["put", key, "old", "--prev-kv"]);
      assert.equal(first.prev_kv, undefined);
      const second = await target.ctlJson<PutJson>(["put", key, "new", "--prev-kv"]);
      assert.ok(second.prev_kv !== undefined);
      assert.deepEqual(
        { key: fromBase64(second.prev_kv.key), value: fromBase64(second.prev_kv.value), version: second.prev_kv.version, mod: second.prev_kv.mod_revision },
        { key, value: "old", version: 1, mod: first.header.revision },
      );
      const text = await target.ctl(["put", key, "newer", "--prev-kv"]);
      assert.equal(text.stdout, `OK\n${key}\nnew\n`);
    });

    it("put --ignore-value keeps the value but bumps mod_revision and version; on a missing key it fails with 'key not found'", opts, async () => {
      const key = `${uniquePrefix("kv/ignore-value")}k`;
      const rev1 = await put(target, key, "kept");
      const rev2 = (await target.ctlJson<PutJson>(["put", key, "--ignore-value"])).header.revision;
      assert.equal(rev2, rev1 + 1);
      const kv = only(await get(target, [key]));
      assert.deepEqual({ value: fromBase64(kv.value), mod: kv.mod_revision, version: kv.version }, { value: "kept", mod: rev2, version: 2 });

      const missing = await target.ctl(["put", `${key}-missing`, "--ignore-value"]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /^Error: etcdserver: key not found$/m);
      // With ignore_value set, sending a value is itself an error (etcdctl cannot send both; the client can).
      const both = await rejectionMessage(target.client.kv.put({ key: Buffer.from(key), value: Buffer.from("x"), ignore_value: true }));
      assert.equal(both, "3 INVALID_ARGUMENT: etcdserver: value is provided");
      const none = await rejectionMessage(target.client.kv.put({ key: Buffer.from(`${key}-missing`), ignore_value: true }));
      assert.equal(none, "3 INVALID_ARGUMENT: etcdserver: key not found");
    });

    it("put --ignore-lease keeps the key's lease; on a missing key it fails with 'key not found'", opts, async () => {
      const key = `${uniquePrefix("kv/ignore-lease")}k`;
      const lease = await target.ctlJson<LeaseGrantJson>(["lease", "grant", "600"]);
      const leaseHex = toBigInt(lease.ID).toString(16);
      await put(target, key, "v1", [`--lease=${leaseHex}`]);
      await put(target, key, "v2", ["--ignore-lease"]);
      const kv = only(await get(target, [key]));
      assert.equal(fromBase64(kv.value), "v2");
      assert.equal(toBigInt(kv.lease), toBigInt(lease.ID));
      // A plain put (no --lease, no --ignore-lease) detaches the key from its lease.
      await put(target, key, "v3");
      assert.equal(only(await get(target, [key])).lease, undefined);

      const missing = await target.ctl(["put", `${key}-missing`, "v", "--ignore-lease"]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /^Error: etcdserver: key not found$/m);
      const both = await rejectionMessage(target.client.kv.put({ key: Buffer.from(key), value: Buffer.from("x"), ignore_lease: true, lease: toBigInt(lease.ID).toString() }));
      assert.equal(both, "3 INVALID_ARGUMENT: etcdserver: lease is provided");
      assert.equal((await target.ctl(["lease", "revoke", leaseHex])).code, 0);
    });

    it("del returns the deleted count, --prev-kv the deleted kvs, --prefix deletes the whole prefix", opts, async () => {
      const prefix = uniquePrefix("kv/del");
      for (const name of ["a", "b", "c", "d"]) await put(target, `${prefix}${name}`, `v-${name}`);

      const one = await target.ctlJson<DeleteJson>(["del", `${prefix}a`, "--prev-kv"]);
      assert.equal(one.deleted, 1);
      assert.deepEqual((one.prev_kvs ?? []).map((kv) => [fromBase64(kv.key), fromBase64(kv.value)]), [[`${prefix}a`, "v-a"]]);

      const text = await target.ctl(["del", `${prefix}b`, "--prev-kv"]);
      assert.equal(text.stdout, `1\n${prefix}b\nv-b\n`);

      const none = await target.ctlJson<DeleteJson>(["del", `${prefix}missing`]);
      assert.equal(none.deleted, undefined, "etcdctl omits deleted=0");
      assert.equal((await target.ctl(["del", `${prefix}missing`])).stdout, "0\n");
      const before = none.header.revision!;

      const rest = await target.ctlJson<DeleteJson>(["del", prefix, "--prefix"]);
      assert.equal(rest.deleted, 2);
      assert.equal(rest.header.revision, before + 1, "a delete of a missing key does not advance the revision; a multi-key delete advances it once");
      assert.equal((await get(target, [prefix, "--prefix"])).kvs, undefined);
    });

    it("min/max_mod_revision and min/max_create_revision filter the kvs, while count stays the size of the unfiltered range", opts, async () => {
      const p = uniquePrefix("kv/revision-filters");
      await withRaw(target, async (raw) => {
        // a: created r, modified r+3; b: created and modified r+1; c: created r+2, modified r+4; d: created r+5.
        const r = (await raw.put(`${p}a`, "a1")).revision;
        await raw.put(`${p}b`, "b1");
        await raw.put(`${p}c`, "c1");
        await raw.put(`${p}a`, "a2");
        await raw.put(`${p}c`, "c2");
        await raw.put(`${p}d`, "d1");
        const range = async (fields: Record<string, unknown>) =>
          rangeShape(await raw.unary<RawRangeResponse>("KV", "Range", { key: Buffer.from(p), range_end: Buffer.from(prefixEnd(p)), ...fields }), p);
        const a = ["a", "a2", r, r + 3, 2] as const;
        const b = ["b", "b1", r + 1, r + 1, 1] as const;
        const c = ["c", "c2", r + 2, r + 4, 2] as const;
        const d = ["d", "d1", r + 5, r + 5, 1] as const;
        const cases = [
          { fields: {}, want: { kvs: [a, b, c, d], count: 4, more: false } },
          { fields: { min_mod_revision: String(r + 3) }, want: { kvs: [a, c, d], count: 4, more: false } },
          { fields: { max_mod_revision: String(r + 3) }, want: { kvs: [a, b], count: 4, more: false } },
          { fields: { min_mod_revision: String(r + 2), max_mod_revision: String(r + 4) }, want: { kvs: [a, c], count: 4, more: false } },
          { fields: { min_create_revision: String(r + 1) }, want: { kvs: [b, c, d], count: 4, more: false } },
          { fields: { max_create_revision: String(r + 1) }, want: { kvs: [a, b], count: 4, more: false } },
          { fields: { min_create_revision: String(r + 1), max_mod_revision: String(r + 4) }, want: { kvs: [b, c], count: 4, more: false } },
          { fields: { min_mod_revision: String(r + 100) }, want: { kvs: [], count: 4, more: false } },
          // A negative bound is no bound.
          { fields: { min_mod_revision: "-1" }, want: { kvs: [a, b, c, d], count: 4, more: false } },
          // The limit applies after the filter; count_only counts without it.
          { fields: { min_mod_revision: String(r + 3), limit: "1" }, want: { kvs: [a], count: 4, more: true } },
          { fields: { min_mod_revision: String(r + 3), limit: "3" }, want: { kvs: [a, c, d], count: 4, more: false } },
          { fields: { min_mod_revision: String(r + 3), count_only: true }, want: { kvs: [], count: 4, more: false } },
          // At an older revision both the kvs and the count are as of then: only a, b and c existed at r+3.
          { fields: { min_mod_revision: String(r + 3), revision: String(r + 3) }, want: { kvs: [["a", "a2", r, r + 3, 2] as const], count: 3, more: false } },
        ];
        for (const tc of cases) assert.deepEqual(await range(tc.fields), tc.want, `Range ${JSON.stringify(tc.fields)}`);
        const keysOnly = await raw.unary<RawRangeResponse>("KV", "Range", { key: Buffer.from(p), range_end: Buffer.from(prefixEnd(p)), max_create_revision: String(r + 1), keys_only: true });
        assert.deepEqual(rangeShape(keysOnly, p), { kvs: [["a", "", r, r + 3, 2], ["b", "", r + 1, r + 1, 1]], count: 4, more: false });
      });
    });

    it("a Range with a sort_order outside the enum (3, 7, -1) is not rejected by etcd 3.4: the kvs come back unsorted, in key order", opts, async () => {
      const p = uniquePrefix("kv/bad-sort-order");
      // (An unknown sort_target is not tested: etcd 3.4.23 dereferences a nil sorter and crashes on it.)
      await withRaw(target, async (raw) => {
        await raw.put(`${p}b`, "1");
        await raw.put(`${p}a`, "3");
        await raw.put(`${p}c`, "2");
        for (const sortOrder of [3, 7, -1]) {
          const res = await raw
            .unary<RawRangeResponse>("KV", "Range", { key: Buffer.from(p), range_end: Buffer.from(prefixEnd(p)), sort_order: sortOrder, sort_target: 4 })
            .catch((err: Error) => assert.fail(`Range with sort_order ${sortOrder} failed: ${err.message}`));
          assert.deepEqual(rangeShape(res, p).kvs.map((kv) => kv[0]), ["a", "b", "c"], `sort_order ${sortOrder} with sort_target VALUE`);
        }
      });
    });

    it("DeleteRange from a key (range_end is the single byte 0x00) deletes every key >= key in one revision and returns them in key order", opts, async () => {
      // "~" sorts after every other key this file writes ("kv/…"), so the open range holds only this test's keys.
      const p = uniquePrefix("~kv/delete-from-key");
      const sibling = `${p.slice(0, -1)}0`;
      await withRaw(target, async (raw) => {
        for (const key of [`${p}a`, `${p}b`, `${p}c`, sibling]) await raw.put(key, key.slice(-1));
        const fromKey = { key: Buffer.from(`${p}b`), range_end: Buffer.from([0]) };
        const before = await raw.unary<RawRangeResponse>("KV", "Range", { ...fromKey, count_only: true });
        assert.equal(before.count, "3");
        const del = await raw.unary<{ header: RawHeader; deleted: string; prev_kvs: RawKeyValue[] }>("KV", "DeleteRange", { ...fromKey, prev_kv: true });
        assert.equal(del.deleted, "3");
        assert.deepEqual(del.prev_kvs.map((kv) => kv.key.toString()), [`${p}b`, `${p}c`, sibling]);
        assert.equal(Number(del.header.revision), Number(before.header.revision) + 1, "one revision for the whole delete");
        const left = await raw.unary<RawRangeResponse>("KV", "Range", { key: Buffer.from(p), range_end: Buffer.from([0]), keys_only: true });
        assert.deepEqual(left.kvs.map((kv) => kv.key.toString()), [`${p}a`]);
      });
    });

    it("a put with a zero-length value stores an empty value at version 1", opts, async () => {
      const key = `${uniquePrefix("kv/empty-value")}k`;
      await withRaw(target, async (raw) => {
        const put = await raw.unary<{ header: RawHeader }>("KV", "Put", { key: Buffer.from(key), value: Buffer.alloc(0) });
        const rev = Number(put.header.revision);
        const got = await raw.unary<RawRangeResponse>("KV", "Range", { key: Buffer.from(key) });
        assert.deepEqual(rangeShape(got, key), { kvs: [["", "", rev, rev, 1]], count: 1, more: false });
        const counted = await raw.unary<RawRangeResponse>("KV", "Range", { key: Buffer.from(key), count_only: true });
        assert.equal(counted.count, "1", "an empty value is still a key");
      });
      assert.equal((await target.ctl(["get", key])).stdout, `${key}\n\n`);
      assert.equal(only(await get(target, [key])).value, undefined, "etcdctl's JSON omits the empty value");
    });

    it("keys with 0x00 and 0xff bytes are stored exactly and sort bytewise, ascending and descending", opts, async () => {
      const p = uniquePrefix("kv/binary-keys");
      const key = (...bytes: number[]) => Buffer.concat([Buffer.from(p), Buffer.from(bytes)]);
      // Bytewise (unsigned) order: a proper prefix first, 0x00 lowest, 0x7f below 0x80, 0xff highest.
      const sorted = [key(0x00), key(0x00, 0x00), key(0x61), key(0x61, 0x00), key(0x61, 0xff), key(0x7f), key(0x80), key(0xff)];
      await withRaw(target, async (raw) => {
        for (const i of [7, 3, 0, 5, 2, 6, 1, 4]) await raw.unary("KV", "Put", { key: sorted[i], value: Buffer.from([i]) });
        const hex = (kvs: RawKeyValue[]) => kvs.map((kv) => kv.key.subarray(p.length).toString("hex"));
        const want = sorted.map((k) => k.subarray(p.length).toString("hex"));
        const asc = await raw.unary<RawRangeResponse>("KV", "Range", { key: Buffer.from(p), range_end: Buffer.from(prefixEnd(p)) });
        assert.deepEqual(hex(asc.kvs), want);
        assert.deepEqual(asc.kvs.map((kv) => kv.value[0]), [0, 1, 2, 3, 4, 5, 6, 7], "each value belongs to its key");
        const desc = await raw.unary<RawRangeResponse>("KV", "Range", { key: Buffer.from(p), range_end: Buffer.from(prefixEnd(p)), sort_order: 2 });
        assert.deepEqual(hex(desc.kvs), [...want].reverse());

        // Exact lookups do not confuse a key with its 0x00-extended neighbour.
        const exact = await raw.unary<RawRangeResponse>("KV", "Range", { key: key(0x61, 0x00) });
        assert.deepEqual(hex(exact.kvs), ["6100"]);
        const between = await raw.unary<RawRangeResponse>("KV", "Range", { key: key(0x61, 0x00), range_end: key(0x61, 0xff) });
        assert.deepEqual(hex(between.kvs), ["6100"], "[a\\x00, a\\xff) holds only a\\x00");
        const fromFf = await raw.unary<RawRangeResponse>("KV", "Range", { key: key(0xff), range_end: Buffer.from(prefixEnd(p)) });
        assert.deepEqual(hex(fromFf.kvs), ["ff"]);
      });
    });

    it("compaction: reads below the compacted revision fail, at it succeed; future revisions fail", opts, async () => {
      const key = `${uniquePrefix("kv/compact")}k`;
      const rev1 = await put(target, key, "1");
      const rev2 = await put(target, key, "2");
      const compact = await target.ctl(["compact", String(rev2)]);
      assert.equal(compact.code, 0, compact.stderr);
      assert.equal(compact.stdout, `compacted revision ${rev2}\n`);

      const below = await target.ctl(["get", key, `--rev=${rev1}`]);
      assert.equal(below.code, 1);
      assert.match(below.stderr, /^Error: etcdserver: mvcc: required revision has been compacted$/m);
      assert.equal(fromBase64(only(await get(target, [key, `--rev=${rev2}`])).value), "2", "the compacted revision itself stays readable");

      const current = (await get(target, [key])).header.revision!;
      const future = await target.ctl(["get", key, `--rev=${current + 10}`]);
      assert.equal(future.code, 1);
      assert.match(future.stderr, /^Error: etcdserver: mvcc: required revision is a future revision$/m);

      const again = await target.ctl(["compact", String(rev2)]);
      assert.equal(again.code, 1, "compacting to the same revision again is an error");
      assert.match(again.stderr, /^Error: etcdserver: mvcc: required revision has been compacted$/m);
      const ahead = await target.ctl(["compact", String(current + 10)]);
      assert.equal(ahead.code, 1);
      assert.match(ahead.stderr, /^Error: etcdserver: mvcc: required revision is a future revision$/m);

      assert.equal(await rejectionMessage(target.client.get(key).revision(rev1).string()), "11 OUT_OF_RANGE: etcdserver: mvcc: required revision has been compacted");
      assert.equal(await rejectionMessage(target.client.get(key).revision(current + 10).string()), "11 OUT_OF_RANGE: etcdserver: mvcc: required revision is a future revision");
    });
  });
}

/** The range_end that makes [prefix, end) cover exactly the keys starting with prefix (ASCII prefixes). */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
