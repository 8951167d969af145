/**
 * Members in their own network namespaces, for tests that cut one member off from its peers while the test
 * process can still reach it as a client. Each member gets two links: a veth to the host for clients
 * (10.A.i.2:2379, the host side is 10.A.i.1) and a veth into one bridge that joins the peers (10.B.0.(10+i):2380).
 * partition(name) takes the member's peer link down; heal(name) brings it back. Needs root and `ip`
 * (iproute2); see RUNTIME-NOTES: `ip netns` and veth pairs work on the test machines.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { requireBinary } from "./datastore_process.js";
import type { ClusterNetwork, MemberAddress } from "./datastore_cluster.js";

const IP_TIMEOUT_MS = 5_000;
/** One ordinal per member; interface names must stay within Linux's 15 characters. */
const MEMBERS_MAX = 9;

/** Why network namespaces cannot be used here, or null when they can (tried by creating and deleting one). */
export function netnsUnavailableReason(): string | null {
  if (process.platform !== "linux") return `network namespaces need Linux (platform ${process.platform})`;
  if (process.getuid?.() !== 0) return "network namespaces need root";
  if (requireBinary("ip") === null) return "`ip` (iproute2) is not installed";
  const probe = `tk8s-probe-${randomBytes(3).toString("hex")}`;
  const add = spawnSync("ip", ["netns", "add", probe], { timeout: IP_TIMEOUT_MS, encoding: "utf8" });
  if (add.status !== 0) return `ip netns add failed: ${(add.stderr ?? "").trim() || add.error?.message}`;
  spawnSync("ip", ["netns", "del", probe], { timeout: IP_TIMEOUT_MS });
  const bridge = `tkq${randomBytes(3).toString("hex")}`;
  const br = spawnSync("ip", ["link", "add", bridge, "type", "bridge"], { timeout: IP_TIMEOUT_MS, encoding: "utf8" });
  if (br.status !== 0) return `ip link add type bridge failed: ${(br.stderr ?? "").trim()}`;
  spawnSync("ip", ["link", "del", bridge], { timeout: IP_TIMEOUT_MS });
  return null;
}

export class NetnsNetwork implements ClusterNetwork {
  readonly #id = randomBytes(2).toString("hex");
  readonly #clientOctet: number;
  readonly #peerOctet: number;
  readonly #bridge: string;
  readonly #namespaces = new Map<string, { ns: string; ordinal: number; peerLink: string }>();
  #bridgeUp = false;
  #released = false;

  constructor() {
    // Two /16s under 10.0.0.0/8 no route on the host uses yet, so test traffic never leaves the machine.
    const used = execFileSync("ip", ["-o", "-4", "route", "show", "table", "all"], { timeout: IP_TIMEOUT_MS, encoding: "utf8" });
    const free = Array.from({ length: 50 }, (_, i) => 200 + i).filter((o) => !used.includes(`10.${o}.`));
    if (free.length < 2) throw new Error("Cannot pick test subnets: 10.200-249.0.0/16 are all routed on this host");
    const a = free.splice(randomInt(free.length), 1)[0]!;
    const b = free.splice(randomInt(free.length), 1)[0]!;
    this.#clientOctet = a;
    this.#peerOctet = b;
    this.#bridge = `tkb${this.#id}`;
    liveNetworks.add(this);
    registerExitCleanup();
  }

