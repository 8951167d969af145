/** Flag parsers and host facts shared by `tk8s server` and `tk8s agent`. */
import { isIP } from "node:net";
import * as os from "node:os";
import { InvalidArgumentError } from "commander";
import type { Node } from "kubernetes-types/core/v1.js";
import type { RestClient } from "../client/rest_client.js";

export function port(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new InvalidArgumentError(`must be a port number (0-65535): current value is "${v}"`);
  return Number(v);
}

export function nonNegative(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`must be a non-negative integer: current value is "${v}"`);
  return Number(v);
}

/** An `IP:PORT` (`[IPv6]:PORT`) listen address; port 0 picks a free one. */
export function ipPort(v: string): string {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(v) ?? /^([^:]+):(\d+)$/.exec(v);
  if (m === null || isIP(m[1]!) === 0 || Number(m[2]) > 65535) throw new InvalidArgumentError(`must be IP:PORT, e.g. 0.0.0.0:53: current value is "${v}"`);
  return v;
}

/** A Go-style duration flag (`40s`, `5m`, `500ms`, `1h`) in milliseconds. */
export function duration(v: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(v);
  if (m === null) throw new InvalidArgumentError(`must be a duration like 40s or 5m: current value is "${v}"`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"];
}

/** The first non-internal IPv4 address of the host (what a node or the `kubernetes` Endpoints advertise). */
export function defaultHostAddress(): string {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return "127.0.0.1";
}

/** Waits (bounded) for the node's Ready condition to be True, as the last gate of start-up. */
export async function waitForNodeReady(client: RestClient, name: string, timeoutMs: number): Promise<boolean> {
  const nodes = client.resource<Node>("", "v1", "nodes");
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const node = await nodes.get(name);
      if (node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")) return true;
    } catch {
      // Not registered yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}
