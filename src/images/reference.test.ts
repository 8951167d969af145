import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidReferenceError, normalizeReference } from "./reference.js";

const good = [
  { name: "an official image gets docker.io/library and :latest", input: "busybox", want: "docker.io/library/busybox:latest" },
  { name: "a user image gets docker.io only", input: "tk8s/pause:1.35", want: "docker.io/tk8s/pause:1.35" },
  { name: "a full name is kept", input: "docker.io/tk8s/busybox:1.35", want: "docker.io/tk8s/busybox:1.35" },
  { name: "index.docker.io is docker.io", input: "index.docker.io/library/nginx:1", want: "docker.io/library/nginx:1" },
  { name: "a registry with a port keeps its port and no library/", input: "localhost:5000/app:v2", want: "localhost:5000/app:v2" },
  { name: "localhost is a domain", input: "localhost/app", want: "localhost/app:latest" },
  { name: "a dotted first component is a domain", input: "registry.k8s.io/pause:3.9", want: "registry.k8s.io/pause:3.9" },
  { name: "a digest is kept and gets no :latest", input: `busybox@sha256:${"a".repeat(64)}`, want: `docker.io/library/busybox@sha256:${"a".repeat(64)}` },
  { name: "separators inside path components are allowed", input: "my_org/my-app.web__x:1.0-rc_1", want: "docker.io/my_org/my-app.web__x:1.0-rc_1" },
];
for (const c of good) test(`normalizeReference: ${c.name}`, () => assert.equal(normalizeReference(c.input), c.want));

const bad = [
  { name: "an empty string", input: "", want: /^invalid reference format$/ },
  { name: "upper case in the repository", input: "BusyBox", want: /^invalid reference format: repository name must be lowercase$/ },
  { name: "a tag with a bad character", input: "busybox:1.0!", want: /^invalid reference format$/ },
  { name: "a component starting with a separator", input: "-busybox", want: /^invalid reference format$/ },
  { name: "a short digest", input: "busybox@sha256:abc", want: /^invalid reference format$/ },
  { name: "a tag of 129 characters", input: `busybox:${"t".repeat(129)}`, want: /^invalid reference format$/ },
  { name: "a name over 255 characters", input: `example.com/${"a".repeat(250)}`, want: /^repository name must not be more than 255 characters$/ },
  { name: "a non-numeric port", input: "host:port/app", want: /^invalid reference format$/ },
];
for (const c of bad) {
  test(`normalizeReference refuses ${c.name} with upstream's message`, () => {
    assert.throws(() => normalizeReference(c.input), (err: unknown) => err instanceof InvalidReferenceError && c.want.test(err.message));
  });
}
