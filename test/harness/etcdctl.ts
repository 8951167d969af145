import { spawn } from "node:child_process";
import { requireBinary, withParentDeathSignal } from "./datastore_process.js";

/** Bounds one etcdctl run: its own dial (3 s) and command (5 s) timeouts plus process start-up. */
export const ETCDCTL_TIMEOUT_MS = 15_000;
/** etcdctl output the harness keeps; a full `get --prefix` of a test's keys is far below this. */
export const ETCDCTL_OUTPUT_BYTES_MAX = 16 * 1024 * 1024;

export interface EtcdctlOptions {
  /** Written to stdin, then stdin is closed (`txn` reads its script there, `put KEY` its value). */
  input?: string | Buffer;
  /** The run is SIGTERMed after this; defaults to ETCDCTL_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Checked on every stdout chunk; once true the run is SIGTERMed (for `watch`, which never ends itself). */
  until?: (stdout: string) => boolean;
}

export interface EtcdctlResult {
  /** The exit code; 128 + signal number when the process was killed. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** How the run ended: on its own, because `until` matched, or because of the timeout. */
  readonly ended: "exit" | "until" | "timeout";
}

/** The etcdctl binary; null when it is not installed (contract.ts turns that into a skip or, under CI, a failure). */
export function etcdctlBinary(): string | null {
  return requireBinary("etcdctl");
}

/**
 * Runs real `etcdctl` (API v3) against one endpoint: `etcdctl --endpoints=E --dial-timeout=3s --command-timeout=5s ARGS`.
 * Never rejects for a non-zero exit: callers assert on code/stdout/stderr, since errors are part of the contract.
 */
export function etcdctl(endpoint: string, args: readonly string[], opts: EtcdctlOptions = {}): Promise<EtcdctlResult> {
  const binary = etcdctlBinary();
  if (binary === null) return Promise.reject(new Error("Cannot run etcdctl: it is not on PATH (Debian package etcd-client)"));
  const timeoutMs = opts.timeoutMs ?? ETCDCTL_TIMEOUT_MS;
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    // Inherited ETCDCTL_* variables (endpoints, certs) would change what is being tested.
    if (!name.startsWith("ETCDCTL_")) env[name] = value;
  }
  env.ETCDCTL_API = "3";
  const fullArgs = [`--endpoints=${endpoint}`, "--dial-timeout=3s", "--command-timeout=5s", ...args];
  return new Promise((resolve, reject) => {
    // Under pdeathsig too: an `etcdctl watch` orphaned by a crashed test would otherwise retry forever.
    const [file, fileArgs] = withParentDeathSignal(binary, fullArgs);
    const child = spawn(file, fileArgs, { stdio: ["pipe", "pipe", "pipe"], env });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let outputBytes = 0;
    let ended: EtcdctlResult["ended"] = "exit";
    const stopWith = (why: "until" | "timeout"): void => {
      if (ended !== "exit") return;
      ended = why;
      child.kill("SIGTERM");
    };
    const timer = setTimeout(() => stopWith("timeout"), timeoutMs);
    const collect = (into: Buffer[]) => (chunk: Buffer): void => {
      outputBytes += chunk.length;
      if (outputBytes > ETCDCTL_OUTPUT_BYTES_MAX) {
        child.kill("SIGKILL");
        return;
      }
      into.push(chunk);
    };
    child.stdout.on("data", collect(stdout));
    child.stderr.on("data", collect(stderr));
    if (opts.until !== undefined) {
      const until = opts.until;
      child.stdout.on("data", () => {
        if (until(Buffer.concat(stdout).toString("utf8"))) stopWith("until");
      });
    }
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`Cannot run ${binary}: ${err.message}`, { cause: err }));
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? 128 + signalNumber(signal),
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
        ended,
      });
    });
    // etcdctl may exit before reading stdin (e.g. a usage error); that EPIPE is not the test's concern.
    child.stdin.on("error", () => {});
    child.stdin.end(opts.input ?? "");
  });
}

