/**
 * `kubectl attach` on the running single-node cluster: what is typed into kubectl reaches the
 * container's stdin through the API server and the kubelet, and its output comes back. `-it` needs a
 * terminal on kubectl's side, which util-linux `script` provides.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { KUBECTL_BINARY, kubectl, kubectlAvailable, kubectlOk, startApiServer, type ApiServerProcess } from "../harness/apiserver_process.js";

const SCRIPT = "/usr/bin/script";
const OUTPUT_CHARS_MAX = 1024 * 1024;

interface Running {
  readonly child: ChildProcess;
  output(): string;
  waitFor(re: RegExp, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

function run(command: string, args: string[]): Running {
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  const collect = (d: Buffer) => {
    if (out.length < OUTPUT_CHARS_MAX) out += d.toString();
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return {
    child,
    output: () => out,
    async waitFor(re, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      // Bounded by the deadline.
      while (!re.test(out)) {
        if (Date.now() > deadline) throw new Error(`${re} did not appear within ${timeoutMs} ms:\n${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

function catPod(name: string, tty: boolean): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: { containers: [{ name: "c", image: "busybox:1.36", command: ["cat"], stdin: true, tty }] },
  });
}

describe("kubectl attach on a single-node tk8s server", { timeout: 180_000 }, () => {
  let server: ApiServerProcess;
  before(async () => {
    if (!kubectlAvailable()) throw new Error("kubectl is missing");
    server = await startApiServer({ cluster: true });
    kubectlOk(server, ["create", "-f", "-"], { input: catPod("cat-tty", true) });
    kubectlOk(server, ["create", "-f", "-"], { input: catPod("cat-plain", false) });
    kubectlOk(server, ["wait", "--for=condition=Ready", "pod/cat-tty", "pod/cat-plain", "--timeout=60s"]);
  }, { timeout: 120_000 });
  after(async () => {
    if (server !== undefined) kubectl(server, ["delete", "pod", "cat-tty", "cat-plain", "--wait=true", "--timeout=30s"]);
    await server?.stop();
  }, { timeout: 60_000 });

  test("kubectl attach -it to a container with a terminal: what is typed is echoed and cat answers it", async (t) => {
    if (!existsSync(SCRIPT)) {
      if (process.env.CI === "true") throw new Error("util-linux `script` (Debian bsdutils) is required under CI=true");
      t.skip("util-linux script is missing: kubectl -t needs a terminal");
      return;
    }
    const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
    const attach = run(SCRIPT, ["-qfec", [KUBECTL_BINARY, "--kubeconfig", server.kubeconfig, "attach", "-it", "cat-tty"].map(quote).join(" "), "/dev/null"]);
    try {
      await attach.waitFor(/If you don't see a command prompt, try pressing enter\./, 30_000);
      attach.child.stdin!.write("typed through tk8s\r");
      // The container's terminal echoes the line as it is typed, then cat writes it back: twice.
      await attach.waitFor(/typed through tk8s[\s\S]*typed through tk8s/, 20_000);
      assert.doesNotMatch(attach.output(), /Unable to use a TTY/);
    } finally {
      await attach.stop();
    }
  });

  test("kubectl attach -i to a container without a terminal streams stdin to it and its stdout back", async () => {
    const attach = run(KUBECTL_BINARY, ["--kubeconfig", server.kubeconfig, "attach", "-i", "cat-plain"]);
    try {
      attach.child.stdin!.write("first line\n");
      await attach.waitFor(/first line\n/, 30_000);
      attach.child.stdin!.write("second line\n");
      await attach.waitFor(/first line\n[\s\S]*second line\n/, 20_000);
    } finally {
      await attach.stop();
    }
  });
});
