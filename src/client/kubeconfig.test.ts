import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { KubeconfigError, loadKubeconfig, parseKubeconfig } from "./kubeconfig.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

function config(over: { users?: unknown[]; clusters?: unknown[]; current?: string } = {}): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: over.clusters ?? [
      { name: "one", cluster: { server: "https://one:6443/", "certificate-authority-data": b64("CA-ONE") } },
      { name: "two", cluster: { server: "https://two:6443", "certificate-authority": "ca.pem" } },
    ],
    users: over.users ?? [
      { name: "admin", user: { "client-certificate-data": b64("CERT"), "client-key-data": b64("KEY") } },
      { name: "bot", user: { token: "abc.def" } },
      { name: "files", user: { "client-certificate": "client.pem", "client-key": "/abs/never-read-when-data" , "client-key-data": b64("INLINE-KEY") } },
    ],
    contexts: [
      { name: "admin@one", context: { cluster: "one", user: "admin" } },
      { name: "bot@one", context: { cluster: "one", user: "bot" } },
      { name: "files@two", context: { cluster: "two", user: "files" } },
      { name: "broken", context: { cluster: "missing", user: "admin" } },
    ],
    "current-context": over.current ?? "admin@one",
  });
}

test("parseKubeconfig: the current context's cluster and user give server, CA and client certificate", () => {
  const rc = parseKubeconfig(config(), "/nowhere", { component: "scheduler" });
  assert.deepEqual(rc, { server: "https://one:6443", ca: "CA-ONE", cert: "CERT", key: "KEY", userAgent: "tk8s-scheduler/0.1.0" });
});

test("parseKubeconfig: another context by name, with a bearer token", () => {
  const rc = parseKubeconfig(config(), "/nowhere", { context: "bot@one" });
  assert.equal(rc.token, "abc.def");
  assert.equal(rc.cert, undefined);
  assert.equal(rc.userAgent, "tk8s-client/0.1.0");
});

test("loadKubeconfig: file paths resolve against the kubeconfig's directory and inline data wins over a path", () => {
  const dir = mkdtempSync(join(tmpdir(), "tk8s-kubeconfig-"));
  try {
    writeFileSync(join(dir, "ca.pem"), "CA-FROM-FILE");
    writeFileSync(join(dir, "client.pem"), "CERT-FROM-FILE");
    writeFileSync(join(dir, "config"), config({ current: "files@two" }));
    const rc = loadKubeconfig(join(dir, "config"));
    assert.equal(rc.server, "https://two:6443");
    assert.equal(rc.ca, "CA-FROM-FILE");
    assert.equal(rc.cert, "CERT-FROM-FILE");
    assert.equal(rc.key, "INLINE-KEY");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const bad = [
  { name: "a context that is not there", text: config({ current: "nope" }), want: /context "nope" not found/ },
  { name: "a context whose cluster is not there", text: config({ current: "broken" }), want: /cluster "missing" not found/ },
  { name: "no current context", text: "apiVersion: v1\nkind: Config\n", want: /no current-context/ },
  { name: "not YAML at all", text: "a: [", want: /Cannot parse kubeconfig/ },
  { name: "a credential file that cannot be read", text: config({ current: "files@two" }), want: /Cannot read certificate-authority/ },
];
for (const c of bad) {
  test(`parseKubeconfig: ${c.name} is a KubeconfigError`, () => {
    assert.throws(() => parseKubeconfig(c.text, "/definitely/not/here"), (err: unknown) => err instanceof KubeconfigError && c.want.test(err.message));
  });
}

test("loadKubeconfig: a missing file is a KubeconfigError naming it", () => {
  assert.throws(() => loadKubeconfig("/definitely/not/here/config"), /Cannot read kubeconfig "\/definitely\/not\/here\/config"/);
});
