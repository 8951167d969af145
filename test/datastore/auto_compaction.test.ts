/** --auto-compaction-retention compacts history older than the retention window, by itself. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startDatastore } from "../harness/datastore_process.js";
import { rawEtcdClient } from "../harness/grpc_client.js";

test("periodic auto compaction removes history older than the retention window", { timeout: 30_000 }, async () => {
  const ds = await startDatastore("tk8s", { extraArgs: ["--auto-compaction-retention=2s"] });
  const client = rawEtcdClient(ds.clientUrl);
  try {
    const { revision: first } = await client.put("ac/k", "1");
    let compacted = false;
    const deadline = Date.now() + 15_000;
    while (!compacted && Date.now() < deadline) {
      await client.put("ac/k", String(Date.now()));
      await new Promise((r) => setTimeout(r, 250));
      compacted = /finished scheduled compaction/.test(ds.stderrTail());
    }
    assert.ok(compacted, "no compaction within 15 s with a 2 s retention");
    const err = await new Promise<{ code: number; details: string } | null>((resolve) => {
      // A read at the first revision now lies below the compaction point.
      import("@grpc/grpc-js").then(async (grpc) => {
        const { loadEtcdProtos } = await import("../../src/etcd/proto.js");
        const KV = grpc.makeGenericClientConstructor(loadEtcdProtos().kv, "KV");
        const kv = new KV(new URL(ds.clientUrl).host, grpc.credentials.createInsecure()) as unknown as { Range: (r: object, cb: (e: { code: number; details: string } | null) => void) => void; close(): void };
        kv.Range({ key: Buffer.from("ac/k"), revision: String(first) }, (e) => {
          kv.close();
          resolve(e);
        });
      });
    });
    assert.ok(err !== null, "a read at a revision older than the retention still succeeded");
    assert.equal(err.details, "etcdserver: mvcc: required revision has been compacted");
  } finally {
    client.close();
    await ds.stop();
  }
});
