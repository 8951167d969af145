/**
 * Runs one probe (upstream's pkg/probe exec, http and tcp probers) and says Success or Failure with
 * the output upstream shows in the `Unhealthy` event ("Liveness probe failed: <output>").
 *
 * - exec: ExecSync through the runtime, exit code 0 is success; output is stdout+stderr.
 * - httpGet: GET (node:http/https) to host (default the pod IP) : port + path; 200 ≤ code < 400 is
 *   success; HTTPS skips certificate checks as upstream does. Body read up to 10 KiB.
 * - tcpSocket: a connection that opens is success.
 * A probe that runs past timeoutSeconds fails with upstream's timeout text.
 */
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import type { Container, Probe } from "kubernetes-types/core/v1.js";
import type { RuntimeService } from "../cri/cri.js";
import { ExecTimeoutError } from "../cri/errors.js";

export type ProbeResult = { readonly success: boolean; readonly output: string };

/** Bytes of an HTTP probe's body kept for the event message (upstream's maxRespBodyLength). */
const HTTP_BODY_BYTES_MAX = 10 * 1024;

export interface ProbeTarget {
  readonly runtime: RuntimeService;
  readonly containerId: string;
  readonly container: Container;
  readonly podIP: string;
}

function resolvePort(port: number | string | undefined, container: Container): number {
  if (typeof port === "number") return port;
  const n = Number(port);
  if (Number.isInteger(n) && n > 0) return n;
  const named = (container.ports ?? []).find((p) => p.name === port);
  if (named === undefined) throw new Error(`couldn't find port: ${String(port)} in ${JSON.stringify(container.ports ?? [])}`);
  return named.containerPort;
}

export async function runProbe(probe: Probe, target: ProbeTarget): Promise<ProbeResult> {
  const timeoutSeconds = probe.timeoutSeconds ?? 1;
  try {
    if (probe.exec != null) return await execProbe(probe.exec.command ?? [], timeoutSeconds, target);
    if (probe.httpGet != null) {
      const g = probe.httpGet;
      const port = resolvePort(g.port as number | string, target.container);
      const headers: Record<string, string> = { "User-Agent": "kube-probe/1.32", Accept: "*/*" };
      for (const h of g.httpHeaders ?? []) headers[h.name] = h.value;
      return await httpProbe({ scheme: (g.scheme ?? "HTTP").toLowerCase() as "http" | "https", host: g.host || target.podIP, port, path: g.path ?? "/", headers }, timeoutSeconds);
    }
    if (probe.tcpSocket != null) {
      const port = resolvePort(probe.tcpSocket.port as number | string, target.container);
      return await tcpProbe(probe.tcpSocket.host || target.podIP, port, timeoutSeconds);
    }
    // grpc probes are not implemented: treated as passing rather than killing a healthy container.
    return { success: true, output: "" };
  } catch (err) {
    return { success: false, output: (err as Error).message };
  }
}

async function execProbe(cmd: readonly string[], timeoutSeconds: number, t: ProbeTarget): Promise<ProbeResult> {
  try {
    const r = await t.runtime.execSync({ containerId: t.containerId, cmd, timeout: timeoutSeconds });
    const output = Buffer.concat([Buffer.from(r.stdout), Buffer.from(r.stderr)]).toString("utf8");
    return { success: r.exitCode === 0, output };
  } catch (err) {
    if (err instanceof ExecTimeoutError) return { success: false, output: `command ${JSON.stringify(cmd.join(" "))} timed out` };
    throw err;
  }
}

export function httpProbe(o: { scheme: "http" | "https"; host: string; port: number; path: string; headers: Record<string, string> }, timeoutSeconds: number): Promise<ProbeResult> {
  const hostPort = o.host.includes(":") ? `[${o.host}]:${o.port}` : `${o.host}:${o.port}`;
  const url = `${o.scheme}://${hostPort}${o.path.startsWith("/") ? o.path : `/${o.path}`}`;
  return new Promise((resolve) => {
    const mod = o.scheme === "https" ? https : http;
    const req = mod.request(url, { method: "GET", headers: o.headers, agent: false, ...(o.scheme === "https" ? { rejectUnauthorized: false } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on("data", (c: Buffer) => {
        if (bytes < HTTP_BODY_BYTES_MAX) chunks.push(c.subarray(0, HTTP_BODY_BYTES_MAX - bytes));
        bytes += c.length;
      });
      res.on("end", () => {
        clearTimeout(timer);
        const code = res.statusCode ?? 0;
        const body = Buffer.concat(chunks).toString("utf8");
        if (code >= 200 && code < 400) resolve({ success: true, output: body });
        else resolve({ success: false, output: `HTTP probe failed with statuscode: ${code}` });
      });
      res.on("error", (err) => resolve({ success: false, output: err.message }));
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ success: false, output: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
    }, timeoutSeconds * 1000);
    req.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ success: false, output: `Get "${url}": dial tcp ${hostPort}: connect: ${err.code === "ECONNREFUSED" ? "connection refused" : err.message}` });
    });
    req.end();
  });
}

export function tcpProbe(host: string, port: number, timeoutSeconds: number): Promise<ProbeResult> {
  const hostPort = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ success: false, output: `dial tcp ${hostPort}: i/o timeout` });
    }, timeoutSeconds * 1000);
    sock.once("connect", () => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ success: true, output: "" });
    });
    sock.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ success: false, output: `dial tcp ${hostPort}: connect: ${err.code === "ECONNREFUSED" ? "connection refused" : err.message}` });
    });
  });
}
