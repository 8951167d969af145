import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { buildDockerArchive, goArch } from "./docker_archive.js";
import { ImageArchiveError, parseImageArchive } from "./image_archive.js";
import { readTar, TarReadError } from "./tar_reader.js";
import { writeTar, type TarEntry } from "./tar_writer.js";

const enc = new TextEncoder();
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const layer = writeTar([{ path: "hello", type: "file", mode: 0o644, data: enc.encode("hi\n") }]);
const file = (path: string, data: Uint8Array | string): TarEntry => ({ path, type: "file", mode: 0o644, data: typeof data === "string" ? enc.encode(data) : data });

/** The members of a docker-archive we built, with `edit` applied, written back as a tar. */
function editedDockerArchive(edit: (files: Map<string, Uint8Array>) => void): Uint8Array {
  const files = new Map(readTar(buildDockerArchive(layer, { tags: ["tk8s/t:1"], cmd: ["sh"] }).archive).filter((m) => m.type === "file").map((m) => [m.path, m.data]));
  edit(files);
  return writeTar([...files].map(([p, d]) => file(p, d)));
}

/** An OCI image layout: one gzipped layer, its config, a manifest, and an index naming it. */
function ociLayout(options: { annotations?: Record<string, string>; corrupt?: "layer" | "size" | "missing-config" | "media-type"; nested?: boolean } = {}): Uint8Array {
  const gz = gzipSync(layer);
  const config = enc.encode(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [`sha256:${sha(layer)}`] }, config: {} }));
  const manifest = enc.encode(JSON.stringify({
    schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: `sha256:${sha(config)}`, size: config.length },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: `sha256:${sha(gz)}`, size: options.corrupt === "size" ? gz.length + 1 : gz.length }],
  }));
  const manifestDescriptor = {
    mediaType: options.corrupt === "media-type" ? "text/plain" : "application/vnd.oci.image.manifest.v1+json",
    digest: `sha256:${sha(manifest)}`, size: manifest.length,
    ...(options.nested ? {} : { annotations: options.annotations ?? { "io.containerd.image.name": "docker.io/tk8s/oci:2", "org.opencontainers.image.ref.name": "2" } }),
  };
  const flipped = Uint8Array.from(gz);
  flipped[flipped.length - 1]! ^= 0xff;
  const blobs: Array<[Uint8Array, Uint8Array]> = [[gz, options.corrupt === "layer" ? flipped : gz], [manifest, manifest]];
  if (options.corrupt !== "missing-config") blobs.push([config, config]);
  let indexManifests: unknown[] = [manifestDescriptor];
  if (options.nested) {
    const inner = enc.encode(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [manifestDescriptor] }));
    blobs.push([inner, inner]);
    indexManifests = [{ mediaType: "application/vnd.oci.image.index.v1+json", digest: `sha256:${sha(inner)}`, size: inner.length, annotations: { "io.containerd.image.name": "docker.io/tk8s/multi:3" } }];
  }
  return writeTar([
    file("oci-layout", JSON.stringify({ imageLayoutVersion: "1.0.0" })),
    file("index.json", JSON.stringify({ schemaVersion: 2, manifests: indexManifests })),
    ...blobs.map(([named, content]) => file(`blobs/sha256/${sha(named)}`, content)),
  ]);
}

test("a docker-archive we built parses as one named image with its config digest and layer", () => {
  const built = buildDockerArchive(layer, { tags: ["tk8s/t:1", "tk8s/t:latest"], cmd: ["sh"] });
  assert.deepEqual(parseImageArchive(built.archive), {
    format: "docker-archive",
    images: [{ names: ["docker.io/tk8s/t:1", "docker.io/tk8s/t:latest"], configDigest: built.configDigest, architecture: goArch(), os: "linux", layers: 1, layerBytes: layer.length }],
  });
});

test("a docker-archive with a gzipped layer is checked against the diff_id of its uncompressed tar", () => {
  const archive = editedDockerArchive((files) => {
    const layerPath = [...files.keys()].find((p) => p.endsWith("layer.tar"))!;
    files.set(layerPath, gzipSync(files.get(layerPath)!));
  });
  assert.equal(parseImageArchive(archive).images[0]!.layers, 1);
});

test("an OCI layout names its images from containerd's annotation and checks every blob", () => {
  const parsed = parseImageArchive(ociLayout());
  assert.equal(parsed.format, "oci-layout");
  assert.deepEqual(parsed.images.map((i) => [i.names, i.layers, i.os, i.architecture]), [[["docker.io/tk8s/oci:2"], 1, "linux", "amd64"]]);
  assert.match(parsed.images[0]!.manifestDigest!, /^sha256:[0-9a-f]{64}$/);
});

test("an OCI layout names an image from a full ref.name, but not from a bare tag", () => {
  assert.deepEqual(parseImageArchive(ociLayout({ annotations: { "org.opencontainers.image.ref.name": "tk8s/ref:4" } })).images[0]!.names, ["docker.io/tk8s/ref:4"]);
  assert.deepEqual(parseImageArchive(ociLayout({ annotations: { "org.opencontainers.image.ref.name": "latest" } })).images[0]!.names, []);
});

