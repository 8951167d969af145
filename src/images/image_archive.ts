/**
 * Looks inside an image tarball before it is handed to containerd: a docker-archive (`manifest.json`, as
 * `docker save` writes) or an OCI image layout (`oci-layout` + `index.json` + `blobs/<alg>/<hex>`), checks
 * that every file the manifests name is there and has the digest it claims, and names the images.
 * The point is a clear one-line error for a bad file ("manifest.json names layer x/layer.tar, which the
 * archive does not contain") instead of whatever the runtime says halfway through an import.
 */
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { InvalidReferenceError, normalizeReference } from "./reference.js";
import { readTar, TarReadError, type TarMember } from "./tar_reader.js";

export type ImageArchiveFormat = "docker-archive" | "oci-layout";

/** One image found in an archive. */
export interface ArchivedImage {
  /** Normalized names (`docker.io/library/busybox:1.35`); empty for an image stored by digest only. */
  readonly names: readonly string[];
  /** sha256:… of the image config (the image id). */
  readonly configDigest: string;
  /** sha256:… of the manifest, for an OCI layout (docker-archives have none until imported). */
  readonly manifestDigest?: string;
  readonly architecture: string;
  readonly os: string;
  readonly layers: number;
  /** Sum of the layer files' sizes as stored in the archive. */
  readonly layerBytes: number;
}

export interface ParsedImageArchive {
  readonly format: ImageArchiveFormat;
  readonly images: readonly ArchivedImage[];
}

export class ImageArchiveError extends Error {
  override readonly name = "ImageArchiveError";
}

/** An index may nest indexes (multi-platform images); deeper than this is a loop or garbage. */
const INDEX_DEPTH_MAX = 4;
/** A gzipped layer is expanded to check its diff_id; the same cap as a layer we build. */
const LAYER_UNCOMPRESSED_BYTES_MAX = 1 << 30;

const MEDIA_OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const MEDIA_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
const MEDIA_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const MEDIA_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
/** containerd's annotation with the full image name; OCI's ref.name may hold a full name or just a tag. */
const ANNOTATION_CONTAINERD_NAME = "io.containerd.image.name";
const ANNOTATION_OCI_REF_NAME = "org.opencontainers.image.ref.name";

/** Parses and validates `archive` (the bytes of a .tar file). */
export function parseImageArchive(archive: Uint8Array): ParsedImageArchive {
  let members: TarMember[];
  try {
    members = readTar(archive);
  } catch (err) {
    if (err instanceof TarReadError) throw new ImageArchiveError(`not a tar archive: ${err.message.replace(/^Cannot read tar: /, "")}`, { cause: err });
    throw err;
  }
  const files = new Map<string, Uint8Array>();
  for (const m of members) if (m.type === "file") files.set(cleanPath(m.path), m.data);
  if (files.has("oci-layout") && files.has("index.json")) return { format: "oci-layout", images: parseOciLayout(files) };
  if (files.has("manifest.json")) return { format: "docker-archive", images: parseDockerArchive(files) };
  throw new ImageArchiveError("neither a docker-archive (no manifest.json) nor an OCI image layout (no oci-layout and index.json)");
}

