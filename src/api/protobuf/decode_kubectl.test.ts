// Real kubectl bodies: each command runs twice against a recording server, once for real (kubectl's
// typed client POSTs protobuf, which the server records and echoes back) and once with
// `--dry-run=client -o json` (kubectl prints the JSON it would have sent). The decoded protobuf body
// must be that JSON exactly.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadDefinitions } from "../openapi/definitions.js";
import { apiGroupDocument, apiGroupList, apiResourceList, apiVersions } from "../../apiserver/discovery.js";
import { decodeKubernetesProtobuf, type UnknownField } from "./decode.js";
import { PROTOBUF_CONTENT_TYPE } from "./envelope.js";

const KUBECTL = "/usr/bin/kubectl";
const KUBECTL_TIMEOUT_MS = 20_000;

interface Recorded {
  readonly path: string;
  readonly contentType: string;
  readonly body: Buffer;
}

let server: Server;
let serverUrl = "";
let cacheDir = "";
const posts: Recorded[] = [];
/** Objects the server answers GETs with, by path, as recorded protobuf bodies. */
const objects = new Map<string, Recorded>();

function json(res: import("node:http").ServerResponse, doc: object | null): void {
  if (doc === null) {
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", code: 404, reason: "NotFound" }));
    return;
  }
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify(doc));
}

before(async () => {
  cacheDir = mkdtempSync(join(tmpdir(), "tk8s-protobuf-"));
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://localhost");
      const parts = url.pathname.split("/").filter((p) => p !== "");
      if (req.method === "POST") {
        const body = Buffer.concat(chunks);
        const contentType = req.headers["content-type"] ?? "";
        posts.push({ path: url.pathname, contentType, body });
        // An echo is a valid answer in either encoding: kubectl only prints the created object's name.
        res.writeHead(201, { "content-type": contentType });
        res.end(body);
        return;
      }
      const stored = req.method === "GET" ? objects.get(url.pathname) : undefined;
      if (stored !== undefined) {
        res.writeHead(200, { "content-type": stored.contentType });
        res.end(stored.body);
        return;
      }
      if (url.pathname === "/version") return json(res, { major: "1", minor: "32", gitVersion: "v1.32.0" });
      if (url.pathname === "/api") return json(res, apiVersions("127.0.0.1"));
      if (url.pathname === "/apis") return json(res, apiGroupList());
      if (parts[0] === "api" && parts.length === 2) return json(res, apiResourceList("", parts[1]!));
      if (parts[0] === "apis" && parts.length === 2) return json(res, apiGroupDocument(parts[1]!));
      if (parts[0] === "apis" && parts.length === 3) return json(res, apiResourceList(parts[1]!, parts[2]!));
      json(res, null);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(cacheDir, { recursive: true, force: true });
});

function kubectl(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      KUBECTL,
      ["--server", serverUrl, "--cache-dir", cacheDir, ...args],
      { env: { ...process.env, KUBECONFIG: "/dev/null" }, timeout: KUBECTL_TIMEOUT_MS },
      (err, stdout, stderr) => (err === null ? resolve(stdout) : reject(new Error(`kubectl ${args.join(" ")}: ${stderr}`, { cause: err }))),
    );
  });
}

