/** Backend detection and the iptables edge against the real binaries, inside a network namespace. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ExecIptables, detectBackend } from "../../src/proxy/iptables.js";
import { createTestNetns, netnsSuiteSkip, type TestNetns } from "./netns.js";

describe("the iptables edge", { skip: netnsSuiteSkip(), timeout: 60_000 }, () => {
  let ns: TestNetns;
  before(async () => {
    ns = await createTestNetns();
  });
  after(async () => {
    await ns?.destroy();
  });

  test("a namespace without rules is detected as nft (the default of iptables 1.8 on Debian)", async () => {
    assert.equal(await detectBackend(ns.exec), "nft");
  });

  test("a kube hint chain in legacy's mangle table makes the node legacy, as upstream's iptables-wrapper decides", async () => {
    ns.sh(["iptables-legacy", "-t", "mangle", "-N", "KUBE-IPTABLES-HINT"]);
    assert.equal(await detectBackend(ns.exec), "legacy");
    ns.sh(["iptables-legacy", "-t", "mangle", "-X", "KUBE-IPTABLES-HINT"]);
  });

  test("without hints, the backend holding more rules wins", async () => {
    ns.sh(["iptables-legacy", "-A", "INPUT", "-s", "192.0.2.1", "-j", "DROP"]);
    assert.equal(await detectBackend(ns.exec), "legacy");
    for (let i = 2; i < 4; i++) ns.sh(["iptables-nft", "-A", "INPUT", "-s", `192.0.2.${i}`, "-j", "DROP"]);
    assert.equal(await detectBackend(ns.exec), "nft");
    ns.sh(["iptables-legacy", "-F", "INPUT"]);
    ns.sh(["iptables-nft", "-F", "INPUT"]);
  });

  test("ensureChain and ensureRule are idempotent, and deleteRule/deleteChain undo them", async () => {
    const ipt = await ExecIptables.create({ commandPrefix: ns.exec, backend: "nft" });
    await ipt.ensureChain("nat", "KUBE-TEST");
    await ipt.ensureChain("nat", "KUBE-TEST");
    const args = ["-m", "comment", "--comment", "tk8s test", "-j", "KUBE-TEST"];
    assert.equal(await ipt.ensureRule("nat", "OUTPUT", args), true);
    assert.equal(await ipt.ensureRule("nat", "OUTPUT", args), false);
    assert.equal((await ipt.save("nat")).match(/-A OUTPUT .*KUBE-TEST/g)?.length, 1);
    await ipt.deleteRule("nat", "OUTPUT", args);
    await ipt.deleteChain("nat", "KUBE-TEST");
    assert.ok(!(await ipt.save("nat")).includes("KUBE-TEST"));
  });

  test("a bad restore fails with iptables' message and changes nothing", async () => {
    const ipt = await ExecIptables.create({ commandPrefix: ns.exec, backend: "nft" });
    const data = "*nat\n:KUBE-GOOD - [0:0]\n-A KUBE-GOOD -j KUBE-MISSING-CHAIN\nCOMMIT\n";
    await assert.rejects(ipt.restore(data), (err: Error) => err.name === "IptablesError" && /Cannot restore rules/.test(err.message));
    assert.ok(!(await ipt.save("nat")).includes("KUBE-GOOD"), "the table was committed all or nothing");
  });
});