function parseDockerArchive(files: Map<string, Uint8Array>): ArchivedImage[] {
  const manifest = parseJson(files.get("manifest.json")!, "manifest.json");
  if (!Array.isArray(manifest) || manifest.length === 0) throw new ImageArchiveError("manifest.json must be a non-empty array of images");
  return manifest.map((entry: unknown, i: number) => {
    const where = `manifest.json[${i}]`;
    if (!isObject(entry)) throw new ImageArchiveError(`${where} is not an object`);
    const configPath = stringField(entry, "Config", where);
    const layers = entry["Layers"];
    if (!Array.isArray(layers) || !layers.every((l) => typeof l === "string")) throw new ImageArchiveError(`${where}.Layers must be an array of file names`);
    const repoTags = entry["RepoTags"] ?? [];
    if (!Array.isArray(repoTags) || !repoTags.every((t) => typeof t === "string")) throw new ImageArchiveError(`${where}.RepoTags must be an array of names`);
    const configBytes = files.get(cleanPath(configPath));
    if (configBytes === undefined) throw new ImageArchiveError(`${where} names config ${configPath}, which the archive does not contain`);
    const config = parseImageConfig(configBytes, configPath);
    if (config.diffIds.length !== layers.length) {
      throw new ImageArchiveError(`${where} lists ${layers.length} layers but its config's rootfs.diff_ids has ${config.diffIds.length}`);
    }
    let layerBytes = 0;
    layers.forEach((layerPath: string, j: number) => {
      const data = files.get(cleanPath(layerPath));
      if (data === undefined) throw new ImageArchiveError(`${where} names layer ${layerPath}, which the archive does not contain`);
      layerBytes += data.length;
      const diffId = `sha256:${sha256Hex(uncompressed(data, layerPath))}`;
      if (diffId !== config.diffIds[j]) throw new ImageArchiveError(`layer ${layerPath} has diff_id ${diffId}, but the config says ${config.diffIds[j]}`);
    });
    return {
      names: (repoTags as string[]).map((t) => normalizeName(t, `${where}.RepoTags`)),
      configDigest: `sha256:${sha256Hex(configBytes)}`,
      architecture: config.architecture,
      os: config.os,
      layers: layers.length,
      layerBytes,
    };
  });
}

function parseOciLayout(files: Map<string, Uint8Array>): ArchivedImage[] {
  const layout = parseJson(files.get("oci-layout")!, "oci-layout");
  if (!isObject(layout) || typeof layout["imageLayoutVersion"] !== "string") throw new ImageArchiveError("oci-layout has no imageLayoutVersion");
  const index = parseJson(files.get("index.json")!, "index.json");
  const images: ArchivedImage[] = [];
  walkIndex(files, index, "index.json", [], 0, images);
  if (images.length === 0) throw new ImageArchiveError("index.json lists no image manifests");
  return images;
}

function walkIndex(files: Map<string, Uint8Array>, index: unknown, where: string, inheritedNames: string[], depth: number, out: ArchivedImage[]): void {
  if (depth > INDEX_DEPTH_MAX) throw new ImageArchiveError(`${where}: indexes nest deeper than ${INDEX_DEPTH_MAX}`);
  if (!isObject(index) || index["schemaVersion"] !== 2 || !Array.isArray(index["manifests"])) {
    throw new ImageArchiveError(`${where} is not an image index (schemaVersion 2 with a manifests array)`);
  }
  (index["manifests"] as unknown[]).forEach((descriptor, i) => {
    const at = `${where}.manifests[${i}]`;
    const { mediaType, digest, data, annotations } = readDescriptor(files, descriptor, at);
    const names = [...inheritedNames, ...namesFromAnnotations(annotations, at)];
    if (mediaType === MEDIA_OCI_INDEX || mediaType === MEDIA_DOCKER_LIST) {
      walkIndex(files, parseJson(data, digest), digest, names, depth + 1, out);
      return;
    }
    if (mediaType !== MEDIA_OCI_MANIFEST && mediaType !== MEDIA_DOCKER_MANIFEST) {
      throw new ImageArchiveError(`${at} has media type ${JSON.stringify(mediaType)}, which is neither an image manifest nor an index`);
    }
    const manifest = parseJson(data, digest);
    if (!isObject(manifest) || !Array.isArray(manifest["layers"])) throw new ImageArchiveError(`manifest ${digest} has no layers array`);
    const config = readDescriptor(files, manifest["config"], `manifest ${digest} config`);
    const parsedConfig = parseImageConfig(config.data, config.digest);
    let layerBytes = 0;
    (manifest["layers"] as unknown[]).forEach((layer, j) => {
      layerBytes += readDescriptor(files, layer, `manifest ${digest} layers[${j}]`).data.length;
    });
    if (parsedConfig.diffIds.length !== (manifest["layers"] as unknown[]).length) {
      throw new ImageArchiveError(`manifest ${digest} lists ${(manifest["layers"] as unknown[]).length} layers but its config's rootfs.diff_ids has ${parsedConfig.diffIds.length}`);
    }
    out.push({
      names: [...new Set(names)],
      configDigest: config.digest,
      manifestDigest: digest,
      architecture: parsedConfig.architecture,
      os: parsedConfig.os,
      layers: (manifest["layers"] as unknown[]).length,
      layerBytes,
    });
  });
}

