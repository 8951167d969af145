/**
 * resolv.conf(5) as the kubelet reads the host's (pkg/kubelet/network/dns/dns.go, parseResolvConf): the
 * nameserver lines, the last search (or domain) line, and every options line (a later option replaces an
 * earlier one with the same name). Comments start with '#' or ';'.
 */
export interface ResolvConf {
  readonly nameservers: readonly string[];
  readonly searches: readonly string[];
  readonly options: readonly string[];
}

export function parseResolvConf(text: string): ResolvConf {
  const nameservers: string[] = [];
  let searches: string[] = [];
  let options: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/[#;].*$/, "").trim();
    if (line === "") continue;
    const fields = line.split(/\s+/);
    const [key, ...rest] = fields;
    if (key === "nameserver" && rest.length >= 1) nameservers.push(rest[0]!);
    // The last of search and domain wins (resolv.conf(5)); "." means none and is dropped, trailing dots too.
    if (key === "search" || key === "domain") searches = rest.filter((s) => s !== ".").map((s) => s.replace(/\.$/, ""));
    if (key === "options") options = mergeOptions(options, rest);
  }
  return { nameservers, searches, options };
}

/** Options by name, later ones replacing earlier ones (ndots:2 then ndots:5 → ndots:5), order of first use kept. */
export function mergeOptions(existing: readonly string[], more: readonly string[]): string[] {
  const byName = new Map<string, string>();
  for (const o of [...existing, ...more]) {
    const at = o.indexOf(":");
    byName.set(at < 0 ? o : o.slice(0, at), o);
  }
  return [...byName.values()];
}
