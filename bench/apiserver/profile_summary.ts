/**
 * Summarizes a V8 `.cpuprofile` (from `node --cpu-prof`, e.g. the bench's `--cpu-prof DIR`): the busy
 * share, then the functions with the most self time and the source files with the most self and
 * inclusive time. Enough to see where a server spends its cycles without opening DevTools.
 *
 *   node dist/bench/apiserver/profile_summary.js FILE.cpuprofile [--top 25]
 */
import * as fs from "node:fs";
import { parseArgs } from "node:util";

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

/** Names V8 gives to time that is not JavaScript of ours. */
const IDLE = "(idle)";

function shortUrl(url: string): string {
  if (url === "") return "(native)";
  const i = url.indexOf("/dist/");
  if (i >= 0) return url.slice(i + 6);
  const nm = url.lastIndexOf("/node_modules/");
  if (nm >= 0) return url.slice(nm + 14);
  return url.replace(/^file:\/\//, "");
}

function frameName(f: CallFrame): string {
  return `${f.functionName || "(anonymous)"} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
}

export function summarize(profile: Profile, top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const totalUs = profile.endTime - profile.startTime;
  let idleUs = 0;
  const fnSelf = new Map<string, number>();
  const fileSelf = new Map<string, number>();
  const fileIncl = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    if (node.callFrame.functionName === IDLE) {
      idleUs += us;
      continue;
    }
    const name = frameName(node.callFrame);
    fnSelf.set(name, (fnSelf.get(name) ?? 0) + us);
    const file = shortUrl(node.callFrame.url);
    fileSelf.set(file, (fileSelf.get(file) ?? 0) + us);
    // Inclusive: each file on the stack once per sample, however deep it recurses.
    const seen = new Set<string>();
    // Bounded by the stack depth: every step moves to the parent, and the root has none.
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = shortUrl(byId.get(cur)!.callFrame.url);
      if (seen.has(f)) continue;
      seen.add(f);
      fileIncl.set(f, (fileIncl.get(f) ?? 0) + us);
    }
  }
  const busyUs = totalUs - idleUs;
  const pct = (us: number) => `${((us * 100) / Math.max(1, busyUs)).toFixed(1).padStart(5)}%`;
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  const rank = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  const lines: string[] = [];
  lines.push(`profile: ${(totalUs / 1e6).toFixed(1)} s wall, busy ${(busyUs / 1e6).toFixed(1)} s (${((busyUs * 100) / Math.max(1, totalUs)).toFixed(0)}%); percentages are of busy time`);
  lines.push(`\ntop ${top} functions by self time:`);
  for (const [name, us] of rank(fnSelf)) lines.push(`${ms(us)} ${pct(us)}  ${name}`);
  lines.push(`\ntop ${top} files by self time:`);
  for (const [name, us] of rank(fileSelf)) lines.push(`${ms(us)} ${pct(us)}  ${name}`);
  lines.push(`\ntop ${top} files by inclusive time:`);
  for (const [name, us] of rank(fileIncl)) lines.push(`${ms(us)} ${pct(us)}  ${name}`);
  return lines.join("\n");
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: "string", default: "25" } } });
  if (positionals.length !== 1) {
    process.stderr.write("usage: node dist/bench/apiserver/profile_summary.js FILE.cpuprofile [--top N]\n");
    process.exitCode = 2;
    return;
  }
  const profile = JSON.parse(fs.readFileSync(positionals[0]!, "utf8")) as Profile;
  process.stdout.write(`${summarize(profile, Math.max(1, Number(values.top)))}\n`);
}

main();
