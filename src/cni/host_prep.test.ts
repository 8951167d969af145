import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { prepareHostForPods, sysctlPath, undoHostPreparation } from "./host_prep.js";

/** A stand-in /proc/sys with the two sysctls at the given values (null: the file is absent). */
function fakeProcSys(values: { forward: string | null; bridge: string | null }): string {
  const dir = mkdtempSync(join(tmpdir(), "tk8s-procsys-"));
  mkdirSync(join(dir, "net/ipv4"), { recursive: true });
  if (values.forward !== null) writeFileSync(join(dir, "net/ipv4/ip_forward"), `${values.forward}\n`);
  if (values.bridge !== null) {
    mkdirSync(join(dir, "net/bridge"), { recursive: true });
    writeFileSync(join(dir, "net/bridge/bridge-nf-call-iptables"), `${values.bridge}\n`);
  }
  return dir;
}
const read = (dir: string, key: string) => readFileSync(sysctlPath(dir, key), "utf8").trim();

test("prepareHostForPods turns on forwarding and bridge netfilter, and undo puts back the old values", () => {
  const dir = fakeProcSys({ forward: "0", bridge: "0" });
  try {
    const prep = prepareHostForPods({ procSysDir: dir });
    assert.deepEqual(prep.changes, [
      { key: "net.ipv4.ip_forward", before: "0", after: "1" },
      { key: "net.bridge.bridge-nf-call-iptables", before: "0", after: "1" },
    ]);
    assert.equal(read(dir, "net.ipv4.ip_forward"), "1");
    assert.equal(read(dir, "net.bridge.bridge-nf-call-iptables"), "1");
    assert.equal(undoHostPreparation(prep, { procSysDir: dir }).length, 2);
    assert.equal(read(dir, "net.ipv4.ip_forward"), "0");
    assert.equal(read(dir, "net.bridge.bridge-nf-call-iptables"), "0");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("prepareHostForPods changes nothing that is already right, so undo changes nothing either", () => {
  const dir = fakeProcSys({ forward: "1", bridge: "1" });
  try {
    const prep = prepareHostForPods({ procSysDir: dir });
    assert.deepEqual(prep.changes, []);
    assert.deepEqual(undoHostPreparation(prep, { procSysDir: dir }), []);
    assert.equal(read(dir, "net.ipv4.ip_forward"), "1");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("undo leaves a value someone changed after us alone", () => {
  const dir = fakeProcSys({ forward: "0", bridge: "0" });
  try {
    const prep = prepareHostForPods({ procSysDir: dir });
    writeFileSync(sysctlPath(dir, "net.ipv4.ip_forward"), "2\n");
    assert.deepEqual(undoHostPreparation(prep, { procSysDir: dir }).map((c) => c.key), ["net.bridge.bridge-nf-call-iptables"]);
    assert.equal(read(dir, "net.ipv4.ip_forward"), "2");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("without br_netfilter the bridge sysctl is reported unavailable, not fatal; without ip_forward it is fatal", () => {
  const dir = fakeProcSys({ forward: "0", bridge: null });
  try {
    const prep = prepareHostForPods({ procSysDir: dir });
    assert.deepEqual(prep.changes.map((c) => c.key), ["net.ipv4.ip_forward"]);
    assert.match(prep.unavailable[0]!, /^net\.bridge\.bridge-nf-call-iptables: .* is missing$/);
    undoHostPreparation(prep, { procSysDir: dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const empty = fakeProcSys({ forward: null, bridge: "0" });
  try {
    assert.throws(() => prepareHostForPods({ procSysDir: empty }), /Cannot prepare the host for pods: .*ip_forward is missing/);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});
