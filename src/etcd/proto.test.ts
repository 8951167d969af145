import { test } from "node:test";
import assert from "node:assert/strict";
import { loadEtcdProtos } from "./proto.js";

test("all six etcd services load and are memoized", () => {
  const defs = loadEtcdProtos();
  for (const name of ["kv", "watch", "lease", "cluster", "maintenance", "auth"] as const) {
    assert.ok(defs[name], name);
    assert.ok(Object.keys(defs[name]).length > 0, `${name} has methods`);
  }
  assert.equal(loadEtcdProtos(), defs);
  assert.deepEqual(Object.keys(defs.kv).sort(), ["Compact", "DeleteRange", "Put", "Range", "Txn"]);
  assert.deepEqual(Object.keys(defs.maintenance).sort(), [
    "Alarm", "Defragment", "Downgrade", "Hash", "HashKV", "MoveLeader", "Snapshot", "Status",
  ]);
  assert.equal(Object.keys(defs.auth).length, 17);
});

test("method paths and streaming shapes match etcd", () => {
  const { kv, watch, lease, cluster, maintenance, auth } = loadEtcdProtos();
  const shape = (m: { path: string; requestStream: boolean; responseStream: boolean }) =>
    [m.path, m.requestStream, m.responseStream];
  assert.deepEqual(shape(kv.Range!), ["/etcdserverpb.KV/Range", false, false]);
  assert.deepEqual(shape(kv.Txn!), ["/etcdserverpb.KV/Txn", false, false]);
  assert.deepEqual(shape(watch.Watch!), ["/etcdserverpb.Watch/Watch", true, true]);
  assert.deepEqual(shape(lease.LeaseKeepAlive!), ["/etcdserverpb.Lease/LeaseKeepAlive", true, true]);
  assert.deepEqual(shape(lease.LeaseGrant!), ["/etcdserverpb.Lease/LeaseGrant", false, false]);
  assert.deepEqual(shape(maintenance.Snapshot!), ["/etcdserverpb.Maintenance/Snapshot", false, true]);
  assert.deepEqual(shape(maintenance.Status!), ["/etcdserverpb.Maintenance/Status", false, false]);
  assert.deepEqual(shape(cluster.MemberList!), ["/etcdserverpb.Cluster/MemberList", false, false]);
  assert.deepEqual(shape(auth.Authenticate!), ["/etcdserverpb.Auth/Authenticate", false, false]);
});

test("RangeRequest encodes to etcd's exact bytes", () => {
  const { kv } = loadEtcdProtos();
  const bytes = kv.Range!.requestSerialize({ key: Buffer.from("a"), limit: "5" });
  // field 1 (key, LEN) "a"; field 3 (limit, VARINT) 5
  assert.deepEqual([...bytes], [0x0a, 0x01, 0x61, 0x18, 0x05]);

  const withRange = kv.Range!.requestSerialize({
    key: Buffer.from("a"),
    range_end: Buffer.from("b"),
    revision: "300",
    sort_order: 2,
    keys_only: true,
  });
  // 2:"b" -> 12 01 62; 4:300 -> 20 ac 02; 5:DESCEND -> 28 02; 8:true -> 40 01
  assert.deepEqual(
    [...withRange],
    [0x0a, 0x01, 0x61, 0x12, 0x01, 0x62, 0x20, 0xac, 0x02, 0x28, 0x02, 0x40, 0x01],
  );
});

test("hand-built PutResponse decodes header.revision and prev_kv", () => {
  const { kv } = loadEtcdProtos();
  // ResponseHeader { cluster_id: 1, revision: 2^53 + 1 }
  //   08 01 | 18 81 80 80 80 80 80 80 10
  const header = [0x08, 0x01, 0x18, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10];
  // KeyValue { key: "k", mod_revision: 7, value: "v", lease: 9 }
  const prevKv = [0x0a, 0x01, 0x6b, 0x18, 0x07, 0x2a, 0x01, 0x76, 0x30, 0x09];
  const wire = Buffer.from([0x0a, header.length, ...header, 0x12, prevKv.length, ...prevKv]);
  const res = kv.Put!.responseDeserialize(wire) as {
    header: { cluster_id: string; member_id: string; revision: string; raft_term: string };
    prev_kv: { key: Buffer; value: Buffer; mod_revision: string; create_revision: string; lease: string };
  };
  assert.equal(res.header.revision, "9007199254740993");
  assert.equal(res.header.cluster_id, "1");
  assert.equal(res.header.member_id, "0");
  assert.ok(Buffer.isBuffer(res.prev_kv.key));
  assert.equal(res.prev_kv.key.toString(), "k");
  assert.equal(res.prev_kv.value.toString(), "v");
  assert.equal(res.prev_kv.mod_revision, "7");
  assert.equal(res.prev_kv.create_revision, "0");
  assert.equal(res.prev_kv.lease, "9");
});

test("Watch oneof and events round-trip", () => {
  const { watch } = loadEtcdProtos();
  const req = watch.Watch!.requestSerialize({
    create_request: { key: Buffer.from("a"), start_revision: "3", prev_kv: true },
  });
  // 1:{ 1:"a", 3:3, 6:true }
  assert.deepEqual([...req], [0x0a, 0x07, 0x0a, 0x01, 0x61, 0x18, 0x03, 0x30, 0x01]);
  const decoded = watch.Watch!.requestDeserialize(req) as { request_union: string };
  assert.equal(decoded.request_union, "create_request");

  // WatchResponse { watch_id: 1, events: [{ type: DELETE, kv: { key: "a" } }] }
  const event = [0x08, 0x01, 0x12, 0x03, 0x0a, 0x01, 0x61];
  const wire = Buffer.from([0x10, 0x01, 0x5a, event.length, ...event]);
  const res = watch.Watch!.responseDeserialize(wire) as {
    watch_id: string;
    events: { type: number; kv: { key: Buffer } }[];
  };
  assert.equal(res.watch_id, "1");
  assert.equal(res.events.length, 1);
  assert.equal(res.events[0]!.type, 1);
  assert.equal(res.events[0]!.kv.key.toString(), "a");
});
