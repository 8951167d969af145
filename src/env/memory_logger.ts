import type { LogFields, Logger } from "./env.js";

export interface LogRecord {
  readonly level: "debug" | "info" | "warn" | "error";
  readonly msg: string;
  readonly fields: LogFields;
}

/** Keeps log records in memory so tests can assert what was said (e.g. "truncated torn WAL tail"). */
export class MemoryLogger implements Logger {
  constructor(readonly records: LogRecord[] = [], private readonly base: LogFields = {}) {}
  #add(level: LogRecord["level"], msg: string, fields?: LogFields): void {
    this.records.push({ level, msg, fields: { ...this.base, ...fields } });
  }
  debug(msg: string, fields?: LogFields): void { this.#add("debug", msg, fields); }
  info(msg: string, fields?: LogFields): void { this.#add("info", msg, fields); }
  warn(msg: string, fields?: LogFields): void { this.#add("warn", msg, fields); }
  error(msg: string, fields?: LogFields): void { this.#add("error", msg, fields); }
  child(fields: LogFields): Logger {
    return new MemoryLogger(this.records, { ...this.base, ...fields });
  }
}
