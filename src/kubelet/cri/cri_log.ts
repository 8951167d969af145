/**
 * The CRI container log format, written by the runtime and read by the kubelet to serve `kubectl logs`:
 *
 *     2016-10-06T00:17:09.669794202Z stdout F hello world
 *     2016-10-06T00:17:09.669794202Z stderr P a line longer than LOG_LINE_BYTES_MAX, first piece
 *     2016-10-06T00:17:09.669794209Z stderr F … and its last piece
 *
 * One file line per output line: `<RFC3339Nano> <stream> <tag> <message>`. Tag `F` ends a line, `P` is a
 * piece that continues in the next line of the same stream (a line longer than the limit, or output that
 * did not end in a newline when it was written: a prompt shows up at once instead of waiting for `\n`).
 * The reader (as the kubelet's pkg/kubelet/kuberuntime/logs) puts pieces back together: `P` messages
 * are written as they are, `F` messages get their newline back.
 */
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import type { Clock, Logger } from "../../env/env.js";
import { assert } from "../../util/assert.js";

/** containerd's default `max_container_log_line_size`: longer lines are split into `P` pieces. */
export const LOG_LINE_BYTES_MAX = 16 * 1024;
/** Bytes read from a log file per read call. */
const READ_BLOCK_BYTES = 64 * 1024;
/**
 * A file line longer than this is not one we wrote (timestamp + stream + tag + a piece ≤ LOG_LINE_BYTES_MAX);
 * the reader drops it instead of buffering without end.
 */
const FILE_LINE_BYTES_MAX = LOG_LINE_BYTES_MAX + 128;
/** How often a follower looks for new lines when it has read everything. */
export const FOLLOW_POLL_MS_DEFAULT = 100;

export type LogStream = "stdout" | "stderr";

/** One parsed file line. */
export interface CriLogLine {
  readonly timestampNs: bigint;
  readonly stream: LogStream;
  readonly partial: boolean;
  readonly message: Uint8Array;
}

const NL = 0x0a;
const SP = 0x20;

/** Formats nanoseconds since the epoch as RFC3339 with all nine fraction digits (upstream's RFC3339NanoFixed). */
export function formatTimestamp(ns: bigint): string {
  assert(ns >= 0n, `timestamp ${ns} is before the epoch`);
  const seconds = ns / 1_000_000_000n;
  const fraction = ns % 1_000_000_000n;
  const iso = new Date(Number(seconds) * 1000).toISOString(); // 2016-10-06T00:17:09.000Z
  return `${iso.slice(0, 19)}.${fraction.toString().padStart(9, "0")}Z`;
}

const TIMESTAMP_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** Parses RFC3339 with 0–9 fraction digits (upstream's RFC3339NanoLenient) into nanoseconds; null if it does not parse. */
export function parseTimestamp(text: string): bigint | null {
  const m = TIMESTAMP_RE.exec(text);
  if (m === null) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m as unknown as [string, string, string, string, string, string, string, string | undefined, string];
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(ms)) return null;
  if (zone !== "Z") {
    const sign = zone[0] === "-" ? -1 : 1;
    ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  }
  const fractionNs = frac === undefined ? 0n : BigInt(frac.padEnd(9, "0"));
  return BigInt(ms) * 1_000_000n + fractionNs;
}

/** Parses one file line (without its trailing newline); null if it is not in the CRI format. */
export function parseCriLogLine(line: Uint8Array): CriLogLine | null {
  const buf = Buffer.from(line.buffer, line.byteOffset, line.byteLength);
  const sp1 = buf.indexOf(SP);
  if (sp1 <= 0) return null;
  const timestampNs = parseTimestamp(buf.toString("latin1", 0, sp1));
  if (timestampNs === null) return null;
  const sp2 = buf.indexOf(SP, sp1 + 1);
  if (sp2 < 0) return null;
  const streamText = buf.toString("latin1", sp1 + 1, sp2);
  if (streamText !== "stdout" && streamText !== "stderr") return null;
  // The tag may be the last thing on the line (an empty message written without its separator).
  const sp3 = buf.indexOf(SP, sp2 + 1);
  const tagText = buf.toString("latin1", sp2 + 1, sp3 < 0 ? buf.length : sp3);
  // A tag is `F`, `P`, or several `:`-separated flags whose first is F or P (CRI leaves room for more).
  const first = tagText.split(":")[0];
  if (first !== "F" && first !== "P") return null;
  const message = sp3 < 0 ? new Uint8Array(0) : line.subarray(sp3 + 1);
  return { timestampNs, stream: streamText, partial: first === "P", message };
}

