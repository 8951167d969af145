/**
 * Reading `iptables-save -t nat` output and deciding which of the CNI plugins' nat rules and chains belong to
 * one CNI network (pure: no IO). The shell (pod_network.ts) runs the deletions.
 *
 * What the plugins of containernetworking-plugins 1.1.1 leave in the nat table (checked on this machine):
 * - bridge `ipMasq`: per pod a chain `CNI-<hash>` and `-A POSTROUTING -s <podIP>/32 -m comment --comment
 *   "name: \"<network>\" id: \"<containerID>\"" -j CNI-<hash>`.
 * - portmap: per pod a chain `CNI-DN-<hash>` reached from `CNI-HOSTPORT-DNAT` by a rule whose comment is
 *   `dnat name: "<network>" id: "<containerID>"`; shared chains `CNI-HOSTPORT-DNAT` (jumped to from PREROUTING
 *   and OUTPUT), `CNI-HOSTPORT-SETMARK` and `CNI-HOSTPORT-MASQ` (from POSTROUTING), shared by every network on
 *   the host that uses portmap.
 * A pod's CNI DEL removes its own rules; what is left after a crash (or a DEL that never ran) is found here by
 * the network name in the comments.
 */

/** One `-A CHAIN …` line, split into arguments as the shell would (quotes and `\"` undone). */
export interface IptablesRule {
  readonly chain: string;
  /** Everything after the chain name, ready to pass to `iptables -t nat -D <chain> …`. */
  readonly args: readonly string[];
  /** The `-j`/`-g` target, or "" when the rule has none. */
  readonly target: string;
  /** The `--comment` text, or "". */
  readonly comment: string;
}

/** A table from iptables-save. */
export interface IptablesTable {
  /** Every chain declared (`:NAME POLICY [p:b]`), built-in and user-defined. */
  readonly chains: readonly string[];
  readonly rules: readonly IptablesRule[];
}

/** portmap's shared chains (containernetworking-plugins plugins/meta/portmap). */
export const HOSTPORT_DNAT_CHAIN = "CNI-HOSTPORT-DNAT";
export const HOSTPORT_SETMARK_CHAIN = "CNI-HOSTPORT-SETMARK";
export const HOSTPORT_MASQ_CHAIN = "CNI-HOSTPORT-MASQ";
export const HOSTPORT_CHAINS: readonly string[] = [HOSTPORT_DNAT_CHAIN, HOSTPORT_SETMARK_CHAIN, HOSTPORT_MASQ_CHAIN];
/** A dump with more lines than this is not a node's nat table; refusing beats parsing unbounded input. */
export const IPTABLES_SAVE_LINES_MAX = 1_000_000;

export class IptablesParseError extends Error {
  override readonly name = "IptablesParseError";
}

/** Splits one iptables-save line into words: double quotes group, `\"` and `\\` are literal inside them. */
export function splitIptablesWords(line: string): string[] {
  const words: string[] = [];
  let current = "";
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === "\\" && i + 1 < line.length && (line[i + 1] === '"' || line[i + 1] === "\\")) {
        current += line[++i];
      } else if (ch === '"') {
        quoted = false;
      } else {
        current += ch;
      }
    } else if (ch === '"') {
      quoted = true;
      inWord = true;
    } else if (ch === " " || ch === "\t") {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (quoted) throw new IptablesParseError(`Cannot parse iptables-save line: unterminated quote: ${line}`);
  if (inWord) words.push(current);
  return words;
}

/** The `*<table>` section of iptables-save output (the whole output when it has only that table). */
export function parseIptablesSave(text: string, table = "nat"): IptablesTable {
  const lines = text.split("\n");
  if (lines.length > IPTABLES_SAVE_LINES_MAX) throw new IptablesParseError(`Cannot parse iptables-save output: more than ${IPTABLES_SAVE_LINES_MAX} lines`);
  const chains: string[] = [];
  const rules: IptablesRule[] = [];
  let inTable = false;
  for (const raw of lines) {
    const line = raw.trim();
    if (line.startsWith("*")) {
      inTable = line === `*${table}`;
      continue;
    }
    if (!inTable) continue;
    if (line === "COMMIT") {
      inTable = false;
    } else if (line.startsWith(":")) {
      chains.push(line.slice(1).split(" ")[0]!);
    } else if (line.startsWith("-A ")) {
      const words = splitIptablesWords(line);
      const chain = words[1]!;
      const args = words.slice(2);
      let target = "";
      let comment = "";
      for (let i = 0; i < args.length - 1; i++) {
        if (args[i] === "-j" || args[i] === "-g") target = args[i + 1]!;
        if (args[i] === "--comment") comment = args[i + 1]!;
      }
      rules.push({ chain, args, target, comment });
    }
  }
  return { chains, rules };
}

/** What to remove from the nat table for `networkName`, in order: rules first, then the chains they reached. */
export interface NatCleanupPlan {
  /** Rules to delete (`iptables -t nat -D <chain> <args…>`). */
  readonly rules: readonly IptablesRule[];
  /** Chains to flush and delete (`-F` then `-X`), after the rules. */
  readonly chains: readonly string[];
}

/** Whether a CNI comment names `networkName` (bridge: `name: "n" id: …`; portmap: `dnat name: "n" id: …`). */
export function commentNamesNetwork(comment: string, networkName: string): boolean {
  return comment.includes(`name: "${networkName}" id: "`);
}

/**
 * The per-pod rules and chains of `networkName` still in the table, and portmap's shared chains when no
 * network's pod uses them any more (nothing in CNI-HOSTPORT-DNAT after ours go): portmap recreates them on
 * the next ADD, and leaving them would leave the host changed after the last pod is gone. With
 * `unusedHostPortChains: false` they stay (another network's portmap may be between creating them and
 * adding its first rule).
 */
export function planNatCleanup(table: IptablesTable, networkName: string, options: { readonly unusedHostPortChains?: boolean } = {}): NatCleanupPlan {
  const declared = new Set(table.chains);
  const ownedChains = new Set<string>();
  const rules: IptablesRule[] = [];
  for (const rule of table.rules) {
    if (!commentNamesNetwork(rule.comment, networkName)) continue;
    rules.push(rule);
    // Only CNI's per-pod chains; a comment-bearing rule jumping to MASQUERADE or ACCEPT has no chain.
    if (rule.target.startsWith("CNI-") && !HOSTPORT_CHAINS.includes(rule.target) && declared.has(rule.target)) ownedChains.add(rule.target);
  }
  // Rules inside the owned chains go with -F; rules elsewhere jumping into them must go first or -X fails.
  for (const rule of table.rules) {
    if (ownedChains.has(rule.target) && !ownedChains.has(rule.chain) && !rules.includes(rule)) rules.push(rule);
  }
  const chains = [...ownedChains];
  const dnatRulesLeft = table.rules.filter((r) => r.chain === HOSTPORT_DNAT_CHAIN && !rules.includes(r));
  const hostPortChainsPresent = HOSTPORT_CHAINS.filter((c) => declared.has(c));
  if (options.unusedHostPortChains !== false && dnatRulesLeft.length === 0 && hostPortChainsPresent.length > 0) {
    for (const rule of table.rules) {
      if (HOSTPORT_CHAINS.includes(rule.target) && !HOSTPORT_CHAINS.includes(rule.chain) && !ownedChains.has(rule.chain) && !rules.includes(rule)) rules.push(rule);
    }
    chains.push(...hostPortChainsPresent);
  }
  return { rules, chains };
}
