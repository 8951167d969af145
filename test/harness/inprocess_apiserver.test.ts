import { test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:https";
import { startInProcessApiServer } from "./inprocess_apiserver.js";

test("an in-process API server serves its bootstrap namespaces to the admin certificate", async () => {
  const s = await startInProcessApiServer();
  try {
    const body = await new Promise<string>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: s.port, path: "/api/v1/namespaces", ca: s.ca, cert: s.clientCert, key: s.clientKey }, (res) => {
        let data = "";
        res.on("data", (d) => (data += d));
        res.on("end", () => resolve(data));
      });
      req.on("error", reject);
      req.end();
    });
    const names = (JSON.parse(body).items as { metadata: { name: string } }[]).map((n) => n.metadata.name).sort();
    assert.deepEqual(names, ["default", "kube-node-lease", "kube-public", "kube-system"]);
  } finally {
    await s.stop();
  }
});
