/**
 * `kubectl port-forward` on the running single-node cluster: kubectl → API server (pods/portforward,
 * tunnelled) → the kubelet's SPDY server → the pod's port, for a pod and for a Service, over both the
 * WebSocket tunnel kubectl tries first and the plain SPDY upgrade it falls back to.
 */
import assert from "node:assert/strict";
import * as http from "node:http";
import { after, before, describe, test } from "node:test";
import { kubectl, kubectlAvailable, kubectlOk, startApiServer, type ApiServerProcess } from "../harness/apiserver_process.js";
import { freePort } from "../harness/ports.js";
import { startPortForward } from "../harness/kubectl_port_forward.js";

/** What the pod runs: an HTTP server answering with its path, and 1 MiB at /big (past SPDY's 64 KiB window). */
const POD_SCRIPT = `const big = Buffer.alloc(1 << 20, "x");
require("http").createServer((q, s) => (q.url === "/big" ? s.end(big) : s.end("hi from the pod " + q.url))).listen(Number(process.env.PORT), "127.0.0.1");`;

/** kubectl port-forward in the background; resolves once it prints the ports it listens on. */
const portForward = (server: ApiServerProcess, args: string[], env: Record<string, string> = {}) => startPortForward(server.kubeconfig, args, env);

function get(port: number, path: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent: false, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
  });
}

describe("kubectl port-forward on a single-node tk8s server", { timeout: 180_000 }, () => {
  let server: ApiServerProcess;
  let podPort = 0;
  before(async () => {
    if (!kubectlAvailable()) throw new Error("kubectl is missing");
    server = await startApiServer({ cluster: true });
    // The process runtime shares the host's network: the pod's port must be free here.
    podPort = await freePort();
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "pf", labels: { app: "pf" } },
      spec: {
        containers: [
          {
            name: "web",
            image: "node:20",
            command: [process.execPath, "-e", POD_SCRIPT],
            env: [{ name: "PORT", value: String(podPort) }],
            ports: [{ containerPort: podPort, name: "http" }],
            readinessProbe: { tcpSocket: { port: podPort }, periodSeconds: 1 },
          },
        ],
      },
    };
    const service = { apiVersion: "v1", kind: "Service", metadata: { name: "pf" }, spec: { selector: { app: "pf" }, ports: [{ port: 80, targetPort: podPort }] } };
    for (const object of [pod, service]) kubectlOk(server, ["create", "-f", "-"], { input: JSON.stringify(object) });
    kubectlOk(server, ["wait", "--for=condition=Ready", "pod/pf", "--timeout=60s"]);
  }, { timeout: 120_000 });
  after(async () => {
    if (server !== undefined) kubectl(server, ["delete", "pod", "pf", "--wait=true", "--timeout=30s"]);
    await server?.stop();
  }, { timeout: 60_000 });

  for (const [how, env] of [
    ["SPDY over WebSocket (kubectl's default)", {}],
    ["a plain SPDY upgrade", { KUBECTL_PORT_FORWARD_WEBSOCKETS: "false" }],
  ] as const) {
    test(`two connections through kubectl port-forward pod/pf reach the pod over ${how}`, async () => {
      const pf = await portForward(server, ["pod/pf", `:${podPort}`], env);
      try {
        assert.equal((await get(pf.localPort, "/first")).body.toString(), "hi from the pod /first");
        assert.equal((await get(pf.localPort, "/second")).body.toString(), "hi from the pod /second");
        const big = await get(pf.localPort, "/big");
        assert.equal(big.body.length, 1 << 20);
        assert.ok(big.body.every((b) => b === 0x78));
        assert.equal(pf.output().match(/Handling connection for/g)?.length, 3, pf.output());
      } finally {
        await pf.signal("SIGTERM");
      }
    });
  }

  test("kubectl port-forward svc/pf goes to a pod behind the Service, at the Service's targetPort", async () => {
    const pf = await portForward(server, ["svc/pf", ":80"]);
    try {
      assert.match(pf.output(), new RegExp(`Forwarding from 127\\.0\\.0\\.1:\\d+ -> ${podPort}`));
      assert.equal((await get(pf.localPort, "/via-service")).body.toString(), "hi from the pod /via-service");
    } finally {
      await pf.signal("SIGTERM");
    }
  });

  test("a port nobody listens on brings the kubelet's error, after which kubectl 1.32 ends the forward", async () => {
    const closedPort = await freePort();
    const pf = await portForward(server, ["pod/pf", `:${podPort}`, `:${closedPort}`]);
    try {
      const ports = [...pf.output().matchAll(/Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
      const good = ports.find(([, remote]) => remote === podPort)![0]!;
      const bad = ports.find(([, remote]) => remote === closedPort)![0]!;
      assert.equal((await get(good, "/ok")).body.toString(), "hi from the pod /ok");
      await assert.rejects(get(bad, "/"));
      // Since kubectl 1.23 an error on the error stream closes the whole connection ("lost connection to pod").
      let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([pf.exited, new Promise<string>((r) => (timer = setTimeout(() => r("still running"), 15_000)))]);
    clearTimeout(timer);
      assert.equal(code, 1, pf.output());
      assert.match(pf.output(), new RegExp(`an error occurred forwarding \\d+ -> ${closedPort}: error forwarding port ${closedPort} to pod [0-9a-f]{64}, uid : failed to connect to localhost:${closedPort}`));
      assert.match(pf.output(), /error: lost connection to pod/);
    } finally {
      await pf.signal("SIGKILL");
    }
  });

  test("Ctrl-C ends kubectl port-forward cleanly and frees its local port", async () => {
    const pf = await portForward(server, ["pod/pf", `:${podPort}`]);
    assert.equal((await get(pf.localPort, "/before")).body.toString(), "hi from the pod /before");
    assert.equal(await pf.signal("SIGINT"), 0, pf.output());
    await assert.rejects(get(pf.localPort, "/after"), /ECONNREFUSED/);
    // The pod keeps serving: a new forward works.
    const again = await portForward(server, ["pod/pf", `:${podPort}`]);
    try {
      assert.equal((await get(again.localPort, "/again")).body.toString(), "hi from the pod /again");
    } finally {
      await again.signal("SIGTERM");
    }
  });

  test("port-forward to a pod that does not exist fails with the API server's NotFound", () => {
    const r = kubectl(server, ["port-forward", "pod/nope", "8080:80"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /pods "nope" not found/);
  });
});
