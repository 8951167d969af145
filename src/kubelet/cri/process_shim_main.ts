/**
 * The process runtime's helper process (its "shim", as containerd-shim and conmon are to their runtimes):
 * it forks and execs container and exec processes for the kubelet, reaps them and reports their exits.
 *
 * Why a separate process: `child_process.spawn` forks synchronously, and fork's cost grows with the
 * parent's memory. In the server (hundreds of MiB) one spawn blocked the event loop for ~10 ms, about a
 * quarter of the server's CPU during a burst of pod start-ups. This process is small and does nothing else.
 *
 * Protocol (Node's IPC channel, JSON; see process_shim.ts for the kubelet's side):
 *   kubelet → shim  {op:"spawn", id, file, args, argv0, cwd, env, uid?, gid?, stdio:[in,out,err]}
 *   shim → kubelet  {op:"spawned", id, pid}, then {op:"stdio", id, fd} with the socket of each piped stream
 *                   {op:"failed", id, message}   the exec failed (no process)
 *                   {op:"exit", id, code, signal}
 * The child's stdio are the socketpairs libuv makes for "pipe"; their ends are handed to the kubelet, which
 * reads and writes them itself, and this process closes its copies once they are sent.
 *
 * It dies with its parent: when the IPC channel closes (the kubelet exited or crashed) it exits. The
 * processes it started are detached (their own session and group) and keep running, as they did when the
 * kubelet spawned them itself: a restarted runtime adopts them by pid (see process_runtime.ts).
 */
import { spawn } from "node:child_process";
import type { Socket } from "node:net";

interface SpawnRequest {
  readonly op: "spawn";
  readonly id: number;
  readonly file: string;
  readonly args: readonly string[];
  readonly argv0?: string;
  readonly cwd: string;
  readonly env: Record<string, string>;
  readonly uid?: number;
  readonly gid?: number;
  readonly stdio: readonly ["pipe" | "ignore", "pipe" | "ignore", "pipe" | "ignore"];
}

function send(message: object, handle?: Socket): void {
  // The channel closes only when the parent is gone; then this process is exiting anyway.
  if (process.connected) process.send!(message, handle as never);
}

function onSpawn(req: SpawnRequest): void {
  let child;
  try {
    child = spawn(req.file, [...req.args], {
      cwd: req.cwd,
      env: req.env,
      detached: true, // its own session and process group: the kubelet signals the whole group
      stdio: [...req.stdio],
      ...(req.argv0 !== undefined ? { argv0: req.argv0 } : {}),
      ...(req.uid !== undefined ? { uid: req.uid } : {}),
      ...(req.gid !== undefined ? { gid: req.gid } : {}),
    });
  } catch (err) {
    send({ op: "failed", id: req.id, message: (err as Error).message });
    return;
  }
  if (child.pid === undefined) {
    // spawn reports exec failures (ENOENT, EACCES) asynchronously through "error".
    child.once("error", (err) => send({ op: "failed", id: req.id, message: err.message }));
    return;
  }
  child.once("error", () => undefined); // a later kill error is not ours to report
  const streams = [child.stdin, child.stdout, child.stderr] as const;
  // Node starts reading a child's output socket as it creates it. Stop that before the event loop polls,
  // so that not a byte of the container's output is read here: all of it goes to the kubelet.
  for (const s of streams) (s as unknown as { _handle?: { readStop?: () => void } } | null)?._handle?.readStop?.();
  send({ op: "spawned", id: req.id, pid: child.pid });
  streams.forEach((s, fd) => {
    if (s !== null) send({ op: "stdio", id: req.id, fd }, s as Socket);
  });
  child.once("exit", (code, signal) => send({ op: "exit", id: req.id, code, signal }));
}

process.on("message", (m: SpawnRequest) => {
  if (m?.op === "spawn") onSpawn(m);
});
// Dies with its parent: the channel closes when the kubelet exits, crashes or is killed.
process.on("disconnect", () => process.exit(0));
