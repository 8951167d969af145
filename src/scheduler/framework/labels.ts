import type { LabelSelector, LabelSelectorRequirement } from "kubernetes-types/meta/v1.js";
import type { Node, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod } from "kubernetes-types/core/v1.js";

export type Labels = Readonly<Record<string, string>>;

/** A compiled label selector. `null` input (metav1.LabelSelectorAsSelector(nil)) matches nothing. */
export interface Selector {
  matches(labels: Labels | undefined): boolean;
  readonly empty: boolean;
}

const EMPTY_LABELS: Labels = Object.freeze({});
const NOTHING: Selector = { matches: () => false, empty: false };

function requirementMatches(r: LabelSelectorRequirement, labels: Labels): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = has ? labels[r.key] : undefined;
  switch (r.operator) {
    case "In":
      return has && (r.values ?? []).includes(v!);
    case "NotIn":
      return !has || !(r.values ?? []).includes(v!);
    case "Exists":
      return has;
    case "DoesNotExist":
      return !has;
    default:
      return false;
  }
}

/**
 * metav1.LabelSelectorAsSelector: matchLabels and matchExpressions ANDed; an empty selector matches
 * everything, a missing one nothing. `extra` adds requirements (matchLabelKeys merged from the pod).
 */
export function labelSelector(sel: LabelSelector | null | undefined, extra: LabelSelectorRequirement[] = []): Selector {
  if (sel === null || sel === undefined) return NOTHING;
  const reqs: LabelSelectorRequirement[] = [];
  for (const [key, value] of Object.entries(sel.matchLabels ?? {})) reqs.push({ key, operator: "In", values: [value] });
  for (const r of sel.matchExpressions ?? []) reqs.push(r);
  reqs.push(...extra);
  // An unknown operator makes the whole selector invalid: upstream fails to build it and treats it as matching nothing.
  if (reqs.some((r) => !["In", "NotIn", "Exists", "DoesNotExist"].includes(r.operator))) return NOTHING;
  const n = reqs.length;
  // A plain loop: selectors run once per pod per node in affinity and spreading, the scheduler's hottest path.
  const matches = (labels: Labels | undefined): boolean => {
    const l = labels ?? EMPTY_LABELS;
    for (let i = 0; i < n; i++) if (!requirementMatches(reqs[i]!, l)) return false;
    return true;
  };
  return { matches, empty: n === 0 };
}

/** matchLabelKeys: `key In [pod's value]` for each key the pod has (keys it lacks are ignored, as upstream). */
export function matchLabelKeysRequirements(keys: readonly string[] | undefined, pod: Pod): LabelSelectorRequirement[] {
  const labels = pod.metadata?.labels ?? {};
  const out: LabelSelectorRequirement[] = [];
  for (const key of keys ?? []) {
    const v = labels[key];
    if (v !== undefined) out.push({ key, operator: "In", values: [v] });
  }
  return out;
}

function parseIntStrict(s: string): number | null {
  return /^[+-]?\d+$/.test(s) ? Number.parseInt(s, 10) : null;
}

/** One nodeSelector requirement against labels (In, NotIn, Exists, DoesNotExist, Gt, Lt); null when it is invalid. */
function nodeRequirementMatches(r: NodeSelectorRequirement, labels: Labels): boolean | null {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const values = r.values ?? [];
  switch (r.operator) {
    case "In":
      if (values.length === 0) return null;
      return has && values.includes(labels[r.key]!);
    case "NotIn":
      if (values.length === 0) return null;
      return !has || !values.includes(labels[r.key]!);
    case "Exists":
      return values.length === 0 ? has : null;
    case "DoesNotExist":
      return values.length === 0 ? !has : null;
    case "Gt":
    case "Lt": {
      if (values.length !== 1) return null;
      const want = parseIntStrict(values[0]!);
      if (want === null) return null;
      if (!has) return false;
      const got = parseIntStrict(labels[r.key]!);
      if (got === null) return false;
      return r.operator === "Gt" ? got > want : got < want;
    }
    default:
      return null;
  }
}

/**
 * A nodeSelectorTerm: matchExpressions against labels and matchFields against `metadata.name`, all
 * ANDed. A term with nothing in it matches no node; an invalid term is ignored (matches no node), as
 * upstream's lazy-error node selector does for backwards compatibility.
 */
export function nodeSelectorTermMatches(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  for (const r of exprs) if (nodeRequirementMatches(r, labels) !== true) return false;
  const fieldSet = { "metadata.name": node.metadata?.name ?? "" };
  for (const r of fields) {
    if (r.key !== "metadata.name") return false;
    if (r.operator !== "In" && r.operator !== "NotIn") return false;
    if ((r.values ?? []).length !== 1) return false;
    if (nodeRequirementMatches(r, fieldSet) !== true) return false;
  }
  return true;
}

/** A NodeSelector's terms are ORed. */
export function nodeSelectorMatches(sel: NodeSelector, node: Node): boolean {
  return sel.nodeSelectorTerms.some((t) => nodeSelectorTermMatches(t, node));
}

/**
 * nodeaffinity.GetRequiredNodeAffinity(pod).Match(node): the pod's nodeSelector labels and its
 * required node affinity both hold.
 */
export function podMatchesNodeSelectorAndAffinityTerms(pod: Pod, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required === undefined) return true;
  return nodeSelectorMatches(required, node);
}
