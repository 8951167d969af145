import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { suiteSkipReason } from "./contract.js";
import { DatastoreStartError, REPO_ROOT, TK8S_ENTRY, requireBinary, startDatastore } from "./datastore_process.js";
import { etcdctl } from "./etcdctl.js";
import { httpGet } from "./http.js";

describe("requireBinary", () => {
  it("finds a program on PATH and returns an absolute path", () => {
    const sh = requireBinary("sh");
    assert.ok(sh !== null && sh.startsWith("/"), `sh resolved to ${sh}`);
  });
  it("returns null for a program that does not exist", () => {
    assert.equal(requireBinary("tk8s-no-such-program-x9"), null);
    assert.equal(requireBinary("/nonexistent/etcd"), null);
  });
});

describe("repository root", () => {
  it("is computed from the compiled file's location and holds bin/tk8s.js", () => {
    assert.ok(existsSync(TK8S_ENTRY), `${TK8S_ENTRY} (root ${REPO_ROOT})`);
  });
});

describe("startDatastore (real etcd)", { skip: suiteSkipReason("etcd"), timeout: 60_000 }, () => {
  it("starts etcd healthy on loopback, restarts it on the same ports and data, and stops it", async () => {
    const ds = await startDatastore("etcd");
    try {
      assert.match(ds.clientUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(ds.peerUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal((await etcdctl(ds.clientUrl, ["put", "harness/k", "v"])).code, 0);
      const firstPid = ds.pid;
      await ds.restart();
      assert.notEqual(ds.pid, firstPid);
      const got = await etcdctl(ds.clientUrl, ["get", "harness/k", "--print-value-only"]);
      assert.equal(got.stdout, "v\n");
      assert.ok(existsSync(ds.stderrPath) && existsSync(ds.stdoutPath));
    } finally {
      await ds.stop();
    }
    await assert.rejects(httpGet(`${ds.clientUrl}/health`, { timeoutMs: 1_000 }), "nothing listens after stop()");
    await ds.stop(); // a second stop is a no-op
  });

  it("reports a server that exits at start-up with its stderr", async () => {
    await assert.rejects(startDatastore("etcd", { extraArgs: ["--no-such-flag"] }), (err: unknown) => {
      assert.ok(err instanceof DatastoreStartError, String(err));
      assert.match(err.message, /exited with code \d+ before it was healthy/);
      assert.match(err.stderrTail, /no-such-flag/);
      return true;
    });
  });
});