/** etcdctl exited non-zero where the caller needed its JSON. */
export class EtcdctlError extends Error {
  override readonly name = "EtcdctlError";
  constructor(readonly args: readonly string[], readonly result: EtcdctlResult) {
    super(`etcdctl ${args.join(" ")} exited ${result.code} (${result.ended}): ${result.stderr.trim() || result.stdout.trim()}`);
  }
}

/**
 * Runs `etcdctl ARGS -w json` and parses the output (see parseEtcdctlJson). Rejects with EtcdctlError on a
 * non-zero exit. The type parameter only names the expected shape (see the *Json interfaces below).
 */
export async function etcdctlJson<T = JsonValue>(endpoint: string, args: readonly string[], opts: EtcdctlOptions = {}): Promise<T> {
  const fullArgs = [...args, "-w", "json"];
  const result = await etcdctl(endpoint, fullArgs, opts);
  if (result.code !== 0) throw new EtcdctlError(fullArgs, result);
  return parseEtcdctlJson(result.stdout) as T;
}

/** Any JSON value, with integers beyond 2^53 as bigint (member, cluster and lease IDs are full uint64/int64). */
export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };

const BIGINT_MARKER = "\u0000bigint:";

/**
 * Parses etcdctl's `-w json` output. etcdctl prints protobuf messages through Go's encoding/json: byte fields
 * (keys, values) are base64 strings, int64/uint64 are bare numbers (IDs often exceed 2^53, so JSON.parse would
 * round them: those become bigint here), and zero values are omitted (`count`, `deleted`, `more`, `kvs`).
 */
export function parseEtcdctlJson(text: string): JsonValue {
  return JSON.parse(quoteUnsafeIntegers(text), (_key, value: unknown) =>
    typeof value === "string" && value.startsWith(BIGINT_MARKER) ? BigInt(value.slice(BIGINT_MARKER.length)) : value,
  ) as JsonValue;
}

/** `etcdctl watch -w json` prints one JSON document per line. */
export function parseEtcdctlJsonLines(text: string): JsonValue[] {
  return text.split("\n").filter((line) => line.trim() !== "").map(parseEtcdctlJson);
}

/** Rewrites integer literals outside strings that are not safe JS integers into marked strings. */
function quoteUnsafeIntegers(text: string): string {
  let out = "";
  let i = 0;
  // Bounded: every iteration consumes at least one character of `text`.
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"') {
      const end = endOfString(text, i);
      out += text.slice(i, end);
      i = end;
    } else if (ch === "-" || (ch >= "0" && ch <= "9")) {
      const match = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 64));
      const literal = match?.[0] ?? ch;
      const isInteger = match !== null && match[1] === undefined && match[2] === undefined;
      out += isInteger && !Number.isSafeInteger(Number(literal)) ? JSON.stringify(BIGINT_MARKER + literal) : literal;
      i += literal.length;
    } else {
      out += ch;
      i += 1;
    }
  }
  return out;
}

/** The index just past the closing quote of the JSON string starting at `start`. */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === "\\") i += 2;
    else if (text[i] === '"') return i + 1;
    else i += 1;
  }
  return text.length; // unterminated: let JSON.parse report it
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGPIPE: 13, SIGTERM: 15 };
  return signal === null ? 0 : (numbers[signal] ?? 0);
}

/** etcdctl prints keys and values base64-encoded in JSON; decodes one to UTF-8. */
export function fromBase64(value: string | undefined): string {
  return Buffer.from(value ?? "", "base64").toString("utf8");
}

/** An int64/uint64 field as parsed by parseEtcdctlJson (number or bigint, absent = 0) as a bigint. */
export function toBigInt(value: number | bigint | string | undefined): bigint {
  return value === undefined ? 0n : BigInt(value);
}

// The shapes of the etcdctl 3.4 `-w json` outputs the suite reads. Absent means zero/empty (Go omitempty).

