import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../../bin/tk8s.js", import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 20_000 });

test("tk8s --help lists the datastore and server commands and exits 0", () => {
  const r = run("--help");
  assert.equal(r.status, 0);
  assert.match(r.stdout, /datastore/);
  assert.match(r.stdout, /server/);
});

test("tk8s server --help shows kube-apiserver's flag names", () => {
  const r = run("server", "--help");
  assert.equal(r.status, 0);
  for (const flag of ["--data-dir", "--bind-address", "--secure-port", "--advertise-address", "--datastore-endpoint", "--token-auth-file", "--max-requests-inflight", "--max-mutating-requests-inflight", "--etcd-compaction-interval"]) {
    assert.ok(r.stdout.includes(flag), `missing ${flag}`);
  }
});

test("tk8s server --help shows kube-proxy's and the kubelet's DNS flags and cluster DNS's, and tk8s agent kube-proxy's", () => {
  const server = run("server", "--help");
  assert.equal(server.status, 0);
  for (const flag of ["--disable-kube-proxy", "--healthz-bind-address", "--metrics-bind-address", "--disable-cluster-dns", "--cluster-dns-listen", "--cluster-dns-http-listen", "--cluster-dns", "--cluster-domain", "--resolv-conf"]) {
    assert.ok(server.stdout.includes(flag), `server: missing ${flag}`);
  }
  const agent = run("agent", "--help");
  assert.equal(agent.status, 0);
  for (const flag of ["--disable-kube-proxy", "--healthz-bind-address", "--metrics-bind-address", "--cluster-cidr", "--cluster-dns"]) {
    assert.ok(agent.stdout.includes(flag), `agent: missing ${flag}`);
  }
  assert.ok(!agent.stdout.includes("--cluster-dns-listen"), "cluster DNS runs on the server only");
});

test("tk8s datastore --help shows etcd's flag names", () => {
  const r = run("datastore", "--help");
  assert.equal(r.status, 0);
  for (const flag of ["--name", "--data-dir", "--listen-client-urls", "--advertise-client-urls", "--listen-peer-urls", "--initial-advertise-peer-urls", "--initial-cluster", "--initial-cluster-state", "--quota-backend-bytes", "--max-request-bytes", "--auto-compaction-retention", "--snapshot-count"]) {
    assert.ok(r.stdout.includes(flag), `missing ${flag}`);
  }
});

const bad = [
  { name: "an unknown flag", args: ["datastore", "--no-such-flag"], want: /unknown option '--no-such-flag'/ },
  { name: "a non-numeric size", args: ["datastore", "--max-request-bytes", "lots"], want: /--max-request-bytes must be a non-negative integer: current value is "lots"/ },
  { name: "a URL without a port", args: ["datastore", "--listen-client-urls", "http://127.0.0.1"], want: /must name a port/ },
  { name: "a bad cluster state", args: ["datastore", "--initial-cluster-state", "maybe"], want: /Allowed choices are new, existing/ },
  { name: "an unknown command", args: ["frobnicate"], want: /unknown command 'frobnicate'/ },
  { name: "a server without --data-dir", args: ["server"], want: /required option '--data-dir <path>' not specified/ },
  { name: "a server port out of range", args: ["server", "--data-dir", "/tmp/x", "--secure-port", "70000"], want: /must be a port number \(0-65535\): current value is "70000"/ },
  { name: "a DNS listen address without a port", args: ["server", "--data-dir", "/tmp/x", "--cluster-dns-listen", "0.0.0.0"], want: /--cluster-dns-listen <ip:port>' argument '0\.0\.0\.0' is invalid\. must be IP:PORT, e\.g\. 0\.0\.0\.0:53: current value is "0\.0\.0\.0"/ },
  { name: "a kube-proxy bind address that is a host name", args: ["server", "--data-dir", "/tmp/x", "--healthz-bind-address", "localhost:10256"], want: /must be IP:PORT/ },
  { name: "a bad inflight limit", args: ["server", "--data-dir", "/tmp/x", "--max-requests-inflight", "-1"], want: /must be a non-negative integer/ },
];
for (const c of bad) {
  test(`tk8s rejects ${c.name} with one clear error line and a non-zero exit`, () => {
    const r = run(...c.args);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, c.want);
    assert.equal(r.stderr.split("\n").filter((l) => l.startsWith("error:") || l.startsWith("tk8s:")).length, 1, r.stderr);
  });
}

const refusals = [
  {
    name: "an --initial-cluster without this member's --name",
    args: ["--initial-cluster", "a=http://127.0.0.1:2380,b=http://127.0.0.1:2381"],
    want: /^tk8s: Cannot start: --initial-cluster has no member named "default" \(--name\)$/m,
  },
  {
    name: "--initial-cluster-state=existing with no running member to ask",
    args: ["--initial-cluster-state", "existing"],
    want: /^tk8s: Cannot start: --initial-cluster-state=existing, but no running member answered \(no other member in --initial-cluster\)$/m,
  },
  {
    name: "an election timeout under five heartbeats",
    args: ["--heartbeat-interval", "100", "--election-timeout", "300"],
    want: /--election-timeout\[300ms\] should be at least as 5 times as --heartbeat-interval\[100ms\]/,
  },
];
for (const [i, c] of refusals.entries()) {
  test(`tk8s datastore refuses ${c.name} with one clear line`, () => {
    const dir = fileURLToPath(new URL(`../../../dist/tmp-cli-${process.pid}-${i}`, import.meta.url));
    const r = run("datastore", "--data-dir", dir, "--listen-client-urls", "http://127.0.0.1:1", "--listen-peer-urls", "http://127.0.0.1:2", ...c.args);
    spawnSync("rm", ["-rf", dir]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, c.want);
  });
}
