// The etcd Txn contract: `etcdctl txn` reads "compares, blank line, success ops, blank line, failure ops"
// from stdin. Expectations observed on etcd 3.4.23; the same assertions run against `tk8s datastore`.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TEST_TIMEOUT_MS, rejectionMessage, suiteOptions, targets, uniquePrefix, useDatastore, type ContractTarget } from "../harness/contract.js";
import { fromBase64, toBigInt, type LeaseGrantJson, type PutJson, type RangeJson, type TxnJson } from "../harness/etcdctl.js";

const opts = { timeout: TEST_TIMEOUT_MS };
/** etcd's default --max-txn-ops: the most operations one branch (or compare list) may hold. */
const TXN_OPS_MAX = 128;

function txnScript(compares: string[], success: string[], failure: string[]): string {
  return [...compares, "", ...success, "", ...failure, "", ""].join("\n");
}

async function txn(target: ContractTarget, compares: string[], success: string[], failure: string[]): Promise<TxnJson> {
  return target.ctlJson<TxnJson>(["txn"], { input: txnScript(compares, success, failure) });
}

async function valueOf(target: ContractTarget, key: string): Promise<string | null> {
  const got = await target.ctlJson<RangeJson>(["get", key]);
  return got.kvs === undefined ? null : fromBase64(got.kvs[0]!.value);
}

async function put(target: ContractTarget, key: string, value: string): Promise<number> {
  return (await target.ctlJson<PutJson>(["put", key, value])).header.revision!;
}