/** Formats one file line, newline included. */
export function formatCriLogLine(l: CriLogLine): Buffer {
  const head = Buffer.from(`${formatTimestamp(l.timestampNs)} ${l.stream} ${l.partial ? "P" : "F"} `, "latin1");
  return Buffer.concat([head, l.message, Buffer.from([NL])]);
}

/** Nanoseconds since the epoch from a clock, strictly after `previous` (so lines keep their order when read back). */
export function nextTimestampNs(clock: Clock, previous: bigint): bigint {
  const now = BigInt(Math.floor(clock.wallMs())) * 1_000_000n;
  return now > previous ? now : previous + 1n;
}

/**
 * Appends a container's output to its log file in the CRI format. The runtime owns one per container;
 * `reopen()` follows the kubelet's rotation (it renamed the file; new lines go to a new one at `path`).
 */
export class CriLogWriter {
  #fd: number | null = null;
  #lastNs = 0n;
  #failures = 0;
  constructor(
    readonly path: string,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.#open();
  }

  #open(): void {
    fs.mkdirSync(path.dirname(this.path), { recursive: true });
    this.#fd = fs.openSync(this.path, "a", 0o640);
  }

  /** Lines written to the file that a write error lost since the writer was made. */
  get failures(): number {
    return this.#failures;
  }

  /** Writes one chunk of a stream's output: one file line per output line, pieces as `P`. */
  write(stream: LogStream, chunk: Uint8Array): void {
    if (chunk.length === 0 || this.#fd === null) return;
    const lines: Buffer[] = [];
    const emit = (message: Uint8Array, partial: boolean): void => {
      this.#lastNs = nextTimestampNs(this.clock, this.#lastNs);
      lines.push(formatCriLogLine({ timestampNs: this.#lastNs, stream, partial, message }));
    };
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NL, start);
      const end = nl < 0 ? chunk.length : nl;
      // A line longer than the limit becomes pieces; only the piece that reaches the newline is `F`.
      let at = start;
      while (end - at > LOG_LINE_BYTES_MAX) {
        emit(chunk.subarray(at, at + LOG_LINE_BYTES_MAX), true);
        at += LOG_LINE_BYTES_MAX;
      }
      if (nl < 0) {
        if (end > at) emit(chunk.subarray(at, end), true);
        break;
      }
      emit(chunk.subarray(at, end), false);
      start = nl + 1;
    }
    const data = Buffer.concat(lines);
    try {
      let written = 0;
      while (written < data.length) written += fs.writeSync(this.#fd, data, written, data.length - written);
    } catch (err) {
      // A full disk must not take the runtime down with it: the lines are lost, and counted.
      this.#failures += lines.length;
      this.log.warn("cannot write container log", { path: this.path, error: String(err), lost: this.#failures });
    }
  }

  /** Closes the file and opens `path` again (creating it): the kubelet renamed the old one away. */
  reopen(): void {
    this.close();
    this.#open();
  }

  close(): void {
    if (this.#fd === null) return;
    fs.closeSync(this.#fd);
    this.#fd = null;
  }
}

// ---------- reading ----------

/** Where read log output goes; a returned promise is awaited (backpressure). */
export interface LogSink {
  write(stream: LogStream, data: Uint8Array): void | Promise<void>;
}

/** The options of `kubectl logs` as the kubelet passes them on (PodLogOptions). */
export interface ReadLogsOptions {
  /** Lines from the end to start at; undefined or negative: all. */
  readonly tail?: number;
  /** Only lines stamped at or after this (nanoseconds since the epoch). */
  readonly sinceNs?: bigint;
  /** Prefix each output line with its RFC3339NanoFixed timestamp and a space. */
  readonly timestamps?: boolean;
  /** Stop after writing this many bytes. */
  readonly limitBytes?: number;
  /** Keep reading new lines until the container stops running or `signal` aborts. */
  readonly follow?: boolean;
  /** Asked at the end of the file when following: false ends the follow once the file is drained. */
  readonly containerRunning?: () => Promise<boolean>;
  readonly signal?: AbortSignal;
  readonly clock: Clock;
  readonly pollMs?: number;
  readonly log?: Logger;
}

/** Byte offset of the start of the `lines`-th line from the end of the file (the kubelet's FindTailLineStartIndex). */
export async function findTailStartOffset(handle: fsp.FileHandle, lines: number): Promise<number> {
  assert(lines >= 0, `tail lines ${lines} is negative`);
  const size = (await handle.stat()).size;
  if (lines === 0) return size;
  let end = size;
  let count = 0;
  const block = Buffer.alloc(READ_BLOCK_BYTES);
  // The file's last byte is the newline that ends its last line: it does not start another.
  let skipTrailingNewline = true;
  // Bounded by the file size (which rotation bounds): each round moves `end` back by a block.
  while (end > 0) {
    const start = Math.max(0, end - READ_BLOCK_BYTES);
    const { bytesRead } = await handle.read(block, 0, end - start, start);
    for (let i = bytesRead - 1; i >= 0; i--) {
      if (block[i] !== NL) continue;
      if (skipTrailingNewline && start + i === size - 1) continue;
      count++;
      if (count === lines) return start + i + 1;
    }
    skipTrailingNewline = false;
    end = start;
  }
  return 0;
}

/**
 * Reads a CRI log file into `sink` as `kubectl logs` wants it: tail, since, timestamps, limitBytes and
 * follow (which survives the kubelet rotating the file underneath). Lines that do not parse are skipped
 * and counted, as upstream skips them. Resolves when done; never throws for an aborted follow.
 */
export async function readLogs(filePath: string, sink: LogSink, options: ReadLogsOptions): Promise<{ skippedLines: number }> {
  const pollMs = options.pollMs ?? FOLLOW_POLL_MS_DEFAULT;
  let handle = await fsp.open(filePath, "r");
  let skippedLines = 0;
  let bytesLeft = options.limitBytes !== undefined && options.limitBytes >= 0 ? options.limitBytes : Infinity;
  const newLine: Record<LogStream, boolean> = { stdout: true, stderr: true };
  try {
    let offset = options.tail !== undefined && options.tail >= 0 ? await findTailStartOffset(handle, options.tail) : 0;
    let pending = Buffer.alloc(0);
    const block = Buffer.alloc(READ_BLOCK_BYTES);
    let drainedAfterStop = false;
    let switchPending = false;

    const emitLine = async (raw: Buffer): Promise<boolean> => {
      const l = parseCriLogLine(raw);
      if (l === null) {
        skippedLines++;
        options.log?.warn("cannot parse container log line", { path: filePath, bytes: raw.length });
        return true;
      }
      if (options.sinceNs !== undefined && l.timestampNs < options.sinceNs) return true;
      let out: Buffer = Buffer.from(l.message);
      if (!l.partial) out = Buffer.concat([out, Buffer.from([NL])]);
      if (options.timestamps === true && newLine[l.stream]) {
        out = Buffer.concat([Buffer.from(`${formatTimestamp(l.timestampNs)} `, "latin1"), out]);
      }
      newLine[l.stream] = !l.partial;
      if (out.length > bytesLeft) out = out.subarray(0, bytesLeft);
      bytesLeft -= out.length;
      if (out.length > 0) await sink.write(l.stream, out);
      return bytesLeft > 0;
    };

    // Never ends by itself when following: it stops at the limit, on abort, or when the container has stopped.
    for (;;) {
      if (options.signal?.aborted === true) return { skippedLines };
      const { bytesRead } = await handle.read(block, 0, READ_BLOCK_BYTES, offset);
      if (bytesRead > 0) {
        offset += bytesRead;
        pending = pending.length === 0 ? Buffer.from(block.subarray(0, bytesRead)) : Buffer.concat([pending, block.subarray(0, bytesRead)]);
        let start = 0;
        for (;;) {
          const nl = pending.indexOf(NL, start);
          if (nl < 0) break;
          if (!(await emitLine(pending.subarray(start, nl)))) return { skippedLines };
          start = nl + 1;
        }
        pending = pending.subarray(start);
        if (pending.length > FILE_LINE_BYTES_MAX) {
          skippedLines++;
          options.log?.warn("container log line too long; dropped", { path: filePath, limit: FILE_LINE_BYTES_MAX });
          pending = Buffer.alloc(0);
        }
        continue;
      }
      // End of the file.
      if (options.follow !== true) return { skippedLines };
      if (switchPending) {
        // The old file is drained (read to its end after its successor appeared): go on in the new one.
        switchPending = false;
        const next = await fsp.open(filePath, "r").catch((err: NodeJS.ErrnoException) => {
          if (err.code === "ENOENT") return null; // rotated again already: keep waiting for the next one
          throw err;
        });
        if (next !== null) {
          await handle.close();
          handle = next;
          offset = 0;
          pending = Buffer.alloc(0);
          continue;
        }
      }
      // Rotated: the kubelet renamed the file and the runtime reopened a new one at the path. Until the
      // new file exists the runtime may still write to the old one; once it exists, it no longer does,
      // so the old file is read to its end once more (lines written since our last read) before we switch.
      if (await isReplaced(filePath, handle)) {
        switchPending = true;
        continue;
      }
      if (drainedAfterStop) return { skippedLines };
      if (options.containerRunning !== undefined && !(await options.containerRunning())) {
        // One more read: lines written between our last read and the container's exit.
        drainedAfterStop = true;
        continue;
      }
      if (!(await sleep(options.clock, pollMs, options.signal))) return { skippedLines };
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** True if `filePath` now names another file than the one `handle` reads (a missing path is not yet replaced). */
async function isReplaced(filePath: string, handle: fsp.FileHandle): Promise<boolean> {
  const opened = await handle.stat();
  try {
    const current = await fsp.stat(filePath);
    return current.ino !== opened.ino || current.dev !== opened.dev;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

/** Waits `ms`; false if `signal` aborted first. */
function sleep(clock: Clock, ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted === true) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      timer.cancel();
      resolve(false);
    };
    const timer = clock.setTimer(ms, () => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, { keepProcessAlive: true });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

// ---------- rotation ----------

/** The kubelet's `--container-log-max-size` default. */
export const CONTAINER_LOG_MAX_BYTES_DEFAULT = 10 * 1024 * 1024;
/** The kubelet's `--container-log-max-files` default: the live file plus four rotated ones. */
export const CONTAINER_LOG_MAX_FILES_DEFAULT = 5;

/** Rotated files of `logPath`, oldest first: `0.log.20161006-001709` (and `.gz` once compressed). */
export async function listRotatedLogs(logPath: string): Promise<string[]> {
  const dir = path.dirname(logPath);
  const base = path.basename(logPath);
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  // The stamp sorts in time order; a `-N` suffix (two rotations in one second) sorts after its stamp.
  return names
    .filter((n) => n.startsWith(`${base}.`) && /^\d{8}-\d{6}(-\d+)?(\.gz)?$/.test(n.slice(base.length + 1)))
    .sort((a, b) => rotationKey(a).localeCompare(rotationKey(b)))
    .map((n) => path.join(dir, n));
}

function rotationKey(name: string): string {
  const m = /\.(\d{8}-\d{6})(?:-(\d+))?(?:\.gz)?$/.exec(name);
  return m === null ? name : `${m[1]}-${(m[2] ?? "0").padStart(6, "0")}`;
}

/** `20161006-001709`, the kubelet's rotation stamp, in UTC. */
export function rotationStamp(wallMs: number): string {
  const iso = new Date(wallMs).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}
