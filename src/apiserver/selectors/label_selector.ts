/**
 * Label selectors in their string form, as `kubectl get -l` sends them and apimachinery's
 * `labels.Parse` reads them: `app=web,tier!=db,env in (prod,staging),!canary,track`.
 */
import { badRequest } from "../../api/status.js";

export type Operator = "=" | "==" | "!=" | "in" | "notin" | "exists" | "!" | "gt" | "lt";

export interface Requirement {
  readonly key: string;
  readonly operator: Operator;
  readonly values: readonly string[];
}

export type LabelSelector = readonly Requirement[];

/** Bounds the work one selector can cost (upstream has no limit; the request-size limit bounds it there). */
const REQUIREMENTS_MAX = 1000;

function tokenize(input: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c === " " || c === "\t") {
      i++;
      continue;
    }
    if (c === "(" || c === ")" || c === ",") {
      tokens.push(c);
      i++;
      continue;
    }
    if (c === "!" && input[i + 1] === "=") {
      tokens.push("!=");
      i += 2;
      continue;
    }
    if (c === "=" && input[i + 1] === "=") {
      tokens.push("==");
      i += 2;
      continue;
    }
    if (c === "=" || c === "!" || c === ">" || c === "<") {
      tokens.push(c);
      i++;
      continue;
    }
    let j = i;
    while (j < input.length && !" \t(),=!<>".includes(input[j]!)) j++;
    tokens.push(input.slice(i, j));
    i = j;
  }
  return tokens;
}

const OPERATOR_TOKENS = new Set(["=", "==", "!=", "in", "notin", ">", "<"]);

/** Parses a selector string; throws a 400 ApiError with apimachinery's wording on bad syntax. */
export function parseLabelSelector(input: string): LabelSelector {
  const tokens = tokenize(input);
  const reqs: Requirement[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw badRequest(`unable to parse requirement: ${why}`);
  };
  while (i < tokens.length) {
    if (reqs.length >= REQUIREMENTS_MAX) fail(`too many requirements: more than ${REQUIREMENTS_MAX}`);
    let negated = false;
    if (tokens[i] === "!") {
      negated = true;
      i++;
    }
    const key = tokens[i];
    if (key === undefined || key === "," || OPERATOR_TOKENS.has(key) || key === "(" || key === ")") fail(`found '${key ?? ""}', expected: identifier`);
    i++;
    const next = tokens[i];
    if (negated) {
      if (next !== undefined && next !== ",") fail(`found '${next}', expected: ',' or 'end of string'`);
      reqs.push({ key: key!, operator: "!", values: [] });
    } else if (next === undefined || next === ",") {
      reqs.push({ key: key!, operator: "exists", values: [] });
    } else if (next === "in" || next === "notin") {
      i++;
      if (tokens[i] !== "(") fail(`found '${tokens[i] ?? ""}', expected: '('`);
      i++;
      const values: string[] = [];
      while (tokens[i] !== ")") {
        const v = tokens[i];
        if (v === undefined) fail("found 'end of string', expected: ')'");
        if (v === ",") {
          i++;
          continue;
        }
        values.push(v!);
        i++;
      }
      i++;
      reqs.push({ key: key!, operator: next, values });
    } else if (next === "=" || next === "==" || next === "!=" || next === ">" || next === "<") {
      i++;
      const v = tokens[i];
      let value = "";
      if (v !== undefined && v !== ",") {
        value = v;
        i++;
      }
      const operator: Operator = next === ">" ? "gt" : next === "<" ? "lt" : next;
      if ((operator === "gt" || operator === "lt") && !/^-?\d+$/.test(value)) fail(`for 'Gt', 'Lt' operators, the value must be an integer`);
      reqs.push({ key: key!, operator, values: [value] });
    } else {
      fail(`found '${next}', expected: in, notin, =, ==, !=, gt, lt`);
    }
    if (i < tokens.length) {
      if (tokens[i] !== ",") fail(`found '${tokens[i]}', expected: ',' or 'end of string'`);
      i++;
    }
  }
  return reqs;
}

export function matchesLabels(selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const l = labels ?? {};
  for (const r of selector) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.operator) {
      case "=":
      case "==":
      case "in":
        if (!has || !r.values.includes(v!)) return false;
        break;
      case "!=":
      case "notin":
        if (has && r.values.includes(v!)) return false;
        break;
      case "exists":
        if (!has) return false;
        break;
      case "!":
        if (has) return false;
        break;
      case "gt":
      case "lt": {
        if (!has || !/^-?\d+$/.test(v!)) return false;
        const n = Number(v);
        const bound = Number(r.values[0]);
        if (r.operator === "gt" ? !(n > bound) : !(n < bound)) return false;
        break;
      }
    }
  }
  return true;
}

/** A metav1.LabelSelector (matchLabels + matchExpressions) as requirements. */
export function fromLabelSelectorObject(sel: {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}): LabelSelector {
  const reqs: Requirement[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) reqs.push({ key: k, operator: "=", values: [v] });
  for (const e of sel.matchExpressions ?? []) {
    const op = e.operator === "In" ? "in" : e.operator === "NotIn" ? "notin" : e.operator === "Exists" ? "exists" : e.operator === "DoesNotExist" ? "!" : null;
    if (op === null) throw badRequest(`"${e.operator}" is not a valid label selector operator`);
    reqs.push({ key: e.key, operator: op, values: e.values ?? [] });
  }
  return reqs;
}