for (const kind of targets()) {
  describe(`${kind}: txn`, suiteOptions(kind), () => {
    const target = useDatastore(kind);

    it("a true compare runs the success branch and returns one response per op, in order", opts, async () => {
      const p = uniquePrefix("txn/success");
      const rev = await put(target, `${p}k`, "v1");
      const res = await txn(target, [`value("${p}k") = "v1"`], [`put ${p}s yes`, `get ${p}k`], [`put ${p}f no`]);
      assert.equal(res.succeeded, true);
      assert.equal(res.header.revision, rev + 1, "a txn with writes advances the revision once");
      assert.equal(res.responses?.length, 2);
      const [putRes, getRes] = res.responses!;
      // Inner responses carry a header with only the revision set.
      assert.deepEqual(putRes!.Response.ResponsePut?.header, { revision: rev + 1 });
      const kvs = getRes!.Response.ResponseRange?.kvs ?? [];
      assert.deepEqual(kvs.map((kv) => [fromBase64(kv.key), fromBase64(kv.value)]), [[`${p}k`, "v1"]]);
      assert.equal(await valueOf(target, `${p}s`), "yes");
      assert.equal(await valueOf(target, `${p}f`), null, "the failure branch did not run");

      const text = await target.ctl(["txn"], { input: txnScript([`value("${p}k") = "v1"`], [`get ${p}k`], []) });
      assert.equal(text.code, 0, text.stderr);
      assert.equal(text.stdout, `SUCCESS\n\n${p}k\nv1\n`);
    });

    it("a false compare runs the failure branch (puts and deletes) and reports FAILURE", opts, async () => {
      const p = uniquePrefix("txn/failure");
      await put(target, `${p}k`, "v1");
      await put(target, `${p}old`, "gone-soon");
      const res = await txn(target, [`version("${p}k") > "5"`], [`put ${p}s yes`], [`put ${p}f no`, `del ${p}old`]);
      assert.equal(res.succeeded, undefined, "etcdctl omits succeeded=false");
      assert.equal(res.responses?.length, 2);
      assert.equal(res.responses![1]!.Response.ResponseDeleteRange?.deleted, 1);
      assert.equal(await valueOf(target, `${p}s`), null);
      assert.equal(await valueOf(target, `${p}f`), "no");
      assert.equal(await valueOf(target, `${p}old`), null);

      const text = await target.ctl(["txn"], { input: txnScript([`version("${p}k") > "5"`], [], [`put ${p}f again`]) });
      assert.equal(text.stdout, "FAILURE\n\nOK\n");
    });

    it("compares on value, version, create and mod revision evaluate like etcd's, and all must hold", opts, async () => {
      const p = uniquePrefix("txn/compares");
      const k = `${p}k`;
      const m = `${p}missing`;
      const created = await put(target, k, "m");
      const modified = await put(target, k, "m"); // version 2
      const cases: Array<{ compares: string[]; want: boolean }> = [
        { compares: [`value("${k}") = "m"`], want: true },
        { compares: [`value("${k}") != "m"`], want: false },
        { compares: [`value("${k}") > "a"`], want: true },
        { compares: [`value("${k}") < "a"`], want: false },
        { compares: [`version("${k}") = "2"`], want: true },
        { compares: [`version("${k}") < "2"`], want: false },
        { compares: [`create("${k}") = "${created}"`], want: true },
        { compares: [`create("${k}") = "0"`], want: false },
        { compares: [`mod("${k}") = "${modified}"`], want: true },
        { compares: [`mod("${k}") > "${modified}"`], want: false },
        // A missing key compares as create = mod = version = 0: the create-if-absent guard Kubernetes uses.
        { compares: [`create("${m}") = "0"`], want: true },
        { compares: [`version("${m}") = "0"`], want: true },
        { compares: [`mod("${m}") = "0"`], want: true },
        // ...but any value compare on a missing key is false, even against "".
        { compares: [`value("${m}") = ""`], want: false },
        { compares: [`value("${m}") != "x"`], want: false },
        { compares: [`value("${k}") = "m"`, `version("${k}") = "2"`], want: true },
        { compares: [`value("${k}") = "m"`, `version("${k}") = "3"`], want: false },
      ];
      for (const c of cases) {
        const res = await txn(target, c.compares, [], []);
        assert.equal(res.succeeded === true, c.want, c.compares.join(" && "));
      }
    });

    it("a read-only txn does not advance the revision", opts, async () => {
      const p = uniquePrefix("txn/read-only");
      const rev = await put(target, `${p}k`, "v");
      const res = await txn(target, [`value("${p}k") = "v"`], [`get ${p}k`], [`get ${p}k`]);
      assert.equal(res.header.revision, rev);
    });

    it("all puts of one txn share one revision", opts, async () => {
      const p = uniquePrefix("txn/one-revision");
      const before = await put(target, `${p}start`, "0");
      const res = await txn(target, [], [`put ${p}a 1`, `put ${p}b 2`, `put ${p}c 3`], []);
      assert.equal(res.succeeded, true, "no compares means success");
      assert.equal(res.header.revision, before + 1);
      const got = await target.ctlJson<RangeJson>(["get", `${p}a`, `${p}d`]);
      assert.deepEqual((got.kvs ?? []).map((kv) => [kv.create_revision, kv.mod_revision]), [[before + 1, before + 1], [before + 1, before + 1], [before + 1, before + 1]]);
    });

    it("compares on lease (etcd3 client: etcdctl 3.4 panics on lease compares)", opts, async () => {
      const p = uniquePrefix("txn/lease");
      const lease = await target.ctlJson<LeaseGrantJson>(["lease", "grant", "600"]);
      const leaseId = toBigInt(lease.ID);
      await target.ctl(["put", `${p}leased`, "v", `--lease=${leaseId.toString(16)}`]);
      await put(target, `${p}plain`, "v");
      const client = target.client;
      const onLease = await client.if(`${p}leased`, "Lease", "==", leaseId.toString()).then(client.put(`${p}r1`).value("1")).commit();
      assert.equal(onLease.succeeded, true);
      const plainHasNone = await client.if(`${p}plain`, "Lease", "==", "0").commit();
      assert.equal(plainHasNone.succeeded, true, "a key without a lease compares as lease 0");
      const wrong = await client.if(`${p}leased`, "Lease", "==", "0").commit();
      assert.equal(wrong.succeeded, false);
      assert.equal((await target.ctl(["lease", "revoke", leaseId.toString(16)])).code, 0);
    });

    it("a nested txn runs inside the outer success branch at the same revision", opts, async () => {
      const p = uniquePrefix("txn/nested");
      const rev = await put(target, `${p}k`, "outer");
      const res = await target.client.kv.txn({
        compare: [],
        success: [
          { request_put: { key: Buffer.from(`${p}a`), value: Buffer.from("1") } },
          {
            request_txn: {
              compare: [{ key: Buffer.from(`${p}k`), target: "Value", result: "Equal", value: Buffer.from("outer") }],
              success: [{ request_put: { key: Buffer.from(`${p}b`), value: Buffer.from("2") } }, { request_range: { key: Buffer.from(`${p}k`) } }],
              failure: [],
            },
          },
        ],
        failure: [],
      });
      assert.equal(res.succeeded, true);
      assert.equal(res.header.revision, String(rev + 1));
      const inner = res.responses[1]!.response_txn;
      assert.equal(inner.succeeded, true);
      assert.equal(inner.responses.length, 2);
      assert.equal(inner.responses[0]!.response_put.header?.revision, String(rev + 1));
      assert.equal(inner.responses[1]!.response_range.kvs[0]!.value.toString(), "outer");
      assert.equal(await valueOf(target, `${p}b`), "2");
      const b = await target.ctlJson<RangeJson>(["get", `${p}b`]);
      assert.equal(b.kvs![0]!.mod_revision, rev + 1);
    });

    it("a key written twice in one txn is rejected, even in the branch that would not run", opts, async () => {
      const p = uniquePrefix("txn/duplicate");
      await put(target, `${p}k`, "v");
      const message = /^Error: etcdserver: duplicate key given in txn request$/m;
      const cases = [
        { name: "put twice", compares: [], success: [`put ${p}x 1`, `put ${p}x 2`], failure: [] },
        { name: "put and delete", compares: [], success: [`put ${p}x 1`, `del ${p}x`], failure: [] },
        { name: "a delete range covering a put", compares: [], success: [`del ${p} ${p}z`, `put ${p}x 1`], failure: [] },
        { name: "duplicates in the failure branch of a true compare", compares: [`value("${p}k") = "v"`], success: [`put ${p}y 1`], failure: [`put ${p}x 1`, `put ${p}x 2`] },
      ];
      for (const c of cases) {
        const res = await target.ctl(["txn"], { input: txnScript(c.compares, c.success, c.failure) });
        assert.equal(res.code, 1, c.name);
        assert.match(res.stderr, message, c.name);
      }
      assert.equal(await valueOf(target, `${p}x`), null, "nothing of a rejected txn is applied");
      assert.equal(await valueOf(target, `${p}y`), null);

      const reads = await txn(target, [], [`get ${p}k`, `get ${p}k`, `put ${p}k v2`], []);
      assert.equal(reads.succeeded, true, "reading a key twice, or reading and writing it, is allowed");

      const nested = await rejectionMessage(target.client.kv.txn({
        compare: [],
        success: [
          { request_put: { key: Buffer.from(`${p}n`), value: Buffer.from("1") } },
          { request_txn: { compare: [], success: [{ request_put: { key: Buffer.from(`${p}n`), value: Buffer.from("2") } }], failure: [] } },
        ],
        failure: [],
      }));
      assert.equal(nested, "3 INVALID_ARGUMENT: etcdserver: duplicate key given in txn request", "a nested txn may not write a key its parent writes");
    });

    it(`more than ${TXN_OPS_MAX} ops in one branch is rejected with 'too many operations'`, opts, async () => {
      const p = uniquePrefix("txn/too-many");
      const ops = (n: number, tag: string): string[] => Array.from({ length: n }, (_, i) => `put ${p}${tag}${i} x`);
      const tooMany = await target.ctl(["txn"], { input: txnScript([], ops(TXN_OPS_MAX + 1, "a"), []) });
      assert.equal(tooMany.code, 1);
      assert.match(tooMany.stderr, /^Error: etcdserver: too many operations in txn request$/m);
      assert.equal(await valueOf(target, `${p}a0`), null);

      // The limit is per branch: 128 success ops and 128 failure ops pass.
      await put(target, `${p}k`, "v");
      const atLimit = await txn(target, [`value("${p}k") = "v"`], ops(TXN_OPS_MAX, "s"), ops(TXN_OPS_MAX, "f"));
      assert.equal(atLimit.succeeded, true);
      assert.equal(atLimit.responses?.length, TXN_OPS_MAX);
      const count = await target.client.getAll().prefix(`${p}s`).count();
      assert.equal(count, TXN_OPS_MAX);
    });
  });
}
