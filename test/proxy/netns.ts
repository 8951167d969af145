/**
 * A network namespace for proxy tests: loopback up, a veth pair carrying the "node" address and the
 * default route, "pod" addresses on lo, and an agent process inside that runs endpoint servers and
 * clients. Everything the test does to the network happens in here; `destroy()` deletes the namespace
 * and with it every address, route and iptables rule made in it.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export interface GetResult {
  readonly ok: boolean;
  readonly body?: string;
  readonly remote?: string;
  readonly code?: string;
}

export interface TestNetns {
  readonly name: string;
  /** The "node" address on veth-node; null for a namespace with loopback only. */
  readonly nodeIP: string | null;
  /** The prefix that runs a command inside: ["ip", "netns", "exec", name]. */
  readonly exec: readonly string[];
  /** Adds a /32 address on lo (a "pod" IP). */
  addAddress(ip: string): void;
  listen(host: string, port: number, name: string): Promise<void>;
  close(host: string, port: number): Promise<void>;
  get(host: string, port: number, timeoutMs?: number): Promise<GetResult>;
  /** Runs a command inside and returns its stdout. */
  sh(argv: readonly string[]): string;
  destroy(): Promise<void>;
}

/** Why netns tests cannot run here, or null when they can (root, `ip`, iptables). */
export function netnsUnavailableReason(): string | null {
  if (process.getuid?.() !== 0) return "not root";
  for (const bin of ["/usr/sbin/ip", "/usr/sbin/iptables-restore"]) if (!existsSync(bin) && !existsSync(bin.replace("/usr/sbin", "/sbin"))) return `${bin} not installed`;
  return null;
}

/** describe() options: skip when unavailable, except under CI=true where the suite must run (and fail loudly). */
export function netnsSuiteSkip(): string | undefined {
  const reason = netnsUnavailableReason();
  if (reason === null || process.env.CI === "true") return undefined;
  return `network namespaces unavailable: ${reason}`;
}

const AGENT = join(dirname(fileURLToPath(import.meta.url)), "netns_agent.js");

/**
 * Joins two test namespaces with a veth pair: `a` gets `aCidr` (e.g. "10.244.1.1/24") on `aDev`, `b` gets
 * `bCidr` on `bDev`; with `bDefaultVia`, b routes everything through a (a "pod" or an outside "client").
 * Deleting either namespace deletes the pair.
 */
export function linkNetns(a: TestNetns, b: TestNetns, link: { aDev: string; aCidr: string; bDev: string; bCidr: string; bDefaultVia?: string }): void {
  a.sh(["ip", "link", "add", link.aDev, "type", "veth", "peer", "name", link.bDev]);
  a.sh(["ip", "link", "set", link.bDev, "netns", b.name]);
  a.sh(["ip", "addr", "add", link.aCidr, "dev", link.aDev]);
  a.sh(["ip", "link", "set", link.aDev, "up"]);
  b.sh(["ip", "addr", "add", link.bCidr, "dev", link.bDev]);
  b.sh(["ip", "link", "set", link.bDev, "up"]);
  if (link.bDefaultVia !== undefined) b.sh(["ip", "route", "add", "default", "via", link.bDefaultVia]);
}

/** `nodeIP: null`: only loopback (join it to others with linkNetns). */
export async function createTestNetns(options: { nodeIP?: string | null } = {}): Promise<TestNetns> {
  const reason = netnsUnavailableReason();
  if (reason !== null) throw new Error(`Cannot create a network namespace: ${reason}${process.env.CI === "true" ? " (CI=true: proxy system tests must run, never skip)" : ""}`);
  const name = `tk8s-proxy-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  const nodeIP = options.nodeIP === undefined ? "192.168.77.1" : options.nodeIP;
  const exec = ["ip", "netns", "exec", name];
  const sh = (argv: readonly string[]) => execFileSync(exec[0]!, [...exec.slice(1), ...argv], { encoding: "utf8" });
  execFileSync("ip", ["netns", "add", name]);
  let agent: ChildProcessWithoutNullStreams | null = null;
  try {
    sh(["ip", "link", "set", "lo", "up"]);
    if (nodeIP !== null) {
      sh(["ip", "link", "add", "veth-node", "type", "veth", "peer", "name", "veth-peer"]);
      sh(["ip", "addr", "add", `${nodeIP}/24`, "dev", "veth-node"]);
      sh(["ip", "link", "set", "veth-node", "up"]);
      sh(["ip", "link", "set", "veth-peer", "up"]);
      // A ClusterIP has no route of its own: without a default route the kernel refuses the connect()
      // before the nat OUTPUT chain can rewrite the destination (as on a real node, which has one).
      sh(["ip", "route", "add", "default", "dev", "veth-node"]);
    }
    agent = spawn(exec[0]!, [...exec.slice(1), process.execPath, AGENT], { stdio: ["pipe", "pipe", "pipe"] });
  } catch (err) {
    execFileSync("ip", ["netns", "del", name]);
    throw err;
  }
  const child = agent;
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr = (stderr + d).slice(-4000)));
  const pending = new Map<number, (r: GetResult) => void>();
  createInterface({ input: child.stdout }).on("line", (line) => {
    const msg = JSON.parse(line) as GetResult & { id: number };
    pending.get(msg.id)?.(msg);
    pending.delete(msg.id);
  });
  let nextId = 1;
  const call = (cmd: object): Promise<GetResult> => {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, resolve);
      child.stdin.write(JSON.stringify({ id, ...cmd }) + "\n", (err) => (err ? reject(err) : undefined));
    });
  };
  return {
    name,
    nodeIP,
    exec,
    addAddress: (ip) => void sh(["ip", "addr", "add", `${ip}/32`, "dev", "lo"]),
    async listen(host, port, n) {
      const r = await call({ op: "listen", host, port, name: n });
      if (!r.ok) throw new Error(`Cannot listen on ${host}:${port} in ${name}: ${r.code} ${stderr}`);
    },
    async close(host, port) {
      await call({ op: "close", host, port });
    },
    get: (host, port, timeoutMs = 2000) => call({ op: "get", host, port, timeoutMs }),
    sh,
    async destroy() {
      child.stdin.end();
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const t = setTimeout(() => child.kill("SIGKILL"), 3000);
        child.once("exit", () => (clearTimeout(t), resolve()));
      });
      execFileSync("ip", ["netns", "del", name]);
    },
  };
}
