import assert from "node:assert/strict";
import { test } from "node:test";
import { rejectionMessage, suiteSkipReason, targets, uniquePrefix, waitFor } from "./contract.js";

function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  const apply = (values: Record<string, string | undefined>): void => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(vars);
  try {
    return fn();
  } finally {
    apply(saved);
  }
}

const cases = [
  { name: "defaults to both, real etcd first", env: undefined, want: ["etcd", "tk8s"] },
  { name: "one target", env: "etcd", want: ["etcd"] },
  { name: "spaces and empty items are ignored", env: " tk8s , ,etcd ", want: ["tk8s", "etcd"] },
];
for (const c of cases) {
  test(`targets: ${c.name}`, () => assert.deepEqual(withEnv({ CONTRACT_TARGETS: c.env }, targets), c.want));
}

test("targets: an unknown name throws instead of running nothing", () => {
  assert.throws(() => withEnv({ CONTRACT_TARGETS: "etcd,consul" }, targets), /CONTRACT_TARGETS must list etcd, tk8s: current value is "etcd,consul"/);
});

test("suiteSkipReason never skips under CI=true", () => {
  assert.equal(withEnv({ CI: "true", PATH: "/nonexistent" }, () => suiteSkipReason("etcd")), undefined);
});

test("suiteSkipReason skips outside CI when etcdctl is missing", () => {
  assert.equal(withEnv({ CI: undefined, PATH: "/nonexistent" }, () => suiteSkipReason("etcd")), "etcd not installed");
});

test("uniquePrefix never repeats and ends with a slash", () => {
  const prefixes = Array.from({ length: 100 }, () => uniquePrefix("area/test"));
  assert.equal(new Set(prefixes).size, 100);
  assert.ok(prefixes.every((p) => p.startsWith("area/test/") && p.endsWith("/")));
});

test("waitFor returns the first defined value and gives up at its deadline", async () => {
  let calls = 0;
  assert.equal(await waitFor("third call", async () => (++calls === 3 ? "done" : undefined), { timeoutMs: 1_000, intervalMs: 1 }), "done");
  await assert.rejects(waitFor("never", async () => undefined, { timeoutMs: 50, intervalMs: 10 }), /Timed out after 50 ms waiting for never/);
});

test("rejectionMessage returns the error text and fails when the call succeeds", async () => {
  assert.equal(await rejectionMessage(Promise.reject(new Error("3 INVALID_ARGUMENT: etcdserver: key is not provided"))), "3 INVALID_ARGUMENT: etcdserver: key is not provided");
  await assert.rejects(rejectionMessage(Promise.resolve({ id: 1n })), /Expected the call to fail, but it returned \{"id":"1"\}/);
});
