import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultPullPolicy, imageTag, parseImageReference } from "./image.js";

const SHA = "sha256:" + "a".repeat(64);

const cases = [
  { name: "an image without tag or digest is pulled always, as :latest", image: "busybox", tag: "latest", policy: "Always" },
  { name: "an explicit :latest is pulled always", image: "busybox:latest", tag: "latest", policy: "Always" },
  { name: "a pinned tag is pulled if not present", image: "busybox:1.36", tag: "1.36", policy: "IfNotPresent" },
  { name: "a registry with a port is not mistaken for a tag", image: "localhost:5000/app", tag: "latest", policy: "Always" },
  { name: "a registry with a port and a tag uses the tag", image: "localhost:5000/app:v2", tag: "v2", policy: "IfNotPresent" },
  { name: "a digest alone carries no tag", image: `nginx@${SHA}`, tag: "", policy: "IfNotPresent" },
  { name: "a digest does not hide a :latest tag", image: `nginx:latest@${SHA}`, tag: "latest", policy: "Always" },
  { name: "a fully qualified name keeps its tag", image: "registry.k8s.io/pause:3.10", tag: "3.10", policy: "IfNotPresent" },
  { name: "an upper-case repository does not parse, so it has no tag", image: "BusyBox", tag: "", policy: "IfNotPresent" },
  { name: "an empty image does not parse", image: "", tag: "", policy: "IfNotPresent" },
  { name: "a sha256 digest of the wrong length does not parse", image: "nginx@sha256:abcd", tag: "", policy: "IfNotPresent" },
  { name: "a bare image ID is not a name", image: "a".repeat(64), tag: "", policy: "IfNotPresent" },
];

for (const c of cases) {
  test(`imageTag: ${c.name}`, () => assert.equal(imageTag(c.image), c.tag));
  test(`defaultPullPolicy: ${c.name}`, () => assert.equal(defaultPullPolicy(c.image), c.policy));
}

test("parseImageReference: splits name, tag and digest", () => {
  assert.deepEqual(parseImageReference(`example.com/team/app:1.0@${SHA}`), {
    name: "example.com/team/app",
    tag: "1.0",
    digest: SHA,
  });
});

test("defaultPullPolicy: a missing image is not latest", () => {
  assert.equal(defaultPullPolicy(undefined), "IfNotPresent");
});