test("a nested index (a multi-platform image) gives its platforms the outer name", () => {
  assert.deepEqual(parseImageArchive(ociLayout({ nested: true })).images.map((i) => i.names), [["docker.io/tk8s/multi:3"]]);
});

const bad: Array<{ name: string; archive: () => Uint8Array; want: RegExp }> = [
  { name: "an empty file", archive: () => new Uint8Array(0), want: /^not a tar archive: the file is empty$/ },
  { name: "a file that is not a tar", archive: () => enc.encode("PK\x03\x04 this is a zip file".padEnd(1024, "z")), want: /^not a tar archive: header at offset 0 is not a tar header \(its checksum field is not octal\)$/ },
  { name: "a tar header with a wrong checksum", archive: () => { const a = writeTar([file("a", "b")]); a[0] = 0x62; return a; }, want: /^not a tar archive: header at offset 0 has checksum \d+, computed \d+ \(not a tar file, or corrupt\)$/ },
  { name: "a truncated tar", archive: () => buildDockerArchive(layer, { tags: ["x"] }).archive.subarray(0, 1024), want: /^not a tar archive: member at offset \d+ claims \d+ bytes but the archive ends/ },
  { name: "a tar that is neither format", archive: () => writeTar([file("hello", "hi")]), want: /^neither a docker-archive \(no manifest\.json\) nor an OCI image layout/ },
  { name: "manifest.json that is not JSON", archive: () => editedDockerArchive((f) => f.set("manifest.json", enc.encode("{nope"))), want: /^manifest\.json is not valid JSON/ },
  { name: "manifest.json that is an empty list", archive: () => editedDockerArchive((f) => f.set("manifest.json", enc.encode("[]"))), want: /^manifest\.json must be a non-empty array of images$/ },
  { name: "a missing layer", archive: () => editedDockerArchive((f) => { for (const p of [...f.keys()]) if (p.endsWith("layer.tar")) f.delete(p); }), want: /^manifest\.json\[0\] names layer [0-9a-f]{64}\/layer\.tar, which the archive does not contain$/ },
  { name: "a missing config", archive: () => editedDockerArchive((f) => { for (const p of [...f.keys()]) if (/^[0-9a-f]{64}\.json$/.test(p)) f.delete(p); }), want: /names config [0-9a-f]{64}\.json, which the archive does not contain$/ },
  { name: "a layer whose content does not match its diff_id", archive: () => editedDockerArchive((f) => { for (const p of [...f.keys()]) if (p.endsWith("layer.tar")) f.set(p, writeTar([file("other", "x")])); }), want: /^layer [0-9a-f]{64}\/layer\.tar has diff_id sha256:[0-9a-f]{64}, but the config says sha256:/ },
  { name: "a RepoTags name that is not a reference", archive: () => editedDockerArchive((f) => { const m = JSON.parse(Buffer.from(f.get("manifest.json")!).toString()); m[0].RepoTags = ["busybox:bad!tag"]; f.set("manifest.json", enc.encode(JSON.stringify(m))); }), want: /^manifest\.json\[0\]\.RepoTags holds "busybox:bad!tag": invalid reference format$/ },
  { name: "more layers than diff_ids", archive: () => editedDockerArchive((f) => { const m = JSON.parse(Buffer.from(f.get("manifest.json")!).toString()); m[0].Layers.push(m[0].Layers[0]); f.set("manifest.json", enc.encode(JSON.stringify(m))); }), want: /lists 2 layers but its config's rootfs\.diff_ids has 1$/ },
  { name: "an OCI blob whose content does not hash to its name", archive: () => ociLayout({ corrupt: "layer" }), want: /^blob sha256:[0-9a-f]{64} is corrupt: its content hashes to sha256:/ },
  { name: "an OCI descriptor with the wrong size", archive: () => ociLayout({ corrupt: "size" }), want: /^blob sha256:[0-9a-f]{64} is \d+ bytes, but manifest sha256:[0-9a-f]{64} layers\[0\] says \d+$/ },
  { name: "an OCI manifest whose config blob is missing", archive: () => ociLayout({ corrupt: "missing-config" }), want: /config names blob sha256:[0-9a-f]{64}, which the archive does not contain/ },
  { name: "an OCI index entry that is not a manifest", archive: () => ociLayout({ corrupt: "media-type" }), want: /^index\.json\.manifests\[0\] has media type "text\/plain", which is neither an image manifest nor an index$/ },
];
for (const c of bad) {
  test(`parseImageArchive refuses ${c.name} with one clear line`, () => {
    assert.throws(() => parseImageArchive(c.archive()), (err: unknown) => {
      assert.ok(err instanceof ImageArchiveError, String(err));
      assert.match(err.message, c.want);
      assert.ok(!err.message.includes("\n"));
      return true;
    });
  });
}

test("readTar refuses trailing bytes that are not a whole header block", () => {
  const archive = writeTar([file("a", "b")]);
  const bad = new Uint8Array(archive.length - 1024 + 100);
  bad.set(archive.subarray(0, archive.length - 1024));
  assert.throws(() => readTar(bad), (err: unknown) => err instanceof TarReadError && /100 trailing bytes/.test(err.message));
});
