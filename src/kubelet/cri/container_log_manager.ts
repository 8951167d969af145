/**
 * Rotates containers' log files by size, as the kubelet's container log manager
 * (pkg/kubelet/logs/container_log_manager.go) does: the kubelet renames the live file to
 * `<path>.<YYYYMMDD-hhmmss>` and asks the runtime to ReopenContainerLog; older rotated files are
 * gzipped, and only `maxFiles` files (the live one included) are kept.
 */
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import type { Clock, Logger, Timer } from "../../env/env.js";
import { rethrowIfAssertion } from "../../util/assert.js";
import type { RuntimeService } from "./cri.js";
import { CONTAINER_LOG_MAX_BYTES_DEFAULT, CONTAINER_LOG_MAX_FILES_DEFAULT, listRotatedLogs, rotationStamp } from "./cri_log.js";

/** The kubelet's `containerLogMonitorInterval` default. */
export const CONTAINER_LOG_MONITOR_INTERVAL_MS_DEFAULT = 10_000;
/** Rotations started per round, so one round's work is bounded however many containers run. */
const ROTATIONS_PER_ROUND_MAX = 64;

export interface ContainerLogManagerOptions {
  readonly clock: Clock;
  readonly log: Logger;
  /** A live file at or over this size is rotated. */
  readonly maxBytes?: number;
  /** Files kept per container, the live one included; at least 2. */
  readonly maxFiles?: number;
  readonly intervalMs?: number;
}

export class ContainerLogManager {
  readonly maxBytes: number;
  readonly maxFiles: number;
  readonly intervalMs: number;
  #timer: Timer | null = null;
  #running: Promise<void> | null = null;
  #stopped = true;

  constructor(private readonly runtime: RuntimeService, private readonly options: ContainerLogManagerOptions) {
    this.maxBytes = options.maxBytes ?? CONTAINER_LOG_MAX_BYTES_DEFAULT;
    this.maxFiles = options.maxFiles ?? CONTAINER_LOG_MAX_FILES_DEFAULT;
    this.intervalMs = options.intervalMs ?? CONTAINER_LOG_MONITOR_INTERVAL_MS_DEFAULT;
    if (this.maxFiles < 2) throw new RangeError(`Cannot rotate container logs: maxFiles must be > 1: current value is ${this.maxFiles}`);
    if (!(this.maxBytes > 0)) throw new RangeError(`Cannot rotate container logs: maxBytes must be > 0: current value is ${this.maxBytes}`);
  }

  /** Checks every running container's log each interval until `stop()`. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = null;
    await this.#running;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.options.clock.setTimer(this.intervalMs, () => {
      this.#running = this.rotateAll()
        .catch((err) => {
          rethrowIfAssertion(err);
          this.options.log.warn("container log rotation round failed", { error: String(err) });
        })
        .finally(() => {
          this.#running = null;
          this.#schedule();
        });
    });
  }

  /** One round: rotates the log of each running container whose file reached `maxBytes`. */
  async rotateAll(): Promise<void> {
    const containers = await this.runtime.listContainers({ state: { state: "CONTAINER_RUNNING" } });
    let rotations = 0;
    for (const c of containers) {
      if (rotations >= ROTATIONS_PER_ROUND_MAX) break;
      try {
        const { status } = await this.runtime.containerStatus(c.id);
        if (status.logPath === "" || status.state !== "CONTAINER_RUNNING") continue;
        if (await this.rotateLog(c.id, status.logPath)) rotations++;
      } catch (err) {
        rethrowIfAssertion(err);
        this.options.log.warn("cannot rotate container log", { containerId: c.id, error: String(err) });
      }
    }
  }

  /** Rotates one container's log if it is large enough; true if it did. */
  async rotateLog(containerId: string, logPath: string): Promise<boolean> {
    let size: number;
    try {
      size = (await fsp.stat(logPath)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw err;
    }
    if (size < this.maxBytes) return false;
    await this.#removeExcess(logPath);
    await this.#compressRotated(logPath);
    const rotated = await freeRotationName(logPath, rotationStamp(this.options.clock.wallMs()));
    await fsp.rename(logPath, rotated);
    try {
      await this.runtime.reopenContainerLog(containerId);
    } catch (err) {
      // Put the file back: the runtime still writes to it, and a reader looks for it at `logPath`.
      await fsp.rename(rotated, logPath).catch(() => undefined);
      throw err;
    }
    this.options.log.info("rotated container log", { containerId, logPath, rotated, bytes: size });
    return true;
  }

  /** Leaves room for the file about to be rotated: at most maxFiles-2 rotated files remain. */
  async #removeExcess(logPath: string): Promise<void> {
    const rotated = await listRotatedLogs(logPath);
    const excess = rotated.length - (this.maxFiles - 2);
    for (let i = 0; i < excess; i++) await fsp.rm(rotated[i]!, { force: true });
  }

  /** Gzips each rotated file that is not yet compressed (the newest rotated stays plain until the next rotation). */
  async #compressRotated(logPath: string): Promise<void> {
    for (const file of await listRotatedLogs(logPath)) {
      if (file.endsWith(".gz")) continue;
      const tmp = `${file}.gz.tmp`;
      await pipeline(fs.createReadStream(file), createGzip(), fs.createWriteStream(tmp));
      await fsp.rename(tmp, `${file}.gz`);
      await fsp.rm(file, { force: true });
    }
  }
}

/** `<path>.<stamp>`, or `<path>.<stamp>-N` when a rotation already took that second. Bounded by the files kept. */
async function freeRotationName(logPath: string, stamp: string): Promise<string> {
  for (let n = 0; n < 1000; n++) {
    const name = n === 0 ? `${logPath}.${stamp}` : `${logPath}.${stamp}-${n}`;
    const taken = await fsp.access(name).then(() => true, () => false) || await fsp.access(`${name}.gz`).then(() => true, () => false);
    if (!taken) return name;
  }
  throw new Error(`Cannot rotate ${logPath}: 1000 rotations in the second ${stamp}`);
}