  async allocate(name: string): Promise<MemberAddress> {
    if (this.#released) throw new Error("This network was released");
    const ordinal = this.#namespaces.size + 1;
    if (ordinal > MEMBERS_MAX) throw new RangeError(`Cannot allocate member ${name}: at most ${MEMBERS_MAX} per network`);
    if (!this.#bridgeUp) {
      ip(["link", "add", this.#bridge, "type", "bridge"]);
      ip(["link", "set", this.#bridge, "up"]);
      this.#bridgeUp = true;
    }
    const ns = `tk8s-${this.#id}-${name}`;
    const clientHost = `tkc${this.#id}${ordinal}`;
    const peerHost = `tkp${this.#id}${ordinal}`;
    ip(["netns", "add", ns]);
    this.#namespaces.set(name, { ns, ordinal, peerLink: peerHost });
    ip(["-n", ns, "link", "set", "lo", "up"]);
    // Client link: host <-> member.
    ip(["link", "add", clientHost, "type", "veth", "peer", "name", "cli0", "netns", ns]);
    ip(["addr", "add", `10.${this.#clientOctet}.${ordinal}.1/24`, "dev", clientHost]);
    ip(["link", "set", clientHost, "up"]);
    ip(["-n", ns, "addr", "add", `10.${this.#clientOctet}.${ordinal}.2/24`, "dev", "cli0"]);
    ip(["-n", ns, "link", "set", "cli0", "up"]);
    // Peer link: member <-> bridge.
    ip(["link", "add", peerHost, "type", "veth", "peer", "name", "peer0", "netns", ns]);
    ip(["link", "set", peerHost, "master", this.#bridge]);
    ip(["link", "set", peerHost, "up"]);
    ip(["-n", ns, "addr", "add", `10.${this.#peerOctet}.0.${10 + ordinal}/24`, "dev", "peer0"]);
    ip(["-n", ns, "link", "set", "peer0", "up"]);
    return {
      clientUrl: `http://10.${this.#clientOctet}.${ordinal}.2:2379`,
      peerUrl: `http://10.${this.#peerOctet}.0.${10 + ordinal}:2380`,
      wrapper: ["ip", "netns", "exec", ns],
    };
  }

  /** Cuts `name` off from every peer (its peer link goes down); its client link stays up. */
  partition(name: string): void {
    ip(["link", "set", this.#entry(name).peerLink, "down"]);
  }

  /** Undoes partition(). */
  heal(name: string): void {
    ip(["link", "set", this.#entry(name).peerLink, "up"]);
  }

  #entry(name: string): { ns: string; ordinal: number; peerLink: string } {
    const entry = this.#namespaces.get(name);
    if (entry === undefined) throw new Error(`No namespace for member ${name}`);
    return entry;
  }

  async release(): Promise<void> {
    this.releaseSync();
  }

  /** Deletes the namespaces (which deletes their veths) and the bridge; safe to call twice and from an exit hook. */
  releaseSync(): void {
    if (this.#released) return;
    this.#released = true;
    liveNetworks.delete(this);
    for (const { ns } of this.#namespaces.values()) spawnSync("ip", ["netns", "del", ns], { timeout: IP_TIMEOUT_MS });
    // The host ends of veths whose namespace is gone vanish with it; delete any left over, then the bridge.
    for (const { ordinal } of this.#namespaces.values()) {
      spawnSync("ip", ["link", "del", `tkc${this.#id}${ordinal}`], { timeout: IP_TIMEOUT_MS, stdio: "ignore" });
      spawnSync("ip", ["link", "del", `tkp${this.#id}${ordinal}`], { timeout: IP_TIMEOUT_MS, stdio: "ignore" });
    }
    if (this.#bridgeUp) spawnSync("ip", ["link", "del", this.#bridge], { timeout: IP_TIMEOUT_MS });
  }
}

function ip(args: readonly string[]): void {
  const result = spawnSync("ip", args, { timeout: IP_TIMEOUT_MS, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`ip ${args.join(" ")} failed (${result.status}): ${(result.stderr ?? "").trim() || result.error?.message}`);
}

// Namespaces and links outlive the process unless removed: clean up on any normal exit.
const liveNetworks = new Set<NetnsNetwork>();
let exitCleanupRegistered = false;

function registerExitCleanup(): void {
  if (exitCleanupRegistered) return;
  exitCleanupRegistered = true;
  process.on("exit", () => {
    for (const network of [...liveNetworks]) network.releaseSync();
  });
}
