import assert from "node:assert/strict";
import { test } from "node:test";
import type { Pod } from "kubernetes-types/core/v1.js";
import { ContainerConfigError, containerConfig, expandVars } from "./container_config.js";
import type { VolumeSources } from "./volumes/volume_manager.js";

test("expandVars: $(VAR) references, $$ escapes, unknown references kept", () => {
  const env = new Map([["A", "1"], ["B", "two"]]);
  const cases = [["$(A)-$(B)", "1-two"], ["$$(A)", "$(A)"], ["$(C)", "$(C)"], ["x$", "x$"], ["$(A", "$(A"]];
  for (const [input, want] of cases) assert.equal(expandVars(input!, env), want, input);
});

const sources: VolumeSources = {
  getConfigMap: async (_ns, name) => (name === "cm" ? { data: { k: "from-cm" } } : null),
  getSecret: async () => null,
  requestToken: async () => ({ token: "", expiresAtMs: 0 }),
};

test("containerConfig: env from values, fields and ConfigMaps, expanded into args; labels, log path, mounts", async () => {
  const pod: Pod = { metadata: { name: "web", namespace: "ns", uid: "u" }, spec: { containers: [] } };
  const cfg = await containerConfig({
    pod,
    container: {
      name: "c", image: "busybox", command: ["sh", "-c"], args: ["echo $(GREETING) $(POD)"],
      env: [{ name: "GREETING", valueFrom: { configMapKeyRef: { name: "cm", key: "k" } } }, { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
      volumeMounts: [{ name: "v", mountPath: "/data" }],
    },
    restartCount: 2, volumes: new Map([["v", "/host/v"]]), sources, imageRef: "sha256:1", nodeAllocatable: {},
  });
  assert.deepEqual(cfg.args, ["echo from-cm web"]);
  assert.equal(cfg.logPath, "c/2.log");
  assert.equal(cfg.metadata.attempt, 2);
  assert.equal(cfg.labels?.["io.kubernetes.pod.uid"], "u");
  assert.deepEqual(cfg.mounts, [{ containerPath: "/data", hostPath: "/host/v", readonly: false }]);
  await assert.rejects(
    containerConfig({ pod, container: { name: "c", env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "cm", key: "nope" } } }] }, restartCount: 0, volumes: new Map(), sources, imageRef: "", nodeAllocatable: {} }),
    (e: unknown) => e instanceof ContainerConfigError && e.message === "couldn't find key nope in ConfigMap ns/cm",
  );
});
