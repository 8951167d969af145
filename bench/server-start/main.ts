/**
 * bench/server-start: how long `tk8s server` takes from launch to a Ready node (fresh data directory:
 * PKI, datastore, API server, controller manager, scheduler, kubelet), and the idle memory of the whole
 * process 10 s later. Targets from the workloads issue: < 2 s and < 150 MB.
 *
 *   node dist/bench/server-start/main.js [--runs N]
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { removeKubeletMemoryDir } from "../../src/kubelet/memory_dir.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ENTRY = fileURLToPath(new URL("../../../bin/tk8s.js", import.meta.url));
const START_TARGET_MS = 2000;
const IDLE_TARGET_MB = 150;
const IDLE_WAIT_MS = 10_000;
const START_TIMEOUT_MS = 60_000;

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m === null ? NaN : Number(m[1]) / 1024;
}

async function once(): Promise<{ readyMs: number; idleMb: number }> {
  const dir = mkdtempSync(join(tmpdir(), "tk8s-bench-start-"));
  const started = performance.now();
  // Run the entry itself, as `npx tk8s` does, so its shebang's V8 flags apply.
  const child = spawn(ENTRY, ["server", "--data-dir", dir, "--secure-port", "0", "--kubelet-port", "0", "--bind-address", "127.0.0.1", "--log-level", "error"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  try {
    const readyMs = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no Ready node in ${START_TIMEOUT_MS} ms:\n${out}`)), START_TIMEOUT_MS);
      child.stdout.on("data", () => {
        if (/node \S+ is Ready/.test(out)) {
          clearTimeout(timer);
          resolve(performance.now() - started);
        }
      });
      child.once("exit", (code) => reject(new Error(`tk8s server exited with ${code}:\n${out}`)));
    });
    await new Promise((r) => setTimeout(r, IDLE_WAIT_MS));
    return { readyMs, idleMb: rssMb(child.pid!) };
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    rmSync(dir, { recursive: true, force: true });
    removeKubeletMemoryDir(join(dir, "kubelet")); // its tmpfs side (src/kubelet/memory_dir.ts)
  }
}

async function main(): Promise<void> {
  const i = process.argv.indexOf("--runs");
  const runs = i > 0 ? Number(process.argv[i + 1]) : 3;
  const results: { readyMs: number; idleMb: number }[] = [];
  for (let r = 1; r <= runs; r++) {
    const res = await once();
    results.push(res);
    console.log(`[run ${r}/${runs}] launch → Ready node ${res.readyMs.toFixed(0)} ms; idle RSS ${res.idleMb.toFixed(1)} MiB`);
  }
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const median = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)]!;
  const ready = median(results.map((x) => x.readyMs));
  const idle = median(results.map((x) => x.idleMb));
  console.log("| figure | median | target | vs target |");
  console.log("|---|---:|---:|---:|");
  console.log(`| launch → Ready node (ms) | ${ready.toFixed(0)} | < ${START_TARGET_MS} | ${(ready / START_TARGET_MS).toFixed(2)}× |`);
  console.log(`| idle RSS, whole process (MiB) | ${idle.toFixed(1)} | < ${IDLE_TARGET_MB} | ${(idle / IDLE_TARGET_MB).toFixed(2)}× |`);
}

await main();
