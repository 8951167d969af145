/**
 * The iptables edge (upstream pkg/util/iptables): the only code that runs iptables binaries. The proxier
 * asks for chains and jump rules to exist and hands whole tables to `iptables-restore --noflush`.
 * `commandPrefix` runs every command through another (tests: `ip netns exec NS`), so rules can be made
 * in a network namespace and never touch the host's traffic.
 */
import { execFile, spawn } from "node:child_process";

export type Table = "filter" | "nat" | "mangle";
export type Backend = "nft" | "legacy";

/** How long a command may wait for the xtables lock (upstream passes -w 5 too). */
export const XTABLES_WAIT_SECONDS = 5;
/** A command that runs longer than this is killed: a hung iptables must not stop every later sync. */
export const IPTABLES_COMMAND_TIMEOUT_MS = 60_000;
/** Bounds what we read back from iptables-save (a node with 100,000 rules is about 20 MB). */
export const IPTABLES_OUTPUT_BYTES_MAX = 256 * 1024 * 1024;

export class IptablesError extends Error {
  override readonly name = "IptablesError";
  constructor(message: string, readonly exitCode: number | null, readonly stderr: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** What the proxier needs from iptables. */
export interface Iptables {
  readonly backend: Backend;
  /** `iptables-save -t TABLE`. */
  save(table: Table): Promise<string>;
  /** `iptables-restore --noflush --counters`: every table in `data` is committed atomically. */
  restore(data: string): Promise<void>;
  /** `iptables -N CHAIN` unless it exists. */
  ensureChain(table: Table, chain: string): Promise<void>;
  /** `iptables -C`, then `-I` (prepend) when the rule is missing. Returns true if it had to add it. */
  ensureRule(table: Table, chain: string, args: readonly string[]): Promise<boolean>;
  /** `iptables -D` when present. */
  deleteRule(table: Table, chain: string, args: readonly string[]): Promise<void>;
  /** `iptables -F CHAIN; iptables -X CHAIN` when present. */
  deleteChain(table: Table, chain: string): Promise<void>;
}

export interface ExecIptablesOptions {
  /** Run each command through this prefix, e.g. ["ip", "netns", "exec", "tk8s-test-1"]. */
  readonly commandPrefix?: readonly string[];
  /** Force a backend; default: detect as upstream's iptables-wrapper. */
  readonly backend?: Backend;
}

interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(prefix: readonly string[], argv: readonly string[], stdin?: string): Promise<RunResult> {
  const full = [...prefix, ...argv];
  const file = full[0]!;
  const args = full.slice(1);
  if (stdin === undefined) {
    return new Promise((resolve, reject) => {
      execFile(file, args, { timeout: IPTABLES_COMMAND_TIMEOUT_MS, maxBuffer: IPTABLES_OUTPUT_BYTES_MAX, encoding: "utf8" }, (err, stdout, stderr) => {
        if (err !== null && typeof (err as NodeJS.ErrnoException).code === "string") return reject(new IptablesError(`Cannot run ${file}: ${err.message}`, null, stderr, { cause: err }));
        resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), stdout, stderr });
      });
    });
  }
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"], timeout: IPTABLES_COMMAND_TIMEOUT_MS });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout.length < 1 << 20 ? (stdout += d) : undefined));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr.length < 1 << 20 ? (stderr += d) : undefined));
    child.on("error", (err) => reject(new IptablesError(`Cannot run ${file}: ${err.message}`, null, stderr, { cause: err })));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.on("error", () => undefined); // the exit code says what went wrong
    child.stdin.end(stdin);
  });
}

/**
 * Which backend the node uses, as upstream's iptables-wrapper: a kubelet/kube-proxy hint chain in the
 * mangle table decides; otherwise whichever backend holds more rules; nft when neither has any.
 */
