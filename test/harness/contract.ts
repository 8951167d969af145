import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { after, before, beforeEach } from "node:test";
import { Etcd3 } from "etcd3";
import { DATASTORE_KINDS, ETCD_BINARY, TK8S_ENTRY, requireBinary, startDatastore, type DatastoreKind, type DatastoreProcess, type StartDatastoreOptions } from "./datastore_process.js";
import { etcdctl, etcdctlBinary, etcdctlJson, jsonText, type EtcdctlOptions, type EtcdctlResult } from "./etcdctl.js";

/** One contract test, including its waits; the whole suite for both targets stays well under 2 minutes. */
export const TEST_TIMEOUT_MS = 20_000;
/**
 * One contract file (suite) for one target. Against etcd each takes under 10 s; a datastore that hangs on
 * every request would otherwise cost TEST_TIMEOUT_MS per test, so the rest of its suite is cancelled here.
 */
export const SUITE_TIMEOUT_MS = 90_000;
/** Starting a datastore (health within 10 s, up to 3 port attempts) or stopping it. */
export const HOOK_TIMEOUT_MS = 45_000;
/** The deadline on every unary call the etcd3 client makes; streams (watch, keep-alive) have none. */
export const CLIENT_CALL_TIMEOUT_MS = 5_000;

/**
 * The datastores the suite runs against, from CONTRACT_TARGETS (comma-separated, default "etcd,tk8s").
 * An unknown name is a mistake in the caller's environment, so it throws rather than running nothing.
 */
export function targets(): DatastoreKind[] {
  const raw = process.env.CONTRACT_TARGETS ?? "etcd,tk8s";
  const names = raw.split(",").map((name) => name.trim()).filter((name) => name !== "");
  for (const name of names) {
    if (!(DATASTORE_KINDS as readonly string[]).includes(name)) {
      throw new Error(`Cannot run the contract suite: CONTRACT_TARGETS must list ${DATASTORE_KINDS.join(", ")}: current value is ${JSON.stringify(raw)}`);
    }
  }
  return names as DatastoreKind[];
}

/** What `kind` needs on this machine that is missing (empty when everything is there). */
export function missingPrerequisites(kind: DatastoreKind): string[] {
  const missing: string[] = [];
  if (kind === "etcd" && requireBinary(ETCD_BINARY) === null) missing.push(`${ETCD_BINARY} (Debian package etcd-server)`);
  if (kind === "tk8s" && !existsSync(TK8S_ENTRY)) missing.push(TK8S_ENTRY);
  if (etcdctlBinary() === null) missing.push("etcdctl on PATH (Debian package etcd-client)");
  return missing;
}

/**
 * The skip reason behind suiteOptions(). Outside CI a machine without etcd skips the
 * suite ("etcd not installed"). Under CI=true it never skips: the suite runs and its before() hook fails
 * with the list of what is missing, because a contract suite that silently skips proves nothing.
 */
export function suiteSkipReason(kind: DatastoreKind): string | undefined {
  if (process.env.CI === "true") return undefined;
  return missingPrerequisites(kind).length === 0 ? undefined : "etcd not installed";
}

/** The options every contract suite passes to describe(): skip (outside CI only) and the suite timeout. */
export function suiteOptions(kind: DatastoreKind): { skip?: string; timeout: number } {
  const skip = suiteSkipReason(kind);
  return skip === undefined ? { timeout: SUITE_TIMEOUT_MS } : { skip, timeout: SUITE_TIMEOUT_MS };
}

/** Throws unless everything `kind` needs is installed. */
export function requirePrerequisites(kind: DatastoreKind): void {
  const missing = missingPrerequisites(kind);
  if (missing.length > 0) {
    const ci = process.env.CI === "true" ? " (CI=true: the contract suite must run, never skip)" : "";
    throw new Error(`Cannot run the ${kind} contract suite: missing ${missing.join(", ")}${ci}`);
  }
}

/**
 * A datastore for one suite (one describe block): started in before(), stopped in after(), with an etcd3
 * client and etcdctl bound to its endpoint.
 */
