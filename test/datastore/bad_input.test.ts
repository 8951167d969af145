/**
 * Bad input never takes the datastore down: garbage on the client port, malformed protobuf, oversized
 * requests each get a clear error, and the server keeps serving.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { startDatastore, type DatastoreProcess } from "../harness/datastore_process.js";
import { rawEtcdClient } from "../harness/grpc_client.js";

async function healthy(ds: DatastoreProcess): Promise<boolean> {
  const res = await fetch(`${ds.clientUrl}/health`);
  return res.status === 200 && ((await res.json()) as { health: string }).health === "true";
}

function sendRaw(url: string, bytes: Buffer): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port), u.hostname, () => socket.end(bytes));
    let got = "";
    socket.on("data", (d) => (got += d.toString("latin1")));
    socket.on("close", () => resolve(got));
    socket.on("error", reject);
    socket.setTimeout(5000, () => socket.destroy(new Error("no answer within 5 s")));
  });
}

describe("tk8s datastore under bad input", () => {
  let ds: DatastoreProcess;
  before(async () => {
    ds = await startDatastore("tk8s", { extraArgs: ["--max-request-bytes=4096"] });
  });
  after(async () => {
    await ds?.stop();
  });

  test("garbage on the client port gets an HTTP 400 and the server stays up", async () => {
    const answer = await sendRaw(ds.clientUrl, Buffer.from("\x16\x03\x01\x00\xff garbage that is neither HTTP/1 nor HTTP/2\r\n\r\n"));
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request/);
    assert.ok(await healthy(ds));
  });

  test("an HTTP/2 preface followed by garbage is dropped and the server stays up", async () => {
    await sendRaw(ds.clientUrl, Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Buffer.alloc(64, 0xff)]));
    assert.ok(await healthy(ds));
  });

  test("a malformed protobuf request gets a gRPC error, not a crash", async () => {
    const client = rawEtcdClient(ds.clientUrl);
    try {
      // Field 1 (key) announced as 100 bytes long with only 2 present.
      await assert.rejects(client.rawUnary("KV", "Put", Buffer.from([0x0a, 100, 0x61, 0x62])), (err: { code: number }) => err.code === 13 || err.code === 3);
      const { revision } = await client.put("after-bad-protobuf", "ok");
      assert.ok(revision > 1);
    } finally {
      client.close();
    }
  });

  test("a request over --max-request-bytes is refused with etcd's message and nothing is written", async () => {
    const client = rawEtcdClient(ds.clientUrl);
    try {
      await assert.rejects(client.put("too-big", "x".repeat(8192)), (err: { code: number; details: string }) => err.code === 3 && err.details === "etcdserver: request is too large");
      assert.equal(await client.get("too-big"), null);
    } finally {
      client.close();
    }
  });

  test("a request beyond gRPC's receive limit is refused by gRPC and the server stays up", async () => {
    const client = rawEtcdClient(ds.clientUrl);
    try {
      await assert.rejects(client.put("way-too-big", "x".repeat(2 * 1024 * 1024)), (err: { code: number }) => err.code === 8);
      assert.ok(await healthy(ds));
      assert.ok((await client.put("still-works", "1")).revision > 1);
    } finally {
      client.close();
    }
  });

  test("an unknown HTTP path is a 404 and the metrics endpoint speaks Prometheus", async () => {
    assert.equal((await fetch(`${ds.clientUrl}/nope`)).status, 404);
    const metrics = await (await fetch(`${ds.clientUrl}/metrics`)).text();
    assert.match(metrics, /^etcd_server_has_leader 1$/m);
    assert.match(metrics, /^etcd_mvcc_db_total_size_in_bytes \d+/m);
  });
});