const cases: { name: string; args: string[]; path: string }[] = [
  { name: "a deployment with replicas", args: ["create", "deployment", "web", "--image=nginx:1.25", "--replicas=2"], path: "/apis/apps/v1/namespaces/default/deployments" },
  { name: "a deployment with zero replicas and a port", args: ["create", "deployment", "idle", "--image=nginx", "--replicas=0", "--port=8080"], path: "/apis/apps/v1/namespaces/default/deployments" },
  { name: "a ClusterIP service with TCP ports", args: ["create", "service", "clusterip", "web", "--tcp=80:8080", "--tcp=443:8443"], path: "/api/v1/namespaces/default/services" },
  { name: "a headless service", args: ["create", "service", "clusterip", "db", "--clusterip=None"], path: "/api/v1/namespaces/default/services" },
  { name: "a NodePort service", args: ["create", "service", "nodeport", "np", "--tcp=80:http", "--node-port=30080"], path: "/api/v1/namespaces/default/services" },
  { name: "an ExternalName service", args: ["create", "service", "externalname", "ext", "--external-name=example.com"], path: "/api/v1/namespaces/default/services" },
  { name: "a configmap from literals", args: ["create", "configmap", "cfg", "--from-literal=a=1", "--from-literal=empty="], path: "/api/v1/namespaces/default/configmaps" },
  { name: "a generic secret from literals", args: ["create", "secret", "generic", "creds", "--from-literal=user=admin", "--from-literal=pass=s3cr3t", "--type=Opaque"], path: "/api/v1/namespaces/default/secrets" },
  { name: "a docker-registry secret", args: ["create", "secret", "docker-registry", "reg", "--docker-server=r.io", "--docker-username=u", "--docker-password=p"], path: "/api/v1/namespaces/default/secrets" },
  { name: "a job with a command", args: ["create", "job", "once", "--image=busybox", "--", "echo", "hi"], path: "/apis/batch/v1/namespaces/default/jobs" },
  { name: "a cronjob", args: ["create", "cronjob", "tick", "--image=busybox", "--schedule=*/5 * * * *", "--restart=OnFailure", "--", "date"], path: "/apis/batch/v1/namespaces/default/cronjobs" },
  { name: "a namespace", args: ["create", "namespace", "team-a"], path: "/api/v1/namespaces" },
  { name: "a service account", args: ["create", "serviceaccount", "robot"], path: "/api/v1/namespaces/default/serviceaccounts" },
  { name: "a resource quota with scopes", args: ["create", "quota", "q", "--hard=cpu=1,memory=1G,pods=2,count/deployments.apps=3", "--scopes=BestEffort"], path: "/api/v1/namespaces/default/resourcequotas" },
  { name: "a pod disruption budget with a count", args: ["create", "pdb", "p", "--selector=app=web", "--min-available=1"], path: "/apis/policy/v1/namespaces/default/poddisruptionbudgets" },
  { name: "a pod disruption budget with a percentage", args: ["create", "pdb", "q", "--selector=app in (web,db)", "--max-unavailable=50%"], path: "/apis/policy/v1/namespaces/default/poddisruptionbudgets" },
  { name: "a priority class", args: ["create", "priorityclass", "high", "--value=1000", "--description=for the important pods", "--preemption-policy=Never"], path: "/apis/scheduling.k8s.io/v1/priorityclasses" },
  { name: "a priority class of value zero that is the global default", args: ["create", "priorityclass", "zero", "--value=0", "--global-default=true"], path: "/apis/scheduling.k8s.io/v1/priorityclasses" },
];

for (const c of cases) {
  test(`decodeKubernetesProtobuf: kubectl's protobuf body for ${c.name} decodes to the JSON kubectl sends`, { skip: !existsSync(KUBECTL) && "no kubectl" }, async () => {
    const before = posts.length;
    await kubectl(c.args);
    assert.equal(posts.length, before + 1, "kubectl posted once");
    const post = posts[posts.length - 1]!;
    assert.equal(post.path, c.path);
    assert.equal(post.contentType, PROTOBUF_CONTENT_TYPE);

    // Flags go before a `--`: what follows it is the container's command.
    const dash = c.args.includes("--") ? c.args.indexOf("--") : c.args.length;
    const dryRun = [...c.args.slice(0, dash), "--dry-run=client", "-o", "json", ...c.args.slice(dash)];
    const want = JSON.parse(await kubectl(dryRun)) as unknown;
    const unknown: UnknownField[] = [];
    const got = decodeKubernetesProtobuf(post.body, loadDefinitions(), { onUnknownField: (f) => unknown.push(f) });
    assert.deepEqual(got, want);
    assert.deepEqual(unknown, []);
  });
}

test("decodeKubernetesProtobuf: kubectl's job made from a cronjob decodes with its owner reference's pointer booleans", { skip: !existsSync(KUBECTL) && "no kubectl" }, async () => {
  await kubectl(["create", "cronjob", "nightly", "--image=busybox", "--schedule=0 3 * * *", "--", "date"]);
  objects.set("/apis/batch/v1/namespaces/default/cronjobs/nightly", posts[posts.length - 1]!);

  const args = ["create", "job", "manual", "--from=cronjob/nightly"];
  await kubectl(args);
  const post = posts[posts.length - 1]!;
  assert.equal(post.path, "/apis/batch/v1/namespaces/default/jobs");
  assert.equal(post.contentType, PROTOBUF_CONTENT_TYPE);
  const want = JSON.parse(await kubectl([...args, "--dry-run=client", "-o", "json"])) as { metadata: { ownerReferences: unknown[] } };
  assert.equal(want.metadata.ownerReferences.length, 1, "kubectl set an owner reference");
  assert.deepEqual(decodeKubernetesProtobuf(post.body, loadDefinitions()), want);
});
