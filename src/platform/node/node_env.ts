/** The real `Env`: the only module that touches node:fs, timers, Date.now and Math.random. */
import * as fsp from "node:fs/promises";
import * as fs from "node:fs";
import * as path from "node:path";
import { randomInt } from "node:crypto";
import { pino } from "pino";
import type { AppendFile, Clock, Env, FileSystem, LogFields, Logger, Rng, Timer } from "../../env/env.js";

export const nodeClock: Clock = {
  nowMs: () => performance.now(),
  wallMs: () => Date.now(),
  setTimer(delayMs: number, fn: () => void, options?: { keepProcessAlive?: boolean }): Timer {
    const handle = setTimeout(fn, delayMs);
    if (options?.keepProcessAlive !== true) handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
};

export const nodeRng: Rng = { nextU32: () => randomInt(0, 2 ** 32 - 1) };

class NodeAppendFile implements AppendFile {
  #size: number;
  constructor(readonly path: string, private readonly handle: fsp.FileHandle, size: number) {
    this.#size = size;
  }
  size(): number {
    return this.#size;
  }
  async append(data: Uint8Array): Promise<void> {
    // A synchronous write: it only copies into the page cache (microseconds), and saves a thread-pool
    // round trip on the WAL's hot path; the fsync that follows is what waits on the disk, off-thread.
    const at = this.#size;
    let written = 0;
    while (written < data.length) written += fs.writeSync(this.handle.fd, data, written, data.length - written, at + written);
    this.#size += data.length;
  }
  async sync(): Promise<void> {
    await this.handle.datasync();
  }
  async truncate(bytes: number): Promise<void> {
    await this.handle.truncate(bytes);
    this.#size = bytes;
  }
  async close(): Promise<void> {
    await this.handle.close();
  }
}

export const nodeFileSystem: FileSystem = {
  async mkdirp(dir) {
    await fsp.mkdir(dir, { recursive: true });
  },
  async list(dir) {
    try {
      return (await fsp.readdir(dir)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
  },
  async exists(p) {
    try {
      await fsp.access(p);
      return true;
    } catch {
      return false;
    }
  },
  async readFile(p) {
    return new Uint8Array(await fsp.readFile(p));
  },
  async writeFileAtomic(p, data) {
    const tmp = `${p}.tmp`;
    const h = await fsp.open(tmp, "w");
    try {
      await h.writeFile(data);
      await h.sync();
    } finally {
      await h.close();
    }
    await fsp.rename(tmp, p);
    await nodeFileSystem.syncDir(path.dirname(p));
  },
  async openAppend(p) {
    const h = await fsp.open(p, fs.existsSync(p) ? "r+" : "w+");
    const st = await h.stat();
    return new NodeAppendFile(p, h, st.size);
  },
  async truncate(p, bytes) {
    await fsp.truncate(p, bytes);
  },
  async rename(from, to) {
    await fsp.rename(from, to);
  },
  async remove(p) {
    await fsp.rm(p, { force: true, recursive: true });
  },
  async syncDir(dir) {
    const h = await fsp.open(dir, "r");
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  },
};

/** Levels a deployment can pick with --log-level. */
export type LogLevel = "debug" | "info" | "warn" | "error";

function wrapPino(p: pino.Logger): Logger {
  return {
    debug: (msg, f?: LogFields) => p.debug(f ?? {}, msg),
    info: (msg, f?: LogFields) => p.info(f ?? {}, msg),
    warn: (msg, f?: LogFields) => p.warn(f ?? {}, msg),
    error: (msg, f?: LogFields) => p.error(f ?? {}, msg),
    child: (f) => wrapPino(p.child(f)),
  };
}

/** JSON lines on stderr, one per event (stdout stays free for command output). */
export function newNodeLogger(level: LogLevel = "info", fields: LogFields = {}): Logger {
  return wrapPino(pino({ level, base: { pid: process.pid, ...fields } }, pino.destination({ fd: 2, sync: true })));
}

export function newNodeEnv(options: { logLevel?: LogLevel; logFields?: LogFields } = {}): Env {
  return { clock: nodeClock, rng: nodeRng, fs: nodeFileSystem, log: newNodeLogger(options.logLevel, options.logFields) };
}
