import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { ManualClock } from "../../env/manual_clock.js";
import { MemoryLogger } from "../../env/memory_logger.js";
import { nodeClock } from "../../platform/node/node_env.js";
import {
  CriLogWriter, LOG_LINE_BYTES_MAX, formatCriLogLine, formatTimestamp, parseCriLogLine, parseTimestamp, readLogs,
  rotationStamp, type LogStream,
} from "./cri_log.js";

let dir = "";
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(tmpdir(), "tk8s-cri-log-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const T0 = 1475713029669794202n; // 2016-10-06T00:17:09.669794202Z

const timestampCases = [
  { name: "nine fraction digits", text: "2016-10-06T00:17:09.669794202Z", want: T0 },
  { name: "trimmed fraction digits (Go's RFC3339Nano)", text: "2016-10-06T00:17:09.6697942Z", want: T0 - 2n },
  { name: "no fraction", text: "2016-10-06T00:17:09Z", want: 1475713029000000000n },
  { name: "an offset east of UTC", text: "2016-10-06T02:17:09.669794202+02:00", want: T0 },
  { name: "not a timestamp", text: "yesterday", want: null },
];
for (const c of timestampCases) {
  test(`parseTimestamp: ${c.name}`, () => assert.equal(parseTimestamp(c.text), c.want));
}

test("formatTimestamp writes all nine fraction digits and parses back", () => {
  assert.equal(formatTimestamp(T0), "2016-10-06T00:17:09.669794202Z");
  assert.equal(formatTimestamp(1475713029000000000n), "2016-10-06T00:17:09.000000000Z");
  assert.equal(parseTimestamp(formatTimestamp(T0 + 7n)), T0 + 7n);
});

const lineCases = [
  { name: "a full stdout line", line: "2016-10-06T00:17:09.669794202Z stdout F hello world", want: { stream: "stdout", partial: false, message: "hello world" } },
  { name: "a partial stderr line", line: "2016-10-06T00:17:09.669794202Z stderr P abc", want: { stream: "stderr", partial: true, message: "abc" } },
  { name: "an empty message", line: "2016-10-06T00:17:09.669794202Z stdout F ", want: { stream: "stdout", partial: false, message: "" } },
  { name: "an empty message without its separator", line: "2016-10-06T00:17:09.669794202Z stdout F", want: { stream: "stdout", partial: false, message: "" } },
  { name: "a message with spaces kept", line: "2016-10-06T00:17:09.669794202Z stdout F  two  spaces ", want: { stream: "stdout", partial: false, message: " two  spaces " } },
  { name: "a tag with more flags", line: "2016-10-06T00:17:09.669794202Z stdout P:x y", want: { stream: "stdout", partial: true, message: "y" } },
  { name: "an unknown stream", line: "2016-10-06T00:17:09.669794202Z stdin F x", want: null },
  { name: "an unknown tag", line: "2016-10-06T00:17:09.669794202Z stdout X x", want: null },
  { name: "a bad timestamp", line: "2016-10-06 stdout F x", want: null },
];
for (const c of lineCases) {
  test(`parseCriLogLine: ${c.name}`, () => {
    const got = parseCriLogLine(Buffer.from(c.line));
    assert.deepEqual(got === null ? null : { stream: got.stream, partial: got.partial, message: Buffer.from(got.message).toString() }, c.want);
  });
}

function fileLines(file: string): string[] {
  return fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "");
}

const writerCases: { name: string; writes: [LogStream, string][]; want: string[] }[] = [
  { name: "one line per output line", writes: [["stdout", "a\nb\n"]], want: ["stdout F a", "stdout F b"] },
  { name: "output without a newline is a partial line", writes: [["stdout", "prompt> "]], want: ["stdout P prompt> "] },
  { name: "empty lines are kept, the tail after the last newline is partial", writes: [["stderr", "x\n\ny"]], want: ["stderr F x", "stderr F ", "stderr P y"] },
  { name: "streams keep their names", writes: [["stdout", "o\n"], ["stderr", "e\n"]], want: ["stdout F o", "stderr F e"] },
];
for (const c of writerCases) {
  test(`CriLogWriter: ${c.name}`, () => {
    const file = path.join(dir, "c", "0.log");
    const w = new CriLogWriter(file, new ManualClock(), new MemoryLogger());
    for (const [stream, text] of c.writes) w.write(stream, Buffer.from(text));
    w.close();
    assert.deepEqual(fileLines(file).map((l) => l.slice(l.indexOf(" ") + 1)), c.want);
  });
}

test("CriLogWriter splits a line longer than the limit into partial pieces and stamps lines in strictly increasing order", () => {
  const file = path.join(dir, "0.log");
  const w = new CriLogWriter(file, new ManualClock(), new MemoryLogger());
  const long = "x".repeat(LOG_LINE_BYTES_MAX * 2 + 10);
  w.write("stdout", Buffer.from(`${long}\n`));
  w.close();
  const parsed = fileLines(file).map((l) => parseCriLogLine(Buffer.from(l))!);
  assert.deepEqual(parsed.map((p) => [p.partial, p.message.length]), [[true, LOG_LINE_BYTES_MAX], [true, LOG_LINE_BYTES_MAX], [false, 10]]);
  // The clock did not move: the writer still orders them.
  assert.ok(parsed[0]!.timestampNs < parsed[1]!.timestampNs && parsed[1]!.timestampNs < parsed[2]!.timestampNs);
});

