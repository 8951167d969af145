/**
 * The kubelet's side of the process runtime's helper process (process_shim_main.ts): `spawn` asks it to
 * start a process and answers with a `ShimChild`, the part of a `ChildProcess` the runtime uses (pid,
 * stdio streams, "exit" and "close" events), while the fork happens in the helper, off this event loop.
 *
 * - Requests in flight are bounded (`SHIM_REQUESTS_MAX`); beyond that `spawn` fails at once.
 * - If the helper dies, requests in flight fail, the children it watched emit "lost" (they may still run:
 *   the runtime polls them as it does processes an earlier runtime started), and the next spawn starts a
 *   new helper. Helper restarts are spaced by `SHIM_RESTART_MS` so a helper that cannot start does not spin.
 * - The helper keeps this process alive only while it has work (requests or live children), as a
 *   ChildProcess does; an idle helper does not hold a test or a stopping server open.
 */
import { fork, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import type { Readable, Writable } from "node:stream";
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import type { Clock, Logger } from "../../env/env.js";
import { assert } from "../../util/assert.js";

/** Spawn requests sent and not yet answered; beyond this spawn fails (the runtime reports ResourceExhausted). */
export const SHIM_REQUESTS_MAX = 512;
/** How long a spawn may wait for the helper's answer before it fails. */
export const SHIM_SPAWN_TIMEOUT_MS = 30_000;
/** Least time between two helper starts. */
export const SHIM_RESTART_MS = 1_000;

const SHIM_MAIN = fileURLToPath(new URL("./process_shim_main.js", import.meta.url));

export type StdioMode = "pipe" | "ignore";

export interface ShimSpawnOptions {
  readonly cwd: string;
  readonly env: Record<string, string>;
  readonly argv0?: string;
  readonly uid?: number;
  readonly gid?: number;
  readonly stdio: readonly [StdioMode, StdioMode, StdioMode];
}

/** Why a spawn failed: the exec's own error (ENOENT, EACCES) or the helper's state. */
export class ShimSpawnError extends Error {
  override readonly name = "ShimSpawnError";
  constructor(message: string, readonly busy = false, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * A process the helper started. Events: "exit" (code, signal) when it ends; "close" (code, signal) after
 * "exit" once its output streams are closed too; "lost" if the helper died first (exit status unknown).
 */
export class ShimChild extends EventEmitter {
  stdin: Writable | null = null;
  stdout: Readable | null = null;
  stderr: Readable | null = null;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  #openStreams = 0;
  #closed = false;

  constructor(readonly pid: number) {
    super();
  }

  /** Stops the streams and the helper's handle from keeping this process alive (a closed runtime's children). */
  unref(): void {
    for (const s of [this.stdin, this.stdout, this.stderr]) (s as unknown as Socket | null)?.unref?.();
  }

  /** @internal the helper handed over stream `fd`. */
  attach(fd: number, socket: Socket): void {
    assert(fd >= 0 && fd <= 2, `stdio fd ${fd} is 0, 1 or 2`);
    if (fd === 0) {
      socket.on("error", () => undefined); // writes after the process closed its stdin
      this.stdin = socket;
      return;
    }
    if (fd === 1) this.stdout = socket;
    else this.stderr = socket;
    this.#openStreams++;
    socket.once("close", () => {
      this.#openStreams--;
      this.#maybeClose();
    });
  }

  /** @internal */
  exited(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#exit !== null) return;
    this.#exit = { code, signal };
    this.emit("exit", code, signal);
    this.#maybeClose();
  }

  /** @internal the helper died while this process ran. */
  lost(): void {
    if (this.#exit !== null) return;
    this.#exit = { code: null, signal: null };
    this.emit("lost");
    this.#maybeClose();
  }

  #maybeClose(): void {
    if (this.#closed || this.#exit === null || this.#openStreams > 0) return;
    this.#closed = true;
    this.emit("close", this.#exit.code, this.#exit.signal);
  }
}

interface Pending {
  readonly resolve: (c: ShimChild) => void;
  readonly reject: (e: Error) => void;
  readonly streams: number;
  child: ShimChild | null;
  received: number;
  readonly timer: { cancel(): void };
}

export interface ProcessShimOptions {
  readonly clock: Clock;
  readonly log: Logger;
}

/** SIGKILLs the process group of a process nobody will own (its start was abandoned). */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** A connection to one helper process, started on first use and again after it dies. */
export class ProcessShim {
  readonly #clock: Clock;
  readonly #log: Logger;
  #proc: ChildProcess | null = null;
  #nextId = 1;
  #startedAtMs = -Infinity;
  readonly #pending = new Map<number, Pending>();
  readonly #live = new Map<number, ShimChild>();
  #closed = false;
  #refd = true;
  spawns = 0;
  restarts = 0;

  constructor(options: ProcessShimOptions) {
    this.#clock = options.clock;
    this.#log = options.log;
  }

  /** Starts the helper now, so the first container does not wait for it. */
  start(): void {
    if (this.#proc === null && !this.#closed) this.#startHelper();
  }

  /** The helper's pid, or null if it is not running. */
  get pid(): number | null {
    return this.#proc?.pid ?? null;
  }

  #startHelper(): ChildProcess {
    const now = this.#clock.nowMs();
    if (now - this.#startedAtMs < SHIM_RESTART_MS) throw new ShimSpawnError("the process runtime's helper died and restarts too often");
    this.#startedAtMs = now;
    // Plain node, none of this process's flags (a --cpu-prof or --inspect meant for the server).
    const proc = fork(SHIM_MAIN, [], { stdio: ["ignore", "ignore", "inherit", "ipc"], execArgv: [], serialization: "json" });
    proc.on("message", (m: { op: string; id: number; pid?: number; fd?: number; message?: string; code?: number | null; signal?: NodeJS.Signals | null }, handle?: Socket) => this.#onMessage(m, handle));
    proc.once("exit", (code, signal) => this.#onHelperExit(proc, code, signal));
    proc.on("error", (err) => this.#log.warn("process runtime helper error", { error: err.message }));
    this.#proc = proc;
    this.#refd = true;
    this.#updateRef();
    this.#log.info("started process runtime helper", { pid: proc.pid });
    return proc;
  }

  #onHelperExit(proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#proc !== proc) return;
    this.#proc = null;
    if (!this.#closed) this.#log.warn("process runtime helper exited", { code, signal, live: this.#live.size, pending: this.#pending.size });
    this.restarts++;
    for (const [id, p] of this.#pending) {
      this.#pending.delete(id);
      p.timer.cancel();
      if (p.child !== null) killGroup(p.child.pid); // nobody will own it: it must not run on unseen
      p.reject(new ShimSpawnError("the process runtime's helper exited before it answered"));
    }
    for (const [id, c] of this.#live) {
      this.#live.delete(id);
      c.lost();
    }
  }

  #onMessage(m: { op: string; id: number; pid?: number; fd?: number; message?: string; code?: number | null; signal?: NodeJS.Signals | null }, handle?: Socket): void {
    if (m.op === "exit") {
      const child = this.#live.get(m.id);
      this.#live.delete(m.id);
      child?.exited(m.code ?? null, m.signal ?? null);
      this.#updateRef();
      return;
    }
    const p = this.#pending.get(m.id);
    if (p === undefined) {
      // A late answer to a request that timed out: close what it handed over; the runtime kills the group.
      handle?.destroy();
      return;
    }
    if (m.op === "failed") {
      this.#settle(m.id, p);
      p.reject(new ShimSpawnError(m.message ?? "spawn failed"));
    } else if (m.op === "spawned") {
      assert(typeof m.pid === "number" && m.pid > 0, "the helper reports a pid for a spawned process");
      p.child = new ShimChild(m.pid);
      this.#live.set(m.id, p.child);
    } else if (m.op === "stdio") {
      assert(p.child !== null, "stdio comes after spawned");
      assert(handle !== undefined, "a stdio message carries a socket");
      p.child.attach(m.fd ?? -1, handle);
      p.received++;
    }
    if (p.child !== null && p.received === p.streams) {
      this.#settle(m.id, p);
      p.resolve(p.child);
    }
  }

  #settle(id: number, p: Pending): void {
    this.#pending.delete(id);
    p.timer.cancel();
    this.#updateRef();
  }

  /** Keeps this process alive while the helper has work, as live ChildProcesses would. */
  #updateRef(): void {
    const proc = this.#proc;
    if (proc === null) return;
    const busy = !this.#closed && (this.#pending.size > 0 || this.#live.size > 0);
    if (busy === this.#refd) return;
    this.#refd = busy;
    const channel = proc.channel as unknown as { ref(): void; unref(): void } | undefined;
    if (busy) {
      proc.ref();
      channel?.ref();
    } else {
      proc.unref();
      channel?.unref();
    }
  }

  /** Starts `file args` through the helper (detached: its own session and process group). */
  spawn(file: string, args: readonly string[], options: ShimSpawnOptions): Promise<ShimChild> {
    if (this.#closed) return Promise.reject(new ShimSpawnError("the process runtime is closed"));
    if (this.#pending.size >= SHIM_REQUESTS_MAX) {
      return Promise.reject(new ShimSpawnError(`${SHIM_REQUESTS_MAX} process starts are already waiting for the helper`, true));
    }
    let proc: ChildProcess;
    try {
      proc = this.#proc ?? this.#startHelper();
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const id = this.#nextId++;
    const streams = options.stdio.filter((s) => s === "pipe").length;
    return new Promise<ShimChild>((resolve, reject) => {
      const timer = this.#clock.setTimer(SHIM_SPAWN_TIMEOUT_MS, () => {
        const p = this.#pending.get(id);
        if (p === undefined) return;
        this.#settle(id, p);
        if (p.child !== null) {
          this.#live.delete(id);
          killGroup(p.child.pid);
        }
        reject(new ShimSpawnError(`the process runtime's helper did not start "${file}" in ${SHIM_SPAWN_TIMEOUT_MS} ms`));
      });
      this.#pending.set(id, { resolve, reject, streams, child: null, received: 0, timer });
      this.#updateRef();
      this.spawns++;
      proc.send({ op: "spawn", id, file, args, cwd: options.cwd, env: options.env, stdio: options.stdio,
        ...(options.argv0 !== undefined ? { argv0: options.argv0 } : {}),
        ...(options.uid !== undefined ? { uid: options.uid } : {}),
        ...(options.gid !== undefined ? { gid: options.gid } : {}) });
    });
  }

  /** Lets this process exit: the helper stays until it does (then its channel closes and it exits too). */
  close(): void {
    this.#closed = true;
    this.#updateRef();
    const proc = this.#proc;
    if (proc === null) return;
    proc.unref();
    (proc.channel as unknown as { unref(): void } | undefined)?.unref();
    for (const c of this.#live.values()) c.unref();
  }
}
