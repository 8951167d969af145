import { test } from "node:test";
import assert from "node:assert/strict";
import { makeService, makeSlice } from "./proxy_fixtures.js";
import { buildProxyState, categorizeEndpoints, servicePortsOf } from "./service_port.js";

test("each port of a Service is one ServicePort named ns/name:port", () => {
  const sps = servicePortsOf(makeService("ns", "web", { clusterIP: "10.96.0.5", ports: [{ name: "http", port: 80 }, { name: "dns", port: 53, protocol: "UDP" }] }));
  assert.deepEqual(sps.map((s) => [s.nameString, s.protocol, s.port]), [["ns/web:http", "TCP", 80], ["ns/web:dns", "UDP", 53]]);
});

test("node ports count only for NodePort and LoadBalancer services, LB ingress IPs only for LoadBalancer", () => {
  const ports = [{ name: "http", port: 80, nodePort: 30001 }];
  assert.equal(servicePortsOf(makeService("ns", "a", { clusterIP: "10.96.0.5", ports }))[0]!.nodePort, 0);
  assert.equal(servicePortsOf(makeService("ns", "a", { type: "NodePort", clusterIP: "10.96.0.5", ports }))[0]!.nodePort, 30001);
  const status = { loadBalancer: { ingress: [{ ip: "1.2.3.4" }, { hostname: "lb.example" }] } };
  assert.deepEqual(servicePortsOf(makeService("ns", "a", { type: "LoadBalancer", clusterIP: "10.96.0.5", ports }, status))[0]!.loadBalancerIPs, ["1.2.3.4"]);
  assert.deepEqual(servicePortsOf(makeService("ns", "a", { type: "NodePort", clusterIP: "10.96.0.5", ports }, status))[0]!.loadBalancerIPs, []);
});

test("externalTrafficPolicy Local only applies to externally reachable services", () => {
  const ports = [{ name: "http", port: 80, nodePort: 30001 }];
  assert.equal(servicePortsOf(makeService("ns", "a", { clusterIP: "10.96.0.5", externalTrafficPolicy: "Local", ports }))[0]!.externalPolicyLocal, false);
  assert.equal(servicePortsOf(makeService("ns", "a", { type: "NodePort", clusterIP: "10.96.0.5", externalTrafficPolicy: "Local", ports }))[0]!.externalPolicyLocal, true);
});

test("an endpoint in two slices counts once, the ready copy winning; endpoints are ordered by IP numerically", () => {
  const svc = makeService("ns", "web", { clusterIP: "10.96.0.5", ports: [{ name: "http", port: 80 }] });
  const s1 = makeSlice("ns", "web", "a", [{ ip: "10.0.0.10", ready: false }, { ip: "10.0.0.9" }], [{ name: "http", port: 8080 }]);
  const s2 = makeSlice("ns", "web", "b", [{ ip: "10.0.0.10", ready: true, nodeName: "me" }], [{ name: "http", port: 8080 }]);
  const state = buildProxyState([svc], [s1, s2], "me");
  const eps = state.endpoints.get("ns/web:http")!;
  assert.deepEqual(eps.map((e) => [e.ip, e.ready, e.isLocal]), [["10.0.0.9", true, false], ["10.0.0.10", true, true]]);
});

test("slices of another namespace or without the service-name label are not the service's", () => {
  const svc = makeService("ns", "web", { clusterIP: "10.96.0.5", ports: [{ name: "http", port: 80 }] });
  const other = makeSlice("other", "web", "a", [{ ip: "10.0.0.1" }], [{ name: "http", port: 8080 }]);
  const unlabeled = makeSlice("ns", "web", "b", [{ ip: "10.0.0.2" }], [{ name: "http", port: 8080 }]);
  unlabeled.metadata!.labels = {};
  assert.deepEqual(buildProxyState([svc], [other, unlabeled], "me").endpoints.get("ns/web:http"), []);
});

test("categorizeEndpoints picks local endpoints for Local policies and all ready ones for Cluster", () => {
  const sp = servicePortsOf(makeService("ns", "a", { type: "NodePort", clusterIP: "10.96.0.5", externalTrafficPolicy: "Local", ports: [{ name: "http", port: 80, nodePort: 30001 }] }))[0]!;
  const eps = [
    { ip: "10.0.0.1", port: 80, ready: true, serving: true, terminating: false, isLocal: true },
    { ip: "10.0.0.2", port: 80, ready: true, serving: true, terminating: false, isLocal: false },
  ];
  const cat = categorizeEndpoints(sp, eps);
  assert.deepEqual(cat.cluster.map((e) => e.ip), ["10.0.0.1", "10.0.0.2"]);
  assert.deepEqual(cat.local.map((e) => e.ip), ["10.0.0.1"]);
  assert.equal(cat.allReachable.length, 2);
  assert.equal(cat.hasAny, true);
});
