/**
 * The edges of the world that pure cores (MVCC, WAL, leases, later Raft and controllers) may touch.
 * Production gets `src/platform/node/`; tests and the simulator get deterministic versions.
 */

/** A cancellable timer. */
export interface Timer {
  cancel(): void;
}

/** Time, read and waited on. Never `Date.now()` or `setTimeout` in a core. */
export interface Clock {
  /** Milliseconds since an arbitrary epoch; never goes backwards. */
  nowMs(): number;
  /** Wall-clock milliseconds since the Unix epoch (for timestamps shown to people). */
  wallMs(): number;
  /**
   * Runs `fn` once after `delayMs`. A pending timer does not keep the process alive unless
   * `keepProcessAlive` is set (for the heartbeat of something that must run until it is closed).
   */
  setTimer(delayMs: number, fn: () => void, options?: { keepProcessAlive?: boolean }): Timer;
}

/** Randomness; seeded in simulation. */
export interface Rng {
  /** A uniformly random unsigned 32-bit integer. */
  nextU32(): number;
}

/** An open file that only grows at its end (a WAL segment). */
export interface AppendFile {
  readonly path: string;
  /** Bytes in the file, including appended bytes not yet synced. */
  size(): number;
  append(data: Uint8Array): Promise<void>;
  /** Makes every appended byte durable (fdatasync). */
  sync(): Promise<void>;
  /** Cuts the file to `bytes` long (used to drop a torn tail). */
  truncate(bytes: number): Promise<void>;
  close(): Promise<void>;
}

/** The file system, as much of it as the storage layers need. Paths are plain strings joined with '/'. */
export interface FileSystem {
  mkdirp(dir: string): Promise<void>;
  /** Names (not paths) of the entries in `dir`, sorted; [] if it does not exist. */
  list(dir: string): Promise<string[]>;
  exists(path: string): Promise<boolean>;
  readFile(path: string): Promise<Uint8Array>;
  /** Writes a whole file so that readers see either the old or the new content (temp + fsync + rename + dir fsync). */
  writeFileAtomic(path: string, data: Uint8Array): Promise<void>;
  /** Opens (creating if needed) a file for appending at its end. */
  openAppend(path: string): Promise<AppendFile>;
  truncate(path: string, bytes: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
  /** Makes a directory's entries (creates, renames, removes) durable. */
  syncDir(dir: string): Promise<void>;
}

export type LogFields = Record<string, unknown>;

/** Structured, levelled logs: a fixed message to grep for, values in fields. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export interface Env {
  readonly clock: Clock;
  readonly rng: Rng;
  readonly fs: FileSystem;
  readonly log: Logger;
}
