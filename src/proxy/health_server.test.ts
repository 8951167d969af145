import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../env/manual_clock.js";
import { startProxyHttpServer } from "./health_server.js";
import { ProxyMetrics } from "./metrics.js";
import { ProxierHealth } from "./proxier_health.js";

test("/healthz answers 200 while healthy and 503 once a change waited too long; /metrics serves the registry", async () => {
  const clock = new ManualClock();
  const health = new ProxierHealth(clock, 1000);
  const metrics = new ProxyMetrics({ defaultMetrics: false });
  metrics.syncProxyRulesLatency.observe(0.01);
  const server = await startProxyHttpServer({ host: "127.0.0.1", port: 0 }, { health, metrics });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    health.queuedUpdate();
    clock.advance(1000);
    const r = await fetch(`${base}/healthz`);
    assert.equal(r.status, 503);
    assert.deepEqual(Object.keys((await r.json()) as object), ["lastUpdated", "currentTime"]);
    assert.equal((await fetch(`${base}/livez`)).status, 503);
    const m = await (await fetch(`${base}/metrics`)).text();
    assert.match(m, /^kubeproxy_sync_proxy_rules_duration_seconds_count 1$/m);
    assert.equal((await fetch(`${base}/nope`)).status, 404);
  } finally {
    await server.close();
  }
});

test("a server with only metrics has no /healthz", async () => {
  const server = await startProxyHttpServer({ host: "127.0.0.1", port: 0 }, { metrics: new ProxyMetrics({ defaultMetrics: false }) });
  try {
    assert.equal((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status, 404);
  } finally {
    await server.close();
  }
});
