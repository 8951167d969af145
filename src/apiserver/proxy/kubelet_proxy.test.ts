import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as https from "node:https";
import * as tls from "node:tls";
import type { AddressInfo } from "node:net";
import { startInProcessApiServer, type InProcessApiServer } from "../../../test/harness/inprocess_apiserver.js";
import { containerFor, kubeletEndpoint, kubeletPath } from "./kubelet_proxy.js";

/**
 * The far end of the proxy: an HTTPS endpoint on loopback that answers as a kubelet's streaming
 * server does at the transport level (a log body; 101 and an echo for upgrades). It records what
 * reached it, so the tests can check what the API server forwarded.
 */
let kubelet: https.Server;
let seen: { path: string; headers: Record<string, unknown>; clientCN: string }[] = [];
let api: InProcessApiServer;

function request(path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: "127.0.0.1", port: api.port, path, method: init.method ?? "GET", ca: api.ca, cert: api.clientCert, key: api.clientKey, headers: init.headers }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

before(async () => {
  api = await startInProcessApiServer();
  const pki = (await import("../pki/pki.js")).ensureClusterPki;
  const { mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  // The stand-in kubelet serves with a certificate of its own CA, as a kubelet's self-signed one would be.
  const own = await pki(join(mkdtempSync(join(tmpdir(), "tk8s-kubelet-")), "pki"), { serverNames: [] });
  kubelet = https.createServer({ cert: own.apiserver.certPem, key: own.apiserver.keyPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const cert = (req.socket as tls.TLSSocket).getPeerCertificate();
    seen.push({ path: req.url ?? "", headers: req.headers, clientCN: String(cert.subject?.CN ?? "") });
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.end("line one\nline two\n");
  });
  kubelet.on("upgrade", (req, socket) => {
    seen.push({ path: req.url ?? "", headers: req.headers, clientCN: "" });
    socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    socket.on("data", (d: Buffer) => socket.write(Buffer.concat([Buffer.from("echo:"), d])));
  });
  await new Promise<void>((r) => kubelet.listen(0, "127.0.0.1", () => r()));
  const port = (kubelet.address() as AddressInfo).port;
  const node = { apiVersion: "v1", kind: "Node", metadata: { name: "n1" }, status: { addresses: [{ type: "InternalIP", address: "127.0.0.1" }], daemonEndpoints: { kubeletEndpoint: { Port: port } } } };
  const created = await request("/api/v1/nodes", { method: "POST", body: JSON.stringify(node), headers: { "Content-Type": "application/json" } });
  assert.equal(created.status, 201, created.body);
  await request("/api/v1/nodes/n1/status", { method: "PATCH", body: JSON.stringify({ status: node.status }), headers: { "Content-Type": "application/merge-patch+json" } });
  const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "web" }, spec: { nodeName: "n1", containers: [{ name: "app", image: "busybox" }, { name: "side", image: "busybox" }] } };
  assert.equal((await request("/api/v1/namespaces/default/pods", { method: "POST", body: JSON.stringify(pod), headers: { "Content-Type": "application/json" } })).status, 201);
  const lone = { apiVersion: "v1", kind: "Pod", metadata: { name: "lone" }, spec: { containers: [{ name: "c", image: "busybox" }] } };
  await request("/api/v1/namespaces/default/pods", { method: "POST", body: JSON.stringify(lone), headers: { "Content-Type": "application/json" } });
});

after(async () => {
  await api?.stop();
  kubelet?.closeAllConnections();
  await new Promise<void>((r) => (kubelet ? kubelet.close(() => r()) : r()));
});

test("pods/log is proxied to the node's kubelet with the log options and the server's kubelet client certificate", async () => {
  seen = [];
  const r = await request("/api/v1/namespaces/default/pods/web/log?container=side&tailLines=5&timestamps=true&follow=false");
  assert.equal(r.status, 200);
  assert.equal(r.body, "line one\nline two\n");
  assert.equal(seen[0]!.path, "/containerLogs/default/web/side?follow=false&timestamps=true&tailLines=5");
  assert.equal(seen[0]!.clientCN, "kube-apiserver-kubelet-client");
});

