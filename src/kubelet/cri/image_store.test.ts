import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { InvalidImageNameError } from "./errors.js";
import { IMAGES_MAX, ImageStore, normalizeImageName } from "./image_store.js";

const cases = [
  { name: "a bare name is a Docker Hub library image with the latest tag", image: "nginx", want: "docker.io/library/nginx:latest" },
  { name: "a tag is kept", image: "busybox:1.36", want: "docker.io/library/busybox:1.36" },
  { name: "a user repository gets no library/", image: "bitnami/redis", want: "docker.io/bitnami/redis:latest" },
  { name: "a registry host is recognized by its dot", image: "registry.k8s.io/pause:3.10", want: "registry.k8s.io/pause:3.10" },
  { name: "a registry host is recognized by its port", image: "localhost:5000/app", want: "localhost:5000/app:latest" },
  { name: "index.docker.io is docker.io", image: "index.docker.io/library/nginx:1", want: "docker.io/library/nginx:1" },
  {
    name: "a digest takes no default tag",
    image: "nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    want: "docker.io/library/nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
  },
];
for (const c of cases) test(`normalizeImageName: ${c.name}`, () => assert.equal(normalizeImageName(c.image), c.want));

for (const bad of ["", "Nginx", "nginx:", "a//b", "nginx:tag with space"]) {
  test(`normalizeImageName: "${bad}" is an invalid reference`, () => {
    assert.throws(() => normalizeImageName(bad), (err: unknown) => err instanceof InvalidImageNameError && err.kubeletReason === "InvalidImageName");
  });
}

test("ImageStore remembers pulled names across a restart, under a stable id", () => {
  const dir = fs.mkdtempSync(path.join(tmpdir(), "tk8s-images-"));
  try {
    const a = new ImageStore(dir);
    const id = a.pull("nginx");
    assert.equal(a.pull("docker.io/library/nginx:latest"), id, "one image, two spellings");
    const b = new ImageStore(dir);
    assert.equal(b.find("nginx")?.id, id);
    assert.equal(b.find(id)?.repoTags[0], "docker.io/library/nginx:latest");
    b.remove(id);
    assert.equal(new ImageStore(dir).find("nginx"), null);
    assert.ok(IMAGES_MAX > 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