export class ContractTarget {
  #process: DatastoreProcess | null = null;
  #client: Etcd3 | null = null;

  constructor(readonly kind: DatastoreKind, readonly options: StartDatastoreOptions = {}) {}

  async start(): Promise<void> {
    requirePrerequisites(this.kind);
    this.#process = await startDatastore(this.kind, this.options);
  }

  async stop(): Promise<void> {
    this.#client?.close();
    this.#client = null;
    await this.#process?.stop();
  }

  get process(): DatastoreProcess {
    if (this.#process === null) throw new Error(`The ${this.kind} datastore is not started (did its before() hook fail?)`);
    return this.#process;
  }

  get endpoint(): string {
    return this.process.clientUrl;
  }

  /** An etcd3 client on this endpoint, created on first use and closed in after(). */
  get client(): Etcd3 {
    if (this.#client === null) this.#client = newClient(this.endpoint);
    return this.#client;
  }

  /** Drops the current client, e.g. after a restart broke its connection. */
  resetClient(): void {
    this.#client?.close();
    this.#client = null;
  }

  ctl(args: readonly string[], opts?: EtcdctlOptions): Promise<EtcdctlResult> {
    return etcdctl(this.endpoint, args, opts);
  }

  ctlJson<T>(args: readonly string[], opts?: EtcdctlOptions): Promise<T> {
    return etcdctlJson<T>(this.endpoint, args, opts);
  }
}

/** An etcd3 client whose unary calls all have a deadline, so a hung server fails the test instead of the timeout. */
export function newClient(endpoint: string): Etcd3 {
  return new Etcd3({
    hosts: endpoint,
    dialTimeout: 3_000,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + CLIENT_CALL_TIMEOUT_MS }),
  });
}

/**
 * Registers hooks in the current describe block that start and stop one datastore, and give each test a
 * fresh etcd3 client: etcd3 1.1.2 closes every channel of a host when any stream on it ends with a
 * "recoverable" status, which includes the CANCELLED it gets when it tears down its own watch stream; a
 * call started on the shared client at that moment fails with "14 UNAVAILABLE: Channel closed before call started".
 */
export function useDatastore(kind: DatastoreKind, options: StartDatastoreOptions = {}): ContractTarget {
  const target = new ContractTarget(kind, options);
  before(() => target.start(), { timeout: HOOK_TIMEOUT_MS });
  beforeEach(() => target.resetClient());
  after(() => target.stop(), { timeout: HOOK_TIMEOUT_MS });
  return target;
}

/** Starts a datastore just for `fn` (e.g. one with a tiny quota) and always stops it. */
export async function withDatastore<T>(kind: DatastoreKind, fn: (target: ContractTarget) => Promise<T>, options: StartDatastoreOptions = {}): Promise<T> {
  const target = new ContractTarget(kind, options);
  try {
    await target.start();
    return await fn(target);
  } finally {
    await target.stop();
  }
}

let prefixCounter = 0;

/** A key prefix no other test uses, e.g. "kv/put-get/3-a1b2c3/": tests share one datastore per file. */
export function uniquePrefix(name: string): string {
  prefixCounter += 1;
  return `${name}/${prefixCounter}-${randomBytes(3).toString("hex")}/`;
}

/** Polls `probe` until it returns a non-undefined value; throws after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, options: { timeoutMs: number; intervalMs?: number }): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  // Bounded by the deadline.
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`Timed out after ${options.timeoutMs} ms waiting for ${what}`);
    await sleep(options.intervalMs ?? 100);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The message of the error `promise` rejects with, or a thrown AssertionError-like Error if it resolves.
 * grpc-js formats a status as "<code> <NAME>: <details>", e.g. "3 INVALID_ARGUMENT: etcdserver: key is not provided",
 * and the etcd3 client keeps that text, so assertions see both the gRPC code and etcd's message.
 */
export async function rejectionMessage(promise: Promise<unknown>): Promise<string> {
  let value: unknown;
  try {
    value = await promise;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  throw new Error(`Expected the call to fail, but it returned ${jsonText(value)}`);
}
