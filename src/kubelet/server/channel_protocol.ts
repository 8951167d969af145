/**
 * The Kubernetes remote-command channel protocol over WebSocket (upstream's wsstream, as kubectl 1.32
 * speaks it for exec and attach): every binary message starts with a channel byte — 0 stdin, 1 stdout,
 * 2 stderr, 3 error (a metav1.Status when the command ends, v4+), 4 resize (JSON `{Width, Height}`);
 * v5 adds 255, "close": the client's `[255, channel]` half-closes that stream (stdin's end of input).
 */

/** Subprotocols in the order the server prefers them (newest first). */
export const CHANNEL_PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"] as const;

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const ERROR = 3;
export const RESIZE = 4;
export const CLOSE = 255;

/** Picks the newest protocol both sides speak, or null. */
export function selectProtocol(offered: ReadonlySet<string> | readonly string[]): string | null {
  const set = offered instanceof Set ? offered : new Set(offered as readonly string[]);
  for (const p of CHANNEL_PROTOCOLS) if (set.has(p)) return p;
  return null;
}

/** A message on a channel. */
export function frame(channel: number, data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(data.length + 1);
  out[0] = channel;
  out.set(data, 1);
  return out;
}

/**
 * The Status a v4+ client reads on the error channel when the command has ended: Success for exit code
 * 0, else upstream's NonZeroExitCode (kubectl prints `command terminated with exit code N` and exits N).
 */
export function exitStatus(exitCode: number, command: readonly string[]): object {
  if (exitCode === 0) return { metadata: {}, status: "Success" };
  return {
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: error executing command [${command.join(" ")}], exit code ${exitCode}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(exitCode) }] },
  };
}

/** Parses a resize message (`{"Width":80,"Height":24}`); null when malformed. */
export function parseResize(data: Uint8Array): { width: number; height: number } | null {
  try {
    const v = JSON.parse(Buffer.from(data).toString("utf8")) as { Width?: unknown; Height?: unknown };
    if (typeof v.Width !== "number" || typeof v.Height !== "number") return null;
    return { width: v.Width, height: v.Height };
  } catch {
    return null;
  }
}
