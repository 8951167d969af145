import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultPullPolicy } from "./pod_workers.js";

// The image manager's errors (ErrImageNeverPull, ErrImagePull, ImagePullBackOff) are tested against real
// containerd in test/e2e/containerd_pods.test.ts.
const cases = [
  { image: "busybox", want: "Always" },
  { image: "busybox:latest", want: "Always" },
  { image: "busybox:1.35", want: "IfNotPresent" },
  { image: "registry.local:5000/busybox", want: "Always", why: "a registry port is not a tag" },
  { image: "registry.local:5000/busybox:1.35", want: "IfNotPresent" },
  { image: "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", want: "IfNotPresent" },
];
for (const c of cases) test(`defaultPullPolicy: ${c.image} pulls ${c.want}${c.why === undefined ? "" : ` (${c.why})`}`, () => assert.equal(defaultPullPolicy(c.image), c.want));
