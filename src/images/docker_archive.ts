/**
 * Writes a docker-archive (the `docker save` format that `ctr images import` and `docker load` read) for
 * one image of one layer:
 *
 *   manifest.json                 [{"Config":"<configHex>.json","RepoTags":["docker.io/x/y:1"],"Layers":["<diffHex>/layer.tar"]}]
 *   <configHex>.json              the image config: architecture, os, config{Entrypoint,Cmd,Env,WorkingDir,User},
 *                                 rootfs{type:"layers",diff_ids:["sha256:<diffHex>"]}
 *   <diffHex>/layer.tar           the uncompressed layer; its sha256 is the diff_id
 *
 * Everything is a function of the layer and the options (no clocks: `created` is fixed unless given),
 * so building the same directory twice gives byte-identical archives and the same image id.
 */
import { createHash } from "node:crypto";
import { normalizeReference } from "./reference.js";
import { writeTar, type TarEntry, type TarWriteOptions } from "./tar_writer.js";

/** What the image runs, as the OCI image config's `config` object names it. */
export interface ImageRunConfig {
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  /** "NAME=value" strings. */
  readonly env?: readonly string[];
  readonly workingDir?: string;
  readonly user?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface DockerArchiveOptions extends ImageRunConfig {
  /** Names written to RepoTags, normalized (`busybox` → `docker.io/library/busybox:latest`). At least one. */
  readonly tags: readonly string[];
  /** GOARCH naming; default the running machine's. */
  readonly architecture?: string;
  /** RFC 3339; default the epoch, so the config (and so the image id) does not change with the clock. */
  readonly created?: string;
}

/** The archive and the digests that name its parts. */
export interface BuiltImage {
  readonly archive: Uint8Array;
  /** sha256:… of the config JSON: the image id containerd and Docker show. */
  readonly configDigest: string;
  /** sha256:… of the uncompressed layer tar (the config's rootfs.diff_ids[0]). */
  readonly layerDiffId: string;
  readonly layerBytes: number;
  readonly tags: readonly string[];
}

/** The archive's own members are written as root-owned with this fixed mtime. */
const ARCHIVE_TAR_OPTIONS: TarWriteOptions = { mtimeSec: 0, uid: 0, gid: 0 };
/** The config's `created` when none is given: the epoch, as reproducible builders (ko, bazel) write it. */
export const REPRODUCIBLE_CREATED = "1970-01-01T00:00:00Z";

/** The OCI/Go name of this machine's architecture. */
export function goArch(nodeArch: string = process.arch): string {
  const map: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };
  return map[nodeArch] ?? nodeArch;
}

export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The image config JSON for one layer (keys in a fixed order, so its digest is stable). */
export function imageConfigJson(layerDiffId: string, options: Omit<DockerArchiveOptions, "tags">): string {
  const config: Record<string, unknown> = {};
  if (options.user !== undefined) config["User"] = options.user;
  if (options.env !== undefined && options.env.length > 0) config["Env"] = [...options.env];
  if (options.entrypoint !== undefined) config["Entrypoint"] = [...options.entrypoint];
  if (options.cmd !== undefined) config["Cmd"] = [...options.cmd];
  if (options.workingDir !== undefined) config["WorkingDir"] = options.workingDir;
  if (options.labels !== undefined && Object.keys(options.labels).length > 0) {
    config["Labels"] = Object.fromEntries(Object.entries(options.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
  for (const env of options.env ?? []) {
    if (!/^[^=]+=/.test(env)) throw new Error(`Cannot build the image config: env entry ${JSON.stringify(env)} is not NAME=value`);
  }
  return JSON.stringify({
    architecture: options.architecture ?? goArch(),
    os: "linux",
    created: options.created ?? REPRODUCIBLE_CREATED,
    config,
    rootfs: { type: "layers", diff_ids: [layerDiffId] },
    history: [{ created: options.created ?? REPRODUCIBLE_CREATED, created_by: "tk8s image build" }],
  });
}

/** A docker-archive holding one image whose single layer is `layer` (an uncompressed tar). */
export function buildDockerArchive(layer: Uint8Array, options: DockerArchiveOptions): BuiltImage {
  if (options.tags.length === 0) throw new Error("Cannot build an image archive: at least one tag is needed");
  const tags = options.tags.map((t) => normalizeReference(t));
  for (const t of tags) if (t.includes("@")) throw new Error(`Cannot build an image archive: ${t} names a digest, not a tag`);
  const diffHex = sha256Hex(layer);
  const layerDiffId = `sha256:${diffHex}`;
  const configBytes = new TextEncoder().encode(imageConfigJson(layerDiffId, options));
  const configHex = sha256Hex(configBytes);
  const manifest = JSON.stringify([{ Config: `${configHex}.json`, RepoTags: tags, Layers: [`${diffHex}/layer.tar`] }]);
  const entries: TarEntry[] = [
    { path: `${diffHex}`, type: "directory", mode: 0o755 },
    { path: `${diffHex}/layer.tar`, type: "file", mode: 0o644, data: layer },
    { path: `${configHex}.json`, type: "file", mode: 0o644, data: configBytes },
    { path: "manifest.json", type: "file", mode: 0o644, data: new TextEncoder().encode(manifest) },
  ];
  return { archive: writeTar(entries, ARCHIVE_TAR_OPTIONS), configDigest: `sha256:${configHex}`, layerDiffId, layerBytes: layer.length, tags };
}