/** A descriptor's blob, found under blobs/<alg>/<hex> and checked against its size and digest. */
function readDescriptor(files: Map<string, Uint8Array>, descriptor: unknown, at: string): { mediaType: string; digest: string; data: Uint8Array; annotations: Record<string, unknown> } {
  if (!isObject(descriptor)) throw new ImageArchiveError(`${at} is not a descriptor object`);
  const digest = stringField(descriptor, "digest", at);
  const match = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (match === null) throw new ImageArchiveError(`${at} has digest ${JSON.stringify(digest)}; only sha256:<64 hex> is supported`);
  const data = files.get(`blobs/sha256/${match[1]}`);
  if (data === undefined) throw new ImageArchiveError(`${at} names blob ${digest}, which the archive does not contain (blobs/sha256/${match[1]})`);
  const size = descriptor["size"];
  if (typeof size === "number" && size !== data.length) throw new ImageArchiveError(`blob ${digest} is ${data.length} bytes, but ${at} says ${size}`);
  const actual = `sha256:${sha256Hex(data)}`;
  if (actual !== digest) throw new ImageArchiveError(`blob ${digest} is corrupt: its content hashes to ${actual}`);
  const mediaType = typeof descriptor["mediaType"] === "string" ? descriptor["mediaType"] : "";
  const annotations = isObject(descriptor["annotations"]) ? descriptor["annotations"] : {};
  return { mediaType, digest, data, annotations };
}

function namesFromAnnotations(annotations: Record<string, unknown>, at: string): string[] {
  const full = annotations[ANNOTATION_CONTAINERD_NAME];
  if (typeof full === "string") return [normalizeName(full, `${at} annotation ${ANNOTATION_CONTAINERD_NAME}`)];
  const ref = annotations[ANNOTATION_OCI_REF_NAME];
  // A bare tag ("latest") names nothing by itself: the importer needs a repository to put it under.
  if (typeof ref === "string" && /[/:@]/.test(ref)) return [normalizeName(ref, `${at} annotation ${ANNOTATION_OCI_REF_NAME}`)];
  return [];
}

interface ImageConfigSummary {
  readonly architecture: string;
  readonly os: string;
  readonly diffIds: readonly string[];
}

function parseImageConfig(bytes: Uint8Array, where: string): ImageConfigSummary {
  const config = parseJson(bytes, where);
  if (!isObject(config)) throw new ImageArchiveError(`image config ${where} is not an object`);
  const rootfs = config["rootfs"];
  if (!isObject(rootfs) || !Array.isArray(rootfs["diff_ids"]) || !rootfs["diff_ids"].every((d) => typeof d === "string" && /^sha256:[0-9a-f]{64}$/.test(d))) {
    throw new ImageArchiveError(`image config ${where} has no rootfs.diff_ids of sha256 digests`);
  }
  return {
    architecture: typeof config["architecture"] === "string" ? config["architecture"] : "",
    os: typeof config["os"] === "string" ? config["os"] : "",
    diffIds: rootfs["diff_ids"] as string[],
  };
}

function uncompressed(data: Uint8Array, where: string): Uint8Array {
  if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) {
    try {
      return gunzipSync(data, { maxOutputLength: LAYER_UNCOMPRESSED_BYTES_MAX });
    } catch (err) {
      throw new ImageArchiveError(`layer ${where} is gzip that does not expand: ${(err as Error).message}`, { cause: err });
    }
  }
  return data;
}

function normalizeName(name: string, where: string): string {
  try {
    return normalizeReference(name);
  } catch (err) {
    if (err instanceof InvalidReferenceError) throw new ImageArchiveError(`${where} holds ${JSON.stringify(name)}: ${err.message}`, { cause: err });
    throw err;
  }
}

function parseJson(bytes: Uint8Array, where: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"));
  } catch (err) {
    throw new ImageArchiveError(`${where} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

function stringField(obj: Record<string, unknown>, key: string, where: string): string {
  const value = obj[key];
  if (typeof value !== "string" || value === "") throw new ImageArchiveError(`${where}.${key} must be a non-empty string`);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Member paths as written by different tools: "./manifest.json" and "manifest.json" are the same file. */
function cleanPath(path: string): string {
  return path.replace(/^(\.\/)+/, "").replace(/^\/+/, "");
}

function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
