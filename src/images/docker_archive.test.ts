import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { buildDockerArchive, goArch, REPRODUCIBLE_CREATED } from "./docker_archive.js";
import { readTar } from "./tar_reader.js";
import { writeTar } from "./tar_writer.js";

const layer = writeTar([{ path: "hello", type: "file", mode: 0o644, data: new TextEncoder().encode("hi\n") }]);
const json = (b: Uint8Array) => JSON.parse(Buffer.from(b).toString("utf8"));

test("the archive has manifest.json, the config named by its digest and the layer named by its diff_id", () => {
  const built = buildDockerArchive(layer, { tags: ["busybox", "tk8s/x:1"], entrypoint: ["/bin/sh", "-c"], cmd: ["echo hi"], env: ["A=1"], workingDir: "/w", user: "65534" });
  const files = new Map(readTar(built.archive).map((m) => [m.path, m.data]));
  const diffHex = createHash("sha256").update(layer).digest("hex");
  assert.equal(built.layerDiffId, `sha256:${diffHex}`);
  assert.deepEqual(json(files.get("manifest.json")!), [{
    Config: `${built.configDigest.slice(7)}.json`, RepoTags: ["docker.io/library/busybox:latest", "docker.io/tk8s/x:1"], Layers: [`${diffHex}/layer.tar`],
  }]);
  assert.deepEqual(Buffer.from(files.get(`${diffHex}/layer.tar`)!), Buffer.from(layer));
  const configBytes = files.get(`${built.configDigest.slice(7)}.json`)!;
  assert.equal(`sha256:${createHash("sha256").update(configBytes).digest("hex")}`, built.configDigest);
  const config = json(configBytes);
  assert.deepEqual(config.rootfs, { type: "layers", diff_ids: [built.layerDiffId] });
  assert.deepEqual(config.config, { User: "65534", Env: ["A=1"], Entrypoint: ["/bin/sh", "-c"], Cmd: ["echo hi"], WorkingDir: "/w" });
  assert.equal(config.os, "linux");
  assert.equal(config.architecture, goArch());
  assert.equal(config.created, REPRODUCIBLE_CREATED);
});

test("building twice gives byte-identical archives; another command gives another image id", () => {
  const a = buildDockerArchive(layer, { tags: ["x"], cmd: ["sh"] });
  const b = buildDockerArchive(layer, { tags: ["x"], cmd: ["sh"] });
  assert.deepEqual(Buffer.from(a.archive), Buffer.from(b.archive));
  assert.notEqual(buildDockerArchive(layer, { tags: ["x"], cmd: ["true"] }).configDigest, a.configDigest);
  assert.equal(buildDockerArchive(layer, { tags: ["y"], cmd: ["sh"] }).configDigest, a.configDigest, "the name is not part of the image id");
});

test("building refuses no tags, a bad name, a digest as a tag and an env entry without '='", () => {
  assert.throws(() => buildDockerArchive(layer, { tags: [] }), /at least one tag/);
  assert.throws(() => buildDockerArchive(layer, { tags: ["Bad"] }), /repository name must be lowercase/);
  assert.throws(() => buildDockerArchive(layer, { tags: [`x@sha256:${"0".repeat(64)}`] }), /names a digest, not a tag/);
  assert.throws(() => buildDockerArchive(layer, { tags: ["x"], env: ["NOVALUE"] }), /env entry "NOVALUE" is not NAME=value/);
});

test("goArch maps Node's names to the OCI ones", () => {
  assert.equal(goArch("x64"), "amd64");
  assert.equal(goArch("arm64"), "arm64");
  assert.equal(goArch("ia32"), "386");
});
