/**
 * Label selectors on the client side (apimachinery labels.Selector): what listers filter by and what a
 * controller turns its spec.selector into. Parses the string form (`app=web,tier!=db,env in (a,b),!x`)
 * and converts metav1.LabelSelector as LabelSelectorAsSelector does: a missing selector matches nothing,
 * an empty one matches everything.
 */
import type { LabelSelector } from "kubernetes-types/meta/v1.js";

export type Labels = Readonly<Record<string, string>> | undefined;

type Op = "=" | "!=" | "in" | "notin" | "exists" | "!";

interface Requirement {
  readonly key: string;
  readonly op: Op;
  readonly values: readonly string[];
}

export class Selector {
  /** `nothing` matches no object at all (a nil LabelSelector). */
  constructor(
    readonly requirements: readonly Requirement[],
    readonly nothing = false,
  ) {}

  matches(labels: Labels): boolean {
    if (this.nothing) return false;
    for (const r of this.requirements) {
      const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
      const v = has ? labels![r.key]! : undefined;
      switch (r.op) {
        case "=":
          if (v !== r.values[0]) return false;
          break;
        case "!=":
          if (v === r.values[0]) return false;
          break;
        case "in":
          if (v === undefined || !r.values.includes(v)) return false;
          break;
        case "notin":
          if (v !== undefined && r.values.includes(v)) return false;
          break;
        case "exists":
          if (!has) return false;
          break;
        case "!":
          if (has) return false;
          break;
      }
    }
    return true;
  }

  empty(): boolean {
    return !this.nothing && this.requirements.length === 0;
  }

  /** The string form the API takes as `labelSelector=`. */
  toString(): string {
    return this.requirements
      .map((r) => {
        switch (r.op) {
          case "=":
          case "!=":
            return `${r.key}${r.op}${r.values[0]}`;
          case "in":
          case "notin":
            return `${r.key} ${r.op} (${r.values.join(",")})`;
          case "exists":
            return r.key;
          case "!":
            return `!${r.key}`;
        }
      })
      .join(",");
  }
}

export function everything(): Selector {
  return new Selector([]);
}

/** Matches objects carrying every label of `set` (labels.SelectorFromSet). */
export function selectorFromSet(set: Readonly<Record<string, string>>): Selector {
  return new Selector(Object.keys(set).sort().map((key) => ({ key, op: "=" as const, values: [set[key]!] })));
}

/** metav1.LabelSelectorAsSelector: undefined/null → nothing; {} → everything. */
export function selectorFromLabelSelector(ls: LabelSelector | null | undefined): Selector {
  if (ls === undefined || ls === null) return new Selector([], true);
  const reqs: Requirement[] = [];
  for (const key of Object.keys(ls.matchLabels ?? {}).sort()) reqs.push({ key, op: "=", values: [ls.matchLabels![key]!] });
  for (const e of ls.matchExpressions ?? []) {
    switch (e.operator) {
      case "In":
        reqs.push({ key: e.key, op: "in", values: e.values ?? [] });
        break;
      case "NotIn":
        reqs.push({ key: e.key, op: "notin", values: e.values ?? [] });
        break;
      case "Exists":
        reqs.push({ key: e.key, op: "exists", values: [] });
        break;
      case "DoesNotExist":
        reqs.push({ key: e.key, op: "!", values: [] });
        break;
      default:
        throw new Error(`"${e.operator}" is not a valid label selector operator`);
    }
  }
  return new Selector(reqs);
}

/** Parses the string form; throws on syntax it does not know. */
export function parseSelector(text: string): Selector {
  const parts: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of text) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  parts.push(cur);
  const reqs: Requirement[] = [];
  for (const raw of parts) {
    const p = raw.trim();
    if (p === "") continue;
    let m: RegExpMatchArray | null;
    if ((m = p.match(/^([^\s!=()]+)\s+(in|notin)\s+\(([^)]*)\)$/)) !== null) {
      reqs.push({ key: m[1]!, op: m[2] as "in" | "notin", values: m[3]!.split(",").map((v) => v.trim()).filter((v) => v !== "") });
    } else if ((m = p.match(/^([^\s!=()]+)\s*!=\s*([^\s!=(),]*)$/)) !== null) {
      reqs.push({ key: m[1]!, op: "!=", values: [m[2]!] });
    } else if ((m = p.match(/^([^\s!=()]+)\s*==?\s*([^\s!=(),]*)$/)) !== null) {
      reqs.push({ key: m[1]!, op: "=", values: [m[2]!] });
    } else if ((m = p.match(/^!\s*([^\s!=()]+)$/)) !== null) {
      reqs.push({ key: m[1]!, op: "!", values: [] });
    } else if ((m = p.match(/^([^\s!=()]+)$/)) !== null) {
      reqs.push({ key: m[1]!, op: "exists", values: [] });
    } else {
      throw new Error(`unable to parse requirement: "${p}"`);
    }
  }
  return new Selector(reqs);
}