/** Writes a log file whose lines have the given timestamps (seconds after T0). */
function writeLog(file: string, lines: [number, LogStream, boolean, string][]): void {
  fs.writeFileSync(file, Buffer.concat(lines.map(([s, stream, partial, message]) =>
    formatCriLogLine({ timestampNs: T0 + BigInt(s) * 1_000_000_000n, stream, partial, message: Buffer.from(message) }))));
}

async function read(file: string, options: Partial<Parameters<typeof readLogs>[2]> = {}): Promise<{ out: string; stdout: string; stderr: string; skipped: number }> {
  let out = "";
  const by: Record<LogStream, string> = { stdout: "", stderr: "" };
  const { skippedLines } = await readLogs(file, {
    write(stream, data) {
      out += Buffer.from(data).toString();
      by[stream] += Buffer.from(data).toString();
    },
  }, { clock: nodeClock, ...options });
  return { out, ...by, skipped: skippedLines };
}

const sample: [number, LogStream, boolean, string][] = [
  [0, "stdout", false, "one"],
  [1, "stderr", false, "two"],
  [2, "stdout", true, "thr"],
  [3, "stdout", false, "ee"],
  [4, "stdout", false, "four"],
];

const readCases = [
  { name: "everything, partial lines joined", options: {}, want: "one\ntwo\nthree\nfour\n" },
  { name: "tail counts file lines from the end", options: { tail: 2 }, want: "ee\nfour\n" },
  { name: "tail 0 reads nothing", options: { tail: 0 }, want: "" },
  { name: "tail beyond the file reads all", options: { tail: 100 }, want: "one\ntwo\nthree\nfour\n" },
  { name: "since drops older lines", options: { sinceNs: T0 + 1_000_000_000n }, want: "two\nthree\nfour\n" },
  { name: "limitBytes cuts the output", options: { limitBytes: 6 }, want: "one\ntw" },
  {
    name: "timestamps prefix each output line once, a joined line with its first piece's stamp",
    options: { timestamps: true, tail: 3 },
    want: "2016-10-06T00:17:11.669794202Z thr" + "ee\n" + "2016-10-06T00:17:13.669794202Z four\n",
  },
];
for (const c of readCases) {
  test(`readLogs: ${c.name}`, async () => {
    const file = path.join(dir, "0.log");
    writeLog(file, sample);
    assert.equal((await read(file, c.options)).out, c.want);
  });
}

test("readLogs keeps the streams apart and skips lines it cannot parse", async () => {
  const file = path.join(dir, "0.log");
  writeLog(file, sample);
  fs.appendFileSync(file, "garbage line\n");
  const r = await read(file);
  assert.equal(r.stdout, "one\nthree\nfour\n");
  assert.equal(r.stderr, "two\n");
  assert.equal(r.skipped, 1);
});

test("readLogs with tail finds the start across read blocks", async () => {
  const file = path.join(dir, "0.log");
  const lines: [number, LogStream, boolean, string][] = [];
  for (let i = 0; i < 3000; i++) lines.push([0, "stdout", false, `line-${i}-${"y".repeat(40)}`]);
  writeLog(file, lines);
  const r = await read(file, { tail: 1500 });
  const got = r.out.trim().split("\n");
  assert.equal(got.length, 1500);
  assert.equal(got[0], `line-1500-${"y".repeat(40)}`);
});

test("readLogs follows new lines until the container stops running", async () => {
  const file = path.join(dir, "0.log");
  const w = new CriLogWriter(file, nodeClock, new MemoryLogger());
  w.write("stdout", Buffer.from("before\n"));
  let running = true;
  const chunks: string[] = [];
  const abort = new AbortController();
  const reading = readLogs(file, { write: (_s, d) => void chunks.push(Buffer.from(d).toString()) }, {
    clock: nodeClock, follow: true, pollMs: 10, containerRunning: async () => running, signal: abort.signal,
  });
  try {
    await waitFor(() => chunks.join("") === "before\n");
    w.write("stdout", Buffer.from("after\n"));
    await waitFor(() => chunks.join("") === "before\nafter\n");
    // The last lines before the exit are read after the container stops.
    w.write("stderr", Buffer.from("last\n"));
    running = false;
    await reading;
    assert.equal(chunks.join(""), "before\nafter\nlast\n");
  } finally {
    abort.abort(); // a failed wait must not leave the follower polling
    w.close();
  }
});

test("readLogs follows a log across its rotation", async () => {
  const file = path.join(dir, "0.log");
  const w = new CriLogWriter(file, nodeClock, new MemoryLogger());
  w.write("stdout", Buffer.from("old-1\n"));
  const chunks: string[] = [];
  const abort = new AbortController();
  const reading = readLogs(file, { write: (_s, d) => void chunks.push(Buffer.from(d).toString()) }, {
    clock: nodeClock, follow: true, pollMs: 10, signal: abort.signal,
  });
  try {
    await waitFor(() => chunks.join("") === "old-1\n");
    // As the kubelet and the runtime rotate: rename, the runtime still writes to the old file, then reopens.
    fs.renameSync(file, `${file}.${rotationStamp(Date.now())}`);
    w.write("stdout", Buffer.from("old-2\n"));
    await new Promise((r) => setTimeout(r, 30));
    w.write("stdout", Buffer.from("old-3\n"));
    w.reopen();
    w.write("stdout", Buffer.from("new-1\n"));
    await waitFor(() => chunks.join("") === "old-1\nold-2\nold-3\nnew-1\n");
  } finally {
    abort.abort();
    await reading;
    w.close();
  }
});

test("rotationStamp is the kubelet's YYYYMMDD-hhmmss in UTC", () => {
  assert.equal(rotationStamp(Date.UTC(2016, 9, 6, 0, 17, 9)), "20161006-001709");
});

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}