export async function detectBackend(commandPrefix: readonly string[] = []): Promise<Backend> {
  const count = async (backend: Backend): Promise<{ hint: boolean; rules: number } | null> => {
    const r = await run(commandPrefix, [`iptables-${backend}-save`]).catch(() => null);
    if (r === null || r.code !== 0) return null;
    const lines = r.stdout.split("\n");
    return {
      hint: lines.some((l) => l.startsWith(":KUBE-IPTABLES-HINT ") || l.startsWith(":KUBE-KUBELET-CANARY ")),
      rules: lines.filter((l) => l.startsWith("-")).length,
    };
  };
  const [nft, legacy] = await Promise.all([count("nft"), count("legacy")]);
  if (nft === null && legacy === null) throw new IptablesError("Cannot find iptables: neither iptables-nft-save nor iptables-legacy-save runs", null, "");
  if (nft === null) return "legacy";
  if (legacy === null) return "nft";
  if (nft.hint) return "nft";
  if (legacy.hint) return "legacy";
  return legacy.rules > nft.rules ? "legacy" : "nft";
}

/** Runs the real binaries (iptables-nft / iptables-legacy), optionally inside a network namespace. */
export class ExecIptables implements Iptables {
  readonly backend: Backend;
  readonly #prefix: readonly string[];

  private constructor(backend: Backend, prefix: readonly string[]) {
    this.backend = backend;
    this.#prefix = prefix;
  }

  static async create(options: ExecIptablesOptions = {}): Promise<ExecIptables> {
    const prefix = options.commandPrefix ?? [];
    return new ExecIptables(options.backend ?? (await detectBackend(prefix)), prefix);
  }

  #bin(tool: "" | "-save" | "-restore"): string {
    return `iptables-${this.backend}${tool}`;
  }

  async #iptables(table: Table, args: readonly string[]): Promise<RunResult> {
    return run(this.#prefix, [this.#bin(""), "-w", String(XTABLES_WAIT_SECONDS), "-t", table, ...args]);
  }

  async save(table: Table): Promise<string> {
    const r = await run(this.#prefix, [this.#bin("-save"), "-t", table]);
    if (r.code !== 0) throw new IptablesError(`Cannot save table ${table}: ${r.stderr.trim()}`, r.code, r.stderr);
    return r.stdout;
  }

  async restore(data: string): Promise<void> {
    const r = await run(this.#prefix, [this.#bin("-restore"), "-w", String(XTABLES_WAIT_SECONDS), "--noflush", "--counters"], data);
    if (r.code !== 0) throw new IptablesError(`Cannot restore rules: ${r.stderr.trim()}`, r.code, r.stderr);
  }

  async ensureChain(table: Table, chain: string): Promise<void> {
    const r = await this.#iptables(table, ["-N", chain]);
    // Exit 1 with "Chain already exists" (legacy) / "File exists" (nft) is success for us.
    if (r.code !== 0 && !/exists/i.test(r.stderr)) throw new IptablesError(`Cannot create chain ${chain} in ${table}: ${r.stderr.trim()}`, r.code, r.stderr);
  }

  async ensureRule(table: Table, chain: string, args: readonly string[]): Promise<boolean> {
    const check = await this.#iptables(table, ["-C", chain, ...args]);
    if (check.code === 0) return false;
    const r = await this.#iptables(table, ["-I", chain, ...args]);
    if (r.code !== 0) throw new IptablesError(`Cannot add rule to ${table}/${chain}: ${r.stderr.trim()}`, r.code, r.stderr);
    return true;
  }

  async deleteRule(table: Table, chain: string, args: readonly string[]): Promise<void> {
    const check = await this.#iptables(table, ["-C", chain, ...args]);
    if (check.code !== 0) return;
    const r = await this.#iptables(table, ["-D", chain, ...args]);
    if (r.code !== 0) throw new IptablesError(`Cannot delete rule from ${table}/${chain}: ${r.stderr.trim()}`, r.code, r.stderr);
  }

  async deleteChain(table: Table, chain: string): Promise<void> {
    const f = await this.#iptables(table, ["-F", chain]);
    if (f.code !== 0) return; // no such chain
    const r = await this.#iptables(table, ["-X", chain]);
    if (r.code !== 0) throw new IptablesError(`Cannot delete chain ${chain} in ${table}: ${r.stderr.trim()}`, r.code, r.stderr);
  }
}
