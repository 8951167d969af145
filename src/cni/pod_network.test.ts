/**
 * ensurePodNetworkConfig and removePodNetwork on this host without containerd: the file, a bridge made by
 * hand as the bridge plugin would, and nat rules shaped as the plugins write them. Names carry a random
 * suffix so parallel runs and real networks are never touched; portmap's shared chains are left alone here
 * (removeUnusedHostPortChains: false), since a parallel test's pods may be using them (the containerd test
 * covers their removal). Needs root, ip and iptables; outside CI a
 * machine without them skips.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { networkSkipReason, requireNetworkPrerequisites } from "../../test/harness/netns.js";
import { DEBIAN_CNI_BIN_DIR } from "../images/containerd_config.js";
import { deleteBridge, ensurePodNetworkConfig, PodNetworkError, removePodNetwork } from "./pod_network.js";
import { conflistFileName, podCIDROfConflist } from "./pod_network_config.js";

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: "utf8", env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
const linkExists = (name: string) => existsSync(`/sys/class/net/${name}`);

describe("pod network config and removal on this host", { skip: networkSkipReason() }, () => {
  const suffix = randomBytes(3).toString("hex");
  const bridgeName = `tk8su${suffix}`;
  const dummyName = `tk8sd${suffix}`;
  const networkName = `tk8s-unit-${suffix}`;
  const chains = [`CNI-${suffix}aa`, `CNI-${suffix}bb`];
  let dir: string;
  let confDir: string;
  let ipamDir: string;
  let cacheDir: string;

  before(() => {
    requireNetworkPrerequisites();
    dir = mkdtempSync(join(tmpdir(), "tk8s-cni-unit-"));
    confDir = join(dir, "conf");
    ipamDir = join(dir, "networks");
    cacheDir = join(dir, "cache");
    mkdirSync(confDir);
  });

  after(() => {
    // Backstops for a test that failed half way; each is a no-op when the test cleaned up.
    for (const link of [bridgeName, dummyName]) if (linkExists(link)) sh("ip", ["link", "delete", link]);
    for (const chain of chains) {
      sh("sh", ["-c", `iptables -w -t nat -S POSTROUTING | grep -e '-j ${chain}$' | sed 's/^-A/-D/' | while read -r r; do eval iptables -w -t nat $r; done; iptables -w -t nat -F ${chain} 2>/dev/null; iptables -w -t nat -X ${chain} 2>/dev/null; true`]);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test("ensurePodNetworkConfig writes the conflist once; a second call with the same CIDR writes nothing", () => {
    const options = { confDir, binDir: DEBIAN_CNI_BIN_DIR, podCIDR: "10.244.201.0/24", bridgeName, networkName, ipamDataDir: ipamDir };
    const first = ensurePodNetworkConfig(options);
    assert.equal(first.changed, true);
    assert.equal(first.path, join(confDir, conflistFileName(networkName)));
    assert.equal(podCIDROfConflist(readFileSync(first.path, "utf8")), "10.244.201.0/24");
    const stat = statSync(first.path);
    const second = ensurePodNetworkConfig(options);
    assert.equal(second.changed, false);
    assert.equal(second.replacedPodCIDR, null);
    assert.equal(statSync(first.path).mtimeMs, stat.mtimeMs);
    assert.equal(statSync(first.path).ino, stat.ino);
    assert.deepEqual(readdirSync(confDir), [conflistFileName(networkName)], "no temp file is left behind");
  });

  test("a config for another CIDR is replaced, with the old bridge (still holding the old gateway) and the old reservations", () => {
    // As the bridge plugin leaves them for the old range: the bridge with the gateway address, a reserved IP.
    sh("ip", ["link", "add", "name", bridgeName, "type", "bridge"]);
    sh("ip", ["addr", "add", "10.244.201.1/24", "dev", bridgeName]);
    mkdirSync(join(ipamDir, networkName), { recursive: true });
    writeFileSync(join(ipamDir, networkName, "10.244.201.2"), "some-container-id\neth0");
    const result = ensurePodNetworkConfig({ confDir, binDir: DEBIAN_CNI_BIN_DIR, podCIDR: "10.244.202.0/24", bridgeName, networkName, ipamDataDir: ipamDir });
    assert.equal(result.changed, true);
    assert.equal(result.replacedPodCIDR, "10.244.201.0/24");
    assert.equal(podCIDROfConflist(readFileSync(result.path, "utf8")), "10.244.202.0/24");
    assert.equal(linkExists(bridgeName), false, "the bridge would make the bridge plugin refuse the new gateway");
    assert.equal(existsSync(join(ipamDir, networkName)), false);
  });

  test("ensurePodNetworkConfig names the CNI plugins missing from binDir and writes nothing", () => {
    const emptyBin = join(dir, "empty-bin");
    mkdirSync(emptyBin, { recursive: true });
    writeFileSync(join(emptyBin, "bridge"), "");
    const other = join(dir, "conf-missing");
    mkdirSync(other);
    assert.throws(
      () => ensurePodNetworkConfig({ confDir: other, binDir: emptyBin, podCIDR: "10.244.203.0/24", networkName }),
      (err: unknown) => err instanceof PodNetworkError && err.message === `Cannot configure the pod network: CNI plugins missing from ${emptyBin}: host-local, portmap, loopback (Debian package containernetworking-plugins)`,
    );
    assert.deepEqual(readdirSync(other), []);
  });

  test("ensurePodNetworkConfig creates a conf dir that does not exist yet", () => {
    const fresh = join(dir, "etc", "cni", "net.d");
    const result = ensurePodNetworkConfig({ confDir: fresh, binDir: DEBIAN_CNI_BIN_DIR, podCIDR: "10.244.204.0/24", networkName, bridgeName });
    assert.deepEqual(readdirSync(fresh), [conflistFileName(networkName)]);
    assert.equal(result.changed, true);
  });

  test("a config that sorts before ours (containerd would use it instead) is reported", () => {
    const other = join(dir, "conf-preceded");
    mkdirSync(other);
    writeFileSync(join(other, "05-other.conflist"), "{}");
    writeFileSync(join(other, "99-loopback.conf"), "{}");
    writeFileSync(join(other, "README"), "");
    const result = ensurePodNetworkConfig({ confDir: other, binDir: DEBIAN_CNI_BIN_DIR, podCIDR: "10.244.203.0/24", networkName, bridgeName });
    assert.deepEqual(result.precedingConfigs, ["05-other.conflist"]);
  });

  test("removePodNetwork removes a crashed pod's leftover nat rules and chains, the bridge, the reservations and the cache", () => {
    // What bridge's ipMasq leaves for two pods whose CNI DEL never ran, plus a rule of another network.
    for (const [i, chain] of chains.entries()) {
      sh("iptables", ["-w", "-t", "nat", "-N", chain]);
      sh("iptables", ["-w", "-t", "nat", "-A", chain, "-d", "10.244.202.0/24", "-m", "comment", "--comment", `name: "${networkName}" id: "pod${i}"`, "-j", "ACCEPT"]);
      sh("iptables", ["-w", "-t", "nat", "-A", "POSTROUTING", "-s", `10.244.202.${i + 2}/32`, "-m", "comment", "--comment", `name: "${networkName}" id: "pod${i}"`, "-j", chain]);
    }
    sh("ip", ["link", "add", "name", bridgeName, "type", "bridge"]);
    mkdirSync(join(ipamDir, networkName), { recursive: true });
    writeFileSync(join(ipamDir, networkName, "10.244.202.2"), "pod0\neth0");
    mkdirSync(join(cacheDir, "results"), { recursive: true });
    writeFileSync(join(cacheDir, "results", `${networkName}-pod0-eth0`), "{}");
    writeFileSync(join(cacheDir, "results", `other-net-pod9-eth0`), "{}");

    const removed = removePodNetwork({ confDir, bridgeName, networkName, ipamDataDir: ipamDir, cniCacheDir: cacheDir, removeUnusedHostPortChains: false });
    assert.equal(removed.removedConfig, true);
    assert.equal(removed.removedBridge, true);
    assert.equal(removed.removedIpamState, true);
    assert.equal(removed.removedCacheEntries, 1);
    assert.deepEqual(removed.natChains.filter((c) => chains.includes(c)), chains);
    const nat = sh("iptables-save", ["-t", "nat"]);
    for (const chain of chains) assert.equal(nat.includes(chain), false, `${chain} is gone`);
    assert.equal(nat.includes(`"${networkName}"`), false);
    assert.equal(linkExists(bridgeName), false);
    assert.deepEqual(readdirSync(join(cacheDir, "results")), ["other-net-pod9-eth0"]);
    assert.equal(existsSync(join(confDir, conflistFileName(networkName))), false);
  });

  test("removePodNetwork when nothing is there does nothing and does not fail", () => {
    const removed = removePodNetwork({ confDir, bridgeName, networkName, ipamDataDir: ipamDir, cniCacheDir: cacheDir, removeUnusedHostPortChains: false });
    assert.deepEqual(removed, { removedConfig: false, natRules: [], natChains: [], removedBridge: false, removedIpamState: false, removedCacheEntries: 0 });
  });

  test("deleteBridge refuses an interface that is not a bridge", () => {
    // A veth pair (the dummy module is not in this kernel); deleting one end deletes both.
    sh("ip", ["link", "add", "name", dummyName, "type", "veth", "peer", "name", `${dummyName}p`]);
    try {
      assert.throws(() => deleteBridge(dummyName), new RegExp(`${dummyName} exists but is not a bridge`));
      assert.equal(linkExists(dummyName), true);
    } finally {
      sh("ip", ["link", "delete", dummyName]);
    }
  });
});
