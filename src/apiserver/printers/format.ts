/**
 * The formatters upstream's printers share: label maps and selectors as strings, container
 * names/images, service ports and external IPs, endpoints, access modes, `<none>`-style placeholders.
 */
import type { LabelSelector } from "kubernetes-types/meta/v1.js";
import type { Container, EndpointSubset, LoadBalancerStatus, ServicePort } from "kubernetes-types/core/v1.js";

export const NONE = "<none>";
export const UNSET = "<unset>";
export const UNKNOWN = "<unknown>";
export const PENDING = "<pending>";

/** Lists of endpoints, ports and storage versions show this many entries, then ` + N more...`. */
export const LIST_ENTRIES_SHOWN_MAX = 3;

/** `labels.Set.String()`: `k=v` pairs sorted by key, comma-joined; "" for none. */
export function labelsString(labels: Readonly<Record<string, string>> | undefined): string {
  if (labels === undefined || labels === null) return "";
  return Object.keys(labels)
    .sort(compareStrings)
    .map((k) => `${k}=${labels[k]}`)
    .join(",");
}

/** `labels.FormatLabels`: the label map as a selector string, or `<none>`. */
export function formatLabels(labels: Readonly<Record<string, string>> | undefined): string {
  return labelsString(labels) || NONE;
}

/**
 * `metav1.LabelSelectorAsSelector(sel).String()`: requirements sorted by key — `k=v` for matchLabels,
 * `k in (a,b)`, `k notin (a,b)`, `k`, `!k` for expressions — or an Error for an operator or value
 * count the selector grammar does not allow. A nil or empty selector prints as "".
 */
export function labelSelectorString(selector: LabelSelector | undefined | null): string | Error {
  if (selector === undefined || selector === null) return "";
  const requirements: { key: string; text: string }[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) requirements.push({ key, text: `${key}=${value}` });
  for (const expr of selector.matchExpressions ?? []) {
    const values = [...(expr.values ?? [])].sort(compareStrings);
    switch (expr.operator) {
      case "In":
      case "NotIn":
        if (values.length === 0) return new Error("for 'in', 'notin' operators, values set can't be empty");
        requirements.push({ key: expr.key, text: `${expr.key} ${expr.operator === "In" ? "in" : "notin"} (${values.join(",")})` });
        break;
      case "Exists":
      case "DoesNotExist":
        if (values.length !== 0) return new Error("values set must be empty for exists and does not exist");
        requirements.push({ key: expr.key, text: expr.operator === "Exists" ? expr.key : `!${expr.key}` });
        break;
      default:
        return new Error(`"${expr.operator}" is not a valid label selector operator`);
    }
  }
  return requirements
    .sort((a, b) => compareStrings(a.key, b.key))
    .map((r) => r.text)
    .join(",");
}

/** `metav1.FormatLabelSelector`: the selector string, `<none>` when it selects by nothing, `<error>` when invalid. */
export function formatLabelSelector(selector: LabelSelector | undefined | null): string {
  const s = labelSelectorString(selector);
  if (s instanceof Error) return "<error>";
  return s || NONE;
}

/** `layoutContainerCells`: container names and images, each comma-joined in spec order. */
export function layoutContainerCells(containers: readonly Container[] | undefined): { names: string; images: string } {
  const list = containers ?? [];
  return { names: list.map((c) => c.name).join(","), images: list.map((c) => c.image ?? "").join(",") };
}

/** `makePortString`: `80/TCP`, or `80:30080/TCP` with a node port, comma-joined. Protocol defaults to TCP. */
export function makePortString(ports: readonly ServicePort[] | undefined): string {
  return (ports ?? [])
    .map((p) => {
      const protocol = p.protocol ?? "TCP";
      return p.nodePort !== undefined && p.nodePort > 0 ? `${p.port}:${p.nodePort}/${protocol}` : `${p.port}/${protocol}`;
    })
    .join(",");
}

/** `loadBalancerStatusStringer` as the server calls it (wide, never clipped): ingress IPs or hostnames, sorted and deduplicated. */
export function loadBalancerStatusString(status: LoadBalancerStatus | undefined): string {
  const set = new Set<string>();
  for (const ingress of status?.ingress ?? []) {
    if (ingress.ip) set.add(ingress.ip);
    else if (ingress.hostname) set.add(ingress.hostname);
  }
  return [...set].sort(compareStrings).join(",");
}

/** `net.JoinHostPort`: IPv6 hosts in brackets. */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** `formatEndpoints(ep, nil)`: the first three `ip:port`s (bare IPs for port-less subsets), then ` + N more...`; `<none>` with no subsets. */
export function formatEndpoints(subsets: readonly EndpointSubset[] | undefined): string {
  if (subsets === undefined || subsets.length === 0) return NONE;
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addresses = ss.addresses ?? [];
    const ports = ss.ports ?? [];
    if (ports.length === 0) {
      // Headless services may have no ports.
      count += addresses.length;
      for (const addr of addresses) {
        if (list.length === LIST_ENTRIES_SHOWN_MAX) {
          more = true;
          break;
        }
        list.push(addr.ip);
      }
      continue;
    }
    for (const port of ports) {
      count += addresses.length;
      for (const addr of addresses) {
        if (list.length === LIST_ENTRIES_SHOWN_MAX) {
          more = true;
          break;
        }
        list.push(joinHostPort(addr.ip, port.port));
      }
    }
  }
  const joined = list.join(",");
  return more ? `${joined} + ${count - LIST_ENTRIES_SHOWN_MAX} more...` : joined;
}

/** `listWithMoreString`: the shown entries, ` + N more...` past the limit, `<unset>` when empty. */
export function listWithMoreString(list: readonly string[], more: boolean, count: number, max: number): string {
  const joined = list.join(",");
  if (more) return `${joined} + ${count - max} more...`;
  return joined === "" ? UNSET : joined;
}

/** `helper.GetAccessModesAsString`: RWO, ROX, RWX, RWOP in that order, each once. */
export function accessModesString(modes: readonly string[] | undefined): string {
  const present = new Set(modes ?? []);
  const out: string[] = [];
  if (present.has("ReadWriteOnce")) out.push("RWO");
  if (present.has("ReadOnlyMany")) out.push("ROX");
  if (present.has("ReadWriteMany")) out.push("RWX");
  if (present.has("ReadWriteOncePod")) out.push("RWOP");
  return out.join(",");
}

/** `printBool` / `printBoolPtr`: `True`, `False`, `<unset>`. */
export function boolString(value: boolean | undefined | null): string {
  if (value === undefined || value === null) return UNSET;
  return value ? "True" : "False";
}

/** `intstr.IntOrString.String()`: an int prints as its decimal, a string as itself. */
export function intOrString(value: number | string): string {
  return typeof value === "number" ? String(value) : value;
}

/** Byte-wise string order, as Go's `sort.Strings` (localeCompare would fold case). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
