import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { newNodeEnv } from "../platform/node/node_env.js";
import { Backend } from "../storage/backend/backend.js";
import { BackendImageError, encodeBackendImage, IMAGE_BLOCK_BYTES, restoreBackendImage } from "./backend_image.js";

test("an image restores another backend to the same contents (hash), replacing what it held", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tk8s-image-"));
  const env = newNodeEnv({ logLevel: "error" });
  try {
    const a = await Backend.open(env, join(dir, "a"));
    const b = await Backend.open(env, join(dir, "b"));
    for (let i = 0; i < 50; i++) a.putRevision(Buffer.from(`rev-${String(i).padStart(3, "0")}`), Buffer.from(`value ${i}`));
    a.putLease({ id: 7n, ttlSeconds: 60 });
    a.putMeta("members", '[{"id":"1"}]');
    a.putMeta("consistent_index", "42");
    await a.commit();
    b.putRevision(Buffer.from("stale"), Buffer.from("gone after restore"));
    b.putLease({ id: 9n, ttlSeconds: 5 });
    await b.commit();

    const image = Buffer.concat(encodeBackendImage(a, 42));
    assert.equal((image.length - 32) % IMAGE_BLOCK_BYTES, 0, "whole blocks plus the sha256 trailer, as etcdctl expects");
    assert.deepEqual(restoreBackendImage(b, image), { consistentIndex: 42 });
    await b.commit();
    assert.equal(b.hashAll(), a.hashAll());
    assert.equal(b.getRevision(Buffer.from("stale")), undefined);
    assert.deepEqual(b.leases(), [{ id: 7n, ttlSeconds: 60 }]);

    const corrupt = Buffer.from(image);
    corrupt[40] = corrupt[40]! ^ 0xff;
    assert.throws(() => restoreBackendImage(b, corrupt), BackendImageError);
    assert.throws(() => restoreBackendImage(b, Buffer.from("not an image at all, long enough to have a trailer.")), /not a tk8s backend image/);
    await a.close();
    await b.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
