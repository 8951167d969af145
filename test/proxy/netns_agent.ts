/**
 * Runs inside a test's network namespace (`ip netns exec NS node netns_agent.js`): HTTP servers that
 * answer with their own name (the "endpoints"), and HTTP clients (the "callers"), driven by one JSON line
 * per command on stdin, one JSON line per answer on stdout.
 *   {"id":1,"op":"listen","host":"10.244.0.2","port":8080,"name":"ep-a"}  → {"id":1,"ok":true}
 *   {"id":2,"op":"close","host":"10.244.0.2","port":8080}                 → {"id":2,"ok":true}
 *   {"id":3,"op":"get","host":"10.96.0.10","port":80,"timeoutMs":2000}    → {"id":3,"ok":true,"body":"ep-a","remote":"…"}
 *                                                                          or {"id":3,"ok":false,"code":"ECONNREFUSED"}
 * The reply body also names the address the request came from (to see masquerading).
 */
import { createServer, request, type Server } from "node:http";
import { createInterface } from "node:readline";

interface Command {
  id: number;
  op: "listen" | "close" | "get";
  host: string;
  port: number;
  name?: string;
  timeoutMs?: number;
}

const servers = new Map<string, Server>();

function reply(msg: object): void {
  process.stdout.write(JSON.stringify(msg) + "\n");
}

async function handle(c: Command): Promise<void> {
  const key = `${c.host}:${c.port}`;
  if (c.op === "listen") {
    const server = createServer((req, res) => {
      res.setHeader("connection", "close");
      res.end(JSON.stringify({ name: c.name, remote: req.socket.remoteAddress }));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(c.port, c.host, () => resolve());
    });
    servers.set(key, server);
    return reply({ id: c.id, ok: true });
  }
  if (c.op === "close") {
    const s = servers.get(key);
    servers.delete(key);
    s?.closeAllConnections();
    await new Promise<void>((resolve) => (s === undefined ? resolve() : s.close(() => resolve())));
    return reply({ id: c.id, ok: true });
  }
  const timeoutMs = c.timeoutMs ?? 2000;
  await new Promise<void>((resolve) => {
    const req = request({ host: c.host, port: c.port, path: "/", agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d));
      res.on("end", () => {
        const parsed = JSON.parse(body) as { name: string; remote: string };
        reply({ id: c.id, ok: true, body: parsed.name, remote: parsed.remote });
        resolve();
      });
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
    req.on("error", (err: NodeJS.ErrnoException) => {
      reply({ id: c.id, ok: false, code: err.code ?? String(err) });
      resolve();
    });
    req.end();
  });
}

// Never ends by itself: the test closes stdin (or kills the process) when done.
const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const c = JSON.parse(line) as Command;
  handle(c).catch((err: unknown) => reply({ id: c.id, ok: false, code: String(err) }));
});
rl.on("close", () => process.exit(0));
