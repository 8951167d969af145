/**
 * Start-up recovery on real files: a torn WAL tail is cut back to the last valid record with a clear log
 * line and nothing acknowledged is lost; a corrupt record in the middle stops start-up with a clear error.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatastoreStartError, startDatastore, type DatastoreProcess } from "../harness/datastore_process.js";
import { rawEtcdClient } from "../harness/grpc_client.js";
import { writeLengthWord } from "../../src/storage/wal/record.js";

function lastSegment(ds: DatastoreProcess): string {
  const dir = join(ds.dataDir, "member", "wal");
  const names = readdirSync(dir).filter((n) => n.endsWith(".wal")).sort();
  assert.ok(names.length > 0, "no WAL segment");
  return join(dir, names[names.length - 1]!);
}

async function writeKeys(ds: DatastoreProcess, prefix: string, n: number): Promise<void> {
  const client = rawEtcdClient(ds.clientUrl);
  try {
    for (let i = 0; i < n; i++) await client.put(`${prefix}${i}`, `value-${i}`);
  } finally {
    client.close();
  }
}

test("a torn WAL tail is truncated to the last valid record on start-up, saying so, and loses nothing acknowledged", { timeout: 60_000 }, async () => {
  const ds = await startDatastore("tk8s");
  try {
    await writeKeys(ds, "torn/", 50);
    await ds.stop("SIGKILL");
    const wal = lastSegment(ds);
    const acknowledgedBytes = statSync(wal).size;
    // What a write cut by power loss leaves: a valid length word for a 300-byte record, then only the
    // first 100 bytes of it. The write behind it never reached its fsync, so it was never acknowledged.
    const torn = new Uint8Array(8 + 100).fill(0xab);
    writeLengthWord(torn, 0, 300);
    appendFileSync(wal, torn);
    const tornLength = acknowledgedBytes + torn.length;
    await ds.restart();
    const line = ds.stderrTail().split("\n").find((l) => l.includes("truncated torn WAL tail"));
    assert.ok(line !== undefined, `no "truncated torn WAL tail" line in:\n${ds.stderrTail()}`);
    const { offset, droppedBytes } = JSON.parse(line) as { offset: number; droppedBytes: number };
    assert.ok(offset >= acknowledgedBytes && offset < tornLength, `cut at ${offset}; acknowledged end ${acknowledgedBytes}, torn end ${tornLength}`);
    assert.equal(offset + droppedBytes, tornLength);
    const client = rawEtcdClient(ds.clientUrl);
    try {
      for (let i = 0; i < 50; i++) assert.equal((await client.get(`torn/${i}`))?.value, `value-${i}`);
      assert.ok((await client.put("torn/after", "x")).revision > 50, "writes continue after the repair");
    } finally {
      client.close();
    }
  } finally {
    await ds.stop();
  }
});

test("a corrupt record in the middle of the WAL stops start-up with a clear error instead of losing data", { timeout: 60_000 }, async () => {
  const ds = await startDatastore("tk8s");
  let failed: DatastoreStartError | null = null;
  try {
    await writeKeys(ds, "corrupt/", 200);
    await ds.stop("SIGKILL");
    const wal = lastSegment(ds);
    const bytes = readFileSync(wal);
    const at = Math.floor(bytes.length / 3);
    bytes[at] = bytes[at]! ^ 0xff;
    writeFileSync(wal, bytes);
    try {
      await ds.restart();
    } catch (err) {
      if (!(err instanceof DatastoreStartError)) throw err;
      failed = err;
    }
    assert.ok(failed !== null, "the datastore started on a WAL with a corrupt record in the middle");
    assert.match(failed.stderrTail, /^tk8s: Cannot open WAL: .*offset \d+/m);
    assert.equal(readFileSync(wal).length, bytes.length, "nothing was truncated");
  } finally {
    await ds.stop();
  }
});