test("pods/log without a container on a two-container pod is upstream's 400; an unscheduled pod has no host", async () => {
  const r = await request("/api/v1/namespaces/default/pods/web/log");
  assert.equal(r.status, 400);
  assert.equal(JSON.parse(r.body).message, "a container name must be specified for pod web, choose one of: [app side]");
  const lone = await request("/api/v1/namespaces/default/pods/lone/log");
  assert.equal(lone.status, 400);
  assert.equal(JSON.parse(lone.body).message, "pod lone does not have a host assigned");
});

test("pods/exec without an upgrade is refused; with one, the connection is tunnelled to the kubelet's exec path", async () => {
  const plain = await request("/api/v1/namespaces/default/pods/web/exec?command=ls&container=app", { method: "POST" });
  assert.equal(plain.status, 400);
  assert.equal(JSON.parse(plain.body).message, "Upgrade request required");
  seen = [];
  const socket = tls.connect({ host: "127.0.0.1", port: api.port, ca: api.ca, cert: api.clientCert, key: api.clientKey, servername: "localhost" });
  await new Promise<void>((r) => socket.once("secureConnect", () => r()));
  socket.write(
    "GET /api/v1/namespaces/default/pods/web/exec?command=sh&command=-c&command=date&container=app&stdout=true HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
  );
  let got = "";
  socket.on("data", (d: Buffer) => (got += d.toString()));
  const deadline = Date.now() + 5000;
  while (!got.includes("\r\n\r\n") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.match(got, /^HTTP\/1\.1 101 /);
  socket.write("ping");
  while (!got.includes("echo:ping") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.ok(got.includes("echo:ping"), got);
  socket.destroy();
  assert.equal(seen[0]!.path, "/exec/default/web/app?command=sh&command=-c&command=date&stdout=true");
  assert.equal(seen[0]!.headers["sec-websocket-protocol"], "v5.channel.k8s.io");
  assert.equal(seen[0]!.headers["authorization"], undefined);
});

test("an upgrade without credentials is refused with 401 before anything reaches a kubelet", async () => {
  seen = [];
  const socket = tls.connect({ host: "127.0.0.1", port: api.port, ca: api.ca, servername: "localhost" });
  await new Promise<void>((r) => socket.once("secureConnect", () => r()));
  socket.write("GET /api/v1/namespaces/default/pods/web/exec?command=ls HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
  const answer = await new Promise<string>((resolve) => {
    let got = "";
    socket.on("data", (d: Buffer) => (got += d.toString()));
    socket.on("end", () => resolve(got));
    socket.on("close", () => resolve(got));
  });
  assert.match(answer, /^HTTP\/1\.1 401 /);
  assert.equal(seen.length, 0);
});

test("kubelet endpoint, container choice and paths follow upstream's rules", () => {
  assert.deepEqual(kubeletEndpoint({ metadata: { name: "n" }, status: { addresses: [{ type: "Hostname", address: "h" }, { type: "InternalIP", address: "10.0.0.5" }] } }), { host: "10.0.0.5", port: 10250 });
  const pod = { metadata: { name: "p", namespace: "ns", annotations: { "kubectl.kubernetes.io/default-container": "b" } }, spec: { containers: [{ name: "a" }, { name: "b" }] } };
  assert.equal(containerFor(pod, null), "b");
  assert.throws(() => containerFor(pod, "zzz"), /container zzz is not valid for pod p/);
  assert.equal(kubeletPath("portforward", pod, new URLSearchParams("ports=8080&ports=9090")), "/portForward/ns/p?ports=8080&ports=9090");
  assert.equal(kubeletPath("attach", pod, new URLSearchParams("container=a&stdin=true&tty=true")), "/attach/ns/p/a?stdin=true&tty=true");
});
