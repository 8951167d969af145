/**
 * kubeconfig files as clientcmd reads them (its v1 Config): clusters, users and contexts by name, the
 * current context, credentials inline (`*-data`, base64) or by file path (relative paths resolve against
 * the kubeconfig's own directory, as clientcmd does). The result is the RestConfig every component's
 * RestClient is built from.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse } from "yaml";

/** The product version in every User-Agent we send. */
export const CLIENT_VERSION = "0.1.0";

/** Where and how to reach the API server. PEM strings, not paths. */
export interface RestConfig {
  /** https://host:port */
  readonly server: string;
  /** The CA that signed the server's certificate; undefined means the system's roots. */
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly token?: string;
  readonly insecureSkipTlsVerify?: boolean;
  /** `tk8s-<component>/0.1.0` */
  readonly userAgent: string;
}

export interface LoadKubeconfigOptions {
  /** A context other than `current-context`. */
  readonly context?: string;
  /** Names the User-Agent: `tk8s-scheduler/0.1.0`. */
  readonly component?: string;
}

/** A kubeconfig that cannot be used: missing context, cluster, server, or an unreadable credential. */
export class KubeconfigError extends Error {
  override readonly name = "KubeconfigError";
}

export function userAgentFor(component: string): string {
  return `tk8s-${component}/${CLIENT_VERSION}`;
}

interface Named<T> {
  name?: string;
  [k: string]: unknown;
  value?: T;
}

function namedEntry(list: unknown, field: string, name: string, what: string): Record<string, unknown> {
  if (!Array.isArray(list)) throw new KubeconfigError(`invalid configuration: no ${what}s`);
  const hit = (list as Named<unknown>[]).find((e) => e !== null && typeof e === "object" && e.name === name);
  if (hit === undefined) throw new KubeconfigError(`invalid configuration: ${what} "${name}" not found`);
  const body = hit[field];
  return body !== null && typeof body === "object" ? (body as Record<string, unknown>) : {};
}

function str(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** Inline `<name>-data` (base64) wins over the `<name>` file path, as in clientcmd. */
function credential(o: Record<string, unknown>, key: string, baseDir: string): string | undefined {
  const data = str(o, `${key}-data`);
  if (data !== undefined) return Buffer.from(data, "base64").toString("utf8");
  const file = str(o, key);
  if (file === undefined) return undefined;
  const path = isAbsolute(file) ? file : resolve(baseDir, file);
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new KubeconfigError(`Cannot read ${key} "${path}": ${(err as Error).message}`, { cause: err });
  }
}

/** Builds a RestConfig from kubeconfig text. `baseDir` resolves relative credential paths. */
export function parseKubeconfig(text: string, baseDir: string, options: LoadKubeconfigOptions = {}): RestConfig {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new KubeconfigError(`Cannot parse kubeconfig: ${(err as Error).message}`, { cause: err });
  }
  if (doc === null || typeof doc !== "object") throw new KubeconfigError("invalid configuration: no configuration has been provided");
  const cfg = doc as Record<string, unknown>;
  const contextName = options.context ?? str(cfg, "current-context");
  if (contextName === undefined) throw new KubeconfigError("invalid configuration: no current-context is set");
  const context = namedEntry(cfg.contexts, "context", contextName, "context");
  const clusterName = str(context, "cluster");
  if (clusterName === undefined) throw new KubeconfigError(`invalid configuration: context "${contextName}" has no cluster`);
  const cluster = namedEntry(cfg.clusters, "cluster", clusterName, "cluster");
  const userName = str(context, "user");
  const user = userName === undefined ? {} : namedEntry(cfg.users, "user", userName, "user");
  const server = str(cluster, "server");
  if (server === undefined) throw new KubeconfigError(`invalid configuration: cluster "${clusterName}" has no server`);
  let token = str(user, "token");
  const tokenFile = str(user, "tokenFile");
  if (token === undefined && tokenFile !== undefined) token = credential({ tokenFile }, "tokenFile", baseDir)?.trim();
  const ca = credential(cluster, "certificate-authority", baseDir);
  const cert = credential(user, "client-certificate", baseDir);
  const key = credential(user, "client-key", baseDir);
  return {
    server: server.replace(/\/+$/, ""),
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(token === undefined ? {} : { token }),
    ...(cluster["insecure-skip-tls-verify"] === true ? { insecureSkipTlsVerify: true } : {}),
    userAgent: userAgentFor(options.component ?? "client"),
  };
}

/** Reads a kubeconfig file into a RestConfig. */
export function loadKubeconfig(path: string, options: LoadKubeconfigOptions = {}): RestConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new KubeconfigError(`Cannot read kubeconfig "${path}": ${(err as Error).message}`, { cause: err });
  }
  return parseKubeconfig(text, dirname(resolve(path)), options);
}