/** A uint64/int64 that may exceed 2^53. */
export type Int64Json = number | bigint;

export interface HeaderJson {
  cluster_id?: Int64Json;
  member_id?: Int64Json;
  revision?: number;
  raft_term?: number;
}

export interface KeyValueJson {
  key: string;
  create_revision?: number;
  mod_revision?: number;
  version?: number;
  value?: string;
  lease?: Int64Json;
}

/** `get`: kvs absent when empty, count absent when 0, more absent when false. */
export interface RangeJson {
  header: HeaderJson;
  kvs?: KeyValueJson[];
  more?: boolean;
  count?: number;
}

/** `put`: prev_kv only with --prev-kv and an existing key. */
export interface PutJson {
  header: HeaderJson;
  prev_kv?: KeyValueJson;
}

/** `del`: deleted absent when 0. */
export interface DeleteJson {
  header: HeaderJson;
  deleted?: number;
  prev_kvs?: KeyValueJson[];
}

/** `txn`: each response is Go's oneof wrapper, e.g. {"Response":{"ResponsePut":{…}}}. */
export interface TxnJson {
  header: HeaderJson;
  succeeded?: boolean;
  responses?: Array<{ Response: { ResponsePut?: PutJson; ResponseRange?: RangeJson; ResponseDeleteRange?: DeleteJson } }>;
}

/** `watch -w json`, one per line: Go field names, type absent for PUT (0) and 1 for DELETE. */
export interface WatchResponseJson {
  Header: HeaderJson;
  Events: Array<{ type?: number; kv: KeyValueJson; prev_kv?: KeyValueJson }>;
  CompactRevision: number;
  Canceled: boolean;
  Created: boolean;
}

/** `lease grant`: the header fields are inlined, not nested. */
export interface LeaseGrantJson extends HeaderJson {
  ID: Int64Json;
  TTL: number;
  Error?: string;
}

/** `lease timetolive [--keys]`: lower-case names; an expired lease has ttl -1, granted-ttl 0, keys null. */
export interface LeaseTimeToLiveJson extends HeaderJson {
  id: Int64Json;
  ttl: number;
  "granted-ttl": number;
  keys: string[] | null;
}

/** `lease list`. */
export interface LeaseListJson extends HeaderJson {
  leases?: Array<{ id: Int64Json }>;
}

/** `lease keep-alive --once`. */
export interface LeaseKeepAliveJson extends HeaderJson {
  ID: Int64Json;
  TTL: number;
}

/** `endpoint status`: one entry per endpoint. */
export interface EndpointStatusJson {
  Endpoint: string;
  Status: {
    header: HeaderJson;
    version?: string;
    dbSize?: number;
    leader?: Int64Json;
    raftIndex?: number;
    raftTerm?: number;
    raftAppliedIndex?: number;
    errors?: string[];
    dbSizeInUse?: number;
    isLearner?: boolean;
  };
}

/** `endpoint health`. */
export interface EndpointHealthJson {
  endpoint: string;
  health: boolean;
  took?: string;
  error?: string;
}

/** `endpoint hashkv`. */
export interface EndpointHashKvJson {
  Endpoint: string;
  HashKV: { header: HeaderJson; hash?: number; compact_revision?: number };
}

/** `alarm list`: alarm is the AlarmType enum (1 = NOSPACE, 2 = CORRUPT). */
export interface AlarmListJson {
  header?: HeaderJson;
  alarms?: Array<{ memberID: Int64Json; alarm: number }>;
}

/** `member list`. */
export interface MemberListJson {
  header: HeaderJson;
  members: Array<{ ID: Int64Json; name?: string; peerURLs?: string[]; clientURLs?: string[]; isLearner?: boolean }>;
}

/** `snapshot status FILE` (reads the file locally as bbolt; no server involved). */
export interface SnapshotStatusJson {
  hash: number;
  revision: number;
  totalKey: number;
  totalSize: number;
}

/** JSON.stringify that prints bigint IDs as numbers, for assertion messages. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}
