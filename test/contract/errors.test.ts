// Request validation, size limits, and the HTTP endpoints next to the gRPC API (/health, /version, /metrics).
// The datastore runs with --max-request-bytes=1024 so the size limit is cheap to cross.
// Expectations observed on etcd 3.4.23; the same assertions run against `tk8s datastore`.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TEST_TIMEOUT_MS, rejectionMessage, suiteOptions, targets, uniquePrefix, useDatastore } from "../harness/contract.js";
import { httpGet } from "../harness/http.js";
import type { PutJson, RangeJson } from "../harness/etcdctl.js";

const opts = { timeout: TEST_TIMEOUT_MS };
const REQUEST_BYTES_MAX = 1024;

/** The value of an unlabelled sample in Prometheus text format, or null if absent. */
function metric(text: string, name: string): number | null {
  const match = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return match === null ? null : Number(match[1]);
}

for (const kind of targets()) {
  describe(`${kind}: errors and limits`, suiteOptions(kind), () => {
    const target = useDatastore(kind, { extraArgs: [`--max-request-bytes=${REQUEST_BYTES_MAX}`] });

    it("a request over --max-request-bytes fails with 'request is too large' and writes nothing", opts, async () => {
      const key = `${uniquePrefix("errors/too-large")}k`;
      const big = await target.ctl(["put", key, "x".repeat(2048)]);
      assert.equal(big.code, 1);
      assert.match(big.stderr, /^Error: etcdserver: request is too large$/m);
      assert.equal((await target.ctlJson<RangeJson>(["get", key])).kvs, undefined);
      // The limit covers the whole encoded request, not just the value: 1010 value bytes already exceed 1024.
      const near = await target.ctl(["put", key, "x".repeat(1010)]);
      assert.equal(near.code, 1);
      assert.match(near.stderr, /^Error: etcdserver: request is too large$/m);
      assert.equal(await rejectionMessage(target.client.put(key).value("x".repeat(2048)).exec()), "3 INVALID_ARGUMENT: etcdserver: request is too large");

      const small = await target.ctl(["put", key, "x".repeat(900)]);
      assert.equal(small.code, 0, small.stderr);
    });

    it("an empty key is rejected with 'key is not provided' by put, range and delete", opts, async () => {
      const client = target.client;
      const want = "3 INVALID_ARGUMENT: etcdserver: key is not provided";
      assert.equal(await rejectionMessage(client.put("").value("x").exec()), want);
      assert.equal(await rejectionMessage(client.get("").string()), want);
      assert.equal(await rejectionMessage(client.kv.deleteRange({ key: Buffer.from("") })), want);
    });

    it("a put with an unknown lease fails with 'requested lease not found'", opts, async () => {
      const res = await target.ctl(["put", `${uniquePrefix("errors/lease")}k`, "v", "--lease=1234abcd"]);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /^Error: etcdserver: requested lease not found$/m);
    });

    it("GET /health answers 200 with {\"health\":\"true\"}", opts, async () => {
      const res = await httpGet(`${target.endpoint}/health`);
      assert.equal(res.status, 200);
      assert.equal((JSON.parse(res.body) as { health?: unknown }).health, "true");
    });

    it("GET /version answers JSON with etcdserver and etcdcluster versions", opts, async () => {
      const res = await httpGet(`${target.endpoint}/version`);
      assert.equal(res.status, 200);
      assert.match(String(res.headers["content-type"]), /^application\/json/);
      const body = JSON.parse(res.body) as Record<string, unknown>;
      assert.match(String(body.etcdserver), /^\d+\.\d+\.\d+/);
      assert.match(String(body.etcdcluster), /^\d+\.\d+\.\d+$/);
    });

    it("GET /metrics exposes leader, db size and mvcc revision gauges in Prometheus text format", opts, async () => {
      const rev = (await target.ctlJson<PutJson>(["put", `${uniquePrefix("errors/metrics")}k`, "v"])).header.revision!;
      const res = await httpGet(`${target.endpoint}/metrics`);
      assert.equal(res.status, 200);
      assert.match(String(res.headers["content-type"]), /^text\/plain/);
      assert.equal(metric(res.body, "etcd_server_has_leader"), 1);
      assert.equal(metric(res.body, "etcd_server_is_leader"), 1);
      assert.ok((metric(res.body, "etcd_mvcc_db_total_size_in_bytes") ?? 0) > 0, "etcd_mvcc_db_total_size_in_bytes > 0");
      assert.equal(metric(res.body, "etcd_debugging_mvcc_current_revision"), rev, "nothing was written since the put");
      assert.match(res.body, /^# TYPE etcd_server_has_leader gauge$/m);
    });
  });
}
