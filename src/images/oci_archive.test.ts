import assert from "node:assert/strict";
import { test } from "node:test";
import { buildDockerArchive } from "./docker_archive.js";
import { parseImageArchive } from "./image_archive.js";
import { buildOciArchive } from "./oci_archive.js";
import { readTar } from "./tar_reader.js";
import { writeTar } from "./tar_writer.js";

const layer = writeTar([{ path: "hello", type: "file", mode: 0o644, data: new TextEncoder().encode("hi\n") }]);

test("an OCI layout we build parses back with every tag, and has the docker-archive's image id", () => {
  const built = buildOciArchive(layer, { tags: ["tk8s/oci:1", "tk8s/oci:latest"], cmd: ["sh"] });
  const parsed = parseImageArchive(built.archive);
  assert.equal(parsed.format, "oci-layout");
  assert.deepEqual(parsed.images.map((i) => [i.names, i.configDigest, i.manifestDigest]), [
    [["docker.io/tk8s/oci:1"], built.configDigest, built.manifestDigest],
    [["docker.io/tk8s/oci:latest"], built.configDigest, built.manifestDigest],
  ]);
  assert.equal(built.configDigest, buildDockerArchive(layer, { tags: ["x"], cmd: ["sh"] }).configDigest);
});

test("the OCI layout is byte-identical when built twice and names tags as ctr export does", () => {
  const a = buildOciArchive(layer, { tags: ["busybox"] });
  assert.deepEqual(Buffer.from(a.archive), Buffer.from(buildOciArchive(layer, { tags: ["busybox"] }).archive));
  const index = JSON.parse(Buffer.from(readTar(a.archive).find((m) => m.path === "index.json")!.data).toString());
  assert.deepEqual(index.manifests[0].annotations, { "io.containerd.image.name": "docker.io/library/busybox:latest", "org.opencontainers.image.ref.name": "latest" });
});
