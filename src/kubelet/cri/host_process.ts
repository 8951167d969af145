/** Host process helpers for the process runtime: process groups, exit codes, PATH lookup, ptys. */
import * as fs from "node:fs";
import { constants as osConstants } from "node:os";
import * as path from "node:path";

/** containerd's default PATH for a container whose env does not set one. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The exit code a shell (and the CRI) reports for a process a signal ended: 128 + its number. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  if (signal !== null) return 128 + (osConstants.signals[signal] ?? 0);
  return 255;
}

/** Sends `signal` to the process group led by `pid`; false if there is no such group any more. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw err;
  }
}

/**
 * The kernel's start time of `pid` (field 22 of /proc/<pid>/stat, in clock ticks since boot), or null if
 * there is no such process. With the pid it names one process across pid reuse.
 */
export function processStartTime(pid: number): string | null {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its `)`.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  if (state === "Z" || state === "X") return null; // a zombie has exited; only its parent's wait is left
  return fields[19] ?? null;
}

/** True if `pid` still names the process that started at `startTime`. */
export function isSameProcessAlive(pid: number, startTime: string | null): boolean {
  const now = processStartTime(pid);
  if (now === null) return false;
  return startTime === null || now === startTime;
}

/**
 * Resolves `file` as execvp would with `PATH`: a name with a slash is taken as it is (relative to
 * `cwd`); otherwise the first executable file in PATH. Null if none.
 */
export function lookPath(file: string, envPath: string, cwd: string): string | null {
  const executable = (p: string): boolean => {
    try {
      const st = fs.statSync(p);
      if (!st.isFile()) return false;
      fs.accessSync(p, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (file.includes("/")) {
    const p = path.resolve(cwd, file);
    return executable(p) ? p : null;
  }
  for (const dir of envPath.split(":")) {
    const p = path.join(dir === "" ? cwd : path.resolve(cwd, dir), file);
    if (executable(p)) return p;
  }
  return null;
}

/** Quotes one word for /bin/sh. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

let scriptPath: string | null | undefined;

/**
 * The argv that runs `argv` on a new pseudo-terminal through util-linux `script` (node has no pty of its
 * own), or null where `script` is absent. `-e` returns the command's exit code, `-f` flushes each write,
 * `-q` drops script's banners, and /dev/null keeps no typescript file.
 */
export function ptyArgv(argv: readonly string[]): string[] | null {
  if (scriptPath === undefined) scriptPath = lookPath("script", DEFAULT_PATH, "/");
  if (scriptPath === null) return null;
  return [scriptPath, "-qfec", argv.map(shellQuote).join(" "), "/dev/null"];
}

/** The terminal a process has on its stdin (`/dev/pts/N`), or null. */
export function terminalOf(pid: number): string | null {
  try {
    const target = fs.readlinkSync(`/proc/${pid}/fd/0`);
    return target.startsWith("/dev/pts/") ? target : null;
  } catch {
    return null;
  }
}

/** Direct children of `pid` (Linux ≥ 3.5 lists them per task). */
export function childrenOf(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "latin1").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
