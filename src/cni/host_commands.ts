/**
 * The host tools the pod network setup runs (`ip`, `iptables`, `iptables-save`, `modprobe`), each bounded in
 * time and output, with the error text the tool printed.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** `ip` and `iptables` answer in milliseconds; seconds means the xtables lock is held or the tool hangs. */
export const HOST_COMMAND_TIMEOUT_MS = 15_000;
/** A node's nat table dump fits easily; more is not something to hold in memory. */
export const HOST_COMMAND_OUTPUT_BYTES_MAX = 64 << 20;
/** Where Debian puts ip, iptables and modprobe, in case PATH (a test runner's, a service's) lacks sbin. */
const SBIN_DIRS = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

export class HostCommandError extends Error {
  override readonly name = "HostCommandError";
  constructor(readonly command: string, readonly args: readonly string[], readonly status: number | null, readonly stderr: string, options?: ErrorOptions) {
    super(`Cannot run ${command} ${args.join(" ")}: ${status === null ? "it did not finish" : `exit ${status}`}: ${stderr.trim()}`, options);
  }
}

/** The absolute path of `name` on PATH or in the sbin dirs, or null. */
export function findHostCommand(name: string): string | null {
  const dirs = [...(process.env.PATH ?? "").split(delimiter).filter((d) => d !== ""), ...SBIN_DIRS];
  for (const dir of dirs) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // Not here.
    }
  }
  return null;
}

export interface HostCommandResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `name args…`; never throws for a non-zero exit (callers decide), only when it cannot run at all. */
export function runHostCommand(name: string, args: readonly string[]): HostCommandResult {
  const path = findHostCommand(name);
  if (path === null) throw new HostCommandError(name, args, null, `${name} not found on PATH or in ${SBIN_DIRS.join(", ")}`);
  const r = spawnSync(path, args, { encoding: "utf8", timeout: HOST_COMMAND_TIMEOUT_MS, maxBuffer: HOST_COMMAND_OUTPUT_BYTES_MAX });
  if (r.error !== undefined || r.status === null) throw new HostCommandError(name, args, null, r.error?.message ?? `killed by ${r.signal}`, { cause: r.error });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `name args…` and throws HostCommandError unless it exits 0. */
export function mustRunHostCommand(name: string, args: readonly string[]): string {
  const r = runHostCommand(name, args);
  if (r.status !== 0) throw new HostCommandError(name, args, r.status, r.stderr);
  return r.stdout;
}
